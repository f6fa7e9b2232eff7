<?php
/**
 * Owns what a registration may be, for every entry point: the action, the function, the source hooks, REST, WP-CLI,
 * the direct-write fallback and the fast intake (which runs without WordPress, so nothing in here calls WordPress).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'REG_BUFFER_INTAKE' ) ) {
	exit;
}

/**
 * The rules, checked before a registration is answered "accepted", so that nothing accepted is refused later:
 *
 * - unique key: null, or a non-empty string of at most MAX_UNIQUE_KEY_BYTES bytes (the table's column), valid UTF-8
 *   (the utf8mb4 column refuses anything else) and not ending with a space (the column's PAD SPACE unique index
 *   treats `v@x.org` and `v@x.org ` as one key, Redis as two: the second would be accepted, then dropped at flush);
 * - registration: an array of at most MAX_FIELDS fields in all (nested ones counted), MAX_DEPTH levels deep (the
 *   registration itself is level 1; the extension's own limit), field names of at most MAX_FIELD_NAME_BYTES bytes,
 *   names and string values valid UTF-8, values strings, ints, finite floats, bools, null or arrays; no top-level
 *   field named with RESERVED_PREFIX (the plugin's own markers, e.g. the intake's `_reg_buffer_intake`).
 *
 * Its size is the extension's (reg_buffer.max_payload_bytes) and the direct write's (the same setting) to check.
 * Problems are English sentences; the plugin translates them by code (Reg_Buffer_Registration).
 */
final class Reg_Buffer_Registration_Rules {

	const MAX_UNIQUE_KEY_BYTES = 191;  // The table's unique_key column (VARCHAR(191), utf8mb4).
	const MAX_DEPTH            = 64;   // The extension's limit (reg_buffer_push refuses deeper).
	const MAX_FIELDS           = 1000; // Fields in all, nested ones counted: far beyond any form, bounds the work.
	const MAX_FIELD_NAME_BYTES = 128;
	const RESERVED_PREFIX      = '_reg_buffer';

	/** Problem codes => messages. */
	const MESSAGES = array(
		'key_type'     => 'The unique key must be a non-empty string of at most ' . self::MAX_UNIQUE_KEY_BYTES . ' bytes.',
		'key_utf8'     => 'The unique key must be valid UTF-8 and must not end with a space.',
		'not_array'    => 'The registration must be an array of fields.',
		'too_deep'     => 'The registration is nested too deeply.',
		'too_many'     => 'The registration has too many fields.',
		'name'         => 'A field name is too long or not valid UTF-8.',
		'value_utf8'   => 'A field is not valid UTF-8.',
		'value_type'   => 'A registration may not contain objects or resources.',
		'value_finite' => 'A registration may not contain INF or NAN.',
		'reserved'     => 'Field names starting with _reg_buffer are reserved.',
	);

	/**
	 * The first problem of a unique key (a code of MESSAGES), or null when it may be used.
	 *
	 * @param mixed $unique_key the key as given.
	 */
	public static function unique_key_problem( $unique_key ): ?string {
		if ( null === $unique_key ) {
			return null;
		}
		if ( ! is_string( $unique_key ) || '' === $unique_key || strlen( $unique_key ) > self::MAX_UNIQUE_KEY_BYTES ) {
			return 'key_type';
		}
		if ( ' ' === $unique_key[ strlen( $unique_key ) - 1 ] || 1 !== preg_match( '//u', $unique_key ) ) {
			return 'key_utf8';
		}
		return null;
	}

	/**
	 * The first problem of a registration (a code of MESSAGES), or null when it may be taken.
	 *
	 * @param mixed $registration the fields as given.
	 * @param bool  $check_utf8   false only when a JSON decoder already refused every string that is not UTF-8.
	 */
	public static function registration_problem( $registration, bool $check_utf8 = true ): ?string {
		if ( ! is_array( $registration ) ) {
			return 'not_array';
		}
		foreach ( $registration as $name => $unused ) {
			if ( is_string( $name ) && 0 === strncmp( $name, self::RESERVED_PREFIX, strlen( self::RESERVED_PREFIX ) ) ) {
				return 'reserved';
			}
		}
		$count = 0;
		return self::fields_problem( $registration, 1, $count, $check_utf8 );
	}

	/**
	 * The English message of a problem code.
	 */
	public static function message( string $code ): string {
		return self::MESSAGES[ $code ] ?? 'The registration is invalid.';
	}

	/**
	 * Walks the fields once: depth, count, names, value types.
	 *
	 * @param array $fields     one level.
	 * @param int   $depth      its level (1 = the registration).
	 * @param int   $count      fields seen so far.
	 * @param bool  $check_utf8 see registration_problem().
	 */
	private static function fields_problem( array $fields, int $depth, int &$count, bool $check_utf8 ): ?string {
		if ( $depth > self::MAX_DEPTH ) {
			return 'too_deep';
		}
		foreach ( $fields as $name => $value ) {
			if ( ++$count > self::MAX_FIELDS ) {
				return 'too_many';
			}
			if ( is_string( $name ) && ( strlen( $name ) > self::MAX_FIELD_NAME_BYTES || ( $check_utf8 && 1 !== preg_match( '//u', $name ) ) ) ) {
				return 'name';
			}
			if ( is_array( $value ) ) {
				$problem = self::fields_problem( $value, $depth + 1, $count, $check_utf8 );
				if ( null !== $problem ) {
					return $problem;
				}
			} elseif ( is_string( $value ) ) {
				if ( $check_utf8 && 1 !== preg_match( '//u', $value ) ) {
					return 'value_utf8';
				}
			} elseif ( is_float( $value ) ) {
				if ( ! is_finite( $value ) ) {
					return 'value_finite';
				}
			} elseif ( ! is_int( $value ) && ! is_bool( $value ) && null !== $value ) {
				return 'value_type';
			}
		}
		return null;
	}
}
