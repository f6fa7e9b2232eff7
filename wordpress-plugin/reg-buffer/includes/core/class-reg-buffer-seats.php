<?php
/**
 * Owns per-event capacity ("seats"): the capacity of each event (option reg_buffer_seats), the promotions owed to
 * waitlisted registrations (reg_buffer_seats_owed), the events whose count in Redis must be established again
 * (reg_buffer_seats_stale), and counting an event's seats from the table and the buffer. The count of seats taken
 * lives in Redis and is the extension's: the plugin only seeds, releases and forgets it through Reg_Buffer_Bridge.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Capacity, counts, cancellation and promotion of one site's events.
 *
 * Every change of an event's count, owed promotions or stale mark happens under a MySQL named lock per event
 * (lock()); changes of the options themselves under one lock per site (change_option()), always taken after the
 * event's. When unsure, it answers "no": a count that cannot be established refuses the booking.
 */
final class Reg_Buffer_Seats {

	/** Event id => its capacity and whether it has a waitlist (autoloaded). */
	const OPTION = 'reg_buffer_seats';

	/** Event id => promotions Redis counted as seats taken that the table does not show yet. */
	const OWED_OPTION = 'reg_buffer_seats_owed';

	/** Event id => when a write that Redis's count missed was marked (autoloaded; the intake's config carries it). */
	const STALE_OPTION = 'reg_buffer_seats_stale';

	const REGISTERED = 'registered';
	const WAITLISTED = 'waitlisted';
	const CANCELLED  = 'cancelled';

	/** Seconds to wait for an event's lock before answering 503. */
	const LOCK_WAIT = 10;

	/** Seconds a count waits for a flush run in progress (one that may hold a batch Redis has since lost). */
	const FLUSH_WAIT = 3;

	/**
	 * Named locks this request holds (name => depth), so that a method called under its event's lock takes it again
	 * without waiting for itself.
	 *
	 * @var array<string,int>
	 */
	private static $held = array();

	/**
	 * The event's capacity, or null when it takes unlimited registrations.
	 *
	 * @return array{capacity:int, waitlist:bool}|null
	 */
	public static function capacity( int $event_id ): ?array {
		return self::all()[ $event_id ] ?? null;
	}

	/**
	 * Every event with a capacity.
	 *
	 * @return array<int,array{capacity:int, waitlist:bool}>
	 */
	public static function all(): array {
		$seats = array();
		foreach ( (array) get_option( self::OPTION, array() ) as $event_id => $entry ) {
			if ( (int) $event_id > 0 && is_array( $entry ) && isset( $entry['capacity'] ) ) {
				$seats[ (int) $event_id ] = array(
					'capacity' => max( 0, (int) $entry['capacity'] ),
					'waitlist' => ! empty( $entry['waitlist'] ),
				);
			}
		}
		ksort( $seats );
		return $seats;
	}

	/**
	 * Sets an event's capacity (null: unlimited again). A new capacity is counted from the table and the buffer at
	 * once; a raised one gives its new seats to the oldest waitlisted registrations first (`reg_buffer_promoted`).
	 *
	 * @param int      $event_id event (> 0).
	 * @param int|null $capacity seats (>= 0), or null to remove the limit.
	 * @param bool     $waitlist whether registrations past the capacity are waitlisted instead of refused.
	 * @return true|WP_Error
	 */
	public static function set_capacity( int $event_id, ?int $capacity, bool $waitlist = false ) {
		if ( $event_id <= 0 ) {
			return Reg_Buffer_Registration::invalid( __( 'The event id must be a positive integer.', 'reg-buffer' ) );
		}
		if ( null !== $capacity && $capacity < 0 ) {
			return Reg_Buffer_Registration::invalid( __( 'The capacity must be 0 or more.', 'reg-buffer' ) );
		}
		return self::locked(
			$event_id,
			static function () use ( $event_id, $capacity, $waitlist ) {
				$before = self::fresh_option( self::OPTION )[ $event_id ] ?? null;
				if ( null === $capacity ) {
					self::change_option( self::OPTION, $event_id, null );
					self::change_option( self::OWED_OPTION, $event_id, null );
					self::change_option( self::STALE_OPTION, $event_id, null );
					self::forget_count( $event_id ); // Set again later, it is counted afresh.
					self::changed();
					return true;
				}
				if ( null === $before ) {
					// Until it is counted, the intake refuses the event (its config carries the stale list).
					self::change_option( self::STALE_OPTION, $event_id, time() );
				}
				self::change_option(
					self::OPTION,
					$event_id,
					array(
						'capacity' => $capacity,
						'waitlist' => $waitlist,
					)
				);
				self::changed();
				if ( null === $before ) {
					$counted = self::recount_locked( $event_id );
				} elseif ( $capacity > (int) $before['capacity'] ) {
					$counted = self::promote_into_new_seats( $event_id, $capacity );
				} else {
					$counted = true;
				}
				if ( is_wp_error( $counted ) ) {
					self::mark_stale( $event_id ); // Counted before its next booking.
				}
				return true;
			}
		);
	}

