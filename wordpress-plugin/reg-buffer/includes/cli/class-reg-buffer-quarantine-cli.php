<?php
/**
 * Owns `wp reg-buffer quarantine …` (registered by Reg_Buffer_Plugin; loaded with class-reg-buffer-cli.php).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Lists, retries and purges the entries Redis holds in quarantine.
 *
 * An entry is quarantined when the flush or the legacy import cannot
 * decode it. A retry buffers it again when its data can still be read;
 * purge deletes it for good.
 *
 * ## EXAMPLES
 *
 *     $ wp reg-buffer quarantine list
 *     $ wp reg-buffer quarantine retry 42:01JD3Z7W3M6Y8QK2T5V9XN4B1C
 *     $ wp reg-buffer quarantine purge --all --yes
 */
final class Reg_Buffer_Quarantine_CLI {

	const STORE = array(
		'one'   => 'quarantined entry',
		'many'  => 'quarantined entries',
		'list'  => 'wp reg-buffer quarantine list',
		'store' => 'the quarantine',
	);

	/**
	 * Lists the quarantined entries.
	 *
	 * For each: its event, why it was quarantined, whether a retry can work,
	 * and the start of its bytes.
	 *
	 * ## OPTIONS
	 *
	 * [--format=<format>]
	 * : Output format.
	 * ---
	 * default: table
	 * options:
	 *   - table
	 *   - json
	 *   - csv
	 *   - yaml
	 *   - count
	 * ---
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer quarantine list
	 *     $ wp reg-buffer quarantine list --format=json
	 *
	 * @subcommand list
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function list_( $args, $assoc_args ): void {
		$rows = array_map(
			static fn( $e ) => array(
				'entry'     => $e['field'],
				'event'     => $e['event_id'],
				'reason'    => $e['reason'],
				'retryable' => $e['retryable'] ? 'yes' : 'no: ' . $e['problem'],
				'preview'   => $e['preview'],
			),
			self::entries()
		);
		Reg_Buffer_Recovery_CLI::show( $assoc_args, $rows, array( 'entry', 'event', 'reason', 'retryable', 'preview' ) );
	}

	/**
	 * Puts quarantined entries back into the buffer.
	 *
	 * Each is decoded and pushed again (a new id, the time of the retry);
	 * the next flush stores it. An entry whose data cannot be decoded stays:
	 * purge it. With --all and nothing to retry, says so and exits 0.
	 *
	 * ## OPTIONS
	 *
	 * [<entry>...]
	 * : Entries as shown by `list` (<event>:<id>).
	 *
	 * [--all]
	 * : Every entry that can be retried.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer quarantine retry 42:01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *     $ wp reg-buffer quarantine retry --all
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function retry( $args, $assoc_args ): void {
		$fields = Reg_Buffer_Recovery_CLI::chosen(
			'retry',
			$args,
			$assoc_args,
			static fn() => array_column( array_filter( self::entries(), static fn( $e ) => $e['retryable'] ), 'field' ),
			self::STORE
		);
		if ( null !== $fields ) {
			Reg_Buffer_Recovery_CLI::act( 'retry', $fields, array( 'Reg_Buffer_Quarantine', 'retry' ), self::STORE );
		}
	}

	/**
	 * Deletes quarantined entries for good.
	 *
	 * Keep what you need from `list` first. With --all and an empty
	 * quarantine, says so and exits 0.
	 *
	 * ## OPTIONS
	 *
	 * [<entry>...]
	 * : Entries as shown by `list` (<event>:<id>).
	 *
	 * [--all]
	 * : Every entry.
	 *
	 * [--yes]
	 * : Do not ask for confirmation with --all.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer quarantine purge 42:01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *     $ wp reg-buffer quarantine purge --all --yes
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function purge( $args, $assoc_args ): void {
		$fields = Reg_Buffer_Recovery_CLI::chosen( 'purge', $args, $assoc_args, static fn() => array_column( self::entries(), 'field' ), self::STORE );
		if ( null !== $fields ) {
			Reg_Buffer_Recovery_CLI::act( 'purge', $fields, array( 'Reg_Buffer_Quarantine', 'purge' ), self::STORE );
		}
	}

	/**
	 * Every entry (Reg_Buffer_Quarantine::entries()); stops with an error when they cannot be read.
	 */
	private static function entries(): array {
		Reg_Buffer_CLI::require_extension();
		$reason = Reg_Buffer_Quarantine::unavailable_reason();
		if ( null !== $reason ) {
			WP_CLI::error( $reason );
		}
		try {
			return Reg_Buffer_Quarantine::entries( PHP_INT_MAX );
		} catch ( \RuntimeException $e ) {
			WP_CLI::error( 'Redis could not be reached: ' . $e->getMessage() );
		}
		return array();
	}
}
