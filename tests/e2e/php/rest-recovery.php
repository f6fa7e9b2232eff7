<?php
// After Redis comes back, php-fpm workers must resume buffering (not stay on direct writes): posts one
// registration at a time until one is buffered again (at most 100 posts, 0.1 s apart). Every accepted one goes
// to the ledger.
//   php rest-recovery.php BASE_URL HOST USER APP_PASSWORD FIRST_N [AT_LEAST]
//   AT_LEAST: post at least this many (so every php-fpm worker gets some) before stopping at a buffered one
require __DIR__ . '/common.php';

[ , $base, $host, $user, $password, $first ] = $argv;
$at_least = (int) ( $argv[6] ?? 1 );
$statuses = array();
for ( $i = 0; $i < 100; $i++ ) {
	$n            = (int) $first + $i;
	$registration = e2e_registration( "recovery-{$n}", $n );
	$curl         = curl_init( "{$base}/wp-json/reg-buffer/v1/events/33/registrations" );
	curl_setopt_array(
		$curl,
		array(
			CURLOPT_POST           => true,
			CURLOPT_POSTFIELDS     => json_encode( array( 'registration' => $registration, 'unique_key' => $registration['email'] ), E2E_JSON ),
			CURLOPT_HTTPHEADER     => array( "Host: {$host}", 'Content-Type: application/json', 'Authorization: Basic ' . base64_encode( "{$user}:{$password}" ) ),
			CURLOPT_RETURNTRANSFER => true,
			CURLOPT_TIMEOUT        => 30,
		)
	);
	$body = (string) curl_exec( $curl );
	$code = curl_getinfo( $curl, CURLINFO_RESPONSE_CODE );
	e2e_same( 201, $code, "recovery-{$n}: HTTP status ({$body})" );
	if ( 201 !== $code ) {
		break;
	}
	e2e_ledger_add( 33, $registration['email'], $registration );
	$status              = json_decode( $body, true )['status'] ?? '?';
	$statuses[ $status ] = ( $statuses[ $status ] ?? 0 ) + 1;
	if ( 'buffered' === $status && $i + 1 >= $at_least ) {
		break;
	}
	usleep( 100000 );
}
e2e_check( isset( $statuses['buffered'] ), 'buffering resumed after Redis returned' );
echo '  after Redis returned, over HTTP: ', json_encode( $statuses ), "\n";
e2e_done();
