<?php
/**
 * Owns the plugin's settings: wp-config constants (REG_BUFFER_*), their defaults, and the extension's ini values.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Settings read once per request from constants, filterable with `reg_buffer_settings`.
 */
final class Reg_Buffer_Settings {

	/**
	 * Constant => extension ini setting it feeds. Applied with ini_set before the extension is first used.
	 */
	const INI_CONSTANTS = array(
		'REG_BUFFER_REDIS_URL'          => 'reg_buffer.redis_url',
		'REG_BUFFER_CONNECT_TIMEOUT_MS' => 'reg_buffer.connect_timeout_ms',
		'REG_BUFFER_TIMEOUT_MS'         => 'reg_buffer.timeout_ms',
		'REG_BUFFER_MAX_PENDING'        => 'reg_buffer.max_pending',
		'REG_BUFFER_MAX_PAYLOAD_BYTES'  => 'reg_buffer.max_payload_bytes',
		'REG_BUFFER_DEDUPE_TTL'         => 'reg_buffer.dedupe_ttl',
		'REG_BUFFER_RETRY_INTERVAL_MS'  => 'reg_buffer.retry_interval_ms',
		'REG_BUFFER_DURABILITY'         => 'reg_buffer.durability',
		'REG_BUFFER_TLS_CA_FILE'        => 'reg_buffer.tls_ca_file',
		'REG_BUFFER_TLS_CERT_FILE'      => 'reg_buffer.tls_cert_file',
		'REG_BUFFER_TLS_KEY_FILE'       => 'reg_buffer.tls_key_file',
	);

	/**
	 * Plugin settings and their defaults (constant name without the REG_BUFFER_ prefix, lower-cased).
	 */
	const DEFAULTS = array(
		'key_prefix'           => '',     // Empty: this install's own prefix, made once (see install_key_prefix()).
		'disabled'             => false,  // Force direct MySQL writes even when the extension is loaded.
		'batch_size'           => 500,    // Registrations per claimed batch = per multi-row INSERT.
		'lease_seconds'        => 300,    // A claimed batch returns to the buffer if not acked within this.
		'flush_time_budget'    => 40,     // Seconds one flush run may take; cron runs every minute.
		'flush_memory_budget'  => 0,      // Bytes; 0 = 60% of memory_limit.
		'mirror_postmeta'      => false,  // Also copy fields into the event's postmeta, as the seed snippet did.
		'rest_public'          => false,  // Let anyone POST registrations (public forms) without a capability.
		'rest_rate_limit'      => 0,      // REST registrations per client address per minute; 0 = no limit.
		'rest_trusted_proxies' => '',     // Reverse proxies (addresses, CIDR; comma-separated) whose X-Forwarded-For is believed.
		'max_payload_bytes'    => 65536,  // Mirrors reg_buffer.max_payload_bytes for direct writes.
	);

	/** The option holding this install's own key prefix (a network option on multisite). */
	const KEY_PREFIX_OPTION = 'reg_buffer_key_prefix';

	/** The prefix every install used before it had its own: the legacy prefix an upgraded install drains. */
	const LEGACY_KEY_PREFIX = 'regbuf:';

	/** @var array<string,mixed>|null */
	private static $values = null;

	/** @var string|null this install's own prefix when load() used it (no constant set one). */
	private static $own_prefix = null;

	/**
	 * One setting's value.
	 *
	 * @param string $name a key of DEFAULTS.
	 * @return mixed
	 */
	public static function get( string $name ) {
		if ( null === self::$values ) {
			self::$values = self::load();
		}
		return self::$values[ $name ] ?? null;
	}

	/**
	 * Forgets cached values (tests, or after a filter changed).
	 */
	public static function reset(): void {
		self::$values = null;
	}

	/**
	 * The Redis key prefix of the current site: multisite sites never share keys.
	 */
	public static function site_key_prefix(): string {
		return self::with_site_suffix( (string) self::get( 'key_prefix' ) );
	}

	/**
	 * The current site's keys under $prefix (multisite: `site<id>:` appended).
	 */
	public static function with_site_suffix( string $prefix ): string {
		if ( is_multisite() ) {
			$prefix .= 'site' . get_current_blog_id() . ':';
		}
		return $prefix;
	}

	/**
	 * Whether REG_BUFFER_KEY_PREFIX (or the reg_buffer_settings filter) chose the prefix, rather than the install.
	 */
	public static function key_prefix_is_configured(): bool {
		$prefix = (string) self::get( 'key_prefix' );
		return null === self::$own_prefix || $prefix !== self::$own_prefix;
	}

