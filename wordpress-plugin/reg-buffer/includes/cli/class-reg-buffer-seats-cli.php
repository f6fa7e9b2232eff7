<?php
/**
 * Owns what `wp reg-buffer seats` and `wp reg-buffer cancel` do (their docblocks are on Reg_Buffer_CLI, where WP-CLI
 * reads them): the seats of events with a capacity, in the operator's words, over Reg_Buffer_Seats.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Lists, sets, removes and recounts event capacities, and cancels registrations.
 */
final class Reg_Buffer_Seats_CLI {

	/** The columns of `seats list`: Reg_Buffer_Seats::summary()'s figures. */
	const FIELDS = array( 'event_id', 'capacity', 'waitlist', 'taken', 'waiting', 'remaining', 'known', 'stored', 'stored_waiting' );

	/**
	 * `wp reg-buffer seats [list|set|unset|recount] [<event>]`.
	 *
	 * @param array $args       action, event.
	 * @param array $assoc_args capacity, waitlist, format.
	 */
	public static function seats( array $args, array $assoc_args ): void {
		$action = (string) ( $args[0] ?? 'list' );
		if ( 'list' === $action ) {
			if ( isset( $args[1] ) ) {
				WP_CLI::error( sprintf( 'list takes no event (it lists them all), not \'%s\'.', $args[1] ) );
			}
			self::show( (string) ( $assoc_args['format'] ?? 'table' ) );
			return;
		}
		if ( ! in_array( $action, array( 'set', 'unset', 'recount' ), true ) ) {
			WP_CLI::error( sprintf( 'Unknown action \'%s\': use list, set, unset or recount.', $action ) );
		}
		if ( ! isset( $args[1] ) ) {
			WP_CLI::error( sprintf( 'Name the event: wp reg-buffer seats %s <event>%s.', $action, 'set' === $action ? ' --capacity=<number>' : '' ) );
		}
		$event_id = self::whole_number( (string) $args[1], 1, 'The event' );
		if ( 'set' === $action ) {
			self::set( $event_id, $assoc_args );
		} elseif ( 'unset' === $action ) {
			self::remove( $event_id );
		} else {
			self::recount( $event_id );
		}
	}

	/**
	 * `wp reg-buffer cancel <registration-id>`.
	 *
	 * @param string $registration_id the registration's id.
	 */
	public static function cancel( string $registration_id ): void {
		$result = Reg_Buffer_Seats::cancel( $registration_id );
		if ( is_wp_error( $result ) ) {
			WP_CLI::error( $result->get_error_message() );
		}
		$event    = (int) $result['event_id'];
		$promoted = array_map( 'strval', (array) ( $result['promoted'] ?? array() ) );
		$what     = sprintf( 'Registration %s of event %d cancelled', $registration_id, $event );
		switch ( $result['release'] ?? '' ) {
			case 'freed':
				$what .= ': its seat is free again';
				break;
			case 'promote':
				$what .= array() === $promoted
					? ': its seat goes to the oldest registration on the waitlist once that one is stored'
					: sprintf( ': its seat went to %s from the waitlist', implode( ', ', $promoted ) );
				break;
			case 'unlisted':
				$what .= ': it was on the waitlist';
				break;
			case 'unknown':
				$what .= sprintf( '. Redis did not know how many seats event %d has taken: they are counted again from MySQL, which already leaves this one out', $event );
				break;
		}
		$left = Reg_Buffer_Seats::remaining( $event );
		WP_CLI::success( $what . ( null === $left ? '.' : sprintf( ' (%s left).', self::places( $left ) ) ) );
	}

	/**
	 * Prints every event with a capacity. Table and CSV say yes/no; JSON and YAML keep the report's types.
	 *
	 * @param string $format table, csv, json or yaml.
	 */
	private static function show( string $format ): void {
		$rows    = array();
		$unknown = array();
		foreach ( array_keys( Reg_Buffer_Seats::all() ) as $event_id ) {
			$summary = self::summary( (int) $event_id );
			$row     = array();
			foreach ( self::FIELDS as $field ) {
				$value         = $summary[ $field ] ?? null;
				$row[ $field ] = is_bool( $value ) && in_array( $format, array( 'table', 'csv' ), true ) ? ( $value ? 'yes' : 'no' ) : $value;
			}
			$rows[] = $row;
			if ( empty( $summary['known'] ) ) {
				$unknown[] = (int) $event_id;
			}
		}
		if ( array() === $rows && 'table' === $format ) {
			WP_CLI::success( 'No event has a capacity: each takes registrations without limit. Give one a capacity with `wp reg-buffer seats set <event> --capacity=<number>`.' );
			return;
		}
		WP_CLI\Utils\format_items( $format, $rows, self::FIELDS );
		if ( array() !== $unknown && 'table' === $format ) {
			WP_CLI::warning( sprintf( 'Redis does not know the count of event %s yet: it is counted from MySQL at the next booking (or now with `wp reg-buffer seats recount <event>`).', implode( ', ', $unknown ) ) );
		}
	}

