<?php
/**
 * Owns taking one registration: push it to the buffer, or write it directly when the buffer cannot take it.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The one path every source (action, function, REST, source hooks, WP-CLI) goes through.
 */
final class Reg_Buffer_Registrar {

	/**
	 * Takes a registration.
	 *
	 * @param mixed       $event_id     event id (> 0).
	 * @param mixed       $registration fields.
	 * @param string|null $unique_key   e.g. the attendee's e-mail; a second registration with it is a duplicate.
	 * @return Reg_Buffer_Outcome|WP_Error WP_Error 422 when invalid, 409 reg_buffer_sold_out (an event with a
	 *                                     capacity, every seat taken, no waitlist), 503 when neither Redis nor MySQL
	 *                                     took it (or the seats of an event with a capacity could not be counted).
	 */
	public static function register( $event_id, $registration, $unique_key = null ) {
		$outcome = self::take( $event_id, $registration, $unique_key );
		/**
		 * Fires with the outcome of every registration taken (action, function, REST, source hooks).
		 *
		 * @param Reg_Buffer_Outcome|WP_Error $outcome      buffered | stored | duplicate, or the error.
		 * @param mixed                       $event_id     event.
		 * @param mixed                       $unique_key   unique key.
		 * @param mixed                       $registration fields.
		 */
		do_action( 'reg_buffer_registered', $outcome, $event_id, $unique_key, $registration );
		return $outcome;
	}

	/**
	 * Pushes, or falls back to a direct write.
	 *
	 * @return Reg_Buffer_Outcome|WP_Error
	 */
	private static function take( $event_id, $registration, $unique_key ) {
		if ( is_string( $event_id ) && ctype_digit( $event_id ) ) {
			$event_id = (int) $event_id; // Hook arguments and form fields often carry ids as strings.
		}
		$valid = Reg_Buffer_Registration::check_identity( $event_id, $unique_key );
		if ( is_wp_error( $valid ) ) {
			return $valid;
		}
		// The one set of rules (Reg_Buffer_Registration_Rules), before either path: what the buffer would take, the
		// direct write takes, and nothing is accepted that the table would refuse or merge at flush.
		$valid = Reg_Buffer_Registration::check_fields( $registration );
		if ( is_wp_error( $valid ) ) {
			return $valid;
		}

		// The table knows keys the buffer may not: one written directly while Redis was down or buffering was
		// disabled, or one whose marker outlived reg_buffer.dedupe_ttl. Such a key is a duplicate now, not a 201 that
		// the flush would have to set aside.
		if ( null !== $unique_key && Reg_Buffer_Store::has_unique_key( $event_id, $unique_key ) ) {
			return new Reg_Buffer_Outcome( Reg_Buffer_Outcome::DUPLICATE );
		}
		$seats = Reg_Buffer_Seats::capacity( $event_id );
		if ( null !== $seats ) {
			return self::book( $event_id, $registration, $unique_key, $seats );
		}
		if ( ! Reg_Buffer_Bridge::is_available() ) {
			return self::store_directly( $event_id, $registration, $unique_key, null, Reg_Buffer_Bridge::is_loaded() ? 'disabled' : 'extension_not_loaded', null );
		}
		try {
			$registration_id = Reg_Buffer_Bridge::push( $event_id, $registration, $unique_key );
		} catch ( \ValueError | \TypeError $e ) {
			return Reg_Buffer_Registration::invalid( $e->getMessage() );
		} catch ( \RegBuffer\CapacityException $e ) {
			return self::store_directly( $event_id, $registration, $unique_key, $e->getRegistrationId(), 'capacity', $e );
		} catch ( \RegBuffer\Exception $e ) {
			// Connection lost or timed out: the push may have reached Redis. Reusing its id makes the flush
			// recognise that copy as this same registration.
			return self::store_directly( $event_id, $registration, $unique_key, $e->getRegistrationId(), 'connection', $e );
		}
		if ( false === $registration_id ) {
			return new Reg_Buffer_Outcome( Reg_Buffer_Outcome::DUPLICATE );
		}
		return new Reg_Buffer_Outcome( Reg_Buffer_Outcome::BUFFERED, $registration_id );
	}

