<?php
/**
 * Owns the Redis watch: notices when Redis lost the buffer's data (a restart without persistence, FLUSHALL, a
 * replaced server) and keeps a warning until an operator acknowledges it.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * At every status check and flush run, compares what Redis holds now with what it held last time:
 *
 * - the extension's epoch (`reg_buffer_stats()['epoch']`): it names the buffered data and vanishes with it, on one
 *   server and on every shard of a cluster alike — the marker;
 * - the extension's lifetime counters (`reg_buffer_stats()['counters']` names them): they never go down unless
 *   Redis lost them too, so they catch a restart from an older snapshot, which brings the epoch back with it.
 *
 * When either says the data is gone, an incident is recorded: the time the data was last seen intact (T1), the
 * time the loss was noticed (T2) and how many registrations were buffered at T1 (pending + in flight). Those, and
 * any pushed between T1 and the loss, never reached MySQL. The warning stays until acknowledged (admin page,
 * `wp reg-buffer acknowledge-loss`). A restart that kept the data (AOF, RDB) changes only Redis's run_id: no
 * incident. Redis's run_id, uptime and persistence mode come from reg_buffer_stats() too: the plugin never talks to
 * Redis itself. Changing the Redis URL or key prefix starts a new watch (the old buffer is not watched any more).
 */
final class Reg_Buffer_Redis_Watch {

	const SNAPSHOT_OPTION  = 'reg_buffer_redis_watch';
	const INCIDENTS_OPTION = 'reg_buffer_redis_losses';

	/** @var array<int,float> blog id => when this process last checked (a page computes the status twice). */
	private static $checked = array();

	/**
	 * Reads reg_buffer_stats(), compares the buffer with the last observation, records an incident if Redis lost
	 * its data, and remembers this observation. The stats are read under the watch's lock, so an observation never
	 * follows a newer one. A partial answer (a cluster shard unreachable: no epoch, short counters) is neither
	 * compared nor remembered. Never throws: the watch must not break the flush.
	 */
	public static function observe(): void {
		$blog = get_current_blog_id();
		if ( isset( self::$checked[ $blog ] ) && microtime( true ) - self::$checked[ $blog ] < 2.0 ) {
			return;
		}
		self::$checked[ $blog ] = microtime( true );
		self::with_lock(
			0,
			static function () {
				try {
					$stats = Reg_Buffer_Bridge::stats();
				} catch ( \Throwable $e ) {
					return; // Redis is down: nothing to compare; the next run does it.
				}
				if ( ! empty( $stats['partial'] ) || '' === (string) ( $stats['epoch'] ?? '' ) ) {
					return;
				}
				$now      = self::observation( $stats );
				$previous = self::fresh_option( self::SNAPSHOT_OPTION );
				if ( is_array( $previous ) && ( $previous['identity'] ?? null ) === $now['identity'] ) {
					$how = self::loss_evidence( $previous, $now );
					if ( null !== $how ) {
						self::record_incident( $previous, $now, $how );
					}
				}
				update_option( self::SNAPSHOT_OPTION, $now, false );
			}
		);
	}

	/**
	 * Incidents not yet acknowledged, oldest first.
	 *
	 * @return array<int,array{key:string,since:int,detected:int,buffered:int,pending:int,in_flight:int,cause:string,evidence:string,restarted_at:?int,pushed_since:?int}>
	 */
	public static function incidents(): array {
		$incidents = self::fresh_option( self::INCIDENTS_OPTION );
		return is_array( $incidents ) ? array_values( array_filter( $incidents, 'is_array' ) ) : array();
	}

	/**
	 * The last observation (for the status), or null before the first.
	 */
	public static function snapshot(): ?array {
		$snapshot = self::fresh_option( self::SNAPSHOT_OPTION );
		return is_array( $snapshot ) ? $snapshot : null;
	}

