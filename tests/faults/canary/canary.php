<?php
/**
 * Plugin Name: reg_buffer faults canary
 * Description: Test only (tests/faults s15). A class whose __wakeup and __destruct write a file, so a registration
 * that carries a serialized object of it shows whether anything unserialized it; and a control route that does
 * unserialize its body, to prove the canary works in this site's requests.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

// phpcs:disable
final class RbFaultsCanary {
	public $tag = '';

	public function __wakeup() {
		$this->touch( 'wakeup' );
	}

	public function __destruct() {
		if ( '' !== $this->tag ) {
			$this->touch( 'destruct' );
		}
	}

	private function touch( string $what ) {
		if ( defined( 'RB_FAULTS_CANARY_DIR' ) ) {
			file_put_contents( RB_FAULTS_CANARY_DIR . '/' . $what . '-' . preg_replace( '/[^a-z0-9-]/', '', (string) $this->tag ), (string) getmypid() );
		}
	}
}

add_action(
	'rest_api_init',
	static function () {
		register_rest_route(
			'rb-faults/v1',
			'/control',
			array(
				'methods'             => 'POST',
				'permission_callback' => '__return_true',
				'callback'            => static function ( $request ) {
					$value = unserialize( $request->get_body() );
					return array( 'class' => is_object( $value ) ? get_class( $value ) : gettype( $value ) );
				},
			)
		);
	}
);

// s15 posts to its own event ids (800000 + pid), which are no posts: open them, since the REST route takes only
// open events (issue 13 item 8; filter reg_buffer_event_open).
add_filter( 'reg_buffer_event_open', static fn( $open, $event_id ) => $open || $event_id >= 800000, 10, 2 );
