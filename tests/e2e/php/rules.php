<?php
// The same tricky registrations through every entry: the action, the function, the seed's hook, REST and the fast
// intake over HTTP (JSON and form), and the direct write (buffering disabled, or Redis down). Each must be refused up
// front or accepted — and then stored (the bash side flushes and runs verify.php on the ledger, and checks that
// nothing was set aside): never accepted, then dropped at flush.
//   php rules.php MODE
//   MODE: up (Redis up: every entry) | disabled (the function with buffering disabled) | down (Redis stopped by the
//         caller: the action, the function and REST fall back to direct writes)
// Env: E2E_WEB (http://127.0.0.1:PORT), E2E_HOST, E2E_APP_PASSWORD, E2E_INTAKE_URL.
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$mode = $argv[1] ?? 'up';
if ( 'disabled' === $mode ) {
	add_filter( 'reg_buffer_settings', static fn( $values ) => array( 'disabled' => true ) + $values );
	Reg_Buffer_Settings::reset();
}

/** A chain of $levels nested arrays (the registration itself is level 1). */
function rules_deep( int $levels, string $ref ): array {
	$value = 'bottom';
	for ( $i = 1; $i < $levels; $i++ ) {
		$value = array( 'l' => $value );
	}
	return array( 'ref' => $ref, 'l' => $value );
}

/**
 * The cases: name => [registration, unique key, expected: accept | refuse, transports it cannot travel by].
 * The `ref` is completed per entry.
 */
function rules_cases(): array {
	$many = array( 'ref' => '' );
	for ( $i = 1; $i <= Reg_Buffer_Registration_Rules::MAX_FIELDS; $i++ ) {
		$many[ "f{$i}" ] = 'x';
	}
	$long_key  = str_repeat( 'k', Reg_Buffer_Registration_Rules::MAX_UNIQUE_KEY_BYTES - 6 ) . '@x.org';
	$long_name = array( 'ref' => '', str_repeat( 'n', Reg_Buffer_Registration_Rules::MAX_FIELD_NAME_BYTES + 1 ) => 'x' );
	return array(
		'clean key'                 => array( array( 'ref' => '', 'email' => 'v@x.org' ), 'v@x.org', 'accept', array() ),
		'the same key + a space'    => array( array( 'ref' => '', 'email' => 'v@x.org ' ), 'v@x.org ', 'refuse', array() ),
		'key of 191 bytes'          => array( array( 'ref' => '', 'email' => $long_key ), $long_key, 'accept', array() ),
		'key over 191 bytes'        => array( array( 'ref' => '', 'email' => 'k' . $long_key ), 'k' . $long_key, 'refuse', array() ),
		'key not UTF-8'             => array( array( 'ref' => '', 'email' => "caf\xe9@x.org" ), "caf\xe9@x.org", 'refuse', array() ),
		'empty key'                 => array( array( 'ref' => '' ), '', 'refuse', array( 'form', 'seed' ) ),
		'field not UTF-8'           => array( array( 'ref' => '', 'name' => "caf\xe9" ), null, 'refuse', array() ),
		'field name not UTF-8'      => array( array( 'ref' => '', "caf\xe9" => 'x' ), null, 'refuse', array() ),
		'field name too long'       => array( $long_name, null, 'refuse', array() ),
		'64 levels'                 => array( rules_deep( 64, '' ), null, 'accept', array( 'form' ) ),
		'65 levels'                 => array( rules_deep( 65, '' ), null, 'refuse', array( 'form' ) ),
		'too many fields'           => array( $many, null, 'refuse', array() ),
		'INF'                       => array( array( 'ref' => '', 'x' => INF ), null, 'refuse', array( 'form' ) ),
		'NAN'                       => array( array( 'ref' => '', 'x' => NAN ), null, 'refuse', array( 'form', 'json' ) ),
		'an object'                 => array( array( 'ref' => '', 'x' => new ArrayObject( array( 1 ) ) ), null, 'refuse', array( 'form', 'json' ) ),
		'typed values'              => array( array( 'ref' => '', 'n' => 7, 'f' => 2.5, 'b' => true, 'z' => null, 'list' => array( 1, 'a' ) ), null, 'accept', array( 'form' ) ),
		'reserved field'            => array( array( 'ref' => '', '_reg_buffer_intake' => array( 'nonce' => 'x' ) ), null, 'refuse', array() ),
		'another reserved field'    => array( array( 'ref' => '', '_reg_buffer_note' => 'x' ), null, 'refuse', array() ),
	);
}

/** JSON text that may carry what json_encode would refuse: bytes that are not UTF-8, 1e999 for INF. */
function rules_raw_json( $value ): string {
	if ( is_array( $value ) ) {
		if ( array_is_list( $value ) && array() !== $value ) {
			return '[' . implode( ',', array_map( 'rules_raw_json', $value ) ) . ']';
		}
		$parts = array();
		foreach ( $value as $k => $v ) {
			$parts[] = rules_raw_json( (string) $k ) . ':' . rules_raw_json( $v );
		}
		return '{' . implode( ',', $parts ) . '}';
	}
	if ( is_float( $value ) && is_infinite( $value ) ) {
		return '1e999';
	}
	if ( is_string( $value ) && 1 !== preg_match( '//u', $value ) ) {
		return '"' . addcslashes( $value, '"\\' ) . '"';
	}
	return json_encode( $value, E2E_JSON );
}

