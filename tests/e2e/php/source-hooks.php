<?php
// Registrations from other plugins' success hooks: Event Tickets' RSVP and Tickets Commerce attendee hooks
// (shipped adapters), and a site's own hook added through the reg_buffer_source_hooks filter.
//   php source-hooks.php FIRST_N
require __DIR__ . '/common.php';

// Filters registered before WordPress loads (the documented $wp_filter pre-initialisation), as a must-use
// plugin would: the plugin reads reg_buffer_source_hooks on plugins_loaded.
$GLOBALS['wp_filter']['reg_buffer_source_hooks'][10][] = array(
	'function'      => static function ( array $hooks ): array {
		$hooks['my_form_submitted'] = static fn( $form ) => array( (int) $form['event'], $form['fields'], $form['fields']['email'] );
		return $hooks;
	},
	'accepted_args' => 1,
);
require getenv( 'STACK_WP_LOAD' );

$first    = (int) $argv[1];
$outcomes = array();
add_action(
	'reg_buffer_registered',
	static function ( $outcome, $event_id, $unique_key, $registration ) use ( &$outcomes ) {
		$outcomes[] = array( $outcome, $event_id, $unique_key, $registration );
	},
	10,
	4
);
$expect = static function ( string $what, string $status ) use ( &$outcomes ) {
	$last = array_pop( $outcomes );
	e2e_check( null !== $last && $last[0] instanceof Reg_Buffer_Outcome && $status === $last[0]->status, "{$what}: expected {$status}" );
	if ( null !== $last && 'buffered' === $status ) {
		e2e_ledger_add( (int) $last[1], $last[2], $last[3] );
	}
};

$event = wp_insert_post( array( 'post_title' => 'Ticketed event', 'post_status' => 'publish' ) );
for ( $i = 0; $i < 3; $i++ ) {
	$attendee = wp_insert_post( array( 'post_title' => "RSVP attendee {$i}", 'post_status' => 'publish' ) );
	do_action( 'event_tickets_rsvp_attendee_created', $attendee, $event, "order-{$first}-{$i}", 11 );
	$expect( "RSVP attendee {$attendee}", 'buffered' );
}
// The same attendee announced twice (a retried hook) is one registration.
do_action( 'event_tickets_rsvp_attendee_created', $attendee, $event, "order-{$first}-2", 11 );
$expect( "RSVP attendee {$attendee} again", 'duplicate' );

$ticket = new class( $event ) {
	public $ID = 12;
	private $event;
	public function __construct( $event ) {
		$this->event = $event;
	}
	public function get_event_id() {
		return $this->event;
	}
};
for ( $i = 0; $i < 2; $i++ ) {
	$attendee = get_post( wp_insert_post( array( 'post_title' => "TC attendee {$i}", 'post_status' => 'publish' ) ) );
	$order    = get_post( wp_insert_post( array( 'post_title' => "TC order {$i}", 'post_status' => 'publish' ) ) );
	do_action( 'tec_tickets_commerce_attendee_after_create', $attendee, $order, $ticket, array( 'full_name' => "Ticket Holder {$i}", 'email' => "holder{$i}@example.test" ) );
	$expect( "Tickets Commerce attendee {$attendee->ID}", 'buffered' );
}

$registration = e2e_registration( "form-{$first}", $first );
do_action( 'my_form_submitted', array( 'event' => 55, 'fields' => $registration ) );
$expect( 'a site hook added by filter', 'buffered' );
do_action( 'my_form_submitted', array( 'event' => 55, 'fields' => $registration ) );
$expect( 'the same form submitted twice', 'duplicate' );

e2e_same( 1, reg_buffer_flush_now()['batches'], 'flushed batches' );
echo "  RSVP x3 (+1 duplicate), Tickets Commerce x2, a filtered-in site hook (+1 duplicate): buffered and flushed\n";
e2e_done();
