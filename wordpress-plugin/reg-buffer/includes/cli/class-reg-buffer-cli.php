<?php
/**
 * Owns the WP-CLI commands (loaded only under WP-CLI): `wp reg-buffer …` here, `wp reg-buffer quarantine …` and
 * `wp reg-buffer set-aside …` in their own files, what `seats` and `cancel` do in Reg_Buffer_Seats_CLI, and what
 * they share (counts in words, option checks).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Shows whether registrations flow, and flushes, drains and imports them.
 *
 * `wp reg-buffer status` says whether registrations are flowing; `flush`
 * stores what Redis holds now; `drain` empties the buffer before a deploy;
 * `import-legacy` takes over the seed snippet's lists; `seats` shows and
 * sets the capacity of events, and `cancel` frees a registration's seat.
 *
 * On a busy site run the flush from system cron, since WP-Cron only runs
 * when someone visits:
 *
 *     * * * * * www-data cd /usr/share/wordpress && wp --url=https://example.com reg-buffer flush --quiet
 *
 * ## EXAMPLES
 *
 *     # Is everything flowing?
 *     $ wp reg-buffer status
 *
 *     # Empty the buffer into MySQL now.
 *     $ wp reg-buffer flush --until-empty
 */
final class Reg_Buffer_CLI {

