<?php
// Pushes COUNT registrations through one entry point, every DUP_EVERY-th a duplicate of an earlier one, and
// checks each outcome. Accepted registrations go to the ledger.
//   php push.php SOURCE COUNT DUP_EVERY FIRST_N EXPECT
//   SOURCE: action (do_action reg_buffer_register) | function (reg_buffer_register()) | seed (the seed's hook)
//   EXPECT: buffered | stored (status every accepted registration must have)
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

[ , $source, $count, $dup_every, $first, $expect ] = $argv;
$count     = (int) $count;
$dup_every = (int) $dup_every;
$first     = (int) $first;

$tally    = array();
$outcomes = array();
add_action(
	'reg_buffer_registered',
	static function ( $outcome ) use ( &$tally, &$outcomes ) {
		e2e_tally( $tally, $outcome );
		$outcomes[] = $outcome;
	}
);

// Every direct write must be reported (reg_buffer_error), every buffered one must not.
$errors = 0;
add_action(
	'reg_buffer_error',
	static function ( $code ) use ( &$errors ) {
		if ( 'rejected' !== $code ) {
			++$errors;
		}
	}
);

$expected_dups = 0;
for ( $i = 0; $i < $count; $i++ ) {
	$n         = $first + $i;
	$duplicate = $dup_every > 0 && $dup_every - 1 === $i % $dup_every;
	$origin    = $n;
	if ( $duplicate ) {
		// A second registration for an earlier attendee of the same event: same key, different content.
		$origin = $n - ( $dup_every - 1 );
		if ( 4 === $origin % 5 ) {
			++$origin; // That one had no unique key.
		}
		++$expected_dups;
	}
	$event_id     = 1 + $origin % 100;
	$with_key     = 4 !== $origin % 5;
	$registration = e2e_registration( ( $duplicate ? 'dup-' : '' ) . "{$source}-{$n}", $origin );
	$unique_key   = $with_key ? $registration['email'] : null;
	if ( ! $with_key ) {
		unset( $registration['email'] );
	}
	$before = count( $outcomes );
	switch ( $source ) {
		case 'action':
			do_action( 'reg_buffer_register', $event_id, $registration, $unique_key );
			break;
		case 'function':
			reg_buffer_register( $event_id, $registration, $unique_key );
			break;
		case 'seed':
			do_action( 'my_event_plugin_registration_success', $event_id, $registration );
			break;
	}
	$outcome = $outcomes[ $before ] ?? null;
	if ( ! $outcome instanceof Reg_Buffer_Outcome ) {
		e2e_check( false, "{$source}-{$n}: " . ( is_wp_error( $outcome ) ? $outcome->get_error_message() : 'no outcome' ) );
		continue;
	}
	if ( $duplicate ) {
		e2e_check( Reg_Buffer_Outcome::DUPLICATE === $outcome->status, "{$source}-{$n} should be a duplicate, was {$outcome->status}" );
	} elseif ( $outcome->is_accepted() ) {
		e2e_check( $expect === $outcome->status, "{$source}-{$n} should be {$expect}, was {$outcome->status} ({$outcome->fallback_reason})" );
		e2e_check( 1 === preg_match( '/^[0-9A-Z]{26}$/', (string) $outcome->registration_id ), "{$source}-{$n} id " . var_export( $outcome->registration_id, true ) );
		e2e_ledger_add( $event_id, $unique_key, $registration );
	} else {
		e2e_check( false, "{$source}-{$n} was refused as a duplicate" );
	}
}

// Invalid input is refused with 422 and stored nowhere.
foreach ( array(
	'event id 0'        => array( 0, array( 'ref' => 'bad-0' ) ),
	'INF in a field'    => array( 5, array( 'ref' => 'bad-inf', 'x' => INF ) ),
	'an object'         => array( 5, array( 'ref' => 'bad-obj', 'x' => new stdClass() ) ),
	'invalid UTF-8'     => array( 5, array( 'ref' => 'bad-utf8', 'x' => "\xC3\x28" ) ),
) as $what => [ $event_id, $registration ] ) {
	$outcome = reg_buffer_register( $event_id, $registration );
	e2e_check( is_wp_error( $outcome ) && 422 === ( $outcome->get_error_data()['status'] ?? null ), "{$what} must be refused with 422" );
}

$accepted = $count - $expected_dups;
// A duplicate of a registration already in the table is refused before any fallback (nothing to report).
e2e_same( 'stored' === $expect ? $count - $expected_dups : 0, $errors, "{$source}: reg_buffer_error actions for fallbacks" );
e2e_same( $accepted, $tally[ $expect ] ?? 0, "{$source}: registrations {$expect}" );
e2e_same( $expected_dups, $tally['duplicate'] ?? 0, "{$source}: duplicates" );
echo "  {$source}: {$count} pushed, {$accepted} {$expect}, {$expected_dups} duplicates\n";
e2e_done();
