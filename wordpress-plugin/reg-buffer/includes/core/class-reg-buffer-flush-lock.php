<?php
/**
 * Owns the per-site flush lock: one flush at a time per site.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * A MySQL named lock (GET_LOCK) held by the flusher's own database session.
 *
 * Why not a Redis key with a TTL (as Matomo QueuedTracking does): a TTL shorter than a slow batch lets a second
 * flusher in (its issue #32), and an evicting maxmemory policy can drop the key (#28). A named lock has no TTL,
 * cannot be evicted, and is released by the server the moment the holder's session ends, so a killed flusher
 * never leaves it stuck. The one way to lose it — the session dropping and $wpdb silently reconnecting — is
 * checked right before every COMMIT, or before a batch's INSERT that commits itself is sent (still_held()), and
 * the batch rolls back (or is not sent) if it happened.
 *
 * Only the session that took a named lock can release it, and it keeps it until it ends: while wpdb still talks
 * to that session (same connection id, known from the mysqli handshake), the lock is still ours — no query needed.
 * A session killed under a live mysqli object fails the next statement, which then commits nothing.
 */
final class Reg_Buffer_Flush_Lock {

	/** @var string */
	private $name;

	/** @var bool */
	private $held = false;

	/** @var string|null the connection id of the session that took the lock, when known without a query */
	private $session = null;

	public function __construct() {
		global $wpdb;
		// Named locks are server-wide: the name must tell databases and sites (table prefixes) apart; max 64 chars.
		$this->name = 'reg_buffer_flush:' . md5( DB_NAME . '|' . $wpdb->prefix );
	}

	/**
	 * Takes the lock without waiting.
	 */
	public function acquire(): bool {
		global $wpdb;
		$this->held    = '1' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 0)', $this->name ) );
		$this->session = $this->held ? Reg_Buffer_Store::known_connection_id() : null;
		return $this->held;
	}

	/**
	 * Takes the lock, waiting up to $seconds for a flush run that holds it to end. In the session that holds it
	 * already (a flush run counting seats) it is granted at once; each acquire needs its release.
	 */
	public function acquire_waiting( int $seconds ): bool {
		global $wpdb;
		$this->held    = '1' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', $this->name, $seconds ) );
		$this->session = $this->held ? Reg_Buffer_Store::known_connection_id() : null;
		return $this->held;
	}

	/**
	 * Whether this session still holds the lock (false after a reconnect).
	 */
	public function still_held(): bool {
		global $wpdb;
		if ( ! $this->held ) {
			return false;
		}
		$session = null === $this->session ? null : Reg_Buffer_Store::known_connection_id();
		if ( null !== $session ) {
			return $session === $this->session;
		}
		return '1' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT IS_USED_LOCK(%s) = CONNECTION_ID()', $this->name ) );
	}

	/**
	 * Releases the lock.
	 */
	public function release(): void {
		global $wpdb;
		if ( $this->held ) {
			$wpdb->query( $wpdb->prepare( 'DO RELEASE_LOCK(%s)', $this->name ) );
			$this->held = false;
		}
	}
}