	/**
	 * Shows whether registrations are flowing.
	 *
	 * Extension, Redis, counts, last flush, the seats of events with a
	 * capacity, and warnings. Exits 1 when there is a warning, so a
	 * monitoring check can run it as it is.
	 *
	 * ## OPTIONS
	 *
	 * [--format=<format>]
	 * : Output format: table and csv give one row per value (nested values
	 * as dotted names), json and yaml the report as one object.
	 * ---
	 * default: table
	 * options:
	 *   - table
	 *   - csv
	 *   - json
	 *   - yaml
	 * ---
	 *
	 * ## EXAMPLES
	 *
	 *     # A table of every value, then the warnings.
	 *     $ wp reg-buffer status
	 *
	 *     # The whole report as JSON (for monitoring).
	 *     $ wp reg-buffer status --format=json
	 *
	 *     # How far behind the flush is, in seconds.
	 *     $ wp reg-buffer status --format=json | jq .buffer.oldest_pending_age
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function status( $args, $assoc_args ): void {
		Reg_Buffer_History::maybe_sample();
		$report = Reg_Buffer_Status::report();
		Reg_Buffer_History::note_warnings( $report['warning_codes'], $report['warnings'] );
		$format = (string) ( $assoc_args['format'] ?? 'table' );
		if ( 'json' === $format ) {
			WP_CLI::line( (string) wp_json_encode( $report, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES ) );
		} elseif ( 'yaml' === $format ) {
			self::print_yaml( $report );
		} else {
			$rows = array();
			// One row per figure of each event (seats.12.taken), not the list as one JSON cell.
			$report['seats'] = array_column( $report['seats'], null, 'event_id' );
			foreach ( self::flatten( $report ) as $key => $value ) {
				if ( 'warnings' !== $key && 'warning_codes' !== $key ) {
					$rows[] = array(
						'field' => $key,
						'value' => $value,
					);
				}
			}
			WP_CLI\Utils\format_items( $format, $rows, array( 'field', 'value' ) );
			foreach ( $report['warnings'] as $warning ) {
				WP_CLI::warning( $warning );
			}
			if ( array() === $report['warnings'] && 'table' === $format ) {
				WP_CLI::success( $report['message'] );
			}
		}
		if ( array() !== $report['warnings'] ) {
			WP_CLI::halt( 1 );
		}
	}

	/**
	 * Acknowledges that Redis lost buffered registrations.
	 *
	 * The status keeps the warning "Redis lost its data between T1 and T2 …"
	 * until someone has looked for the registrations of that window
	 * elsewhere. This lists each loss, then removes it from the warnings. A
	 * key that names no loss is an error (nothing is acknowledged then).
	 *
	 * ## OPTIONS
	 *
	 * [<incident>...]
	 * : Keys of the losses to acknowledge (`wp reg-buffer status
	 * --format=json`, .redis_losses[].key). Default: all.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer acknowledge-loss
	 *
	 * @subcommand acknowledge-loss
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function acknowledge_loss( $args, $assoc_args ): void { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundAfterLastUsed -- WP-CLI calls every command with ($args, $assoc_args).
		$incidents = Reg_Buffer_Redis_Watch::incidents();
		$unknown   = array_diff( $args, array_column( $incidents, 'key' ) );
		if ( array() !== $unknown ) {
			WP_CLI::error(
				sprintf(
					'No such Redis data loss: %s. %s',
					implode( ', ', $unknown ),
					array() === $incidents
						? 'There is none to acknowledge.'
						: 'The keys are in `wp reg-buffer status --format=json`, .redis_losses[].key.'
				)
			);
		}
		if ( array() === $incidents ) {
			WP_CLI::success( 'No Redis data loss to acknowledge.' );
			return;
		}
		$removed = 0;
		foreach ( $incidents as $incident ) {
			if ( array() === $args || in_array( $incident['key'], $args, true ) ) {
				WP_CLI::log( $incident['key'] . ': ' . Reg_Buffer_Redis_Watch::describe( $incident ) );
				$removed += Reg_Buffer_Redis_Watch::acknowledge( $incident['key'] );
			}
		}
		WP_CLI::success( self::count_of( $removed, 'Redis data loss', 'Redis data losses' ) . ' acknowledged.' );
	}

	/**
	 * Flushes buffered registrations into MySQL, as WP-Cron does every minute.
	 *
	 * Shows a progress bar. One flush runs at a time per site: when another
	 * holds the lock, this one does nothing and says so (not an error, so
	 * system cron lines may overlap safely). Exits 1 when Redis cannot be
	 * reached or a batch could not be stored, with the cause.
	 *
	 * ## OPTIONS
	 *
	 * [--limit=<number>]
	 * : Stop after this many registrations.
	 *
	 * [--until-empty]
	 * : Keep flushing past the time budget of one run, until the buffer is
	 * empty.
	 *
	 * [--batch-size=<number>]
	 * : Registrations per batch (one INSERT each). Default:
	 * REG_BUFFER_BATCH_SIZE (500).
	 *
	 * ## EXAMPLES
	 *
	 *     # One run, as WP-Cron would (system cron, every minute).
	 *     $ wp reg-buffer flush
	 *
	 *     # Everything, now.
	 *     $ wp reg-buffer flush --until-empty
	 *
	 *     # A careful first try after an incident.
	 *     $ wp reg-buffer flush --limit=100 --batch-size=10
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function flush( $args, $assoc_args ): void {
		self::require_extension(); // Also under REG_BUFFER_DISABLED: what Redis holds must still reach MySQL.
		$limit  = (int) self::positive_int( $assoc_args, 'limit', 0 );
		$budget = array();
		$size   = self::positive_int( $assoc_args, 'batch-size', null );
		if ( null !== $size ) {
			$budget['batch_size'] = $size;
		}
		$until_empty = ! empty( $assoc_args['until-empty'] );
		$before      = self::reachable_buffer();
		$waiting     = (int) $before['pending'] + (int) $before['in_flight'];
		$total       = $limit > 0 ? min( $limit, $waiting ) : $waiting;
		$progress    = WP_CLI\Utils\make_progress_bar( 'Flushing registrations', max( 1, $total ) );
		$tick        = static function ( $batch, $claimed ) use ( $progress ) {
			$progress->tick( (int) $claimed );
		};
		$causes      = array();
		add_action( 'reg_buffer_batch_stored', $tick, 10, 2 );
		$totals = array_fill_keys( array( 'batches', 'claimed', 'inserted', 'duplicates', 'acked', 'rejected' ), 0 );
		try {
			do {
				if ( $limit > 0 ) {
					$budget['limit'] = $limit - $totals['claimed'];
				}
				$summary = self::run_flusher( $budget, $causes );
				foreach ( $totals as $k => $v ) {
					$totals[ $k ] = $v + (int) ( $summary[ $k ] ?? 0 );
				}
			} while ( $until_empty && 'budget' === $summary['outcome'] );
		} finally {
			remove_action( 'reg_buffer_batch_stored', $tick, 10 );
			$progress->finish();
		}
		if ( 'error' === $summary['outcome'] ) {
			WP_CLI::error( self::failure( $totals, $causes ) );
		}
		if ( 'locked' === $summary['outcome'] ) {
			WP_CLI::warning( 'Another flush of this site is running (it holds the flush lock); nothing to do.' );
			return;
		}
		$quarantined = self::quarantined_since( $before );
		$line        = sprintf(
			'%s in %s: %d stored, %d already stored (duplicates), %d set aside, %d quarantined, %d acknowledged; outcome %s',
			self::count_of( $totals['claimed'], 'registration', 'registrations' ),
			self::count_of( $totals['batches'], 'batch', 'batches' ),
			$totals['inserted'],
			$totals['duplicates'],
			$totals['rejected'],
			$quarantined,
			$totals['acked'],
			$summary['outcome']
		);
		if ( $quarantined > 0 ) {
			WP_CLI::warning( self::quarantine_notice( $quarantined ) );
		}
		WP_CLI::success( $line );
	}

	/**
	 * Empties the buffer before a deploy or a Redis maintenance.
	 *
	 * Flushes until nothing is pending, then waits for the batches other
	 * flushers still hold (in flight) to be acknowledged or to come back.
	 *
	 * New registrations keep arriving meanwhile. To stop them, define
	 * REG_BUFFER_DISABLED first (they are then written straight to MySQL,
	 * and the fast intake answers 503), then drain: drain works while
	 * disabled.
	 *
	 * ## OPTIONS
	 *
	 * [--timeout=<seconds>]
	 * : Give up (exit 1) after this many seconds.
	 * ---
	 * default: 600
	 * ---
	 *
	 * ## EXAMPLES
	 *
	 *     # Before `systemctl restart redis-server` (REG_BUFFER_DISABLED defined in wp-config.php first).
	 *     $ wp reg-buffer drain && systemctl restart redis-server
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function drain( $args, $assoc_args ): void {
		self::require_extension(); // Works while REG_BUFFER_DISABLED: that is the documented order.
		$deadline = time() + (int) self::positive_int( $assoc_args, 'timeout', 600 );
		$before   = self::reachable_buffer();
		$stored   = 0;
		$causes   = array();
		while ( true ) {
			do {
				$summary = self::run_flusher( array(), $causes );
				$stored += (int) $summary['inserted'];
			} while ( 'budget' === $summary['outcome'] );
			if ( 'error' === $summary['outcome'] ) {
				WP_CLI::error( self::failure( null, $causes ) . ' Run drain again.' );
			}
			$stats = self::reachable_buffer();
			// Partial: a cluster shard could not be read, so zero here says nothing about it.
			$unread = ! empty( $stats['partial'] );
			if ( ! $unread && 0 === (int) $stats['pending'] && 0 === (int) $stats['in_flight'] ) {
				break;
			}
			if ( time() >= $deadline ) {
				WP_CLI::error(
					$unread
						? sprintf( 'Not drained: %d of the buffer\'s shards cannot be reached, and may hold registrations (%s).', (int) ( $stats['shards_degraded'] ?? 0 ), wp_json_encode( $stats['degraded'] ?? array() ) )
						: sprintf( 'Not drained in time: %d pending, %d in flight (held by another flusher until acknowledged or its lease ends).', $stats['pending'], $stats['in_flight'] )
				);
			}
			WP_CLI::log( sprintf( 'waiting: %d pending, %d in flight%s', $stats['pending'], $stats['in_flight'], $unread ? ', and shards that cannot be reached' : '' ) );
			sleep( 1 );
		}
		$new = self::quarantined_since( $before );
		if ( $new > 0 ) {
			WP_CLI::warning( self::quarantine_notice( $new ) );
		}
		$quarantined = (int) ( $stats['quarantined'] ?? 0 );
		WP_CLI::success(
			sprintf( 'Drained: nothing pending or in flight (%d stored by this command).', $stored )
			. ( $quarantined > 0 ? sprintf( ' %s remain%s: see `wp reg-buffer quarantine list`.', self::count_of( $quarantined, 'quarantined entry', 'quarantined entries' ), 1 === $quarantined ? 's' : '' ) : '' )
		);
	}

	/**
	 * Moves the seed snippet's legacy Redis lists into the buffer.
	 *
	 * The lists are event_reg_buffer:<event_id>; their registrations keep
	 * their timestamps. Elements that cannot be read go to the quarantine.
	 *
	 * ## OPTIONS
	 *
	 * [--pattern=<pattern>]
	 * : SCAN pattern of the legacy lists.
	 * ---
	 * default: event_reg_buffer:*
	 * ---
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer import-legacy && wp reg-buffer flush --until-empty
	 *
	 * @subcommand import-legacy
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function import_legacy( $args, $assoc_args ): void {
		self::require_buffer();
		$before = self::reachable_buffer();
		$moved  = Reg_Buffer_Bridge::import_legacy( (string) ( $assoc_args['pattern'] ?? 'event_reg_buffer:*' ) );
		$failed = self::quarantined_since( $before );
		if ( $failed > 0 ) {
			WP_CLI::warning( sprintf( '%s could not be read and %s quarantined: see `wp reg-buffer quarantine list`.', self::count_of( $failed, 'legacy element', 'legacy elements' ), 1 === $failed ? 'was' : 'were' ) );
		}
		WP_CLI::success( 'Moved ' . self::count_of( $moved, 'registration', 'registrations' ) . ' into the buffer.' );
	}

	/**
	 * Lists, sets, removes and recounts the seats of events with a capacity.
	 *
	 * Without an action, lists each event with a capacity: how many may
	 * register, whether it has a waitlist, the seats taken, registrations
	 * waiting, places left, whether Redis knows the count (if not, the next
	 * booking counts it from MySQL), and the rows stored in MySQL. `set`
	 * gives an event a capacity or changes it (from the next booking on);
	 * `unset` makes it unlimited again; `recount` has Redis count the seats
	 * again from MySQL and what Redis still buffers.
	 *
	 * ## OPTIONS
	 *
	 * [<action>]
	 * : What to do.
	 * ---
	 * default: list
	 * options:
	 *   - list
	 *   - set
	 *   - unset
	 *   - recount
	 * ---
	 *
	 * [<event>]
	 * : The event to set, unset or recount.
	 *
	 * [--capacity=<number>]
	 * : With set: how many may register (0 or more).
	 *
	 * [--waitlist]
	 * : With set: once every seat is taken, registrations go on a waitlist
	 * (each promoted in turn as a seat is freed) instead of being refused.
	 * Without it the event has no waitlist.
	 *
	 * [--format=<format>]
	 * : With list: output format.
	 * ---
	 * default: table
	 * options:
	 *   - table
	 *   - json
	 *   - csv
	 *   - yaml
	 * ---
	 *
	 * ## EXAMPLES
	 *
	 *     # Every event with a capacity.
	 *     $ wp reg-buffer seats
	 *
	 *     # Event 12 takes 40, then a waitlist.
	 *     $ wp reg-buffer seats set 12 --capacity=40 --waitlist
	 *
	 *     # Places left at event 12.
	 *     $ wp reg-buffer seats list --format=json | jq '.[] | select(.event_id == 12) | .remaining'
	 *
	 *     # After restoring the table from a backup: count again.
	 *     $ wp reg-buffer seats recount 12
	 *
	 *     # Event 12 is unlimited again.
	 *     $ wp reg-buffer seats unset 12
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function seats( $args, $assoc_args ): void {
		Reg_Buffer_Seats_CLI::seats( $args, $assoc_args );
	}

	/**
	 * Cancels a stored registration and frees its seat.
	 *
	 * The registration stays in the table, marked cancelled. Its seat goes
	 * to the oldest registration on the event's waitlist, if there is one.
	 * A registration still buffered in Redis cannot be cancelled until it is
	 * stored: run `wp reg-buffer flush` first.
	 *
	 * ## OPTIONS
	 *
	 * <registration-id>
	 * : The registration's id (26 characters).
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer cancel 01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function cancel( $args, $assoc_args ): void { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.FoundAfterLastUsed -- WP-CLI calls every command with ($args, $assoc_args).
		if ( ! isset( $args[0] ) ) {
			WP_CLI::error( 'Name the registration: wp reg-buffer cancel <registration-id>.' );
		}
		Reg_Buffer_Seats_CLI::cancel( (string) $args[0] );
	}

	/**
	 * "1 batch", "2 batches": a count with its noun.
	 *
	 * @param int    $count how many.
	 * @param string $one   the noun for one.
	 * @param string $many  the noun for any other count.
	 */
	public static function count_of( int $count, string $one, string $many ): string {
		return $count . ' ' . ( 1 === $count ? $one : $many );
	}

