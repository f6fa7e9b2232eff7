<?php
/**
 * Owns the WP-CLI commands (loaded only under WP-CLI).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Flush, status and legacy import from the command line — the recommended flusher for busy sites, where
 * WP-Cron only runs when someone visits.
 */
final class Reg_Buffer_CLI {

	/**
	 * Flushes buffered registrations into MySQL.
	 *
	 * [--until-empty]
	 * : Keep running flushes until the buffer is empty.
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function flush( $args, $assoc_args ): void {
		do {
			$summary = Reg_Buffer_Flusher::run();
			WP_CLI::log( wp_json_encode( $summary ) );
		} while ( ! empty( $assoc_args['until-empty'] ) && 'budget' === $summary['outcome'] );
		if ( 'error' === $summary['outcome'] ) {
			WP_CLI::error( 'flush stopped on an error; see the log' );
		}
		WP_CLI::success( 'flushed' );
	}

	/**
	 * Prints the plugin's status as JSON.
	 */
	public function status(): void {
		WP_CLI::line( (string) wp_json_encode( Reg_Buffer_Status::report(), JSON_PRETTY_PRINT ) );
	}

	/**
	 * Moves the seed snippet's legacy Redis lists (event_reg_buffer:*) into the buffer.
	 *
	 * [--pattern=<pattern>]
	 * : SCAN pattern of the legacy lists.
	 * ---
	 * default: event_reg_buffer:*
	 * ---
	 */
	public function import_legacy( $args, $assoc_args ): void {
		if ( ! Reg_Buffer_Bridge::is_available() ) {
			WP_CLI::error( 'the reg_buffer extension is not loaded' );
		}
		$moved = Reg_Buffer_Bridge::import_legacy( (string) ( $assoc_args['pattern'] ?? 'event_reg_buffer:*' ) );
		WP_CLI::success( "moved {$moved} registrations" );
	}
}
