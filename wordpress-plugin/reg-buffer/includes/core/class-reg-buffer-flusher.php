<?php
/**
 * Owns the flush: claim a batch from Redis, store it with one INSERT (atomic), ack it; on WP-Cron every minute.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Moves buffered registrations into the table within a time and memory budget.
 *
 * At-least-once delivery from Redis plus an idempotent insert gives exactly-once rows: a batch whose ack was
 * lost (crash after the commit, before the ack) is handed out again after its lease and inserts nothing the
 * second time.
 */
final class Reg_Buffer_Flusher {

	const CRON_HOOK     = 'reg_buffer_flush';
	const CRON_SCHEDULE = 'reg_buffer_every_minute';

	/** The legacy key prefix an upgraded install still drains (see legacy_prefix()). */
	const LEGACY_PREFIX_OPTION = 'reg_buffer_legacy_key_prefix';

	/**
	 * Errors held back while wpdb's connection is busy with an overlapped INSERT (see run()); null: report at once.
	 *
	 * @var array[]|null
	 */
	private static $held_reports = null;

	/**
	 * Adds the every-minute schedule.
	 *
	 * @param array $schedules WP-Cron schedules.
	 */
	public static function add_schedule( array $schedules ): array {
		$schedules[ self::CRON_SCHEDULE ] = array(
			'interval' => MINUTE_IN_SECONDS,
			'display'  => __( 'Every minute (reg_buffer flush)', 'reg-buffer' ),
		);
		return $schedules;
	}

	/**
	 * Schedules the flush for the current site if it is not scheduled.
	 */
	public static function schedule(): void {
		if ( ! wp_next_scheduled( self::CRON_HOOK ) ) {
			wp_schedule_event( time(), self::CRON_SCHEDULE, self::CRON_HOOK );
		}
	}

	/**
	 * Removes the current site's flush schedule.
	 */
	public static function unschedule(): void {
		wp_clear_scheduled_hook( self::CRON_HOOK );
	}

	/**
	 * The cron callback.
	 */
	public static function run_from_cron(): void {
		self::run();
	}

