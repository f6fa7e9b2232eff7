<?php
// What any code reading an event's postmeta gets (WordPress loaded): php wp_read_meta.php EVENT_ID
// Prints {"meta_key": ["string value" | {"not a string": "object RbFaultsCanary"}, ...], ...}. get_post_meta()
// unserializes what looks serialized: a registration field mirrored as a serialized object would come back as
// an object (and the canary plugin's __wakeup would run).
require getenv( 'STACK_WP_LOAD' );
$out = array();
// get_post_meta( $id ) without a key returns the raw strings; with a key, WordPress unserializes (as themes do).
foreach ( array_keys( get_post_meta( (int) $argv[1] ) ) as $key ) {
	foreach ( get_post_meta( (int) $argv[1], (string) $key ) as $value ) {
		$out[ $key ][] = is_string( $value ) ? $value : array( 'not a string' => is_object( $value ) ? 'object ' . get_class( $value ) : gettype( $value ) );
	}
}
echo json_encode( $out, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE ), "\n";
