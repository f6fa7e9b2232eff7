<?php
/**
 * Owns the WP-CLI commands (loaded only under WP-CLI): `wp reg-buffer …`, `wp reg-buffer quarantine …` and
 * `wp reg-buffer set-aside …`.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * See whether registrations are flowing, flush them, drain the buffer before a deploy, import the seed snippet's
 * lists. From system cron, `wp reg-buffer flush` is the recommended flusher for busy sites, where WP-Cron only
 * runs when someone visits:
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
	 * Shows whether registrations are flowing: extension, Redis, counts, last flush, warnings.
	 *
	 * Exits 1 when there is a warning, so a monitoring check can run it as is.
	 *
	 * ## OPTIONS
	 *
	 * [--format=<format>]
	 * : Output format.
	 * ---
	 * default: table
	 * options:
	 *   - table
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
		} elseif ( 'table' !== $format ) {
			WP_CLI\Utils\format_items( $format, array( $report ), array_keys( $report ) );
		} else {
			$rows = array();
			foreach ( self::flatten( $report ) as $key => $value ) {
				if ( 'warnings' === $key || 'warning_codes' === $key ) {
					continue;
				}
				$rows[] = array(
					'item'  => $key,
					'value' => $value,
				);
			}
			WP_CLI\Utils\format_items( 'table', $rows, array( 'item', 'value' ) );
			foreach ( $report['warnings'] as $warning ) {
				WP_CLI::warning( $warning );
			}
			if ( array() === $report['warnings'] ) {
				WP_CLI::success( $report['message'] );
			}
		}
		if ( array() !== $report['warnings'] ) {
			WP_CLI::halt( 1 );
		}
	}

	/**
	 * Acknowledges that Redis lost buffered registrations, so the status stops warning about it.
	 *
	 * The status keeps the warning "Redis lost its data between T1 and T2 …" until someone has looked for the
	 * registrations of that window elsewhere. This lists each loss, then removes it from the warnings.
	 *
	 * ## OPTIONS
	 *
	 * [<incident>...]
	 * : Keys of the losses to acknowledge (see `wp reg-buffer status --format=json`, .redis_losses[].key). Default: all.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer acknowledge-loss
	 *
	 * @subcommand acknowledge-loss
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function acknowledge_loss( $args, $assoc_args ): void {
		$incidents = Reg_Buffer_Redis_Watch::incidents();
		if ( array() === $incidents ) {
			WP_CLI::success( 'No Redis data loss to acknowledge.' );
			return;
		}
		$removed = 0;
		foreach ( $incidents as $incident ) {
			if ( array() !== $args && ! in_array( $incident['key'], $args, true ) ) {
				continue;
			}
			WP_CLI::log( $incident['key'] . ': ' . Reg_Buffer_Redis_Watch::describe( $incident ) );
			$removed += Reg_Buffer_Redis_Watch::acknowledge( $incident['key'] );
		}
		if ( 0 === $removed ) {
			WP_CLI::error( 'No such loss: ' . implode( ', ', $args ) );
		}
		WP_CLI::success( sprintf( '%d Redis data loss(es) acknowledged.', $removed ) );
	}

	/**
	 * Flushes buffered registrations into MySQL (what WP-Cron runs every minute), with a progress bar.
	 *
	 * One flush runs at a time per site: when another holds the lock this one does nothing and says so (not an
	 * error, so a system cron line may overlap safely).
	 *
	 * ## OPTIONS
	 *
	 * [--limit=<number>]
	 * : Stop after this many registrations.
	 *
	 * [--until-empty]
	 * : Keep flushing past the time budget of one run, until the buffer is empty.
	 *
	 * [--batch-size=<number>]
	 * : Registrations per batch (one transaction each). Default: REG_BUFFER_BATCH_SIZE (500).
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
		$limit = isset( $assoc_args['limit'] ) ? (int) $assoc_args['limit'] : 0;
		if ( isset( $assoc_args['limit'] ) && $limit <= 0 ) {
			WP_CLI::error( '--limit must be a positive number' );
		}
		$budget = array();
		if ( isset( $assoc_args['batch-size'] ) ) {
			$budget['batch_size'] = max( 1, (int) $assoc_args['batch-size'] );
		}
		$until_empty = ! empty( $assoc_args['until-empty'] );
		$waiting     = self::waiting();
		$total       = $limit > 0 ? min( $limit, $waiting ) : $waiting;
		$progress    = WP_CLI\Utils\make_progress_bar( 'Flushing registrations', max( 1, $total ) );
		$tick        = static function ( $batch, $claimed ) use ( $progress ) {
			$progress->tick( (int) $claimed );
		};
		add_action( 'reg_buffer_batch_stored', $tick, 10, 2 );
		$totals = array_fill_keys( array( 'batches', 'claimed', 'inserted', 'duplicates', 'acked', 'rejected' ), 0 );
		try {
			do {
				if ( $limit > 0 ) {
					$budget['limit'] = $limit - $totals['claimed'];
				}
				$summary = Reg_Buffer_Flusher::run( $budget );
				foreach ( $totals as $k => $v ) {
					$totals[ $k ] = $v + (int) ( $summary[ $k ] ?? 0 );
				}
			} while ( $until_empty && 'budget' === $summary['outcome'] );
		} finally {
			remove_action( 'reg_buffer_batch_stored', $tick, 10 );
			$progress->finish();
		}
		$line = sprintf(
			'%d registrations in %d batches: %d stored, %d already stored (duplicates), %d set aside, %d acknowledged; outcome %s',
			$totals['claimed'],
			$totals['batches'],
			$totals['inserted'],
			$totals['duplicates'],
			$totals['rejected'],
			$totals['acked'],
			$summary['outcome']
		);
		switch ( $summary['outcome'] ) {
			case 'error':
				WP_CLI::error( $line . '. The batch that failed stays in Redis and is retried after its lease; the cause is in the PHP error log.' );
				break;
			case 'locked':
				WP_CLI::warning( 'Another flush of this site is running (it holds the flush lock); nothing to do.' );
				break;
			case 'direct':
				WP_CLI::success( 'Buffering is not in use on this site: registrations are already in MySQL.' );
				break;
			default:
				WP_CLI::success( $line );
		}
	}

	/**
	 * Empties the buffer before a deploy or a Redis maintenance: flushes until nothing is pending, then waits
	 * for batches other flushers still hold (in flight) to be acknowledged or to come back.
	 *
	 * New registrations keep arriving meanwhile; to stop them, define REG_BUFFER_DISABLED first (they are then
	 * written straight to MySQL, and the fast intake answers 503), then drain: drain works while disabled.
	 *
	 * ## OPTIONS
	 *
	 * [--timeout=<seconds>]
	 * : Give up (exit 1) after this long.
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
		$deadline = time() + max( 1, (int) ( $assoc_args['timeout'] ?? 600 ) );
		$stored   = 0;
		while ( true ) {
			do {
				$summary = Reg_Buffer_Flusher::run();
				$stored += (int) $summary['inserted'];
			} while ( 'budget' === $summary['outcome'] );
			if ( 'error' === $summary['outcome'] ) {
				WP_CLI::error( 'A flush failed while draining; see the PHP error log. Nothing was lost: run drain again.' );
			}
			try {
				$stats = Reg_Buffer_Flusher::buffered(); // An upgraded install's legacy prefix included.
			} catch ( \Throwable $e ) {
				WP_CLI::error( 'Redis cannot be asked what it holds: ' . $e->getMessage() );
			}
			if ( 0 === (int) $stats['pending'] && 0 === (int) $stats['in_flight'] ) {
				break;
			}
			if ( time() >= $deadline ) {
				WP_CLI::error( sprintf( 'Not drained in time: %d pending, %d in flight (held by another flusher until acknowledged or its lease ends).', $stats['pending'], $stats['in_flight'] ) );
			}
			WP_CLI::log( sprintf( 'waiting: %d pending, %d in flight', $stats['pending'], $stats['in_flight'] ) );
			sleep( 1 );
		}
		$quarantined = (int) ( $stats['quarantined'] ?? 0 );
		WP_CLI::success( sprintf( 'Drained: nothing pending or in flight (%d stored by this command).', $stored ) . ( $quarantined > 0 ? " {$quarantined} quarantined entries remain: see `wp reg-buffer quarantine list`." : '' ) );
	}

	/**
	 * Moves the seed snippet's legacy Redis lists (event_reg_buffer:<event_id>) into the buffer, keeping their
	 * timestamps. Elements that cannot be read go to the quarantine.
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
		$before = (int) ( Reg_Buffer_Bridge::stats()['quarantined'] ?? 0 );
		$moved  = Reg_Buffer_Bridge::import_legacy( (string) ( $assoc_args['pattern'] ?? 'event_reg_buffer:*' ) );
		$after  = (int) ( Reg_Buffer_Bridge::stats()['quarantined'] ?? 0 );
		if ( $after > $before ) {
			WP_CLI::warning( sprintf( '%d legacy elements could not be read and were quarantined: see `wp reg-buffer quarantine list`.', $after - $before ) );
		}
		WP_CLI::success( "moved {$moved} registrations" );
	}

	/**
	 * Registrations buffered in Redis: pending plus in flight.
	 */
	private static function waiting(): int {
		try {
			$stats = Reg_Buffer_Flusher::buffered();
			return (int) $stats['pending'] + (int) $stats['in_flight'];
		} catch ( \Throwable $e ) {
			return 0;
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

/**
 * Lists, retries and purges registrations Redis holds in quarantine (entries the flush or the legacy import
 * could not decode).
 *
 * ## EXAMPLES
 *
 *     $ wp reg-buffer quarantine list
 *     $ wp reg-buffer quarantine retry 42:01JD3Z7W3M6Y8QK2T5V9XN4B1C
 *     $ wp reg-buffer quarantine purge --all --yes
 */
final class Reg_Buffer_Quarantine_CLI {

	/**
	 * Lists the quarantined entries: which event, why, whether a retry can work, and the start of the bytes.
	 *
	 * ## OPTIONS
	 *
	 * [--format=<format>]
	 * : Output format.
	 * ---
	 * default: table
	 * options:
	 *   - table
	 *   - json
	 *   - csv
	 *   - yaml
	 *   - count
	 * ---
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer quarantine list
	 *     $ wp reg-buffer quarantine list --format=json
	 *
	 * @subcommand list
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function list_( $args, $assoc_args ): void {
		$entries = self::entries();
		$rows    = array_map(
			static fn( $e ) => array(
				'entry'     => $e['field'],
				'event'     => $e['event_id'],
				'reason'    => $e['reason'],
				'retryable' => $e['retryable'] ? 'yes' : 'no: ' . $e['problem'],
				'preview'   => $e['preview'],
			),
			$entries
		);
		WP_CLI\Utils\format_items( (string) ( $assoc_args['format'] ?? 'table' ), $rows, array( 'entry', 'event', 'reason', 'retryable', 'preview' ) );
	}

	/**
	 * Puts entries back into the buffer: each is decoded and pushed again (new id, the time of the retry); the next
	 * flush stores it. An entry whose data cannot be decoded stays (purge it).
	 *
	 * ## OPTIONS
	 *
	 * [<entry>...]
	 * : Entries as shown by `list` (<event>:<id>).
	 *
	 * [--all]
	 * : Every entry that can be retried.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer quarantine retry 42:01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *     $ wp reg-buffer quarantine retry --all
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function retry( $args, $assoc_args ): void {
		$fields = ! empty( $assoc_args['all'] )
			? array_column( array_filter( self::entries(), static fn( $e ) => $e['retryable'] ), 'field' )
			: $args;
		self::act( 'retry', $fields );
	}

	/**
	 * Deletes entries for good (after you have kept what you need from `list`).
	 *
	 * ## OPTIONS
	 *
	 * [<entry>...]
	 * : Entries as shown by `list` (<event>:<id>).
	 *
	 * [--all]
	 * : Every entry.
	 *
	 * [--yes]
	 * : Do not ask for confirmation with --all.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer quarantine purge 42:01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *     $ wp reg-buffer quarantine purge --all --yes
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function purge( $args, $assoc_args ): void {
		if ( ! empty( $assoc_args['all'] ) ) {
			WP_CLI::confirm( 'Delete every quarantined entry for good?', $assoc_args );
			$args = array_column( self::entries(), 'field' );
		}
		self::act( 'purge', $args );
	}

	private static function act( string $what, array $fields ): void {
		if ( array() === $fields ) {
			WP_CLI::error( 'Name entries (see `wp reg-buffer quarantine list`) or use --all.' );
		}
		$failed = 0;
		foreach ( $fields as $field ) {
			$result = 'retry' === $what ? Reg_Buffer_Quarantine::retry( (string) $field ) : Reg_Buffer_Quarantine::purge( (string) $field );
			if ( $result['ok'] ) {
				WP_CLI::log( $result['message'] );
			} else {
				++$failed;
				WP_CLI::warning( "{$field}: {$result['message']}" );
			}
		}
		if ( $failed > 0 ) {
			WP_CLI::error( sprintf( '%d of %d entries could not be %s.', $failed, count( $fields ), 'retry' === $what ? 'retried' : 'purged' ) );
		}
		WP_CLI::success( sprintf( '%d entries %s.', count( $fields ), 'retry' === $what ? 'retried' : 'purged' ) );
	}

	private static function entries(): array {
		Reg_Buffer_CLI::require_extension();
		$reason = Reg_Buffer_Quarantine::unavailable_reason();
		if ( null !== $reason ) {
			WP_CLI::error( $reason );
		}
		try {
			return Reg_Buffer_Quarantine::entries( PHP_INT_MAX );
		} catch ( \RuntimeException $e ) {
			WP_CLI::error( $e->getMessage() );
		}
		return array();
	}
}

/**
 * Lists, retries and purges set-aside registrations: rows a flush could not store (MySQL refused them, or the
 * fast intake's flush-time checks did), kept in their own table with the error.
 *
 * ## EXAMPLES
 *
 *     $ wp reg-buffer set-aside list
 *     $ wp reg-buffer set-aside retry 01JD3Z7W3M6Y8QK2T5V9XN4B1C
 *     $ wp reg-buffer set-aside purge --all --yes
 */
final class Reg_Buffer_Set_Aside_CLI {

	/**
	 * Lists the set-aside registrations: event, when, unique key, why, whether a retry can work, the data's start.
	 *
	 * ## OPTIONS
	 *
	 * [--format=<format>]
	 * : Output format.
	 * ---
	 * default: table
	 * options:
	 *   - table
	 *   - json
	 *   - csv
	 *   - yaml
	 *   - count
	 * ---
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer set-aside list
	 *     $ wp reg-buffer set-aside list --format=json
	 *
	 * @subcommand list
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function list_( $args, $assoc_args ): void {
		$rows = array_map( array( 'Reg_Buffer_Set_Aside', 'describe' ), Reg_Buffer_Set_Aside::rows( Reg_Buffer_Set_Aside::MAX_LISTED ) );
		WP_CLI\Utils\format_items( (string) ( $assoc_args['format'] ?? 'table' ), $rows, array( 'id', 'event', 'registered_at', 'unique_key', 'error', 'retryable', 'preview' ) );
	}

	/**
	 * Registers set-aside registrations again (validated like any registration: buffered, or written directly),
	 * then removes them. One that is refused again stays, with the reason shown.
	 *
	 * ## OPTIONS
	 *
	 * [<id>...]
	 * : Registration ids as shown by `list`.
	 *
	 * [--all]
	 * : Every one that can be retried.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer set-aside retry 01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *     $ wp reg-buffer set-aside retry --all
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function retry( $args, $assoc_args ): void {
		$ids = ! empty( $assoc_args['all'] )
			? array_column( array_filter( array_map( array( 'Reg_Buffer_Set_Aside', 'describe' ), Reg_Buffer_Set_Aside::rows( Reg_Buffer_Set_Aside::MAX_LISTED ) ), static fn( $e ) => 'yes' === $e['retryable'] ), 'id' )
			: $args;
		self::act( 'retry', $ids, ! empty( $assoc_args['all'] ) );
	}

	/**
	 * Deletes set-aside registrations for good (after you have kept what you need from `list`).
	 *
	 * ## OPTIONS
	 *
	 * [<id>...]
	 * : Registration ids as shown by `list`.
	 *
	 * [--all]
	 * : Every one.
	 *
	 * [--yes]
	 * : Do not ask for confirmation with --all.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer set-aside purge 01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *     $ wp reg-buffer set-aside purge --all --yes
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function purge( $args, $assoc_args ): void {
		if ( ! empty( $assoc_args['all'] ) ) {
			WP_CLI::confirm( 'Delete every set-aside registration for good?', $assoc_args );
			$args = array_column( Reg_Buffer_Set_Aside::rows( Reg_Buffer_Set_Aside::MAX_LISTED ), 'id' );
		}
		self::act( 'purge', $args, ! empty( $assoc_args['all'] ) );
	}

	/**
	 * Retries or purges $ids; with --all, none is nothing to do (success).
	 */
	private static function act( string $what, array $ids, bool $all ): void {
		if ( array() === $ids ) {
			if ( $all ) {
				WP_CLI::success( 'retry' === $what ? 'Nothing to retry.' : 'Nothing to purge.' );
				return;
			}
			WP_CLI::error( 'Name registrations (see `wp reg-buffer set-aside list`) or use --all.' );
		}
		$failed = 0;
		foreach ( $ids as $id ) {
			$result = 'retry' === $what ? Reg_Buffer_Set_Aside::retry( (string) $id ) : Reg_Buffer_Set_Aside::purge( (string) $id );
			if ( $result['ok'] ) {
				WP_CLI::log( $result['message'] );
			} else {
				++$failed;
				WP_CLI::warning( "{$id}: {$result['message']}" );
			}
		}
		if ( $failed > 0 ) {
			WP_CLI::error( sprintf( '%d of %d set-aside registrations could not be %s.', $failed, count( $ids ), 'retry' === $what ? 'retried' : 'purged' ) );
		}
		WP_CLI::success( sprintf( '%d set-aside registrations %s.', count( $ids ), 'retry' === $what ? 'retried' : 'purged' ) );
	}
}

// Registered here rather than in the main file (which registers `reg-buffer` itself): WP-CLI defers a
// subcommand until its parent exists.
WP_CLI::add_command( 'reg-buffer set-aside', 'Reg_Buffer_Set_Aside_CLI' );
