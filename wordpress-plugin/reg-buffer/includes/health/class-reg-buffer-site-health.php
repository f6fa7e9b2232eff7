<?php
/**
 * Owns Site Health: the overall `reg_buffer` test and one test per thing an operator can fix on its own (Tools >
 * Site Health > Status: extension, Redis — reachable, and has not lost buffered data —, eviction policy, backlog),
 * and the reg_buffer section of Tools > Site Health > Info.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The Site Health tests and Info section, all read from one Reg_Buffer_Status::report() per request.
 */
final class Reg_Buffer_Site_Health {

	/** @var array|null the status, computed once per request for all the tests. */
	private static $status = null;

	/**
	 * Adds the tests (filter `site_status_tests`).
	 *
	 * @param array $tests Site Health tests.
	 */
	public static function add_tests( array $tests ): array {
		$tests['direct']['reg_buffer'] = array(
			'label' => __( 'reg_buffer', 'reg-buffer' ),
			'test'  => array( __CLASS__, 'test_overall' ),
		);
		foreach ( array( 'extension', 'redis', 'eviction', 'backlog', 'shards' ) as $name ) {
			$tests['direct'][ 'reg_buffer_' . $name ] = array(
				'label' => 'reg_buffer ' . $name,
				'test'  => array( __CLASS__, 'test_' . $name ),
			);
		}
		return $tests;
	}

	/**
	 * The overall result: good, or the status warnings (critical when registrations are at risk of waiting or being
	 * evicted, recommended when only the extension is missing).
	 */
	public static function test_overall(): array {
		$status   = self::status();
		$warnings = $status['warnings'];
		$result   = array(
			'label'       => __( 'Event registrations are buffered and flushed', 'reg-buffer' ),
			'status'      => 'good',
			'badge'       => array(
				'label' => __( 'Performance', 'reg-buffer' ),
				'color' => 'blue',
			),
			'description' => '<p>' . esc_html( $status['message'] ) . '</p>',
			'test'        => 'reg_buffer',
		);
		if ( array() !== $warnings ) {
			$only_missing_extension = ! $status['extension_loaded'] && 1 === count( $warnings );
			$result['status']       = $only_missing_extension ? 'recommended' : 'critical';
			$result['label']        = __( 'reg_buffer needs attention', 'reg-buffer' );
			$result['description'] .= '<ul><li>' . implode( '</li><li>', array_map( 'esc_html', $warnings ) ) . '</li></ul>';
		}
		return $result;
	}

	/**
	 * Adds a reg_buffer section to Tools > Site Health > Info (filter `debug_information`): one row per status
	 * field, and per buffer statistic and last-flush figure, so the copied report reads line by line.
	 *
	 * @param array $info sections.
	 */
	public static function info( array $info ): array {
		$fields = array();
		foreach ( Reg_Buffer_Status::report() as $key => $value ) {
			$rows = in_array( $key, array( 'buffer', 'last_flush', 'last_fallback' ), true ) && is_array( $value ) ? $value : array( '' => $value );
			foreach ( $rows as $sub => $v ) {
				$name            = '' === $sub ? $key : $key . '.' . $sub;
				$fields[ $name ] = array(
					'label' => $name,
					'value' => is_scalar( $v ) || null === $v ? var_export( $v, true ) : wp_json_encode( $v ), // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_var_export -- a copyable literal, as the report shows it.
				);
			}
		}
		$info['reg-buffer'] = array(
			'label'  => __( 'reg_buffer', 'reg-buffer' ),
			'fields' => $fields,
		);
		return $info;
	}

	/**
	 * The status, read once per request for all the tests (without the table's row count, which no test shows).
	 */
	private static function status(): array {
		if ( null === self::$status ) {
			self::$status = Reg_Buffer_Status::report( false );
		}
		return self::$status;
	}