	/**
	 * The value of --$name, a whole number of at least 1; $fallback when the option is absent. Anything else stops
	 * with an error (exit 1).
	 *
	 * @param array    $assoc_args the command's options.
	 * @param string   $name       the option.
	 * @param int|null $fallback   when it is absent.
	 */
	public static function positive_int( array $assoc_args, string $name, ?int $fallback ): ?int {
		if ( ! array_key_exists( $name, $assoc_args ) ) {
			return $fallback;
		}
		$value = is_int( $assoc_args[ $name ] ) ? (string) $assoc_args[ $name ] : $assoc_args[ $name ]; // A docblock default is an int.
		if ( ! is_string( $value ) || 1 !== preg_match( '/^[0-9]{1,15}$/', $value ) || (int) $value < 1 ) {
			WP_CLI::error( sprintf( '--%s must be a whole number of 1 or more, not %s.', $name, is_string( $value ) ? "'{$value}'" : 'empty' ) );
		}
		return (int) $value;
	}

	/**
	 * One flush run, with the causes of its errors (the `reg_buffer_error` action) added to $causes: message =>
	 * whether it was Redis that could not be reached.
	 *
	 * @param array $budget see Reg_Buffer_Flusher::run().
	 * @param array $causes the causes so far.
	 */
	private static function run_flusher( array $budget, array &$causes ): array {
		$listen = static function ( $code, $cause, $context ) use ( &$causes ) {
			$message            = $cause instanceof \Throwable ? $cause->getMessage() : (string) ( $context['error'] ?? $code );
			$causes[ $message ] = $cause instanceof \RegBuffer\ConnectionException;
		};
		add_action( 'reg_buffer_error', $listen, 10, 3 );
		try {
			return Reg_Buffer_Flusher::run( $budget );
		} finally {
			remove_action( 'reg_buffer_error', $listen, 10 );
		}
	}

