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
	 * This run's limits: started, time, memory, size, lease, limit (see run()).
	 *
	 * @var array
	 */
	private $limits;

	/**
	 * The run's flush lock (asked before each batch commits).
	 *
	 * @var Reg_Buffer_Flush_Lock
	 */
	private $lock;

	/**
	 * The run's summary (see run()), shared with the caller.
	 *
	 * @var array
	 */
	private $summary;

	/**
	 * How batches are stored.
	 *
	 * @var Reg_Buffer_Inserter
	 */
	private $inserter;

	/**
	 * A batch claimed while the previous one's INSERT ran (a claim, or why claiming stopped: empty, error).
	 *
	 * @var array|string|null
	 */
	private $claimed_ahead = null;

	/**
	 * A stored batch whose ack waits for the next INSERT to be in flight, so that Redis and MySQL work at once.
	 *
	 * @var string|null
	 */
	private $unacked = null;

	/**
	 * Whether an ack failed: the run stops, and the batches it stored come back after their leases.
	 *
	 * @var bool
	 */
	private $ack_failed = false;

	/**
	 * Whether the current batch's INSERT was in flight while the flusher worked with Redis.
	 *
	 * @var bool
	 */
	private $overlapped = false;

	/**
	 * Errors held back while wpdb's connection is busy with an INSERT in flight; null: report at once.
	 *
	 * @var array[]|null
	 */
	private $held_reports = null;

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
	 * Flushes until the buffer is empty or a budget is spent; the rest waits for the next run. Then lets the Redis
	 * watch compare what Redis holds with the run before (a loss shows on the status page from then on).
	 *
	 * @param array $budget optional overrides: time (seconds), memory (bytes), batch_size, lease_seconds, and
	 *                      limit (stop after claiming this many registrations; 0 = no limit).
	 * @return array summary: outcome (empty|budget|limit|locked|error|direct), batches, claimed, inserted, duplicates,
	 *               acked, rejected (set aside, see Reg_Buffer_Store::insert_each()), promoted (waitlisted
	 *               registrations given the seats owed to them, Reg_Buffer_Seats), seconds.
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
			'promoted'   => 0,
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
			// Events whose Redis count missed a write (made without the extension, or a release Redis did not hear)
			// are counted again before anything else books them.
			Reg_Buffer_Seats::refresh_stale();
			// An upgraded install's registrations under the old shared prefix first (they are the oldest).
			$legacy = self::legacy_prefix();
			if ( null !== $legacy ) {
				Reg_Buffer_Bridge::with_key_prefix(
					$legacy,
					static function () use ( $limits, $lock, &$summary, $legacy ) {
						( new self( $limits, $lock, $summary ) )->flush_buffer();
						if ( 'empty' === $summary['outcome'] ) {
							self::forget_legacy_prefix_when_empty( $legacy );
						}
					}
				);
			}
			if ( 'empty' === $summary['outcome'] ) {
				( new self( $limits, $lock, $summary ) )->flush_buffer();
			}
			// Seats freed while the waitlisted registrations they went to were still buffered: theirs now, if stored.
			$summary['promoted'] = array_sum( array_map( 'count', Reg_Buffer_Seats::apply_all_promotions() ) );
		} finally {
			$lock->release();
			$summary['seconds'] = round( microtime( true ) - $started, 3 );
			Reg_Buffer_Status::record_flush( $summary );
			self::watch_redis();
		}
		return $summary;
	}

	/**
	 * Hands the buffer's statistics to the Redis watch, which notices a Redis that lost its data (the status page
	 * then says so until an operator acknowledges it). Every flush run does it: WP-Cron's, `wp reg-buffer flush`
	 * and `drain`, the admin page's button.
	 */
	private static function watch_redis(): void {
		try {
			Reg_Buffer_Redis_Watch::observe();
		} catch ( \Throwable $e ) {
			unset( $e ); // The watch never breaks a flush.
		}
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
	 * Stops looking at the legacy prefix once nothing is pending or in flight there (known only from a whole
	 * answer: with a cluster shard unreachable, the stats are partial and say nothing of that shard).
	 */
	private static function forget_legacy_prefix_when_empty( string $legacy ): void {
		try {
			$stats = Reg_Buffer_Bridge::stats();
		} catch ( \Throwable $e ) {
			return; // Asked again next run.
		}
		if ( empty( $stats['partial'] ) && 0 === (int) $stats['pending'] && 0 === (int) $stats['in_flight'] ) {
			delete_option( self::LEGACY_PREFIX_OPTION );
			error_log( sprintf( 'reg_buffer: nothing is left under the legacy key prefix %s; the flush no longer looks there', $legacy ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
		}
	}

	/**
	 * The buffer's statistics for this site (reg_buffer_stats()), with what an upgraded install's legacy prefix
	 * still holds added to pending, in_flight, buffered and quarantined; `partial` when either answer was (then
	 * zero pending proves nothing).
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
			$stats['partial'] = ! empty( $stats['partial'] ) || ! empty( $old['partial'] );
		}
		return $stats;
	}

	/**
	 * A flusher for one buffer (the extension's current key prefix) within one run.
	 *
	 * @param array                 $limits  see run().
	 * @param Reg_Buffer_Flush_Lock $lock    the run's lock, held.
	 * @param array                 $summary the run's summary, added to.
	 */
	private function __construct( array $limits, Reg_Buffer_Flush_Lock $lock, array &$summary ) {
		$this->limits  = $limits;
		$this->lock    = $lock;
		$this->summary = &$summary;
		// The overlapped INSERT; `new Reg_Buffer_Inserter( … )` is the plain path, the same without the overlap.
		$this->inserter = new Reg_Buffer_Overlap_Inserter( array( $lock, 'still_held' ) );
	}

	/**
	 * Claim, insert, ack, until the buffer is empty or a limit is hit; sets the summary's outcome.
	 *
	 * Each batch is acked only after it is committed (or set aside). With the overlapped inserter, while MariaDB
	 * works on one batch's INSERT the flusher acks the batch before and claims the next (while_inserting()).
	 */
	private function flush_buffer(): void {
		$this->summary['outcome'] = 'empty';
		try {
			while ( true ) {
				$claim = $this->next_batch();
				if ( ! is_array( $claim ) ) {
					$this->summary['outcome'] = $claim;
					break;
				}
				// A batch whose INSERT was built ahead needed no screening (see while_inserting()).
				$rows = isset( $claim['prepared'] ) ? $claim['rows'] : $this->screen( $claim );
				if ( is_wp_error( $rows ) ) {
					$this->summary['outcome'] = 'error';
					break;
				}
				$inserted = $this->insert( $claim, $rows );
				if ( ! $this->store_batch( $claim, $rows, $inserted ) || ! $this->ack( $claim['batch'] ) ) {
					$this->summary['outcome'] = 'error';
					break;
				}
			}
			if ( ! $this->ack_unacked() ) {
				$this->summary['outcome'] = 'error';
			}
		} finally {
			$this->release_reports();
		}
	}

	/**
	 * The batch to store next: the one claimed during the last INSERT, else a new claim within the budget; or why
	 * the run stops (budget, limit, empty, error).
	 *
	 * @return array|string
	 */
	private function next_batch() {
		$claim               = $this->claimed_ahead ?? $this->stop_reason() ?? $this->claim_batch();
		$this->claimed_ahead = null;
		return $claim;
	}

	/**
	 * Stores the batch's rows; with the overlapped inserter, Redis work runs meanwhile.
	 *
	 * @param array $claim the claimed batch.
	 * @param array $rows  its screened rows.
	 * @return int|WP_Error how many rows were new.
	 */
	private function insert( array $claim, array $rows ) {
		$this->overlapped = false;
		$inserted         = $this->inserter->insert( $rows, array( $this, 'while_inserting' ), $claim['prepared'] ?? null );
		$this->release_reports();
		if ( ! $this->overlapped ) {
			$this->ack_unacked(); // The batch before, if it waited for an INSERT in flight that this one was not.
		}
		return $inserted;
	}

	/**
	 * While MariaDB inserts a batch (wpdb's connection busy): ack the batch before, then claim the next, and build
	 * its INSERT when its screen has nothing to do. Errors are reported once the INSERT is done (reg_buffer_error's
	 * listeners may query). Public only to be the inserter's callback.
	 */
	public function while_inserting(): void {
		$this->overlapped   = true;
		$this->held_reports = array();
		if ( ! $this->ack_unacked() || null !== $this->stop_reason() ) {
			return;
		}
		$this->claimed_ahead = $this->claim_batch();
		if ( is_array( $this->claimed_ahead ) && self::screen_is_a_no_op( $this->claimed_ahead ) ) {
			$prepared = $this->inserter->prepare( $this->claimed_ahead['rows'] );
			if ( null !== $prepared ) {
				$this->claimed_ahead['prepared'] = $prepared;
			}
		}
	}

	/**
	 * Acks a stored batch now, or, when its INSERT overlapped Redis work, during the next INSERT.
	 *
	 * @param string $batch batch id.
	 * @return bool false when an ack failed (this one or one before): the run stops.
	 */
	private function ack( string $batch ): bool {
		if ( $this->ack_failed ) {
			return false;
		}
		if ( $this->overlapped ) {
			$this->unacked = $batch;
			return true;
		}
		return $this->ack_now( $batch );
	}

	/**
	 * Acks the stored batch whose ack waited, if any.
	 *
	 * @return bool false when the ack failed (then so does every later ack(): the run stops).
	 */
	private function ack_unacked(): bool {
		if ( null === $this->unacked ) {
			return true;
		}
		$batch         = $this->unacked;
		$this->unacked = null;
		if ( ! $this->ack_now( $batch ) ) {
			$this->ack_failed = true;
			return false;
		}
		return true;
	}

	/**
	 * Acks a stored batch.
	 *
	 * @param string $batch batch id.
	 * @return bool false when the ack failed (the batch returns after its lease and inserts nothing then).
	 */
	private function ack_now( string $batch ): bool {
		try {
			$this->summary['acked'] += Reg_Buffer_Bridge::ack( $batch );
			return true;
		} catch ( \Throwable $e ) {
			$this->report(
				'flush',
				$e,
				array(
					'step'  => 'ack',
					'batch' => $batch,
				)
			);
			return false;
		}
	}

	/**
	 * Why the run stops before claiming another batch, or null.
	 */
	private function stop_reason(): ?string {
		if ( $this->time_exceeded() || $this->memory_exceeded() ) {
			return 'budget';
		}
		return $this->limit_reached() ? 'limit' : null;
	}

	/**
	 * Whether the run's time budget is spent (flush_time_budget, capped by what the request has left).
	 */
	private function time_exceeded(): bool {
		return microtime( true ) - $this->limits['started'] >= $this->limits['time'];
	}

	/**
	 * Whether the process uses the run's memory budget (flush_memory_budget) or more.
	 */
	private function memory_exceeded(): bool {
		return memory_get_usage() >= $this->limits['memory'];
	}

	/**
	 * Whether the run claimed the registrations its caller limited it to.
	 */
	private function limit_reached(): bool {
		return $this->limits['limit'] > 0 && $this->summary['claimed'] >= $this->limits['limit'];
	}

	/**
	 * How many registrations the next claim asks for: the batch size, or what is left under the limit.
	 */
	private function batch_size(): int {
		$size = $this->limits['size'];
		return $this->limits['limit'] > 0 ? min( $size, $this->limits['limit'] - $this->summary['claimed'] ) : $size;
	}

	/**
	 * Claims a batch.
	 *
	 * @return array|string the claim (batch id, rows), or 'empty' (nothing to claim), or 'error'.
	 */
	private function claim_batch() {
		$with_data = self::hooks_read_data();
		try {
			// The third argument asks for rows without `data` (see with_intake_data()).
			$claim = Reg_Buffer_Bridge::claim( $this->batch_size(), $this->limits['lease'], $with_data );
		} catch ( \Throwable $e ) {
			$this->report( 'flush', $e, array( 'step' => 'claim' ) );
			return 'error';
		}
		$rows = $claim['rows'] ?? array();
		if ( array() === $rows ) {
			return 'empty';
		}
		$this->summary['claimed'] += count( $rows );
		return array(
			'batch' => (string) $claim['batch'],
			'rows'  => $with_data ? $rows : self::with_intake_data( $rows ),
		);
	}

	/**
	 * The rows of a claimed batch to store, after the `reg_buffer_flush_rows` filter; a WP_Error leaves the batch
	 * un-acked until its lease ends.
	 *
	 * @param array $claim the claimed batch.
	 * @return array|WP_Error
	 */
	private function screen( array $claim ) {
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
			Reg_Buffer_Registrar::report_error(
				'flush',
				null,
				array(
					'step'  => 'screen',
					'batch' => $claim['batch'],
					'error' => $rows->get_error_message(),
				)
			);
		}
		return $rows;
	}

	/**
	 * Accounts for a batch's insert (one bad row: stores the others and sets the bad ones aside rather than retry
	 * forever) and fires `reg_buffer_batch_stored`.
	 *
	 * @param array        $claim    the claimed batch.
	 * @param array        $rows     its screened rows.
	 * @param int|WP_Error $inserted what the multi-row insert gave.
	 * @return bool whether the batch is stored (false: it stays un-acked and comes back after its lease).
	 */
	private function store_batch( array $claim, array $rows, $inserted ): bool {
		$batch                      = $claim['batch'];
		$claimed                    = count( $claim['rows'] );
		$count                      = count( $rows ); // Less the rows MySQL refuses, if any.
		$this->summary['rejected'] += $claimed - $count;
		$set_aside_each             = 0;
		if ( is_wp_error( $inserted ) && 'reg_buffer_db' === $inserted->get_error_code() ) {
			$each = Reg_Buffer_Store::insert_each( $rows, array( $this->lock, 'still_held' ) );
			if ( ! is_wp_error( $each ) ) {
				$set_aside_each = $each['rejected'];
				if ( $each['rejected'] > 0 ) {
					Reg_Buffer_Registrar::report_error(
						'set_aside',
						null,
						array(
							'batch'     => $batch,
							'set_aside' => $each['rejected'],
							'error'     => $inserted->get_error_message(),
						)
					);
				}
				$this->summary['rejected'] += $each['rejected'];
				$count                     -= $each['rejected'];
				$inserted                   = $each['inserted'];
			}
		}
		if ( is_wp_error( $inserted ) ) {
			Reg_Buffer_Registrar::report_error(
				'mysql',
				null,
				array(
					'batch' => $batch,
					'error' => $inserted->get_error_message(),
				)
			);
			return false;
		}
		if ( $count > $inserted ) {
			// Not all new: a redelivered batch's rows are in the table under their ids; a row whose unique key another
			// registration holds is not, and is set aside (add() is idempotent: rows insert_each() set aside are kept).
			$absent = Reg_Buffer_Store::rows_not_stored( $rows );
			if ( is_wp_error( $absent ) || ! Reg_Buffer_Set_Aside::add( $absent ) ) {
				Reg_Buffer_Registrar::report_error(
					'mysql',
					null,
					array(
						'batch' => $batch,
						'error' => is_wp_error( $absent ) ? $absent->get_error_message() : 'rows left out by a unique key could not be set aside',
					)
				);
				return false;
			}
			$absorbed = count( $absent ) - $set_aside_each;
			if ( $absorbed > 0 ) {
				Reg_Buffer_Registrar::report_error(
					'set_aside',
					null,
					array(
						'batch'     => $batch,
						'set_aside' => $absorbed,
						'error'     => $absent[ count( $absent ) - 1 ]['error'],
					)
				);
				$this->summary['rejected'] += $absorbed;
				$count                     -= $absorbed;
			}
		}
		++$this->summary['batches'];
		$this->summary['inserted']   += $inserted;
		$this->summary['duplicates'] += $count - $inserted;

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
	 * Reg_Buffer_Registrar::report_error(), or held back until release_reports() while an INSERT is in flight.
	 *
	 * @param string          $code    error code.
	 * @param \Throwable|null $cause   the exception.
	 * @param array           $context what was being done.
	 */
	private function report( string $code, ?\Throwable $cause, array $context ): void {
		if ( null === $this->held_reports ) {
			Reg_Buffer_Registrar::report_error( $code, $cause, $context );
		} else {
			$this->held_reports[] = array( $code, $cause, $context );
		}
	}

	/**
	 * Reports what report() held back, and reports at once again.
	 */
	private function release_reports(): void {
		$held               = $this->held_reports ?? array();
		$this->held_reports = null;
		foreach ( $held as [ $code, $cause, $context ] ) {
			Reg_Buffer_Registrar::report_error( $code, $cause, $context );
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
		$started = isset( $_SERVER['REQUEST_TIME_FLOAT'] ) ? (float) $_SERVER['REQUEST_TIME_FLOAT'] : microtime( true );
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
	 *
	 * @param array $claim a claimed batch.
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
}
