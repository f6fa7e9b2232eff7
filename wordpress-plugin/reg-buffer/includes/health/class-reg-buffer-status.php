<?php
/**
 * Owns the plugin's health: mode (buffer or direct), fallback counter, last flush, buffer statistics, the seats of
 * events with a capacity.
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
	 *
	 * @param array $summary what Reg_Buffer_Flusher::run() returns.
	 */
	public static function record_flush( array $summary ): void {
		update_option( self::LAST_FLUSH_OPTION, $summary, false );
		if ( 'error' === ( $summary['outcome'] ?? '' ) ) {
			// One line per failed run (the cause was logged by Reg_Buffer_Registrar::report_error()).
			error_log( 'reg_buffer: a flush run stopped on an error after ' . (int) $summary['acked'] . ' acknowledged registrations; the rest is retried after the lease' ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the operator's log of failed runs.
		}
	}

	/**
	 * The status array of the current site. Only reads: a Redis that lost its data is noticed by the flush runs
	 * (Reg_Buffer_Flusher::run() hands each its statistics to Reg_Buffer_Redis_Watch), and shown here from then on.
	 *
	 * @param bool $full also count the stored rows (a COUNT(*) of the table; the history sampler skips it).
	 * @return array<string,mixed>
	 */
	public static function report( bool $full = true ): array {
		$loaded     = Reg_Buffer_Bridge::is_loaded();
		$mode       = Reg_Buffer_Bridge::is_available() ? 'buffer' : 'direct';
		$next_flush = wp_next_scheduled( Reg_Buffer_Flusher::CRON_HOOK );
		$status     = array(
			'extension_loaded'  => $loaded,
			'extension_version' => Reg_Buffer_Bridge::version(),
			'mode'              => $mode,
			'message'           => 'buffer' === $mode
				? ( defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON
					? __( 'Registrations are buffered in Redis and flushed to MySQL by system cron (WP-Cron is disabled).', 'reg-buffer' )
					: __( 'Registrations are buffered in Redis and flushed to MySQL by WP-Cron every minute.', 'reg-buffer' ) )
				: ( $loaded
					? __( 'Buffering is disabled by setting: registrations are written directly to MySQL.', 'reg-buffer' )
					: __( 'The reg_buffer extension is not loaded: registrations are written directly to MySQL.', 'reg-buffer' ) ),
			'key_prefix'        => Reg_Buffer_Settings::site_key_prefix(),
			'legacy_key_prefix' => Reg_Buffer_Flusher::legacy_prefix(), // An upgraded install's old keys, drained by the flush.
			'fallbacks'         => self::fallbacks(),
			'last_fallback'     => get_option( self::LAST_FALLBACK_OPTION, null ),
			'stored'            => $full ? Reg_Buffer_Store::count() : null,
			'set_aside'         => (int) Reg_Buffer_Set_Aside::count(),
			'table'             => Reg_Buffer_Store::table(),
			'schema_version'    => get_option( Reg_Buffer_Store::SCHEMA_OPTION, null ),
			'wp_cron_disabled'  => defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON,
			'next_flush'        => false === $next_flush ? null : $next_flush,
			'last_flush'        => get_option( self::LAST_FLUSH_OPTION, null ),
			'buffer'            => null,
			'buffer_error'      => null,
			'redis_persistence' => null,
			'redis_losses'      => array(),
			'seats'             => self::seats(),
		);
		if ( 'buffer' === $mode ) {
			try {
				$status['buffer'] = Reg_Buffer_Bridge::stats();
			} catch ( \Throwable $e ) {
				$status['buffer_error'] = $e->getMessage();
				$status['message']      = __( 'Redis cannot be reached: registrations are written directly to MySQL until it returns (the fallback).', 'reg-buffer' );
			}
			$watch                       = Reg_Buffer_Redis_Watch::snapshot();
			$status['redis_persistence'] = $watch['persistence'] ?? null;
		}
		if ( 'direct' === $mode && $loaded ) {
			// REG_BUFFER_DISABLED: nothing new is pushed, but what Redis still holds is flushed; say how much.
			try {
				$status['buffer'] = Reg_Buffer_Flusher::buffered();
			} catch ( \Throwable $e ) {
				unset( $e ); // Disabled, perhaps because Redis is gone: not a warning of its own.
			}
		}
		// Also in direct mode: a loss noticed before buffering was turned off stays until acknowledged.
		$status['redis_losses'] = Reg_Buffer_Redis_Watch::incidents();

		$warnings                = self::warnings( $status );
		$status['warnings']      = array_values( $warnings );
		$status['warning_codes'] = array_keys( $warnings );
		return $status;
	}

	/**
	 * Reg_Buffer_Seats::summary() of every event with a capacity, oldest configured first. An event whose figures
	 * cannot be read (Redis unreachable) keeps its capacity, with null figures, not known, and the error.
	 *
	 * @return array<int,array<string,mixed>>
	 */
	private static function seats(): array {
		$seats = array();
		foreach ( Reg_Buffer_Seats::all() as $event_id => $config ) {
			try {
				$summary = Reg_Buffer_Seats::summary( (int) $event_id );
			} catch ( \Throwable $e ) {
				$summary = array(
					'event_id'  => (int) $event_id,
					'capacity'  => (int) $config['capacity'],
					'waitlist'  => (bool) $config['waitlist'],
					'taken'     => null,
					'waiting'   => null,
					'remaining' => null,
					'known'     => false,
					'error'     => $e->getMessage(),
				);
			}
			if ( null !== $summary ) {
				$seats[] = $summary;
			}
		}
		return $seats;
	}

	/**
	 * Minutes a registration may wait in Redis before the status warns (filter `reg_buffer_backlog_warning_minutes`).
	 */
	public static function backlog_warning_minutes(): int {
		return max( 1, (int) apply_filters( 'reg_buffer_backlog_warning_minutes', 5 ) );
	}

	/**
	 * What an operator should act on, in words, keyed by a short code (used to log each warning once).
	 *
	 * @param array<string,mixed> $status the report so far.
	 * @return array<string,string>
	 */
	private static function warnings( array $status ): array {
		$warnings = array();
		$buffer   = is_array( $status['buffer'] ) ? $status['buffer'] : array();
		$minutes  = self::backlog_warning_minutes();
		if ( ! $status['extension_loaded'] ) {
			$warnings['extension_missing'] = __( 'The reg_buffer extension is not loaded: every registration is a direct MySQL write.', 'reg-buffer' );
		}
		if ( array() !== $status['redis_losses'] ) {
			$warnings['redis_data_lost'] = implode( ' ', array_map( array( 'Reg_Buffer_Redis_Watch', 'describe' ), $status['redis_losses'] ) );
		}
		if ( null !== $status['buffer_error'] ) {
			$warnings['redis_down'] = __( 'Redis is unreachable: registrations are written directly to MySQL until it returns.', 'reg-buffer' );
		}
		// A full buffer keeps sending registrations to MySQL while Redis looks healthy: say so. (A fallback after a
		// connection failure is shown on the page; while Redis is down the warning above says it.)
		$last = is_array( $status['last_fallback'] ) ? $status['last_fallback'] : null;
		if ( 'buffer' === $status['mode'] && null !== $last && 'capacity' === ( $last['reason'] ?? '' ) && time() - (int) ( $last['time'] ?? 0 ) < 15 * MINUTE_IN_SECONDS ) {
			/* translators: %d: minutes ago */
			$warnings['capacity'] = sprintf( __( 'The buffer was full (REG_BUFFER_MAX_PENDING) %d minutes ago: registrations went straight to MySQL. Nothing was lost, but the flush is not keeping up.', 'reg-buffer' ), (int) floor( ( time() - (int) $last['time'] ) / 60 ) );
		}
		$degraded = (array) ( $buffer['degraded'] ?? array() );
		if ( array() !== $degraded ) {
			$why = array();
			foreach ( $degraded as $d ) {
				/* translators: 1: shard number, 2: why */
				$why[] = null === ( $d['shard'] ?? null ) ? (string) ( $d['why'] ?? '' ) : sprintf( __( 'shard %1$d: %2$s', 'reg-buffer' ), (int) $d['shard'], (string) ( $d['why'] ?? '' ) );
			}
			$warnings['degraded'] = sprintf(
				/* translators: 1: degraded shards, 2: all shards, 3: why */
				__( '%1$d of %2$d buffer shards cannot take registrations as configured, and theirs are written directly to MySQL: %3$s.', 'reg-buffer' ),
				(int) ( $buffer['shards_degraded'] ?? count( $degraded ) ),
				(int) ( $buffer['shards'] ?? 1 ),
				implode( '; ', $why )
			);
		}
		$policy = $buffer['maxmemory_policy'] ?? null;
		if ( null !== $policy && 'noeviction' !== $policy ) {
			/* translators: %s: Redis maxmemory-policy */
			$warnings['eviction_policy'] = sprintf( __( 'Redis maxmemory-policy is %s: buffered registrations can be evicted. Use noeviction.', 'reg-buffer' ), $policy );
		}
		if ( ( $buffer['lost'] ?? 0 ) > 0 ) {
			/* translators: %d: number of registrations */
			$warnings['lost'] = sprintf( __( '%d buffered registrations vanished from Redis before they were flushed (evicted or deleted by hand). Check the eviction policy and who else writes to this Redis.', 'reg-buffer' ), (int) $buffer['lost'] );
		}
		$age = (float) ( $buffer['oldest_pending_age'] ?? 0 );
		if ( $age > $minutes * MINUTE_IN_SECONDS ) {
			$last_flush = is_array( $status['last_flush'] ) ? (int) ( $status['last_flush']['started_at'] ?? 0 ) : 0;
			if ( time() - $last_flush > $minutes * MINUTE_IN_SECONDS ) {
				$warnings['flush_not_running'] = $status['wp_cron_disabled']
					/* translators: %d: minutes */
					? sprintf( __( 'Registrations have waited in Redis for over %d minutes and no flush has run: WP-Cron is disabled (DISABLE_WP_CRON), so system cron must run `wp reg-buffer flush` every minute.', 'reg-buffer' ), $minutes )
					/* translators: %d: minutes */
					: sprintf( __( 'Registrations have waited in Redis for over %d minutes and no flush has run: WP-Cron only runs when someone visits the site. Busy sites should run `wp reg-buffer flush` from system cron.', 'reg-buffer' ), $minutes );
			} else {
				/* translators: %d: minutes */
				$warnings['backlog'] = sprintf( __( 'Registrations have waited in Redis for over %d minutes although the flush runs: it is falling behind. Run `wp reg-buffer flush --until-empty`, or flush more often.', 'reg-buffer' ), $minutes );
			}
		}
		if ( ( $buffer['quarantined'] ?? 0 ) > 0 ) {
			/* translators: %d: number of registrations */
			$warnings['quarantine'] = sprintf( __( '%d buffered registrations could not be decoded and are quarantined in Redis: retry or purge them on Tools > Registration buffer.', 'reg-buffer' ), (int) $buffer['quarantined'] );
		}
		if ( 'direct' === $status['mode'] && ( (int) ( $buffer['pending'] ?? 0 ) + (int) ( $buffer['in_flight'] ?? 0 ) ) > 0 ) {
			/* translators: %d: number of registrations */
			$warnings['disabled_backlog'] = sprintf( __( 'Buffering is disabled (REG_BUFFER_DISABLED), and %d registrations are still in Redis: the flush moves them (WP-Cron, or `wp reg-buffer drain` now).', 'reg-buffer' ), (int) $buffer['pending'] + (int) $buffer['in_flight'] );
		}
		// Only where bookings use Redis's count (the extension is loaded) and Redis answers (else redis_down says it).
		$unknown = array_column( array_filter( $status['seats'], static fn( $s ) => empty( $s['known'] ) ), 'event_id' );
		if ( $status['extension_loaded'] && null === $status['buffer_error'] && array() !== $unknown ) {
			$warnings['seats_unknown'] = sprintf(
				/* translators: %s: event ids */
				_n(
					'Redis does not know how many seats of event %s are taken (Redis restarted or lost its data, or a registration was stored while Redis could not count it): the next booking through WordPress counts them again from MySQL and what Redis buffers, and until then the fast intake answers 503 for it. To count now: `wp reg-buffer seats recount <event>`, or Recount on Tools > Registration buffer.',
					'Redis does not know how many seats of events %s are taken (Redis restarted or lost its data, or registrations were stored while Redis could not count them): the next booking of each through WordPress counts them again from MySQL and what Redis buffers, and until then the fast intake answers 503 for them. To count now: `wp reg-buffer seats recount <event>`, or Recount on Tools > Registration buffer.',
					count( $unknown ),
					'reg-buffer'
				),
				implode( ', ', $unknown )
			);
		}
		if ( $status['set_aside'] > 0 ) {
			/* translators: %d: number of registrations */
			$warnings['set_aside'] = sprintf( __( '%d registrations were set aside (refused by MySQL or by the fast intake\'s checks): retry or purge them on Tools > Registration buffer or with `wp reg-buffer set-aside`.', 'reg-buffer' ), (int) $status['set_aside'] );
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
		Reg_Buffer_Redis_Watch::uninstall();
		Reg_Buffer_History::uninstall();
	}
}
