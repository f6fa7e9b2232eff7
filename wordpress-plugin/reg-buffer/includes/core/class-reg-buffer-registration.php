<?php
/**
 * Owns the plugin's side of a registration's validity (WP_Error, translations) and what a direct write stores:
 * JSON text, ids, times. The rules themselves: Reg_Buffer_Registration_Rules.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}


/**
 * The plugin's side of Reg_Buffer_Registration_Rules (the one set of rules every entry applies): WP_Error 422s with
 * translated messages, and the JSON text a direct write stores.
 */
final class Reg_Buffer_Registration {

	const MAX_DEPTH          = Reg_Buffer_Registration_Rules::MAX_DEPTH;
	const MAX_UNIQUE_KEY_LEN = Reg_Buffer_Registration_Rules::MAX_UNIQUE_KEY_BYTES;
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
		$problem = Reg_Buffer_Registration_Rules::unique_key_problem( $unique_key );
		return null === $problem ? true : self::invalid( self::message( $problem ) );
	}

	/**
	 * Checks a registration's fields against the rules.
	 *
	 * @param mixed $registration fields.
	 * @return true|WP_Error
	 */
	public static function check_fields( $registration ) {
		$problem = Reg_Buffer_Registration_Rules::registration_problem( $registration );
		return null === $problem ? true : self::invalid( self::message( $problem ) );
	}

	/**
	 * A rule's problem code as a translated message.
	 */
	public static function message( string $code ): string {
		switch ( $code ) {
			case 'key_type':
				/* translators: %d: the unique key's maximum length in bytes. */
				return sprintf( __( 'The unique key must be a non-empty string of at most %d bytes.', 'reg-buffer' ), Reg_Buffer_Registration_Rules::MAX_UNIQUE_KEY_BYTES );
			case 'key_utf8':
				return __( 'The unique key must be valid UTF-8 and must not end with a space.', 'reg-buffer' );
			case 'not_array':
				return __( 'The registration must be an array of fields.', 'reg-buffer' );
			case 'too_deep':
				return __( 'The registration is nested too deeply.', 'reg-buffer' );
			case 'too_many':
				return __( 'The registration has too many fields.', 'reg-buffer' );
			case 'name':
				return __( 'A field name is too long or not valid UTF-8.', 'reg-buffer' );
			case 'value_utf8':
				return __( 'A field is not valid UTF-8.', 'reg-buffer' );
			case 'value_type':
				return __( 'A registration may not contain objects or resources.', 'reg-buffer' );
			case 'value_finite':
				return __( 'A registration may not contain INF or NAN.', 'reg-buffer' );
			case 'reserved':
				return __( 'Field names starting with _reg_buffer are reserved.', 'reg-buffer' );
		}
		return Reg_Buffer_Registration_Rules::message( $code );
	}

	/**
	 * The registration as the JSON text stored in the data column, or why it cannot be stored.
	 *
	 * @param array $registration fields.
	 * @return string|WP_Error
	 */
	public static function encode( array $registration ) {
		$json = self::to_json( $registration );
		if ( is_string( $json ) && strlen( $json ) > (int) Reg_Buffer_Settings::get( 'max_payload_bytes' ) ) {
			return self::invalid( __( 'The registration is larger than the payload limit.', 'reg-buffer' ) );
		}
		return $json;
	}

	/**
	 * The registration as stored JSON text, checked against the rules but not against the payload limit: for a
	 * registration the extension already took (its size was checked at push; sanitising or re-encoding may grow it,
	 * and the data column is longtext).
	 *
	 * @param array $registration fields.
	 * @return string|WP_Error
	 */
	public static function to_json( array $registration ) {
		$problem = Reg_Buffer_Registration_Rules::registration_problem( $registration );
		if ( null !== $problem ) {
			return self::invalid( self::message( $problem ) );
		}
		try {
			// Same text shape as the extension's `json`: unescaped unicode, slashes and U+2028/2029; floats stay floats.
			return json_encode( $registration, JSON_THROW_ON_ERROR | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_LINE_TERMINATORS | JSON_PRESERVE_ZERO_FRACTION, self::MAX_DEPTH + 1 ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode -- an encoding error must reach the caller (wp_json_encode() would repair invalid UTF-8).
		} catch ( JsonException $e ) {
			return self::invalid( $e->getMessage() );
		}
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
	 * A 422 error.
	 */
	public static function invalid( string $message ): WP_Error {
		return new WP_Error( 'reg_buffer_invalid', $message, array( 'status' => 422 ) );
	}
}
