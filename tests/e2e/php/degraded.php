<?php
// The operator learns from the site that Redis cannot keep registrations as configured: with
// reg_buffer.durability = replica:1 on the e2e Redis, which has no replica, the first registration waits out WAIT
// and goes to MySQL directly, the next one goes there at once (its shard is held off), and reg_buffer_stats(),
// Site Health name the degraded shard; the first one's copy on the master is flushed and stored once. Accepted
// registrations go to the ledger.
//   php degraded.php FIRST_N
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$first = (int) ( $argv[1] ?? 0 );
e2e_check( ! defined( 'REG_BUFFER_DURABILITY' ), 'the e2e site leaves the durability to the ini (this script sets it)' );
ini_set( 'reg_buffer.durability', 'replica:1:300' );
ini_set( 'reg_buffer.retry_interval_ms', '5000' );

$took = array();
for ( $i = 0; $i < 2; $i++ ) {
	$n            = $first + $i;
	$registration = e2e_registration( "degraded-{$n}", $n );
	$start        = microtime( true );
	$outcome      = reg_buffer_register( 7, $registration, $registration['email'] );
	$took[]       = microtime( true ) - $start;
	e2e_check( $outcome instanceof Reg_Buffer_Outcome && Reg_Buffer_Outcome::STORED === $outcome->status, "degraded-{$n} is stored directly, was " . ( $outcome instanceof Reg_Buffer_Outcome ? $outcome->status : 'an error' ) );
	if ( $outcome instanceof Reg_Buffer_Outcome && $outcome->is_accepted() ) {
		e2e_ledger_add( 7, $registration['email'], $registration );
	}
}
e2e_check( $took[0] >= 0.29, sprintf( 'the first push waited for the replica (%.3f s)', $took[0] ) );
e2e_check( $took[1] < $took[0] - 0.2, sprintf( 'the second went to MySQL at once (%.3f s): its shard is held off', $took[1] ) );

$stats = reg_buffer_stats();
e2e_check( 1 === $stats['shards_degraded'] && str_contains( (string) ( $stats['degraded'][0]['why'] ?? '' ), 'of the 1 replica' ), 'stats name the degraded shard: ' . wp_json_encode( $stats['degraded'] ) );
$status = Reg_Buffer_Status::report( false );
e2e_check( in_array( 'degraded', $status['warning_codes'], true ), 'the status (admin page, wp reg-buffer status) warns: ' . wp_json_encode( $status['warning_codes'] ) );
$health = Reg_Buffer_Site_Health::test_shards();
e2e_same( 'critical', $health['status'], 'Site Health says the shard is degraded' );
e2e_check( str_contains( $health['description'], 'replica' ), 'Site Health says why: ' . $health['description'] );
echo '  ', wp_strip_all_tags( $health['label'] ), "\n";

ini_set( 'reg_buffer.durability', 'local' );
$health = ( new ReflectionProperty( 'Reg_Buffer_Site_Health', 'status' ) );
$health->setValue( null, null );
e2e_same( 'good', Reg_Buffer_Site_Health::test_shards()['status'], 'with local durability nothing is degraded' );

// The first push is on the master too (WAIT only fell short): the flush stores that copy once, by its id.
for ( $try = 0; $try < 50; $try++ ) { // Another flusher (WP-Cron) may hold the lock for a moment.
	reg_buffer_flush_now();
	$stats = reg_buffer_stats();
	if ( 0 === $stats['pending'] + $stats['in_flight'] ) {
		break;
	}
	usleep( 200000 );
}
e2e_same( 0, $stats['pending'] + $stats['in_flight'], 'nothing of this test is left in Redis' );
e2e_done();
