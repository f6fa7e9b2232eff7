<?php
// The plugin's real flush (reg_buffer_flush_now, lease 2 s), optionally held at a point for the harness to SIGKILL:
//   php wp_flush.php MARKER_DIR run                 one flush run
//   php wp_flush.php MARKER_DIR stop:before_flush   WordPress loaded, about to flush
//   php wp_flush.php MARKER_DIR stop:before_commit  a batch claimed and INSERTed, inside the transaction (only this
//                                                   mode listens to reg_buffer_before_commit: the others flush as a
//                                                   site without listeners does, each batch one INSERT in autocommit)
//   php wp_flush.php MARKER_DIR stop:after_commit   a batch committed, not acked (reg_buffer_batch_stored)
//   php wp_flush.php MARKER_DIR drain               flush runs until the buffer is empty (bounded); prints totals
require getenv( 'STACK_WP_LOAD' );
[ , $markers, $mode ] = $argv;
$hold = static function ( string $stage ) use ( $markers, $mode ) {
	if ( "stop:$stage" === $mode ) {
		file_put_contents( "$markers/$stage", (string) getmypid() );
		sleep( 60 );
		exit( 3 );
	}
};
if ( 'stop:before_commit' === $mode ) {
	add_action( 'reg_buffer_before_commit', static function () use ( $hold ) { $hold( 'before_commit' ); } );
}
add_action( 'reg_buffer_batch_stored', static function () use ( $hold ) { $hold( 'after_commit' ); } );
$budget = array( 'lease_seconds' => 2, 'batch_size' => 200 );
if ( 'drain' === $mode ) {
	$t = array( 'runs' => 0, 'claimed' => 0, 'inserted' => 0, 'acked' => 0, 'outcomes' => array() );
	for ( $i = 0; $i < 600; $i++ ) {
		$s = reg_buffer_flush_now( $budget );
		++$t['runs'];
		foreach ( array( 'claimed', 'inserted', 'acked' ) as $k ) {
			$t[ $k ] += $s[ $k ];
		}
		$t['outcomes'][ $s['outcome'] ] = ( $t['outcomes'][ $s['outcome'] ] ?? 0 ) + 1;
		$stats = reg_buffer_stats();
		if ( 'empty' === $s['outcome'] && 0 === $stats['pending'] && 0 === $stats['in_flight'] ) {
			$t['empty'] = true;
			break;
		}
		usleep( 200000 ); // leases of killed flushers still running, or the lock of a dying session
	}
	echo json_encode( $t ), "\n";
	exit( 0 );
}
$hold( 'before_flush' );
reg_buffer_flush_now( $budget );
