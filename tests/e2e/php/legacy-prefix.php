<?php
// Registrations under the shared prefix `regbuf:` every install used before it had its own, pushed the way the
// plugin of that version pushed them (straight into the extension); no WordPress.
//   php legacy-prefix.php push REDIS_URL COUNT FIRST_N   pushes COUNT registrations (event 40 + n % 3); ledger: E2E_LEDGER
//   php legacy-prefix.php held REDIS_URL                 prints pending + in_flight under `regbuf:`
require __DIR__ . '/common.php';

[ , $mode, $url ] = $argv;
ini_set( 'reg_buffer.redis_url', $url );
ini_set( 'reg_buffer.key_prefix', 'regbuf:' );
if ( 'push' === $mode ) {
	$first = (int) $argv[4];
	for ( $n = $first; $n < $first + (int) $argv[3]; $n++ ) {
		$registration = e2e_registration( "legacy-prefix-{$n}", $n );
		$event_id     = 40 + $n % 3;
		e2e_check( is_string( reg_buffer_push( $event_id, $registration, $registration['email'] ) ), "legacy-prefix-{$n} buffered" );
		e2e_ledger_add( $event_id, $registration['email'], $registration );
	}
} else {
	$stats = reg_buffer_stats();
	echo (int) $stats['pending'] + (int) $stats['in_flight'], "\n";
}
e2e_done();
