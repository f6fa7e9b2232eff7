<?php
// With REG_BUFFER_MIRROR_POSTMETA on, the flush copies the fields of newly inserted registrations into the
// event's postmeta in the same transaction, each under `reg_buffer_<field>` — never a protected key a registrant
// names (`_thumbnail_id`, `_wp_page_template`, page-builder data) — and a batch stored a second time adds none.
//   php mirror.php FIRST_N
define( 'REG_BUFFER_MIRROR_POSTMETA', true );
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$first    = (int) $argv[1];
$event_id = wp_insert_post( array( 'post_title' => 'Mirrored event', 'post_status' => 'publish', 'post_type' => 'post' ) );
e2e_check( is_int( $event_id ) && $event_id > 0, 'event post created' );
$ids = array();
for ( $n = $first; $n < $first + 20; $n++ ) {
	$registration = e2e_registration( "mirror-{$n}", $n );
	// Fields named like protected post meta, as an attacker's form would post them.
	$registration += array(
		'_thumbnail_id'     => '1',
		'_wp_page_template' => 'evil.php',
		'_elementor_data'   => '[{"elType":"widget","settings":{"html":"<script>alert(1)</script>"}}]',
	);
	$outcome      = reg_buffer_register( $event_id, $registration, $registration['email'] );
	e2e_check( $outcome instanceof Reg_Buffer_Outcome && 'buffered' === $outcome->status, "mirror-{$n} buffered" );
	$ids[] = $outcome->registration_id;
	e2e_ledger_add( $event_id, $registration['email'], $registration );
}
$summary = reg_buffer_flush_now();
e2e_same( 20, $summary['inserted'], 'registrations the flush inserted' );

global $wpdb;
$mirrored = static fn( string $key ) => (int) $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->postmeta} WHERE post_id = %d AND meta_key = %s", $event_id, $key ) );
e2e_same( 20, $mirrored( '_reg_buffer_registration_id' ), 'registration ids mirrored into postmeta' );
e2e_same( 20, $mirrored( 'reg_buffer_email' ), 'e-mail fields mirrored into postmeta (prefixed)' );
e2e_same( 0, $mirrored( 'email' ), 'fields mirrored without the prefix' );
foreach ( array( '_thumbnail_id', '_wp_page_template', '_elementor_data' ) as $protected ) {
	e2e_same( 0, $mirrored( $protected ), "protected meta {$protected} written by a registrant" );
	e2e_same( 20, $mirrored( 'reg_buffer_' . $protected ), "the field {$protected} mirrored under its prefixed key" );
}
e2e_same( '', get_page_template_slug( $event_id ), 'the event\'s page template' );
e2e_same( false, has_post_thumbnail( $event_id ), 'the event has a thumbnail' );
$answers = get_post_meta( $event_id, 'reg_buffer_answers', false );
e2e_same( e2e_registration( 'x', $first )['answers'], json_decode( (string) ( $answers[0] ?? '' ), true ), 'a nested field mirrored as JSON' );

// The same rows once more, as a redelivered batch would bring them: nothing new in the table or in postmeta.
$table = Reg_Buffer_Store::table();
$rows  = array_map(
	static fn( $row ) => array(
		'id'            => $row['registration_id'],
		'event_id'      => (int) $row['event_id'],
		'registered_at' => (float) strtotime( $row['registered_at'] . ' UTC' ),
		'unique_key'    => $row['unique_key'],
		'json'          => $row['data'],
	),
	$wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$table} WHERE registration_id IN (" . implode( ',', array_fill( 0, count( $ids ), '%s' ) ) . ')', $ids ), ARRAY_A )
);
e2e_same( 20, count( $rows ), 'rows of the mirrored registrations' );
e2e_same( 0, Reg_Buffer_Store::insert( $rows ), 'rows inserted when the batch is stored again' );
e2e_same( 20, $mirrored( '_reg_buffer_registration_id' ), 'postmeta after the batch was stored again' );
echo "  mirrored 20 registrations into postmeta of event {$event_id}; a second delivery added nothing\n";
e2e_done();
