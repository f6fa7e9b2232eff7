<?php
// Prints {"test name": "status", …} for every reg_buffer Site Health direct test, and checks the Info section
// lists each buffer statistic on its own row.
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );
$tests = apply_filters( 'site_status_tests', array( 'direct' => array(), 'async' => array() ) );
$out   = array();
foreach ( $tests['direct'] as $name => $test ) {
	if ( str_starts_with( $name, 'reg_buffer' ) ) {
		$result       = call_user_func( $test['test'] );
		$out[ $name ] = $result['status'];
		e2e_check( '' !== trim( wp_strip_all_tags( $result['description'] ) ), "{$name} has a description" );
	}
}
$info = apply_filters( 'debug_information', array() );
foreach ( array( 'extension_version', 'buffer.pending', 'buffer.oldest_pending_age', 'buffer.maxmemory_policy', 'fallbacks' ) as $field ) {
	e2e_check( isset( $info['reg-buffer']['fields'][ $field ] ), "Site Health Info lists {$field}" );
}
echo json_encode( $out ), "\n";
e2e_done();
