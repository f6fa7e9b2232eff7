<?php
// Deactivating stops the flush schedule; uninstalling (Plugins > Delete) removes the tables and the options (the install's key prefix too).
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/plugin.php';

global $wpdb;
$plugin = getenv( 'E2E_PLUGIN' ) . '/reg-buffer.php';
e2e_check( false !== wp_next_scheduled( 'reg_buffer_flush' ), 'the flush is scheduled while active' );
deactivate_plugins( $plugin );
e2e_same( false, wp_next_scheduled( 'reg_buffer_flush' ), 'the flush schedule after deactivation' );
uninstall_plugin( $plugin );
e2e_same( null, $wpdb->get_var( "SHOW TABLES LIKE '{$wpdb->prefix}reg_buffer_registrations'" ), 'the table after uninstall' );
e2e_same( null, $wpdb->get_var( "SHOW TABLES LIKE '{$wpdb->prefix}reg_buffer_set_aside'" ), 'the set-aside table after uninstall' );
e2e_same( '0', $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->options} WHERE option_name LIKE 'reg\\_buffer\\_%'" ), 'reg_buffer options after uninstall' );
echo "  deactivated and uninstalled: schedule, table and options gone\n";
e2e_done();