	/**
	 * `seats set <event> --capacity=<n> [--waitlist]`.
	 *
	 * @param int   $event_id   the event.
	 * @param array $assoc_args capacity, waitlist.
	 */
	private static function set( int $event_id, array $assoc_args ): void {
		if ( ! isset( $assoc_args['capacity'] ) || true === $assoc_args['capacity'] ) {
			WP_CLI::error( sprintf( 'Say how many may register: wp reg-buffer seats set %d --capacity=<number> [--waitlist].', $event_id ) );
		}
		$capacity = self::whole_number( (string) $assoc_args['capacity'], 0, '--capacity' );
		$waitlist = ! empty( $assoc_args['waitlist'] );
		$result   = Reg_Buffer_Seats::set_capacity( $event_id, $capacity, $waitlist );
		if ( is_wp_error( $result ) ) {
			WP_CLI::error( $result->get_error_message() );
		}
		$summary = self::summary( $event_id );
		WP_CLI::success(
			sprintf(
				'Event %d takes %s, %s. %s',
				$event_id,
				Reg_Buffer_CLI::count_of( $capacity, 'registration', 'registrations' ),
				$waitlist ? 'then a waitlist' : 'no more (no waitlist)',
				self::figures( $summary )
			)
		);
	}

	/**
	 * `seats unset <event>`: unlimited again. An event without a capacity has nothing to remove: said, not an error.
	 *
	 * @param int $event_id the event.
	 */
	private static function remove( int $event_id ): void {
		if ( null === Reg_Buffer_Seats::capacity( $event_id ) ) {
			WP_CLI::success( sprintf( 'Event %d has no capacity: nothing to remove.', $event_id ) );
			return;
		}
		$result = Reg_Buffer_Seats::set_capacity( $event_id, null );
		if ( is_wp_error( $result ) ) {
			WP_CLI::error( $result->get_error_message() );
		}
		WP_CLI::success( sprintf( 'Event %d has no capacity any more: it takes registrations without limit.', $event_id ) );
	}

	/**
	 * `seats recount <event>`: Redis forgets its count and counts again from MySQL and what it still buffers.
	 *
	 * @param int $event_id the event.
	 */
	private static function recount( int $event_id ): void {
		Reg_Buffer_CLI::require_extension(); // The count is Redis's: without the extension there is none to redo.
		if ( null === Reg_Buffer_Seats::capacity( $event_id ) ) {
			WP_CLI::error( sprintf( 'Event %d has no capacity: there is no count to redo. Give it one with `wp reg-buffer seats set %d --capacity=<number>`.', $event_id, $event_id ) );
		}
		$result = Reg_Buffer_Seats::recount( $event_id );
		if ( is_wp_error( $result ) ) {
			WP_CLI::error( $result->get_error_message() );
		}
		WP_CLI::success( sprintf( 'Event %d recounted: %s.', $event_id, self::figures( self::summary( $event_id ) ) ) );
	}

	/**
	 * Reg_Buffer_Seats::summary(); stops with an error when it cannot be read (Redis unreachable).
	 *
	 * @param int $event_id an event with a capacity.
	 */
	private static function summary( int $event_id ): array {
		try {
			return (array) Reg_Buffer_Seats::summary( $event_id );
		} catch ( \Throwable $e ) {
			WP_CLI::error( sprintf( 'The seats of event %d could not be read: %s', $event_id, $e->getMessage() ) );
		}
		return array();
	}

	/**
	 * "3 taken, 1 waiting, 37 places left" (or that Redis does not know yet).
	 *
	 * @param array $summary Reg_Buffer_Seats::summary().
	 */
	private static function figures( array $summary ): string {
		if ( empty( $summary['known'] ) ) {
			return sprintf(
				'Redis does not know its count yet: it is counted from MySQL at the next booking (%d stored)',
				(int) ( $summary['stored'] ?? 0 )
			);
		}
		return sprintf(
			'%d taken, %d waiting, %s left',
			(int) $summary['taken'],
			(int) $summary['waiting'],
			self::places( (int) $summary['remaining'] )
		);
	}

	/**
	 * "1 place", "37 places".
	 *
	 * @param int $count how many.
	 */
	private static function places( int $count ): string {
		return Reg_Buffer_CLI::count_of( $count, 'place', 'places' );
	}

	/**
	 * $value as a whole number of at least $min; anything else stops with an error naming $what.
	 *
	 * @param string $value what was typed.
	 * @param int    $min   the least allowed.
	 * @param string $what  its name in the message ('The event', '--capacity').
	 */
	private static function whole_number( string $value, int $min, string $what ): int {
		if ( 1 !== preg_match( '/^[0-9]{1,15}$/', $value ) || (int) $value < $min ) {
			WP_CLI::error( sprintf( '%s must be a whole number of %d or more, not \'%s\'.', $what, $min, $value ) );
		}
		return (int) $value;
	}
}