	/**
	 * The message of a flush that stopped on an error: why, and what was stored before (null: not said).
	 *
	 * @param array|null        $totals what the runs did.
	 * @param array<string,bool> $causes see run_flusher().
	 */
	private static function failure( ?array $totals, array $causes ): string {
		$why  = array() === $causes ? 'the cause is in the PHP error log' : implode( '; ', array_keys( $causes ) );
		$done = null === $totals ? '' : sprintf(
			' %s stored in %s before it stopped.',
			self::count_of( (int) $totals['inserted'], 'registration', 'registrations' ),
			self::count_of( (int) $totals['batches'], 'batch', 'batches' )
		);
		if ( in_array( true, $causes, true ) ) {
			return "Redis could not be reached during the flush ({$why}).{$done} A batch claimed before is flushed again once its lease ends; nothing is lost.";
		}
		return "A batch could not be stored ({$why}).{$done} It stays in Redis and is flushed again once its lease ends; nothing is lost.";
	}

	/**
	 * The buffer's statistics (an upgraded install's legacy prefix included); when Redis cannot be reached, stops
	 * with an error that says so and why (nothing was claimed, nothing is lost).
	 */
	private static function reachable_buffer(): array {
		try {
			return Reg_Buffer_Flusher::buffered();
		} catch ( \Throwable $e ) {
			WP_CLI::error(
				sprintf(
					'Redis could not be reached (%s): nothing was flushed, and nothing is lost. %s',
					$e->getMessage(),
					Reg_Buffer_Bridge::is_available()
						? 'Until Redis is back, new registrations are written directly to MySQL; the flush stores what Redis holds once it returns.'
						: 'What Redis holds is flushed once it returns.'
				)
			);
		}
		return array();
	}