	/**
	 * This install's own key prefix, `regbuf:<8 hex>:`, made once and kept (autoloaded; on multisite one for the
	 * network, each site adding its suffix): two sites on one Redis never share keys unless told to.
	 */
	public static function install_key_prefix(): string {
		$multisite = is_multisite();
		$prefix    = $multisite ? get_site_option( self::KEY_PREFIX_OPTION ) : get_option( self::KEY_PREFIX_OPTION );
		if ( self::is_install_prefix( $prefix ) ) {
			return $prefix;
		}
		// Made once, under a named lock: add_option() overwrites a row another request inserted meanwhile, and
		// registrations pushed under a prefix that was then replaced would never be flushed.
		global $wpdb;
		$lock   = 'reg_buffer_key_prefix:' . md5( DB_NAME . '|' . ( $multisite ? $wpdb->sitemeta : $wpdb->options ) );
		$locked = '1' === (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 10)', $lock ) );
		try {
			$stored = $multisite
				? $wpdb->get_var( $wpdb->prepare( "SELECT meta_value FROM {$wpdb->sitemeta} WHERE meta_key = %s AND site_id = %d ORDER BY meta_id LIMIT 1", self::KEY_PREFIX_OPTION, get_current_network_id() ) )
				: $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::KEY_PREFIX_OPTION ) );
			if ( self::is_install_prefix( $stored ) ) {
				$prefix = $stored;
			} else {
				// None yet, or junk under the option's name (nothing was ever buffered under a prefix not returned).
				$prefix = 'regbuf:' . bin2hex( random_bytes( 4 ) ) . ':';
				if ( $multisite ) {
					update_site_option( self::KEY_PREFIX_OPTION, $prefix );
				} else {
					update_option( self::KEY_PREFIX_OPTION, $prefix, true );
				}
			}
		} finally {
			if ( $locked ) {
				$wpdb->query( $wpdb->prepare( 'DO RELEASE_LOCK(%s)', $lock ) );
			}
		}
		// The caches may hold "no such option" from before the lock.
		if ( $multisite ) {
			wp_cache_delete( get_current_network_id() . ':' . self::KEY_PREFIX_OPTION, 'site-options' );
		} else {
			wp_cache_delete( 'notoptions', 'options' );
			wp_cache_delete( 'alloptions', 'options' );
			wp_cache_delete( self::KEY_PREFIX_OPTION, 'options' );
		}
		return $prefix;
	}

	/**
	 * Whether $prefix has the shape install_key_prefix() makes.
	 *
	 * @param mixed $prefix an option's value.
	 */
	private static function is_install_prefix( $prefix ): bool {
		return is_string( $prefix ) && 1 === preg_match( '/^regbuf:[0-9a-f]{8}:$/D', $prefix );
	}

	/**
	 * The ini values the extension must see for the current site.
	 *
	 * @return array<string,string>
	 */
	public static function ini_values(): array {
		$ini = array();
		foreach ( self::INI_CONSTANTS as $constant => $setting ) {
			if ( defined( $constant ) ) {
				$ini[ $setting ] = (string) constant( $constant );
			}
		}
		$ini['reg_buffer.key_prefix'] = self::site_key_prefix();
		return $ini;
	}

	/**
	 * Reads constants over defaults.
	 *
	 * @return array<string,mixed>
	 */
	private static function load(): array {
		$values = array();
		foreach ( self::DEFAULTS as $name => $default ) {
			$constant = 'REG_BUFFER_' . strtoupper( $name );
			$value    = defined( $constant ) ? constant( $constant ) : $default;
			if ( is_int( $default ) ) {
				$value = (int) $value;
			} elseif ( is_bool( $default ) ) {
				$value = (bool) $value;
			} else {
				$value = (string) $value;
			}
			$values[ $name ] = $value;
		}
		self::$own_prefix = null;
		if ( '' === $values['key_prefix'] ) {
			self::$own_prefix     = self::install_key_prefix();
			$values['key_prefix'] = self::$own_prefix;
		}
		if ( 0 >= $values['flush_memory_budget'] ) {
			$limit                         = wp_convert_hr_to_bytes( (string) ini_get( 'memory_limit' ) );
			$values['flush_memory_budget'] = $limit > 0 ? (int) ( $limit * 0.6 ) : 256 * MB_IN_BYTES;
		}
		$values['batch_size'] = max( 1, min( 10000, $values['batch_size'] ) );
		/**
		 * Filters the plugin's settings after constants were applied.
		 *
		 * @param array<string,mixed> $values settings keyed like Reg_Buffer_Settings::DEFAULTS.
		 */
		return (array) apply_filters( 'reg_buffer_settings', $values );
	}
}
