<?php
/**
 * Owns the signed, expiring form token of the fast intake: minting and verification.
 *
 * No WordPress call in here: intake.php requires this file without booting WordPress, and the plugin requires it
 * to mint tokens when it renders a form (Reg_Buffer_Intake supplies the site's secret).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'REG_BUFFER_INTAKE' ) ) {
	exit;
}

/**
 * A token is `1.<site>.<event>.<expires>.<uses>.<nonce>.<signature>`:
 *
 * - site      16 hex characters naming the site (its intake config file; multisite sites differ)
 * - event     the event id (> 0) the form registers for
 * - expires   Unix seconds after which the token is refused
 * - uses      how many registrations the token may carry (1 … MAX_USES); intake.php counts them in Redis
 * - nonce     22 base64url characters (16 random bytes): the token's identity for that count
 * - signature base64url HMAC-SHA256 of everything before it, keyed with the site's intake secret
 */
final class Reg_Buffer_Form_Token {

	const VERSION  = '1';
	const MAX_USES = 1000;
	const MAX_TTL  = 31 * 86400; // A token never lives longer, whatever it says: bounds the Redis use counter too.
	const MAX_LEN  = 160;

	/** Verification outcomes other than OK: codes intake.php answers with. */
	const MALFORMED   = 'malformed';
	const FORGED      = 'forged';
	const OTHER_EVENT = 'other_event';
	const EXPIRED     = 'expired';

	/**
	 * A new token.
	 *
	 * @param string      $secret   the site's intake secret (at least 32 bytes).
	 * @param string      $site     the site id (16 hex characters).
	 * @param int         $event_id the event.
	 * @param int         $expires  Unix seconds.
	 * @param int         $uses     registrations it may carry.
	 * @param string|null $nonce    for tests; random by default.
	 */
	public static function mint( string $secret, string $site, int $event_id, int $expires, int $uses = 1, ?string $nonce = null ): string {
		if ( strlen( $secret ) < 32 || ! self::is_site_id( $site ) || $event_id <= 0 || $uses < 1 || $uses > self::MAX_USES ) {
			throw new \InvalidArgumentException( 'reg_buffer form token: bad secret, site, event or uses' );
		}
		$nonce   = $nonce ?? self::base64url( random_bytes( 16 ) );
		$payload = implode( '.', array( self::VERSION, $site, $event_id, $expires, $uses, $nonce ) );
		return $payload . '.' . self::sign( $payload, $secret );
	}

	/**
	 * The site id a token names, before its signature is checked (to find the site's config), or null when the
	 * token is not even shaped like one.
	 */
	public static function site_of( string $token ): ?string {
		$parts = self::split( $token );
		return null === $parts ? null : $parts[1];
	}

	/**
	 * The event id a token names (unverified), or null when the token is not shaped like one: the event of a request
	 * that names none, which verify() then checks with the signature.
	 */
	public static function event_of( string $token ): ?string {
		$parts = self::split( $token );
		return null === $parts ? null : $parts[2];
	}

	/**
	 * Checks a token for one event.
	 *
	 * @param string $token    the token as posted.
	 * @param string $secret   the site's intake secret.
	 * @param int    $event_id the event the request registers for.
	 * @param int    $now      Unix seconds.
	 * @return array{ok:bool, error:?string, event_id:int, expires:int, uses:int, nonce:string}
	 */
	public static function verify( string $token, string $secret, int $event_id, int $now ): array {
		$result = array(
			'ok'       => false,
			'error'    => self::MALFORMED,
			'event_id' => 0,
			'expires'  => 0,
			'uses'     => 0,
			'nonce'    => '',
		);
		$parts  = self::split( $token );
		if ( null === $parts ) {
			return $result;
		}
		$signature = array_pop( $parts );
		if ( ! hash_equals( self::sign( implode( '.', $parts ), $secret ), $signature ) ) {
			$result['error'] = self::FORGED;
			return $result;
		}
		$result['event_id'] = (int) $parts[2];
		$result['expires']  = (int) $parts[3];
		$result['uses']     = (int) $parts[4];
		$result['nonce']    = $parts[5];
		if ( $result['event_id'] !== $event_id ) {
			$result['error'] = self::OTHER_EVENT;
		} elseif ( $result['expires'] < $now || $result['expires'] > $now + self::MAX_TTL ) {
			$result['error'] = self::EXPIRED;
		} else {
			$result['ok']    = true;
			$result['error'] = null;
		}
		return $result;
	}

	public static function is_site_id( string $site ): bool {
		return 1 === preg_match( '/^[0-9a-f]{16}$/D', $site );
	}

	/**
	 * The token's seven parts when each has its shape, else null: one anchored pattern (no part holds a '.'),
	 * and the last token's parts are kept, since the intake asks for its site and then verifies it.
	 *
	 * @return string[]|null
	 */
	private static function split( string $token ): ?array {
		static $last = array( '', null );
		if ( $last[0] === $token ) {
			return $last[1];
		}
		$parts = null;
		if ( strlen( $token ) <= self::MAX_LEN
			&& 1 === preg_match( '/^(' . self::VERSION . ')\.([0-9a-f]{16})\.([1-9][0-9]{0,18})\.([1-9][0-9]{0,11})\.([1-9][0-9]{0,3})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/D', $token, $m )
			&& (int) $m[5] <= self::MAX_USES ) {
			$parts = array_slice( $m, 1 );
		}
		$last = array( $token, $parts );
		return $parts;
	}

	private static function sign( string $payload, string $secret ): string {
		return self::base64url( hash_hmac( 'sha256', $payload, $secret, true ) );
	}

	private static function base64url( string $bytes ): string {
		return rtrim( strtr( base64_encode( $bytes ), '+/', '-_' ), '=' ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- base64url of an HMAC, for the token's text.
	}
}
