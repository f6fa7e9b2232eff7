<?php
/**
 * Owns the admin page Tools > Registration buffer: status at a glance, counts, history chart, last flush,
 * quarantine and set-aside registrations with retry/purge, "flush now". Capability manage_options; every action nonce-protected.
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

	/** The extension's counters, in display order, with what each means. */
	private static function stat_help(): array {
		return array(
			'pending'            => __( 'waiting in Redis for the flush', 'reg-buffer' ),
			'in_flight'          => __( 'claimed by a flush, not yet acknowledged', 'reg-buffer' ),
			'buffered'           => __( 'in Redis in all (pending + in flight)', 'reg-buffer' ),
			'events'             => __( 'events with registrations waiting', 'reg-buffer' ),
			'oldest_pending_age' => __( 'seconds the oldest waiting registration has waited (flush lag)', 'reg-buffer' ),
			'quarantined'        => __( 'entries that could not be decoded (see below)', 'reg-buffer' ),
			'maxmemory_policy'   => __( 'Redis eviction policy (must be noeviction)', 'reg-buffer' ),
			'pushed'             => __( 'taken into Redis, ever', 'reg-buffer' ),
			'duplicates'         => __( 'refused as duplicates (same unique key)', 'reg-buffer' ),
			'claimed'            => __( 'handed to flushes', 'reg-buffer' ),
			'acked'              => __( 'stored in MySQL and removed from Redis', 'reg-buffer' ),
			'redelivered'        => __( 'handed out again after a lease ran out', 'reg-buffer' ),
			'lost'               => __( 'vanished from Redis before the flush (must stay 0)', 'reg-buffer' ),
			'last_ack_age'       => __( 'seconds since a flush last stored a batch', 'reg-buffer' ),
		);
	}

	/**
	 * Hooks (admin only).
	 */
	public static function register(): void {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_action( 'admin_post_' . self::ACTION, array( __CLASS__, 'handle_action' ) );
	}

	public static function add_page(): void {
		add_management_page(
			__( 'Registration buffer', 'reg-buffer' ),
			__( 'Registration buffer', 'reg-buffer' ),
			self::CAPABILITY,
			self::SLUG,
			array( __CLASS__, 'render' )
		);
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
	 * admin-post.php?action=reg_buffer_admin: retry, purge, flush. Answers with a redirect back to the page.
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

	private static function nonce_action( string $op, string $field ): string {
		return 'reg-buffer-' . $op . '|' . $field;
	}

	/**
	 * A small POST form to admin-post.php with its nonce.
	 */
	private static function button( string $op, string $field, string $label, string $class, string $confirm = '' ): string {
		$html  = '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" class="reg-buffer-inline"'
			. ( '' !== $confirm ? ' onsubmit="return confirm(' . esc_attr( wp_json_encode( $confirm ) ) . ')"' : '' ) . '>';
		$html .= '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '">';
		$html .= '<input type="hidden" name="op" value="' . esc_attr( $op ) . '">';
		$html .= '<input type="hidden" name="entry" value="' . esc_attr( $field ) . '">';
		$html .= wp_nonce_field( self::nonce_action( $op, $field ), '_wpnonce', true, false );
		$html .= '<button type="submit" class="button ' . esc_attr( $class ) . '" data-op="' . esc_attr( $op ) . '" data-entry="' . esc_attr( $field ) . '">' . esc_html( $label ) . '</button>';
		return $html . '</form>';
	}

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

	/** What a Redis restart keeps, per persistence mode (docs/operations.md). */
	private static function persistence_label( ?string $mode ): string {
		$labels = array(
			'aof-always'   => __( 'AOF, fsync always: a crash or power loss keeps every registration', 'reg-buffer' ),
			'aof-everysec' => __( 'AOF, fsync every second: a crash keeps everything, a power loss may lose the last second', 'reg-buffer' ),
			'aof-no'       => __( 'AOF, fsync left to the OS: a power loss may lose the last ~30 seconds', 'reg-buffer' ),
			'rdb'          => __( 'RDB snapshots only: a restart loses what was buffered since the last snapshot', 'reg-buffer' ),
			'none'         => __( 'none: a restart loses every buffered registration (the status then warns)', 'reg-buffer' ),
		);
		return null === $mode ? __( 'unknown (needs phpredis and CONFIG GET)', 'reg-buffer' ) : ( $labels[ $mode ] ?? $mode );
	}

	/** "3 min ago" / "in 20 s". */
	private static function ago( ?int $time ): string {
		if ( null === $time || $time <= 0 ) {
			return __( 'never', 'reg-buffer' );
		}
		$diff = time() - $time;
		/* translators: %s: human time difference */
		return $diff >= 0 ? sprintf( __( '%s ago', 'reg-buffer' ), human_time_diff( $time ) ) : sprintf( __( 'in %s', 'reg-buffer' ), human_time_diff( $time ) );
	}

	/**
	 * The page.
	 */
	public static function render(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		Reg_Buffer_History::maybe_sample();
		$status  = Reg_Buffer_Status::report();
		Reg_Buffer_History::note_warnings( $status['warning_codes'], $status['warnings'] );
		$buffer  = is_array( $status['buffer'] ) ? $status['buffer'] : null;
		$codes   = $status['warning_codes'];
		$hours   = isset( $_GET['hours'] ) ? max( 1, min( 24, (int) $_GET['hours'] ) ) : 6; // phpcs:ignore WordPress.Security.NonceVerification
		$notice  = get_transient( 'reg_buffer_notice_' . get_current_user_id() );
		$last    = is_array( $status['last_flush'] ) ? $status['last_flush'] : null;
		$critical = array_intersect( $codes, self::CRITICAL );

		echo '<div class="wrap reg-buffer-admin">';
		echo '<h1>' . esc_html__( 'Registration buffer', 'reg-buffer' ) . '</h1>';
		self::styles();
		if ( is_array( $notice ) ) {
			delete_transient( 'reg_buffer_notice_' . get_current_user_id() );
			printf( '<div class="notice notice-%s is-dismissible reg-buffer-result"><p>%s</p></div>', $notice['ok'] ? 'success' : 'error', esc_html( $notice['message'] ) );
		}

		// At a glance.
		if ( array() !== $critical ) {
			$state = array( 'bad', __( 'Registrations need attention now', 'reg-buffer' ) );
		} elseif ( array() !== $codes ) {
			$state = array( 'warn', 'direct' === $status['mode'] ? __( 'Registrations are stored, but without the buffer', 'reg-buffer' ) : __( 'Registrations are flowing, with warnings', 'reg-buffer' ) );
		} else {
			$state = array( 'ok', 'direct' === $status['mode'] ? __( 'Registrations are written directly to MySQL', 'reg-buffer' ) : __( 'Registrations are flowing', 'reg-buffer' ) );
		}
		echo '<div class="reg-buffer-glance reg-buffer-' . esc_attr( $state[0] ) . '" data-state="' . esc_attr( $state[0] ) . '">';
		echo '<p class="reg-buffer-verdict">' . esc_html( $state[1] ) . '</p>';
		echo '<p>' . esc_html( $status['message'] ) . ' ';
		if ( null !== $buffer ) {
			$age = $buffer['oldest_pending_age'];
			printf(
				/* translators: 1: pending, 2: lag */
				esc_html__( 'Now waiting in Redis: %1$s; the oldest has waited %2$s.', 'reg-buffer' ),
				'<strong>' . esc_html( number_format_i18n( (int) $buffer['pending'] ) ) . '</strong>',
				'<strong>' . esc_html( null === $age ? __( 'no time (nothing waits)', 'reg-buffer' ) : human_time_diff( 0, (int) ceil( (float) $age ) ) ) . '</strong>'
			);
			echo ' ';
		}
		if ( null !== $last ) {
			printf(
				/* translators: 1: when, 2: outcome, 3: stored */
				esc_html__( 'Last flush: %1$s (%2$s, %3$s stored).', 'reg-buffer' ),
				esc_html( self::ago( (int) ( $last['started_at'] ?? 0 ) ) ),
				esc_html( self::outcome_label( (string) $last['outcome'] ) ),
				esc_html( number_format_i18n( (int) $last['inserted'] ) )
			);
		}
		echo '</p>';
		if ( array() !== $status['warnings'] ) {
			echo '<ul class="reg-buffer-warnings">';
			foreach ( $status['warnings'] as $i => $warning ) {
				$class = in_array( $codes[ $i ], self::CRITICAL, true ) ? 'bad' : 'warn';
				echo '<li class="reg-buffer-warning-' . esc_attr( $class ) . '" data-code="' . esc_attr( $codes[ $i ] ) . '">' . esc_html( $warning );
				if ( 'redis_data_lost' === $codes[ $i ] ) {
					echo ' ' . self::button( 'ack_loss', '', __( 'Acknowledge', 'reg-buffer' ), 'button-secondary', __( 'Acknowledge this loss? The warning goes away; the registrations stay lost.', 'reg-buffer' ) ); // phpcs:ignore WordPress.Security.EscapeOutput -- built escaped.
				}
				echo '</li>';
			}
			echo '</ul>';
		}
		echo '</div>';

		echo '<div class="reg-buffer-columns">';
		// Extension and Redis.
		echo '<div><h2>' . esc_html__( 'Extension and Redis', 'reg-buffer' ) . '</h2><table class="widefat striped reg-buffer-facts"><tbody>';
		self::fact( 'extension', __( 'reg_buffer extension', 'reg-buffer' ), $status['extension_loaded'] ? sprintf( /* translators: %s: version */ __( 'loaded, version %s', 'reg-buffer' ), $status['extension_version'] ) : __( 'not loaded', 'reg-buffer' ) );
		self::fact( 'mode', __( 'Mode', 'reg-buffer' ), 'buffer' === $status['mode'] ? __( 'buffer (Redis, then MySQL in batches)', 'reg-buffer' ) : __( 'direct (straight to MySQL)', 'reg-buffer' ) );
		if ( 'buffer' === $status['mode'] ) {
			self::fact( 'redis', __( 'Redis', 'reg-buffer' ), null === $status['buffer_error'] ? __( 'reachable', 'reg-buffer' ) : sprintf( /* translators: %s: error */ __( 'unreachable: %s', 'reg-buffer' ), $status['buffer_error'] ) );
		}
		self::fact( 'key_prefix', __( 'Key prefix', 'reg-buffer' ), $status['key_prefix'] );
		if ( 'buffer' === $status['mode'] ) {
			self::fact( 'redis_persistence', __( 'Redis persistence', 'reg-buffer' ), self::persistence_label( $status['redis_persistence'] ) );
		}
		self::fact( 'phpredis', __( 'Quarantine tools (phpredis)', 'reg-buffer' ), class_exists( 'Redis' ) ? __( 'available', 'reg-buffer' ) : __( 'php-redis not loaded', 'reg-buffer' ) );
		echo '</tbody></table></div>';

		// Flush.
		echo '<div><h2>' . esc_html__( 'Flush', 'reg-buffer' ) . '</h2><table class="widefat striped reg-buffer-facts"><tbody>';
		self::fact( 'wp_cron', __( 'WP-Cron', 'reg-buffer' ), $status['wp_cron_disabled'] ? __( 'disabled (DISABLE_WP_CRON): system cron must run the flush', 'reg-buffer' ) : __( 'enabled (runs when someone visits)', 'reg-buffer' ) );
		self::fact( 'next_flush', __( 'Next scheduled flush', 'reg-buffer' ), null === $status['next_flush'] ? __( 'not scheduled', 'reg-buffer' ) : self::ago( (int) $status['next_flush'] ) );
		if ( null !== $last ) {
			self::fact( 'last_flush', __( 'Last flush', 'reg-buffer' ), sprintf( '%s — %s', self::ago( (int) ( $last['started_at'] ?? 0 ) ), self::outcome_label( (string) $last['outcome'] ) ) );
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
			self::fact( 'last_flush', __( 'Last flush', 'reg-buffer' ), __( 'never', 'reg-buffer' ) );
		}
		echo '</tbody></table>';
		if ( $status['extension_loaded'] ) { // Also when disabled: what Redis holds is still flushed.
			echo '<p>' . self::button( 'flush', '', __( 'Flush now', 'reg-buffer' ), 'button-secondary' ) . '</p>'; // phpcs:ignore WordPress.Security.EscapeOutput -- built escaped.
		}
		echo '</div></div>';

		// Counts.
		echo '<h2>' . esc_html__( 'Counts', 'reg-buffer' ) . '</h2>';
		if ( null === $buffer ) {
			echo '<p>' . esc_html( 'buffer' === $status['mode'] ? __( 'Redis cannot be asked right now; the counts return with it.', 'reg-buffer' ) : __( 'The buffer is not in use on this site.', 'reg-buffer' ) ) . '</p>';
		}
		echo '<div class="reg-buffer-stats">';
		if ( null !== $buffer ) {
			$help_of = self::stat_help();
			// The known counts in order, then any the extension added since (the per-process ones excepted).
			foreach ( $buffer as $key => $value ) {
				if ( ! isset( $help_of[ $key ] ) && 'process' !== $key && ( is_scalar( $value ) || null === $value ) ) {
					$help_of[ $key ] = __( 'a counter of the extension', 'reg-buffer' );
				}
			}
			foreach ( $help_of as $key => $help ) {
				if ( ! array_key_exists( $key, $buffer ) ) {
					continue; // An older extension without this count.
				}
				$value = $buffer[ $key ];
				if ( ( 'oldest_pending_age' === $key || 'last_ack_age' === $key ) && null !== $value ) {
					$shown = number_format_i18n( (float) $value, 1 ) . ' s';
				} elseif ( is_int( $value ) ) {
					$shown = number_format_i18n( $value );
				} else {
					$shown = null === $value ? '—' : (string) $value;
				}
				$bad = ( 'lost' === $key && $value > 0 ) || ( 'quarantined' === $key && $value > 0 ) || ( 'maxmemory_policy' === $key && null !== $value && 'noeviction' !== $value );
				self::stat( $key, $value, $shown, $help, $bad );
			}
		}
		$plugin_stats = array(
			'fallbacks' => array( $status['fallbacks'], __( 'written directly to MySQL because Redis or the extension could not take them', 'reg-buffer' ) ),
			'stored'    => array( $status['stored'], __( 'rows in the registrations table', 'reg-buffer' ) ),
			'set_aside' => array( $status['set_aside'], __( 'set aside: refused by MySQL or the fast intake\'s checks (see below)', 'reg-buffer' ) ),
		);
		foreach ( $plugin_stats as $key => $s ) {
			self::stat( 'plugin.' . $key, $s[0], number_format_i18n( (int) $s[0] ), $s[1], 'set_aside' === $key && $s[0] > 0 );
		}
		echo '</div>';
		if ( is_array( $status['last_fallback'] ) ) {
			printf(
				'<p class="description">%s</p>',
				esc_html(
					sprintf(
						/* translators: 1: when, 2: reason */
						__( 'Last direct write: %1$s (reason: %2$s).', 'reg-buffer' ),
						self::ago( (int) $status['last_fallback']['time'] ),
						(string) $status['last_fallback']['reason']
					)
				)
			);
		}

		// History.
		echo '<h2>' . esc_html__( 'Last hours', 'reg-buffer' ) . '</h2><p class="reg-buffer-ranges">';
		foreach ( array( 1, 6, 24 ) as $h ) {
			/* translators: %d: hours */
			$label = sprintf( _n( '%d hour', '%d hours', $h, 'reg-buffer' ), $h );
			echo $h === $hours ? '<strong>' . esc_html( $label ) . '</strong> ' : '<a href="' . esc_url( self::url( array( 'hours' => $h ) ) ) . '">' . esc_html( $label ) . '</a> ';
		}
		echo '</p><div class="reg-buffer-charts">' . Reg_Buffer_History::svg( $hours * HOUR_IN_SECONDS ) . '</div>'; // phpcs:ignore WordPress.Security.EscapeOutput -- built escaped.

		self::render_quarantine( $buffer );
		self::render_set_aside( (int) $status['set_aside'] );

		// Help.
		echo '<h2>' . esc_html__( 'From the command line', 'reg-buffer' ) . '</h2>';
		echo '<p>' . esc_html__( 'The same status and actions: wp reg-buffer status | flush [--limit=N] [--until-empty] | drain | import-legacy | quarantine list|retry|purge | set-aside list|retry|purge. On busy sites, disable WP-Cron and flush from system cron every minute:', 'reg-buffer' ) . '</p>';
		echo '<pre class="reg-buffer-cron">* * * * * www-data wp --path=' . esc_html( untrailingslashit( ABSPATH ) ) . ' --url=' . esc_html( home_url() ) . ' reg-buffer flush --quiet</pre>';
		echo '</div>';
	}

	private static function render_quarantine( ?array $buffer ): void {
		$count = (int) ( $buffer['quarantined'] ?? 0 );
		echo '<h2 id="quarantine">' . esc_html__( 'Quarantine', 'reg-buffer' ) . '</h2>';
		echo '<p>' . esc_html__( 'Entries the flush (or the legacy import) could not decode are set aside here so they cannot block the others. Retry decodes what can be decoded and buffers it again (new id, stored by the next flush); purge deletes it for good.', 'reg-buffer' ) . '</p>';
		if ( null === $buffer ) {
			return;
		}
		$reason = Reg_Buffer_Quarantine::unavailable_reason();
		if ( null !== $reason ) {
			echo '<p class="reg-buffer-warning-warn">' . esc_html( $reason ) . '</p>';
			return;
		}
		if ( 0 === $count ) {
			echo '<p class="reg-buffer-empty-quarantine">' . esc_html__( 'Nothing is quarantined.', 'reg-buffer' ) . '</p>';
			return;
		}
		try {
			$entries = Reg_Buffer_Quarantine::entries( 200 );
		} catch ( \RuntimeException $e ) {
			echo '<p class="reg-buffer-warning-bad">' . esc_html( $e->getMessage() ) . '</p>';
			return;
		}
		if ( $count > count( $entries ) ) {
			/* translators: 1: shown, 2: total */
			echo '<p>' . esc_html( sprintf( __( 'Showing %1$d of %2$d; use `wp reg-buffer quarantine list` for all.', 'reg-buffer' ), count( $entries ), $count ) ) . '</p>';
		}
		echo '<table class="widefat striped reg-buffer-quarantine"><thead><tr>';
		foreach ( array( __( 'Event', 'reg-buffer' ), __( 'Entry', 'reg-buffer' ), __( 'Why', 'reg-buffer' ), __( 'Content (start)', 'reg-buffer' ), __( 'Action', 'reg-buffer' ) ) as $h ) {
			echo '<th>' . esc_html( $h ) . '</th>';
		}
		echo '</tr></thead><tbody>';
		foreach ( $entries as $e ) {
			echo '<tr data-entry="' . esc_attr( $e['field'] ) . '">';
			echo '<td>' . esc_html( (string) $e['event_id'] ) . '</td>';
			echo '<td><code>' . esc_html( $e['id'] ) . '</code></td>';
			echo '<td>' . esc_html( $e['reason'] ) . ( $e['retryable'] ? '' : '<br><em>' . esc_html( sprintf( /* translators: %s: problem */ __( 'Retry cannot work: %s.', 'reg-buffer' ), $e['problem'] ) ) . '</em>' ) . '</td>';
			echo '<td><code class="reg-buffer-preview">' . esc_html( $e['preview'] ) . '</code></td>';
			echo '<td class="reg-buffer-actions">';
			if ( $e['retryable'] ) {
				echo self::button( 'retry', $e['field'], __( 'Retry', 'reg-buffer' ), 'button-primary' ); // phpcs:ignore WordPress.Security.EscapeOutput -- built escaped.
			}
			echo self::button( 'purge', $e['field'], __( 'Purge', 'reg-buffer' ), 'button-link-delete', __( 'Delete this entry for good?', 'reg-buffer' ) ); // phpcs:ignore WordPress.Security.EscapeOutput -- built escaped.
			echo '</td></tr>';
		}
		echo '</tbody></table>';
	}

	/**
	 * The set-aside registrations (Reg_Buffer_Set_Aside), with retry and purge.
	 */
	private static function render_set_aside( int $count ): void {
		echo '<h2 id="set-aside">' . esc_html__( 'Set aside', 'reg-buffer' ) . '</h2>';
		echo '<p>' . esc_html__( 'Registrations a flush could not store (MySQL refused the row, or the fast intake\'s checks refused it) are kept here with the error, so they cannot block the others. Retry registers one again (validated like any registration); purge deletes it for good.', 'reg-buffer' ) . '</p>';
		if ( 0 === $count ) {
			echo '<p class="reg-buffer-empty-set-aside">' . esc_html__( 'Nothing is set aside.', 'reg-buffer' ) . '</p>';
			return;
		}
		$rows = Reg_Buffer_Set_Aside::rows( 200 );
		if ( $count > count( $rows ) ) {
			/* translators: 1: shown, 2: total */
			echo '<p>' . esc_html( sprintf( __( 'Showing %1$d of %2$d; use `wp reg-buffer set-aside list` for all.', 'reg-buffer' ), count( $rows ), $count ) ) . '</p>';
		}
		echo '<table class="widefat striped reg-buffer-set-aside"><thead><tr>';
		foreach ( array( __( 'Event', 'reg-buffer' ), __( 'Registration', 'reg-buffer' ), __( 'Why', 'reg-buffer' ), __( 'Content (start)', 'reg-buffer' ), __( 'Action', 'reg-buffer' ) ) as $h ) {
			echo '<th>' . esc_html( $h ) . '</th>';
		}
		echo '</tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$e = Reg_Buffer_Set_Aside::describe( $row );
			echo '<tr data-set-aside="' . esc_attr( $e['id'] ) . '">';
			echo '<td>' . esc_html( (string) $e['event'] ) . '</td>';
			echo '<td><code>' . esc_html( $e['id'] ) . '</code><br>' . esc_html( $e['registered_at'] ) . ( '' === $e['unique_key'] ? '' : '<br><code>' . esc_html( $e['unique_key'] ) . '</code>' ) . '</td>';
			echo '<td>' . esc_html( $e['error'] ) . ( 'yes' === $e['retryable'] ? '' : '<br><em>' . esc_html( $e['retryable'] ) . '</em>' ) . '</td>';
			echo '<td><code class="reg-buffer-preview">' . esc_html( $e['preview'] ) . '</code></td>';
			echo '<td class="reg-buffer-actions">';
			if ( 'yes' === $e['retryable'] ) {
				echo self::button( 'set_aside_retry', $e['id'], __( 'Retry', 'reg-buffer' ), 'button-primary' ); // phpcs:ignore WordPress.Security.EscapeOutput -- built escaped.
			}
			echo self::button( 'set_aside_purge', $e['id'], __( 'Purge', 'reg-buffer' ), 'button-link-delete', __( 'Delete this registration for good?', 'reg-buffer' ) ); // phpcs:ignore WordPress.Security.EscapeOutput -- built escaped.
			echo '</td></tr>';
		}
		echo '</tbody></table>';
	}

	private static function fact( string $key, string $label, string $value ): void {
		printf( '<tr data-fact="%s"><th scope="row">%s</th><td>%s</td></tr>', esc_attr( $key ), esc_html( $label ), esc_html( $value ) );
	}

	/**
	 * One count. data-value holds the raw value (JSON) the browser test compares with reg_buffer_stats().
	 */
	private static function stat( string $key, $value, string $shown, string $help, bool $bad ): void {
		printf(
			'<div class="reg-buffer-stat%s" data-stat="%s" data-value="%s"><span class="reg-buffer-num">%s</span><span class="reg-buffer-key">%s</span><span class="reg-buffer-help">%s</span></div>',
			$bad ? ' reg-buffer-stat-bad' : '',
			esc_attr( $key ),
			esc_attr( (string) wp_json_encode( $value ) ),
			esc_html( $shown ),
			esc_html( $key ),
			esc_html( $help )
		);
	}

	private static function styles(): void {
		?>
<style>
.reg-buffer-glance{border-left:6px solid #00a32a;background:#fff;padding:8px 16px;margin:16px 0;box-shadow:0 1px 1px rgba(0,0,0,.04)}
.reg-buffer-glance.reg-buffer-warn{border-left-color:#dba617}
.reg-buffer-glance.reg-buffer-bad{border-left-color:#d63638}
.reg-buffer-verdict{font-size:18px;font-weight:600;margin:6px 0}
.reg-buffer-warnings li{margin:4px 0;padding-left:8px;border-left:3px solid #dba617}
.reg-buffer-warnings li.reg-buffer-warning-bad{border-left-color:#d63638;font-weight:600}
.reg-buffer-columns{display:flex;gap:24px;flex-wrap:wrap}
.reg-buffer-columns>div{flex:1 1 380px}
.reg-buffer-facts th{width:45%}
.reg-buffer-stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:10px}
.reg-buffer-stat{background:#fff;border:1px solid #dcdcde;padding:8px 10px}
.reg-buffer-stat-bad{border-color:#d63638;background:#fcf0f1}
.reg-buffer-num{display:block;font-size:22px;font-weight:600;line-height:1.3}
.reg-buffer-key{display:block;font-family:monospace;color:#1d2327}
.reg-buffer-help{display:block;color:#646970;font-size:12px}
.reg-buffer-charts svg{background:#fff;border:1px solid #dcdcde;margin:0 12px 12px 0;max-width:100%;height:auto}
.reg-buffer-inline{display:inline-block;margin-right:6px}
.reg-buffer-preview{word-break:break-all;font-size:12px}
.reg-buffer-quarantine td{vertical-align:top}
.reg-buffer-cron{background:#fff;border:1px solid #dcdcde;padding:8px;overflow:auto}
</style>
		<?php
	}
}
