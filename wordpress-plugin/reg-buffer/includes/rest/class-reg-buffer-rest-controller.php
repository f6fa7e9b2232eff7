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
 * Answers 201 {id, status} when accepted (for an event with a capacity also seat: registered | waitlisted, and
 * remaining: places left), 409 duplicate, 409 reg_buffer_sold_out (data.remaining 0) when every seat is taken and
 * the event has no waitlist, 422 invalid (or reg_buffer_event_closed), 404
 * reg_buffer_event_not_found (no published event of an allowed type), 503 when neither Redis nor MySQL took it,
 * and 429 (with Retry-After) past REG_BUFFER_REST_RATE_LIMIT registrations per client address and minute. With a
 * limit set, every answer carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (Unix time).
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
					// Validation stays in the registrar so every path answers the same 422 for the same input. The id
					// has no schema type on purpose: WordPress would cast digits past PHP_INT_MAX to another number.
					'args'                => array(
						'id' => array( 'description' => __( 'The event (post) id.', 'reg-buffer' ) ),
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
		// After the permission check: refused callers do not spend the allowance of an address they share.
		$limit = Reg_Buffer_Rate_Limit::hit( $request );
		if ( null !== $limit && ! $limit['allowed'] ) {
			$response = rest_convert_error_to_response( new WP_Error( 'reg_buffer_rate_limited', __( 'Too many registrations from this address; please try again in a minute.', 'reg-buffer' ), array( 'status' => 429 ) ) );
			$response->header( 'Retry-After', (string) $limit['retry_after'] );
			return self::with_limit_headers( $response, $limit );
		}
		return self::with_limit_headers( $this->take( $request ), $limit );
	}

	/**
	 * Takes one registration through the registrar.
	 *
	 * @param WP_REST_Request $request request.
	 * @return WP_REST_Response|WP_Error
	 */
	private function take( $request ) {
		$body         = $request->get_json_params();
		$registration = is_array( $body ) ? ( $body['registration'] ?? null ) : null;
		if ( ! is_array( $registration ) ) {
			return Reg_Buffer_Registration::invalid( __( 'The body must be JSON with a "registration" object.', 'reg-buffer' ) );
		}
		// The route's digits as sent: past PHP_INT_MAX a cast would quietly store the registration under another event.
		$event_id = filter_var( ltrim( (string) $request['id'], '0' ), FILTER_VALIDATE_INT, array( 'options' => array( 'min_range' => 1 ) ) );
		if ( false === $event_id ) {
			return Reg_Buffer_Registration::invalid( __( 'The event id must be a positive integer.', 'reg-buffer' ) );
		}
		// Only events that take registrations (Reg_Buffer_Events): 404 for what an anonymous caller cannot see, 422 for
		// a published event that is closed.
		if ( ! Reg_Buffer_Events::is_open( $event_id, 'rest' ) ) {
			return Reg_Buffer_Events::is_published( $event_id )
				? new WP_Error( 'reg_buffer_event_closed', __( 'This event does not take registrations.', 'reg-buffer' ), array( 'status' => 422 ) )
				: new WP_Error( 'reg_buffer_event_not_found', __( 'There is no such event.', 'reg-buffer' ), array( 'status' => 404 ) );
		}
		$unique_key = $body['unique_key'] ?? null;
		$outcome    = Reg_Buffer_Registrar::register( $event_id, $registration, $unique_key );
		if ( is_wp_error( $outcome ) ) {
			return $outcome; // 409 reg_buffer_sold_out carries data.remaining 0.
		}
		if ( ! $outcome->is_accepted() ) {
			return new WP_Error( 'reg_buffer_duplicate', __( 'This registration was already received.', 'reg-buffer' ), array( 'status' => 409 ) );
		}
		return new WP_REST_Response( $outcome->to_array(), 201 );
	}

	/**
	 * Adds the rate limit's headers (when a limit applies) to any answer.
	 *
	 * @param WP_REST_Response|WP_Error $result answer.
	 * @param array|null                $limit  from Reg_Buffer_Rate_Limit::hit().
	 * @return WP_REST_Response|WP_Error
	 */
	private static function with_limit_headers( $result, ?array $limit ) {
		if ( null === $limit ) {
			return $result;
		}
		$response = is_wp_error( $result ) ? rest_convert_error_to_response( $result ) : $result;
		$response->header( 'X-RateLimit-Limit', (string) $limit['limit'] );
		$response->header( 'X-RateLimit-Remaining', (string) $limit['remaining'] );
		$response->header( 'X-RateLimit-Reset', (string) $limit['reset'] );
		return $response;
	}
}