	/**
	 * Flushes until the buffer is empty or a budget is spent; the rest waits for the next run.
	 *
	 * @param array $budget optional overrides: time (seconds), memory (bytes), batch_size, lease_seconds, and
	 *                      limit (stop after claiming this many registrations; 0 = no limit).
	 * @return array summary: outcome (empty|budget|limit|locked|error|direct), batches, claimed, inserted, duplicates,
	 *               acked, rejected (set aside, see Reg_Buffer_Store::insert_each()), seconds.
	 */
	public static function run( array $budget = array() ): array {
		$started = microtime( true );
		$limits  = array(
			'started' => $started,
			'time'    => min( (float) ( $budget['time'] ?? Reg_Buffer_Settings::get( 'flush_time_budget' ) ), self::time_left_in_request() ),
			'memory'  => (int) ( $budget['memory'] ?? Reg_Buffer_Settings::get( 'flush_memory_budget' ) ),
			'size'    => (int) ( $budget['batch_size'] ?? Reg_Buffer_Settings::get( 'batch_size' ) ),
			'lease'   => (int) ( $budget['lease_seconds'] ?? Reg_Buffer_Settings::get( 'lease_seconds' ) ),
			'limit'   => max( 0, (int) ( $budget['limit'] ?? 0 ) ),
		);
		$summary = array(
			'outcome'    => 'empty',
			'batches'    => 0,
			'claimed'    => 0,
			'inserted'   => 0,
			'duplicates' => 0,
			'acked'      => 0,
			'rejected'   => 0,
			'started_at' => time(),
			'seconds'    => 0.0,
		);
		// REG_BUFFER_DISABLED stops new pushes only: what Redis already holds is still flushed.
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			// Direct mode: every registration is already in the table.
			$summary['outcome'] = 'direct';
			return $summary;
		}
		$lock = new Reg_Buffer_Flush_Lock();
		if ( ! $lock->acquire() ) {
			$summary['outcome'] = 'locked';
			return $summary;
		}
		try {
			// An upgraded install's registrations under the old shared prefix first (they are the oldest).
			$legacy = self::legacy_prefix();
			if ( null !== $legacy ) {
				Reg_Buffer_Bridge::with_key_prefix(
					$legacy,
					static function () use ( $limits, $lock, &$summary, $legacy ) {
						self::flush_buffer( $limits, $lock, $summary );
						if ( 'empty' === $summary['outcome'] ) {
							self::forget_legacy_prefix_when_empty( $legacy );
						}
					}
				);
			}
			if ( 'empty' === $summary['outcome'] ) {
				self::flush_buffer( $limits, $lock, $summary );
			}
		} finally {
			self::release_reports();
			$lock->release();
			$summary['seconds'] = round( microtime( true ) - $started, 3 );
			Reg_Buffer_Status::record_flush( $summary );
		}
		return $summary;
	}

	/**
	 * The key prefix an upgraded install still drains (its registrations buffered under the old shared default,
	 * `regbuf:`), or null: none, or it was found empty.
	 */
	public static function legacy_prefix(): ?string {
		$prefix = get_option( self::LEGACY_PREFIX_OPTION );
		return is_string( $prefix ) && '' !== $prefix && Reg_Buffer_Settings::site_key_prefix() !== $prefix ? $prefix : null;
	}

	/**
	 * Marks $prefix as holding this site's registrations from before the upgrade: the flush drains it.
	 */
	public static function add_legacy_prefix( string $prefix ): void {
		update_option( self::LEGACY_PREFIX_OPTION, $prefix, true );
	}

	/**
	 * Stops looking at the legacy prefix once nothing is pending or in flight there.
	 */
	private static function forget_legacy_prefix_when_empty( string $legacy ): void {
		try {
			$stats = Reg_Buffer_Bridge::stats();
		} catch ( \Throwable $e ) {
			return; // Asked again next run.
		}
		if ( 0 === (int) $stats['pending'] && 0 === (int) $stats['in_flight'] ) {
			delete_option( self::LEGACY_PREFIX_OPTION );
			error_log( sprintf( 'reg_buffer: nothing is left under the legacy key prefix %s; the flush no longer looks there', $legacy ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
		}
	}

	/**
	 * The buffer's statistics for this site (reg_buffer_stats()), with what an upgraded install's legacy prefix
	 * still holds added to pending, in_flight, buffered and quarantined.
	 *
	 * @throws \RegBuffer\Exception when Redis cannot be reached.
	 */
	public static function buffered(): array {
		$stats  = Reg_Buffer_Bridge::stats();
		$legacy = self::legacy_prefix();
		if ( null !== $legacy ) {
			$old = Reg_Buffer_Bridge::with_key_prefix( $legacy, array( 'Reg_Buffer_Bridge', 'stats' ) );
			foreach ( array( 'pending', 'in_flight', 'buffered', 'quarantined' ) as $count ) {
				if ( isset( $stats[ $count ] ) || isset( $old[ $count ] ) ) {
					$stats[ $count ] = (int) ( $stats[ $count ] ?? 0 ) + (int) ( $old[ $count ] ?? 0 );
				}
			}
		}
		return $stats;
	}

	/**
	 * The claim, store, ack loop over the buffer the extension is set to, until it is empty or a limit is hit;
	 * adds to $summary and sets its outcome.
	 *
	 * @param array $limits started, time, memory, size, lease, limit (see run()).
	 */
	private static function flush_buffer( array $limits, Reg_Buffer_Flush_Lock $lock, array &$summary ): void {
		[ 'started' => $started, 'time' => $time, 'memory' => $memory, 'size' => $size, 'lease' => $lease, 'limit' => $limit ] = $limits;
		$summary['outcome'] = 'empty';
		// Each batch is acked only after it is committed. While MariaDB works on one batch's INSERT, the flusher acks
		// the batch before it and claims the next one (when Reg_Buffer_Store can send the INSERT without
		// waiting), so Redis time and MySQL time overlap instead of adding up.
		$next    = null; // A batch claimed ahead.
		$unacked = null; // A committed batch not yet acked.
		try {
			while ( true ) {
				if ( null === $next ) {
					$stop = self::stop_reason( $started, $time, $memory, $limit, $summary );
					if ( null !== $stop ) {
						$summary['outcome'] = $stop;
						break;
					}
					$next = self::claim_batch( $size, $lease, $limit, $summary );
				}
				if ( ! is_array( $next ) ) {
					$summary['outcome'] = 0 === $next ? 'empty' : 'error';
					break;
				}
				$claim = $next;
				$next  = null;
				// A batch whose INSERT was built during the one before needed no screening (see below).
				$rows = isset( $claim['statements'] ) ? $claim['rows'] : self::screen( $claim );
				if ( is_wp_error( $rows ) ) {
					$summary['outcome'] = 'error';
					break;
				}
				$insert = Reg_Buffer_Store::begin_insert( $rows, array( $lock, 'still_held' ), $claim['statements'] ?? null );
				// While the INSERT runs, wpdb's connection is busy: errors are reported (reg_buffer_error, whose
				// listeners may query) once it is done.
				self::$held_reports = Reg_Buffer_Store::is_overlapped( $insert ) ? array() : null;
				$acked              = null === $unacked || self::ack( $unacked, $summary );
				$unacked            = null;
				if ( $acked && Reg_Buffer_Store::is_overlapped( $insert ) && null === self::stop_reason( $started, $time, $memory, $limit, $summary ) ) {
					$next = self::claim_batch( $size, $lease, $limit, $summary );
					if ( is_array( $next ) && self::screen_is_a_no_op( $next ) ) {
						// Its screen has nothing to do (and no need of the busy connection): build its INSERT now.
						$statements = Reg_Buffer_Store::overlap_statements( $next['rows'] );
						if ( null !== $statements ) {
							$next['statements'] = $statements;
						}
					}
				}
				$inserted = Reg_Buffer_Store::finish_insert( $insert );
				self::release_reports();
				if ( ! self::store_batch( $claim, $rows, $inserted, $lock, $summary ) ) {
					$summary['outcome'] = 'error';
					break;
				}
				if ( ! $acked ) {
					// Redis refused an ack: stop; the stored batches come back after their leases and insert nothing.
					$summary['outcome'] = 'error';
					break;
				}
				if ( Reg_Buffer_Store::is_overlapped( $insert ) ) {
					$unacked = $claim['batch']; // Acked during the next INSERT, or below.
				} elseif ( ! self::ack( $claim['batch'], $summary ) ) {
					$summary['outcome'] = 'error';
					break;
				}
				unset( $claim, $rows, $insert );
			}
			if ( null !== $unacked && ! self::ack( $unacked, $summary ) ) {
				$summary['outcome'] = 'error';
			}
		} finally {
			self::release_reports();
		}
	}

	/**
	 * Seconds this request may still run under max_execution_time (minus a margin for one more batch), so PHP
	 * does not kill the flush mid-batch; unlimited (CLI, WP-CLI) is INF.
	 */
	private static function time_left_in_request(): float {
		$limit = (int) ini_get( 'max_execution_time' );
		if ( $limit <= 0 ) {
			return INF;
		}
		$started = (float) ( $_SERVER['REQUEST_TIME_FLOAT'] ?? microtime( true ) );
		return max( 1.0, $limit - ( microtime( true ) - $started ) - 5.0 );
	}

	/**
	 * Whether anything but the plugin's own fast-intake screen reads the claimed rows (filter
	 * `reg_buffer_flush_rows`, action `reg_buffer_before_commit`): such callbacks get rows with `data`, as
	 * reg_buffer_flush() returns them by default. Otherwise the batch is claimed without `data` — the table stores
	 * the JSON text — and the extension builds no PHP array per registration.
	 */
	private static function hooks_read_data(): bool {
		return self::others_hook( array( 'reg_buffer_flush_rows', 'reg_buffer_before_commit' ) );
	}

	/**
	 * Whether screen() would change nothing: no callback on `reg_buffer_flush_rows` but the fast intake's, and no
	 * row it screens (with_intake_data() gave `data` to those only).
	 */
	private static function screen_is_a_no_op( array $claim ): bool {
		if ( self::others_hook( array( 'reg_buffer_flush_rows' ) ) ) {
			return false;
		}
		foreach ( $claim['rows'] as $row ) {
			if ( isset( $row['data'] ) ) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Whether a callback other than the fast intake's screen is on one of $hooks.
	 *
	 * @param string[] $hooks hook names.
	 */
	private static function others_hook( array $hooks ): bool {
		global $wp_filter;
		$own = array( 'Reg_Buffer_Intake', 'screen_rows' );
		foreach ( $hooks as $hook ) {
			if ( ! isset( $wp_filter[ $hook ] ) ) {
				continue;
			}
			foreach ( $wp_filter[ $hook ]->callbacks as $callbacks ) {
				foreach ( $callbacks as $callback ) {
					if ( $own !== $callback['function'] ) {
						return true;
					}
				}
			}
		}
		return false;
	}

	/**
	 * Gives `data` back to the rows the fast-intake screen must see: those whose stored JSON has the intake marker
	 * key. The test is a superset: the marker's text, or any \u escape (the only way JSON could spell it
	 * otherwise). json_decode() of the stored JSON is the same array reg_buffer_flush() would have built.
	 *
	 * @param array $rows rows claimed without `data`.
	 */
	private static function with_intake_data( array $rows ): array {
		foreach ( $rows as $i => $row ) {
			if ( isset( $row['data'] ) ) {
				continue; // The extension (or a Bridge without the flag) already gave it.
			}
			$json = (string) $row['json'];
			if ( str_contains( $json, '_reg_buffer_intake' ) || str_contains( $json, '\\u' ) ) {
				$data = json_decode( $json, true );
				if ( is_array( $data ) ) {
					$rows[ $i ]['data'] = $data;
				}
			}
		}
		return $rows;
	}

	/**
	 * Why the run stops before claiming another batch (budget, limit), or null.
	 */
	private static function stop_reason( float $started, float $time, int $memory, int $limit, array $summary ): ?string {
		if ( microtime( true ) - $started >= $time || memory_get_usage() >= $memory ) {
			return 'budget';
		}
		return $limit > 0 && $summary['claimed'] >= $limit ? 'limit' : null;
	}

	/**
	 * Claims a batch.
	 *
	 * @return array|int the claim (batch id, rows), 0 when the buffer is empty, -1 on an error.
	 */
	private static function claim_batch( int $size, int $lease, int $limit, array &$summary ) {
		$with_data = self::hooks_read_data();
		try {
			// The third argument asks for rows without `data` (see with_intake_data()).
			$claim = Reg_Buffer_Bridge::claim( $limit > 0 ? min( $size, $limit - $summary['claimed'] ) : $size, $lease, $with_data );
		} catch ( \Throwable $e ) {
			self::report( 'flush', $e, array( 'step' => 'claim' ) );
			return -1;
		}
		$rows = $claim['rows'] ?? array();
		if ( array() === $rows ) {
			return 0;
		}
		$summary['claimed'] += count( $rows );
		return array(
			'batch' => (string) $claim['batch'],
			'rows'  => $with_data ? $rows : self::with_intake_data( $rows ),
		);
	}

	/**
	 * The rows of a claimed batch to store, after the `reg_buffer_flush_rows` filter; a WP_Error leaves the batch
	 * un-acked until its lease ends.
	 *
	 * @return array|WP_Error
	 */
	private static function screen( array $claim ) {
		/**
		 * Filters a claimed batch before it is stored: return the rows to store (a callback that refuses rows sets
		 * them aside itself, with their reason; they are acknowledged with the batch), or a WP_Error to leave the
		 * whole batch un-acked until its lease ends. The fast intake's flush-time checks (Reg_Buffer_Intake).
		 *
		 * @param array  $rows  the batch's rows.
		 * @param string $batch batch id.
		 */
		$rows = apply_filters( 'reg_buffer_flush_rows', $claim['rows'], $claim['batch'] );
		if ( is_wp_error( $rows ) ) {
			Reg_Buffer_Registrar::report_error( 'flush', null, array( 'step' => 'screen', 'batch' => $claim['batch'], 'error' => $rows->get_error_message() ) );
		}
		return $rows;
	}

	/**
	 * Accounts for a batch's insert (one bad row: stores the others and sets the bad ones aside rather than retry
	 * forever) and fires `reg_buffer_batch_stored`.
	 *
	 * @param array         $claim    the claimed batch.
	 * @param array         $rows     its screened rows.
	 * @param int|WP_Error  $inserted what the multi-row insert gave.
	 * @return bool whether the batch is stored (false: it stays un-acked and comes back after its lease).
	 */
	private static function store_batch( array $claim, array $rows, $inserted, Reg_Buffer_Flush_Lock $lock, array &$summary ): bool {
		$batch                = $claim['batch'];
		$claimed              = count( $claim['rows'] );
		$count                = count( $rows ); // Less the rows MySQL refuses, if any.
		$summary['rejected'] += $claimed - $count;
		$set_aside_each       = 0;
		if ( is_wp_error( $inserted ) && 'reg_buffer_db' === $inserted->get_error_code() ) {
			$each = Reg_Buffer_Store::insert_each( $rows, array( $lock, 'still_held' ) );
			if ( ! is_wp_error( $each ) ) {
				$set_aside_each = $each['rejected'];
				if ( $each['rejected'] > 0 ) {
					Reg_Buffer_Registrar::report_error( 'set_aside', null, array( 'batch' => $batch, 'set_aside' => $each['rejected'], 'error' => $inserted->get_error_message() ) );
				}
				$summary['rejected'] += $each['rejected'];
				$count               -= $each['rejected'];
				$inserted             = $each['inserted'];
			}
		}
		if ( is_wp_error( $inserted ) ) {
			Reg_Buffer_Registrar::report_error( 'mysql', null, array( 'batch' => $batch, 'error' => $inserted->get_error_message() ) );
			return false;
		}
		if ( $count > $inserted ) {
			// Not all new: a redelivered batch's rows are in the table under their ids; a row whose unique key another
			// registration holds is not, and is set aside (add() is idempotent: rows insert_each() set aside are kept).
			$absent = Reg_Buffer_Store::rows_not_stored( $rows );
			if ( is_wp_error( $absent ) || ! Reg_Buffer_Set_Aside::add( $absent ) ) {
				Reg_Buffer_Registrar::report_error( 'mysql', null, array( 'batch' => $batch, 'error' => is_wp_error( $absent ) ? $absent->get_error_message() : 'rows left out by a unique key could not be set aside' ) );
				return false;
			}
			$absorbed = count( $absent ) - $set_aside_each;
			if ( $absorbed > 0 ) {
				Reg_Buffer_Registrar::report_error( 'set_aside', null, array( 'batch' => $batch, 'set_aside' => $absorbed, 'error' => $absent[ count( $absent ) - 1 ]['error'] ) );
				$summary['rejected'] += $absorbed;
				$count               -= $absorbed;
			}
		}
		++$summary['batches'];
		$summary['inserted']   += $inserted;
		$summary['duplicates'] += $count - $inserted;

		/**
		 * Fires after a batch is committed and before it is acked: the crash window the idempotent insert covers.
		 *
		 * @param string $batch    batch id.
		 * @param int    $claimed  registrations in the batch.
		 * @param int    $inserted registrations newly stored.
		 */
		do_action( 'reg_buffer_batch_stored', $batch, $claimed, $inserted );
		return true;
	}

	/**
	 * Acks a stored batch.
	 *
	 * @return bool false when the ack failed (the batch returns after its lease and inserts nothing then).
	 */
	private static function ack( string $batch, array &$summary ): bool {
		try {
			$summary['acked'] += Reg_Buffer_Bridge::ack( $batch );
			return true;
		} catch ( \Throwable $e ) {
			self::report( 'flush', $e, array( 'step' => 'ack', 'batch' => $batch ) );
			return false;
		}
	}

	/**
	 * Reg_Buffer_Registrar::report_error(), or held back until release_reports() while an INSERT is overlapped.
	 */
	private static function report( string $code, ?\Throwable $cause, array $context ): void {
		if ( null === self::$held_reports ) {
			Reg_Buffer_Registrar::report_error( $code, $cause, $context );
		} else {
			self::$held_reports[] = array( $code, $cause, $context );
		}
	}

	/**
	 * Reports what report() held back, and reports at once again.
	 */
	private static function release_reports(): void {
		$held               = self::$held_reports ?? array();
		self::$held_reports = null;
		foreach ( $held as [ $code, $cause, $context ] ) {
			Reg_Buffer_Registrar::report_error( $code, $cause, $context );
		}
	}
}
