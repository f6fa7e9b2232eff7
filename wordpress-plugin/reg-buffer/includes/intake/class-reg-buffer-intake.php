<?php
/**
 * Owns the WordPress side of the fast intake (intake.php): the site's intake config file, minting form tokens,
 * and the flush-time checks of registrations that came through the intake.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}


/**
 * intake.php does not load WordPress, so the plugin hands it what it needs in a generated PHP file:
 * `<config dir>/<site id>.php` (where: Reg_Buffer_Intake_Config; default wp-content/reg-buffer-intake/, constant
 * REG_BUFFER_INTAKE_CONFIG_DIR with the same fastcgi_param / env for the intake), mode 0640, group of its parent
 * (or REG_BUFFER_INTAKE_FILE_GROUP) so php-fpm can read it whoever wrote it. It holds the site's intake secret, the
 * extension's ini values (Redis URL, key prefix, timeouts, limits), the intake's rate limit and trusted proxies,
 * and whether the site accepts registrations now (`accepting`: false while REG_BUFFER_DISABLED is set or the plugin
 * is deactivated — nothing would flush them — so the intake answers 503), the events' capacities (`seats`) and the
 * events whose count of seats must be established again first (`stale`: the intake refuses them with 503). It is
 * rewritten whenever any of that changes (checked on `init`, on activation and deactivation, and by Reg_Buffer_Seats
 * when a capacity or a stale mark changes). Each site of a network has its own file.
 */
final class Reg_Buffer_Intake {

	const SITE_OPTION   = 'reg_buffer_intake_site';
	const CONFIG_OPTION = Reg_Buffer_Plugin::INTAKE_CONFIG_OPTION;
	const DEFAULT_TTL   = 2 * HOUR_IN_SECONDS;

	/**
	 * Intake requests per client address (IPv4, or IPv6 /64) and window: REG_BUFFER_INTAKE_RATE_LIMIT (0 = none).
	 * 60 a minute: one person needs one to three; 60 lets a room behind one NAT register in the same minute, and
	 * holds a single address to one guess a second against the unique keys (see readme.txt, Fast intake).
	 */
	const DEFAULT_RATE_LIMIT  = 60;
	const DEFAULT_RATE_WINDOW = 60;

	/** The most a shortcode may mint, in any post (filter reg_buffer_shortcode_token_limits raises it). */
	const AUTHOR_MAX_USES = 10;
	const AUTHOR_MAX_TTL  = DAY_IN_SECONDS;

	/**
	 * Whether the intake is on for this site (REG_BUFFER_INTAKE_DISABLED turns it off and removes its file).
	 */
	public static function is_enabled(): bool {
		return ! ( defined( 'REG_BUFFER_INTAKE_DISABLED' ) && REG_BUFFER_INTAKE_DISABLED );
	}

	/**
	 * This site's id in tokens and in the config file's name (16 random hex characters, made once).
	 */
	public static function site_id(): string {
		$site = get_option( self::SITE_OPTION );
		if ( ! is_string( $site ) || ! Reg_Buffer_Form_Token::is_site_id( $site ) ) {
			$site = bin2hex( random_bytes( 8 ) );
			update_option( self::SITE_OPTION, $site, true );
		}
		return $site;
	}

	/**
	 * The HMAC key of this site's tokens: from REG_BUFFER_INTAKE_SECRET (wp-config.php) when defined, else from
	 * wp-config's salts; per site, so a token of one site of a network is worthless on another.
	 */
	public static function secret(): string {
		$key = defined( 'REG_BUFFER_INTAKE_SECRET' ) && strlen( (string) REG_BUFFER_INTAKE_SECRET ) >= 32 ? (string) REG_BUFFER_INTAKE_SECRET : wp_salt( 'nonce' );
		return hash_hmac( 'sha256', 'reg_buffer_intake|' . get_current_blog_id() . '|' . self::site_id(), $key );
	}

	public static function config_dir(): string {
		return Reg_Buffer_Intake_Config::dir( WP_PLUGIN_DIR, defined( 'REG_BUFFER_INTAKE_CONFIG_DIR' ) ? (string) REG_BUFFER_INTAKE_CONFIG_DIR : null );
	}

	public static function config_file(): string {
		return self::config_dir() . '/' . self::site_id() . '.php';
	}