	private static function result( string $test, string $status, string $label, string $description, string $action = '' ): array {
		return array(
			'label'       => $label,
			'status'      => $status,
			'badge'       => array(
				'label' => __( 'Performance', 'reg-buffer' ),
				'color' => 'good' === $status ? 'blue' : ( 'critical' === $status ? 'red' : 'orange' ),
			),
			'description' => '<p>' . esc_html( $description ) . '</p>',
			'actions'     => '' === $action ? '' : '<p><a href="' . esc_url( Reg_Buffer_Admin::url() ) . '">' . esc_html( $action ) . '</a></p>',
			'test'        => $test,
		);
	}

	public static function test_extension(): array {
		$s = self::status();
		if ( ! $s['extension_loaded'] ) {
			return self::result( 'reg_buffer_extension', 'recommended', __( 'The reg_buffer extension is not loaded', 'reg-buffer' ), __( 'Registrations are written straight to MySQL, one write per registration. Install and enable reg_buffer.so for this PHP (see the plugin\'s docs/install.md) and restart PHP.', 'reg-buffer' ) );
		}
		/* translators: %s: version */
		return self::result( 'reg_buffer_extension', 'good', sprintf( __( 'The reg_buffer extension %s is loaded', 'reg-buffer' ), (string) $s['extension_version'] ), 'buffer' === $s['mode'] ? __( 'Registrations are buffered in Redis.', 'reg-buffer' ) : __( 'Buffering is disabled by REG_BUFFER_DISABLED.', 'reg-buffer' ) );
	}

	public static function test_redis(): array {
		$s = self::status();
		if ( array() !== $s['redis_losses'] ) {
			// Before "unreachable": a loss stays true after Redis returned, until an operator acknowledges it.
			$i = array_search( 'redis_data_lost', $s['warning_codes'], true );
			return self::result( 'reg_buffer_redis', 'critical', __( 'Redis lost buffered registrations', 'reg-buffer' ), false === $i ? '' : $s['warnings'][ $i ], __( 'Open Tools > Registration buffer to acknowledge it', 'reg-buffer' ) );
		}
		if ( 'buffer' !== $s['mode'] ) {
			return self::result( 'reg_buffer_redis', 'good', __( 'Redis is not needed (the buffer is not in use)', 'reg-buffer' ), __( 'Registrations are written directly to MySQL.', 'reg-buffer' ) );
		}
		if ( null !== $s['buffer_error'] ) {
			/* translators: %s: error message */
			return self::result( 'reg_buffer_redis', 'critical', __( 'Redis is unreachable: registrations fall back to MySQL', 'reg-buffer' ), sprintf( __( 'Nothing is lost, but the buffer is not used until Redis answers again: %s', 'reg-buffer' ), $s['buffer_error'] ), __( 'Open Tools > Registration buffer', 'reg-buffer' ) );
		}
		return self::result( 'reg_buffer_redis', 'good', __( 'Redis answers the registration buffer', 'reg-buffer' ), __( 'The buffer\'s statistics were read from Redis just now.', 'reg-buffer' ) );
	}

	public static function test_eviction(): array {
		$s      = self::status();
		$policy = is_array( $s['buffer'] ) ? ( $s['buffer']['maxmemory_policy'] ?? null ) : null;
		if ( null === $policy || 'noeviction' === $policy ) {
			return self::result( 'reg_buffer_eviction', 'good', __( 'Redis does not evict buffered registrations', 'reg-buffer' ), null === $policy ? __( 'The policy could not be read (CONFIG GET is not allowed or Redis is not in use); make sure it is noeviction.', 'reg-buffer' ) : __( 'maxmemory-policy is noeviction.', 'reg-buffer' ) );
		}
		/* translators: %s: policy */
		return self::result( 'reg_buffer_eviction', 'critical', sprintf( __( 'Redis maxmemory-policy is %s: registrations can be evicted', 'reg-buffer' ), $policy ), __( 'Under memory pressure Redis may delete buffered registrations before they are stored. Set maxmemory-policy noeviction, and REG_BUFFER_MAX_PENDING so pushes fall back to MySQL before Redis is full.', 'reg-buffer' ) );
	}

