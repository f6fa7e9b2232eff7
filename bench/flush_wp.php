<?php
// Flush through the plugin's real insert path: Reg_Buffer_Flusher::run() (claim -> Reg_Buffer_Store's one INSERT a
// batch, in autocommit when nothing listens to reg_buffer_before_commit -> ack, under its flush lock, Redis overlapped with MySQL), WordPress loaded (run by stack_wp_php), batches of BATCH.
// Prints one JSON line: registrations/s, peak memory (with and without WordPress's own), rows in the table.
// usage: php -d memory_limit=128M flush_wp.php EXPECTED [BATCH=1000]
require getenv( 'STACK_WP_LOAD' );
require __DIR__ . '/common.php';
$expected = (int) $argv[1]; $batch = (int) ( $argv[2] ?? 1000 );
global $wpdb;
$table = Reg_Buffer_Store::table();
$wpdb->query( "TRUNCATE TABLE $table" );
$base = memory_get_usage( true );
$ru0 = getrusage();
$t = hrtime( true ); $claimed = 0; $inserted = 0; $runs = 0; $outcome = '';
do {  // one run is bounded by its own time budget; a few runs at most
	$s = Reg_Buffer_Flusher::run( array( 'time' => 300, 'memory' => 100 * 1048576, 'batch_size' => $batch, 'lease_seconds' => 300 ) );
	$claimed += $s['claimed']; $inserted += $s['inserted']; $outcome = $s['outcome']; $runs++;
} while ( 'budget' === $outcome && $runs < 3 );
$secs = ( hrtime( true ) - $t ) / 1e9;
$ru = getrusage();
$cpu = ( $ru['ru_utime.tv_sec'] - $ru0['ru_utime.tv_sec'] + $ru['ru_stime.tv_sec'] - $ru0['ru_stime.tv_sec'] ) * 1e6 + $ru['ru_utime.tv_usec'] - $ru0['ru_utime.tv_usec'] + $ru['ru_stime.tv_usec'] - $ru0['ru_stime.tv_usec'];
$in_db = (int) $wpdb->get_var( "SELECT COUNT(*) FROM $table" );
$row = array( 'n' => $claimed, 'secs' => $secs, 'rate' => $claimed / $secs, 'peak_mb' => memory_get_peak_usage( true ) / 1048576,
	'wp_base_mb' => $base / 1048576, 'inserted' => $inserted, 'in_db' => $in_db, 'outcome' => $outcome, 'path' => 'plugin', 'php_cpu_us' => $claimed ? $cpu / $claimed : null );
if ( $in_db < $expected ) $row['error'] = "stored $in_db of $expected (outcome $outcome)";
emit( $row );
exit( isset( $row['error'] ) ? 1 : 0 );
