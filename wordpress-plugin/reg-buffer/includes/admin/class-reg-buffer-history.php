<?php
/**
 * Owns the short history the admin page draws: one sample a minute for 24 hours, in one option per site.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Samples the buffer (after each flush run, each WP-Cron tick and each view of the admin page, at most once a
 * minute) and draws them as inline SVG. Also the place that logs a warning when it first appears.
 */
final class Reg_Buffer_History {

	const OPTION          = 'reg_buffer_history';
	const WARNINGS_OPTION = 'reg_buffer_active_warnings';
	const KEEP_SECONDS    = DAY_IN_SECONDS;
	const EVERY_SECONDS   = 60;

	/** Sample columns, in order (compact: 1440 samples stay a small option). */
	const COLUMNS = array( 't', 'pending', 'in_flight', 'quarantined', 'oldest_age', 'pushed', 'acked', 'fallbacks' );

	/**
	 * Takes a sample unless one was taken in the last minute.
	 */
	public static function maybe_sample(): void {
		$samples = self::raw();
		$now     = time();
		$last    = end( $samples );
		if ( is_array( $last ) && $now - (int) $last[0] < self::EVERY_SECONDS - 5 ) {
			return;
		}
		$status = Reg_Buffer_Status::report( false );
		self::note_warnings( $status['warning_codes'], $status['warnings'] );
		$buffer = is_array( $status['buffer'] ) ? $status['buffer'] : null;
		if ( null === $buffer ) {
			// Direct mode or Redis down: only the fallbacks move; a gap in the buffer lines tells the rest.
			$sample = array( $now, null, null, null, null, null, null, (int) $status['fallbacks'] );
		} else {
			$sample = array(
				$now,
				(int) ( $buffer['pending'] ?? 0 ),
				(int) ( $buffer['in_flight'] ?? 0 ),
				(int) ( $buffer['quarantined'] ?? 0 ),
				null === ( $buffer['oldest_pending_age'] ?? null ) ? null : (int) round( (float) $buffer['oldest_pending_age'] ),
				(int) ( $buffer['pushed'] ?? 0 ),
				(int) ( $buffer['acked'] ?? 0 ),
				(int) $status['fallbacks'],
			);
		}
		$samples[] = $sample;
		$cutoff    = $now - self::KEEP_SECONDS;
		$samples   = array_values( array_filter( $samples, static fn( $s ) => (int) $s[0] >= $cutoff ) );
		update_option( self::OPTION, $samples, false );
	}

	/**
	 * Samples as maps (column => value), oldest first, within the last $seconds.
	 *
	 * @return array<int,array<string,int|null>>
	 */
	public static function samples( int $seconds = DAY_IN_SECONDS ): array {
		$cutoff = time() - $seconds;
		$out    = array();
		foreach ( self::raw() as $s ) {
			if ( (int) $s[0] >= $cutoff ) {
				$out[] = array_combine( self::COLUMNS, array_pad( array_slice( $s, 0, count( self::COLUMNS ) ), count( self::COLUMNS ), null ) );
			}
		}
		return $out;
	}

	/**
	 * Per-minute rates between consecutive samples: [t, pending, pushed/min, acked/min, fallbacks/min].
	 *
	 * @return array<int,array{t:int, pending:?int, pushed:?float, acked:?float, fallbacks:?float}>
	 */
	public static function rates( int $seconds ): array {
		$samples = self::samples( $seconds );
		$out     = array();
		$prev    = null;
		foreach ( $samples as $s ) {
			$row = array(
				't'         => (int) $s['t'],
				'pending'   => $s['pending'],
				'pushed'    => null,
				'acked'     => null,
				'fallbacks' => null,
			);
			if ( null !== $prev ) {
				$minutes = max( 1, $s['t'] - $prev['t'] ) / 60;
				foreach ( array( 'pushed', 'acked', 'fallbacks' ) as $c ) {
					if ( null !== $s[ $c ] && null !== $prev[ $c ] ) {
						// A counter that went down was reset (Redis lost its stats): count from zero.
						$delta     = $s[ $c ] >= $prev[ $c ] ? $s[ $c ] - $prev[ $c ] : $s[ $c ];
						$row[ $c ] = round( $delta / $minutes, 1 );
					}
				}
			}
			$out[] = $row;
			$prev  = $s;
		}
		return $out;
	}

