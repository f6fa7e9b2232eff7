<?php
/**
 * Owns the [reg_buffer_seats_left event="12"] shortcode: the places left at an event, in words, for its page.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * "37 places left", "1 place left", "Sold out", or "Waitlist open" when every seat is taken and the event has a
 * waitlist. Nothing for an event without a capacity (it has no places to count) or an id that names no event.
 */
final class Reg_Buffer_Seats_Shortcode {

	/**
	 * The shortcode's HTML: a span carrying the event and the number (data-remaining) for themes and scripts.
	 *
	 * @param array|string $atts shortcode attributes: event.
	 */
	public static function render( $atts ): string {
		$atts     = shortcode_atts( array( 'event' => '' ), $atts, 'reg_buffer_seats_left' );
		$event_id = trim( (string) $atts['event'] );
		if ( 1 !== preg_match( '/^[1-9][0-9]{0,14}$/', $event_id ) ) {
			return '';
		}
		if ( ! Reg_Buffer_Events::is_open( (int) $event_id, 'seats_left' ) && ! current_user_can( 'read_post', (int) $event_id ) ) {
			return ''; // A draft's or a closed event's seats are not the visitor's to know.
		}
		$seats     = Reg_Buffer_Seats::capacity( (int) $event_id );
		$remaining = null === $seats ? null : Reg_Buffer_Seats::remaining( (int) $event_id );
		if ( null === $remaining ) {
			return '';
		}
		if ( $remaining > 0 ) {
			$state = 'open';
			/* translators: %s: number of places */
			$words = sprintf( _n( '%s place left', '%s places left', $remaining, 'reg-buffer' ), number_format_i18n( $remaining ) );
		} elseif ( ! empty( $seats['waitlist'] ) ) {
			$state = 'waitlist';
			$words = __( 'Waitlist open', 'reg-buffer' );
		} else {
			$state = 'sold-out';
			$words = __( 'Sold out', 'reg-buffer' );
		}
		return sprintf(
			'<span class="reg-buffer-seats-left reg-buffer-seats-%s" data-event="%s" data-remaining="%s">%s</span>',
			esc_attr( $state ),
			esc_attr( $event_id ),
			esc_attr( (string) $remaining ),
			esc_html( $words )
		);
	}
}