	/**
	 * The directory used when REG_BUFFER_INTAKE_CONFIG_DIR is not set (where an intake without it looks).
	 */
	public static function default_config_dir(): string {
		return Reg_Buffer_Intake_Config::dir( WP_PLUGIN_DIR );
	}

	/**
	 * What intake.php needs for this site.
	 *
	 * @param bool $active false while the plugin is being deactivated.
	 */
	public static function config( bool $active = true ): array {
		$ini = Reg_Buffer_Settings::ini_values();
		if ( ! isset( $ini['reg_buffer.max_payload_bytes'] ) ) {
			$ini['reg_buffer.max_payload_bytes'] = (string) Reg_Buffer_Settings::get( 'max_payload_bytes' );
		}
		ksort( $ini );
		return array(
			'version'         => Reg_Buffer_Intake_Config::VERSION,
			'site'            => self::site_id(),
			'blog_id'         => get_current_blog_id(),
			'secret'          => self::secret(),
			// Only while something will flush what the intake takes, for a site that is up.
			'accepting'       => $active && ! Reg_Buffer_Settings::get( 'disabled' ) && self::site_is_up(),
			'rate_limit'      => array(
				'limit'  => max( 0, (int) ( defined( 'REG_BUFFER_INTAKE_RATE_LIMIT' ) ? REG_BUFFER_INTAKE_RATE_LIMIT : self::DEFAULT_RATE_LIMIT ) ),
				'window' => max( 1, min( 86400, (int) ( defined( 'REG_BUFFER_INTAKE_RATE_WINDOW' ) ? REG_BUFFER_INTAKE_RATE_WINDOW : self::DEFAULT_RATE_WINDOW ) ) ),
			),
			'trusted_proxies' => (string) Reg_Buffer_Settings::get( 'rest_trusted_proxies' ),
			'ini'             => $ini,
			// Events with a capacity are booked (reg_buffer_book()); stale ones refused until the plugin counts them.
			'seats'           => (object) Reg_Buffer_Seats::all(),
			'stale'           => Reg_Buffer_Seats::stale_events(),
		);
	}

	/**
	 * Whether this site is up: on a network, not archived, spammed or deactivated (its pages are not served, and
	 * its registrations would go unnoticed).
	 */
	private static function site_is_up(): bool {
		if ( ! is_multisite() ) {
			return true;
		}
		$site = get_site();
		return $site instanceof WP_Site && ! (int) $site->archived && ! (int) $site->spam && ! (int) $site->deleted;
	}

