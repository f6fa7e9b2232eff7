<?php
// A site moving off the seed snippet: its Redis lists (event_reg_buffer:<event>, JSON {timestamp,
// registration_details}) are moved into the buffer (what `wp reg-buffer import-legacy` runs) and flushed with
// their original timestamps.
//   php legacy.php FIRST_N      (needs E2E_REDIS_PORT)
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );

$first = (int) $argv[1];
$port  = (int) e2e_env( 'E2E_REDIS_PORT' );
$when  = 1700000000; // 2023-11-14 22:13:20 UTC
$pushed = array();
for ( $i = 0; $i < 5; $i++ ) {
	$event_id     = 90 + $i % 2;
	$registration = e2e_registration( "legacy-{$i}-{$first}", $first + $i );
	// Exactly what the seed's offload_event_registration_to_redis() wrote.
	$element = json_encode( array( 'timestamp' => $when + $i, 'registration_details' => $registration ) );
	exec( sprintf( 'redis-cli -p %d LPUSH %s %s', $port, escapeshellarg( "event_reg_buffer:{$event_id}" ), escapeshellarg( $element ) ), $out, $rc );
	e2e_same( 0, $rc, 'LPUSH of a legacy element' );
	$pushed[ $registration['ref'] ] = $when + $i;
	e2e_ledger_add( $event_id, null, $registration );
}

e2e_same( 5, Reg_Buffer_Bridge::import_legacy( 'event_reg_buffer:*' ), 'legacy registrations moved' );
e2e_same( 5, reg_buffer_flush_now()['inserted'], 'legacy registrations flushed' );

global $wpdb;
$table = Reg_Buffer_Store::table();
foreach ( $pushed as $ref => $timestamp ) {
	$stored = $wpdb->get_var( $wpdb->prepare( "SELECT registered_at FROM {$table} WHERE data LIKE %s", '%' . $wpdb->esc_like( "\"ref\":\"{$ref}\"" ) . '%' ) );
	e2e_same( gmdate( 'Y-m-d H:i:s', $timestamp ) . '.000', $stored, "{$ref}: registered_at keeps the legacy timestamp" );
}
exec( sprintf( 'redis-cli -p %d --scan --pattern %s', $port, escapeshellarg( 'event_reg_buffer:*' ) ), $left );
e2e_same( array(), $left, 'legacy lists left behind' );
echo "  5 registrations from the seed's lists imported and stored with their original timestamps\n";
e2e_done();
