<?php
/**
 * Owns what a valid registration is when it is written directly (no extension): limits, JSON text, ids, times.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Validation and encoding with the same limits the extension enforces, so both paths accept the same input.
 */
final class Reg_Buffer_Registration {

	const MAX_DEPTH          = 64;
	const MAX_UNIQUE_KEY_LEN = 191; // The table's unique_key column; longer keys could not be stored.
	const ID_ALPHABET        = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

	/**
	 * Checks the arguments every path shares (event id, unique key).
	 *
	 * @param mixed $event_id   event id.
	 * @param mixed $unique_key unique key.
	 * @return true|WP_Error
	 */
	public static function check_identity( $event_id, $unique_key ) {
		if ( ! is_int( $event_id ) || $event_id <= 0 ) {
			return self::invalid( __( 'The event id must be a positive integer.', 'reg-buffer' ) );
		}
		if ( null !== $unique_key && ( ! is_string( $unique_key ) || '' === $unique_key || strlen( $unique_key ) > self::MAX_UNIQUE_KEY_LEN ) ) {
			return self::invalid( __( 'The unique key must be a non-empty string of at most 191 bytes.', 'reg-buffer' ) );
		}
		// Redis compares keys byte for byte, the table's utf8mb4_bin column ignores trailing spaces (PAD SPACE) and
		// refuses invalid UTF-8: such a key could be accepted as new and then not stored.
		if ( null !== $unique_key && ( 1 !== preg_match( '//u', $unique_key ) || rtrim( $unique_key, ' ' ) !== $unique_key ) ) {
			return self::invalid( __( 'The unique key must be valid UTF-8 and must not end with a space.', 'reg-buffer' ) );
		}
		return true;
	}

	/**
	 * The registration as the JSON text stored in the data column, or why it cannot be stored.
	 *
	 * @param array $registration fields.
	 * @return string|WP_Error
	 */
	public static function encode( array $registration ) {
		$problem = self::find_problem( $registration, 1 );
		if ( null !== $problem ) {
			return self::invalid( $problem );
		}
		try {
			// Same text shape as the extension's `json`: unescaped unicode/slashes, floats stay floats.
			$json = json_encode( $registration, JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION, self::MAX_DEPTH + 1 );
		} catch ( JsonException $e ) {
			return self::invalid( $e->getMessage() );
		}
		if ( strlen( $json ) > (int) Reg_Buffer_Settings::get( 'max_payload_bytes' ) ) {
			return self::invalid( __( 'The registration is larger than the payload limit.', 'reg-buffer' ) );
		}
		return $json;
	}

	/**
	 * A new registration id in the extension's format (26 characters, ordered by time: a ULID).
	 */
	public static function new_id(): string {
		$ms   = (int) floor( microtime( true ) * 1000 );
		$time = '';
		for ( $i = 0; $i < 10; $i++ ) {
			$time = self::ID_ALPHABET[ $ms & 31 ] . $time;
			$ms >>= 5;
		}
		$random = '';
		for ( $i = 0; $i < 16; $i++ ) {
			$random .= self::ID_ALPHABET[ random_int( 0, 31 ) ];
		}
		return $time . $random;
	}

	/**
	 * Unix seconds (float) as MySQL DATETIME(3) in UTC.
	 */
	public static function to_datetime( float $unix_seconds ): string {
		$seconds = (int) floor( $unix_seconds );
		$millis  = (int) round( ( $unix_seconds - $seconds ) * 1000 );
		if ( $millis >= 1000 ) {
			++$seconds;
			$millis -= 1000;
		}
		// A batch's registrations mostly share their second: format it once.
		static $second = null, $formatted = '';
		if ( $seconds !== $second ) {
			$second    = $seconds;
			$formatted = gmdate( 'Y-m-d H:i:s', $seconds );
		}
		return $formatted . '.' . str_pad( (string) $millis, 3, '0', STR_PAD_LEFT );
	}

	/**
	 * The first thing the extension would refuse (objects, resources, non-finite floats, depth), or null.
	 *
	 * @param array $value part of a registration.
	 * @param int   $depth nesting level of $value.
	 */
	private static function find_problem( array $value, int $depth ): ?string {
		if ( $depth > self::MAX_DEPTH ) {
			return __( 'The registration is nested too deeply.', 'reg-buffer' );
		}
		foreach ( $value as $field ) {
			if ( is_array( $field ) ) {
				$problem = self::find_problem( $field, $depth + 1 );
				if ( null !== $problem ) {
					return $problem;
				}
			} elseif ( is_object( $field ) || is_resource( $field ) ) {
				return __( 'A registration may not contain objects or resources.', 'reg-buffer' );
			} elseif ( is_float( $field ) && ! is_finite( $field ) ) {
				return __( 'A registration may not contain INF or NAN.', 'reg-buffer' );
			}
		}
		return null;
	}

	/**
	 * A 422 error.
	 */
	public static function invalid( string $message ): WP_Error {
		return new WP_Error( 'reg_buffer_invalid', $message, array( 'status' => 422 ) );
	}
}
