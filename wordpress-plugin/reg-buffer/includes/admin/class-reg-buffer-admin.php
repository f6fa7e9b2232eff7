<?php
/**
 * Owns the admin page Tools > Registration buffer: whether registrations flow, how far behind the flush is, what
 * went wrong and what to do about it; then the charts, the quarantine and set-aside registrations with retry/purge,
 * the seats of events with a capacity (set, change, remove, recount), and every counter one click away. Capability
 * manage_options; every action nonce-protected.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The operator's page.
 */
final class Reg_Buffer_Admin {

	const SLUG       = 'reg-buffer';
	const CAPABILITY = 'manage_options';
	const ACTION     = 'reg_buffer_admin';

	/** Warnings that mean registrations are not flowing or are at risk (red); the others are yellow. */
	const CRITICAL = array( 'redis_down', 'eviction_policy', 'lost', 'flush_not_running', 'redis_data_lost' );

	/** The page's hook suffix, to load its stylesheet there only. @var string */
	private static $hook = '';

	/**
	 * The detail tables under "All counters": for each group, the figures of reg_buffer_stats() it shows, each with a
	 * plain label and what it means. The lifetime counters are not listed here: they are exactly the names
	 * reg_buffer_stats() gives in `counters` (worded by counter_words()). A figure the extension returns that no group
	 * names is still shown.
	 *
	 * @return array<string,array{title:string, rows:array<string,array{0:string,1:string}>}>
	 */
	private static function stat_groups(): array {
		return array(
			'now'      => array(
				'title' => __( 'In Redis now', 'reg-buffer' ),
				'rows'  => array(
					'pending'            => array( __( 'Waiting', 'reg-buffer' ), __( 'registrations waiting in Redis for the flush', 'reg-buffer' ) ),
					'in_flight'          => array( __( 'Being flushed', 'reg-buffer' ), __( 'claimed by a flush, not yet confirmed stored', 'reg-buffer' ) ),
					'buffered'           => array( __( 'Not yet in MySQL', 'reg-buffer' ), __( 'waiting + being flushed', 'reg-buffer' ) ),
					'events'             => array( __( 'Events', 'reg-buffer' ), __( 'events with registrations waiting', 'reg-buffer' ) ),
					'oldest_pending_age' => array( __( 'Oldest has waited', 'reg-buffer' ), __( 'how far behind the flush is', 'reg-buffer' ) ),
					'last_ack_age'       => array( __( 'Last batch stored', 'reg-buffer' ), __( 'time since a flush last stored a batch in MySQL', 'reg-buffer' ) ),
					'quarantined'        => array( __( 'Quarantined', 'reg-buffer' ), __( 'entries that could not be decoded (see Quarantine)', 'reg-buffer' ) ),
				),
			),
			'lifetime' => array(
				'title' => __( 'Totals since the buffer began (they restart if Redis loses its data)', 'reg-buffer' ),
				'rows'  => array(), // The names in reg_buffer_stats()['counters']: see render_counters().
			),
			'redis'    => array(
				'title' => __( 'The Redis server', 'reg-buffer' ),
				'rows'  => array(
					'maxmemory_policy' => array( __( 'Eviction policy', 'reg-buffer' ), __( 'must be noeviction, or Redis may drop registrations when memory is full', 'reg-buffer' ) ),
					'persistence'      => array( __( 'Persistence', 'reg-buffer' ), '' ),
					'uptime'           => array( __( 'Up for', 'reg-buffer' ), '' ),
					'run_id'           => array( __( 'Server run', 'reg-buffer' ), __( 'changes when Redis restarts', 'reg-buffer' ) ),
					'epoch'            => array( __( 'Data set', 'reg-buffer' ), __( 'changes when Redis lost the buffered data (restart without persistence, FLUSHALL)', 'reg-buffer' ) ),
					'shards'           => array( __( 'Shards', 'reg-buffer' ), __( 'parts the buffer is spread over (1 on a single Redis server)', 'reg-buffer' ) ),
					'shards_degraded'  => array( __( 'Shards degraded', 'reg-buffer' ), __( 'shards that cannot take or keep registrations as the settings ask right now: must be 0', 'reg-buffer' ) ),
					'partial'          => array( __( 'Figures incomplete', 'reg-buffer' ), __( 'yes when a shard could not be read: the figures above leave it out', 'reg-buffer' ) ),
				),
			),
		);
	}

	/**
	 * Plain words for the lifetime counters, by name: label and meaning. Which counters there are is the extension's
	 * to say (reg_buffer_stats()['counters']); one without words here is shown under its own name.
	 *
	 * @return array<string,array{0:string,1:string}>
	 */
	private static function counter_words(): array {
		return array(
			'pushed'      => array( __( 'Taken into Redis', 'reg-buffer' ), __( 'registrations accepted into the buffer', 'reg-buffer' ) ),
			'duplicates'  => array( __( 'Duplicates refused', 'reg-buffer' ), __( 'refused because the same unique key was already buffered', 'reg-buffer' ) ),
			'claimed'     => array( __( 'Handed to flushes', 'reg-buffer' ), __( 'registrations claimed by flush runs', 'reg-buffer' ) ),
			'acked'       => array( __( 'Stored in MySQL', 'reg-buffer' ), __( 'confirmed stored and removed from Redis', 'reg-buffer' ) ),
			'redelivered' => array( __( 'Handed out again', 'reg-buffer' ), __( 'claimed again after a flush did not confirm in time (stored once all the same)', 'reg-buffer' ) ),
			'retried'     => array( __( 'Retried from quarantine', 'reg-buffer' ), __( 'quarantined entries buffered again', 'reg-buffer' ) ),
			'lost'        => array( __( 'Vanished', 'reg-buffer' ), __( 'gone from Redis before the flush (evicted or deleted): must stay 0', 'reg-buffer' ) ),
		);
	}

	/**
	 * Hooks (admin only).
	 */
	public static function register(): void {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_action( 'admin_post_' . self::ACTION, array( __CLASS__, 'handle_action' ) );
		add_action( 'admin_enqueue_scripts', array( __CLASS__, 'enqueue' ) );
	}

	/**
	 * Tools > Registration buffer.
	 */
	public static function add_page(): void {
		self::$hook = (string) add_management_page(
			__( 'Registration buffer', 'reg-buffer' ),
			__( 'Registration buffer', 'reg-buffer' ),
			self::CAPABILITY,
			self::SLUG,
			array( __CLASS__, 'render' )
		);
	}

	/**
	 * The page's stylesheet (assets/admin.css), on the page only. Printed inline rather than linked: it is small, and
	 * this is the page an operator opens when something is wrong, so it must not depend on the web server serving the
	 * plugin's static files (Debian's WordPress keeps wp-content outside the document root, which a web server not
	 * set up for it does not serve).
	 *
	 * @param string $hook_suffix the admin page being loaded.
	 */
	public static function enqueue( $hook_suffix ): void {
		if ( '' === self::$hook || self::$hook !== $hook_suffix ) {
			return;
		}
		$css = file_get_contents( plugin_dir_path( REG_BUFFER_PLUGIN_FILE ) . 'assets/admin.css' );
		wp_register_style( 'reg-buffer-admin', false, array(), REG_BUFFER_PLUGIN_VERSION );
		wp_enqueue_style( 'reg-buffer-admin' );
		if ( false !== $css ) {
			wp_add_inline_style( 'reg-buffer-admin', $css );
		}
	}

	/**
	 * The URL of the page.
	 *
	 * @param array $args query arguments.
	 */
	public static function url( array $args = array() ): string {
		return add_query_arg( array_merge( array( 'page' => self::SLUG ), $args ), admin_url( 'tools.php' ) );
	}