	/**
	 * Writes the config file when it is missing or out of date, removes it when the intake is off.
	 *
	 * @param bool $active false while the plugin is being deactivated: the intake then answers 503.
	 */
	public static function maintain_config( bool $active = true ): void {
		if ( ! self::is_enabled() ) {
			if ( false !== get_option( self::CONFIG_OPTION, false ) ) {
				wp_delete_file( self::config_file() );
				delete_option( self::CONFIG_OPTION );
			}
			return;
		}
		$config = self::config( $active );
		$hash   = hash( 'sha256', serialize( $config ) . '|' . self::config_file() ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.serialize_serialize -- only hashed, never unserialized.
		if ( get_option( self::CONFIG_OPTION ) === $hash && is_readable( self::config_file() ) ) {
			return;
		}
		if ( self::write_config( $config ) ) {
			update_option( self::CONFIG_OPTION, $hash, true );
			return;
		}
		if ( ! $config['accepting'] ) {
			// Closing must not fail open: without the closed config, no file (the intake then refuses every token).
			self::remove_or_alert( self::config_file(), 'the closed config could not be written' );
		}
	}

	/**
	 * Removes a config file the closed config could not replace; when that fails too, says so loudly (WP-CLI
	 * warning, error log, and an admin notice while the plugin runs: stuck_open_notice()).
	 *
	 * @param string $file the config file.
	 * @param string $why  why it goes (for the log).
	 */
	private static function remove_or_alert( string $file, string $why ): void {
		clearstatcache();
		if ( ! file_exists( $file ) ) {
			return;
		}
		wp_delete_file( $file );
		clearstatcache();
		if ( ! file_exists( $file ) ) {
			self::log( "{$why}: removed {$file}" );
			if ( self::config_file() !== $file ) {
				return;
			}
			update_option( self::CONFIG_OPTION, 'removed', true ); // Not a hash: written again when the site accepts.
			return;
		}
		$message = sprintf(
			/* translators: %s: the intake config file. */
			__( 'The fast intake could not be closed: %s can be neither rewritten nor removed by this user, so intake.php still takes registrations that nothing will flush. Remove the file (or make its directory writable) now.', 'reg-buffer' ),
			$file
		);
		self::log( $message );
		if ( defined( 'WP_CLI' ) && WP_CLI && class_exists( 'WP_CLI' ) ) {
			WP_CLI::warning( $message );
		}
	}

	/**
	 * Admin notice while this site's config file says the intake accepts and the site does not (a close that could
	 * neither rewrite nor remove it).
	 */
	public static function stuck_open_notice(): void {
		if ( ! current_user_can( 'manage_options' ) || false === get_option( self::CONFIG_OPTION, false ) || self::config()['accepting'] ) {
			return;
		}
		$on_disk = Reg_Buffer_Intake_Config::read( self::config_file() );
		if ( true !== ( $on_disk['accepting'] ?? null ) ) {
			return;
		}
		printf(
			'<div class="notice notice-error"><p>%s</p></div>',
			esc_html(
				sprintf(
					/* translators: %s: the intake config file. */
					__( 'reg_buffer: the fast intake could not be closed: %s still says it accepts registrations, and it can be neither rewritten nor removed. Remove it (or make its directory writable).', 'reg-buffer' ),
					self::config_file()
				)
			)
		);
	}

	/**
	 * `wp_uninitialize_site`: a deleted site of a network loses its config file (its options go with its tables).
	 *
	 * @param WP_Site $site the site being deleted.
	 */
	public static function on_site_deleted( $site ): void {
		if ( ! $site instanceof WP_Site ) {
			return;
		}
		switch_to_blog( (int) $site->blog_id );
		$id = get_option( self::SITE_OPTION );
		if ( is_string( $id ) && Reg_Buffer_Form_Token::is_site_id( $id ) ) {
			foreach ( array_unique( array( self::config_dir(), self::default_config_dir() ) ) as $dir ) {
				self::remove_or_alert( $dir . '/' . $id . '.php', 'the site was deleted' );
			}
		}
		restore_current_blog();
	}

	/**
	 * `wp_update_site`: a site of a network archived, marked spam or deactivated (or back) — after the change, which
	 * `deactivate_blog` is not — gets a config that says whether it accepts.
	 *
	 * @param WP_Site $site the site as updated.
	 * @param WP_Site $old  the site before.
	 */
	public static function on_site_update( $site, $old ): void {
		if ( ! $site instanceof WP_Site || ! $old instanceof WP_Site ) {
			return;
		}
		if ( array( $site->archived, $site->spam, $site->deleted ) == array( $old->archived, $old->spam, $old->deleted ) ) { // phpcs:ignore Universal.Operators.StrictComparisons.LooseEqual -- '0' and 0 alike.
			return;
		}
		switch_to_blog( (int) $site->blog_id );
		if ( false !== get_option( self::CONFIG_OPTION, false ) && self::plugin_is_active_here() ) {
			self::maintain_config();
		}
		restore_current_blog();
	}

	/**
	 * Whether the plugin is active on the current site (network-wide or its own): a site where it is not keeps the
	 * closed config its deactivation wrote.
	 */
	private static function plugin_is_active_here(): bool {
		if ( ! function_exists( 'is_plugin_active' ) ) {
			require_once ABSPATH . 'wp-admin/includes/plugin.php';
		}
		$basename = plugin_basename( REG_BUFFER_PLUGIN_FILE );
		return is_plugin_active_for_network( $basename ) || in_array( $basename, (array) get_option( 'active_plugins', array() ), true );
	}

	/**
	 * Activation, per site: a site that used the intake accepts again.
	 */
	public static function open(): void {
		if ( false !== get_option( self::CONFIG_OPTION, false ) ) {
			self::maintain_config( true );
		}
	}

	/**
	 * Deactivation, per site: the intake stops accepting (503) while nothing flushes; the secret stays, so tokens
	 * minted before work again once the plugin is back.
	 */
	public static function close(): void {
		if ( false !== get_option( self::CONFIG_OPTION, false ) ) {
			self::maintain_config( false );
		}
	}

	/**
	 * Uninstall, per site: the config file and the options.
	 */
	public static function uninstall(): void {
		$site = get_option( self::SITE_OPTION );
		if ( is_string( $site ) && Reg_Buffer_Form_Token::is_site_id( $site ) ) {
			foreach ( array_unique( array( self::config_dir(), self::default_config_dir() ) ) as $dir ) {
				wp_delete_file( $dir . '/' . $site . '.php' );
			}
		}
		delete_option( self::SITE_OPTION );
		delete_option( self::CONFIG_OPTION );
	}

	/**
	 * Writes the config atomically (temp file + rename), 0640, readable by the web server's group.
	 */
	public static function write_config( array $config ): bool {
		$dir = self::config_dir();
		if ( ! is_dir( $dir ) && ! wp_mkdir_p( $dir ) ) {
			self::log( "cannot create {$dir}" );
			return false;
		}
		$group = defined( 'REG_BUFFER_INTAKE_FILE_GROUP' ) ? REG_BUFFER_INTAKE_FILE_GROUP : filegroup( dirname( $dir ) );
		@chmod( $dir, 0750 ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged,WordPress.WP.AlternativeFunctions.file_system_operations_chmod -- only its owner may (a directory made by root: then it is as root left it).
		@chgrp( $dir, $group ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged,WordPress.WP.AlternativeFunctions.file_system_operations_chgrp -- only root or a member may; then the group is already ours.
		// Guards in case the directory is web-served: nothing to list, nothing to read.
		foreach ( Reg_Buffer_Intake_Config::guards() as $name => $text ) {
			if ( ! file_exists( "{$dir}/{$name}" ) ) {
				@file_put_contents( "{$dir}/{$name}", $text ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged,WordPress.WP.AlternativeFunctions.file_system_operations_file_put_contents -- a guard is best effort; WP_Filesystem may need credentials a cron run has not.
			}
		}
		$file = $dir . '/' . $config['site'] . '.php';
		$temp = Reg_Buffer_Intake_Config::temp_path( $file );
		$old  = umask( 0027 );
		$text = Reg_Buffer_Intake_Config::file_text( $config );
		$ok   = '' !== $text && false !== @file_put_contents( $temp, $text ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged,WordPress.WP.AlternativeFunctions.file_system_operations_file_put_contents -- failure is handled below.
		umask( $old );
		$ok = $ok && chmod( $temp, 0640 ); // phpcs:ignore WordPress.WP.AlternativeFunctions.file_system_operations_chmod -- WP_Filesystem may need credentials a cron run has not.
		if ( $ok ) {
			@chgrp( $temp, $group ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged,WordPress.WP.AlternativeFunctions.file_system_operations_chgrp -- only root or a member may; then the group is already ours.
			$ok = @rename( $temp, $file ); // phpcs:ignore WordPress.PHP.NoSilencedErrors.Discouraged,WordPress.WP.AlternativeFunctions.rename_rename -- failure is handled below.
		}
		if ( ! $ok ) {
			wp_delete_file( $temp );
			self::log( "cannot write {$file}" );
			return false;
		}
		self::remove_from_default_dir( $dir, $config['site'] );
		return true;
	}

	/**
	 * Once the config lives in REG_BUFFER_INTAKE_CONFIG_DIR, this site's file (and temp files) in the default
	 * directory go: an intake without the fastcgi_param would otherwise still find the old one, secret and all.
	 *
	 * @param string $dir  where the config was written.
	 * @param string $site the site id.
	 */
	private static function remove_from_default_dir( string $dir, string $site ): void {
		$default = self::default_config_dir();
		if ( realpath( $dir ) === realpath( $default ) || ! is_dir( $default ) ) {
			return;
		}
		foreach ( array_merge( array( "{$default}/{$site}.php" ), (array) glob( "{$default}/.{$site}.*.tmp.php" ) ) as $stale ) {
			self::remove_or_alert( $stale, 'the config lives in REG_BUFFER_INTAKE_CONFIG_DIR now' );
		}
	}

	/**
	 * A token for a form of event $event_id, or '' when the event takes no registrations (Reg_Buffer_Events: the
	 * intake cannot ask WordPress, so a closed event gets no token; tokens minted before it closed still work until
	 * they expire or are used up).
	 *
	 * @param int   $event_id the event.
	 * @param array $args     ttl (seconds, default 2 h), uses (default 1).
	 */
	public static function mint( int $event_id, array $args = array() ): string {
		$ttl  = max( 1, min( Reg_Buffer_Form_Token::MAX_TTL, (int) ( $args['ttl'] ?? self::DEFAULT_TTL ) ) );
		$uses = max( 1, min( Reg_Buffer_Form_Token::MAX_USES, (int) ( $args['uses'] ?? 1 ) ) );
		self::maintain_config(); // The intake must know the secret before the form is posted.
		if ( ! Reg_Buffer_Events::is_open( $event_id, 'intake_token' ) ) {
			return '';
		}
		return Reg_Buffer_Form_Token::mint( self::secret(), self::site_id(), $event_id, time() + $ttl, $uses );
	}

	/**
	 * Where a form posts: REG_BUFFER_INTAKE_URL (e.g. https://example.org/reg-buffer-intake, served by the nginx
	 * location in readme.txt) or the plugin's intake.php; filter `reg_buffer_intake_url`.
	 */
	public static function url( int $event_id ): string {
		$base = defined( 'REG_BUFFER_INTAKE_URL' ) ? (string) REG_BUFFER_INTAKE_URL : plugins_url( 'intake.php', REG_BUFFER_PLUGIN_FILE );
		return (string) apply_filters( 'reg_buffer_intake_url', add_query_arg( 'event', $event_id, $base ), $event_id );
	}

	/**
	 * [reg_buffer_form_token event="123" uses="1" ttl="7200"]: the hidden token field of a form posting to
	 * reg_buffer_intake_url( 123 ); nothing for an event that takes no registrations. A shortcode is content anyone
	 * with edit rights on the post can write (whoever its author is), so uses and ttl are capped for every shortcode
	 * (AUTHOR_MAX_USES, AUTHOR_MAX_TTL); the filter `reg_buffer_shortcode_token_limits` raises them. Tokens minted
	 * from PHP (reg_buffer_form_token()) are not capped.
	 *
	 * @param array|string $atts shortcode attributes.
	 */
	public static function shortcode( $atts ): string {
		$atts  = shortcode_atts(
			array(
				'event' => 0,
				'uses'  => 1,
				'ttl'   => self::DEFAULT_TTL,
			),
			$atts,
			'reg_buffer_form_token'
		);
		$event = absint( $atts['event'] );
		if ( $event <= 0 ) {
			return '';
		}
		$limits = self::shortcode_limits( get_post() );
		$token  = self::mint(
			$event,
			array(
				'uses' => min( (int) $atts['uses'], $limits['uses'] ),
				'ttl'  => min( (int) $atts['ttl'], $limits['ttl'] ),
			)
		);
		if ( '' === $token ) {
			return '';
		}
		return '<input type="hidden" name="reg_buffer_token" value="' . esc_attr( $token ) . '" />';
	}

	/**
	 * The most uses and seconds a shortcode in $post may give a token: AUTHOR_MAX_USES and AUTHOR_MAX_TTL, whoever
	 * wrote the post (an Editor may edit an administrator's post, or reassign its author), unless filtered.
	 *
	 * @param WP_Post|null $post the post being rendered.
	 * @return array{uses:int, ttl:int}
	 */
	public static function shortcode_limits( $post ): array {
		/**
		 * Filters the most uses and lifetime (seconds) the [reg_buffer_form_token] shortcode gives a token (at most
		 * the token's own maximum: 1000 uses, 31 days).
		 *
		 * @param array{uses:int, ttl:int} $limits default: AUTHOR_MAX_USES (10) and AUTHOR_MAX_TTL (a day).
		 * @param WP_Post|null             $post   the post being rendered.
		 */
		$limits = (array) apply_filters(
			'reg_buffer_shortcode_token_limits',
			array(
				'uses' => self::AUTHOR_MAX_USES,
				'ttl'  => self::AUTHOR_MAX_TTL,
			),
			$post
		);
		return array(
			'uses' => max( 1, (int) ( $limits['uses'] ?? 1 ) ),
			'ttl'  => max( 1, (int) ( $limits['ttl'] ?? self::DEFAULT_TTL ) ),
		);
	}

	/**
	 * `reg_buffer_flush_rows`: registrations that came through the intake get WordPress's checks here, before
	 * they are stored. Their intake marker is removed and string fields are sanitised (sanitize_textarea_field); they
	 * are stored whatever their size after that (the extension checked the size at push; the column is longtext) —
	 * a registration the intake answered 201 is stored. The event is not checked again: the token proved it open
	 * when the form was served, and closing an event stops new tokens. A site that wants to refuse at flush returns
	 * a WP_Error from the filter `reg_buffer_intake_registration`: such rows are set aside (Reg_Buffer_Set_Aside)
	 * with the error's message and not stored; the batch is acknowledged. Other rows pass untouched.
	 *
	 * @param array  $rows  the claimed batch.
	 * @param string $batch batch id.
	 * @return array|WP_Error the rows to store; WP_Error when the set-aside could not be saved (then the batch is
	 *                        not acknowledged and comes back after its lease).
	 */
	public static function screen_rows( $rows, $batch = '' ) {
		if ( ! is_array( $rows ) ) {
			return $rows;
		}
		$rejected = array();
		foreach ( $rows as $i => $row ) {
			if ( ! is_array( $row['data'] ?? null ) || ! array_key_exists( '_reg_buffer_intake', $row['data'] ) ) {
				continue;
			}
			$data = self::stored_form( $row['data'] );
			/**
			 * Filters a registration that came through the fast intake, at flush: return the fields to store,
			 * or a WP_Error to refuse it (it is set aside with the error's message).
			 *
			 * @param array $data the fields, sanitised.
			 * @param array $row  the flushed row (id, event_id, registered_at, unique_key).
			 */
			$data = apply_filters( 'reg_buffer_intake_registration', self::sanitize( $data ), $row );
			$json = is_array( $data ) ? Reg_Buffer_Registration::to_json( $data ) : ( is_wp_error( $data ) ? $data : new WP_Error( 'reg_buffer_intake', 'refused' ) );
			if ( is_wp_error( $json ) ) {
				$rejected[] = array(
					'id'            => (string) $row['id'],
					'event_id'      => (int) $row['event_id'],
					'registered_at' => (float) $row['registered_at'],
					'unique_key'    => $row['unique_key'],
					'json'          => (string) $row['json'],
					'error'         => 'intake: ' . $json->get_error_message(),
				);
				unset( $rows[ $i ] );
				continue;
			}
			$rows[ $i ]['data'] = $data;
			$rows[ $i ]['json'] = $json;
		}
		if ( array() === $rejected ) {
			return $rows;
		}
		if ( ! self::set_aside( $rejected ) ) {
			return new WP_Error( 'reg_buffer_db', __( 'Registrations refused at flush could not be set aside; the batch stays buffered.', 'reg-buffer' ) );
		}
		Reg_Buffer_Registrar::report_error(
			'set_aside',
			null,
			array(
				'batch'     => $batch,
				'set_aside' => count( $rejected ),
				'error'     => $rejected[0]['error'],
			)
		);
		return array_values( $rows );
	}

	/**
	 * A registration as it is stored: one that came through the intake loses its marker and has its strings
	 * sanitised (the flush's screen, and the retries of set-aside and quarantined registrations); others as given.
	 *
	 * @param array $data the fields as buffered.
	 */
	public static function stored_form( array $data ): array {
		if ( ! array_key_exists( '_reg_buffer_intake', $data ) ) {
			return $data;
		}
		unset( $data['_reg_buffer_intake'] );
		return self::sanitize( $data );
	}

	/**
	 * String fields through sanitize_textarea_field (tags, invalid UTF-8, stray octets removed; line breaks kept).
	 */
	private static function sanitize( array $data ): array {
		foreach ( $data as $key => $value ) {
			if ( is_array( $value ) ) {
				$data[ $key ] = self::sanitize( $value );
			} elseif ( is_string( $value ) ) {
				$data[ $key ] = sanitize_textarea_field( $value );
			}
		}
		return $data;
	}

	/**
	 * Sets rows aside in their table; true only when every one is durably there (else the batch is not acked).
	 */
	private static function set_aside( array $rejected ): bool {
		return Reg_Buffer_Set_Aside::add( $rejected );
	}

	private static function log( string $message ): void {
		error_log( 'reg_buffer intake: ' . $message ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
	}
}