	/**
	 * What an operator sees of an event's seats, or null when it is unlimited. taken/waiting are Redis's count when
	 * it is valid ('known'), else what a seed would count now (the table, plus the buffer when Redis answers).
	 *
	 * @return array{event_id:int, capacity:int, waitlist:bool, taken:int, waiting:int, remaining:int, known:bool, stored:int, stored_waiting:int}|null
	 */
	public static function summary( int $event_id ): ?array {
		$seats = self::capacity( $event_id );
		if ( null === $seats ) {
			return null;
		}
		$stored   = self::stored_counts( $event_id );
		$count    = self::current( $event_id, $seats );
		$bookable = null !== $count['taken'];
		if ( ! $bookable ) {
			// Redis unreachable: what the table shows, and no place left (bookings are refused meanwhile).
			$owed             = min( self::owed( $event_id ), $stored[ self::WAITLISTED ] );
			$count['taken']   = $stored[ self::REGISTERED ] + $owed;
			$count['waiting'] = $stored[ self::WAITLISTED ] - $owed;
		}
		return array(
			'event_id'       => $event_id,
			'capacity'       => $seats['capacity'],
			'waitlist'       => $seats['waitlist'],
			'taken'          => $count['taken'],
			'waiting'        => $count['waiting'],
			'remaining'      => $bookable ? max( 0, $seats['capacity'] - $count['taken'] ) : 0,
			'known'          => $count['known'],
			'stored'         => $stored[ self::REGISTERED ],
			'stored_waiting' => $stored[ self::WAITLISTED ],
		);
	}

	/**
	 * Places left, or null for an unlimited event. 0 when it cannot be known (Redis unreachable): never more than
	 * a booking would get.
	 */
	public static function remaining( int $event_id ): ?int {
		$seats = self::capacity( $event_id );
		if ( null === $seats ) {
			return null;
		}
		// What a booking would find: a stale or lost count is counted once, under the event's lock (then every page
		// reads Redis's count), never on each render.
		if ( is_wp_error( self::refresh_if_stale( $event_id ) ) || is_wp_error( self::seed( $event_id ) ) ) {
			return 0;
		}
		try {
			$count = Reg_Buffer_Bridge::seats( $event_id );
		} catch ( \Throwable $e ) {
			return 0;
		}
		return empty( $count['known'] ) ? 0 : max( 0, $seats['capacity'] - (int) $count['taken'] );
	}

	/**
	 * Forgets Redis's count of an event and counts it again from the table and the buffer (seed()).
	 *
	 * @return array{taken:int, waiting:int}|WP_Error
	 */
	public static function recount( int $event_id ) {
		if ( null === self::capacity( $event_id ) ) {
			return self::no_capacity( $event_id );
		}
		return self::locked( $event_id, static fn() => self::recount_locked( $event_id ) );
	}

	/**
	 * Establishes Redis's count of an event that Redis does not know (first use; Redis restarted, failed over or was
	 * flushed): taken = registered rows in the table + buffered registered ids not in the table + owed promotions;
	 * waiting = waitlisted rows + buffered waitlisted ids not in the table - owed. Free seats go to the oldest
	 * waiting. The buffer is read before the table: a registration flushed in between is then seen in the table.
	 *
	 * @return array{taken:int, waiting:int, seeded:bool}|WP_Error seeded false: the count was already known.
	 */
	public static function seed( int $event_id ) {
		return self::locked( $event_id, static fn() => self::seed_locked( $event_id ) );
	}

	/**
	 * Promotes the oldest waitlisted registrations of an event to registered, as many as are owed (seats Redis
	 * already gave them) and stored; fires `reg_buffer_promoted` for each.
	 *
	 * @return string[]|WP_Error the promoted registration ids.
	 */
	public static function apply_promotions( int $event_id ) {
		return self::locked( $event_id, static fn() => self::apply_promotions_locked( $event_id ) );
	}

	/**
	 * apply_promotions() for every event that is owed some (the flush runs it after storing).
	 *
	 * @return array<int,string[]> event => promoted ids.
	 */
	public static function apply_all_promotions(): array {
		$promoted = array();
		foreach ( self::fresh_option( self::OWED_OPTION ) as $event_id => $owed ) {
			if ( (int) $owed > 0 ) {
				$ids = self::apply_promotions( (int) $event_id );
				if ( is_array( $ids ) && array() !== $ids ) {
					$promoted[ (int) $event_id ] = $ids;
				}
			}
		}
		return $promoted;
	}

