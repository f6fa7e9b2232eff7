<?php
// The plugin's side of seats_under_faults (WordPress loaded, STACK_WP_LOAD):
//   php wp_seats.php capacity EVENT CAPACITY [waitlist]   Reg_Buffer_Seats::set_capacity()
//   php wp_seats.php book LEDGER PREFIX STOP PACE_US EVENT...
//        books through reg_buffer_register() (the registrar: reg_buffer_book, the seed from MySQL + the buffer when
//        Redis lost the count) round robin over the events until STOP exists. LEDGER lines
//        "<seat>\t<id>\t<ref>\t<event>\t<answered at>" for every accepted registration; LEDGER.unknown the same for a
//        503 reg_buffer_outcome_unknown (the booking may have reached Redis: allowed in the table, not required);
//        LEDGER.summary the tally of answers.
//   php wp_seats.php summary EVENT                        Reg_Buffer_Seats::summary() as JSON
require getenv( 'STACK_WP_LOAD' );
$cmd = $argv[1] ?? '';
if ( 'capacity' === $cmd ) {
	$set = Reg_Buffer_Seats::set_capacity( (int) $argv[2], (int) $argv[3], 'waitlist' === ( $argv[4] ?? '' ) );
	echo is_wp_error( $set ) ? $set->get_error_code() : 'true', "\n";
	exit( true === $set ? 0 : 1 );
}
if ( 'book' === $cmd ) {
	[ , , $ledger, $prefix, $stop, $pace ] = $argv;
	$events = array_map( 'intval', array_slice( $argv, 6 ) );
	$me     = getmypid();
	$tally  = array();
	for ( $i = 0; ; $i++ ) {
		if ( 0 === $i % 8 && is_file( $stop ) ) {
			break;
		}
		$event   = $events[ $i % count( $events ) ];
		$ref     = "$prefix-$me-$i";
		$outcome = reg_buffer_register( $event, array( 'ref' => $ref, 'n' => $i ), null );
		if ( is_wp_error( $outcome ) ) {
			$code = $outcome->get_error_code();
			$data = (array) $outcome->get_error_data();
			if ( 'reg_buffer_outcome_unknown' === $code ) {
				file_put_contents( "$ledger.unknown", "unknown\t{$data['registration_id']}\t$ref\t$event\t" . microtime( true ) . "\n", FILE_APPEND | LOCK_EX );
			}
			$key = "$event $code" . ( 'reg_buffer_sold_out' === $code ? ' remaining ' . var_export( $data['remaining'] ?? null, true ) : '' );
		} else {
			$key = "$event {$outcome->status} {$outcome->seat}";
			if ( $outcome->is_accepted() ) {
				file_put_contents( $ledger, "{$outcome->seat}\t{$outcome->registration_id}\t$ref\t$event\t" . microtime( true ) . "\n", FILE_APPEND | LOCK_EX );
			}
		}
		$tally[ $key ] = ( $tally[ $key ] ?? 0 ) + 1;
		usleep( (int) $pace );
	}
	file_put_contents( "$ledger.summary", json_encode( $tally ) . "\n" );
	exit( 0 );
}
if ( 'summary' === $cmd ) {
	echo json_encode( Reg_Buffer_Seats::summary( (int) $argv[2] ) ), "\n";
	exit( 0 );
}
fwrite( STDERR, "unknown command $cmd\n" );
exit( 2 );
