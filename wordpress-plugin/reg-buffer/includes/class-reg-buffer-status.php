<?php
/**
 * Owns the plugin's health: mode (buffer or direct), fallback counter, last flush, buffer statistics.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Records and reports what the plugin is doing, per site.
 */
final class Reg_Buffer_Status {

	const FALLBACKS_OPTION     = 'reg_buffer_fallbacks';
	const LAST_FALLBACK_OPTION = 'reg_buffer_last_fallback';
	const LAST_FLUSH_OPTION    = 'reg_buffer_last_flush';

	/**
	 * Counts one direct write. Atomic in SQL because concurrent requests fall back at the same time.
	 *
	 * @param string $reason why the buffer was not used.
	 */
	public static function count_fallback( string $reason ): void {
		global $wpdb;
		$wpdb->query(
			$wpdb->prepare(
				"INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, '1', 'no')
				 ON DUPLICATE KEY UPDATE option_value = option_value + 1",
				self::FALLBACKS_OPTION
			)
		);
		wp_cache_delete( self::FALLBACKS_OPTION, 'options' );
		wp_cache_delete( 'notoptions', 'options' );
		update_option(
			self::LAST_FALLBACK_OPTION,
			array(
				'time'   => time(),
				'reason' => $reason,
			),
			false
		);
	}

	/**
	 * How many registrations were written directly (extension missing, Redis down or full).
	 */
	public static function fallbacks(): int {
		global $wpdb;
		// Read from the table, not the options cache: other processes increment it.
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::FALLBACKS_OPTION ) );
	}

	/**
	 * Remembers the summary of the last flush run.
	 */
	public static function record_flush( array $summary ): void {
		update_option( self::LAST_FLUSH_OPTION, $summary, false );
	}

	/**
	 * The status array of the current site.
	 *
	 * @return array<string,mixed>
	 */
	public static function report(): array {
		$loaded = Reg_Buffer_Bridge::is_loaded();
		$mode   = Reg_Buffer_Bridge::is_available() ? 'buffer' : 'direct';
		$status = array(
			'extension_loaded'  => $loaded,
			'extension_version' => Reg_Buffer_Bridge::version(),
			'mode'              => $mode,
			'message'           => 'buffer' === $mode
				? __( 'Registrations are buffered in Redis and flushed to MySQL by WP-Cron.', 'reg-buffer' )
				: ( $loaded
					? __( 'Buffering is disabled by setting: registrations are written directly to MySQL.', 'reg-buffer' )
					: __( 'The reg_buffer extension is not loaded: registrations are written directly to MySQL.', 'reg-buffer' ) ),
			'key_prefix'        => Reg_Buffer_Settings::site_key_prefix(),
			'fallbacks'         => self::fallbacks(),
			'last_fallback'     => get_option( self::LAST_FALLBACK_OPTION, null ),
			'stored'            => Reg_Buffer_Store::count(),
			'set_aside'         => count( Reg_Buffer_Store::rejected() ),
			'table'             => Reg_Buffer_Store::table(),
			'schema_version'    => get_option( Reg_Buffer_Store::SCHEMA_OPTION, null ),
			'next_flush'        => wp_next_scheduled( Reg_Buffer_Flusher::CRON_HOOK ) ?: null,
			'last_flush'        => get_option( self::LAST_FLUSH_OPTION, null ),
			'buffer'            => null,
			'buffer_error'      => null,
		);
		if ( 'buffer' === $mode ) {
			try {
				$status['buffer'] = Reg_Buffer_Bridge::stats();
			} catch ( \Throwable $e ) {
				$status['buffer_error'] = $e->getMessage();
			}
		}
		$status['warnings'] = self::warnings( $status );
		return $status;
	}

	/**
	 * What an operator should act on, in words.
	 *
	 * @param array<string,mixed> $status the report so far.
	 * @return string[]
	 */
	private static function warnings( array $status ): array {
		$warnings = array();
		$buffer   = is_array( $status['buffer'] ) ? $status['buffer'] : array();
		if ( ! $status['extension_loaded'] ) {
			$warnings[] = __( 'The reg_buffer extension is not loaded: every registration is a direct MySQL write.', 'reg-buffer' );
		}
		if ( null !== $status['buffer_error'] ) {
			$warnings[] = __( 'Redis is unreachable: registrations are written directly to MySQL until it returns.', 'reg-buffer' );
		}
		$policy = $buffer['maxmemory_policy'] ?? null;
		if ( null !== $policy && 'noeviction' !== $policy ) {
			/* translators: %s: Redis maxmemory-policy */
			$warnings[] = sprintf( __( 'Redis maxmemory-policy is %s: buffered registrations can be evicted. Use noeviction.', 'reg-buffer' ), $policy );
		}
		if ( ( $buffer['oldest_pending_age'] ?? 0 ) > 5 * MINUTE_IN_SECONDS ) {
			$warnings[] = __( 'Registrations have waited in Redis for over 5 minutes: is WP-Cron running? Busy sites should run `wp reg-buffer flush` from system cron.', 'reg-buffer' );
		}
		if ( ( $buffer['quarantined'] ?? 0 ) > 0 ) {
			/* translators: %d: number of registrations */
			$warnings[] = sprintf( __( '%d buffered registrations could not be decoded and are quarantined in Redis.', 'reg-buffer' ), (int) $buffer['quarantined'] );
		}
		if ( $status['set_aside'] > 0 ) {
			/* translators: %d: number of registrations */
			$warnings[] = sprintf( __( '%d registrations were refused by MySQL and set aside in the reg_buffer_rejected option; see its error messages.', 'reg-buffer' ), (int) $status['set_aside'] );
		}
		return $warnings;
	}

	/**
	 * Deletes the status options (uninstall).
	 */
	public static function uninstall(): void {
		delete_option( self::FALLBACKS_OPTION );
		delete_option( self::LAST_FALLBACK_OPTION );
		delete_option( self::LAST_FLUSH_OPTION );
	}
}
