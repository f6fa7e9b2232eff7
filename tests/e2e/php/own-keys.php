<?php
// Every Redis key the site's buffer holds is one src/core/keys.rs names (the extension owns Redis): after a status
// check (the Redis watch), a flush and the REST route's rate-limited posts the caller made, each key under the site's
// prefix matches a row of keys.rs's table, and no key anywhere is the plugin's old `plugin:marker` or `rest:rate:*`.
// Prints how many keys it checked, by pattern.
//   php own-keys.php    (needs E2E_REDIS_PORT)
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

reg_buffer_status(); // What the status page and `wp reg-buffer status` run: the Redis watch observes.
reg_buffer_flush_now();

// keys.rs's table: "//! | `<p>ev:{<e>}:q` | list | …". A placeholder is one part of a name: <p> the site's prefix,
// <e> an event id, <sha256(…)> a digest (keys.rs: SHA-256's first 16 bytes in hex), anything else one ':'-free part.
$prefix   = Reg_Buffer_Settings::site_key_prefix();
$patterns = array();
preg_match_all( '/^\/\/! \| `(<p>[^`]+)`/m', (string) file_get_contents( dirname( __DIR__, 3 ) . '/src/core/keys.rs' ), $rows );
foreach ( $rows[1] as $row ) {
	$regex = '';
	foreach ( preg_split( '/(<[^>]*>)/', $row, -1, PREG_SPLIT_DELIM_CAPTURE | PREG_SPLIT_NO_EMPTY ) as $part ) {
		if ( '<p>' === $part ) {
			$regex .= preg_quote( $prefix, '/' );
		} elseif ( '<e>' === $part ) {
			$regex .= '[1-9][0-9]*';
		} elseif ( str_starts_with( $part, '<sha256' ) ) {
			$regex .= '[0-9a-f]{32}';
		} elseif ( str_starts_with( $part, '<' ) ) {
			$regex .= '[^:]+';
		} else {
			$regex .= preg_quote( $part, '/' );
		}
	}
	$patterns[ $row ] = '/^' . $regex . '$/';
}
e2e_check( count( $patterns ) >= 10, 'keys.rs\'s key table was read (' . count( $patterns ) . ' rows)' );

$redis = new Redis();
$redis->connect( '127.0.0.1', (int) e2e_env( 'E2E_REDIS_PORT' ) );
$seen     = array();
$iterator = null;
do {
	$batch = $redis->scan( $iterator, '*', 1000 );
	foreach ( is_array( $batch ) ? $batch : array() as $key ) {
		e2e_check( ! str_contains( $key, 'plugin:marker' ) && ! str_contains( $key, 'rest:rate:' ), "a key the plugin wrote itself: {$key}" );
		if ( ! str_starts_with( $key, $prefix ) ) {
			continue; // Another site's or the seed snippet's keys (other tests): not this site's buffer.
		}
		$named = null;
		foreach ( $patterns as $row => $regex ) {
			if ( preg_match( $regex, $key ) ) {
				$named = $row;
				break;
			}
		}
		e2e_check( null !== $named, "a key keys.rs does not name: {$key}" );
		$seen[ $named ?? '?' ] = ( $seen[ $named ?? '?' ] ?? 0 ) + 1;
	}
} while ( $iterator > 0 );
e2e_check( isset( $seen['<p>epoch'] ), 'the epoch is there (the keys were read from the site\'s Redis)' );
echo '  keys under ', $prefix, ': ', json_encode( $seen, JSON_UNESCAPED_SLASHES ), "\n";
e2e_done();
