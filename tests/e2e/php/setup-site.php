<?php
// Activates the plugin (as an admin would) and creates an application password for REST: prints it.
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$plugin = getenv( 'E2E_PLUGIN' ) . '/reg-buffer.php';
$result = activate_plugin( $plugin );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, 'activation failed: ' . $result->get_error_message() . "\n" );
	exit( 1 );
}
global $wpdb;
if ( $wpdb->get_var( "SHOW TABLES LIKE '{$wpdb->prefix}reg_buffer_registrations'" ) === null ) {
	fwrite( STDERR, "activation did not create the table\n" );
	exit( 1 );
}
// WP-Cron runs the flush every minute, on the plugin's own schedule.
if ( 'reg_buffer_every_minute' !== wp_get_schedule( 'reg_buffer_flush' ) || 60 !== ( wp_get_schedules()['reg_buffer_every_minute']['interval'] ?? null ) ) {
	fwrite( STDERR, "activation did not schedule the flush every minute\n" );
	exit( 1 );
}
// A known login password for the cookie + nonce REST test.
wp_set_password( getenv( 'E2E_ADMIN_PASSWORD' ), 1 );
[ $password ] = WP_Application_Passwords::create_new_application_password( 1, array( 'name' => 'e2e' ) );
echo $password, "\n";
e2e_exit( 0 );
