<?php
// WordPress-side helpers of tests/e2e/intake.sh (the fast intake itself is tested over HTTP, without WordPress).
//   php intake.php init                     loads WordPress (its `init` keeps the intake's config file current)
//   php intake.php deactivate | activate    the plugin, as the Plugins screen does
//   php intake.php setup                    events (three published posts, one draft); prints JSON with their ids,
//                                           whether the site had no intake config file before its first token, and
//                                           the file's path, mode and group after it
//   php intake.php mint EVENT [USES] [TTL]  a token from reg_buffer_form_token()
//   php intake.php mint-expired EVENT       a token of this site, expired 10 s ago
//   php intake.php mint-foreign EVENT       a well-formed token for this site signed with another secret
//   php intake.php shortcode EVENT          the [reg_buffer_form_token] shortcode's output
//   php intake.php set-aside ID             the set-aside row of registration ID as JSON (null if none), then purges it
//                                           (later tests expect none)
//   php intake.php remove-config            deletes this site's intake config file (test cleanup)
//   php intake.php close-event ID           makes event ID a draft (closed after its tokens were minted)
//   php intake.php flush-refusing REF       a flush whose reg_buffer_intake_registration filter refuses ref REF
//   php intake.php retry-set-aside ID       Reg_Buffer_Set_Aside::retry( ID ): {"ok","message","stored": the row's data}
//   php intake.php open-events FIRST LAST   makes posts FIRST..LAST published events (created with those ids)
//   php intake.php gate-events              a draft, a published wp_block (not an event type): {"draft":…,"block":…}
//   php intake.php config                   this site's intake config file: {"file":…,"secret":…,"accepting":…}
//   php intake.php crash-temp               writes a config temp file the way the plugin names and fills it, and
//                                           leaves it (a crash between write and rename); prints its path
//   php intake.php buffered                 Reg_Buffer_Plugin::buffered_count()
//   php intake.php shortcode-limits         checks the shortcode's caps (every post, whoever its author; the filter)
//   php intake.php client-ip                checks IPv4-mapped IPv6 clients and proxies (item 11), with the settings
//                                           REG_BUFFER_REST_TRUSTED_PROXIES = '127.0.0.1, 10.9.8.0/24' filtered in
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$mode  = $argv[1] ?? '';
$event = (int) ( $argv[2] ?? 0 );
switch ( $mode ) {
	case 'setup':
		$ids = array();
		foreach ( array( 'a' => 'publish', 'b' => 'publish', 'draft' => 'draft', 'closing' => 'publish' ) as $name => $status ) {
			$ids[ $name ] = wp_insert_post( array( 'post_title' => "Intake event {$name}", 'post_status' => $status, 'post_type' => 'post' ), true );
			if ( is_wp_error( $ids[ $name ] ) ) {
				fwrite( STDERR, $ids[ $name ]->get_error_message() . "\n" );
				e2e_exit( 1 );
			}
		}
		$ids['no_file_before_a_form'] = ! is_file( Reg_Buffer_Intake::config_file() );
		reg_buffer_form_token( $ids['a'] ); // The first form rendered writes the intake's config file.
		$file = Reg_Buffer_Intake::config_file();
		clearstatcache();
		$ids['site']   = Reg_Buffer_Intake::site_id();
		$ids['file']   = $file;
		$ids['mode']   = is_file( $file ) ? sprintf( '%04o', fileperms( $file ) & 0777 ) : null;
		$ids['group']  = is_file( $file ) ? ( posix_getgrgid( filegroup( $file ) )['name'] ?? null ) : null;
		echo json_encode( $ids ), "\n";
		break;
	case 'init':
		break;
	case 'deactivate':
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
		deactivate_plugins( getenv( 'E2E_PLUGIN' ) . '/reg-buffer.php' );
		break;
	case 'activate':
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
		$activated = activate_plugin( getenv( 'E2E_PLUGIN' ) . '/reg-buffer.php' );
		e2e_check( ! is_wp_error( $activated ), 'activated' );
		break;
	case 'mint':
		echo reg_buffer_form_token( $event, array( 'uses' => (int) ( $argv[3] ?? 1 ), 'ttl' => (int) ( $argv[4] ?? 3600 ) ) ), "\n";
		break;
	case 'mint-expired':
		echo Reg_Buffer_Form_Token::mint( Reg_Buffer_Intake::secret(), Reg_Buffer_Intake::site_id(), $event, time() - 10, 1 ), "\n";
		break;
	case 'mint-foreign':
		echo Reg_Buffer_Form_Token::mint( bin2hex( random_bytes( 32 ) ), Reg_Buffer_Intake::site_id(), $event, time() + 600, 5 ), "\n";
		break;
	case 'shortcode':
		echo do_shortcode( '[reg_buffer_form_token event="' . $event . '"]' ), "\n";
		break;
	case 'set-aside':
		$found = Reg_Buffer_Set_Aside::get( $argv[2] );
		echo json_encode( null === $found ? null : array( 'error' => $found['error'], 'event_id' => $found['event_id'] ), E2E_JSON ), "\n";
		if ( null !== $found ) {
			Reg_Buffer_Set_Aside::purge( $argv[2] );
		}
		break;
	case 'flush-refusing':
		// A flush whose reg_buffer_intake_registration filter refuses the registration with ref $argv[2] (set aside).
		add_filter( 'reg_buffer_intake_registration', static fn( $data ) => is_array( $data ) && ( $data['ref'] ?? null ) === $argv[2] ? new WP_Error( 'e2e_refused', 'refused by the site' ) : $data );
		$summary = reg_buffer_flush_now();
		echo json_encode( array( 'rejected' => $summary['rejected'] ?? null, 'outcome' => $summary['outcome'] ) ), "\n";
		break;
	case 'retry-set-aside':
		$result = Reg_Buffer_Set_Aside::retry( $argv[2] );
		$stored = $GLOBALS['wpdb']->get_var( $GLOBALS['wpdb']->prepare( 'SELECT data FROM ' . Reg_Buffer_Store::table() . ' WHERE registration_id = %s', $argv[2] ) );
		echo json_encode( array( 'ok' => $result['ok'], 'message' => $result['message'], 'stored' => null === $stored ? null : json_decode( $stored, true ) ), E2E_JSON ), "\n";
		break;
	case 'close-event':
		wp_update_post( array( 'ID' => $event, 'post_status' => 'draft' ) );
		break;
	case 'open-events':
		for ( $id = (int) $argv[2]; $id <= (int) $argv[3]; $id++ ) {
			$post = get_post( $id );
			if ( $post instanceof WP_Post ) {
				if ( 'publish' !== $post->post_status || ! in_array( $post->post_type, Reg_Buffer_Events::post_types(), true ) ) {
					wp_update_post( array( 'ID' => $id, 'post_status' => 'publish', 'post_type' => 'post' ) );
				}
				continue;
			}
			$made = wp_insert_post( array( 'import_id' => $id, 'post_title' => "Event {$id}", 'post_status' => 'publish', 'post_type' => 'post' ), true );
			e2e_check( $made === $id, "event {$id} created with its id (got " . ( is_wp_error( $made ) ? $made->get_error_message() : $made ) . ')' );
		}
		break;
	case 'gate-events':
		echo json_encode(
			array(
				'draft' => wp_insert_post( array( 'post_title' => 'Draft event', 'post_status' => 'draft' ) ),
				'block' => wp_insert_post( array( 'post_title' => 'A reusable block', 'post_status' => 'publish', 'post_type' => 'wp_block' ) ),
			)
		), "\n";
		break;
	case 'config':
		$file = Reg_Buffer_Intake::config_file();
		$cfg  = Reg_Buffer_Intake_Config::read( $file );
		echo json_encode( array( 'file' => $file, 'dir' => Reg_Buffer_Intake::config_dir(), 'site' => Reg_Buffer_Intake::site_id(), 'secret' => $cfg['secret'] ?? null, 'accepting' => $cfg['accepting'] ?? null, 'rate_limit' => $cfg['rate_limit'] ?? null ) ), "\n";
		break;
	case 'crash-temp':
		$temp = Reg_Buffer_Intake_Config::temp_path( Reg_Buffer_Intake::config_file() );
		file_put_contents( $temp, Reg_Buffer_Intake_Config::file_text( Reg_Buffer_Intake::config() ) );
		chmod( $temp, 0644 ); // Readable by the web server, as a crash with a looser umask could leave it.
		echo $temp, "\n";
		break;
	case 'buffered':
		if ( ! class_exists( 'Reg_Buffer_Plugin' ) ) {
			require_once WP_PLUGIN_DIR . '/' . getenv( 'E2E_PLUGIN' ) . '/reg-buffer.php'; // Deactivated: load it to ask.
		}
		echo Reg_Buffer_Plugin::buffered_count(), "\n";
		break;
	case 'shortcode-limits':
		$contributor = wp_insert_user( array( 'user_login' => 'contrib-' . wp_generate_password( 6, false ), 'user_pass' => wp_generate_password(), 'role' => 'contributor' ) );
		$admin       = get_user_by( 'login', 'admin' )->ID;
		$parse       = static function ( string $html ): array {
			preg_match( '/value="(1\.[^"]+)"/', $html, $m );
			$parts = explode( '.', $m[1] ?? '' );
			return array( 'uses' => (int) ( $parts[4] ?? 0 ), 'ttl' => (int) ( $parts[3] ?? 0 ) - time() );
		};
		$render = static function ( int $author ) use ( $event, $parse ): array {
			$post = get_post( wp_insert_post( array( 'post_title' => 'Form', 'post_status' => 'publish', 'post_author' => $author, 'post_content' => 'x' ) ) );
			$GLOBALS['post'] = $post;
			setup_postdata( $post );
			$got = $parse( do_shortcode( '[reg_buffer_form_token event="' . $event . '" uses="1000" ttl="' . ( 31 * DAY_IN_SECONDS ) . '"]' ) );
			wp_reset_postdata();
			return $got;
		};
		$by_contributor = $render( $contributor );
		e2e_check( $by_contributor['uses'] === Reg_Buffer_Intake::AUTHOR_MAX_USES, "a contributor's shortcode asking 1000 uses gives " . Reg_Buffer_Intake::AUTHOR_MAX_USES . ", got {$by_contributor['uses']}" );
		e2e_check( $by_contributor['ttl'] <= DAY_IN_SECONDS && $by_contributor['ttl'] > DAY_IN_SECONDS - 60, "a contributor's shortcode asking 31 days lives a day, got {$by_contributor['ttl']} s" );
		// A post whose author is an administrator is content anyone who may edit it wrote (an Editor editing it, or
		// reassigning its author): capped the same.
		$by_admin = $render( $admin );
		e2e_check( Reg_Buffer_Intake::AUTHOR_MAX_USES === $by_admin['uses'] && $by_admin['ttl'] <= DAY_IN_SECONDS, "a shortcode in an administrator's post is capped too, got {$by_admin['uses']} / {$by_admin['ttl']} s" );
		$from_php = explode( '.', reg_buffer_form_token( $event, array( 'uses' => 1000, 'ttl' => 31 * DAY_IN_SECONDS ) ) );
		e2e_check( '1000' === ( $from_php[4] ?? '' ) && (int) ( $from_php[3] ?? 0 ) - time() > 30 * DAY_IN_SECONDS, 'reg_buffer_form_token() from PHP is not capped' );
		add_filter( 'reg_buffer_shortcode_token_limits', static fn( $limits ) => array( 'uses' => 500, 'ttl' => 7 * DAY_IN_SECONDS ) );
		$filtered = $render( $contributor );
		e2e_check( 500 === $filtered['uses'] && $filtered['ttl'] <= 7 * DAY_IN_SECONDS && $filtered['ttl'] > 6 * DAY_IN_SECONDS, "the filter raises the caps: got {$filtered['uses']} / {$filtered['ttl']} s" );
		echo "  shortcode caps: contributor's post {$by_contributor['uses']} uses / {$by_contributor['ttl']} s, administrator's post {$by_admin['uses']} / {$by_admin['ttl']} s, filtered {$filtered['uses']} / {$filtered['ttl']} s\n";
		e2e_done();
		break;
	case 'client-ip':
		add_filter( 'reg_buffer_settings', static fn( $v ) => array( 'rest_trusted_proxies' => '127.0.0.1, 10.9.8.0/24' ) + $v );
		Reg_Buffer_Settings::reset();
		$cases = array(
			'mapped peer, no proxy'             => array( '::ffff:203.0.113.5', '', '203.0.113.5', '203.0.113.5' ),
			'mapped trusted proxy: XFF read'    => array( '::ffff:127.0.0.1', '198.51.100.1', '198.51.100.1', '198.51.100.1' ),
			'mapped hop in a trusted /24'       => array( '127.0.0.1', '198.51.100.2, ::ffff:10.9.8.7', '198.51.100.2', '198.51.100.2' ),
			'mapped client in XFF'              => array( '127.0.0.1', '::ffff:198.51.100.3', '198.51.100.3', '198.51.100.3' ),
			'IPv6 client: its /64'              => array( '2001:db8:1:2:3:4:5:6', '', '2001:db8:1:2:3:4:5:6', '20010db800010002::/64' ),
			'untrusted mapped peer: XFF ignored' => array( '::ffff:203.0.113.9', '1.1.1.1', '203.0.113.9', '203.0.113.9' ),
		);
		foreach ( $cases as $name => list( $remote, $xff, $want, $bucket ) ) {
			$_SERVER['REMOTE_ADDR']          = $remote;
			$_SERVER['HTTP_X_FORWARDED_FOR'] = $xff;
			$got                             = Reg_Buffer_Rate_Limit::client_ip();
			e2e_same( $want, $got, "client address: {$name}" );
			e2e_same( $bucket, Reg_Buffer_Client_Address::bucket( $got ), "bucket: {$name}" );
		}
		e2e_same( '10.9.8.1', Reg_Buffer_Client_Address::of( array( 'REMOTE_ADDR' => '::ffff:10.9.8.1', 'HTTP_X_FORWARDED_FOR' => '198.51.100.4' ), '::ffff:10.9.8.0/120' ) === '198.51.100.4' ? '10.9.8.1' : 'mapped range missed', 'a trusted range written IPv4-mapped matches IPv4 peers' );
		echo '  ', count( $cases ), " client address cases (IPv4-mapped IPv6 normalized before proxies and buckets)\n";
		e2e_done();
		break;
	case 'remove-config':
		wp_delete_file( Reg_Buffer_Intake::config_file() );
		delete_option( Reg_Buffer_Intake::CONFIG_OPTION );
		break;
	default:
		fwrite( STDERR, "unknown mode {$mode}\n" );
		e2e_exit( 2 );
}
e2e_exit( 0 );
