<?php
/**
 * Owns the plugin's calls into the reg_buffer extension with WordPress loaded. (The fast intake, intake.php, runs
 * without WordPress and calls reg_buffer_push() itself.)
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Thin wrapper over the extension; applies the current site's ini settings before each use.
 *
 * Exceptions of the extension (RegBuffer\ConnectionException, RegBuffer\CapacityException, ValueError,
 * TypeError) pass through unchanged: callers decide what a failure means for them.
 */
final class Reg_Buffer_Bridge {

	/** @var int|null blog id whose settings were last applied; ini values are per process, sites switch. */
	private static $configured_blog = null;

	/**
	 * Whether the extension is loaded in this PHP process.
	 */
	public static function is_loaded(): bool {
		return extension_loaded( 'reg_buffer' ) && function_exists( 'reg_buffer_push' );
	}

	/**
	 * Whether new registrations should go through Redis (extension loaded and not disabled by setting).
	 * REG_BUFFER_DISABLED stops new pushes only: the flush and `wp reg-buffer drain` keep moving what Redis holds,
	 * for which is_loaded() is enough.
	 */
	public static function is_available(): bool {
		return self::is_loaded() && ! Reg_Buffer_Settings::get( 'disabled' );
	}

	/**
	 * The extension's version, or null when not loaded.
	 */
	public static function version(): ?string {
		if ( ! self::is_loaded() ) {
			return null;
		}
		$version = phpversion( 'reg_buffer' );
		return false === $version ? null : $version;
	}

	/**
	 * Buffers one registration.
	 *
	 * @param int         $event_id     event.
	 * @param array       $registration fields.
	 * @param string|null $unique_key   dedupe key.
	 * @return string|false registration id, or false for a duplicate.
	 */
	public static function push( int $event_id, array $registration, ?string $unique_key ) {
		self::configure();
		return reg_buffer_push( $event_id, $registration, $unique_key );
	}

	/**
	 * Takes a seat of an event with a capacity and buffers the registration, in one round trip.
	 *
	 * @param int         $event_id     event.
	 * @param array       $registration fields.
	 * @param array       $seats        ['capacity' => int, 'waitlist' => bool] (Reg_Buffer_Seats::capacity()).
	 * @param string|null $unique_key   dedupe key.
	 * @return array{id:?string, status:string, remaining:int, waiting:int} status registered | waitlisted | duplicate.
	 * @throws \RegBuffer\SoldOutException     every seat taken, no waitlist (nothing written).
	 * @throws \RegBuffer\SeatsUnknownException Redis has no valid count of the event (nothing written): seed, then book again.
	 */
	public static function book( int $event_id, array $registration, array $seats, ?string $unique_key ): array {
		self::configure();
		return reg_buffer_book( $event_id, $registration, $seats, $unique_key );
	}

	/**
	 * Takes a seat without buffering anything, for a registration the caller writes to MySQL itself.
	 *
	 * @return array{status:string, remaining:int, waiting:int}
	 */
	public static function seat_take( int $event_id, array $seats ): array {
		self::configure();
		return reg_buffer_seat_take( $event_id, $seats );
	}

	/**
	 * Gives a seat back: freed | promote | unlisted | unknown. $capacity: the event's capacity now (a lowered one
	 * frees the seat instead of passing it on).
	 */
	public static function seat_release( int $event_id, bool $waitlisted, ?int $capacity ): string {
		self::configure();
		return reg_buffer_seat_release( $event_id, $waitlisted, $capacity );
	}

	/**
	 * Gives seats added to an event (capacity raised) to its waiters: how many now hold one, or null when Redis has
	 * no valid count.
	 */
	public static function seats_promote( int $event_id, int $capacity ): ?int {
		self::configure();
		return reg_buffer_seats_promote( $event_id, $capacity );
	}

	/**
	 * Redis's count of an event.
	 *
	 * @return array{known:bool, taken:int, waiting:int}
	 */
	public static function seats( int $event_id ): array {
		self::configure();
		return reg_buffer_seats( $event_id );
	}

	/**
	 * Ids of the event's registrations still in Redis (pending or in flight), by status.
	 *
	 * @return array{registered:string[], waitlisted:string[]}
	 */
	public static function seats_buffered( int $event_id ): array {
		self::configure();
		return reg_buffer_seats_buffered( $event_id );
	}

	/**
	 * Sets an event's count when Redis does not know it; false when it already did.
	 */
	public static function seats_seed( int $event_id, int $taken, int $waiting ): bool {
		self::configure();
		return reg_buffer_seats_seed( $event_id, $taken, $waiting );
	}

