<?php
// Activates a plugin on the site (WordPress loaded): php wp_activate.php DIR/FILE.php
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$result = activate_plugin( $argv[1] );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, 'activation failed: ' . $result->get_error_message() . "\n" );
	exit( 1 );
}
echo "activated {$argv[1]}\n";
