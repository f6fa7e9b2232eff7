<?php
// Books registrations into events with a capacity, and publishes pages showing their seats, for the seats tests
// (tests/e2e/cli.sh). Accepted registrations go to the ledger; refused ones (sold out) do not.
//   php seats.php book EVENT COUNT FIRST_N   prints one line per registration: `accepted <id> <seat>` (seat:
//                                            registered | waitlisted) or `error <code>`
//   php seats.php page CONTENT               publishes a page with CONTENT, prints its id
//   php seats.php event ID                   publishes a post with that id (an open event), unless there is one
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$command = $argv[1] ?? '';
if ( 'book' === $command ) {
	[ , , $event_id, $count, $first ] = $argv;
	for ( $i = 0; $i < (int) $count; $i++ ) {
		$n            = (int) $first + $i;
		$registration = e2e_registration( "seats-{$event_id}-{$n}", $n );
		$outcome      = reg_buffer_register( (int) $event_id, $registration, $registration['email'] );
		if ( is_wp_error( $outcome ) ) {
			echo 'error ', $outcome->get_error_code(), "\n";
			continue;
		}
		e2e_check( $outcome->is_accepted(), "seats-{$event_id}-{$n}: {$outcome->status}" );
		if ( $outcome->is_accepted() ) {
			e2e_ledger_add( (int) $event_id, $registration['email'], $registration );
			echo 'accepted ', $outcome->registration_id, ' ', $outcome->seat ?? '-', "\n";
		}
	}
	e2e_done();
}
if ( 'page' === $command ) {
	$page = wp_insert_post(
		array(
			'post_type'    => 'page',
			'post_status'  => 'publish',
			'post_title'   => 'Seats',
			'post_content' => $argv[2],
		),
		true
	);
	e2e_check( ! is_wp_error( $page ), 'page: ' . ( is_wp_error( $page ) ? $page->get_error_message() : '' ) );
	echo is_wp_error( $page ) ? 0 : $page, "\n";
	e2e_done();
}
if ( 'event' === $command ) {
	$id = (int) $argv[2];
	if ( 'publish' !== get_post_status( $id ) ) {
		$post = wp_insert_post(
			array(
				'import_id'   => $id,
				'post_status' => 'publish',
				'post_title'  => "Event $id",
			),
			true
		);
		e2e_check( $post === $id, "event $id: " . ( is_wp_error( $post ) ? $post->get_error_message() : "got post $post" ) );
	}
	e2e_done();
}
fwrite( STDERR, "usage: seats.php book EVENT COUNT FIRST_N | page CONTENT | event ID\n" );
e2e_exit( 2 );
