<?php
// WordPress-side helpers of tests/e2e/rush.sh (the rush itself is php/rush.php, over HTTP).
//   php rush-site.php capacity EVENT CAPACITY [waitlist]   Reg_Buffer_Seats::set_capacity(); prints true or the error
//   php rush-site.php seats EVENT                          Reg_Buffer_Seats::summary() as JSON
//   php rush-site.php stored EVENT ANSWERS...              the event's rows against the answers rush.php wrote
//                                                          (its OUT files): JSON {registered, waitlisted, other (rows
//                                                          by any other status), same_registered / same_waitlisted
//                                                          (the rows' ids are exactly the 201s' ids of that seat),
//                                                          answered_not_stored (201 ids without a row), in_order
//                                                          (each client's rows, ordered as the promotions order them
//                                                          — registered_at, registration_id —, are in the order it sent them)}
//   php rush-site.php cancel ID                            reg_buffer_cancel_registration(): JSON
//   php rush-site.php oldest-waitlisted EVENT N            the ids of the event's N oldest waitlisted rows (registered_at, registration_id)
//   php rush-site.php flush-held MARKER GO                 one flush run whose first batch waits after its INSERT, before
//                                                          its COMMIT (MARKER written then) until the file GO exists
//   php rush-site.php acknowledge-loss                     acknowledges the Redis data losses the status reports
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

global $wpdb;
$mode  = $argv[1] ?? '';
$event = (int) ( $argv[2] ?? 0 );
$table = Reg_Buffer_Store::table();
switch ( $mode ) {
	case 'capacity':
		$set = Reg_Buffer_Seats::set_capacity( $event, (int) $argv[3], 'waitlist' === ( $argv[4] ?? '' ) );
		echo is_wp_error( $set ) ? $set->get_error_code() . ': ' . $set->get_error_message() : 'true', "\n";
		e2e_check( true === $set, "set_capacity( {$event}, {$argv[3]} )" );
		break;
	case 'seats':
		echo json_encode( Reg_Buffer_Seats::summary( $event ), E2E_JSON ), "\n";
		break;
	case 'stored':
		$answered = array(); // id => [seat, n, client]
		foreach ( array_slice( $argv, 3 ) as $file ) {
			foreach ( file( $file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES ) as $line ) {
				$a = json_decode( $line, true, 512, JSON_THROW_ON_ERROR );
				if ( 201 === $a['code'] ) {
					$answered[ $a['id'] ] = $a;
				}
			}
		}
		$rows   = $wpdb->get_results( $wpdb->prepare( "SELECT registration_id, status, data FROM {$table} WHERE event_id = %d ORDER BY registered_at, registration_id", $event ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the plugin's own table.
		$by     = array( 'registered' => array(), 'waitlisted' => array() );
		$other  = array();
		$last_n = array(); // client => n of its last row seen
		$order  = true;
		foreach ( $rows as $row ) {
			if ( isset( $by[ $row['status'] ] ) ) {
				$by[ $row['status'] ][] = $row['registration_id'];
			} else {
				$other[ $row['status'] ] = ( $other[ $row['status'] ] ?? 0 ) + 1;
			}
			$a = $answered[ $row['registration_id'] ] ?? null;
			if ( null !== $a ) {
				$order                   = $order && ( ! isset( $last_n[ $a['client'] ] ) || $last_n[ $a['client'] ] < $a['n'] );
				$last_n[ $a['client'] ] = $a['n'];
			}
		}
		$of_seat = static fn( string $seat ) => array_keys( array_filter( $answered, static fn( $a ) => $seat === $a['seat'] ) );
		$same    = static function ( array $x, array $y ): bool {
			sort( $x );
			sort( $y );
			return $x === $y;
		};
		$stored  = array_flip( array_merge( $by['registered'], $by['waitlisted'] ) );
		echo json_encode(
			array(
				'registered'          => count( $by['registered'] ),
				'waitlisted'          => count( $by['waitlisted'] ),
				'other'               => (object) $other,
				'same_registered'     => $same( $by['registered'], $of_seat( 'registered' ) ),
				'same_waitlisted'     => $same( $by['waitlisted'], $of_seat( 'waitlisted' ) ),
				'answered_not_stored' => count( array_diff_key( $answered, $stored ) ),
				'in_order'            => $order,
			),
			E2E_JSON
		), "\n";
		break;
	case 'cancel':
		$cancelled = reg_buffer_cancel_registration( $argv[2] );
		echo json_encode( is_wp_error( $cancelled ) ? array( 'error' => $cancelled->get_error_code() ) : $cancelled, E2E_JSON ), "\n";
		break;
	case 'oldest-waitlisted':
		echo json_encode( $wpdb->get_col( $wpdb->prepare( "SELECT registration_id FROM {$table} WHERE event_id = %d AND status = 'waitlisted' ORDER BY registered_at, registration_id LIMIT %d", $event, (int) $argv[3] ) ), E2E_JSON ), "\n"; // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the plugin's own table.
		break;
	case 'flush-held':
		// One flush run whose first batch waits inside its transaction (INSERTed, not committed) until GO exists; it
		// writes MARKER when it starts waiting. Its lease outlasts the wait.
		[ , , $marker, $go ] = $argv;
		add_action(
			'reg_buffer_before_commit',
			static function () use ( $marker, $go ) {
				static $held = false;
				if ( ! $held ) {
					$held = true;
					file_put_contents( $marker, (string) getmypid() );
					for ( $i = 0; $i < 1200 && ! is_file( $go ); $i++ ) {
						usleep( 100000 );
					}
				}
			}
		);
		echo json_encode( reg_buffer_flush_now( array( 'lease_seconds' => 300 ) ), E2E_JSON ), "\n";
		break;
	case 'acknowledge-loss':
		echo Reg_Buffer_Redis_Watch::acknowledge(), "\n";
		break;
	default:
		e2e_check( false, "unknown mode {$mode}" );
}
e2e_done();
