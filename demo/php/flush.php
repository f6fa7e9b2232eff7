<?php
// Runs the plugin's flush (what WP-Cron runs every minute) until the buffer is empty; prints the totals as JSON.
require getenv( 'STACK_WP_LOAD' );
$totals  = array( 'runs' => 0, 'batches' => 0, 'claimed' => 0, 'inserted' => 0, 'duplicates' => 0, 'acked' => 0 );
$started = microtime( true );
for ( $run = 0; $run < 100; $run++ ) {
	$summary = reg_buffer_flush_now();
	++$totals['runs'];
	foreach ( array( 'batches', 'claimed', 'inserted', 'duplicates', 'acked' ) as $k ) {
		$totals[ $k ] += $summary[ $k ];
	}
	$totals['outcome'] = $summary['outcome'];
	if ( 'budget' !== $summary['outcome'] && 'locked' !== $summary['outcome'] ) {
		break;
	}
}
$totals['seconds'] = round( microtime( true ) - $started, 3 );
$status            = reg_buffer_status();
$totals['stored']  = $status['stored'];
$totals['pending'] = $status['buffer']['pending'] ?? null;
$totals['fallbacks'] = $status['fallbacks'];
echo json_encode( $totals ), "\n";
exit( 'error' === $totals['outcome'] ? 1 : 0 );
