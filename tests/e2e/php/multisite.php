<?php
// On a network: a second site created after network activation gets its own table; the two sites' buffers are
// separate (own key prefix): the same attendee may register on both, and each site's flush moves only its own.
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/plugin.php';

e2e_check( is_multisite(), 'the site is a network' );
$result = activate_plugin( getenv( 'E2E_PLUGIN' ) . '/reg-buffer.php', '', true );
e2e_check( ! is_wp_error( $result ), 'network activation' );
$second = wpmu_create_blog( $_SERVER['HTTP_HOST'], '/second/', 'Second site', 1 );
e2e_check( is_int( $second ), 'second site created' );

global $wpdb;
$push = static function ( int $count ) {
	$tally = array();
	for ( $n = 0; $n < $count; $n++ ) {
		$registration = e2e_registration( "ms-{$n}", 800000 + $n );
		e2e_tally( $tally, reg_buffer_register( 1 + $n % 10, $registration, $registration['email'] ) );
	}
	return $tally;
};

$first_prefix = Reg_Buffer_Settings::site_key_prefix();
e2e_same( array( 'buffered' => 50 ), $push( 50 ), 'first site: outcomes' );

switch_to_blog( $second );
e2e_check( null !== $wpdb->get_var( "SHOW TABLES LIKE '{$wpdb->prefix}reg_buffer_registrations'" ), "table {$wpdb->prefix}reg_buffer_registrations exists" );
e2e_check( Reg_Buffer_Settings::site_key_prefix() !== $first_prefix, 'the sites have different key prefixes' );
// No REG_BUFFER_KEY_PREFIX: one prefix made for the network, in a network option; each site adds its suffix.
$network_prefix = get_site_option( Reg_Buffer_Settings::KEY_PREFIX_OPTION );
e2e_check( 1 === preg_match( '/^regbuf:[0-9a-f]{8}:$/D', (string) $network_prefix ), 'the network\'s key prefix: ' . var_export( $network_prefix, true ) );
e2e_same( $network_prefix . 'site1:', $first_prefix, 'first site\'s prefix' );
e2e_same( $network_prefix . "site{$second}:", Reg_Buffer_Settings::site_key_prefix(), 'second site\'s prefix' );
// The same 30 attendees: not duplicates here, another site's buffer.
e2e_same( array( 'buffered' => 30 ), $push( 30 ), 'second site: outcomes (same attendees)' );
e2e_same( 30, reg_buffer_status()['buffer']['pending'] ?? null, 'second site: pending' );
e2e_same( 30, reg_buffer_flush_now()['inserted'], 'second site: rows its flush inserted' );
e2e_same( 30, Reg_Buffer_Store::count(), 'second site: rows in its table' );
restore_current_blog();

e2e_same( 50, reg_buffer_status()['buffer']['pending'] ?? null, 'first site: still pending after the second site flushed' );
e2e_same( 50, reg_buffer_flush_now()['inserted'], 'first site: rows its flush inserted' );
e2e_same( 50, Reg_Buffer_Store::count(), 'first site: rows in its table' );
echo "  two sites, two tables, two buffers: 50 + 30 registrations, each flushed by its own site\n";
e2e_done();
