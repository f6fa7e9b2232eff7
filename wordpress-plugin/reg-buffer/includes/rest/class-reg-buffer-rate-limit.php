<?php
/**
 * Owns the REST route's rate limit: at most REG_BUFFER_REST_RATE_LIMIT registrations per client address per minute
 * (60 on a public route when it is not defined).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}


/**
 * A fixed one-minute window per client address (IPv6: per /64, which one client usually holds whole).
 *
 * Counted by the extension in the site's Redis (reg_buffer_rate_hit(), client `rest:<bucket>`, on Redis's clock).
 * When it cannot count (not loaded, buffering disabled, Redis unreachable) the count is kept in WordPress: in a
 * persistent object cache (wp_cache_incr), else in the options table (one upsert; the rows are named like
 * transients so WordPress's daily clean-up deletes them). A count is never read before it is incremented, so
 * concurrent requests cannot all slip under the limit.
 *
 * The client address and its bucket follow Reg_Buffer_Client_Address (REG_BUFFER_REST_TRUSTED_PROXIES; an
 * IPv4-mapped IPv6 address counts as its IPv4 address).
 */
final class Reg_Buffer_Rate_Limit {

	const WINDOW = 60;

	/** Requests per client and minute on a public route when REG_BUFFER_REST_RATE_LIMIT is not defined (the intake's). */
	const PUBLIC_DEFAULT = 60;

	/**
	 * Counts this request; null when no limit applies.
	 *
	 * @param WP_REST_Request $request the request.
	 * @return array{allowed:bool, limit:int, remaining:int, reset:int, retry_after:int, client:string}|null
	 */
	public static function hit( $request ): ?array {
		$client = self::client_ip();
		/**
		 * Filters the REST route's limit for this request (registrations per client address per minute; 0 = none),
		 * e.g. to exempt logged-in staff or a kiosk's address.
		 *
		 * @param int             $limit   REG_BUFFER_REST_RATE_LIMIT (default: PUBLIC_DEFAULT on a public route, else 0).
		 * @param string          $client  the client address (after the trusted-proxy rules).
		 * @param WP_REST_Request $request the request.
		 */
		$limit = (int) apply_filters( 'reg_buffer_rest_rate_limit', self::configured_limit(), $client, $request );
		if ( $limit <= 0 ) {
			return null;
		}
		$bucket = self::bucket( $client );
		return ( self::count_in_redis( $bucket, $limit ) ?? self::count_in_wordpress( $bucket, $limit ) ) + array( 'client' => $client );
	}

	/**
	 * REG_BUFFER_REST_RATE_LIMIT; when it is not defined and the route is public (REG_BUFFER_REST_PUBLIC), the fast
	 * intake's default: anyone may post there, so one client must not flood it or try e-mails without limit.
	 * Defined as 0, it is off.
	 */
	public static function configured_limit(): int {
		$limit = (int) Reg_Buffer_Settings::get( 'rest_rate_limit' );
		if ( 0 === $limit && ! defined( 'REG_BUFFER_REST_RATE_LIMIT' ) && Reg_Buffer_Settings::get( 'rest_public' ) ) {
			return self::PUBLIC_DEFAULT;
		}
		return $limit;
	}

	/**
	 * The client's address: REMOTE_ADDR, or from X-Forwarded-For when REMOTE_ADDR is a trusted proxy (the rule the
	 * fast intake applies too: Reg_Buffer_Client_Address).
	 */
	public static function client_ip(): string {
		return Reg_Buffer_Client_Address::of( $_SERVER, (string) Reg_Buffer_Settings::get( 'rest_trusted_proxies' ) );
	}

	/**
	 * The counter's bucket: an IPv4 address, or the /64 of an IPv6 one.
	 */
	private static function bucket( string $ip ): string {
		return Reg_Buffer_Client_Address::bucket( $ip );
	}

	/**
	 * Counts this request through the extension; null when it cannot (then WordPress counts).
	 *
	 * @return array{allowed:bool, limit:int, remaining:int, reset:int, retry_after:int}|null
	 */
	private static function count_in_redis( string $bucket, int $limit ): ?array {
		if ( ! Reg_Buffer_Bridge::is_available() ) {
			return null;
		}
		try {
			$hit = Reg_Buffer_Bridge::rate_hit( 'rest:' . $bucket, $limit, self::WINDOW );
		} catch ( \RegBuffer\Exception | \ValueError $e ) {
			return null; // Redis cannot count now (registrations then fall back too), or a limit it refuses.
		}
		return array(
			'allowed'     => (bool) $hit['allowed'],
			'limit'       => $limit,
			'remaining'   => (int) $hit['remaining'],
			'reset'       => (int) $hit['reset'],
			'retry_after' => max( 1, (int) $hit['retry_after'] ),
		);
	}

	/**
	 * Counts this request in WordPress: a persistent object cache, else the options table.
	 *
	 * @return array{allowed:bool, limit:int, remaining:int, reset:int, retry_after:int}
	 */
	private static function count_in_wordpress( string $bucket, int $limit ): array {
		$now    = time();
		$window = $now - $now % self::WINDOW;
		$reset  = $window + self::WINDOW;
		$count  = self::increment( $bucket, $window );
		return array(
			'allowed'     => $count <= $limit,
			'limit'       => $limit,
			'remaining'   => max( 0, $limit - $count ),
			'reset'       => $reset,
			'retry_after' => max( 1, $reset - $now ),
		);
	}

	/**
	 * Adds one to the bucket's count in this window in WordPress; returns the count including this request.
	 */
	private static function increment( string $bucket, int $window ): int {
		$ttl  = self::WINDOW + 5;
		$name = 'reg_buffer_rl_' . md5( $bucket . '|' . $window );
		if ( wp_using_ext_object_cache() ) {
			wp_cache_add( $name, 0, 'reg_buffer_rate', $ttl );
			$count = wp_cache_incr( $name, 1, 'reg_buffer_rate' );
			if ( is_int( $count ) ) {
				return $count;
			}
		}
		global $wpdb;
		// The timeout row lets delete_expired_transients() remove the count once the window is over.
		$wpdb->query( $wpdb->prepare( "INSERT IGNORE INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no')", '_transient_timeout_' . $name, (string) ( $window + $ttl ) ) );
		$wpdb->query( $wpdb->prepare( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, '1', 'no') ON DUPLICATE KEY UPDATE option_value = option_value + 1", '_transient_' . $name ) );
		return (int) $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", '_transient_' . $name ) );
	}
}
