<?php
/**
 * Owns the wiring: hooks, activation, deactivation, schema upgrades.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Bootstraps the plugin.
 */
final class Reg_Buffer_Plugin {

	/** The option a site that uses the fast intake has (its config; Reg_Buffer_Intake::CONFIG_OPTION). */
	const INTAKE_CONFIG_OPTION = 'reg_buffer_intake_config';

	/**
	 * The one instance.
	 *
	 * @var self|null
	 */
	private static $instance = null;

	public static function instance(): self {
		if ( null === self::$instance ) {
			self::$instance = new self();
		}
		return self::$instance;
	}

	/**
	 * Adds every hook; runs on plugin load. Callbacks name their class as a string, so a class is loaded only when
	 * its hook fires: a front-end request loads neither the admin page, the history charts nor the fast intake.
	 */
	public function boot(): void {
		add_filter( 'cron_schedules', array( 'Reg_Buffer_Flusher', 'add_schedule' ) ); // phpcs:ignore WordPress.WP.CronInterval.ChangeDetected -- every minute on purpose (Reg_Buffer_Flusher::add_schedule()): the flush keeps the backlog short.
		add_action( Reg_Buffer_Flusher::CRON_HOOK, array( 'Reg_Buffer_Flusher', 'run_from_cron' ) );
		add_action( Reg_Buffer_Flusher::CRON_HOOK, array( 'Reg_Buffer_History', 'maybe_sample' ), 20 );
		if ( is_admin() ) {
			Reg_Buffer_Admin::register();
			$basename = plugin_basename( REG_BUFFER_PLUGIN_FILE );
			add_filter( 'plugin_action_links_' . $basename, array( $this, 'confirm_deactivation' ) );
			add_filter( 'network_admin_plugin_action_links_' . $basename, array( $this, 'confirm_deactivation' ) );
			add_action( 'after_plugin_row_' . $basename, array( $this, 'buffered_row_notice' ), 10, 0 );
		}
		add_action( 'reg_buffer_register', array( $this, 'on_register_action' ), 10, 3 );
		add_action( 'rest_api_init', array( $this, 'register_rest_routes' ) );
		add_shortcode( 'reg_buffer_seats_left', array( 'Reg_Buffer_Seats_Shortcode', 'render' ) );
		add_action( 'plugins_loaded', array( 'Reg_Buffer_Source_Hooks', 'listen' ) );
		// Per site, lazily: covers upgrades and sites of a network that were never activated one by one.
		add_action( 'init', array( $this, 'maintain_site' ) );
		add_action( 'init', array( $this, 'load_textdomain' ) );
		add_filter( 'debug_information', array( 'Reg_Buffer_Site_Health', 'info' ) );
		add_filter( 'site_status_tests', array( 'Reg_Buffer_Site_Health', 'add_tests' ) );
		add_action( 'wp_initialize_site', array( $this, 'on_new_site' ), 100 );
		$this->wire_intake();
		if ( defined( 'WP_CLI' ) && WP_CLI ) {
			WP_CLI::add_command( 'reg-buffer', 'Reg_Buffer_CLI' );
			WP_CLI::add_command( 'reg-buffer quarantine', 'Reg_Buffer_Quarantine_CLI' );
		}
	}

	/**
	 * The fast intake's hooks (Reg_Buffer_Intake): its config file kept current, the form token shortcode, the
	 * flush-time checks, a site of a network deleted or archived. Its class loads when one of them fires, and its
	 * `init` and admin-notice work only on a site that uses the intake (one that minted a token has its config).
	 */
	private function wire_intake(): void {
		$in_use = static fn(): bool => false !== get_option( self::INTAKE_CONFIG_OPTION, false );
		add_action(
			'init',
			static function () use ( $in_use ) {
				if ( $in_use() ) {
					Reg_Buffer_Intake::maintain_config();
				}
			},
			20
		);
		add_shortcode( 'reg_buffer_form_token', array( 'Reg_Buffer_Intake', 'shortcode' ) );
		add_filter( 'reg_buffer_flush_rows', array( 'Reg_Buffer_Intake', 'screen_rows' ), 10, 2 );
		if ( is_admin() ) {
			$notice = static function () use ( $in_use ) {
				if ( $in_use() ) {
					Reg_Buffer_Intake::stuck_open_notice();
				}
			};
			add_action( 'admin_notices', $notice );
			add_action( 'network_admin_notices', $notice );
		}
		// A site of a network that is deleted loses its file; one archived, spammed or deactivated stops accepting.
		add_action( 'wp_uninitialize_site', array( 'Reg_Buffer_Intake', 'on_site_deleted' ), 5 ); // Before its tables go.
		add_action( 'wp_update_site', array( 'Reg_Buffer_Intake', 'on_site_update' ), 10, 2 );
	}

	/**
	 * `do_action( 'reg_buffer_register', $event_id, $registration, $unique_key )`: an action cannot return, so
	 * failures are reported through reg_buffer_error (the registrar already fires it for fallbacks).
	 */
	public function on_register_action( $event_id = 0, $registration = null, $unique_key = null ): void {
		$outcome = Reg_Buffer_Registrar::register( $event_id, $registration, $unique_key );
		if ( is_wp_error( $outcome ) ) {
			Reg_Buffer_Registrar::report_error(
				'rejected',
				null,
				array(
					'event_id' => $event_id,
					'error'    => $outcome->get_error_message(),
				)
			);
		}
	}

	public function load_textdomain(): void {
		load_plugin_textdomain( 'reg-buffer', false, dirname( plugin_basename( REG_BUFFER_PLUGIN_FILE ) ) . '/languages' );
	}