	/**
	 * Removes incidents from the warning: all, or the one with $key. Returns how many were removed.
	 *
	 * @param string|null $key an incident's key, or null for all.
	 */
	public static function acknowledge( ?string $key = null ): int {
		$removed = 0;
		self::with_lock(
			10,
			static function () use ( $key, &$removed ) {
				$keep = array();
				foreach ( self::incidents() as $incident ) {
					if ( null === $key || $incident['key'] === $key ) {
						++$removed;
						$user = get_current_user_id();
						error_log( sprintf( 'reg_buffer: Redis data loss of %s acknowledged%s', self::window( $incident ), $user ? " (user {$user})" : '' ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
					} else {
						$keep[] = $incident;
					}
				}
				if ( $removed > 0 ) {
					update_option( self::INCIDENTS_OPTION, $keep, false );
				}
			}
		);
		return $removed;
	}

	/**
	 * The warning for one incident, in words.
	 *
	 * @param array $incident from incidents().
	 */
	public static function describe( array $incident ): string {
		$cause = array(
			'restart' => __( 'Redis restarted without its data (no persistence, or its files were lost)', 'reg-buffer' ),
			'flushed' => __( 'Redis\'s data was deleted (FLUSHALL, FLUSHDB or a DEL of the buffer\'s keys)', 'reg-buffer' ),
			'unknown' => __( 'Redis lost the buffer\'s data', 'reg-buffer' ),
		);
		return sprintf(
			/* translators: 1: cause, 2: time last seen intact, 3: time noticed, 4: number of registrations */
			__( '%1$s between %2$s and %3$s: up to %4$d registrations buffered at %2$s (plus any pushed after it) are not in MySQL. Check your forms\' own records (confirmation e-mails, payment logs) for that window, then acknowledge this warning.', 'reg-buffer' ),
			$cause[ $incident['cause'] ] ?? $cause['unknown'],
			self::when( (int) $incident['since'] ),
			self::when( (int) $incident['detected'] ),
			(int) $incident['buffered']
		);
	}

	/**
	 * Deletes the watch's options (uninstall).
	 */
	public static function uninstall(): void {
		delete_option( self::SNAPSHOT_OPTION );
		delete_option( self::INCIDENTS_OPTION );
	}

	/**
	 * What Redis holds now, all from reg_buffer_stats(): the epoch as the marker, the lifetime counters, the
	 * buffered figures and Redis's identity (run_id, uptime, persistence mode; null where Redis did not say).
	 *
	 * @param array $stats reg_buffer_stats().
	 */
	private static function observation( array $stats ): array {
		$string = static fn( string $name ) => isset( $stats[ $name ] ) && is_string( $stats[ $name ] ) && '' !== $stats[ $name ] ? $stats[ $name ] : null;
		$now    = array(
			'time'        => time(),
			// Which buffer this is; the URL may carry a password, so only its hash is kept.
			'identity'    => md5( Reg_Buffer_Bridge::redis_url() . '|' . Reg_Buffer_Settings::site_key_prefix() ),
			'marker'      => null === $string( 'epoch' ) ? null : 'epoch:' . $string( 'epoch' ),
			'run_id'      => $string( 'run_id' ),
			'uptime'      => isset( $stats['uptime'] ) && is_int( $stats['uptime'] ) ? $stats['uptime'] : null,
			'persistence' => $string( 'persistence' ),
			'buffered'    => (int) ( $stats['buffered'] ?? ( (int) ( $stats['pending'] ?? 0 ) + (int) ( $stats['in_flight'] ?? 0 ) ) ),
			'pending'     => (int) ( $stats['pending'] ?? 0 ),
			'in_flight'   => (int) ( $stats['in_flight'] ?? 0 ),
			'counters'    => array(),
		);
		foreach ( (array) ( $stats['counters'] ?? array() ) as $counter ) {
			if ( is_string( $counter ) && isset( $stats[ $counter ] ) && is_int( $stats[ $counter ] ) ) {
				$now['counters'][ $counter ] = $stats[ $counter ];
			}
		}
		return $now;
	}

	/**
	 * How the data is known to be gone ('marker' or 'counters'), or null when it is not.
	 */
	private static function loss_evidence( array $previous, array $now ): ?string {
		if ( null !== ( $previous['marker'] ?? null ) && null !== $now['marker'] && $previous['marker'] !== $now['marker'] ) {
			return 'marker';
		}
		foreach ( (array) ( $previous['counters'] ?? array() ) as $counter => $value ) {
			if ( isset( $now['counters'][ $counter ] ) && $now['counters'][ $counter ] < (int) $value ) {
				return 'counters';
			}
		}
		return null;
	}

	private static function record_incident( array $previous, array $now, string $how ): void {
		$restarted = null !== $now['run_id'] && null !== ( $previous['run_id'] ?? null ) && $now['run_id'] !== $previous['run_id'];
		$incident  = array(
			'key'          => substr( md5( $now['identity'] . '|' . (int) $previous['time'] . '|' . (string) ( $previous['marker'] ?? '' ) ), 0, 12 ),
			'since'        => (int) $previous['time'],
			'detected'     => $now['time'],
			'buffered'     => (int) ( $previous['buffered'] ?? 0 ),
			'pending'      => (int) ( $previous['pending'] ?? 0 ),
			'in_flight'    => (int) ( $previous['in_flight'] ?? 0 ),
			'cause'        => $restarted ? 'restart' : ( null !== $now['run_id'] ? 'flushed' : 'unknown' ),
			'evidence'     => $how,
			'restarted_at' => $restarted && null !== $now['uptime'] ? $now['time'] - $now['uptime'] : null,
			// Pushes since the loss (in Redis, not lost): known when the marker is gone, i.e. Redis came back empty
			// and its counters started from zero (from an old RDB snapshot they start from that snapshot's).
			'pushed_since' => 'marker' === $how ? ( $now['counters']['pushed'] ?? null ) : null,
			'persistence'  => $now['persistence'],
		);
		$incidents = self::incidents();
		foreach ( $incidents as $known ) {
			if ( $known['key'] === $incident['key'] ) {
				return;
			}
		}
		$incidents[] = $incident;
		update_option( self::INCIDENTS_OPTION, $incidents, false );
		// Once, when noticed (the warning itself is also logged once by Reg_Buffer_History::note_warnings()).
		error_log( 'reg_buffer: Redis lost its data: ' . wp_json_encode( $incident ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
		/**
		 * Fires once when the plugin notices that Redis lost the buffer's data.
		 *
		 * @param array $incident since, detected (Unix times), buffered (registrations buffered at `since`), cause,
		 *                        evidence, restarted_at, pushed_since, persistence.
		 */
		do_action( 'reg_buffer_redis_data_lost', $incident );
	}

	/**
	 * Runs $work under a MySQL named lock of this site's watch (so two processes record one incident once).
	 *
	 * @param int      $wait seconds to wait for the lock; when it is not had, $work does not run.
	 * @param callable $work the work.
	 */
	private static function with_lock( int $wait, callable $work ): void {
		global $wpdb;
		$name = 'reg_buffer_watch:' . md5( DB_NAME . '|' . $wpdb->prefix );
		if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', $name, $wait ) ) ) {
			return; // Another process is checking right now.
		}
		try {
			$work();
		} finally {
			$wpdb->query( $wpdb->prepare( 'DO RELEASE_LOCK(%s)', $name ) );
		}
	}

	/**
	 * An option as it is in the table now (other processes write these), not as this request cached it.
	 */
	private static function fresh_option( string $name ) {
		wp_cache_delete( $name, 'options' );
		wp_cache_delete( 'notoptions', 'options' );
		return get_option( $name, null );
	}

	private static function when( int $time ): string {
		return wp_date( 'Y-m-d H:i:s T', $time );
	}

	private static function window( array $incident ): string {
		return self::when( (int) $incident['since'] ) . ' – ' . self::when( (int) $incident['detected'] );
	}
}
