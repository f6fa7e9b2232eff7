<?php
// The admin page's Seats section as an administrator uses it: the form posted to admin-post.php as the page builds
// it (its nonce), the notice it leaves, and the table the page then shows; the same post without a valid nonce,
// or by a user without manage_options, changes nothing. For tests/e2e/seats.sh.
//   php seats-admin.php EVENT
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/admin.php';

final class E2E_Seats_Admin_Stop extends \Exception {
}

$event = (int) $argv[1];
$admin = get_user_by( 'login', 'admin' );
e2e_check( $admin instanceof WP_User, 'the admin user' );
wp_set_current_user( $admin->ID );

// handle_action() ends with a redirect (and exit), or wp_die() when refused: both stop here instead.
add_filter(
	'wp_redirect',
	static function ( $location ) {
		throw new E2E_Seats_Admin_Stop( 'redirect ' . $location );
	}
);
add_filter(
	'wp_die_handler',
	static fn() => static function ( $message ) {
		throw new E2E_Seats_Admin_Stop( 'died ' . wp_strip_all_tags( is_string( $message ) ? $message : '' ) );
	}
);

/** The page's HTML. */
$page = static function (): string {
	ob_start();
	Reg_Buffer_Admin::render();
	return (string) ob_get_clean();
};

/** Posts $fields to admin-post.php's action as the page's forms do; returns how it ended and the notice it left. */
$post = static function ( array $fields ): array {
	$_POST    = wp_slash( $fields + array( 'action' => Reg_Buffer_Admin::ACTION ) );
	$_REQUEST = $_POST;
	delete_transient( 'reg_buffer_notice_' . get_current_user_id() );
	try {
		Reg_Buffer_Admin::handle_action();
		$end = 'returned';
	} catch ( E2E_Seats_Admin_Stop $e ) {
		$end = $e->getMessage();
	}
	$notice = get_transient( 'reg_buffer_notice_' . get_current_user_id() );
	return array( $end, is_array( $notice ) ? $notice : null );
};

/** The row of $event in the page's seats table: data-field => data-value (decoded), or null when absent. */
$row_of = static function ( string $html, int $event ): ?array {
	if ( ! preg_match( '/<tr data-event="' . $event . '">(.*?)<\/tr>/s', $html, $m ) ) {
		return null;
	}
	preg_match_all( '/<td data-field="([a-z_]+)" data-value="([^"]*)">/', $m[1], $cells, PREG_SET_ORDER );
	$row = array();
	foreach ( $cells as $cell ) {
		$row[ $cell[1] ] = json_decode( html_entity_decode( $cell[2], ENT_QUOTES ), true );
	}
	return $row;
};

/** The nonce field of the form or button for $op (on $entry) in the page's HTML. */
$nonce_of = static function ( string $html, string $op, string $entry ): ?string {
	$pattern = '/name="op" value="' . preg_quote( $op, '/' ) . '"><input type="hidden" name="entry" value="' . preg_quote( $entry, '/' ) . '"><input type="hidden" id="_wpnonce" name="_wpnonce" value="([^"]+)"/';
	return preg_match( $pattern, $html, $m ) ? $m[1] : null;
};

$html  = $page();
$nonce = $nonce_of( $html, 'seats_set', '' );
e2e_check( null !== $nonce, 'the Seats form has a nonce' );
e2e_check( null === $row_of( $html, $event ), "event {$event} is listed before it has a capacity" );

// Refused: no nonce, a wrong nonce, a user without manage_options.
$set = array(
	'op'       => 'seats_set',
	'entry'    => '',
	'event'    => (string) $event,
	'capacity' => '5',
	'waitlist' => '1',
);
[ $end ] = $post( $set );
e2e_check( str_starts_with( $end, 'died' ), "a post without a nonce: {$end}" );
[ $end ] = $post( $set + array( '_wpnonce' => 'abc' ) );
e2e_check( str_starts_with( $end, 'died' ), "a post with a wrong nonce: {$end}" );
wp_set_current_user( 0 );
[ $end ] = $post( $set + array( '_wpnonce' => $nonce ) );
e2e_check( str_starts_with( $end, 'died You are not allowed' ), "a post by no one: {$end}" );
wp_set_current_user( $admin->ID );
e2e_same( null, Reg_Buffer_Seats::capacity( $event ), 'capacity after the refused posts' );

// Refused by the form's own checks: not whole numbers.
[ $end, $notice ] = $post( array_merge( $set, array( 'capacity' => '-3' ) ) + array( '_wpnonce' => $nonce ) );
e2e_check( str_starts_with( $end, 'redirect' ) && false === ( $notice['ok'] ?? null ), 'a capacity of -3: ' . wp_json_encode( array( $end, $notice ) ) );
e2e_same( null, Reg_Buffer_Seats::capacity( $event ), 'capacity after a capacity of -3' );

// Set: 5 with a waitlist.
[ $end, $notice ] = $post( $set + array( '_wpnonce' => $nonce ) );
e2e_check( str_starts_with( $end, 'redirect ' ) && str_contains( $end, 'page=reg-buffer' ), "set: {$end}" );
e2e_same( array( 'ok' => true, 'message' => "Event {$event} takes 5 registrations, then a waitlist." ), $notice, 'the notice after set' );
$html = $page();
$row  = $row_of( $html, $event );
e2e_same(
	array(
		'event_id'  => $event,
		'capacity'  => 5,
		'waitlist'  => true,
		'taken'     => 0,
		'waiting'   => 0,
		'remaining' => 5,
		'known'     => true,
	),
	$row,
	"the page's row of event {$event}"
);

// Change: 3 without a waitlist.
[ , $notice ] = $post( array_merge( $set, array( 'capacity' => '3', 'waitlist' => '' ) ) + array( '_wpnonce' => $nonce ) );
e2e_same( "Event {$event} takes 3 registrations, and no more.", $notice['message'] ?? null, 'the notice after a change' );
$row = $row_of( $page(), $event );
e2e_same( array( 3, false, 3 ), array( $row['capacity'] ?? null, $row['waitlist'] ?? null, $row['remaining'] ?? null ), 'capacity, waitlist, remaining after the change' );

// Recount and Remove, each with its own button's nonce.
$html         = $page();
[ , $notice ] = $post(
	array(
		'op'       => 'seats_recount',
		'entry'    => (string) $event,
		'_wpnonce' => (string) $nonce_of( $html, 'seats_recount', (string) $event ),
	)
);
e2e_same( array( 'ok' => true, 'message' => "Event {$event} recounted: 0 seats taken, 0 waiting." ), $notice, 'the notice after Recount' );
[ , $notice ] = $post(
	array(
		'op'       => 'seats_unset',
		'entry'    => (string) $event,
		'_wpnonce' => (string) $nonce_of( $html, 'seats_unset', (string) $event ),
	)
);
e2e_check( true === ( $notice['ok'] ?? null ), 'the notice after Remove: ' . wp_json_encode( $notice ) );
e2e_same( null, Reg_Buffer_Seats::capacity( $event ), 'capacity after Remove' );
e2e_same( null, $row_of( $page(), $event ), "the page's row of event {$event} after Remove" );
echo "  the Seats form set, changed, recounted and removed event {$event}'s capacity; refused without a nonce or the capability\n";
e2e_done();
