<?php
/**
 * Owns the REST route POST /wp-json/reg-buffer/v1/events/{id}/registrations.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The path a high-traffic registration form posts to.
 *
 * Body: {"registration": {...fields}, "unique_key": "optional, e.g. the e-mail"}.
 * Answers 201 {id, status} when accepted, 409 duplicate, 422 invalid, 503 when neither Redis nor MySQL took it.
 */
final class Reg_Buffer_REST_Controller extends WP_REST_Controller {

	public function __construct() {
		$this->namespace = 'reg-buffer/v1';
		$this->rest_base = 'events/(?P<id>\d+)/registrations';
	}

	/**
	 * Registers the route.
	 */
	public function register_routes(): void {
		register_rest_route(
			$this->namespace,
			'/' . $this->rest_base,
			array(
				array(
					'methods'             => WP_REST_Server::CREATABLE,
					'callback'            => array( $this, 'create_item' ),
					'permission_callback' => array( $this, 'create_item_permissions_check' ),
					// Validation stays in the registrar so every path answers the same 422 for the same input.
					'args'                => array(
						'id' => array( 'type' => 'integer' ),
					),
				),
			)
		);
	}

	/**
	 * Who may post: users who can edit posts (REST cookie auth checks the wp_rest nonce; application passwords
	 * work too). Public forms relax it with the REG_BUFFER_REST_PUBLIC constant or the filter.
	 *
	 * @param WP_REST_Request $request request.
	 * @return bool
	 */
	public function create_item_permissions_check( $request ) {
		$allowed = Reg_Buffer_Settings::get( 'rest_public' ) || current_user_can( 'edit_posts' );
		/**
		 * Filters whether this request may post a registration.
		 *
		 * @param bool            $allowed default decision.
		 * @param WP_REST_Request $request the request.
		 */
		return (bool) apply_filters( 'reg_buffer_rest_permission', $allowed, $request );
	}

	/**
	 * Takes one registration.
	 *
	 * @param WP_REST_Request $request request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function create_item( $request ) {
		$body         = $request->get_json_params();
		$registration = is_array( $body ) ? ( $body['registration'] ?? null ) : null;
		if ( ! is_array( $registration ) ) {
			return Reg_Buffer_Registration::invalid( __( 'The body must be JSON with a "registration" object.', 'reg-buffer' ) );
		}
		$unique_key = $body['unique_key'] ?? null;
		$outcome    = Reg_Buffer_Registrar::register( (int) $request['id'], $registration, $unique_key );
		if ( is_wp_error( $outcome ) ) {
			return $outcome;
		}
		if ( ! $outcome->is_accepted() ) {
			return new WP_Error( 'reg_buffer_duplicate', __( 'This registration was already received.', 'reg-buffer' ), array( 'status' => 409 ) );
		}
		return new WP_REST_Response( $outcome->to_array(), 201 );
	}
}
