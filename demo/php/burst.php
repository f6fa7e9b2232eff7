<?php
// One worker of the burst: registrations n = WORKER, WORKER+WORKERS, … < TOTAL through do_action('reg_buffer_register').
// About one in DUP_EVERY repeats the previous attendee's e-mail (handled by another worker): a duplicate.
// One event has a capacity (activate.php): past it, its registrations are refused as sold out.
// Prints {"accepted":…, "duplicates":…, "sold_out":…, "failed":…, "seconds":…}.
//   php burst.php WORKER WORKERS TOTAL DUP_EVERY
require getenv( 'STACK_WP_LOAD' );

[ , $worker, $workers, $total, $dup_every ] = array_map( 'intval', $argv );
$counts = array( 'accepted' => 0, 'duplicates' => 0, 'sold_out' => 0, 'failed' => 0, 'buffered' => 0, 'stored' => 0 );
add_action(
	'reg_buffer_registered',
	static function ( $outcome ) use ( &$counts ) {
		if ( is_wp_error( $outcome ) && 'reg_buffer_sold_out' === $outcome->get_error_code() ) {
			++$counts['sold_out'];
		} elseif ( is_wp_error( $outcome ) ) {
			++$counts['failed'];
		} elseif ( $outcome->is_accepted() ) {
			++$counts['accepted'];
			++$counts[ $outcome->status ];
		} else {
			++$counts['duplicates'];
		}
	}
);

$started = microtime( true );
for ( $n = $worker; $n < $total; $n += $workers ) {
	$attendee = ( $n > 0 && 0 === $n % $dup_every ) ? $n - 1 : $n; // Same person registering twice.
	$event_id = 1 + $attendee % 100;
	do_action(
		'reg_buffer_register',
		$event_id,
		array(
			'first_name' => 'Attendee',
			'last_name'  => "N°{$attendee}",
			'email'      => "attendee{$attendee}@example.test",
			'tickets'    => 1 + $attendee % 3,
			'answers'    => array( 'diet' => 0 === $attendee % 4 ? 'vegetarian' : 'none', 'newsletter' => 0 === $attendee % 2 ),
			'submitted'  => $n,
		),
		"attendee{$attendee}@example.test"
	);
}
$counts['seconds'] = round( microtime( true ) - $started, 3 );
echo json_encode( $counts ), "\n";