	/**
	 * Takes a registration of an event with a capacity: a seat and the buffer in one round trip (Redis counts the
	 * seats), or a seat then a direct write when the buffer cannot take it. With Redis unreachable it is refused:
	 * the buffered registrations cannot be counted then, and a count of the table alone could sell a seat twice.
	 *
	 * @param int         $event_id     event.
	 * @param array       $registration fields.
	 * @param string|null $unique_key   dedupe key.
	 * @param array       $seats        Reg_Buffer_Seats::capacity( $event_id ).
	 * @return Reg_Buffer_Outcome|WP_Error 409 reg_buffer_sold_out, 503 when the seats cannot be counted.
	 */
	private static function book( int $event_id, array $registration, ?string $unique_key, array $seats ) {
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			// No Redis to count with: the table is counted under the event's lock, and Redis's count recounted later.
			return Reg_Buffer_Seats::book_in_table(
				$event_id,
				$seats,
				static fn( string $seat, int $remaining ) => self::store_directly( $event_id, $registration, $unique_key, null, 'extension_not_loaded', null, $seat, $remaining )
			);
		}
		if ( ! Reg_Buffer_Bridge::is_available() ) {
			return self::store_with_seat( $event_id, $registration, $unique_key, $seats, null, 'disabled', null );
		}
		$ready = Reg_Buffer_Seats::refresh_if_stale( $event_id );
		if ( is_wp_error( $ready ) ) {
			return $ready;
		}
		for ( $attempt = 0; ; ++$attempt ) {
			try {
				$booked = Reg_Buffer_Bridge::book( $event_id, $registration, $seats, $unique_key );
				break;
			} catch ( \RegBuffer\SeatsUnknownException $e ) {
				// Redis has no valid count (first use, or it lost its data): count the table and the buffer, book again.
				$seeded = 0 === $attempt ? Reg_Buffer_Seats::seed( $event_id ) : self::refused( $event_id, $e );
				if ( is_wp_error( $seeded ) ) {
					return $seeded;
				}
			} catch ( \RegBuffer\SoldOutException $e ) {
				return Reg_Buffer_Seats::sold_out();
			} catch ( \ValueError | \TypeError $e ) {
				return Reg_Buffer_Registration::invalid( $e->getMessage() );
			} catch ( \RegBuffer\CapacityException $e ) {
				return self::store_with_seat( $event_id, $registration, $unique_key, $seats, $e->getRegistrationId(), 'capacity', $e );
			} catch ( \RegBuffer\Exception $e ) {
				return self::refused( $event_id, $e );
			}
		}
		if ( 'duplicate' === $booked['status'] ) {
			return new Reg_Buffer_Outcome( Reg_Buffer_Outcome::DUPLICATE );
		}
		return new Reg_Buffer_Outcome( Reg_Buffer_Outcome::BUFFERED, (string) $booked['id'], null, (string) $booked['status'], (int) $booked['remaining'] );
	}

	/**
	 * Takes a seat in Redis, then writes the registration directly with that seat's status; gives the seat back
	 * when the write did not keep it.
	 *
	 * @param int             $event_id        event.
	 * @param array           $registration    fields.
	 * @param string|null     $unique_key      dedupe key.
	 * @param array           $seats           the event's capacity.
	 * @param string|null     $registration_id id the failed booking tried, if any.
	 * @param string          $reason          why the buffer was not used (capacity, disabled).
	 * @param \Throwable|null $cause           the extension's exception, if any.
	 * @return Reg_Buffer_Outcome|WP_Error
	 */
	private static function store_with_seat( int $event_id, array $registration, ?string $unique_key, array $seats, ?string $registration_id, string $reason, ?\Throwable $cause ) {
		$seat = Reg_Buffer_Seats::take_seat( $event_id, $seats );
		if ( is_wp_error( $seat ) ) {
			return $seat;
		}
		$outcome = self::store_directly( $event_id, $registration, $unique_key, $registration_id, $reason, $cause, (string) $seat['status'], (int) $seat['remaining'] );
		if ( ! $outcome instanceof Reg_Buffer_Outcome || ! $outcome->is_accepted() ) {
			Reg_Buffer_Seats::release( $event_id, Reg_Buffer_Seats::WAITLISTED === $seat['status'] );
		}
		return $outcome;
	}

	/**
	 * A booking refused because Redis could not be used: 503, reg_buffer_outcome_unknown with the id when the
	 * booking may have reached Redis (then the flush stores it), else reg_buffer_unavailable. Nothing is written.
	 *
	 * @param int        $event_id event.
	 * @param \Throwable $cause    the extension's exception.
	 */
	private static function refused( int $event_id, \Throwable $cause ): WP_Error {
		$registration_id = $cause instanceof \RegBuffer\Exception ? $cause->getRegistrationId() : null;
		self::report_error(
			'connection',
			$cause,
			array(
				'event_id'        => $event_id,
				'registration_id' => $registration_id,
			)
		);
		if ( null !== $registration_id ) {
			return self::outcome_unknown( $registration_id );
		}
		return new WP_Error( 'reg_buffer_unavailable', __( 'The registration could not be stored; please try again.', 'reg-buffer' ), array( 'status' => 503 ) );
	}

	/**
	 * Writes one registration straight to MySQL through the flush's insert, counts it and reports it.
	 *
	 * @param int             $event_id        event.
	 * @param array           $registration    fields.
	 * @param string|null     $unique_key      dedupe key.
	 * @param string|null     $registration_id id the failed push tried, if any.
	 * @param string          $reason          why the buffer was not used.
	 * @param \Throwable|null $cause           the extension's exception, if any.
	 * @param string|null     $seat            for an event with a capacity: the seat taken (registered | waitlisted).
	 * @param int|null        $remaining       for an event with a capacity: places left.
	 * @return Reg_Buffer_Outcome|WP_Error
	 */
	private static function store_directly( int $event_id, array $registration, ?string $unique_key, ?string $registration_id, string $reason, ?\Throwable $cause, ?string $seat = null, ?int $remaining = null ) {
		$json = Reg_Buffer_Registration::encode( $registration );
		if ( is_wp_error( $json ) ) {
			return $json;
		}
		$registration_id = $registration_id ?? Reg_Buffer_Registration::new_id();
		self::report_error(
			$reason,
			$cause,
			array(
				'event_id'        => $event_id,
				'registration_id' => $registration_id,
			)
		);

		$inserted = Reg_Buffer_Store::insert(
			array(
				array(
					'id'            => $registration_id,
					'event_id'      => $event_id,
					'registered_at' => microtime( true ),
					'unique_key'    => $unique_key,
					'data'          => $registration,
					'json'          => $json,
					'status'        => $seat ?? Reg_Buffer_Seats::REGISTERED,
				),
			)
		);
		if ( is_wp_error( $inserted ) ) {
			// Neither Redis nor MySQL took it: the caller must hear it (REST answers 503).
			self::report_error(
				'mysql',
				null,
				array(
					'event_id'        => $event_id,
					'registration_id' => $registration_id,
					'error'           => $inserted->get_error_message(),
				)
			);
			if ( 'connection' === $reason ) {
				// The push may have reached Redis before its connection broke: then the flush stores it. The caller
				// must not hear "try again" (a retry would register it twice), but that it may have been received.
				return self::outcome_unknown( $registration_id );
			}
			return new WP_Error( 'reg_buffer_unavailable', __( 'The registration could not be stored; please try again.', 'reg-buffer' ), array( 'status' => 503 ) );
		}
		Reg_Buffer_Status::count_fallback( $reason );
		if ( 0 === $inserted && ! Reg_Buffer_Store::has_registration( $registration_id ) ) {
			return new Reg_Buffer_Outcome( Reg_Buffer_Outcome::DUPLICATE, null, $reason );
		}
		return new Reg_Buffer_Outcome( Reg_Buffer_Outcome::STORED, $registration_id, $reason, $seat, $remaining );
	}

	/**
	 * The answer to a registration whose push may have reached Redis: not "try again" (a retry would register it
	 * twice), but that it may have been received, under $registration_id.
	 */
	private static function outcome_unknown( ?string $registration_id ): WP_Error {
		return new WP_Error(
			'reg_buffer_outcome_unknown',
			__( 'The registration may have been received; do not register again without checking.', 'reg-buffer' ),
			array(
				'status'          => 503,
				'registration_id' => $registration_id,
			)
		);
	}

	/**
	 * Logs a problem and fires `reg_buffer_error`, so monitoring can hook in.
	 *
	 * @param string          $code    what went wrong: extension_not_loaded, disabled, connection, capacity, mysql, flush, rejected, set_aside.
	 * @param \Throwable|null $cause   exception, if any.
	 * @param array           $context details.
	 */
	public static function report_error( string $code, ?\Throwable $cause, array $context = array() ): void {
		static $logged = array();
		// Expected modes are not worth a log line; failures are, once per kind per request: during an outage
		// every registration falls back, and a line for each would flood the log. The action fires every time.
		if ( 'extension_not_loaded' !== $code && 'disabled' !== $code && ! isset( $logged[ $code ] ) ) {
			$logged[ $code ] = true;
			error_log( sprintf( 'reg_buffer: %s%s %s', $code, $cause ? ' (' . $cause->getMessage() . ')' : '', wp_json_encode( $context ) ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
		}
		/**
		 * Fires when the buffer could not be used or a flush failed.
		 *
		 * @param string          $code    extension_not_loaded | disabled | connection | capacity | mysql | flush | rejected | set_aside.
		 * @param \Throwable|null $cause   the exception, if any.
		 * @param array           $context event_id, registration_id, batch, error …
		 */
		do_action( 'reg_buffer_error', $code, $cause, $context );
	}
}
