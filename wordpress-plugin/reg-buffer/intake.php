<?php
/**
 * reg_buffer fast intake: takes one registration from a public form WITHOUT booting WordPress.
 *
 * Served by php-fpm directly (see readme.txt, "Fast intake", for the nginx location). Per request it:
 *   1. finds the form token (X-Reg-Buffer-Token, ?token=, the form's reg_buffer_token, or a bounded scan of a JSON
 *      body for its top-level "token" — the body is not decoded yet),
 *   2. reads the site's intake config (written by the plugin, found by Reg_Buffer_Intake_Config) and answers 503
 *      while the site does not accept (REG_BUFFER_DISABLED, plugin deactivated: nothing would flush),
 *   3. verifies the token (HMAC-SHA256, expiry, event) minted by reg_buffer_form_token() — before the body is parsed,
 *   4. checks the registration against Reg_Buffer_Registration_Rules, the rules every entry applies,
 *   5. calls reg_buffer_push() with the token's use limit and the client's rate limit, both counted in the push's own
 *      round trip: a replay past the token's uses is refused (403), a client past its rate 429 (Retry-After). An
 *      event with a capacity (the config's `seats`) is booked with reg_buffer_book() instead: 409 reg_buffer_sold_out
 *      when every seat is taken and it has no waitlist; 503 (Retry-After) while its count is not established (the
 *      config's `stale` list, or Redis lost it: the plugin counts it again from MySQL).
 * Sanitising runs at flush time (Reg_Buffer_Intake::screen_rows()); a registration answered 201 is stored (only a
 * site's own filter may refuse it there: it is then set aside with its reason).
 *
 * POST ?event=<id> with either JSON {"registration": {...}, "unique_key": "..."} (token in X-Reg-Buffer-Token, in
 * ?token= or as the body's "token") or a form (reg_buffer_token=…&registration[field]=…&unique_key=…).
 * Answers like POST /wp-json/reg-buffer/v1/events/{id}/registrations: 201 {"status":"buffered","id":…} (plus
 * "seat" and "remaining" for an event with a capacity),
 * 409 duplicate, 422 invalid, 429 rate limited, 503 (+ Retry-After) when Redis cannot take it or the site does not
 * accept now — there is no MySQL fallback without WordPress, so nothing is ever dropped silently: the form hears 503
 * and retries — and 503 reg_buffer_outcome_unknown (with data.registration_id) when the push may have reached Redis
 * (a timeout): then it is stored, and a retry without a unique key would register twice. Token problems are 403 (reg_buffer_token_invalid | reg_buffer_token_expired | reg_buffer_token_used).
 *
 * @package RegBuffer
 */

define( 'REG_BUFFER_INTAKE', true );

require __DIR__ . '/includes/intake/class-reg-buffer-form-token.php';
require __DIR__ . '/includes/core/class-reg-buffer-registration-rules.php';
require __DIR__ . '/includes/intake/class-reg-buffer-intake-config.php';
require __DIR__ . '/includes/core/class-reg-buffer-client-address.php';

/** The field the intake adds to mark a registration for the flush's checks (stripped before storing; reserved). */
const REG_BUFFER_INTAKE_MARKER       = '_reg_buffer_intake';
const REG_BUFFER_INTAKE_MAX_BODY     = 262144;
const REG_BUFFER_INTAKE_RETRY_AFTER  = 5;
const REG_BUFFER_INTAKE_CLOSED_RETRY = 60;

/**
 * Sends the answer and ends the request. Error bodies have the REST API's shape: {code, message, data: {status}}.
 */
