<?php
/**
 * reg_buffer fast intake: takes one registration from a public form WITHOUT booting WordPress.
 *
 * Served by php-fpm directly (see readme.txt, "Fast intake", for the nginx location). Per request it:
 *   1. reads the site's intake config (written by the plugin into wp-content/reg-buffer-intake/<site>.php),
 *   2. verifies the form token (HMAC-SHA256, expiry, event) minted by reg_buffer_form_token(),
 *   3. checks the fields' size and shape only,
 *   4. calls reg_buffer_push() with the token's use limit: the use is counted in the push's own round trip (only a
 *      registration actually buffered uses the token), and a replay past the limit is refused (403).
 * Full sanitising and the checks that need WordPress (is the event published? …) run at flush time
 * (Reg_Buffer_Intake::screen_rows()); a registration refused there is set aside with its reason.
 *
 * POST ?event=<id> with either JSON {"token": "...", "registration": {...}, "unique_key": "..."} or a form
 * (reg_buffer_token=…&registration[field]=…&unique_key=…); the token may also come in X-Reg-Buffer-Token.
 * Answers like POST /wp-json/reg-buffer/v1/events/{id}/registrations: 201 {"status":"buffered","id":…},
 * 409 duplicate, 422 invalid, 503 (+ Retry-After) when Redis cannot take it — there is no MySQL fallback without
 * WordPress, so nothing is ever dropped silently: the form hears 503 and retries. Token problems are 403
 * (reg_buffer_token_invalid | reg_buffer_token_expired | reg_buffer_token_used).
 *
 * @package RegBuffer
 */

define( 'REG_BUFFER_INTAKE', true );

require __DIR__ . '/includes/class-reg-buffer-form-token.php';

/** The reserved field the intake adds to mark a registration for the flush's checks (stripped before storing). */
const REG_BUFFER_INTAKE_MARKER = '_reg_buffer_intake';
const REG_BUFFER_INTAKE_MAX_FIELDS = 200;
const REG_BUFFER_INTAKE_MAX_DEPTH  = 8;
const REG_BUFFER_INTAKE_MAX_KEY    = 128;
const REG_BUFFER_INTAKE_RETRY_AFTER = 5;

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
	echo json_encode( $body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE );
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
	error_log( 'reg_buffer intake: ' . $why ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
	reg_buffer_intake_error( 503, 'reg_buffer_unavailable', 'The registration could not be stored; please try again.', array( 'Retry-After' => (string) REG_BUFFER_INTAKE_RETRY_AFTER ) );
}

/**
 * The first size/shape problem of a registration, or null. Only shape: WordPress sanitises at flush. $check_utf8
 * is false for a JSON body: json_decode() has refused any string, key or value, that is not UTF-8.
 */
function reg_buffer_intake_shape_problem( array $fields, int $depth, int &$count, bool $check_utf8 ): ?string {
	if ( $depth > REG_BUFFER_INTAKE_MAX_DEPTH ) {
		return 'The registration is nested too deeply.';
	}
	foreach ( $fields as $key => $value ) {
		if ( ++$count > REG_BUFFER_INTAKE_MAX_FIELDS ) {
			return 'The registration has too many fields.';
		}
		if ( is_string( $key ) && ( strlen( $key ) > REG_BUFFER_INTAKE_MAX_KEY || ( $check_utf8 && 1 !== preg_match( '//u', $key ) ) ) ) {
			return 'A field name is too long or not UTF-8.';
		}
		if ( is_array( $value ) ) {
			$problem = reg_buffer_intake_shape_problem( $value, $depth + 1, $count, $check_utf8 );
			if ( null !== $problem ) {
				return $problem;
			}
		} elseif ( is_string( $value ) ) {
			if ( $check_utf8 && 1 !== preg_match( '//u', $value ) ) {
				return 'A field is not valid UTF-8.';
			}
		} elseif ( ! is_int( $value ) && ! is_bool( $value ) && null !== $value && ! ( is_float( $value ) && is_finite( $value ) ) ) {
			return 'A field has a type a registration cannot hold.';
		}
	}
	return null;
}

// ------------------------------------------------------------------------------------------------ the request

if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) ) {
	reg_buffer_intake_error( 405, 'reg_buffer_method', 'Registrations are posted (POST).', array( 'Allow' => 'POST' ) );
}
if ( ! function_exists( 'reg_buffer_push' ) ) {
	// Without the extension there is nowhere to put it (the REST route would write to MySQL; this cannot).
	reg_buffer_intake_unavailable( 'the reg_buffer extension is not loaded in this PHP' );
}

$reg_buffer_max_body = 262144;
if ( (int) ( $_SERVER['CONTENT_LENGTH'] ?? 0 ) > $reg_buffer_max_body ) {
	reg_buffer_intake_error( 413, 'reg_buffer_invalid', 'The request is too large.' );
}
$reg_buffer_is_json = str_starts_with( strtolower( (string) ( $_SERVER['CONTENT_TYPE'] ?? '' ) ), 'application/json' );
if ( $reg_buffer_is_json ) {
	try {
		$reg_buffer_body = json_decode( (string) file_get_contents( 'php://input', false, null, 0, $reg_buffer_max_body + 1 ), true, REG_BUFFER_INTAKE_MAX_DEPTH + 2, JSON_THROW_ON_ERROR );
	} catch ( JsonException $e ) {
		reg_buffer_intake_error( 422, 'reg_buffer_invalid', 'The body must be JSON with a "registration" object.' );
	}
	$reg_buffer_body = is_array( $reg_buffer_body ) ? $reg_buffer_body : array();
	$reg_buffer_tok  = $reg_buffer_body['token'] ?? null;
} else {
	$reg_buffer_body = $_POST; // phpcs:ignore WordPress.Security.NonceVerification -- the signed token is the check.
	$reg_buffer_tok  = $reg_buffer_body['reg_buffer_token'] ?? null;
}
$reg_buffer_tok = $_SERVER['HTTP_X_REG_BUFFER_TOKEN'] ?? $reg_buffer_tok;
$reg_buffer_evt = $_GET['event'] ?? ( $reg_buffer_body['event_id'] ?? null ); // phpcs:ignore WordPress.Security.NonceVerification