/** POSTs; returns [status, decoded body]. */
function rules_http( string $url, string $body, array $headers ): array {
	$curl = curl_init( $url );
	curl_setopt_array( $curl, array( CURLOPT_POST => true, CURLOPT_POSTFIELDS => $body, CURLOPT_HTTPHEADER => array_merge( array( 'Host: ' . e2e_env( 'E2E_HOST' ), 'Expect:' ), $headers ), CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 60 ) );
	$out  = (string) curl_exec( $curl );
	$code = (int) curl_getinfo( $curl, CURLINFO_RESPONSE_CODE );
	return array( $code, json_decode( $out, true ) ?? $out );
}

$outcomes = array();
add_action( 'reg_buffer_registered', static function ( $outcome ) use ( &$outcomes ) { $outcomes[] = $outcome; } );
$in_process = static function ( callable $call ) use ( &$outcomes ): string {
	$before = count( $outcomes );
	$call();
	$outcome = $outcomes[ $before ] ?? null;
	if ( $outcome instanceof Reg_Buffer_Outcome ) {
		return $outcome->is_accepted() ? 'accept' : 'duplicate';
	}
	return is_wp_error( $outcome ) && 422 === ( $outcome->get_error_data()['status'] ?? null ) ? 'refuse' : 'other: ' . ( is_wp_error( $outcome ) ? $outcome->get_error_message() : var_export( $outcome, true ) );
};
$http_outcome = static function ( array $answer ): string {
	[ $code, $body ] = $answer;
	if ( 201 === $code ) {
		return 'accept';
	}
	if ( 409 === $code ) {
		return 'duplicate';
	}
	return in_array( $code, array( 400, 413, 422 ), true ) ? 'refuse' : "other: {$code} " . substr( json_encode( $body ), 0, 200 );
};

$entries = array(
	'up'       => array( 'action', 'function', 'seed', 'rest', 'intake-json', 'intake-form' ),
	'disabled' => array( 'function' ),
	'down'     => array( 'action', 'function', 'rest' ),
)[ $mode ];
$tally = array();
foreach ( $entries as $entry ) {
	$event = wp_insert_post( array( 'post_title' => "Rules {$mode} {$entry}", 'post_status' => 'publish' ) );
	$token = in_array( $entry, array( 'intake-json', 'intake-form' ), true ) ? reg_buffer_form_token( $event, array( 'uses' => 100 ) ) : '';
	foreach ( rules_cases() as $case => [ $registration, $key, $expect, $cannot ] ) {
		$transport = 'intake-form' === $entry ? 'form' : ( in_array( $entry, array( 'rest', 'intake-json' ), true ) ? 'json' : $entry );
		if ( in_array( $transport, $cannot, true ) ) {
			continue;
		}
		$registration['ref'] = "rules-{$mode}-{$entry}-" . str_replace( ' ', '-', $case );
		$ledger_key          = $key;
		if ( 'seed' === $entry ) {
			// The seed's hook keys by the e-mail field, trimmed and lower-cased: the spaced key is the clean one again.
			$ledger_key = isset( $registration['email'] ) ? strtolower( trim( $registration['email'] ) ) : null;
			$expect     = 'the same key + a space' === $case ? 'duplicate' : $expect;
		}
		switch ( $entry ) {
			case 'action':
				$got = $in_process( static fn() => do_action( 'reg_buffer_register', $event, $registration, $key ) );
				break;
			case 'function':
				$got = $in_process( static fn() => reg_buffer_register( $event, $registration, $key ) );
				break;
			case 'seed':
				$got = $in_process( static fn() => do_action( 'my_event_plugin_registration_success', $event, $registration ) );
				break;
			case 'rest':
				$got = $http_outcome( rules_http( e2e_env( 'E2E_WEB' ) . "/wp-json/reg-buffer/v1/events/{$event}/registrations", rules_raw_json( array( 'registration' => $registration, 'unique_key' => $key ) ), array( 'Content-Type: application/json', 'Authorization: Basic ' . base64_encode( 'admin:' . e2e_env( 'E2E_APP_PASSWORD' ) ) ) ) );
				break;
			case 'intake-json':
				$got = $http_outcome( rules_http( e2e_env( 'E2E_INTAKE_URL' ) . "?event={$event}", rules_raw_json( array( 'registration' => $registration, 'unique_key' => $key ) ), array( 'Content-Type: application/json', "X-Reg-Buffer-Token: {$token}" ) ) );
				break;
			case 'intake-form':
				$form = http_build_query( array( 'reg_buffer_token' => $token, 'registration' => $registration ) + ( null === $key ? array() : array( 'unique_key' => $key ) ) );
				$got  = $http_outcome( rules_http( e2e_env( 'E2E_INTAKE_URL' ) . "?event={$event}", $form, array( 'Content-Type: application/x-www-form-urlencoded' ) ) );
				break;
		}
		e2e_check( $expect === $got, "{$mode} {$entry}: {$case}: expected {$expect}, got {$got}" );
		$tally[ $got ] = ( $tally[ $got ] ?? 0 ) + 1;
		if ( 'accept' === $got ) {
			e2e_ledger_add( $event, $ledger_key, $registration );
		}
	}
}
echo "  {$mode}: ", implode( ', ', $entries ), ': ', json_encode( $tally ), "\n";
e2e_done();