	public function register_rest_routes(): void {
		( new Reg_Buffer_REST_Controller() )->register_routes();
	}

	/**
	 * Keeps the current site's table and schedule in place.
	 */
	public function maintain_site(): void {
		Reg_Buffer_Store::maybe_install();
		// Also when REG_BUFFER_DISABLED: it stops new pushes, never the flush of what Redis already holds.
		if ( Reg_Buffer_Bridge::is_loaded() ) {
			Reg_Buffer_Flusher::schedule();
		}
	}

	/**
	 * Activation: table and schedule for the current site, or for every site when network-activated (sites
	 * created later get theirs from on_new_site()).
	 *
	 * @param bool $network_wide network activation.
	 */
	public static function activate( $network_wide = false ): void {
		self::for_each_site( (bool) $network_wide, array( __CLASS__, 'activate_site' ) );
	}

	/**
	 * Deactivation: stop flushing and close the fast intake (it answers 503: nothing would flush what it took);
	 * buffered registrations stay in Redis and are flushed when the plugin returns. Through WP-CLI, says how many.
	 *
	 * @param bool $network_wide network deactivation.
	 */
	public static function deactivate( $network_wide = false ): void {
		self::for_each_site(
			(bool) $network_wide,
			static function () {
				Reg_Buffer_Flusher::unschedule();
				Reg_Buffer_Intake::close();
				$buffered = self::buffered_count();
				if ( $buffered > 0 && defined( 'WP_CLI' ) && WP_CLI ) {
					WP_CLI::warning( self::buffered_message( $buffered ) );
				}
			}
		);
	}

	public static function activate_site(): void {
		Reg_Buffer_Store::install();
		Reg_Buffer_Flusher::schedule();
		Reg_Buffer_Intake::open();
	}

	/**
	 * Registrations of the current site still in Redis (waiting or being flushed), or 0 when that cannot be known.
	 */
	public static function buffered_count(): int {
		static $counts = array(); // Per site and request: the Plugins screen asks twice (row notice, link).
		$blog          = get_current_blog_id();
		if ( ! isset( $counts[ $blog ] ) ) {
			$counts[ $blog ] = 0;
			if ( Reg_Buffer_Bridge::is_loaded() ) {
				try {
					$stats           = Reg_Buffer_Bridge::stats();
					$counts[ $blog ] = max( 0, (int) ( $stats['pending'] ?? 0 ) + (int) ( $stats['in_flight'] ?? 0 ) );
					if ( ! empty( $stats['partial'] ) ) {
						$counts[ $blog ] = max( 1, $counts[ $blog ] ); // A shard that cannot be read may hold some.
					}
				} catch ( \Throwable $e ) {
					unset( $e ); // Redis unreachable: nothing to tell.
				}
			}
		}
		return $counts[ $blog ];
	}

	/**
	 * What deactivating means for $buffered registrations.
	 */
	private static function buffered_message( int $buffered ): string {
		return sprintf(
			/* translators: %s: number of registrations. */
			_n(
				'%s registration is buffered in Redis and not stored yet. Deactivating stops the flush (and the fast intake) until the plugin is activated again; the registration stays in Redis and is stored then.',
				'%s registrations are buffered in Redis and not stored yet. Deactivating stops the flush (and the fast intake) until the plugin is activated again; they stay in Redis and are stored then.',
				$buffered,
				'reg-buffer'
			),
			number_format_i18n( $buffered )
		);
	}

	/**
	 * Plugins screen: the Deactivate link asks first while registrations are buffered.
	 *
	 * @param array $links action links.
	 */
	public function confirm_deactivation( $links ): array {
		$links    = (array) $links;
		$buffered = isset( $links['deactivate'] ) ? self::buffered_count() : 0;
		if ( $buffered > 0 ) {
			$confirm             = 'return window.confirm(' . wp_json_encode( self::buffered_message( $buffered ) ) . ');';
			$links['deactivate'] = preg_replace( '/^<a /', '<a onclick="' . esc_attr( $confirm ) . '" ', (string) $links['deactivate'], 1 );
		}
		return $links;
	}

	/**
	 * Plugins screen: a notice under the plugin's row while registrations are buffered.
	 */
	public function buffered_row_notice(): void {
		$buffered = self::buffered_count();
		if ( $buffered <= 0 ) {
			return;
		}
		printf(
			'<tr class="plugin-update-tr active reg-buffer-buffered"><td colspan="%d" class="plugin-update colspanchange"><div class="notice inline notice-warning notice-alt"><p>%s</p></div></td></tr>',
			(int) ( is_network_admin() ? 3 : 4 ),
			esc_html( self::buffered_message( $buffered ) )
		);
	}

	/**
	 * A site added to a network where the plugin is network-active gets its table right away.
	 *
	 * @param WP_Site $site the new site.
	 */
	public function on_new_site( $site ): void {
		if ( ! function_exists( 'is_plugin_active_for_network' ) ) {
			require_once ABSPATH . 'wp-admin/includes/plugin.php';
		}
		if ( ! is_plugin_active_for_network( plugin_basename( REG_BUFFER_PLUGIN_FILE ) ) ) {
			return;
		}
		switch_to_blog( (int) $site->blog_id );
		self::activate_site();
		restore_current_blog();
	}

	private static function for_each_site( bool $network_wide, callable $callback ): void {
		if ( ! is_multisite() || ! $network_wide ) {
			$callback();
			return;
		}
		foreach ( get_sites(
			array(
				'fields' => 'ids',
				'number' => 0,
			)
		) as $site_id ) {
			switch_to_blog( (int) $site_id );
			$callback();
			restore_current_blog();
		}
	}
}
