<?php
// Turns an installed single site into a subdirectory multisite network (the database half of Tools > Network
// Setup); the config half (MULTISITE constants) is written by stack_wp_make_network.
define( 'WP_INSTALLING_NETWORK', true );
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/network.php';

// As wp-admin/network.php does: name the network tables before creating them.
global $wpdb;
foreach ( $wpdb->tables( 'ms_global' ) as $table => $prefixed_table ) {
	$wpdb->$table = $prefixed_table;
}
install_network();
$result = populate_network( 1, $_SERVER['HTTP_HOST'], get_option( 'admin_email' ), 'reg_buffer test network', '/', false );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, 'populate_network: ' . $result->get_error_message() . "\n" );
	exit( 1 );
}
echo "network created\n";
