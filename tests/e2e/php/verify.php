<?php
// The table must hold exactly the ledger's registrations, each once, with event, unique key and data intact.
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

// A registration is known by its "ref" field; adapters' registrations (no ref) by event and unique key.
$identify = static fn( $data, $event_id, $unique_key ) => is_array( $data ) && isset( $data['ref'] ) ? $data['ref'] : "event {$event_id} key {$unique_key}";
$expected = array();
foreach ( file( e2e_env( 'E2E_LEDGER' ), FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES ) as $line ) {
	$entry = json_decode( $line, true, 512, JSON_THROW_ON_ERROR );
	$ref   = $identify( $entry['data'], $entry['event_id'], $entry['unique_key'] );
	e2e_check( ! isset( $expected[ $ref ] ), "ledger lists {$ref} twice (test bug)" );
	$expected[ $ref ] = $entry;
}

global $wpdb;
$table = $wpdb->prefix . 'reg_buffer_registrations';
$rows  = $wpdb->get_results( "SELECT registration_id, event_id, unique_key, registered_at, data FROM {$table}", ARRAY_A );
$seen  = array();
$bad   = 0;
foreach ( $rows as $row ) {
	$data = json_decode( $row['data'], true );
	$ref  = $identify( $data, $row['event_id'], $row['unique_key'] );
	if ( ! isset( $expected[ $ref ] ) ) {
		e2e_check( false, "row {$row['registration_id']} was never accepted: " . substr( $row['data'], 0, 120 ) );
		continue;
	}
	e2e_check( ! isset( $seen[ $ref ] ), "{$ref} is stored twice" );
	$seen[ $ref ] = true;
	$want         = $expected[ $ref ];
	if ( $want['data'] !== $data || (int) $want['event_id'] !== (int) $row['event_id'] || $want['unique_key'] !== $row['unique_key'] ) {
		if ( ++$bad <= 5 ) {
			e2e_check( false, "{$ref} changed on the way: stored event {$row['event_id']} key " . var_export( $row['unique_key'], true ) . ' data ' . $row['data'] . ' — expected ' . json_encode( $want, E2E_JSON ) );
		}
	}
	e2e_check( 1 === preg_match( '/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/', (string) $row['registered_at'] ), "{$ref} registered_at {$row['registered_at']}" );
}
e2e_same( 0, $bad, 'registrations whose stored content differs' );
$missing = array_diff_key( $expected, $seen );
e2e_same( 0, count( $missing ), 'accepted registrations missing from the table' . ( $missing ? ' (e.g. ' . implode( ', ', array_slice( array_keys( $missing ), 0, 5 ) ) . ')' : '' ) );
e2e_same( count( $expected ), count( $rows ), 'rows in the table' );
echo '  table holds ', count( $rows ), ' rows = ', count( $expected ), " accepted registrations\n";
e2e_done();
