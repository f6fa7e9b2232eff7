<?php
// Through the plugin (WordPress loaded): unique keys that Redis and the table compare differently. Redis dedupes
// byte for byte; the table's UNIQUE (event_id, unique_key) is utf8mb4_bin, a PAD SPACE collation (trailing spaces
// ignored), and a utf8mb4 column cannot hold invalid UTF-8. Each registration reg_buffer_register() answers
// "buffered" or "stored" for must end up in the table; anything else must be refused up front (WP_Error) or
// reported as a duplicate. Prints one JSON line: per case, the outcome and the rows found after a flush.
require getenv( 'STACK_WP_LOAD' );
global $wpdb;
$event = 900000 + getmypid() % 1000;
$cases = array(
	'plain'           => 'pad@example.test',
	'trailing space'  => 'pad@example.test ',
	'trailing spaces' => 'pad@example.test   ',
	'invalid UTF-8'   => "bad\xff@example.test",
	'NUL inside'      => "nul\0@example.test",
	'case differs'    => 'PAD@example.test',
);
$out = array();
foreach ( $cases as $name => $key ) {
	$o            = reg_buffer_register( $event, array( 'case' => $name ), $key );
	$out[ $name ] = array(
		'outcome' => is_wp_error( $o ) ? 'error:' . $o->get_error_code() : $o->status,
		'id'      => is_wp_error( $o ) ? null : $o->registration_id,
	);
}
for ( $i = 0; $i < 20; $i++ ) {
	$s = reg_buffer_flush_now( array( 'lease_seconds' => 2 ) );
	if ( 'empty' === $s['outcome'] ) {
		break;
	}
	usleep( 100000 );
}
$table = $wpdb->prefix . 'reg_buffer_registrations';
foreach ( $out as $name => $r ) {
	$out[ $name ]['rows'] = null === $r['id'] ? null : (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$table} WHERE registration_id = %s", $r['id'] ) ); // phpcs:ignore
}
$out['_rejected_option'] = get_option( 'reg_buffer_rejected' );
echo json_encode( $out, JSON_INVALID_UTF8_SUBSTITUTE ), "\n";