	/**
	 * Admin-post.php?action=reg_buffer_admin: retry, purge, flush, the seats' set, remove and recount. Answers with a
	 * redirect back to the page.
	 */
	public static function handle_action(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'You are not allowed to manage the registration buffer.', 'reg-buffer' ), 403 );
		}
		$op    = sanitize_key( wp_unslash( $_POST['op'] ?? '' ) );
		$field = sanitize_text_field( wp_unslash( $_POST['entry'] ?? '' ) );
		check_admin_referer( self::nonce_action( $op, $field ) );
		switch ( $op ) {
			case 'retry':
				$result = Reg_Buffer_Quarantine::retry( $field );
				break;
			case 'purge':
				$result = Reg_Buffer_Quarantine::purge( $field );
				break;
			case 'set_aside_retry':
				$result = Reg_Buffer_Set_Aside::retry( $field );
				break;
			case 'set_aside_purge':
				$result = Reg_Buffer_Set_Aside::purge( $field );
				break;
			case 'ack_loss':
				$removed = Reg_Buffer_Redis_Watch::acknowledge( '' === $field ? null : $field );
				$result  = array(
					'ok'      => $removed > 0,
					'message' => $removed > 0
						/* translators: %d: number of incidents */
						? sprintf( _n( '%d Redis data loss acknowledged.', '%d Redis data losses acknowledged.', $removed, 'reg-buffer' ), $removed )
						: __( 'Nothing to acknowledge: it was already acknowledged.', 'reg-buffer' ),
				);
				break;
			case 'seats_set':
				$result = self::set_seats(
					sanitize_text_field( wp_unslash( $_POST['event'] ?? '' ) ),
					sanitize_text_field( wp_unslash( $_POST['capacity'] ?? '' ) ),
					! empty( $_POST['waitlist'] )
				);
				break;
			case 'seats_unset':
				$done   = Reg_Buffer_Seats::set_capacity( (int) $field, null );
				$result = is_wp_error( $done ) ? self::failed( $done ) : array(
					'ok'      => true,
					/* translators: %d: event id */
					'message' => sprintf( __( 'Event %d has no capacity any more: it takes registrations without limit.', 'reg-buffer' ), (int) $field ),
				);
				break;
			case 'seats_recount':
				$counted = Reg_Buffer_Seats::recount( (int) $field );
				$result  = is_wp_error( $counted ) ? self::failed( $counted ) : array(
					'ok'      => true,
					/* translators: 1: event id, 2: seats taken, 3: registrations waiting */
					'message' => sprintf( __( 'Event %1$d recounted: %2$d seats taken, %3$d waiting.', 'reg-buffer' ), (int) $field, (int) $counted['taken'], (int) $counted['waiting'] ),
				);
				break;
			case 'flush':
				$summary = Reg_Buffer_Flusher::run();
				$result  = array(
					'ok'      => ! in_array( $summary['outcome'], array( 'error', 'locked' ), true ),
					/* translators: 1: outcome, 2: stored, 3: duplicates, 4: acknowledged */
					'message' => sprintf( __( 'Flush finished (%1$s): %2$d stored, %3$d duplicates, %4$d acknowledged.', 'reg-buffer' ), self::outcome_label( $summary['outcome'] ), $summary['inserted'], $summary['duplicates'], $summary['acked'] ),
				);
				break;
			default:
				wp_die( esc_html__( 'Unknown action.', 'reg-buffer' ), 400 );
		}
		set_transient( 'reg_buffer_notice_' . get_current_user_id(), $result, 5 * MINUTE_IN_SECONDS );
		wp_safe_redirect( self::url() );
		exit;
	}

	/**
	 * The seats form: gives $event a capacity or changes it. Checks that both are whole numbers (what the form
	 * typed); the rest is Reg_Buffer_Seats::set_capacity()'s to refuse.
	 *
	 * @param string $event    the event id typed.
	 * @param string $capacity the capacity typed.
	 * @param bool   $waitlist whether registrations past the capacity go on a waitlist.
	 * @return array{ok:bool, message:string}
	 */
	private static function set_seats( string $event, string $capacity, bool $waitlist ): array {
		if ( 1 !== preg_match( '/^[1-9][0-9]{0,14}$/', $event ) || 1 !== preg_match( '/^[0-9]{1,15}$/', $capacity ) ) {
			return array(
				'ok'      => false,
				'message' => __( 'Give the event\'s id (1 or more) and its capacity (0 or more) as whole numbers.', 'reg-buffer' ),
			);
		}
		$done = Reg_Buffer_Seats::set_capacity( (int) $event, (int) $capacity, $waitlist );
		if ( is_wp_error( $done ) ) {
			return self::failed( $done );
		}
		return array(
			'ok'      => true,
			'message' => $waitlist
				/* translators: 1: event id, 2: capacity */
				? sprintf( _n( 'Event %1$d takes %2$s registration, then a waitlist.', 'Event %1$d takes %2$s registrations, then a waitlist.', (int) $capacity, 'reg-buffer' ), (int) $event, number_format_i18n( (int) $capacity ) )
				/* translators: 1: event id, 2: capacity */
				: sprintf( _n( 'Event %1$d takes %2$s registration, and no more.', 'Event %1$d takes %2$s registrations, and no more.', (int) $capacity, 'reg-buffer' ), (int) $event, number_format_i18n( (int) $capacity ) ),
		);
	}

	/**
	 * The notice of an action that was refused.
	 *
	 * @param WP_Error $error why.
	 * @return array{ok:bool, message:string}
	 */
	private static function failed( WP_Error $error ): array {
		return array(
			'ok'      => false,
			'message' => $error->get_error_message(),
		);
	}

	/**
	 * The nonce action of one operation on one entry.
	 *
	 * @param string $op    operation.
	 * @param string $field the entry it applies to ('' for none).
	 */
	private static function nonce_action( string $op, string $field ): string {
		return 'reg-buffer-' . $op . '|' . $field;
	}

	/**
	 * A small POST form to admin-post.php with its nonce (escaped HTML).
	 *
	 * @param string $op      operation.
	 * @param string $field   the entry it applies to ('' for none).
	 * @param string $label   button text.
	 * @param string $css     button classes.
	 * @param string $confirm question asked before submitting ('' for none).
	 */
	private static function button( string $op, string $field, string $label, string $css, string $confirm = '' ): string {
		$html  = '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" class="reg-buffer-inline"'
			. ( '' !== $confirm ? ' onsubmit="return confirm(' . esc_attr( (string) wp_json_encode( $confirm ) ) . ')"' : '' ) . '>';
		$html .= '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '">';
		$html .= '<input type="hidden" name="op" value="' . esc_attr( $op ) . '">';
		$html .= '<input type="hidden" name="entry" value="' . esc_attr( $field ) . '">';
		$html .= wp_nonce_field( self::nonce_action( $op, $field ), '_wpnonce', true, false );
		$html .= '<button type="submit" class="button ' . esc_attr( $css ) . '" data-op="' . esc_attr( $op ) . '" data-entry="' . esc_attr( $field ) . '">' . esc_html( $label ) . '</button>';
		return $html . '</form>';
	}

	/**
	 * A flush run's outcome in words.
	 *
	 * @param string $outcome Reg_Buffer_Flusher::run()'s outcome.
	 */
	private static function outcome_label( string $outcome ): string {
		$labels = array(
			'empty'  => __( 'buffer emptied', 'reg-buffer' ),
			'budget' => __( 'time or memory budget spent; the rest waits for the next run', 'reg-buffer' ),
			'limit'  => __( 'limit reached', 'reg-buffer' ),
			'locked' => __( 'another flush was running', 'reg-buffer' ),
			'error'  => __( 'stopped on an error; the failed batch is retried after its lease', 'reg-buffer' ),
			'direct' => __( 'nothing to flush: buffering is not in use', 'reg-buffer' ),
		);
		return $labels[ $outcome ] ?? $outcome;
	}

	/**
	 * Why a registration was written directly, in words.
	 *
	 * @param string $reason the registrar's reason code.
	 */
	private static function fallback_reason( string $reason ): string {
		$labels = array(
			'extension_not_loaded' => __( 'the reg_buffer extension was not loaded', 'reg-buffer' ),
			'disabled'             => __( 'buffering was turned off', 'reg-buffer' ),
			'connection'           => __( 'Redis could not be reached', 'reg-buffer' ),
			'capacity'             => __( 'the buffer was full', 'reg-buffer' ),
		);
		return $labels[ $reason ] ?? $reason;
	}

	/**
	 * What a Redis restart keeps, per persistence mode (docs/operations.md).
	 *
	 * @param string|null $mode aof-always, aof-everysec, aof-no, rdb, none; null when unknown.
	 */
	private static function persistence_label( ?string $mode ): string {
		$labels = array(
			'aof-always'   => __( 'AOF, fsync always: a crash or power loss keeps every registration', 'reg-buffer' ),
			'aof-everysec' => __( 'AOF, fsync every second: a crash keeps everything, a power loss may lose the last second', 'reg-buffer' ),
			'aof-no'       => __( 'AOF, fsync left to the OS: a power loss may lose the last ~30 seconds', 'reg-buffer' ),
			'rdb'          => __( 'RDB snapshots only: a restart loses what was buffered since the last snapshot', 'reg-buffer' ),
			'none'         => __( 'none: a restart loses every buffered registration', 'reg-buffer' ),
		);
		return null === $mode ? __( 'unknown', 'reg-buffer' ) : ( $labels[ $mode ] ?? $mode );
	}

	/**
	 * "3 mins ago" / "in 20 secs" / "never".
	 *
	 * @param int|null $time Unix time.
	 */
	private static function ago( ?int $time ): string {
		if ( null === $time || $time <= 0 ) {
			return __( 'never', 'reg-buffer' );
		}
		/* translators: %s: human time difference */
		return time() >= $time ? sprintf( __( '%s ago', 'reg-buffer' ), human_time_diff( $time ) ) : sprintf( __( 'in %s', 'reg-buffer' ), human_time_diff( $time ) );
	}

	/**
	 * When the next scheduled flush is: "in 40 seconds", "due now" (its time has come: WP-Cron or system cron runs
	 * it within the minute), "overdue by 5 min 3 s" (nothing has run it: see the cron).
	 *
	 * @param int $time its Unix time.
	 */
	private static function next_flush( int $time ): string {
		$late = time() - $time;
		if ( $late <= 0 ) {
			/* translators: %s: a length of time */
			return sprintf( __( 'in %s', 'reg-buffer' ), self::duration( -$late ) );
		}
		if ( $late < 2 * MINUTE_IN_SECONDS ) {
			return __( 'due now', 'reg-buffer' );
		}
		/* translators: %s: a length of time */
		return sprintf( __( 'overdue by %s', 'reg-buffer' ), self::duration( $late ) );
	}

	/**
	 * A length of time: "42 seconds", "4 min 12 s", then WordPress's "3 hours".
	 *
	 * @param float $seconds seconds.
	 */
	private static function duration( float $seconds ): string {
		$s = max( 0, (int) round( $seconds ) );
		if ( $s < MINUTE_IN_SECONDS ) {
			/* translators: %d: seconds */
			return sprintf( _n( '%d second', '%d seconds', $s, 'reg-buffer' ), $s );
		}
		if ( $s < HOUR_IN_SECONDS ) {
			/* translators: 1: minutes, 2: seconds */
			return sprintf( __( '%1$d min %2$d s', 'reg-buffer' ), intdiv( $s, MINUTE_IN_SECONDS ), $s % MINUTE_IN_SECONDS );
		}
		return human_time_diff( 0, $s );
	}

	/**
	 * The Redis persistence mode: the extension's figure where it gives one, else the status report's.
	 *
	 * @param array      $status Reg_Buffer_Status::report().
	 * @param array|null $buffer reg_buffer_stats() as in the report.
	 */
	private static function persistence( array $status, ?array $buffer ): ?string {
		foreach ( array( $buffer['persistence'] ?? null, $status['redis_persistence'] ?? null ) as $mode ) {
			if ( is_string( $mode ) && '' !== $mode ) {
				return $mode;
			}
		}
		return null;
	}

	/**
	 * The headline: one state in plain words. flowing, behind (the backlog is older than the warning threshold
	 * although flushes run, or the buffer was full), stalled (registrations wait and no flush runs), unreachable
	 * (Redis down: registrations go straight to MySQL), off (no extension, or buffering disabled).
	 *
	 * @param array $status Reg_Buffer_Status::report().
	 * @return array{state:string, severity:string, icon:string, title:string, detail:string}
	 */
	private static function headline( array $status ): array {
		$codes = $status['warning_codes'];
		if ( 'direct' === $status['mode'] ) {
			return array(
				'state'    => 'off',
				'severity' => $status['extension_loaded'] ? 'info' : 'warning',
				'icon'     => 'dashicons-controls-pause',
				'title'    => __( 'Buffering is off', 'reg-buffer' ),
				'detail'   => $status['extension_loaded']
					? __( 'Buffering is disabled by setting (REG_BUFFER_DISABLED): each registration is written straight to MySQL. Nothing is lost; the site just gets no protection from bursts.', 'reg-buffer' )
					: __( 'The reg_buffer PHP extension is not loaded: each registration is written straight to MySQL. Nothing is lost; the site just gets no protection from bursts.', 'reg-buffer' ),
			);
		}
		if ( null !== $status['buffer_error'] ) {
			return array(
				'state'    => 'unreachable',
				'severity' => 'error',
				'icon'     => 'dashicons-warning',
				'title'    => __( 'Redis is unreachable', 'reg-buffer' ),
				'detail'   => __( 'Registrations are written straight to MySQL until Redis answers again: none is lost. What Redis held is flushed when it returns.', 'reg-buffer' ),
			);
		}
		if ( in_array( 'flush_not_running', $codes, true ) ) {
			return array(
				'state'    => 'stalled',
				'severity' => 'error',
				'icon'     => 'dashicons-warning',
				'title'    => __( 'Stalled: no flush is running', 'reg-buffer' ),
				'detail'   => __( 'Registrations are taken into Redis but nothing moves them to MySQL.', 'reg-buffer' ),
			);
		}
		if ( in_array( 'backlog', $codes, true ) || in_array( 'capacity', $codes, true ) ) {
			return array(
				'state'    => 'behind',
				'severity' => 'warning',
				'icon'     => 'dashicons-clock',
				'title'    => __( 'Falling behind', 'reg-buffer' ),
				'detail'   => __( 'The flush runs but does not keep up with the registrations arriving.', 'reg-buffer' ),
			);
		}
		return array(
			'state'    => 'flowing',
			'severity' => 'success',
			'icon'     => 'dashicons-yes-alt',
			'title'    => __( 'Registrations are flowing', 'reg-buffer' ),
			'detail'   => $status['message'],
		);
	}

	/**
	 * What needs attention: each warning of the status (and one this page adds: no persistence), with a title, its
	 * severity and what to do about it.
	 *
	 * @param array      $status Reg_Buffer_Status::report().
	 * @param array|null $buffer reg_buffer_stats() as in the report.
	 * @return array<int,array{code:string, severity:string, title:string, message:string, action:string}> action is escaped HTML.
	 */
	private static function problems( array $status, ?array $buffer ): array {
		$messages = array_combine( $status['warning_codes'], $status['warnings'] );
		if ( 'buffer' === $status['mode'] && 'none' === self::persistence( $status, $buffer ) && ! isset( $messages['persistence'] ) ) {
			$messages['persistence'] = __( 'Redis keeps nothing on disk (no AOF, no RDB snapshots): a Redis restart loses every registration still buffered.', 'reg-buffer' );
		}
		$flush_now = $status['extension_loaded'] ? self::button( 'flush', '', __( 'Flush now', 'reg-buffer' ), 'button-primary' ) : '';
		$cmd       = static fn( string $command ): string => '<code>' . esc_html( $command ) . '</code>';
		$link      = static fn( string $anchor, string $label ): string => '<a href="#' . esc_attr( $anchor ) . '">' . esc_html( $label ) . '</a>';
		$text      = static fn( string $words ): string => esc_html( $words ) . ' ';
		$known     = array(
			'extension_missing' => array(
				__( 'The reg_buffer extension is not loaded', 'reg-buffer' ),
				$text( __( 'Install the extension for the PHP that serves the site (php-fpm) and restart PHP. Until then registrations are stored directly; none is lost.', 'reg-buffer' ) ),
			),
			'redis_data_lost'   => array(
				__( 'Redis lost buffered registrations', 'reg-buffer' ),
				$text( __( 'Recover that window\'s registrations from your forms\' own records, then acknowledge:', 'reg-buffer' ) )
					. self::button( 'ack_loss', '', __( 'Acknowledge', 'reg-buffer' ), 'button-secondary', __( 'Acknowledge this loss? The warning goes away; the registrations stay lost.', 'reg-buffer' ) )
					. ' ' . $cmd( 'wp reg-buffer acknowledge-loss' ),
			),
			'redis_down'        => array(
				__( 'Redis is unreachable', 'reg-buffer' ),
				$text( __( 'Start Redis, or correct REG_BUFFER_REDIS_URL. Nothing to do for the registrations themselves. The error:', 'reg-buffer' ) )
					. $cmd( (string) $status['buffer_error'] ),
			),
			'degraded'          => array(
				__( 'Part of Redis cannot keep registrations as configured', 'reg-buffer' ),
				$text( __( 'Restore the master or its replica named above (docs/redis-setup.md, "Durability" and "When one master is lost"). Nothing is lost meanwhile.', 'reg-buffer' ) ),
			),
			'capacity'          => array(
				__( 'The buffer was full', 'reg-buffer' ),
				$text( __( 'Flush more often (system cron every minute), or raise REG_BUFFER_MAX_PENDING if Redis has the memory.', 'reg-buffer' ) ) . $flush_now,
			),
			'eviction_policy'   => array(
				__( 'Redis may evict registrations', 'reg-buffer' ),
				$text( __( 'Set the policy to noeviction (and in redis.conf, so a restart keeps it):', 'reg-buffer' ) ) . $cmd( 'redis-cli CONFIG SET maxmemory-policy noeviction' ),
			),
			'lost'              => array(
				__( 'Registrations vanished from Redis', 'reg-buffer' ),
				$text( __( 'Set maxmemory-policy to noeviction and make sure nothing else deletes this site\'s keys; recover the vanished registrations from their source.', 'reg-buffer' ) ),
			),
			'flush_not_running' => array(
				__( 'No flush has run', 'reg-buffer' ),
				$text( __( 'Flush now, then have system cron run the flush every minute:', 'reg-buffer' ) ) . $flush_now . ' ' . $link( 'reg-buffer-cron', __( 'the crontab line', 'reg-buffer' ) ),
			),
			'backlog'           => array(
				__( 'The flush is falling behind', 'reg-buffer' ),
				$text( __( 'Empty the backlog now, then flush more often:', 'reg-buffer' ) ) . $flush_now . ' ' . $cmd( 'wp reg-buffer flush --until-empty' ),
			),
			'quarantine'        => array(
				__( 'Entries are quarantined', 'reg-buffer' ),
				$text( __( 'Retry or purge each one:', 'reg-buffer' ) ) . $link( 'quarantine', __( 'Quarantine', 'reg-buffer' ) ) . ' · ' . $cmd( 'wp reg-buffer quarantine list' ),
			),
			'disabled_backlog'  => array(
				__( 'Registrations are still in Redis', 'reg-buffer' ),
				$text( __( 'Move them to MySQL now:', 'reg-buffer' ) ) . $flush_now . ' ' . $cmd( 'wp reg-buffer drain' ),
			),
			'set_aside'         => array(
				__( 'Registrations were set aside', 'reg-buffer' ),
				$text( __( 'Read each one\'s error, then retry or purge it:', 'reg-buffer' ) ) . $link( 'set-aside', __( 'Set aside', 'reg-buffer' ) ) . ' · ' . $cmd( 'wp reg-buffer set-aside list' ),
			),
			'seats_unknown'     => array(
				__( 'Seat counts not known to Redis', 'reg-buffer' ),
				$text( __( 'Nothing is lost: the next booking counts again. To count now, Recount the event under', 'reg-buffer' ) ) . $link( 'seats', __( 'Seats', 'reg-buffer' ) ) . ' · ' . $cmd( 'wp reg-buffer seats recount <event>' ),
			),
			'persistence'       => array(
				__( 'Redis has no persistence', 'reg-buffer' ),
				$text( __( 'Turn the append-only file on (and in redis.conf):', 'reg-buffer' ) ) . $cmd( 'redis-cli CONFIG SET appendonly yes' ),
			),
		);

		$problems = array();
		foreach ( $messages as $code => $message ) {
			$problems[] = array(
				'code'     => (string) $code,
				'severity' => in_array( $code, self::CRITICAL, true ) ? 'error' : 'warning',
				'title'    => $known[ $code ][0] ?? __( 'Warning', 'reg-buffer' ),
				'message'  => (string) $message,
				'action'   => $known[ $code ][1] ?? '',
			);
		}
		// The red ones first.
		usort( $problems, static fn( $a, $b ) => ( 'error' === $b['severity'] ) <=> ( 'error' === $a['severity'] ) );
		return $problems;
	}

	/**
	 * The page.
	 */
	public static function render(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		Reg_Buffer_History::maybe_sample();
		$status = Reg_Buffer_Status::report();
		Reg_Buffer_History::note_warnings( $status['warning_codes'], $status['warnings'] );
		$buffer   = is_array( $status['buffer'] ) ? $status['buffer'] : null;
		$hours    = isset( $_GET['hours'] ) ? max( 1, min( 24, (int) $_GET['hours'] ) ) : 6; // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a view setting, not an action.
		$notice   = get_transient( 'reg_buffer_notice_' . get_current_user_id() );
		$headline = self::headline( $status );
		$problems = self::problems( $status, $buffer );

		echo '<div class="wrap reg-buffer-admin">';
		echo '<h1>' . esc_html__( 'Registration buffer', 'reg-buffer' ) . '</h1>';
		if ( is_array( $notice ) ) {
			delete_transient( 'reg_buffer_notice_' . get_current_user_id() );
			printf( '<div class="notice notice-%s is-dismissible reg-buffer-result"><p>%s</p></div>', $notice['ok'] ? 'success' : 'error', esc_html( $notice['message'] ) );
		}

		// Is it flowing: the headline, coloured by the state or, if worse, by the worst problem.
		$severity = $headline['severity'];
		foreach ( $problems as $p ) {
			if ( 'error' === $p['severity'] || ( 'warning' === $p['severity'] && in_array( $severity, array( 'success', 'info' ), true ) ) ) {
				$severity = $p['severity'];
			}
		}
		printf(
			'<div class="notice notice-%1$s inline reg-buffer-headline" data-state="%2$s" data-severity="%1$s"><p class="reg-buffer-verdict"><span class="dashicons %3$s" aria-hidden="true"></span> %4$s</p><p>%5$s',
			esc_attr( $severity ),
			esc_attr( $headline['state'] ),
			esc_attr( $headline['icon'] ),
			esc_html( $headline['title'] ),
			esc_html( $headline['detail'] )
		);
		if ( array() !== $problems ) {
			/* translators: %d: number of problems */
			echo ' <a href="#reg-buffer-problems">' . esc_html( sprintf( _n( '%d problem needs attention.', '%d problems need attention.', count( $problems ), 'reg-buffer' ), count( $problems ) ) ) . '</a>';
		}
		echo '</p></div>';

		// How far behind.
		self::render_figures( $status, $buffer );

		// What went wrong, and what to do.
		echo '<h2 id="reg-buffer-problems">' . esc_html__( 'What needs attention', 'reg-buffer' ) . '</h2>';
		if ( array() === $problems ) {
			echo '<p class="reg-buffer-no-problems"><span class="dashicons dashicons-yes" aria-hidden="true"></span> ' . esc_html__( 'Nothing: no warning, nothing quarantined or set aside.', 'reg-buffer' ) . '</p>';
		} else {
			echo '<div class="reg-buffer-problems">';
			foreach ( $problems as $p ) {
				// The title in bold, then the status's message; a message that starts with the title is not repeated.
				$lead = strlen( $p['title'] );
				$same = 0 === strncasecmp( $p['message'], $p['title'], $lead );
				printf(
					'<div class="notice notice-%1$s inline reg-buffer-problem" data-code="%2$s"><p><strong>%3$s</strong>%4$s</p>',
					esc_attr( $p['severity'] ),
					esc_attr( $p['code'] ),
					esc_html( $same ? substr( $p['message'], 0, $lead ) : $p['title'] . '.' ),
					esc_html( $same ? substr( $p['message'], $lead ) : ' ' . $p['message'] )
				);
				if ( '' !== $p['action'] ) {
					echo '<div class="reg-buffer-action"><span class="dashicons dashicons-admin-tools" aria-hidden="true"></span> ' . $p['action'] . '</div>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped in problems().
				}
				echo '</div>';
			}
			echo '</div>';
		}

		// History.
		echo '<h2>' . esc_html__( 'Last hours', 'reg-buffer' ) . '</h2><p class="reg-buffer-ranges">';
		foreach ( array( 1, 6, 24 ) as $h ) {
			/* translators: %d: hours */
			$label = sprintf( _n( '%d hour', '%d hours', $h, 'reg-buffer' ), $h );
			echo $h === $hours ? '<strong>' . esc_html( $label ) . '</strong> ' : '<a href="' . esc_url( self::url( array( 'hours' => $h ) ) ) . '">' . esc_html( $label ) . '</a> ';
		}
		echo '</p><div class="reg-buffer-charts">' . Reg_Buffer_History::svg( $hours * HOUR_IN_SECONDS ) . '</div>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.

		self::render_quarantine( $buffer );
		self::render_set_aside( (int) $status['set_aside'] );
		self::render_seats( $status );

		// The detail, one click away.
		echo '<h2>' . esc_html__( 'Details', 'reg-buffer' ) . '</h2>';
		self::render_counters( $status, $buffer );
		self::render_setup( $status );

		// Help.
		echo '<h2>' . esc_html__( 'From the command line', 'reg-buffer' ) . '</h2>';
		echo '<p>' . esc_html__( 'The same status and actions: wp reg-buffer status | flush [--limit=N] [--until-empty] | drain | import-legacy | acknowledge-loss | quarantine list|retry|purge | set-aside list|retry|purge | seats [set|unset|recount] | cancel <registration-id>. On busy sites, disable WP-Cron and flush from system cron every minute:', 'reg-buffer' ) . '</p>';
		echo '<pre class="reg-buffer-cron" id="reg-buffer-cron">* * * * * www-data wp --path=' . esc_html( untrailingslashit( ABSPATH ) ) . ' --url=' . esc_html( home_url() ) . ' reg-buffer flush --quiet</pre>';
		echo '</div>';
	}

	/**
	 * The figures under the headline: the backlog as registrations and as time, the last flush, direct writes.
	 * Each carries its raw value in data-value (the browser test compares them with reg_buffer_stats()).
	 *
	 * @param array      $status Reg_Buffer_Status::report().
	 * @param array|null $buffer reg_buffer_stats() as in the report.
	 */
	private static function render_figures( array $status, ?array $buffer ): void {
		$unknown = 'buffer' === $status['mode'] ? __( 'unknown while Redis is unreachable', 'reg-buffer' ) : __( 'buffering is off', 'reg-buffer' );
		$last    = is_array( $status['last_flush'] ) ? $status['last_flush'] : null;
		echo '<div class="reg-buffer-figures">';

		// The backlog, as registrations.
		$backlog = null === $buffer ? null : (int) ( $buffer['buffered'] ?? ( (int) ( $buffer['pending'] ?? 0 ) + (int) ( $buffer['in_flight'] ?? 0 ) ) );
		$note    = $unknown;
		if ( null !== $buffer ) {
			$in_flight = (int) ( $buffer['in_flight'] ?? 0 );
			$note      = 0 === $backlog
				? __( 'everything is in MySQL', 'reg-buffer' )
				/* translators: 1: waiting, 2: being flushed */
				: sprintf( __( '%1$s waiting, %2$s being flushed', 'reg-buffer' ), number_format_i18n( $backlog - $in_flight ), number_format_i18n( $in_flight ) );
		}
		self::figure( 'backlog', $backlog, __( 'Not yet in MySQL', 'reg-buffer' ), null === $backlog ? '—' : sprintf( /* translators: %s: number */ _n( '%s registration', '%s registrations', $backlog, 'reg-buffer' ), number_format_i18n( $backlog ) ), $note );

		// The backlog, as time.
		$age = null === $buffer || null === ( $buffer['oldest_pending_age'] ?? null ) ? null : (float) $buffer['oldest_pending_age'];
		self::figure(
			'behind',
			null === $buffer ? null : $age,
			__( 'Behind by', 'reg-buffer' ),
			null === $buffer ? '—' : ( null === $age ? __( 'nothing', 'reg-buffer' ) : self::duration( $age ) ),
			null === $buffer
				? $unknown
				/* translators: %d: minutes */
				: sprintf( __( 'how long the oldest waiting registration has waited; warns over %d min', 'reg-buffer' ), Reg_Buffer_Status::backlog_warning_minutes() )
		);

		// The last flush that stored something (the extension's clock), and the last run.
		$ack_age = null === $buffer || null === ( $buffer['last_ack_age'] ?? null ) ? null : (float) $buffer['last_ack_age'];
		if ( null !== $ack_age ) {
			/* translators: %s: time */
			$shown = sprintf( __( '%s ago', 'reg-buffer' ), self::duration( $ack_age ) );
		} else {
			$shown = null === $buffer ? '—' : __( 'none yet', 'reg-buffer' );
		}
		$run = null === $last
			? __( 'no flush has run yet', 'reg-buffer' )
			/* translators: 1: when, 2: outcome, 3: number stored */
			: sprintf( __( 'last run %1$s: %2$s, %3$s stored', 'reg-buffer' ), self::ago( (int) ( $last['started_at'] ?? 0 ) ), self::outcome_label( (string) ( $last['outcome'] ?? '' ) ), number_format_i18n( (int) ( $last['inserted'] ?? 0 ) ) );
		if ( null !== $status['next_flush'] ) {
			/* translators: %s: when, e.g. "in 40 seconds" or "due now" */
			$run .= '; ' . sprintf( __( 'next %s', 'reg-buffer' ), self::next_flush( (int) $status['next_flush'] ) );
		}
		self::figure( 'last_flush', $ack_age, __( 'Last flush stored a batch', 'reg-buffer' ), $shown, $run );

		// Direct writes.
		$fallback = is_array( $status['last_fallback'] ) ? $status['last_fallback'] : null;
		self::figure(
			'fallbacks',
			(int) $status['fallbacks'],
			__( 'Written directly to MySQL', 'reg-buffer' ),
			number_format_i18n( (int) $status['fallbacks'] ),
			null === $fallback
				? __( 'never: every registration went through Redis', 'reg-buffer' )
				/* translators: 1: when, 2: why */
				: sprintf( __( 'last %1$s: %2$s. Nothing is lost by it.', 'reg-buffer' ), self::ago( (int) ( $fallback['time'] ?? 0 ) ), self::fallback_reason( (string) ( $fallback['reason'] ?? '' ) ) )
		);
		echo '</div>';

		// Also when buffering is disabled (what Redis holds is still flushed); not while Redis cannot be reached.
		if ( $status['extension_loaded'] && null === $status['buffer_error'] ) {
			echo '<div class="reg-buffer-flush-now">' . self::button( 'flush', '', __( 'Flush now', 'reg-buffer' ), 'button-secondary' ) . '</div>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
		}
	}

	/**
	 * One figure.
	 *
	 * @param string $key   data-figure.
	 * @param mixed  $value the raw value (JSON in data-value).
	 * @param string $label what it is.
	 * @param string $shown the value in words.
	 * @param string $note  a line under it.
	 */
	private static function figure( string $key, $value, string $label, string $shown, string $note ): void {
		printf(
			'<div class="reg-buffer-figure" data-figure="%s" data-value="%s"><span class="reg-buffer-figure-label">%s</span><span class="reg-buffer-figure-value">%s</span><span class="reg-buffer-figure-note">%s</span></div>',
			esc_attr( $key ),
			esc_attr( (string) wp_json_encode( $value ) ),
			esc_html( $label ),
			esc_html( $shown ),
			esc_html( $note )
		);
	}

	/**
	 * Every figure reg_buffer_stats() returns (its `process` counters, this PHP process's own, excepted) and the
	 * plugin's own, in a closed <details>: grouped, each with a plain label, its name as the extension and
	 * `wp reg-buffer status --format=json` give it, its value and what it means. data-value holds the raw value
	 * (JSON) that the browser test compares with reg_buffer_stats().
	 *
	 * @param array      $status Reg_Buffer_Status::report().
	 * @param array|null $buffer reg_buffer_stats() as in the report.
	 */
	private static function render_counters( array $status, ?array $buffer ): void {
		echo '<details class="reg-buffer-details reg-buffer-counters"><summary>' . esc_html__( 'All counters', 'reg-buffer' ) . '</summary>';
		$groups = self::stat_groups();
		if ( null === $buffer ) {
			echo '<p>' . esc_html( 'buffer' === $status['mode'] ? __( 'Redis cannot be asked right now; its counters return with it.', 'reg-buffer' ) : __( 'The buffer is not in use on this site.', 'reg-buffer' ) ) . '</p>';
			$groups = array();
		} else {
			// The lifetime counters are the ones the extension names; a figure no group names goes with "now".
			$words = self::counter_words();
			foreach ( (array) ( $buffer['counters'] ?? array() ) as $key ) {
				$groups['lifetime']['rows'][ (string) $key ] = $words[ $key ] ?? array( (string) $key, __( 'a counter of the extension', 'reg-buffer' ) );
			}
			$placed = array_merge( ...array_map( static fn( $g ) => array_keys( $g['rows'] ), array_values( $groups ) ) );
			foreach ( $buffer as $key => $value ) {
				if ( ! in_array( $key, $placed, true ) && 'process' !== $key && 'counters' !== $key && ( is_scalar( $value ) || null === $value ) ) {
					$groups['now']['rows'][ $key ] = array( (string) $key, __( 'a figure of the extension', 'reg-buffer' ) );
				}
			}
		}
		foreach ( $groups as $group_id => $group ) {
			self::counters_table_start( $group_id, $group['title'] );
			foreach ( $group['rows'] as $key => $row ) {
				if ( 'lifetime' !== $group_id && ! array_key_exists( $key, $buffer ) ) {
					continue; // Not returned by this version of the extension.
				}
				$value = $buffer[ $key ] ?? null;
				self::counter( (string) $key, $value, $row[0], self::stat_shown( (string) $key, $value ), self::stat_meaning( (string) $key, $buffer, $row[1] ), self::stat_bad( (string) $key, $value ) );
			}
			echo '</tbody></table>';
		}
		self::counters_table_start( 'site', __( 'This site', 'reg-buffer' ) );
		$plugin = array(
			'fallbacks' => array( $status['fallbacks'], __( 'Written directly to MySQL', 'reg-buffer' ), __( 'because Redis or the extension could not take them; nothing was lost', 'reg-buffer' ) ),
			'stored'    => array( $status['stored'], __( 'Stored registrations', 'reg-buffer' ), __( 'rows in the registrations table', 'reg-buffer' ) ),
			'set_aside' => array( $status['set_aside'], __( 'Set aside', 'reg-buffer' ), __( 'refused by MySQL or the fast intake\'s checks (see Set aside)', 'reg-buffer' ) ),
		);
		foreach ( $plugin as $key => $c ) {
			self::counter( 'plugin.' . $key, $c[0], $c[1], null === $c[0] ? '—' : number_format_i18n( (int) $c[0] ), $c[2], 'set_aside' === $key && $c[0] > 0 );
		}
		echo '</tbody></table></details>';
	}

	/**
	 * Opens one table of All counters.
	 *
	 * @param string $group   the group's id (data-group).
	 * @param string $caption what its figures are.
	 */
	private static function counters_table_start( string $group, string $caption ): void {
		printf(
			'<table class="widefat striped reg-buffer-stats" data-group="%s"><caption>%s</caption><thead><tr><th scope="col" class="column-name">%s</th><th scope="col" class="column-value">%s</th><th scope="col">%s</th></tr></thead><tbody>',
			esc_attr( $group ),
			esc_html( $caption ),
			esc_html__( 'Figure', 'reg-buffer' ),
			esc_html__( 'Value', 'reg-buffer' ),
			esc_html__( 'Meaning', 'reg-buffer' )
		);
	}

	/**
	 * A figure of reg_buffer_stats() as the table shows it: counts with thousands separators, ages as durations,
	 * names as they are.
	 *
	 * @param string $key   its name.
	 * @param mixed  $value its value.
	 */
	private static function stat_shown( string $key, $value ): string {
		if ( null === $value ) {
			return '—';
		}
		if ( 'oldest_pending_age' === $key || 'last_ack_age' === $key ) {
			return self::duration( (float) $value );
		}
		if ( 'uptime' === $key ) {
			/* translators: %s: number of seconds */
			return sprintf( __( '%s s', 'reg-buffer' ), number_format_i18n( (int) $value ) );
		}
		if ( is_int( $value ) ) {
			return number_format_i18n( $value );
		}
		if ( is_bool( $value ) ) {
			return $value ? __( 'yes', 'reg-buffer' ) : __( 'no', 'reg-buffer' );
		}
		return (string) $value;
	}

	/**
	 * What a figure means; for some, what its value means.
	 *
	 * @param string $key     its name.
	 * @param array  $buffer  reg_buffer_stats().
	 * @param string $generic the group's line for it.
	 */
	private static function stat_meaning( string $key, array $buffer, string $generic ): string {
		$value = $buffer[ $key ] ?? null;
		if ( 'shards_degraded' === $key && ! empty( $buffer['degraded'] ) && is_array( $buffer['degraded'] ) ) {
			$why = array();
			foreach ( $buffer['degraded'] as $d ) {
				$why[] = null === ( $d['shard'] ?? null )
					/* translators: %s: why */
					? sprintf( __( 'the server: %s', 'reg-buffer' ), (string) ( $d['why'] ?? '' ) )
					/* translators: 1: shard number, 2: why */
					: sprintf( __( 'shard %1$d: %2$s', 'reg-buffer' ), (int) $d['shard'], (string) ( $d['why'] ?? '' ) );
			}
			return implode( '; ', $why );
		}
		if ( 'persistence' === $key ) {
			return self::persistence_label( is_string( $value ) ? $value : null );
		}
		if ( 'uptime' === $key ) {
			/* translators: %s: a length of time */
			return null === $value ? __( 'unknown', 'reg-buffer' ) : sprintf( __( 'since Redis last started: %s', 'reg-buffer' ), self::duration( (float) $value ) );
		}
		return $generic;
	}

	/**
	 * Whether a figure needs attention.
	 *
	 * @param string $key   its name.
	 * @param mixed  $value its value.
	 */
	private static function stat_bad( string $key, $value ): bool {
		switch ( $key ) {
			case 'lost':
			case 'quarantined':
				return is_int( $value ) && $value > 0;
			case 'maxmemory_policy':
				return null !== $value && 'noeviction' !== $value;
			case 'persistence':
				return 'none' === $value;
			case 'shards_degraded':
				return is_int( $value ) && $value > 0;
			case 'partial':
				return true === $value;
			default:
				return false;
		}
	}

	/**
	 * One row of All counters.
	 *
	 * @param string $key   the figure's name (reg_buffer_stats(), or plugin.* for the plugin's own).
	 * @param mixed  $value the raw value.
	 * @param string $label what it is, in words.
	 * @param string $shown the value formatted.
	 * @param string $help  what it means.
	 * @param bool   $bad   whether it needs attention.
	 */
	private static function counter( string $key, $value, string $label, string $shown, string $help, bool $bad ): void {
		printf(
			'<tr class="%s" data-stat="%s" data-value="%s"><th scope="row">%s <code>%s</code></th><td class="reg-buffer-num">%s</td><td>%s</td></tr>',
			$bad ? 'reg-buffer-stat-bad' : '',
			esc_attr( $key ),
			esc_attr( (string) wp_json_encode( $value ) ),
			esc_html( $label ),
			esc_html( $key ),
			esc_html( $shown ),
			esc_html( $help )
		);
	}

	/**
	 * The setup and the last flush run, in a closed <details>.
	 *
	 * @param array $status Reg_Buffer_Status::report().
	 */
	private static function render_setup( array $status ): void {
		$last = is_array( $status['last_flush'] ) ? $status['last_flush'] : null;
		echo '<details class="reg-buffer-details reg-buffer-setup"><summary>' . esc_html__( 'Setup and the last flush run', 'reg-buffer' ) . '</summary>';
		echo '<table class="widefat striped reg-buffer-facts"><tbody>';
		self::fact( 'extension', __( 'reg_buffer extension', 'reg-buffer' ), $status['extension_loaded'] ? sprintf( /* translators: %s: version */ __( 'loaded, version %s', 'reg-buffer' ), $status['extension_version'] ) : __( 'not loaded', 'reg-buffer' ) );
		self::fact( 'mode', __( 'Mode', 'reg-buffer' ), 'buffer' === $status['mode'] ? __( 'buffer (Redis, then MySQL in batches)', 'reg-buffer' ) : __( 'direct (straight to MySQL)', 'reg-buffer' ) );
		if ( 'buffer' === $status['mode'] ) {
			self::fact( 'redis', __( 'Redis', 'reg-buffer' ), null === $status['buffer_error'] ? __( 'reachable', 'reg-buffer' ) : sprintf( /* translators: %s: error */ __( 'unreachable: %s', 'reg-buffer' ), $status['buffer_error'] ) );
			self::fact( 'redis_persistence', __( 'Redis persistence', 'reg-buffer' ), self::persistence_label( self::persistence( $status, is_array( $status['buffer'] ) ? $status['buffer'] : null ) ) );
		}
		self::fact( 'key_prefix', __( 'Key prefix', 'reg-buffer' ), (string) $status['key_prefix'] );
		self::fact( 'table', __( 'Table', 'reg-buffer' ), (string) $status['table'] );
		self::fact( 'wp_cron', __( 'WP-Cron', 'reg-buffer' ), $status['wp_cron_disabled'] ? __( 'disabled (DISABLE_WP_CRON): system cron must run the flush', 'reg-buffer' ) : __( 'enabled (runs when someone visits)', 'reg-buffer' ) );
		self::fact( 'next_flush', __( 'Next scheduled flush', 'reg-buffer' ), null === $status['next_flush'] ? __( 'not scheduled', 'reg-buffer' ) : self::next_flush( (int) $status['next_flush'] ) );
		if ( null !== $last ) {
			self::fact( 'last_flush', __( 'Last flush run', 'reg-buffer' ), sprintf( '%s — %s', self::ago( (int) ( $last['started_at'] ?? 0 ) ), self::outcome_label( (string) ( $last['outcome'] ?? '' ) ) ) );
			foreach ( array(
				'batches'    => __( 'batches', 'reg-buffer' ),
				'claimed'    => __( 'claimed', 'reg-buffer' ),
				'inserted'   => __( 'stored', 'reg-buffer' ),
				'duplicates' => __( 'already stored (duplicates)', 'reg-buffer' ),
				'acked'      => __( 'acknowledged', 'reg-buffer' ),
				'rejected'   => __( 'refused by MySQL, set aside', 'reg-buffer' ),
				'seconds'    => __( 'seconds', 'reg-buffer' ),
			) as $k => $label ) {
				self::fact( 'last_flush.' . $k, '— ' . $label, (string) ( $last[ $k ] ?? '' ) );
			}
		} else {
			self::fact( 'last_flush', __( 'Last flush run', 'reg-buffer' ), __( 'never', 'reg-buffer' ) );
		}
		if ( is_array( $status['last_fallback'] ) ) {
			self::fact( 'last_fallback', __( 'Last direct write', 'reg-buffer' ), sprintf( '%s — %s', self::ago( (int) ( $status['last_fallback']['time'] ?? 0 ) ), self::fallback_reason( (string) ( $status['last_fallback']['reason'] ?? '' ) ) ) );
		}
		echo '</tbody></table></details>';
	}

	/**
	 * The quarantine, with retry and purge.
	 *
	 * @param array|null $buffer reg_buffer_stats() as in the report.
	 */
	private static function render_quarantine( ?array $buffer ): void {
		$count = (int) ( $buffer['quarantined'] ?? 0 );
		echo '<h2 id="quarantine">' . esc_html__( 'Quarantine', 'reg-buffer' ) . '</h2>';
		if ( null === $buffer ) {
			echo '<p>' . esc_html__( 'The quarantine is in Redis: it can be read when Redis answers.', 'reg-buffer' ) . '</p>';
			return;
		}
		$reason = Reg_Buffer_Quarantine::unavailable_reason();
		if ( null !== $reason ) {
			echo '<p>' . esc_html( $reason ) . '</p>';
			return;
		}
		if ( 0 === $count ) {
			echo '<p class="reg-buffer-empty-quarantine">' . esc_html__( 'Nothing is quarantined.', 'reg-buffer' ) . '</p>';
			return;
		}
		echo '<p>' . esc_html__( 'Entries the flush (or the legacy import) could not decode, kept apart so they cannot block the others. Retry decodes what can be decoded and buffers it again (new id, stored by the next flush); purge deletes it for good.', 'reg-buffer' ) . '</p>';
		try {
			$entries = Reg_Buffer_Quarantine::entries( 200 );
		} catch ( \RuntimeException $e ) {
			echo '<div class="notice notice-error inline"><p>' . esc_html( $e->getMessage() ) . '</p></div>';
			return;
		}
		if ( $count > count( $entries ) ) {
			/* translators: 1: shown, 2: total */
			echo '<p>' . esc_html( sprintf( __( 'Showing %1$d of %2$d; use `wp reg-buffer quarantine list` for all.', 'reg-buffer' ), count( $entries ), $count ) ) . '</p>';
		}
		echo '<table class="widefat striped reg-buffer-entries reg-buffer-quarantine">';
		self::entries_head( __( 'Entry', 'reg-buffer' ) );
		foreach ( $entries as $e ) {
			echo '<tr data-entry="' . esc_attr( $e['field'] ) . '">';
			echo '<td>' . esc_html( (string) $e['event_id'] ) . '</td>';
			echo '<td><code>' . esc_html( $e['id'] ) . '</code></td>';
			echo '<td>' . esc_html( $e['reason'] ) . ( $e['retryable'] ? '' : '<br><em>' . esc_html( sprintf( /* translators: %s: problem */ __( 'Retry cannot work: %s.', 'reg-buffer' ), $e['problem'] ) ) . '</em>' ) . '</td>';
			echo '<td><code class="reg-buffer-preview">' . esc_html( $e['preview'] ) . '</code></td>';
			echo '<td class="reg-buffer-actions">';
			if ( $e['retryable'] ) {
				echo self::button( 'retry', $e['field'], __( 'Retry', 'reg-buffer' ), 'button-primary' ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
			}
			echo self::button( 'purge', $e['field'], __( 'Purge', 'reg-buffer' ), 'button-link-delete', __( 'Delete this entry for good?', 'reg-buffer' ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
			echo '</td></tr>';
		}
		echo '</tbody></table>';
	}

	/**
	 * The set-aside registrations (Reg_Buffer_Set_Aside), with retry and purge.
	 *
	 * @param int $count how many there are.
	 */
	private static function render_set_aside( int $count ): void {
		echo '<h2 id="set-aside">' . esc_html__( 'Set aside', 'reg-buffer' ) . '</h2>';
		if ( 0 === $count ) {
			echo '<p class="reg-buffer-empty-set-aside">' . esc_html__( 'Nothing is set aside.', 'reg-buffer' ) . '</p>';
			return;
		}
		echo '<p>' . esc_html__( 'Registrations a flush could not store (MySQL refused the row, or the fast intake\'s checks refused it), kept here with the error so they cannot block the others. Retry registers one again (validated like any registration); purge deletes it for good.', 'reg-buffer' ) . '</p>';
		$rows = Reg_Buffer_Set_Aside::rows( 200 );
		if ( $count > count( $rows ) ) {
			/* translators: 1: shown, 2: total */
			echo '<p>' . esc_html( sprintf( __( 'Showing %1$d of %2$d; use `wp reg-buffer set-aside list` for all.', 'reg-buffer' ), count( $rows ), $count ) ) . '</p>';
		}
		echo '<table class="widefat striped reg-buffer-entries reg-buffer-set-aside">';
		self::entries_head( __( 'Registration', 'reg-buffer' ) );
		foreach ( $rows as $row ) {
			$e = Reg_Buffer_Set_Aside::describe( $row );
			echo '<tr data-set-aside="' . esc_attr( $e['id'] ) . '">';
			echo '<td>' . esc_html( (string) $e['event'] ) . '</td>';
			echo '<td><code>' . esc_html( $e['id'] ) . '</code><br>' . esc_html( $e['registered_at'] ) . ( '' === $e['unique_key'] ? '' : '<br><code>' . esc_html( $e['unique_key'] ) . '</code>' ) . '</td>';
			echo '<td>' . esc_html( $e['error'] ) . ( 'yes' === $e['retryable'] ? '' : '<br><em>' . esc_html( $e['retryable'] ) . '</em>' ) . '</td>';
			echo '<td><code class="reg-buffer-preview">' . esc_html( $e['preview'] ) . '</code></td>';
			echo '<td class="reg-buffer-actions">';
			if ( 'yes' === $e['retryable'] ) {
				echo self::button( 'set_aside_retry', $e['id'], __( 'Retry', 'reg-buffer' ), 'button-primary' ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
			}
			echo self::button( 'set_aside_purge', $e['id'], __( 'Purge', 'reg-buffer' ), 'button-link-delete', __( 'Delete this registration for good?', 'reg-buffer' ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
			echo '</td></tr>';
		}
		echo '</tbody></table>';
	}

	/**
	 * The seats of each event with a capacity (Reg_Buffer_Status::report()['seats']), with Recount and Remove, and
	 * the form that sets or changes one. Each figure carries its raw value in data-value.
	 *
	 * @param array $status Reg_Buffer_Status::report().
	 */
	private static function render_seats( array $status ): void {
		echo '<h2 id="seats">' . esc_html__( 'Seats', 'reg-buffer' ) . '</h2>';
		if ( array() === $status['seats'] ) {
			echo '<p class="reg-buffer-no-seats">' . esc_html__( 'No event has a capacity: each takes registrations without limit.', 'reg-buffer' ) . '</p>';
		} else {
			echo '<table class="widefat striped reg-buffer-seats"><thead><tr>';
			foreach ( array(
				__( 'Event', 'reg-buffer' ),
				__( 'Capacity', 'reg-buffer' ),
				__( 'Waitlist', 'reg-buffer' ),
				__( 'Taken', 'reg-buffer' ),
				__( 'Waiting', 'reg-buffer' ),
				__( 'Places left', 'reg-buffer' ),
				__( 'Count in Redis', 'reg-buffer' ),
				__( 'Action', 'reg-buffer' ),
			) as $heading ) {
				echo '<th scope="col">' . esc_html( $heading ) . '</th>';
			}
			echo '</tr></thead><tbody>';
			foreach ( $status['seats'] as $seats ) {
				$event = (string) $seats['event_id'];
				echo '<tr data-event="' . esc_attr( $event ) . '">';
				self::seats_cell( 'event_id', $seats['event_id'], $event );
				self::seats_cell( 'capacity', $seats['capacity'], number_format_i18n( (int) $seats['capacity'] ) );
				self::seats_cell( 'waitlist', $seats['waitlist'], $seats['waitlist'] ? __( 'on', 'reg-buffer' ) : __( 'off', 'reg-buffer' ) );
				foreach ( array( 'taken', 'waiting', 'remaining' ) as $figure ) {
					self::seats_cell( $figure, $seats[ $figure ], null === $seats[ $figure ] ? '—' : number_format_i18n( (int) $seats[ $figure ] ) );
				}
				self::seats_cell( 'known', $seats['known'], self::seats_count_state( $status, $seats ) );
				echo '<td class="reg-buffer-actions">';
				if ( $status['extension_loaded'] ) {
					echo self::button( 'seats_recount', $event, __( 'Recount', 'reg-buffer' ), 'button-secondary' ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
				}
				/* translators: %s: event id */
				echo self::button( 'seats_unset', $event, __( 'Remove', 'reg-buffer' ), 'button-link-delete', sprintf( __( 'Remove the capacity of event %s? It then takes registrations without limit.', 'reg-buffer' ), $event ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built escaped.
				echo '</td></tr>';
			}
			echo '</tbody></table>';
		}
		// Set or change: the event is typed, so the nonce is for the operation alone.
		echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" class="reg-buffer-seats-form">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '">';
		echo '<input type="hidden" name="op" value="seats_set"><input type="hidden" name="entry" value="">';
		wp_nonce_field( self::nonce_action( 'seats_set', '' ) );
		printf(
			'<p><label>%s <input type="number" name="event" min="1" step="1" required class="small-text"></label> <label>%s <input type="number" name="capacity" min="0" step="1" required class="small-text"></label> <label><input type="checkbox" name="waitlist" value="1"> %s</label> <button type="submit" class="button button-primary" data-op="seats_set">%s</button></p>',
			esc_html__( 'Event', 'reg-buffer' ),
			esc_html__( 'Capacity', 'reg-buffer' ),
			esc_html__( 'Waitlist once full', 'reg-buffer' ),
			esc_html__( 'Set capacity', 'reg-buffer' )
		);
		echo '<p class="description">' . esc_html__( 'An event that has a capacity gets the new one (and waitlist setting) from its next booking on. Without a waitlist, registrations past the capacity are refused as sold out; with one they wait, and each is promoted in turn when a registration is cancelled.', 'reg-buffer' ) . '</p>';
		echo '</form>';
	}

	/**
	 * One cell of the seats table.
	 *
	 * @param string $field data-field.
	 * @param mixed  $value the raw value (JSON in data-value).
	 * @param string $shown the value in words.
	 */
	private static function seats_cell( string $field, $value, string $shown ): void {
		printf( '<td data-field="%s" data-value="%s">%s</td>', esc_attr( $field ), esc_attr( (string) wp_json_encode( $value ) ), esc_html( $shown ) );
	}

	/**
	 * Whether Redis knows an event's count, in words.
	 *
	 * @param array $status Reg_Buffer_Status::report().
	 * @param array $seats  one event's Reg_Buffer_Seats::summary().
	 */
	private static function seats_count_state( array $status, array $seats ): string {
		if ( ! $status['extension_loaded'] ) {
			return __( 'none: without the extension, bookings are counted in MySQL', 'reg-buffer' );
		}
		if ( isset( $seats['error'] ) ) {
			/* translators: %s: error */
			return sprintf( __( 'cannot be read: %s', 'reg-buffer' ), (string) $seats['error'] );
		}
		return $seats['known'] ? __( 'known', 'reg-buffer' ) : __( 'not known: counted from MySQL at the next booking', 'reg-buffer' );
	}

	/**
	 * The head of the quarantine and set-aside tables.
	 *
	 * @param string $what what a row is.
	 */
	private static function entries_head( string $what ): void {
		printf(
			'<thead><tr><th scope="col" class="column-event">%s</th><th scope="col" class="column-entry">%s</th><th scope="col" class="column-why">%s</th><th scope="col" class="column-content">%s</th><th scope="col" class="column-actions">%s</th></tr></thead><tbody>',
			esc_html__( 'Event', 'reg-buffer' ),
			esc_html( $what ),
			esc_html__( 'Why', 'reg-buffer' ),
			esc_html__( 'Content (start)', 'reg-buffer' ),
			esc_html__( 'Action', 'reg-buffer' )
		);
	}

	/**
	 * One row of the setup table.
	 *
	 * @param string $key   data-fact.
	 * @param string $label what it is.
	 * @param string $value its value in words.
	 */
	private static function fact( string $key, string $label, string $value ): void {
		printf( '<tr data-fact="%s"><th scope="row">%s</th><td>%s</td></tr>', esc_attr( $key ), esc_html( $label ), esc_html( $value ) );
	}
}