	/**
	 * How many entries went to the quarantine since $before (buffered() then), or 0 when Redis cannot say.
	 *
	 * @param array $before Reg_Buffer_Flusher::buffered() earlier.
	 */
	private static function quarantined_since( array $before ): int {
		try {
			$now = Reg_Buffer_Flusher::buffered();
		} catch ( \Throwable $e ) {
			return 0;
		}
		return max( 0, (int) ( $now['quarantined'] ?? 0 ) - (int) ( $before['quarantined'] ?? 0 ) );
	}

	/**
	 * The warning for $count registrations quarantined by this command.
	 *
	 * @param int $count how many.
	 */
	private static function quarantine_notice( int $count ): string {
		return sprintf(
			'%s could not be decoded and %s quarantined in Redis: see `wp reg-buffer quarantine list`, then retry or purge.',
			self::count_of( $count, 'buffered registration', 'buffered registrations' ),
			1 === $count ? 'was' : 'were'
		);
	}

	/**
	 * Prints $value as YAML, as `--format=yaml` does elsewhere in WP-CLI.
	 *
	 * @param array $value the report.
	 */
	private static function print_yaml( array $value ): void {
		// WP-CLI's YAML writer (Spyc) passes null to trim() for each null value: on PHP 8.1+ that is a deprecation
		// notice, printed into the YAML when WP_DEBUG is on.
		$level = error_reporting(); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.prevent_path_disclosure_error_reporting, WordPress.PHP.DiscouragedPHPFunctions.runtime_configuration_error_reporting -- reads the level to restore it below.
		error_reporting( $level & ~E_DEPRECATED ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.prevent_path_disclosure_error_reporting, WordPress.PHP.DiscouragedPHPFunctions.runtime_configuration_error_reporting -- WP-CLI's Spyc deprecations (above) would corrupt the output; restored at once.
		try {
			WP_CLI::print_value( $value, array( 'format' => 'yaml' ) );
		} finally {
			error_reporting( $level ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.prevent_path_disclosure_error_reporting, WordPress.PHP.DiscouragedPHPFunctions.runtime_configuration_error_reporting -- restores the level read above.
		}
	}

	/**
	 * Stops with an error unless new registrations may be buffered (extension loaded, not REG_BUFFER_DISABLED).
	 */
	public static function require_buffer(): void {
		self::require_extension();
		if ( ! Reg_Buffer_Bridge::is_available() ) {
			WP_CLI::error( 'Buffering is disabled on this site (REG_BUFFER_DISABLED).' );
		}
	}

	/**
	 * Stops with an error unless the extension is loaded (enough to move or manage what Redis already holds).
	 */
	public static function require_extension(): void {
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			WP_CLI::error( 'The reg_buffer extension is not loaded in this PHP (php -m). WP-CLI may use another php.ini than the web server: check `wp --info`.' );
		}
	}

	/**
	 * The report as dotted keys => printable values.
	 *
	 * @param array  $data   nested.
	 * @param string $prefix key so far.
	 * @return array<string,string>
	 */
	private static function flatten( array $data, string $prefix = '' ): array {
		$out = array();
		foreach ( $data as $key => $value ) {
			$name = $prefix . $key;
			if ( is_array( $value ) && array() !== $value && ! array_is_list( $value ) ) {
				$out += self::flatten( $value, $name . '.' );
			} elseif ( is_array( $value ) ) {
				$out[ $name ] = (string) wp_json_encode( $value );
			} elseif ( is_bool( $value ) ) {
				$out[ $name ] = $value ? 'true' : 'false';
			} elseif ( null === $value ) {
				$out[ $name ] = '-';
			} else {
				$out[ $name ] = (string) $value;
			}
		}
		return $out;
	}
}

require_once __DIR__ . '/class-reg-buffer-recovery-cli.php';
require_once __DIR__ . '/class-reg-buffer-quarantine-cli.php';
require_once __DIR__ . '/class-reg-buffer-set-aside-cli.php';

// Registered here rather than in the main file (which registers `reg-buffer` and `reg-buffer quarantine`): WP-CLI
// defers a subcommand until its parent exists.
WP_CLI::add_command( 'reg-buffer set-aside', 'Reg_Buffer_Set_Aside_CLI' );