	/**
	 * Cancels a stored registration: its row becomes `cancelled`, its seat is released in Redis, and a freed seat
	 * goes to the oldest waitlisted registration (`reg_buffer_promoted`). Fires `reg_buffer_cancelled`.
	 *
	 * @return array{event_id:int, was:string, release:string, promoted:string[]}|WP_Error release is 'none' for an
	 *         event without capacity; 409 reg_buffer_not_stored_yet while it is still buffered (flush first).
	 */
	public static function cancel( string $registration_id ) {
		$event_id = self::event_of( $registration_id );
		if ( null === $event_id ) {
			return self::not_stored( $registration_id );
		}
		return self::locked(
			$event_id,
			static function () use ( $registration_id, $event_id ) {
				global $wpdb;
				$seats = self::capacity( $event_id );
				if ( null !== $seats ) {
					// A promotion Redis already gave must not be cancelled as a waitlisted one.
					self::apply_promotions_locked( $event_id );
				}
				$table = Reg_Buffer_Store::table();
				$was   = $wpdb->get_var( $wpdb->prepare( "SELECT status FROM {$table} WHERE registration_id = %s", $registration_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
				if ( self::CANCELLED === $was ) {
					return new WP_Error( 'reg_buffer_already_cancelled', __( 'This registration is already cancelled.', 'reg-buffer' ), array( 'status' => 409 ) );
				}
				if ( self::REGISTERED !== $was && self::WAITLISTED !== $was ) {
					return Reg_Buffer_Store::db_error( 'SELECT' );
				}
				// The row first, the count after: a release that fails leaves a seat held (recounted), never one sold twice.
				$updated = $wpdb->query( $wpdb->prepare( "UPDATE {$table} SET status = %s WHERE registration_id = %s AND status = %s", self::CANCELLED, $registration_id, $was ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
				if ( 1 !== $updated ) {
					return Reg_Buffer_Store::db_error( 'UPDATE' );
				}
				$release  = 'none';
				$promoted = array();
				if ( null !== $seats ) {
					[ 'release' => $release, 'promoted' => $promoted ] = self::release_locked( $event_id, self::WAITLISTED === $was );
				}
				/**
				 * Fires after a stored registration was cancelled.
				 *
				 * @param string $registration_id the registration.
				 * @param int    $event_id        its event.
				 * @param string $was             registered | waitlisted.
				 */
				do_action( 'reg_buffer_cancelled', $registration_id, $event_id, $was );
				return array(
					'event_id' => $event_id,
					'was'      => $was,
					'release'  => $release,
					'promoted' => $promoted,
				);
			}
		);
	}

	/**
	 * Takes a seat in Redis for a registration the caller writes to the table itself (buffer full, buffering
	 * disabled): Redis counts it like a buffered one.
	 *
	 * @param int   $event_id event with a capacity.
	 * @param array $seats    its capacity().
	 * @return array{status:string, remaining:int, waiting:int}|WP_Error 409 sold out, 503 when the count cannot be had.
	 */
	public static function take_seat( int $event_id, array $seats ) {
		$ready = self::refresh_if_stale( $event_id );
		if ( is_wp_error( $ready ) ) {
			return $ready;
		}
		for ( $attempt = 0; ; ++$attempt ) {
			try {
				return Reg_Buffer_Bridge::seat_take( $event_id, $seats );
			} catch ( \RegBuffer\SeatsUnknownException $e ) {
				$seeded = 0 === $attempt ? self::seed( $event_id ) : self::unavailable( $e );
				if ( is_wp_error( $seeded ) ) {
					return $seeded;
				}
			} catch ( \RegBuffer\SoldOutException $e ) {
				return self::sold_out();
			} catch ( \Throwable $e ) {
				return self::unavailable( $e );
			}
		}
	}

	/**
	 * Gives back an event's seat (a cancelled registration, or a direct write that failed after take_seat()); a seat
	 * Redis hands on to the waiting is owed to the oldest waitlisted registration and given to it when stored. When
	 * Redis cannot be told, the event is marked stale: its count is established again before the next booking.
	 *
	 * @param int  $event_id   event.
	 * @param bool $waitlisted whether the registration was waitlisted.
	 * @return string freed | promote | unlisted | unknown.
	 */
	public static function release( int $event_id, bool $waitlisted ): string {
		$released = self::locked( $event_id, static fn() => self::release_locked( $event_id, $waitlisted ) );
		return is_array( $released ) ? $released['release'] : 'unknown'; // No lock: the seat stays taken until a recount.
	}

	/**
	 * Books in the table alone, for a PHP without the extension: counts the event's registered rows (+ owed) under
	 * its lock, then $write( status ) stores the row. The event is marked stale first, so that Redis's count (which
	 * misses this row) is forgotten and counted again before the next booking through Redis, and the intake refuses
	 * the event meanwhile.
	 *
	 * @param int      $event_id event with a capacity.
	 * @param array    $seats    its capacity().
	 * @param callable $write    takes the status (registered|waitlisted), returns the outcome.
	 * @return mixed what $write returned, or WP_Error 409 sold out / 503.
	 */
	public static function book_in_table( int $event_id, array $seats, callable $write ) {
		return self::locked(
			$event_id,
			static function () use ( $event_id, $seats, $write ) {
				$stored  = self::stored_counts( $event_id );
				$owed    = min( self::owed( $event_id ), $stored[ self::WAITLISTED ] );
				$taken   = $stored[ self::REGISTERED ] + $owed;
				$waiting = $stored[ self::WAITLISTED ] - $owed;
				// As seats.lua places a booking: while anyone waits, a newcomer queues behind them.
				if ( $taken < $seats['capacity'] && ( 0 === $waiting || ! $seats['waitlist'] ) ) {
					$status = self::REGISTERED;
				} elseif ( $seats['waitlist'] ) {
					$status = self::WAITLISTED;
				} else {
					return self::sold_out();
				}
				if ( ! self::mark_stale( $event_id ) ) {
					return self::unavailable( null );
				}
				return $write( $status, max( 0, $seats['capacity'] - $taken - ( self::REGISTERED === $status ? 1 : 0 ) ) );
			}
		);
	}

	/**
	 * Before booking an event through Redis: when it is marked stale, forgets Redis's count and counts it again.
	 *
	 * @return true|WP_Error 503 when it could not be counted (the booking is refused).
	 */
	public static function refresh_if_stale( int $event_id ) {
		// Read now, not from the options this request loaded: a process without the extension may have marked the
		// event since (a long WP-CLI or queue worker would otherwise book on a count that misses its rows).
		if ( ! isset( self::stale_marks_now()[ $event_id ] ) ) {
			return true;
		}
		$counted = self::locked(
			$event_id,
			static fn() => isset( self::fresh_option( self::STALE_OPTION )[ $event_id ] ) ? self::recount_locked( $event_id ) : true
		);
		return is_wp_error( $counted ) ? $counted : true;
	}

	/**
	 * refresh_if_stale() for every stale event (each flush run does it); returns the events still stale.
	 *
	 * @return int[]
	 */
	public static function refresh_stale(): array {
		$left = array();
		foreach ( array_keys( self::fresh_option( self::STALE_OPTION ) ) as $event_id ) {
			if ( is_wp_error( self::refresh_if_stale( (int) $event_id ) ) ) {
				$left[] = (int) $event_id;
			}
		}
		// And every event whose count Redis lost (restarted, failed over, flushed): counted here, so that the fast
		// intake, which cannot count the table, takes registrations again within a flush run.
		if ( Reg_Buffer_Bridge::is_loaded() ) {
			foreach ( array_keys( self::all() ) as $event_id ) {
				try {
					$known = ! empty( Reg_Buffer_Bridge::seats( $event_id )['known'] );
				} catch ( \Throwable $e ) {
					break; // Redis unreachable: nothing can be counted now.
				}
				if ( ! $known && is_wp_error( self::seed( $event_id ) ) ) {
					$left[] = $event_id;
				}
			}
		}
		return array_values( array_unique( $left ) );
	}

	/**
	 * Events whose Redis count is not to be trusted until counted again (the fast intake refuses them).
	 *
	 * @return int[]
	 */
	public static function stale_events(): array {
		return array_map( 'intval', array_keys( self::stale_marks() ) );
	}

	/**
	 * The answer to a booking when every seat is taken and there is no waitlist.
	 */
	public static function sold_out(): WP_Error {
		return new WP_Error(
			'reg_buffer_sold_out',
			__( 'This event is sold out.', 'reg-buffer' ),
			array(
				'status'    => 409,
				'remaining' => 0,
			)
		);
	}

	/**
	 * Uninstall, per site: the options (Redis's counts expire with the buffer's keys; they are the extension's).
	 */
	public static function uninstall(): void {
		delete_option( self::OPTION );
		delete_option( self::OWED_OPTION );
		delete_option( self::STALE_OPTION );
	}

	// ------------------------------------------------------------------------------------------------ counting

	/**
	 * Taken and waiting now, for reading only: Redis's count when valid, else what seed() would count (known false);
	 * taken null when Redis has the only answer and cannot be asked.
	 *
	 * @return array{taken:?int, waiting:int, known:bool}
	 */
	private static function current( int $event_id, array $seats ): array {
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			$stored = self::stored_counts( $event_id );
			$owed   = min( self::owed( $event_id ), $stored[ self::WAITLISTED ] );
			return array(
				'taken'   => $stored[ self::REGISTERED ] + $owed,
				'waiting' => $stored[ self::WAITLISTED ] - $owed,
				'known'   => false,
			);
		}
		try {
			$count = Reg_Buffer_Bridge::seats( $event_id );
			if ( ! empty( $count['known'] ) && ! isset( self::stale_marks()[ $event_id ] ) ) {
				return array(
					'taken'   => (int) $count['taken'],
					'waiting' => (int) $count['waiting'],
					'known'   => true,
				);
			}
			$count = self::count( $event_id, $seats );
			return array(
				'taken'   => $count['taken'],
				'waiting' => $count['waiting'],
				'known'   => false,
			);
		} catch ( \Throwable $e ) {
			return array(
				'taken'   => null,
				'waiting' => 0,
				'known'   => false,
			);
		}
	}

	/**
	 * What seed() sets: the table and the buffer (union by id), owed promotions, and free seats given to the waiting
	 * ('filled', owed from then on).
	 *
	 * @return array{taken:int, waiting:int, owed:int, filled:int}
	 * @throws \RegBuffer\Exception when Redis cannot be read.
	 */
	private static function count( int $event_id, array $seats ): array {
		$buffered = Reg_Buffer_Bridge::seats_buffered( $event_id ); // Before the table: see seed().
		$ids      = array_merge( (array) ( $buffered[ self::REGISTERED ] ?? array() ), (array) ( $buffered[ self::WAITLISTED ] ?? array() ) );
		// The table's counts and which buffered ids it holds, read in one snapshot: a batch a flusher commits between
		// the two reads would otherwise be in neither (not counted, and its buffered ids dropped as stored).
		[ $stored, $in_table ] = self::in_one_snapshot(
			static fn() => array( self::stored_counts( $event_id ), array_flip( self::ids_in_table( $ids ) ) )
		);
		$only                  = static fn( $ids ): int => count( array_diff_key( array_flip( array_map( 'strval', (array) $ids ) ), $in_table ) );
		$taken                 = $stored[ self::REGISTERED ] + $only( $buffered[ self::REGISTERED ] ?? array() );
		$waiting               = $stored[ self::WAITLISTED ] + $only( $buffered[ self::WAITLISTED ] ?? array() );
		// Owed promotions are seats Redis gave to registrations still waitlisted in the table or the buffer.
		$owed    = min( self::owed( $event_id ), $waiting );
		$taken  += $owed;
		$waiting = $waiting - $owed;
		$filled  = min( max( 0, $seats['capacity'] - $taken ), $waiting );
		return array(
			'taken'   => $taken + $filled,
			'waiting' => $waiting - $filled,
			'owed'    => $owed,
			'filled'  => $filled,
		);
	}

	/**
	 * Runs $read inside a read-only transaction with a consistent snapshot (REPEATABLE READ, whatever the session's
	 * default): every SELECT in it sees the same committed state.
	 *
	 * @return mixed what $read returned.
	 * @throws \RuntimeException when the snapshot cannot be started (the caller answers 503).
	 */
	private static function in_one_snapshot( callable $read ) {
		global $wpdb;
		if ( false === $wpdb->query( 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ' ) || false === $wpdb->query( 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY' ) ) {
			throw new \RuntimeException( 'MySQL refused a consistent snapshot: ' . esc_html( $wpdb->last_error ) );
		}
		try {
			return $read();
		} finally {
			$wpdb->query( 'COMMIT' );
		}
	}

	/**
	 * seed() under the event's lock.
	 *
	 * @return array{taken:int, waiting:int, seeded:bool}|WP_Error
	 */
	private static function seed_locked( int $event_id ) {
		$seats = self::capacity( $event_id );
		if ( null === $seats ) {
			return self::no_capacity( $event_id );
		}
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			return self::unavailable( null );
		}
		try {
			$known = Reg_Buffer_Bridge::seats( $event_id );
			if ( ! empty( $known['known'] ) ) {
				return array(
					'taken'   => (int) $known['taken'],
					'waiting' => (int) $known['waiting'],
					'seeded'  => false,
				);
			}
			// No flush run may be between its claim and its commit while the event is counted: a batch claimed from a
			// Redis that has since lost it is in neither the table nor the buffer until it commits.
			$flush = new Reg_Buffer_Flush_Lock();
			if ( ! $flush->acquire_waiting( self::FLUSH_WAIT ) ) {
				return self::unavailable( null );
			}
			try {
				$count  = self::count( $event_id, $seats );
				$seeded = Reg_Buffer_Bridge::seats_seed( $event_id, $count['taken'], $count['waiting'] );
			} finally {
				$flush->release();
			}
		} catch ( \Throwable $e ) {
			return self::unavailable( $e );
		}
		if ( $seeded ) {
			// Only once Redis holds the count: owed promotions above what Redis gave would sell a seat twice.
			self::change_option( self::OWED_OPTION, $event_id, $count['owed'] + $count['filled'] );
			if ( $count['owed'] + $count['filled'] > 0 ) {
				self::apply_promotions_locked( $event_id );
			}
		}
		return array(
			'taken'   => $count['taken'],
			'waiting' => $count['waiting'],
			'seeded'  => $seeded,
		);
	}

	/**
	 * recount() under the event's lock; a count established clears the event's stale mark.
	 *
	 * @return array{taken:int, waiting:int}|WP_Error
	 */
	private static function recount_locked( int $event_id ) {
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			return self::unavailable( null );
		}
		try {
			Reg_Buffer_Bridge::seats_forget( $event_id );
		} catch ( \Throwable $e ) {
			return self::unavailable( $e );
		}
		$seeded = self::seed_locked( $event_id );
		if ( is_wp_error( $seeded ) ) {
			return $seeded;
		}
		self::change_option( self::STALE_OPTION, $event_id, null );
		self::changed();
		return array(
			'taken'   => $seeded['taken'],
			'waiting' => $seeded['waiting'],
		);
	}

	/**
	 * A raised capacity's new seats go to the waiting first (Redis counts them as taken at once; the rows are promoted
	 * as they are stored).
	 *
	 * @return int|WP_Error how many were given a seat.
	 */
	private static function promote_into_new_seats( int $event_id, int $capacity ) {
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			return self::unavailable( null );
		}
		try {
			$promoted = Reg_Buffer_Bridge::seats_promote( $event_id, $capacity );
		} catch ( \Throwable $e ) {
			return self::unavailable( $e );
		}
		if ( null === $promoted ) {
			return 0; // No valid count: the seed that makes one gives free seats to the waiting (count()).
		}
		if ( $promoted > 0 ) {
			self::change_option( self::OWED_OPTION, $event_id, self::owed( $event_id ) + $promoted );
			self::apply_promotions_locked( $event_id );
		}
		return $promoted;
	}