	/**
	 * Logs each warning once when it appears (and once when all clear), never on every sample. Called with every
	 * status the plugin computes anyway (sample, admin page, `wp reg-buffer status`).
	 *
	 * @param string[] $codes    current warning codes.
	 * @param string[] $messages their messages, same order.
	 */
	public static function note_warnings( array $codes, array $messages ): void {
		$before = (array) get_option( self::WARNINGS_OPTION, array() );
		foreach ( $codes as $i => $code ) {
			if ( ! in_array( $code, $before, true ) ) {
				error_log( 'reg_buffer: warning: ' . $messages[ $i ] ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
			}
		}
		if ( array() === $codes && array() !== $before ) {
			error_log( 'reg_buffer: all clear: ' . implode( ', ', $before ) . ' resolved' ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
		}
		if ( $codes !== $before ) {
			update_option( self::WARNINGS_OPTION, array_values( $codes ), false );
		}
	}

	/**
	 * Two small SVG charts: registrations waiting in Redis, and registrations per minute (flushed, taken,
	 * written directly).
	 *
	 * @param int $seconds how far back.
	 */
	public static function svg( int $seconds ): string {
		$rates = self::rates( $seconds );
		$now   = time();
		$from  = $now - $seconds;
		if ( count( $rates ) < 2 ) {
			return '<p class="reg-buffer-chart-empty">' . esc_html__( 'Not enough history yet: one sample is taken a minute (by the flush, WP-Cron and this page).', 'reg-buffer' ) . '</p>';
		}
		$waiting = self::chart(
			__( 'Waiting in Redis (pending)', 'reg-buffer' ),
			$from,
			$now,
			array( array( 'pending', '#2271b1', __( 'pending', 'reg-buffer' ) ) ),
			$rates
		);
		$flow    = self::chart(
			__( 'Registrations per minute', 'reg-buffer' ),
			$from,
			$now,
			array(
				array( 'pushed', '#8c8f94', __( 'taken into Redis', 'reg-buffer' ) ),
				array( 'acked', '#00a32a', __( 'flushed to MySQL', 'reg-buffer' ) ),
				array( 'fallbacks', '#d63638', __( 'written directly (fallback)', 'reg-buffer' ) ),
			),
			$rates
		);
		return $waiting . $flow;
	}

	/**
	 * One chart.
	 *
	 * @param string $title  title.
	 * @param int    $from   left edge (Unix time).
	 * @param int    $to     right edge.
	 * @param array  $series list of [column, colour, label].
	 * @param array  $rates  rows from rates().
	 */
	private static function chart( string $title, int $from, int $to, array $series, array $rates ): string {
		$w     = 760;
		$h     = 170;
		$left  = 56;
		$right = 12;
		$top   = 26;
		$bot   = 24;
		$max   = 0.0;
		foreach ( $rates as $r ) {
			foreach ( $series as $s ) {
				$max = max( $max, (float) ( $r[ $s[0] ] ?? 0 ) );
			}
		}
		$max  = $max <= 0 ? 1.0 : self::nice( $max );
		$x    = static fn( int $t ) => $left + ( $t - $from ) / max( 1, $to - $from ) * ( $w - $left - $right );
		$y    = static fn( float $v ) => $top + ( 1 - $v / $max ) * ( $h - $top - $bot );
		$out  = sprintf( '<svg class="reg-buffer-chart" role="img" aria-label="%s" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">', esc_attr( $title ), $w, $h, $w, $h );
		$out .= sprintf( '<text x="%d" y="14" font-size="13" font-weight="600" fill="#1d2327">%s</text>', $left, esc_html( $title ) );
		// Grid: 0, half, max.
		foreach ( array( 0.0, $max / 2, $max ) as $v ) {
			$out .= sprintf( '<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#dcdcde"/>', $left, $w - $right, $y( $v ), $y( $v ) );
			$out .= sprintf( '<text x="%d" y="%.1f" text-anchor="end" fill="#50575e">%s</text>', $left - 6, $y( $v ) + 4, esc_html( number_format_i18n( $v, $v < 10 && floor( $v ) !== $v ? 1 : 0 ) ) );
		}
		// Time axis: the left edge, the middle, now.
		foreach ( array( $from, (int) ( ( $from + $to ) / 2 ), $to ) as $i => $t ) {
			$anchor = array( 'start', 'middle', 'end' )[ $i ];
			$out   .= sprintf( '<text x="%.1f" y="%d" text-anchor="%s" fill="#50575e">%s</text>', $x( $t ), $h - 6, $anchor, esc_html( wp_date( 'H:i', $t ) ) );
		}
		$lx = $left + 200;
		foreach ( $series as $s ) {
			list( $column, $colour, $label ) = $s;
			// A missing value (Redis down, first sample) or a gap of over 3 minutes breaks the line.
			$paths = array();
			$path  = array();
			$prev  = null;
			foreach ( $rates as $r ) {
				if ( null === $r[ $column ] || ( null !== $prev && $r['t'] - $prev > 180 ) ) {
					if ( count( $path ) > 0 ) {
						$paths[] = $path;
					}
					$path = array();
				}
				if ( null !== $r[ $column ] ) {
					$path[] = sprintf( '%.1f,%.1f', $x( $r['t'] ), $y( (float) $r[ $column ] ) );
				}
				$prev = $r['t'];
			}
			if ( count( $path ) > 0 ) {
				$paths[] = $path;
			}
			foreach ( $paths as $p ) {
				$out .= 1 === count( $p )
					? sprintf( '<circle cx="%s" cy="%s" r="2" fill="%s"/>', ...array_merge( explode( ',', $p[0] ), array( $colour ) ) )
					: sprintf( '<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>', $colour, implode( ' ', $p ) );
			}
			$out .= sprintf( '<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15" fill="#1d2327">%s</text>', $lx, $colour, $lx + 14, esc_html( $label ) );
			$lx  += 24 + (int) ( 6.2 * strlen( $label ) );
		}
		return $out . '</svg>';
	}

	/** A round upper bound for an axis: 1, 2, 5 × 10^n. */
	private static function nice( float $v ): float {
		$p = 10 ** floor( log10( $v ) );
		foreach ( array( 1, 2, 5, 10 ) as $m ) {
			if ( $v <= $m * $p ) {
				return $m * $p;
			}
		}
		return 10 * $p;
	}

	/** @return array<int,array> */
	private static function raw(): array {
		$samples = get_option( self::OPTION, array() );
		return is_array( $samples ) ? array_values( array_filter( $samples, 'is_array' ) ) : array();
	}

	/**
	 * Deletes the history (uninstall).
	 */
	public static function uninstall(): void {
		delete_option( self::OPTION );
		delete_option( self::WARNINGS_OPTION );
	}
}
