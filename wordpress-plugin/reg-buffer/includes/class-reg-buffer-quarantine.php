<?php
/**
 * Owns the quarantine: lists, retries and purges entries of the `<prefix>quarantine` hash through phpredis.
 *
 * The extension has no quarantine API yet, so this is the one place that reads the README's key layout directly:
 *
 *   <prefix>quarantine   hash   field `<event>:<id>` → `<reason>\n<bytes>`
 *
 * where <bytes> are the stored registration (`1:<µs>:<unique key length or ->:<unique key><json>`) for an entry
 * the flush could not decode, or the legacy snippet's element (`{"timestamp":…,"registration_details":{…}}`) for
 * one `import-legacy` could not read.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Quarantine entries: list, retry (decode what can be decoded and push it again), purge.
 */
final class Reg_Buffer_Quarantine {

	/** How many bytes of an entry the list shows. */
	const PREVIEW_BYTES = 300;

	/** @var \Redis|null connection of this request (per site: the prefix differs, the server may too). */
	private static $redis = null;

	/** @var string|null the URL $redis was made for. */
	private static $redis_url = null;

	/**
	 * Whether the quarantine can be managed here: phpredis loaded and the extension available.
	 */
	public static function is_manageable(): bool {
		return class_exists( 'Redis' ) && Reg_Buffer_Bridge::is_available();
	}

	/**
	 * Why it cannot be managed, in words (null when it can).
	 */
	public static function unavailable_reason(): ?string {
		if ( ! Reg_Buffer_Bridge::is_available() ) {
			return __( 'The reg_buffer extension is not in use on this site.', 'reg-buffer' );
		}
		if ( ! class_exists( 'Redis' ) ) {
			return __( 'The phpredis extension (php-redis) is not loaded: install it to list, retry and purge quarantined entries. Their number is still shown.', 'reg-buffer' );
		}
		return null;
	}

	/**
	 * The key of the current site's quarantine hash.
	 */
	public static function key(): string {
		return Reg_Buffer_Settings::site_key_prefix() . 'quarantine';
	}

	/**
	 * Entries, sorted by event and id (oldest first within an event). At most $limit are read (HSCAN, so a huge
	 * quarantine is never loaded at once); which ones is then Redis's order.
	 *
	 * @param int $limit at most this many.
	 * @return array<int,array{field:string,event_id:int,id:string,reason:string,kind:string,preview:string,retryable:bool,problem:?string,bytes:int}>
	 * @throws \RuntimeException when Redis cannot be reached.
	 */
	public static function entries( int $limit = 200 ): array {
		$redis = self::redis();
		$redis->setOption( \Redis::OPT_SCAN, \Redis::SCAN_RETRY );
		$all      = array();
		$iterator = null;
		while ( count( $all ) < $limit ) {
			$chunk = $redis->hScan( self::key(), $iterator, '*', 500 );
			if ( false === $chunk ) {
				break; // Done (or nothing there).
			}
			foreach ( $chunk as $field => $value ) {
				$all[ (string) $field ] = (string) $value;
			}
			if ( 0 === $iterator ) {
				break;
			}
		}
		ksort( $all, SORT_NATURAL );
		$out = array();
		foreach ( array_slice( $all, 0, $limit, true ) as $field => $value ) {
			$out[] = self::describe( (string) $field, $value );
		}
		return $out;
	}

	/**
	 * How many entries there are.
	 */
	public static function count(): int {
		return (int) self::redis()->hLen( self::key() );
	}