	/**
	 * release() under the event's lock.
	 *
	 * @return array{release:string, promoted:string[]}
	 */
	private static function release_locked( int $event_id, bool $waitlisted ): array {
		$release = null;
		if ( Reg_Buffer_Bridge::is_loaded() ) {
			try {
				$release = Reg_Buffer_Bridge::seat_release( $event_id, $waitlisted, self::capacity( $event_id )['capacity'] ?? null );
			} catch ( \Throwable $e ) {
				Reg_Buffer_Registrar::report_error( 'connection', $e, array( 'event_id' => $event_id ) );
			}
		}
		if ( null === $release ) {
			self::mark_stale( $event_id );
			$release = 'unknown';
		}
		$promoted = array();
		if ( 'unknown' === $release && ! $waitlisted && self::stored_counts( $event_id )[ self::WAITLISTED ] > self::owed( $event_id ) ) {
			// Redis did not count it (no extension, unreachable, count lost): the table decides, and the stale mark
			// makes Redis count it again. The freed seat is the oldest waiter's, not the next newcomer's.
			$release = 'promote';
		}
		if ( 'promote' === $release ) {
			self::change_option( self::OWED_OPTION, $event_id, self::owed( $event_id ) + 1 );
			$promoted = self::apply_promotions_locked( $event_id );
		}
		return array(
			'release'  => $release,
			'promoted' => $promoted,
		);
	}

