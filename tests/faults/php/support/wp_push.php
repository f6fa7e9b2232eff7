<?php
// Through the plugin: reg_buffer_register() COUNT registrations (each with a unique `ref`) until STOP_FILE exists;
// buffered and stored (fallback) outcomes go to the ledger with their registration id.
// Args: ledger ref_prefix count stop_file pace_us. Runs with WordPress loaded (STACK_WP_LOAD).
require getenv( 'STACK_WP_LOAD' );
[ , $ledger, $prefix, $count, $stop, $pace ] = $argv;
$me    = getmypid();
$tally = array();
for ( $i = 0; $i < (int) $count; $i++ ) {
	if ( 0 === $i % 16 && is_file( $stop ) ) {
		break;
	}
	$ref     = "$prefix-$me-$i";
	$outcome = reg_buffer_register( 1 + $i % 3, array( 'ref' => $ref, 'name' => "Zoë #$i", 'n' => $i ), null );
	$status  = is_wp_error( $outcome ) ? 'error:' . $outcome->get_error_code() : $outcome->status;
	$tally[ $status ] = ( $tally[ $status ] ?? 0 ) + 1;
	if ( ! is_wp_error( $outcome ) && in_array( $outcome->status, array( 'buffered', 'stored' ), true ) ) {
		file_put_contents( $ledger, ( 'buffered' === $outcome->status ? 'ok' : 'direct' ) . "\t{$outcome->registration_id}\t$ref\n", FILE_APPEND | LOCK_EX );
	}
	usleep( (int) $pace );
}
file_put_contents( "$ledger.summary", json_encode( array( 'tally' => array( 'ok' => $tally['buffered'] ?? 0, 'direct' => $tally['stored'] ?? 0 ), 'errors' => array_diff_key( $tally, array( 'buffered' => 1, 'stored' => 1 ) ) ) ) . "\n", FILE_APPEND | LOCK_EX );