// The token: its site names the config (secret, Redis, prefix) — only a well-formed site id picks a file.
if ( ! is_string( $reg_buffer_tok ) ) {
	reg_buffer_intake_error( 403, 'reg_buffer_token_invalid', 'The form token is missing or invalid; reload the form.' );
}
$reg_buffer_site = Reg_Buffer_Form_Token::site_of( $reg_buffer_tok );
$reg_buffer_dir  = (string) ( $_SERVER['REG_BUFFER_INTAKE_CONFIG_DIR'] ?? getenv( 'REG_BUFFER_INTAKE_CONFIG_DIR' ) ?: dirname( __DIR__, 2 ) . '/reg-buffer-intake' );
$reg_buffer_cfg  = null === $reg_buffer_site ? false : @include $reg_buffer_dir . '/' . $reg_buffer_site . '.php'; // phpcs:ignore WordPress.PHP.NoSilencedErrors -- a missing file is an invalid token.
if ( ! is_array( $reg_buffer_cfg ) || ! is_string( $reg_buffer_cfg['secret'] ?? null ) ) {
	reg_buffer_intake_error( 403, 'reg_buffer_token_invalid', 'The form token is missing or invalid; reload the form.' );
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

// Size and shape, the same limits the REST route's registrar applies (422).
$reg_buffer_reg = $reg_buffer_body['registration'] ?? null;
if ( ! is_array( $reg_buffer_reg ) || array() === $reg_buffer_reg ) {
	reg_buffer_intake_error( 422, 'reg_buffer_invalid', 'The body must have a "registration" object with fields.' );
}
$reg_buffer_fields = 0;
$reg_buffer_shape  = array_key_exists( REG_BUFFER_INTAKE_MARKER, $reg_buffer_reg ) ? 'The field ' . REG_BUFFER_INTAKE_MARKER . ' is reserved.' : reg_buffer_intake_shape_problem( $reg_buffer_reg, 1, $reg_buffer_fields, ! $reg_buffer_is_json );
if ( null !== $reg_buffer_shape ) {
	reg_buffer_intake_error( 422, 'reg_buffer_invalid', $reg_buffer_shape );
}
$reg_buffer_key = $reg_buffer_body['unique_key'] ?? null;
if ( '' === $reg_buffer_key && ! $reg_buffer_is_json ) {
	$reg_buffer_key = null; // An empty form field means "no key".
}
if ( null !== $reg_buffer_key && ( ! is_string( $reg_buffer_key ) || '' === $reg_buffer_key || strlen( $reg_buffer_key ) > 191 || ( ! $reg_buffer_is_json && 1 !== preg_match( '//u', $reg_buffer_key ) ) ) ) {
	reg_buffer_intake_error( 422, 'reg_buffer_invalid', 'The unique key must be a non-empty string of at most 191 bytes.' );
}

// The extension's settings for this site (ini values from wp-config, the site's key prefix).
foreach ( (array) ( $reg_buffer_cfg['ini'] ?? array() ) as $reg_buffer_setting => $reg_buffer_value ) {
	if ( ini_get( $reg_buffer_setting ) !== (string) $reg_buffer_value ) {
		ini_set( $reg_buffer_setting, (string) $reg_buffer_value ); // phpcs:ignore WordPress.PHP.IniSet.Risky
	}
}

// One round trip: the push counts the token's use (per event and token, until the token expires) and is refused
// with LimitException once the token carried its uses; a duplicate, a full buffer or a failed call uses nothing.
$reg_buffer_reg[ REG_BUFFER_INTAKE_MARKER ] = array( 'nonce' => $reg_buffer_check['nonce'] );
$reg_buffer_use = array(
	'token'      => $reg_buffer_check['nonce'],
	'uses'       => $reg_buffer_check['uses'],
	'expires_at' => $reg_buffer_check['expires'] + 60,
);
try {
	$reg_buffer_id = reg_buffer_push( $reg_buffer_evt, $reg_buffer_reg, $reg_buffer_key, $reg_buffer_use );
} catch ( ValueError | TypeError $e ) {
	reg_buffer_intake_error( 422, 'reg_buffer_invalid', $e->getMessage() );
} catch ( RegBuffer\LimitException $e ) {
	reg_buffer_intake_error( 403, 'reg_buffer_token_used', 'This form was already used; reload it to register again.' );
} catch ( RegBuffer\Exception $e ) {
	// Capacity, or a connection lost (the push may or may not have happened: a retry with the same unique key is
	// recognised as a duplicate). No MySQL here: the form hears 503 and retries.
	reg_buffer_intake_unavailable( get_class( $e ) . ': ' . $e->getMessage() );
}
if ( false === $reg_buffer_id ) {
	reg_buffer_intake_error( 409, 'reg_buffer_duplicate', 'This registration was already received.' );
}
reg_buffer_intake_answer(
	201,
	array(
		'status'          => 'buffered',
		'id'              => $reg_buffer_id,
		'fallback_reason' => null,
	)
);