	/**
	 * apply_promotions() under the event's lock: the rows and the owed count change in one transaction.
	 *
	 * @return string[]
	 */
	private static function apply_promotions_locked( int $event_id ): array {
		global $wpdb;
		$owed = self::owed( $event_id );
		if ( $owed <= 0 ) {
			return array();
		}
		$table = Reg_Buffer_Store::table();
		if ( false === $wpdb->query( 'START TRANSACTION' ) ) {
			return array();
		}
		$ids   = $wpdb->get_col( $wpdb->prepare( "SELECT registration_id FROM {$table} WHERE event_id = %d AND status = %s ORDER BY registered_at, registration_id LIMIT %d FOR UPDATE", $event_id, self::WAITLISTED, $owed ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
		$older = self::oldest_waiting_in_buffer( $event_id );
		if ( null === $older ) {
			$ids = array(); // The buffer cannot be read: an older waiter may be there; the flush promotes later.
		} elseif ( '' !== $older ) {
			// A waiter still buffered that is older than a row here comes first: the seat stays owed until it is stored.
			$ids = array_values( array_filter( $ids, static fn( $id ) => strcmp( (string) $id, $older ) < 0 ) );
		}
		if ( array() === $ids ) {
			$wpdb->query( 'ROLLBACK' );
			return array(); // Still buffered: the flush promotes them once stored.
		}
		$in      = implode( ',', array_fill( 0, count( $ids ), '%s' ) );
		$updated = $wpdb->query( $wpdb->prepare( "UPDATE {$table} SET status = %s WHERE status = %s AND registration_id IN ({$in})", array_merge( array( self::REGISTERED, self::WAITLISTED ), $ids ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare,WordPress.DB.PreparedSQLPlaceholders.ReplacementsWrongNumber -- $table is the plugin's own table name, $in one %s per id, all in one array.
		if ( count( $ids ) !== $updated || ! self::change_option( self::OWED_OPTION, $event_id, $owed - count( $ids ) ) || false === $wpdb->query( 'COMMIT' ) ) {
			$wpdb->query( 'ROLLBACK' );
			self::forget_cached( self::OWED_OPTION );
			return array();
		}
		foreach ( $ids as $id ) {
			/**
			 * Fires when a waitlisted registration got a seat (a cancellation freed one, or the capacity was raised).
			 *
			 * @param string $registration_id the registration, now registered.
			 * @param int    $event_id        its event.
			 */
			do_action( 'reg_buffer_promoted', $id, $event_id );
		}
		return $ids;
	}

	/**
	 * The id of the oldest waitlisted registration of the event still buffered and not yet in the table ('' for
	 * none; ids are ordered by time), or null when the buffer cannot be read. Without the extension the table is
	 * all this process can see ('').
	 */
	private static function oldest_waiting_in_buffer( int $event_id ): ?string {
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			return '';
		}
		try {
			$waiting = array_map( 'strval', (array) ( Reg_Buffer_Bridge::seats_buffered( $event_id )[ self::WAITLISTED ] ?? array() ) );
		} catch ( \Throwable $e ) {
			return null;
		}
		$waiting = array_diff( $waiting, self::ids_in_table( $waiting ) );
		sort( $waiting, SORT_STRING );
		return $waiting[0] ?? '';
	}

	/**
	 * The event's rows by status: registered and waitlisted (cancelled ones hold no seat).
	 *
	 * @return array{registered:int, waitlisted:int}
	 */
	private static function stored_counts( int $event_id ): array {
		global $wpdb;
		$counts = array(
			self::REGISTERED => 0,
			self::WAITLISTED => 0,
		);
		// The table's rows, and the set-aside ones: a registration set aside by the flush keeps its place until purged.
		foreach ( array( Reg_Buffer_Store::table(), Reg_Buffer_Set_Aside::table() ) as $table ) {
			$rows = $wpdb->get_results( $wpdb->prepare( "SELECT status, COUNT(*) AS n FROM {$table} WHERE event_id = %d AND status IN (%s, %s) GROUP BY status", $event_id, self::REGISTERED, self::WAITLISTED ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is one of the plugin's own table names.
			foreach ( (array) $rows as $row ) {
				$counts[ $row['status'] ] += (int) $row['n'];
			}
		}
		return $counts;
	}


	/**
	 * Which of $ids the table holds (any status).
	 *
	 * @param string[] $ids registration ids.
	 * @return string[]
	 */
	private static function ids_in_table( array $ids ): array {
		global $wpdb;
		$found = array();
		foreach ( array( Reg_Buffer_Store::table(), Reg_Buffer_Set_Aside::table() ) as $table ) {
			foreach ( array_chunk( array_values( array_unique( array_map( 'strval', $ids ) ) ), 1000 ) as $chunk ) {
				$in    = implode( ',', array_fill( 0, count( $chunk ), '%s' ) );
				$found = array_merge( $found, $wpdb->get_col( $wpdb->prepare( "SELECT registration_id FROM {$table} WHERE registration_id IN ({$in})", $chunk ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare -- $table is one of the plugin's own table names, $in one %s per id.
			}
		}
		return array_values( array_unique( $found ) );
	}


	/**
	 * The event of a stored registration, or null.
	 */
	private static function event_of( string $registration_id ): ?int {
		global $wpdb;
		$table = Reg_Buffer_Store::table();
		$event = $wpdb->get_var( $wpdb->prepare( "SELECT event_id FROM {$table} WHERE registration_id = %s", $registration_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
		return null === $event ? null : (int) $event;
	}

	/**
	 * Why a registration not in the table cannot be cancelled: still buffered for an event with a capacity (409),
	 * else unknown (404; one buffered for an unlimited event is not looked for).
	 */
	private static function not_stored( string $registration_id ): WP_Error {
		if ( Reg_Buffer_Bridge::is_loaded() ) {
			foreach ( array_keys( self::all() ) as $event_id ) {
				try {
					$buffered = Reg_Buffer_Bridge::seats_buffered( $event_id );
				} catch ( \Throwable $e ) {
					break;
				}
				if ( in_array( $registration_id, array_merge( (array) ( $buffered[ self::REGISTERED ] ?? array() ), (array) ( $buffered[ self::WAITLISTED ] ?? array() ) ), true ) ) {
					return new WP_Error( 'reg_buffer_not_stored_yet', __( 'This registration is still buffered: flush first, then cancel it.', 'reg-buffer' ), array( 'status' => 409 ) );
				}
			}
		}
		return new WP_Error( 'reg_buffer_not_found', __( 'No stored registration has this id (one still buffered must be flushed first).', 'reg-buffer' ), array( 'status' => 404 ) );
	}

	// ------------------------------------------------------------------------------------------------ options and locks

	/**
	 * Promotions owed to the event's waitlisted registrations (read fresh: other processes change it).
	 */
	private static function owed( int $event_id ): int {
		return max( 0, (int) ( self::fresh_option( self::OWED_OPTION )[ $event_id ] ?? 0 ) );
	}

	/**
	 * The stale marks as this request loaded them (autoloaded; a mark set by another process mid-request is seen
	 * by the next one, and the lock-taking paths read it fresh).
	 *
	 * @return array<int,int>
	 */
	private static function stale_marks_now(): array {
		global $wpdb;
		$value = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::STALE_OPTION ) );
		$marks = null === $value ? array() : maybe_unserialize( $value );
		return is_array( $marks ) ? $marks : array();
	}

	/**
	 * The stale marks as this request loaded them (for reading; a booking asks stale_marks_now()).
	 *
	 * @return array<int,int>
	 */
	private static function stale_marks(): array {
		$marks = get_option( self::STALE_OPTION, array() );
		return is_array( $marks ) ? $marks : array();
	}

	/**
	 * Marks the event's Redis count stale and tells the intake; call under the event's lock.
	 */
	private static function mark_stale( int $event_id ): bool {
		$ok = self::change_option( self::STALE_OPTION, $event_id, time() );
		self::changed();
		return $ok;
	}

	/**
	 * Forgets Redis's count of an event, when Redis answers (best effort: a capacity set again recounts anyway).
	 */
	private static function forget_count( int $event_id ): void {
		if ( Reg_Buffer_Bridge::is_loaded() ) {
			try {
				Reg_Buffer_Bridge::seats_forget( $event_id );
			} catch ( \Throwable $e ) {
				unset( $e );
			}
		}
	}

	/**
	 * The fast intake books from its config file (capacities, stale list): write it again when it is in use.
	 */
	private static function changed(): void {
		if ( false !== get_option( Reg_Buffer_Plugin::INTAKE_CONFIG_OPTION, false ) ) {
			Reg_Buffer_Intake::maintain_config();
		}
	}

	/**
	 * Sets (or with null removes) one event's entry of one of the options, read fresh and written under the site's
	 * seats lock, so that two processes changing different events both keep their change.
	 *
	 * @param string $option   one of the option constants.
	 * @param int    $event_id event.
	 * @param mixed  $value    the entry, or null to remove it.
	 */
	private static function change_option( string $option, int $event_id, $value ): bool {
		return true === self::with_lock(
			'reg_buffer_seats_' . get_current_blog_id(),
			static function () use ( $option, $event_id, $value ) {
				$map = self::fresh_option( $option );
				if ( null === $value || ( self::OWED_OPTION === $option && (int) $value <= 0 ) ) {
					unset( $map[ $event_id ] );
				} else {
					$map[ $event_id ] = $value;
				}
				return self::write_option( $option, $map );
			}
		);
	}

	/**
	 * An option as the database has it now, not as this request cached it.
	 */
	private static function fresh_option( string $option ): array {
		self::forget_cached( $option );
		$value = get_option( $option, array() );
		return is_array( $value ) ? $value : array();
	}

	/**
	 * Writes an option with one statement (also inside a caller's transaction), autoloaded but the owed promotions.
	 */
	private static function write_option( string $option, array $map ): bool {
		global $wpdb;
		$ok = false !== $wpdb->query( $wpdb->prepare( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, %s) ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)", $option, maybe_serialize( $map ), self::OWED_OPTION === $option ? 'no' : 'yes' ) );
		self::forget_cached( $option );
		return $ok;
	}

	/**
	 * Drops what the object cache holds of an option, so that get_option() reads it again.
	 */
	private static function forget_cached( string $option ): void {
		wp_cache_delete( $option, 'options' );
		wp_cache_delete( 'alloptions', 'options' );
		wp_cache_delete( 'notoptions', 'options' );
	}

	/**
	 * Runs $work under the event's lock (reg_buffer_seats_<blog>_<event>).
	 *
	 * @return mixed what $work returned, or WP_Error 503 when the lock could not be had in LOCK_WAIT seconds.
	 */
	private static function locked( int $event_id, callable $work ) {
		return self::with_lock( 'reg_buffer_seats_' . get_current_blog_id() . '_' . $event_id, $work );
	}

	/**
	 * Runs $work under a MySQL named lock of wpdb's session; re-entrant within the request.
	 *
	 * @param string   $name lock name.
	 * @param callable $work what to run.
	 * @return mixed
	 */
	private static function with_lock( string $name, callable $work ) {
		global $wpdb;
		if ( isset( self::$held[ $name ] ) ) {
			++self::$held[ $name ];
		} elseif ( '1' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', $name, self::LOCK_WAIT ) ) ) {
			self::$held[ $name ] = 1;
		} else {
			return new WP_Error( 'reg_buffer_unavailable', __( 'The registration could not be stored; please try again.', 'reg-buffer' ), array( 'status' => 503 ) );
		}
		try {
			return $work();
		} finally {
			if ( 0 === --self::$held[ $name ] ) {
				unset( self::$held[ $name ] );
				$wpdb->get_var( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $name ) );
			}
		}
	}

	/**
	 * 503: the count of seats could not be had (Redis unreachable, or no extension to ask it): nothing is booked.
	 *
	 * @param \Throwable|null $cause why.
	 */
	private static function unavailable( ?\Throwable $cause ): WP_Error {
		if ( null !== $cause ) {
			Reg_Buffer_Registrar::report_error( 'connection', $cause, array( 'step' => 'seats' ) );
		}
		return new WP_Error( 'reg_buffer_unavailable', __( 'The registration could not be stored; please try again.', 'reg-buffer' ), array( 'status' => 503 ) );
	}

	/**
	 * 404 for an event without a capacity.
	 */
	private static function no_capacity( int $event_id ): WP_Error {
		/* translators: %d: event id */
		return new WP_Error( 'reg_buffer_no_capacity', sprintf( __( 'Event %d has no capacity.', 'reg-buffer' ), $event_id ), array( 'status' => 404 ) );
	}
}
