<?php
/**
 * Plugin Name: reg_buffer bench routes
 * Description: Bench-only REST routes beside the plugin's: a do-nothing route (WordPress's bootstrap floor) and the
 *              same registration route writing straight to MySQL with add_post_meta x5 (autocommit), as a site
 *              does without reg_buffer. Installed by bench/run.sh on its throw-away site only.
 */
if ( ! defined( 'ABSPATH' ) ) {
	exit;
}
// The bench's event 7 takes registrations (the plugin's public entries take only open events; no post is made).
add_filter( 'reg_buffer_event_open', static fn( $open, $event_id ) => $open || 7 === (int) $event_id, 10, 2 );
add_action( 'rest_api_init', function () {
	register_rest_route( 'reg-buffer-bench/v1', '/events/(?P<id>\d+)/noop', array(
		'methods'             => 'POST',
		'permission_callback' => '__return_true',
		'callback'            => function ( WP_REST_Request $request ) {
			return new WP_REST_Response( array( 'status' => 'noop' ), 201 );
		},
	) );
	register_rest_route( 'reg-buffer-bench/v1', '/events/(?P<id>\d+)/postmeta', array(
		'methods'             => 'POST',
		'permission_callback' => '__return_true',
		'callback'            => function ( WP_REST_Request $request ) {
			$body = $request->get_json_params();
			$registration = is_array( $body ) ? ( $body['registration'] ?? null ) : null;
			if ( ! is_array( $registration ) ) {
				return new WP_Error( 'invalid', 'The body must be JSON with a "registration" object.', array( 'status' => 422 ) );
			}
			$event_id = (int) $request['id'];
			foreach ( $registration as $key => $value ) {
				add_post_meta( $event_id, sanitize_key( (string) $key ), is_scalar( $value ) ? sanitize_text_field( (string) $value ) : $value );
			}
			return new WP_REST_Response( array( 'status' => 'stored' ), 201 );
		},
	) );
} );
