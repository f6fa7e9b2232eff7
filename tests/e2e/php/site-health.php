<?php
// Prints the status of the plugin's Site Health test (Tools > Site Health > Status).
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );
$tests = apply_filters( 'site_status_tests', array( 'direct' => array(), 'async' => array() ) );
$test  = $tests['direct']['reg_buffer']['test'] ?? null;
echo is_callable( $test ) ? json_encode( call_user_func( $test )['status'] ) : 'null', "\n";
e2e_exit( 0 );