	/**
	 * Puts a quarantined entry back into the buffer: decodes it and pushes it with reg_buffer_push (it gets a new
	 * id and the time of the retry), then removes it from the quarantine.
	 *
	 * @param string $field `<event>:<id>`.
	 * @return array{ok:bool, message:string, id:?string}
	 */
	public static function retry( string $field ): array {
		return self::locked(
			$field,
			static function () use ( $field ) {
				$redis = self::redis();
				$value = $redis->hGet( self::key(), $field );
				if ( ! is_string( $value ) ) {
					return self::result( false, __( 'No such entry: it was already retried or purged.', 'reg-buffer' ) );
				}
				$entry = self::describe( $field, $value );
				if ( ! $entry['retryable'] ) {
					/* translators: %s: why */
					return self::result( false, sprintf( __( 'Cannot retry: %s. Purge it (its bytes are shown in the list).', 'reg-buffer' ), $entry['problem'] ) );
				}
				$decoded = self::decode( self::bytes_of( $value ) );
				if ( null !== $decoded['unique_key'] ) {
					// The first push left its marker: without removing it the retry would be refused as a duplicate
					// of itself. Only a marker that still names this very entry is removed.
					$marker = Reg_Buffer_Settings::site_key_prefix() . 'ev:{' . $entry['event_id'] . '}:u:' . substr( hash( 'sha256', $decoded['unique_key'] ), 0, 32 );
					$redis->eval( "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", array( $marker, $entry['id'] ), 1 );
				}
				try {
					$id = Reg_Buffer_Bridge::push( $entry['event_id'], $decoded['data'], $decoded['unique_key'] );
				} catch ( \Throwable $e ) {
					/* translators: %s: error message */
					return self::result( false, sprintf( __( 'The buffer refused it: %s', 'reg-buffer' ), $e->getMessage() ) );
				}
				if ( false === $id ) {
					return self::result( false, __( 'Another registration with the same unique key is buffered for this event: this one is a duplicate. Purge it.', 'reg-buffer' ) );
				}
				// Removed only if unchanged since it was read.
				$removed = $redis->eval( "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0", array( self::key(), $field, $value ), 1 );
				if ( 1 !== (int) $removed ) {
					/* translators: %s: registration id */
					return self::result( false, sprintf( __( 'Buffered again as %s, but the quarantine entry changed meanwhile and was kept: check it before retrying again.', 'reg-buffer' ), $id ), $id );
				}
				self::log( sprintf( 'quarantined entry %s retried: buffered again as %s', $field, $id ) );
				/* translators: 1: quarantine entry, 2: new registration id */
				return self::result( true, sprintf( __( 'Entry %1$s is buffered again as %2$s; the next flush stores it.', 'reg-buffer' ), $field, $id ), $id );
			}
		);
	}

	/**
	 * Deletes a quarantined entry for good.
	 *
	 * @param string $field `<event>:<id>`.
	 * @return array{ok:bool, message:string, id:?string}
	 */
	public static function purge( string $field ): array {
		return self::locked(
			$field,
			static function () use ( $field ) {
				if ( 1 !== (int) self::redis()->hDel( self::key(), $field ) ) {
					return self::result( false, __( 'No such entry: it was already retried or purged.', 'reg-buffer' ) );
				}
				self::log( sprintf( 'quarantined entry %s purged', $field ) );
				/* translators: %s: quarantine entry */
				return self::result( true, sprintf( __( 'Entry %s was purged.', 'reg-buffer' ), $field ) );
			}
		);
	}

	/**
	 * What an entry is, for the list.
	 *
	 * @param string $field `<event>:<id>`.
	 * @param string $value `<reason>\n<bytes>`.
	 */
	public static function describe( string $field, string $value ): array {
		$parts  = explode( ':', $field, 2 );
		$bytes  = self::bytes_of( $value );
		$nl     = strpos( $value, "\n" );
		$reason = false === $nl ? $value : substr( $value, 0, $nl );
		$entry  = array(
			'field'     => $field,
			'event_id'  => (int) $parts[0],
			'id'        => (string) ( $parts[1] ?? '' ),
			'reason'    => $reason,
			'kind'      => str_starts_with( $bytes, '1:' ) ? 'stored' : ( str_starts_with( ltrim( $bytes ), '{' ) ? 'legacy' : 'unknown' ),
			'preview'   => self::preview( $bytes ),
			'bytes'     => strlen( $bytes ),
			'retryable' => false,
			'problem'   => null,
		);
		if ( $entry['event_id'] <= 0 ) {
			$entry['problem'] = __( 'the entry names no event', 'reg-buffer' );
			return $entry;
		}
		$decoded = self::decode( $bytes );
		if ( null !== $decoded['problem'] ) {
			$entry['problem'] = $decoded['problem'];
			return $entry;
		}
		$entry['retryable'] = true;
		return $entry;
	}