function reg_buffer_intake_answer( int $status, array $body, array $headers = array() ): void {
	http_response_code( $status );
	header( 'Content-Type: application/json; charset=UTF-8' );
	header( 'Cache-Control: no-store' );
	header( 'X-Content-Type-Options: nosniff' );
	foreach ( $headers as $name => $value ) {
		header( $name . ': ' . $value );
	}
	echo json_encode( $body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode -- no WordPress here.
	exit;
}

function reg_buffer_intake_error( int $status, string $code, string $message, array $headers = array() ): void {
	reg_buffer_intake_answer(
		$status,
		array(
			'code'    => $code,
			'message' => $message,
			'data'    => array( 'status' => $status ),
		),
		$headers
	);
}

function reg_buffer_intake_unavailable( string $why ): void {
	error_log( 'reg_buffer intake: ' . $why ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
	reg_buffer_intake_error( 503, 'reg_buffer_unavailable', 'The registration could not be stored; please try again.', array( 'Retry-After' => (string) REG_BUFFER_INTAKE_RETRY_AFTER ) );
}

/**
 * 503 for a push whose outcome is unknown (a timeout or a lost connection after the request was sent): it may have
 * been received, under $registration_id (data.registration_id), and would then be stored by the flush. A retry
 * with the same unique key is recognised as a duplicate (409); without one it would register twice.
 */
function reg_buffer_intake_outcome_unknown( string $registration_id, string $why ): void {
	error_log( 'reg_buffer intake: outcome unknown for ' . $registration_id . ': ' . $why ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
	reg_buffer_intake_answer(
		503,
		array(
			'code'    => 'reg_buffer_outcome_unknown',
			'message' => 'The registration may have been received, but this could not be confirmed. Do not register again without checking first.',
			'data'    => array(
				'status'          => 503,
				'registration_id' => '' === $registration_id ? null : $registration_id,
			),
		),
		array( 'Retry-After' => (string) REG_BUFFER_INTAKE_RETRY_AFTER )
	);
}

/**
 * The top-level "token" of a JSON body, found without decoding it: each `"token"` occurrence is tried (at most 8,
 * each an anchored match of bounded length), so the cost is linear in the body whatever it holds. The decoded body
 * must then carry the same token at its top level, or the request is refused.
 */
function reg_buffer_intake_scan_token( string $body ): ?string {
	$offset = 0;
	for ( $tries = 0; $tries < 8; $tries++ ) {
		$at = strpos( $body, '"token"', $offset );
		if ( false === $at ) {
			return null;
		}
		if ( 1 === preg_match( '/\G"token"[ \t\r\n]{0,16}:[ \t\r\n]{0,16}"([0-9A-Za-z._-]{1,' . Reg_Buffer_Form_Token::MAX_LEN . '})"/', $body, $m, 0, $at ) ) {
			return $m[1];
		}
		$offset = $at + 7;
	}
	return null;
}

// ------------------------------------------------------------------------------------------------ the request

if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) ) { // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- only compared with a literal.
	reg_buffer_intake_error( 405, 'reg_buffer_method', 'Registrations are posted (POST).', array( 'Allow' => 'POST' ) );
}
if ( ! function_exists( 'reg_buffer_push' ) ) {
	// Without the extension there is nowhere to put it (the REST route would write to MySQL; this cannot).
	reg_buffer_intake_unavailable( 'the reg_buffer extension is not loaded in this PHP' );
}
if ( (int) ( $_SERVER['CONTENT_LENGTH'] ?? 0 ) > REG_BUFFER_INTAKE_MAX_BODY ) { // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- an integer.
	reg_buffer_intake_error( 413, 'reg_buffer_invalid', 'The request is too large.' );
}

// 1. The token, before anything is parsed: a header, the query, the form's field (PHP parsed the form already),
// or a bounded scan of the JSON body (read, not decoded).
$reg_buffer_is_json = str_starts_with( strtolower( (string) ( $_SERVER['CONTENT_TYPE'] ?? '' ) ), 'application/json' ); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- only its prefix is compared.
$reg_buffer_raw     = $reg_buffer_is_json ? (string) file_get_contents( 'php://input', false, null, 0, REG_BUFFER_INTAKE_MAX_BODY + 1 ) : '';
$reg_buffer_tok     = $_SERVER['HTTP_X_REG_BUFFER_TOKEN'] ?? $_GET['token'] ?? null; // phpcs:ignore WordPress.Security.NonceVerification.Recommended,WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- the signed token is the check (its format, then its HMAC).
$reg_buffer_scanned = false;
if ( null === $reg_buffer_tok ) {
	if ( $reg_buffer_is_json ) {
		$reg_buffer_tok     = reg_buffer_intake_scan_token( $reg_buffer_raw );
		$reg_buffer_scanned = true;
	} else {
		$reg_buffer_tok = $_POST['reg_buffer_token'] ?? null; // phpcs:ignore WordPress.Security.NonceVerification.Missing,WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- the signed token is the check (its format, then its HMAC).
	}
}
$reg_buffer_site = is_string( $reg_buffer_tok ) ? Reg_Buffer_Form_Token::site_of( $reg_buffer_tok ) : null;
if ( null === $reg_buffer_site ) {
	reg_buffer_intake_error( 403, 'reg_buffer_token_invalid', 'The form token is missing or invalid; reload the form.' );
}

// 2. The site's config (secret, Redis, prefix, limits): only a well-formed site id picks a file. No file (never
// written, or the plugin was uninstalled): the token is worth nothing.
$reg_buffer_file = Reg_Buffer_Intake_Config::find( $_SERVER, __FILE__, $reg_buffer_site );
$reg_buffer_cfg  = null === $reg_buffer_file ? null : Reg_Buffer_Intake_Config::read( $reg_buffer_file );
if ( ! is_array( $reg_buffer_cfg ) || ! is_string( $reg_buffer_cfg['secret'] ?? null ) ) {
	reg_buffer_intake_error( 403, 'reg_buffer_token_invalid', 'The form token is missing or invalid; reload the form.' );
}
if ( true !== ( $reg_buffer_cfg['accepting'] ?? false ) ) {
	// REG_BUFFER_DISABLED or the plugin deactivated: nothing would flush it, so nothing is taken.
	reg_buffer_intake_error( 503, 'reg_buffer_unavailable', 'Registrations are not being taken right now; please try again later.', array( 'Retry-After' => (string) REG_BUFFER_INTAKE_CLOSED_RETRY ) );
}

// 3. The token: signature, expiry, event (the query's, the form's, else the token's own).
$reg_buffer_evt = $_GET['event'] ?? ( $reg_buffer_is_json ? null : ( $_POST['event_id'] ?? null ) ); // phpcs:ignore WordPress.Security.NonceVerification,WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- the signed token is the check; the id must match /^[1-9][0-9]{0,18}$/ below.
if ( null === $reg_buffer_evt ) {
	$reg_buffer_evt = Reg_Buffer_Form_Token::event_of( $reg_buffer_tok );
}
if ( ! is_int( $reg_buffer_evt ) && ! ( is_string( $reg_buffer_evt ) && 1 === preg_match( '/^[1-9][0-9]{0,18}$/D', $reg_buffer_evt ) ) ) {
	reg_buffer_intake_error( 422, 'reg_buffer_invalid', 'The event id must be a positive integer.' );
}
$reg_buffer_evt   = (int) $reg_buffer_evt;
$reg_buffer_check = Reg_Buffer_Form_Token::verify( $reg_buffer_tok, $reg_buffer_cfg['secret'], $reg_buffer_evt, time() );
if ( ! $reg_buffer_check['ok'] ) {
	if ( Reg_Buffer_Form_Token::EXPIRED === $reg_buffer_check['error'] ) {
		reg_buffer_intake_error( 403, 'reg_buffer_token_expired', 'The form has expired; reload it.' );
	}
	reg_buffer_intake_error( 403, 'reg_buffer_token_invalid', 'The form token is missing or invalid; reload the form.' );
}

// 4. Only now the body, and the rules every entry applies (422).
if ( $reg_buffer_is_json ) {
	try {
		$reg_buffer_body = json_decode( $reg_buffer_raw, true, Reg_Buffer_Registration_Rules::MAX_DEPTH + 2, JSON_THROW_ON_ERROR );
	} catch ( JsonException $e ) {
		reg_buffer_intake_error( 422, 'reg_buffer_invalid', 'The body must be JSON with a "registration" object.' );
	}
	$reg_buffer_body = is_array( $reg_buffer_body ) ? $reg_buffer_body : array();
	if ( $reg_buffer_scanned && ( $reg_buffer_body['token'] ?? null ) !== $reg_buffer_tok ) {
		// The scan found a "token" that is not the body's own: refuse rather than guess.
		reg_buffer_intake_error( 403, 'reg_buffer_token_invalid', 'The form token is missing or invalid; reload the form.' );
	}
	if ( isset( $reg_buffer_body['event_id'] ) && ( ! is_scalar( $reg_buffer_body['event_id'] ) || (string) $reg_buffer_body['event_id'] !== (string) $reg_buffer_evt ) ) {
		reg_buffer_intake_error( 422, 'reg_buffer_invalid', 'The body\'s event_id is not the event of the request.' );
	}
} else {
	$reg_buffer_body = $_POST; // phpcs:ignore WordPress.Security.NonceVerification.Missing -- the signed token is the check.
	// PHP drops form fields past max_input_vars without failing the request: refuse a form that may have lost some.
	$reg_buffer_vars = 0;
	array_walk_recursive(
		$reg_buffer_body,
		static function () use ( &$reg_buffer_vars ) {
			++$reg_buffer_vars;
		}
	);
	if ( $reg_buffer_vars >= (int) ini_get( 'max_input_vars' ) ) {
		reg_buffer_intake_error( 422, 'reg_buffer_invalid', Reg_Buffer_Registration_Rules::message( 'too_many' ) );
	}
}
$reg_buffer_reg     = $reg_buffer_body['registration'] ?? null;
$reg_buffer_problem = Reg_Buffer_Registration_Rules::registration_problem( $reg_buffer_reg, ! $reg_buffer_is_json ); // json_decode refused non-UTF-8.
if ( null !== $reg_buffer_problem ) {
	reg_buffer_intake_error( 422, 'reg_buffer_invalid', 'not_array' === $reg_buffer_problem ? 'The body must have a "registration" object.' : Reg_Buffer_Registration_Rules::message( $reg_buffer_problem ) );
}
$reg_buffer_key = $reg_buffer_body['unique_key'] ?? null;
if ( '' === $reg_buffer_key && ! $reg_buffer_is_json ) {
	$reg_buffer_key = null; // An empty form field means "no key".
}
$reg_buffer_problem = Reg_Buffer_Registration_Rules::unique_key_problem( $reg_buffer_key );
if ( null !== $reg_buffer_problem ) {
	reg_buffer_intake_error( 422, 'reg_buffer_invalid', Reg_Buffer_Registration_Rules::message( $reg_buffer_problem ) );
}

// The extension's settings for this site (ini values from wp-config, the site's key prefix).
foreach ( (array) ( $reg_buffer_cfg['ini'] ?? array() ) as $reg_buffer_setting => $reg_buffer_value ) {
	if ( ini_get( $reg_buffer_setting ) !== (string) $reg_buffer_value ) {
		ini_set( $reg_buffer_setting, (string) $reg_buffer_value ); // phpcs:ignore WordPress.PHP.IniSet.Risky -- only the extension's reg_buffer.* settings, from the site's config.
	}
}

// 5. One round trip: the push counts the client's request against its rate limit (whatever the answer) and the
// token's use (per event and token, until the token expires; only a registration actually buffered uses it).
$reg_buffer_reg[ REG_BUFFER_INTAKE_MARKER ] = array( 'nonce' => $reg_buffer_check['nonce'] );
$reg_buffer_use                             = array(
	'token'      => $reg_buffer_check['nonce'],
	'uses'       => $reg_buffer_check['uses'],
	'expires_at' => $reg_buffer_check['expires'] + 60,
);
$reg_buffer_rate                            = null;
$reg_buffer_lim                             = (array) ( $reg_buffer_cfg['rate_limit'] ?? array() );
if ( (int) ( $reg_buffer_lim['limit'] ?? 0 ) > 0 ) {
	$reg_buffer_rate = array(
		'client' => Reg_Buffer_Client_Address::bucket( Reg_Buffer_Client_Address::of( $_SERVER, (string) ( $reg_buffer_cfg['trusted_proxies'] ?? '' ) ) ),
		'limit'  => (int) $reg_buffer_lim['limit'],
		'window' => max( 1, (int) ( $reg_buffer_lim['window'] ?? 60 ) ),
	);
}
// An event with a capacity is booked (a seat and the buffer in the same round trip); one the plugin must count again
// first (its count missed a write) is refused until it has.
$reg_buffer_seats = ( (array) ( $reg_buffer_cfg['seats'] ?? array() ) )[ (string) $reg_buffer_evt ] ?? null;
$reg_buffer_seat  = null;
if ( null !== $reg_buffer_seats && ( ! function_exists( 'reg_buffer_book' ) || in_array( $reg_buffer_evt, array_map( 'intval', (array) ( $reg_buffer_cfg['stale'] ?? array() ) ), true ) ) ) {
	reg_buffer_intake_unavailable( "the seats of event {$reg_buffer_evt} cannot be counted here now (stale, or an extension without reg_buffer_book)" );
}
try {
	if ( is_array( $reg_buffer_seats ) ) {
		$reg_buffer_seat = reg_buffer_book(
			$reg_buffer_evt,
			$reg_buffer_reg,
			array(
				'capacity' => (int) ( $reg_buffer_seats['capacity'] ?? 0 ),
				'waitlist' => ! empty( $reg_buffer_seats['waitlist'] ),
			),
			$reg_buffer_key,
			$reg_buffer_use,
			$reg_buffer_rate
		);
		$reg_buffer_id   = 'duplicate' === $reg_buffer_seat['status'] ? false : (string) $reg_buffer_seat['id'];
	} else {
		$reg_buffer_id = reg_buffer_push( $reg_buffer_evt, $reg_buffer_reg, $reg_buffer_key, $reg_buffer_use, $reg_buffer_rate );
	}
} catch ( RegBuffer\SoldOutException $e ) {
	reg_buffer_intake_answer(
		409,
		array(
			'code'    => 'reg_buffer_sold_out',
			'message' => 'This event is sold out.',
			'data'    => array(
				'status'    => 409,
				'remaining' => 0,
			),
		)
	);
} catch ( RegBuffer\SeatsUnknownException $e ) {
	// Redis lost the event's count (or never had it): the plugin counts it from MySQL on its next request or flush.
	reg_buffer_intake_unavailable( "the seats of event {$reg_buffer_evt} are not counted in Redis yet" );
} catch ( ValueError | TypeError $e ) {
	reg_buffer_intake_error( 422, 'reg_buffer_invalid', $e->getMessage() );
} catch ( RegBuffer\RateLimitException $e ) {
	reg_buffer_intake_error( 429, 'reg_buffer_rate_limited', 'Too many registrations from this address; please try again later.', array( 'Retry-After' => (string) max( 1, (int) $e->getRetryAfter() ) ) );
} catch ( RegBuffer\LimitException $e ) {
	reg_buffer_intake_error( 403, 'reg_buffer_token_used', 'This form was already used; reload it to register again.' );
} catch ( RegBuffer\ConnectionException $e ) {
	// Redis unreachable, timed out or the connection lost: the push may have reached Redis (then it is flushed and
	// stored). Say so, with the id it was pushed under, so that nobody registers twice without checking.
	reg_buffer_intake_outcome_unknown( (string) $e->getRegistrationId(), get_class( $e ) . ': ' . $e->getMessage() );
} catch ( RegBuffer\Exception $e ) {
	// Capacity (nothing was written) or a refusal from Redis. No MySQL here: the form hears 503 and retries.
	reg_buffer_intake_unavailable( get_class( $e ) . ': ' . $e->getMessage() );
}
if ( false === $reg_buffer_id ) {
	reg_buffer_intake_error( 409, 'reg_buffer_duplicate', 'This registration was already received.' );
}
$reg_buffer_answer = array(
	'status'          => 'buffered',
	'id'              => $reg_buffer_id,
	'fallback_reason' => null,
);
if ( null !== $reg_buffer_seat ) {
	$reg_buffer_answer['seat']      = $reg_buffer_seat['status'];
	$reg_buffer_answer['remaining'] = $reg_buffer_seat['remaining'];
}
reg_buffer_intake_answer( 201, $reg_buffer_answer );
