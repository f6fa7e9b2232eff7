<?php
// A rush on one event over real HTTP: CLIENTS clients at once (curl_multi), each posting its share of COUNT
// registrations one after another, to the REST route or the fast intake. Registrations carry ref "rush-<n>".
//   php rush.php rest   BASE HOST USER:APP_PASSWORD EVENT COUNT CLIENTS FIRST_N OUT [no-ledger]
//   php rush.php intake INTAKE_URL HOST TOKEN        EVENT COUNT CLIENTS FIRST_N OUT [no-ledger]
// Every 201 goes to the ledger (E2E_LEDGER) unless no-ledger (registrations the test expects to lose). OUT gets one
// JSON line per request ({n, client, code, code_name, seat, remaining, id, data_remaining}); stdout one JSON summary:
// registered / waitlisted (201s by seat), sold_out (409 reg_buffer_sold_out with data.remaining 0), other (any
// other answer, by status and code), remaining (the registered 201s' remaining, sorted), in_client_order (no client
// got a registered seat after one of its own earlier requests was waitlisted or sold out).
require __DIR__ . '/common.php';

[ , $mode, $url, $host, $secret, $event, $count, $clients, $first, $out ] = $argv;
$ledger  = 'no-ledger' !== ( $argv[10] ?? '' );
$event   = (int) $event;
$count   = (int) $count;
$clients = max( 1, (int) $clients );
$first   = (int) $first;
e2e_check( in_array( $mode, array( 'rest', 'intake' ), true ), "mode {$mode}" );

$requests = array(); // client => list of n, in the order that client sends them
for ( $i = 0; $i < $count; $i++ ) {
	$requests[ $i % $clients ][] = $first + $i;
}

/** The request of registration $n (ref rush-<n>, unique key rush-<n>@example.test). */
$make = static function ( int $n ) use ( $mode, $url, $host, $secret, $event ) {
	$body    = array(
		'registration' => array(
			'ref'  => "rush-{$n}",
			'name' => "Rush Zoë #{$n}",
			'n'    => $n,
		),
		'unique_key'   => "rush-{$n}@example.test",
	);
	$headers = array( 'Host: ' . $host, 'Content-Type: application/json' );
	if ( 'rest' === $mode ) {
		$target    = "{$url}/wp-json/reg-buffer/v1/events/{$event}/registrations";
		$headers[] = 'Authorization: Basic ' . base64_encode( $secret );
	} else {
		$target    = "{$url}?event={$event}";
		$headers[] = 'X-Reg-Buffer-Token: ' . $secret;
	}
	$curl = curl_init( $target );
	curl_setopt_array(
		$curl,
		array(
			CURLOPT_POST           => true,
			CURLOPT_POSTFIELDS     => json_encode( $body, E2E_JSON ),
			CURLOPT_HTTPHEADER     => $headers,
			CURLOPT_RETURNTRANSFER => true,
			CURLOPT_TIMEOUT        => 120,
		)
	);
	return array( $curl, $body );
};

$multi   = curl_multi_init();
$running = array(); // (int) handle => [client, n, curl, body]
$next    = array_fill_keys( array_keys( $requests ), 0 );
$start   = static function ( int $client ) use ( &$running, &$next, $requests, $multi, $make ) {
	if ( $next[ $client ] >= count( $requests[ $client ] ) ) {
		return;
	}
	$n = $requests[ $client ][ $next[ $client ]++ ];
	[ $curl, $body ] = $make( $n );
	curl_multi_add_handle( $multi, $curl );
	$running[ (int) $curl ] = array( $client, $n, $curl, $body );
};
foreach ( array_keys( $requests ) as $client ) {
	$start( $client );
}
$answers = array();
$log     = fopen( $out, 'w' );
while ( $running ) {
	curl_multi_exec( $multi, $active );
	curl_multi_select( $multi, 0.05 );
	while ( $info = curl_multi_info_read( $multi ) ) {
		[ $client, $n, $curl, $body ] = $running[ (int) $info['handle'] ];
		unset( $running[ (int) $info['handle'] ] );
		$code   = (int) curl_getinfo( $curl, CURLINFO_RESPONSE_CODE );
		$reply  = json_decode( (string) curl_multi_getcontent( $curl ), true );
		$reply  = is_array( $reply ) ? $reply : array();
		$answer = array(
			'n'              => $n,
			'client'         => $client,
			'code'           => $code,
			'code_name'      => $reply['code'] ?? null,
			'seat'           => $reply['seat'] ?? null,
			'remaining'      => $reply['remaining'] ?? null,
			'id'             => $reply['id'] ?? null,
			'data_remaining' => $reply['data']['remaining'] ?? null,
		);
		fwrite( $log, json_encode( $answer, E2E_JSON ) . "\n" );
		$answers[] = $answer;
		if ( 201 === $code && $ledger ) {
			e2e_ledger_add( $event, $body['unique_key'], $body['registration'] );
		}
		curl_multi_remove_handle( $multi, $curl );
		$start( $client );
	}
}
fclose( $log );

$summary  = array(
	'registered'      => 0,
	'waitlisted'      => 0,
	'sold_out'        => 0,
	'other'           => array(),
	'remaining'       => array(),
	'in_client_order' => true,
);
$past_seat = array(); // client => true once one of its answers was not a registered seat
foreach ( $answers as $a ) {
	if ( 201 === $a['code'] && 'registered' === $a['seat'] && is_string( $a['id'] ) ) {
		++$summary['registered'];
		$summary['remaining'][] = $a['remaining'];
		if ( isset( $past_seat[ $a['client'] ] ) ) {
			$summary['in_client_order'] = false;
		}
		continue;
	}
	$past_seat[ $a['client'] ] = true;
	if ( 201 === $a['code'] && 'waitlisted' === $a['seat'] && is_string( $a['id'] ) && 0 === $a['remaining'] ) {
		++$summary['waitlisted'];
	} elseif ( 409 === $a['code'] && 'reg_buffer_sold_out' === $a['code_name'] && 0 === $a['data_remaining'] ) {
		++$summary['sold_out'];
	} else {
		$key                      = $a['code'] . ' ' . ( $a['code_name'] ?? $a['seat'] ?? '-' );
		$summary['other'][ $key ] = ( $summary['other'][ $key ] ?? 0 ) + 1;
	}
}
sort( $summary['remaining'] );
$summary['other'] = (object) $summary['other'];
echo json_encode( $summary, E2E_JSON ), "\n";
e2e_done();
