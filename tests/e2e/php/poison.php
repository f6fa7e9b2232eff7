<?php
// One registration MySQL refuses (a 300-byte unique key, pushed straight into the extension by another producer)
// must not block the others: they are stored, it is set aside with its data and the error, the batch is acked.
//   php poison.php FIRST_N
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );

$first = (int) $argv[1];
for ( $n = $first; $n < $first + 10; $n++ ) {
	$registration = e2e_registration( "poison-ok-{$n}", $n );
	e2e_same( 'buffered', reg_buffer_register( 77, $registration, $registration['email'] )->status ?? null, "poison-ok-{$n}" );
	e2e_ledger_add( 77, $registration['email'], $registration );
}
// reg_buffer_register() refuses such a key (422); the extension itself takes it. The plugin has set this
// site's key prefix with ini_set by now.
$bad_key = str_repeat( 'k', 300 ) . '@example.test';
$bad_id  = reg_buffer_push( 77, array( 'ref' => 'poison-bad' ), $bad_key );
e2e_check( is_string( $bad_id ), 'the extension buffered the over-long key' );

$summary = reg_buffer_flush_now();
e2e_same( 'empty', $summary['outcome'], 'flush outcome' );
e2e_same( 11, $summary['claimed'], 'claimed' );
e2e_same( 10, $summary['inserted'], 'inserted' );
e2e_same( 1, $summary['rejected'], 'set aside' );
e2e_same( 11, $summary['acked'], 'acked (the bad row does not come back)' );
$set_aside = Reg_Buffer_Set_Aside::rows();
e2e_same( $bad_id, $set_aside[0]['id'] ?? null, 'the set-aside registration' );
e2e_same( $bad_key, $set_aside[0]['unique_key'] ?? null, 'its unique key, untruncated' );
e2e_same( '{"ref":"poison-bad"}', $set_aside[0]['json'] ?? null, 'its data' );
e2e_check( str_contains( (string) ( $set_aside[0]['error'] ?? '' ), 'too long' ), 'its error: ' . ( $set_aside[0]['error'] ?? '' ) );
e2e_same( 1, reg_buffer_status()['set_aside'], 'status: set aside' );
// An operator has dealt with it; later tests expect a site without warnings.
e2e_check( Reg_Buffer_Set_Aside::purge( $bad_id )['ok'], 'purged' );
echo "  10 stored, 1 set aside ({$set_aside[0]['error']}), batch acked\n";
e2e_done();