	public static function test_backlog(): array {
		$s = self::status();
		if ( ! is_array( $s['buffer'] ) ) {
			return self::result( 'reg_buffer_backlog', 'good', __( 'No registration is waiting in Redis', 'reg-buffer' ), __( 'The buffer is not in use or cannot be read (see the Redis test).', 'reg-buffer' ) );
		}
		$i = array_search( 'disabled_backlog', $s['warning_codes'], true );
		if ( false !== $i ) {
			// REG_BUFFER_DISABLED with registrations still in Redis: the flush moves them; say so until it has.
			return self::result( 'reg_buffer_backlog', 'recommended', __( 'Buffering is disabled, and registrations are still in Redis', 'reg-buffer' ), $s['warnings'][ $i ], __( 'Open Tools > Registration buffer', 'reg-buffer' ) );
		}
		$age     = (float) ( $s['buffer']['oldest_pending_age'] ?? 0 );
		$minutes = Reg_Buffer_Status::backlog_warning_minutes();
		if ( $age > $minutes * MINUTE_IN_SECONDS ) {
			$key = in_array( 'flush_not_running', $s['warning_codes'], true ) ? 'flush_not_running' : 'backlog';
			$i   = array_search( $key, $s['warning_codes'], true );
			/* translators: %d: minutes */
			return self::result( 'reg_buffer_backlog', 'critical', sprintf( __( 'Registrations have waited in Redis for %d minutes', 'reg-buffer' ), (int) floor( $age / 60 ) ), false === $i ? '' : $s['warnings'][ $i ], __( 'Open Tools > Registration buffer', 'reg-buffer' ) );
		}
		/* translators: 1: pending, 2: seconds */
		return self::result( 'reg_buffer_backlog', 'good', __( 'The flush keeps up', 'reg-buffer' ), sprintf( __( '%1$d registrations wait in Redis; the oldest for %2$d seconds.', 'reg-buffer' ), (int) $s['buffer']['pending'], (int) ceil( $age ) ) );
	}

	/**
	 * Degraded shards (reg_buffer_stats()['degraded']): a cluster shard whose master is down, or a master with fewer
	 * replicas than durability=replica:N needs — its registrations are going to MySQL directly.
	 */
	public static function test_shards(): array {
		$s        = self::status();
		$degraded = is_array( $s['buffer'] ) ? (array) ( $s['buffer']['degraded'] ?? array() ) : array();
		if ( array() === $degraded ) {
			return self::result( 'reg_buffer_shards', 'good', __( 'Redis takes registrations as configured', 'reg-buffer' ), __( 'No shard of the buffer is down or short of the replicas its durability setting asks for.', 'reg-buffer' ) );
		}
		$lines = array();
		foreach ( $degraded as $d ) {
			/* translators: %d: shard number */
			$where   = null === ( $d['shard'] ?? null ) ? __( 'Redis', 'reg-buffer' ) : sprintf( __( 'Shard %d', 'reg-buffer' ), (int) $d['shard'] );
			$lines[] = $where . ': ' . (string) ( $d['why'] ?? '' );
		}
		$label = sprintf(
			/* translators: 1: degraded shards, 2: all shards */
			_n( '%1$d of %2$d buffer shard is degraded: its registrations go to MySQL directly', '%1$d of %2$d buffer shards are degraded: their registrations go to MySQL directly', (int) ( $s['buffer']['shards_degraded'] ?? count( $degraded ) ), 'reg-buffer' ),
			(int) ( $s['buffer']['shards_degraded'] ?? count( $degraded ) ),
			(int) ( $s['buffer']['shards'] ?? 1 )
		);
		$advice = __( 'Nothing is lost (a push that cannot be kept as configured is written to MySQL), but the buffer is not absorbing the load there: restore the master or its replica (docs/redis-setup.md, "Durability").', 'reg-buffer' );
		return self::result( 'reg_buffer_shards', 'critical', $label, implode( '. ', $lines ) . '. ' . $advice );
	}
}
