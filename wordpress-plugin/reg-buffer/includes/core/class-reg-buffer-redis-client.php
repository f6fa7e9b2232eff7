<?php
/**
 * Owns the plugin's own phpredis connection to the site's Redis, for what the extension has no API for: the data
 * marker of the Redis watch and the REST route's per-IP counters.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * One phpredis connection per request and Redis URL (the server the extension uses for the current site).
 * Keys it writes live under the site's key prefix, beside the extension's (`<prefix>plugin:…`, `<prefix>rest:…`).
 */
final class Reg_Buffer_Redis_Client {

	/** @var \Redis|null */
	private static $redis = null;

	/** @var string|null the URL $redis was made for. */
	private static $url = null;

	/**
	 * Whether a connection can be attempted: phpredis loaded and the buffer in use.
	 */
	public static function is_usable(): bool {
		/**
		 * Filters whether the plugin may use phpredis itself (the Redis watch's marker and INFO, the REST rate
		 * limit's counters). Return false when an ACL allows only the extension's commands: the watch then relies
		 * on the extension's counters and the rate limit counts in the options table.
		 *
		 * @param bool $use whether phpredis is loaded.
		 */
		// phpredis's \Redis speaks to one server: on a Redis Cluster (redis+cluster://) only the extension is used.
		$single = ! str_contains( Reg_Buffer_Bridge::redis_url(), '+cluster://' );
		return Reg_Buffer_Bridge::is_available() && (bool) apply_filters( 'reg_buffer_use_phpredis', $single && class_exists( 'Redis' ) );
	}

	/**
	 * The connection (made on first use, with the extension's timeouts).
	 *
	 * @throws \RuntimeException when phpredis is missing or the server cannot be reached.
	 */
	public static function get(): \Redis {
		if ( ! self::is_usable() ) {
			throw new \RuntimeException( 'phpredis is not loaded or the buffer is not in use' );
		}
		$url = Reg_Buffer_Bridge::redis_url();
		if ( null !== self::$redis && self::$url === $url ) {
			return self::$redis;
		}
		$target  = self::parse_url( $url );
		$timeout = max( 0.1, (int) ini_get( 'reg_buffer.connect_timeout_ms' ) / 1000 );
		$redis   = new \Redis();
		try {
			$ca      = (string) ini_get( 'reg_buffer.tls_ca_file' ); // The extension's private CA, if it has one.
			$context = $target['tls'] ? array( 'stream' => array( 'verify_peer' => true, 'verify_peer_name' => true ) + ( '' !== $ca ? array( 'cafile' => $ca ) : array() ) ) : null;
			$ok      = null === $context
				? $redis->connect( $target['host'], $target['port'], $timeout )
				: $redis->connect( $target['host'], $target['port'], $timeout, null, 0, 0, $context );
			if ( ! $ok ) {
				throw new \RuntimeException( 'connect failed' );
			}
			if ( null !== $target['password'] ) {
				$redis->auth( null !== $target['user'] ? array( $target['user'], $target['password'] ) : $target['password'] );
			}
			if ( $target['db'] > 0 ) {
				$redis->select( $target['db'] );
			}
			$redis->setOption( \Redis::OPT_READ_TIMEOUT, max( 0.1, (int) ini_get( 'reg_buffer.timeout_ms' ) / 1000 ) );
		} catch ( \RedisException $e ) {
			// phpredis names host and port at most, never the password.
			throw new \RuntimeException( 'Redis could not be reached: ' . $e->getMessage() );
		}
		self::$redis = $redis;
		self::$url   = $url;
		return $redis;
	}

	/**
	 * Splits a reg_buffer.redis_url (redis://, rediss://, redis+unix://) into what phpredis needs.
	 *
	 * @return array{host:string, port:int, tls:bool, user:?string, password:?string, db:int}
	 */
	public static function parse_url( string $url ): array {
		if ( str_starts_with( $url, 'redis+unix://' ) ) {
			$rest = substr( $url, strlen( 'redis+unix://' ) );
			$q    = array();
			if ( false !== strpos( $rest, '?' ) ) {
				parse_str( substr( $rest, strpos( $rest, '?' ) + 1 ), $q );
				$rest = substr( $rest, 0, strpos( $rest, '?' ) );
			}
			return array(
				'host'     => $rest,
				'port'     => 0,
				'tls'      => false,
				'user'     => null,
				'password' => isset( $q['pass'] ) ? (string) $q['pass'] : null,
				'db'       => (int) ( $q['db'] ?? 0 ),
			);
		}
		// By hand, as the extension reads it: the credentials are everything before the LAST '@' (a password may hold
		// '/', '#', '?' or '@', which make parse_url() fail or pick another host).
		$tls   = str_starts_with( $url, 'rediss://' );
		$rest  = (string) preg_replace( '#^[a-z+]+://#i', '', $url );
		$at    = strrpos( $rest, '@' );
		$auth  = false === $at ? '' : substr( $rest, 0, $at );
		$rest  = false === $at ? $rest : substr( $rest, $at + 1 );
		$colon = strpos( $auth, ':' );
		$user  = false === $colon ? $auth : substr( $auth, 0, $colon );
		$pass  = false === $colon ? null : rawurldecode( substr( $auth, $colon + 1 ) );
		$user  = '' === $user ? null : rawurldecode( $user );
		preg_match( '#^(\[[^\]]*\]|[^:/?]*)(?::(\d+))?(?:/(\d*))?#', $rest, $m );
		return array(
			'host'     => ( $tls ? 'tls://' : '' ) . ( '' !== ( $m[1] ?? '' ) ? trim( $m[1], '[]' ) : '127.0.0.1' ),
			'port'     => (int) ( '' !== ( $m[2] ?? '' ) ? $m[2] : 6379 ),
			'tls'      => $tls,
			'user'     => null === $pass ? null : $user,
			'password' => $pass ?? $user,
			'db'       => (int) ( $m[3] ?? 0 ),
		);
	}

	/**
	 * Runs $call on the connection; a connection that broke is dropped (the next call makes a new one).
	 *
	 * @param callable $call receives the \Redis.
	 * @return mixed what $call returned.
	 * @throws \RuntimeException when Redis cannot be reached or answered with an error.
	 */
	public static function call( callable $call ) {
		try {
			return $call( self::get() );
		} catch ( \RedisException $e ) {
			self::$redis = null;
			throw new \RuntimeException( 'Redis: ' . $e->getMessage() );
		}
	}
}
