<?php
// Activates the plugin on the demo site (as an admin would from Plugins).
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$result = activate_plugin( getenv( 'DEMO_PLUGIN' ) . '/reg-buffer.php' );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, 'activation failed: ' . $result->get_error_message() . "\n" );
	exit( 1 );
}
// One event has a capacity (demo/run.sh: a quarter of its share of the burst): the rest is answered "sold out".
$capacity = reg_buffer_set_capacity( (int) getenv( 'DEMO_EVENT' ), (int) getenv( 'DEMO_CAPACITY' ) );
if ( is_wp_error( $capacity ) ) {
	fwrite( STDERR, 'setting the capacity failed: ' . $capacity->get_error_message() . "\n" );
	exit( 1 );
}
$status = reg_buffer_status();
printf( "plugin active: mode %s, extension %s, table %s\n", $status['mode'], $status['extension_version'] ?? 'not loaded', $status['table'] );
