<?php
/**
 * Owns what the operator's actions on held-back registrations share (the quarantine in Redis, the set-aside table):
 * their printable preview, their result, the named lock around each action, its log line.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Helpers of Reg_Buffer_Quarantine and Reg_Buffer_Set_Aside.
 */
final class Reg_Buffer_Operator_Action {

	/**
	 * The start of $bytes as printable text: valid UTF-8 shows as text, otherwise every byte above 0x7f as \xNN;
	 * control bytes always are. Roughly $chars long (characters of text, bytes otherwise).
	 */
	public static function printable( string $bytes, int $chars ): string {
		$cut     = strlen( $bytes ) > $chars;
		$utf8    = self::is_utf8( $bytes );
		$s       = $utf8 ? mb_substr( $bytes, 0, $chars, 'UTF-8' ) : substr( $bytes, 0, $chars );
		$pattern = $utf8 ? '/[\x00-\x08\x0b-\x1f\x7f]/' : '/[\x00-\x08\x0b-\x1f\x7f-\xff]/';
		return (string) preg_replace_callback( $pattern, static fn( $m ) => sprintf( '\\x%02x', ord( $m[0] ) ), $s ) . ( $cut ? '…' : '' );
	}

	public static function is_utf8( string $s ): bool {
		return 1 === preg_match( '//u', $s );
	}

	/**
	 * An action's outcome, as the admin page and WP-CLI show it.
	 *
	 * @return array{ok:bool, message:string, id:?string}
	 */
	public static function result( bool $ok, string $message, ?string $id = null ): array {
		return array(
			'ok'      => $ok,
			'message' => $message,
			'id'      => $id,
		);
	}

	/**
	 * Runs $work holding the MySQL named lock $lock, so two operators (or a double click) never act on one entry
	 * twice; $busy is the result when another holds it.
	 *
	 * @param string   $lock the lock's name.
	 * @param string   $busy the message when the lock is taken.
	 * @param callable $work returns a result().
	 */
	public static function under_lock( string $lock, string $busy, callable $work ): array {
		global $wpdb;
		if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 5)', $lock ) ) ) {
			return self::result( false, $busy );
		}
		try {
			return $work();
		} finally {
			$wpdb->query( $wpdb->prepare( 'DO RELEASE_LOCK(%s)', $lock ) );
		}
	}

	/**
	 * An operator's action in the PHP error log, with the user who took it.
	 */
	public static function log( string $line ): void {
		$user = function_exists( 'get_current_user_id' ) ? get_current_user_id() : 0;
		error_log( 'reg_buffer: ' . $line . ( $user ? " (user {$user})" : '' ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
	}
}
