<?php
/**
 * Owns which events take registrations from the public entries (the REST route, the fast intake's tokens).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * An event is a post. It takes registrations when it is published and of an allowed post type (filter
 * `reg_buffer_event_post_types`, default: every public post type but attachments), unless the filter
 * `reg_buffer_event_open` says otherwise (e.g. a registration deadline, or events that are not posts).
 */
final class Reg_Buffer_Events {

	/**
	 * Whether event $event_id takes registrations now.
	 *
	 * @param int    $event_id the event.
	 * @param string $entry    who asks: rest | intake_token | seats_left (the places-left shortcode).
	 */
	public static function is_open( int $event_id, string $entry ): bool {
		$post = $event_id > 0 ? get_post( $event_id ) : null;
		$open = $post instanceof WP_Post && 'publish' === $post->post_status && in_array( $post->post_type, self::post_types(), true );
		/**
		 * Filters whether an event takes registrations from the REST route and the fast intake (checked when a
		 * REST request arrives, when a form token is minted and again when an intake registration is flushed).
		 *
		 * @param bool   $open     default: a published post of an allowed post type.
		 * @param int    $event_id the event.
		 * @param string $entry    rest | intake_token | seats_left.
		 */
		return (bool) apply_filters( 'reg_buffer_event_open', $open, $event_id, $entry );
	}

	/**
	 * Whether the event is a published post (what an anonymous caller may learn about it).
	 */
	public static function is_published( int $event_id ): bool {
		return $event_id > 0 && 'publish' === get_post_status( $event_id );
	}

	/**
	 * The post types events may have.
	 *
	 * @return string[]
	 */
	public static function post_types(): array {
		$types = array_values( array_diff( get_post_types( array( 'public' => true ) ), array( 'attachment' ) ) );
		/**
		 * Filters the post types whose published posts take registrations.
		 *
		 * @param string[] $types default: the public post types but attachment.
		 */
		return array_map( 'strval', (array) apply_filters( 'reg_buffer_event_post_types', $types ) );
	}
}
