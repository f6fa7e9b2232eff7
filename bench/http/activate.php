<?php
// Activates plugins on the bench's site: php activate.php PLUGIN_FILE... (WordPress loaded by stack_wp_php).
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$failed = 0;
foreach ( array_slice( $argv, 1 ) as $plugin ) {
	$r = activate_plugin( $plugin );
	if ( is_wp_error( $r ) ) { fwrite( STDERR, "$plugin: " . $r->get_error_message() . "\n" ); $failed = 1; }
	else echo "activated $plugin\n";
}
exit( $failed );
