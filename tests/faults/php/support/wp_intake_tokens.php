<?php
// Tokens for intake_abuse (WordPress loaded): php wp_intake_tokens.php OUT_JSON LEGIT ATTACK
// Makes an open event (a published post) and a draft, mints LEGIT one-use tokens and ATTACK fresh one-use tokens
// (an attacker reloading the form once per try), one 1000-use token, and writes them with the site's intake config
// facts (file, rate limit, max_pending) to OUT_JSON.
require getenv( 'STACK_WP_LOAD' );
[ , $out, $legit, $attack ] = $argv;
$event = wp_insert_post( array( 'post_title' => 's16 rush', 'post_status' => 'publish', 'post_type' => 'post' ), true );
$draft = wp_insert_post( array( 'post_title' => 's16 draft', 'post_status' => 'draft', 'post_type' => 'post' ), true );
if ( is_wp_error( $event ) || is_wp_error( $draft ) ) {
	fwrite( STDERR, "cannot create the events\n" );
	exit( 1 );
}
$mint = static fn( int $n, int $uses = 1 ) => array_map( static fn() => reg_buffer_form_token( $event, array( 'uses' => $uses ) ), range( 1, max( 1, $n ) ) );
$draft_token = '';
try {
	$draft_token = reg_buffer_form_token( $draft );
} catch ( Throwable $e ) {
	$draft_token = ''; // No token for an event that is not open: what the scenario expects.
}
file_put_contents(
	$out,
	json_encode(
		array(
			'event'       => $event,
			'draft'       => $draft,
			'draft_token' => $draft_token,
			'legit'       => $mint( (int) $legit ),
			'attack'      => $mint( (int) $attack ),
			'many_uses'   => $mint( 1, 1000 )[0],
			'config'      => Reg_Buffer_Intake::config(),
		)
	)
);
echo "tokens for event $event\n";