	/**
	 * Forgets an event's count: the next booking throws SeatsUnknownException until a seed.
	 */
	public static function seats_forget( int $event_id ): void {
		self::configure();
		reg_buffer_seats_forget( $event_id );
	}

	/**
	 * Claims a batch for $lease_seconds.
	 *
	 * @return array{batch:string, rows:array<int,array>}
	 */
	public static function claim( int $limit, int $lease_seconds, bool $with_data = true ): array {
		self::configure();
		return reg_buffer_flush( $limit, $lease_seconds, $with_data );
	}

	/**
	 * Acknowledges a stored batch; returns how many registrations left Redis.
	 */
	public static function ack( string $batch ): int {
		self::configure();
		return reg_buffer_ack( $batch );
	}

	/**
	 * Buffer statistics of the current site.
	 */
	public static function stats(): array {
		self::configure();
		return reg_buffer_stats();
	}

	/**
	 * Counts one hit of $client in the current fixed window of $window seconds (Redis's clock, keys the extension
	 * owns).
	 *
	 * @param string $client what is counted, e.g. 'rest:<address bucket>'.
	 * @param int    $limit  hits allowed per window.
	 * @param int    $window seconds.
	 * @return array{allowed:bool, count:int, limit:int, remaining:int, reset:int, retry_after:int}
	 */
	public static function rate_hit( string $client, int $limit, int $window ): array {
		self::configure();
		return reg_buffer_rate_hit( $client, $limit, $window );
	}

	/**
	 * Moves the seed snippet's legacy lists into the buffer.
	 */
	public static function import_legacy( string $pattern ): int {
		self::configure();
		return reg_buffer_import_legacy( $pattern );
	}

	/**
	 * Up to $limit quarantined entries (every shard's), ordered by event and id.
	 *
	 * @return array<int,array{entry:string, event_id:int, id:string, reason:string, stored:string, kind:string, registered_at:?float, unique_key:?string, json:?string}>
	 */
	public static function quarantined( int $limit ): array {
		self::configure();
		return reg_buffer_quarantined( $limit );
	}

	/**
	 * Buffers a quarantined entry's recovered registration again and removes the entry, in one step.
	 *
	 * @return string|null the new id, or null for a duplicate (another registration holds the unique key).
	 */
	public static function retry_quarantined( string $entry, array $registration, ?string $unique_key ): ?string {
		self::configure();
		return reg_buffer_retry_quarantined( $entry, $registration, $unique_key );
	}

	/**
	 * Deletes a quarantined entry; false when there was none.
	 */
	public static function purge_quarantined( string $entry ): bool {
		self::configure();
		return reg_buffer_purge_quarantined( $entry );
	}

	/**
	 * The Redis URL the extension uses for the current site (the Redis watch tells one buffer from another by it).
	 */
	public static function redis_url(): string {
		self::configure();
		return (string) ini_get( 'reg_buffer.redis_url' );
	}

	/**
	 * Runs $work with the extension set to the keys under $prefix instead of the site's own (an upgraded
	 * install's legacy prefix), then sets the site's own back.
	 *
	 * @return mixed what $work returns.
	 */
	public static function with_key_prefix( string $prefix, callable $work ) {
		self::configure();
		ini_set( 'reg_buffer.key_prefix', $prefix ); // phpcs:ignore WordPress.PHP.IniSet.Risky -- the extension's own setting, restored below.
		try {
			return $work();
		} finally {
			ini_set( 'reg_buffer.key_prefix', Reg_Buffer_Settings::site_key_prefix() ); // phpcs:ignore WordPress.PHP.IniSet.Risky -- the extension's own setting.
		}
	}

	/**
	 * Applies the current site's settings with ini_set, once per site switch.
	 */
	private static function configure(): void {
		$blog = get_current_blog_id();
		if ( self::$configured_blog === $blog ) {
			return;
		}
		foreach ( Reg_Buffer_Settings::ini_values() as $setting => $value ) {
			if ( false === ini_set( $setting, $value ) ) { // phpcs:ignore WordPress.PHP.IniSet.Risky -- only the extension's reg_buffer.* settings.
				// A refused setting would send this site's registrations to the wrong place: say so loudly.
				error_log( sprintf( 'reg_buffer: ini_set(%s) was refused', $setting ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
			}
		}
		self::$configured_blog = $blog;
	}
}
