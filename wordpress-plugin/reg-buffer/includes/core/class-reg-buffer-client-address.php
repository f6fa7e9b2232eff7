<?php
/**
 * Owns which address a request comes from and which rate-limit bucket it counts in: one rule for the REST route and
 * the fast intake (which runs without WordPress, so nothing in here calls WordPress).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'REG_BUFFER_INTAKE' ) ) {
	exit;
}

/**
 * The client address is REMOTE_ADDR. Behind a reverse proxy, list the proxy in REG_BUFFER_REST_TRUSTED_PROXIES
 * (addresses or CIDR ranges, comma-separated): only for a request that comes from one of them is X-Forwarded-For
 * read, right to left, and the first address that is not a trusted proxy is the client. Anything a client writes
 * further left is ignored, so a forged header cannot buy a fresh allowance.
 *
 * An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 peer) is the IPv4
 * address: normalized before it is compared with the trusted ranges and before it picks a bucket.
 */
final class Reg_Buffer_Client_Address {

	/**
	 * The client's address for a request.
	 *
	 * @param array  $server  $_SERVER (REMOTE_ADDR, HTTP_X_FORWARDED_FOR).
	 * @param string $trusted the trusted proxies setting (comma-separated addresses or CIDR ranges).
	 */
	public static function of( array $server, string $trusted ): string {
		$remote = self::normalize( (string) ( $server['REMOTE_ADDR'] ?? '' ) ) ?? '0.0.0.0';
		$ranges = array_filter( array_map( 'trim', explode( ',', $trusted ) ) );
		if ( array() === $ranges || empty( $server['HTTP_X_FORWARDED_FOR'] ) || ! self::matches( $remote, $ranges ) ) {
			return $remote;
		}
		$client = $remote;
		foreach ( array_reverse( explode( ',', (string) $server['HTTP_X_FORWARDED_FOR'] ) ) as $hop ) {
			$hop = self::normalize( trim( $hop ) );
			if ( null === $hop ) {
				break; // Garbage where an address belongs: the last hop we could trust is the answer.
			}
			$client = $hop;
			if ( ! self::matches( $hop, $ranges ) ) {
				break;
			}
		}
		return $client;
	}

	/**
	 * The address in its canonical text (IPv4-mapped IPv6 as IPv4), or null when it is not an address.
	 */
	public static function normalize( string $ip ): ?string {
		$packed = @inet_pton( $ip ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- garbage is an answer (null), not a warning.
		if ( false === $packed || false === filter_var( $ip, FILTER_VALIDATE_IP ) ) {
			return null;
		}
		if ( 16 === strlen( $packed ) && str_starts_with( $packed, str_repeat( "\0", 10 ) . "\xff\xff" ) ) {
			$packed = substr( $packed, 12 );
		}
		return (string) inet_ntop( $packed );
	}

	/**
	 * The rate-limit bucket of an address: an IPv4 address, or the /64 of an IPv6 one (a client usually holds a
	 * whole /64).
	 */
	public static function bucket( string $ip ): string {
		$ip     = self::normalize( $ip ) ?? $ip;
		$packed = @inet_pton( $ip ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- see normalize().
		if ( false === $packed || 4 === strlen( $packed ) ) {
			return $ip;
		}
		return bin2hex( substr( $packed, 0, 8 ) ) . '::/64';
	}

	/**
	 * Whether $ip is one of the addresses or CIDR ranges (an IPv4-mapped range is its IPv4 range).
	 *
	 * @param string   $ip     a normalized address.
	 * @param string[] $ranges addresses or CIDR ranges.
	 */
	public static function matches( string $ip, array $ranges ): bool {
		$packed = @inet_pton( $ip ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- see normalize().
		if ( false === $packed ) {
			return false;
		}
		foreach ( $ranges as $range ) {
			$parts = explode( '/', $range, 2 );
			$net   = @inet_pton( $parts[0] ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged -- false for a typo in the setting: that entry is skipped.
			if ( false === $net ) {
				continue;
			}
			$bits = isset( $parts[1] ) ? max( 0, min( 8 * strlen( $net ), (int) $parts[1] ) ) : 8 * strlen( $net );
			if ( 16 === strlen( $net ) && str_starts_with( $net, str_repeat( "\0", 10 ) . "\xff\xff" ) && $bits >= 96 ) {
				$net   = substr( $net, 12 );
				$bits -= 96;
			}
			if ( strlen( $net ) !== strlen( $packed ) ) {
				continue;
			}
			$full = intdiv( $bits, 8 );
			$rest = $bits % 8;
			if ( substr( $packed, 0, $full ) !== substr( $net, 0, $full ) ) {
				continue;
			}
			if ( 0 === $rest || ( ( ord( $packed[ $full ] ) ^ ord( $net[ $full ] ) ) & ( 0xff << ( 8 - $rest ) ) & 0xff ) === 0 ) {
				return true;
			}
		}
		return false;
	}
}
