<?php
// Run by bootstrap.php in its own process, after tests/lib/wp-install.php installed WordPress: activates the plugin as
// an admin would (its activation hook creates the tables and schedules the flush).
//   STACK_WP_HOST=HOST STACK_WP_LOAD=tests/lib/wp-load-cli.php php activate.php PLUGIN_BASENAME
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$activated = activate_plugin( $argv[1] );
if ( is_wp_error( $activated ) ) {
	fwrite( STDERR, 'activation failed: ' . $activated->get_error_message() . "\n" );
	exit( 1 );
}
echo "activated {$argv[1]}\n";
