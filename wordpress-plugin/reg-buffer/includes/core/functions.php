<?php
/**
 * Owns the plugin's public PHP functions.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

if ( ! function_exists( 'reg_buffer_register' ) ) {
	/**
	 * Takes one registration: buffers it in Redis, or writes it straight to MySQL when that is not possible.
	 *
	 * @param int         $event_id     the event (> 0).
	 * @param array       $registration the registration's fields (strings, numbers, bools, null, nested arrays).
	 * @param string|null $unique_key   e.g. the attendee's e-mail: a second registration with it is a duplicate.
	 * @return Reg_Buffer_Outcome|WP_Error outcome status buffered | stored | duplicate (and, for an event with a
	 *                                     capacity, seat registered | waitlisted and remaining); WP_Error 422
	 *                                     (invalid), 409 reg_buffer_sold_out, or 503 (not taken: try again).
	 */
	function reg_buffer_register( $event_id, $registration, $unique_key = null ) {
		return Reg_Buffer_Registrar::register( $event_id, $registration, $unique_key );
	}
}

if ( ! function_exists( 'reg_buffer_status' ) ) {
	/**
	 * The plugin's status for the current site: whether the extension is loaded, the mode (buffer or direct),
	 * how many registrations fell back to direct writes, stored rows, buffer statistics, last flush.
	 *
	 * @return array<string,mixed>
	 */
	function reg_buffer_status(): array {
		return Reg_Buffer_Status::report();
	}
}

if ( ! function_exists( 'reg_buffer_flush_now' ) ) {
	/**
	 * Runs one flush now (what WP-Cron runs every minute); returns its summary.
	 *
	 * @param array $budget optional: time, memory, batch_size, lease_seconds.
	 */
	function reg_buffer_flush_now( array $budget = array() ): array {
		return Reg_Buffer_Flusher::run( $budget );
	}
}

if ( ! function_exists( 'reg_buffer_set_capacity' ) ) {
	/**
	 * Limits event $event_id to $capacity registrations (null: unlimited again). Past it, a registration is refused
	 * (409 reg_buffer_sold_out), or waitlisted with $waitlist and given a seat when one is cancelled
	 * (reg_buffer_cancel_registration(); action `reg_buffer_promoted`).
	 *
	 * @param int      $event_id the event (> 0).
	 * @param int|null $capacity seats (>= 0), or null to remove the limit.
	 * @param bool     $waitlist waitlist registrations past the capacity instead of refusing them.
	 * @return true|WP_Error
	 */
	function reg_buffer_set_capacity( $event_id, ?int $capacity, bool $waitlist = false ) {
		return Reg_Buffer_Seats::set_capacity( (int) $event_id, $capacity, $waitlist );
	}
}

if ( ! function_exists( 'reg_buffer_seats_left' ) ) {
	/**
	 * Places left at event $event_id: null when it has no capacity, 0 when sold out or when it cannot be known now.
	 *
	 * @param int $event_id the event.
	 */
	function reg_buffer_seats_left( $event_id ): ?int {
		return Reg_Buffer_Seats::remaining( (int) $event_id );
	}
}

if ( ! function_exists( 'reg_buffer_cancel_registration' ) ) {
	/**
	 * Cancels a stored registration; its seat goes to the oldest waitlisted registration of the event, if any.
	 *
	 * @param string $registration_id the id reg_buffer_register() gave.
	 * @return array|WP_Error event_id, was (registered | waitlisted), release, promoted (ids); WP_Error 404 unknown,
	 *                        409 already cancelled or still buffered (reg_buffer_not_stored_yet: flush first).
	 */
	function reg_buffer_cancel_registration( $registration_id ) {
		return Reg_Buffer_Seats::cancel( (string) $registration_id );
	}
}

// The fast intake's template functions: Reg_Buffer_Intake loads on their first call.
if ( ! function_exists( 'reg_buffer_form_token' ) ) {
	/**
	 * A signed, expiring token for a registration form of event $event_id, posted to reg_buffer_intake_url().
	 * Put it in the form as `reg_buffer_token` (or use the [reg_buffer_form_token event="…"] shortcode).
	 * Do not let a page cache share one page (and so one token) between visitors: its use limit is per token.
	 *
	 * @param int   $event_id the event (> 0).
	 * @param array $args     ttl (seconds, default 7200), uses (registrations it may carry, default 1).
	 */
	function reg_buffer_form_token( $event_id, array $args = array() ): string {
		return Reg_Buffer_Intake::mint( (int) $event_id, $args );
	}
}

if ( ! function_exists( 'reg_buffer_intake_url' ) ) {
	/**
	 * The URL a registration form of event $event_id posts to (the fast intake).
	 *
	 * @param int $event_id the event.
	 */
	function reg_buffer_intake_url( $event_id ): string {
		return Reg_Buffer_Intake::url( (int) $event_id );
	}
}
