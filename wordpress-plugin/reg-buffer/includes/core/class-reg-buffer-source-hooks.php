<?php
/**
 * Owns the adapters that take registrations from other plugins' success hooks.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Listens on the hooks returned by the `reg_buffer_source_hooks` filter.
 *
 * Each entry maps a hook name to a callback that receives the hook's arguments and returns
 * array( int $event_id, array $registration, ?string $unique_key ), or null to ignore that call.
 */
final class Reg_Buffer_Source_Hooks {

	/**
	 * Registers the listeners.
	 */
	public static function listen(): void {
		/**
		 * Filters which hooks feed registrations into the buffer.
		 *
		 * @param array<string,callable> $hooks hook name => mapper( ...$hook_args ): ?array{0:int,1:array,2:?string}.
		 */
		$hooks = (array) apply_filters( 'reg_buffer_source_hooks', self::defaults() );
		foreach ( $hooks as $hook => $mapper ) {
			if ( ! is_callable( $mapper ) ) {
				continue;
			}
			add_action(
				(string) $hook,
				static function ( ...$args ) use ( $mapper, $hook ) {
					$mapped = call_user_func_array( $mapper, $args );
					if ( ! is_array( $mapped ) ) {
						return;
					}
					$outcome = Reg_Buffer_Registrar::register( $mapped[0] ?? 0, $mapped[1] ?? null, $mapped[2] ?? null );
					if ( is_wp_error( $outcome ) ) {
						// A hook has nobody to answer to: never drop silently, report it.
						Reg_Buffer_Registrar::report_error(
							'rejected',
							null,
							array(
								'hook'  => $hook,
								'error' => $outcome->get_error_message(),
							)
						);
					}
				},
				20,
				10
			);
		}
	}

	/**
	 * The shipped adapters: the seed snippet's hook and Event Tickets' attendee-created hooks.
	 *
	 * @return array<string,callable>
	 */
	public static function defaults(): array {
		return array(
			// The seed blog post's hook: ( $event_id, $registration_data ). An e-mail field, when present, dedupes.
			'my_event_plugin_registration_success'       => array( __CLASS__, 'map_seed' ),
			// Event Tickets RSVP, called with the attendee id, the post id, the order id and the product id.
			'event_tickets_rsvp_attendee_created'        => array( __CLASS__, 'map_rsvp_attendee' ),
			// Tickets Commerce: called with the attendee and order posts, the ticket object and its arguments.
			'tec_tickets_commerce_attendee_after_create' => array( __CLASS__, 'map_commerce_attendee' ),
		);
	}

	/**
	 * Seed hook mapper.
	 *
	 * @param mixed $event_id          event.
	 * @param mixed $registration_data fields.
	 */
	public static function map_seed( $event_id = 0, $registration_data = null ): ?array {
		if ( ! is_array( $registration_data ) ) {
			return null;
		}
		// The key is the e-mail as an address compares: no surrounding spaces, one case (a key the rules refuse, e.g.
		// not UTF-8, refuses the registration, reported through reg_buffer_error).
		$email = is_string( $registration_data['email'] ?? null ) ? strtolower( trim( $registration_data['email'] ) ) : '';
		return array( (int) $event_id, $registration_data, '' !== $email ? $email : null );
	}

	/**
	 * Event Tickets RSVP mapper: the attendee post already exists, so its id is the unique key.
	 */
	public static function map_rsvp_attendee( $attendee_id = 0, $post_id = 0, $order_id = '', $product_id = 0 ): ?array {
		if ( (int) $attendee_id <= 0 || (int) $post_id <= 0 ) {
			return null;
		}
		return array(
			(int) $post_id,
			array(
				'source'      => 'event-tickets-rsvp',
				'attendee_id' => (int) $attendee_id,
				'order_id'    => (string) $order_id,
				'ticket_id'   => (int) $product_id,
			),
			'attendee:' . (int) $attendee_id,
		);
	}

	/**
	 * Tickets Commerce mapper.
	 */
	public static function map_commerce_attendee( $attendee = null, $order = null, $ticket = null, $args = array() ): ?array {
		$attendee_id = is_object( $attendee ) && isset( $attendee->ID ) ? (int) $attendee->ID : 0;
		$event_id    = is_object( $ticket ) && method_exists( $ticket, 'get_event_id' ) ? (int) $ticket->get_event_id() : 0;
		if ( $attendee_id <= 0 || $event_id <= 0 ) {
			return null;
		}
		$args = is_array( $args ) ? $args : array();
		return array(
			$event_id,
			array(
				'source'      => 'tickets-commerce',
				'attendee_id' => $attendee_id,
				'order_id'    => is_object( $order ) && isset( $order->ID ) ? (int) $order->ID : 0,
				'ticket_id'   => is_object( $ticket ) && isset( $ticket->ID ) ? (int) $ticket->ID : 0,
				'full_name'   => isset( $args['full_name'] ) ? (string) $args['full_name'] : '',
				'email'       => isset( $args['email'] ) ? (string) $args['email'] : '',
			),
			'attendee:' . $attendee_id,
		);
	}
}