	/**
	 * Decodes the bytes of an entry as leniently as is safe: the data must be intact JSON of an array (it is pushed
	 * exactly as it is); a damaged or missing timestamp does not matter (the retry gets the time of the retry).
	 *
	 * @return array{data:?array, unique_key:?string, problem:?string}
	 */
	private static function decode( string $bytes ): array {
		$fail = static fn( string $why ) => array( 'data' => null, 'unique_key' => null, 'problem' => $why );
		$json = null;
		$key  = null;
		if ( str_starts_with( $bytes, '1:' ) ) {
			$rest = substr( $bytes, 2 );
			$i    = strpos( $rest, ':' );
			if ( false === $i ) {
				return $fail( __( 'the stored registration has no timestamp field', 'reg-buffer' ) );
			}
			$rest = substr( $rest, $i + 1 );
			$i    = strpos( $rest, ':' );
			if ( false === $i ) {
				return $fail( __( 'the stored registration has no unique-key field', 'reg-buffer' ) );
			}
			$klen = substr( $rest, 0, $i );
			$rest = substr( $rest, $i + 1 );
			if ( '-' !== $klen ) {
				if ( ! ctype_digit( $klen ) || (int) $klen > strlen( $rest ) ) {
					return $fail( __( 'the unique key is truncated', 'reg-buffer' ) );
				}
				$key  = substr( $rest, 0, (int) $klen );
				$rest = substr( $rest, (int) $klen );
			}
			$json = $rest;
		} elseif ( str_starts_with( ltrim( $bytes ), '{' ) ) {
			$legacy = json_decode( $bytes, true );
			if ( ! is_array( $legacy ) || ! array_key_exists( 'registration_details', $legacy ) ) {
				return $fail( __( 'the legacy element is not JSON with registration_details', 'reg-buffer' ) );
			}
			$data = $legacy['registration_details'];
			if ( ! is_array( $data ) ) {
				return $fail( __( 'registration_details is not an array', 'reg-buffer' ) );
			}
			return array( 'data' => $data, 'unique_key' => null, 'problem' => null );
		} else {
			return $fail( __( 'the bytes are in no format reg_buffer knows', 'reg-buffer' ) );
		}
		if ( ! self::is_utf8( $json ) ) {
			return $fail( __( 'the data is not valid UTF-8', 'reg-buffer' ) );
		}
		$data = json_decode( $json, true, 64 );
		if ( ! is_array( $data ) ) {
			return $fail( __( 'the data is not JSON of an array', 'reg-buffer' ) );
		}
		if ( null !== $key && ( '' === $key || ! self::is_utf8( $key ) ) ) {
			return $fail( __( 'the unique key is empty or not valid UTF-8', 'reg-buffer' ) );
		}
		return array( 'data' => $data, 'unique_key' => $key, 'problem' => null );
	}

	private static function bytes_of( string $value ): string {
		$nl = strpos( $value, "\n" );
		return false === $nl ? '' : substr( $value, $nl + 1 );
	}

	/**
	 * The start of the bytes as printable text (invalid UTF-8 and control characters shown as \xNN).
	 */
	private static function preview( string $bytes ): string {
		$cut  = strlen( $bytes ) > self::PREVIEW_BYTES; // Roughly: the preview counts characters.
		$utf8 = self::is_utf8( $bytes );
		$s    = $utf8 ? mb_substr( $bytes, 0, self::PREVIEW_BYTES, 'UTF-8' ) : substr( $bytes, 0, self::PREVIEW_BYTES );
		// Valid UTF-8 shows as text; otherwise every byte above 0x7f is shown as \xNN. Control bytes always are.
		$pattern = $utf8 ? '/[\x00-\x08\x0b-\x1f\x7f]/' : '/[\x00-\x08\x0b-\x1f\x7f-\xff]/';
		$out     = preg_replace_callback( $pattern, static fn( $m ) => sprintf( '\\x%02x', ord( $m[0] ) ), $s );
		return (string) $out . ( $cut ? '…' : '' );
	}

