<?php
// Posts registrations to the REST route over real HTTP (nginx + php-fpm), 4 at a time, then duplicates, invalid
// bodies and an unauthenticated request; checks every status code. Accepted registrations go to the ledger.
//   php rest.php BASE_URL HOST USER APP_PASSWORD COUNT DUP_EVERY FIRST_N EXPECT
require __DIR__ . '/common.php';

[ , $base, $host, $user, $password, $count, $dup_every, $first, $expect ] = $argv;
$count     = (int) $count;
$dup_every = (int) $dup_every;
$first     = (int) $first;

function e2e_post_all( string $base, string $host, ?string $auth, array $requests, int $parallel = 4 ): array {
	$multi    = curl_multi_init();
	$answers  = array();
	$queue    = $requests;
	$running  = array();
	$start    = static function ( $key, $request ) use ( $multi, $base, $host, $auth, &$running ) {
		$curl = curl_init( $base . '/wp-json/reg-buffer/v1/events/' . $request['event_id'] . '/registrations' );
		$headers = array( 'Host: ' . $host, 'Content-Type: application/json' );
		if ( null !== $auth ) {
			$headers[] = 'Authorization: Basic ' . base64_encode( $auth );
		}
		curl_setopt_array(
			$curl,
			array(
				CURLOPT_POST           => true,
				CURLOPT_POSTFIELDS     => $request['body'],
				CURLOPT_HTTPHEADER     => $headers,
				CURLOPT_RETURNTRANSFER => true,
				CURLOPT_TIMEOUT        => 60,
			)
		);
		curl_multi_add_handle( $multi, $curl );
		$running[ (int) $curl ] = array( $key, $curl );
	};
	while ( $queue || $running ) {
		while ( $queue && count( $running ) < $parallel ) {
			$key = array_key_first( $queue );
			$start( $key, $queue[ $key ] );
			unset( $queue[ $key ] );
		}
		curl_multi_exec( $multi, $active );
		curl_multi_select( $multi, 0.05 );
		while ( $info = curl_multi_info_read( $multi ) ) {
			[ $key, $curl ]  = $running[ (int) $info['handle'] ];
			$answers[ $key ] = array( curl_getinfo( $curl, CURLINFO_RESPONSE_CODE ), (string) curl_multi_getcontent( $curl ) );
			curl_multi_remove_handle( $multi, $curl );
			unset( $running[ (int) $info['handle'] ] );
		}
	}
	return $answers;
}

$auth       = "{$user}:{$password}";
$originals  = array();
$duplicates = array();
for ( $i = 0; $i < $count; $i++ ) {
	$n         = $first + $i;
	$duplicate = $dup_every > 0 && $dup_every - 1 === $i % $dup_every;
	$origin    = $n;
	if ( $duplicate ) {
		$origin = $n - ( $dup_every - 1 );
		if ( 4 === $origin % 5 ) {
			++$origin;
		}
	}
	$event_id     = 1 + $origin % 100;
	$with_key     = 4 !== $origin % 5;
	$registration = e2e_registration( ( $duplicate ? 'dup-' : '' ) . "rest-{$n}", $origin );
	$unique_key   = $with_key ? $registration['email'] : null;
	$body         = array( 'registration' => $registration );
	if ( $with_key ) {
		$body['unique_key'] = $unique_key;
	}
	$request = array( 'event_id' => $event_id, 'unique_key' => $unique_key, 'registration' => $registration, 'body' => json_encode( $body, E2E_JSON ) );
	if ( $duplicate ) {
		$duplicates[ $n ] = $request;
	} else {
		$originals[ $n ] = $request;
	}
}

// Originals first, duplicates after: which copy is "first" must not depend on request scheduling.
$codes = array();
foreach ( e2e_post_all( $base, $host, $auth, $originals ) as $n => [ $code, $body ] ) {
	$codes[ $code ] = ( $codes[ $code ] ?? 0 ) + 1;
	$answer         = json_decode( $body, true );
	if ( 201 === $code && $expect === ( $answer['status'] ?? null ) && preg_match( '/^[0-9A-Z]{26}$/', (string) ( $answer['id'] ?? '' ) ) ) {
		$r = $originals[ $n ];
		e2e_ledger_add( $r['event_id'], $r['unique_key'], $r['registration'] );
	} else {
		e2e_check( false, "rest-{$n}: HTTP {$code} {$body}" );
	}
}
foreach ( e2e_post_all( $base, $host, $auth, $duplicates ) as $n => [ $code, $body ] ) {
	e2e_check( 409 === $code, "dup-rest-{$n} must be 409, got {$code} {$body}" );
}

// Invalid requests: 422 from the plugin; no credentials: 401 (REST's answer to a failed permission check).
$invalid = array(
	'no registration object' => array( 'event_id' => 7, 'body' => '{"unique_key":"x@example.test"}' ),
	'unique key not a string' => array( 'event_id' => 7, 'body' => '{"registration":{"ref":"bad-key"},"unique_key":42}' ),
	'event id 0'              => array( 'event_id' => 0, 'body' => '{"registration":{"ref":"bad-event"}}' ),
);
foreach ( e2e_post_all( $base, $host, $auth, $invalid ) as $what => [ $code, $body ] ) {
	e2e_check( 422 === $code, "{$what} must be 422, got {$code} {$body}" );
}
$anonymous = e2e_post_all( $base, $host, null, array( 'anon' => array( 'event_id' => 7, 'body' => '{"registration":{"ref":"anon"}}' ) ) );
e2e_same( 401, $anonymous['anon'][0], 'an unauthenticated POST' );

echo '  rest: ', count( $originals ), ' posted (', json_encode( $codes ), '), ', count( $duplicates ), " duplicates answered\n";
e2e_done();