	private static function is_utf8( string $s ): bool {
		return 1 === preg_match( '//u', $s );
	}

	private static function result( bool $ok, string $message, ?string $id = null ): array {
		return array(
			'ok'      => $ok,
			'message' => $message,
			'id'      => $id,
		);
	}

	/**
	 * Runs $work holding a MySQL named lock for this entry, so two operators (or a double click) never push one
	 * entry twice.
	 */
	private static function locked( string $field, callable $work ): array {
		global $wpdb;
		if ( ! preg_match( '/^[1-9][0-9]*:[^\s]+$/', $field ) ) {
			return self::result( false, __( 'That is not a quarantine entry (expected <event>:<id>).', 'reg-buffer' ) );
		}
		$lock = 'reg_buffer_q:' . md5( DB_NAME . '|' . self::key() . '|' . $field );
		if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 5)', $lock ) ) ) {
			return self::result( false, __( 'Someone else is acting on this entry right now; try again.', 'reg-buffer' ) );
		}
		try {
			return $work();
		} catch ( \RedisException $e ) {
			/* translators: %s: error message */
			return self::result( false, sprintf( __( 'Redis could not be reached: %s', 'reg-buffer' ), $e->getMessage() ) );
		} finally {
			$wpdb->query( $wpdb->prepare( 'DO RELEASE_LOCK(%s)', $lock ) );
		}
	}

	/**
	 * A phpredis connection to the server the extension uses for this site (reg_buffer.redis_url).
	 *
	 * @throws \RuntimeException when phpredis is missing or the server cannot be reached.
	 */
	private static function redis(): \Redis {
		$reason = self::unavailable_reason();
		if ( null !== $reason ) {
			throw new \RuntimeException( $reason );
		}
		$url = Reg_Buffer_Bridge::redis_url();
		if ( null !== self::$redis && self::$redis_url === $url ) {
			return self::$redis;
		}
		$target  = self::parse_url( $url );
		$timeout = max( 0.1, (int) ini_get( 'reg_buffer.connect_timeout_ms' ) / 1000 );
		$redis   = new \Redis();
		try {
			$context = $target['tls'] ? array( 'stream' => array( 'verify_peer' => true, 'verify_peer_name' => true ) ) : null;
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
			// The message of phpredis names host and port at most, never the password.
			throw new \RuntimeException( 'Redis could not be reached: ' . $e->getMessage() );
		}
		self::$redis     = $redis;
		self::$redis_url = $url;
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
		$parts = wp_parse_url( $url );
		$tls   = 'rediss' === ( $parts['scheme'] ?? '' );
		$user  = isset( $parts['user'] ) && '' !== $parts['user'] ? rawurldecode( $parts['user'] ) : null;
		$pass  = isset( $parts['pass'] ) ? rawurldecode( $parts['pass'] ) : null;
		return array(
			'host'     => ( $tls ? 'tls://' : '' ) . ( $parts['host'] ?? '127.0.0.1' ),
			'port'     => (int) ( $parts['port'] ?? 6379 ),
			'tls'      => $tls,
			'user'     => null === $pass ? null : $user,
			'password' => $pass ?? $user,
			'db'       => (int) ltrim( (string) ( $parts['path'] ?? '' ), '/' ),
		);
	}

	private static function log( string $line ): void {
		$user = function_exists( 'get_current_user_id' ) ? get_current_user_id() : 0;
		error_log( 'reg_buffer: ' . $line . ( $user ? " (user {$user})" : '' ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions
	}
}
