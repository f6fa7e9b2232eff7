<?php
/**
 * Owns `wp reg-buffer set-aside …` (loaded and registered with class-reg-buffer-cli.php).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Lists, retries and purges set-aside registrations.
 *
 * A registration is set aside when a flush cannot store it: MySQL refused
 * its row, or the fast intake's flush-time checks did. It is kept in its own
 * table, with the error, until it is retried or purged.
 *
 * ## EXAMPLES
 *
 *     $ wp reg-buffer set-aside list
 *     $ wp reg-buffer set-aside retry 01JD3Z7W3M6Y8QK2T5V9XN4B1C
 *     $ wp reg-buffer set-aside purge --all --yes
 */
final class Reg_Buffer_Set_Aside_CLI {

	const STORE = array(
		'one'   => 'set-aside registration',
		'many'  => 'set-aside registrations',
		'list'  => 'wp reg-buffer set-aside list',
		'store' => 'the set-aside table',
	);

	/**
	 * Lists the set-aside registrations.
	 *
	 * For each: its event, when it was registered, its unique key, why it
	 * was set aside, whether a retry can work, and the start of its data.
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
	 *     $ wp reg-buffer set-aside list
	 *     $ wp reg-buffer set-aside list --format=json
	 *
	 * @subcommand list
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function list_( $args, $assoc_args ): void {
		Reg_Buffer_Recovery_CLI::show( $assoc_args, self::described(), array( 'id', 'event', 'registered_at', 'unique_key', 'error', 'retryable', 'preview' ) );
	}

	/**
	 * Registers set-aside registrations again, then removes them.
	 *
	 * Each is validated like any registration (buffered, or written
	 * directly). One that is refused again stays, with the reason shown.
	 * With --all and nothing to retry, says so and exits 0.
	 *
	 * ## OPTIONS
	 *
	 * [<id>...]
	 * : Registration ids as shown by `list`.
	 *
	 * [--all]
	 * : Every one that can be retried.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer set-aside retry 01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *     $ wp reg-buffer set-aside retry --all
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function retry( $args, $assoc_args ): void {
		$ids = Reg_Buffer_Recovery_CLI::chosen(
			'retry',
			$args,
			$assoc_args,
			static fn() => array_column( array_filter( self::described(), static fn( $e ) => 'yes' === $e['retryable'] ), 'id' ),
			self::STORE
		);
		if ( null !== $ids ) {
			Reg_Buffer_Recovery_CLI::act( 'retry', $ids, array( 'Reg_Buffer_Set_Aside', 'retry' ), self::STORE );
		}
	}

	/**
	 * Deletes set-aside registrations for good.
	 *
	 * Keep what you need from `list` first. With --all and nothing set
	 * aside, says so and exits 0.
	 *
	 * ## OPTIONS
	 *
	 * [<id>...]
	 * : Registration ids as shown by `list`.
	 *
	 * [--all]
	 * : Every one.
	 *
	 * [--yes]
	 * : Do not ask for confirmation with --all.
	 *
	 * ## EXAMPLES
	 *
	 *     $ wp reg-buffer set-aside purge 01JD3Z7W3M6Y8QK2T5V9XN4B1C
	 *     $ wp reg-buffer set-aside purge --all --yes
	 *
	 * @param array $args       positional.
	 * @param array $assoc_args options.
	 */
	public function purge( $args, $assoc_args ): void {
		$ids = Reg_Buffer_Recovery_CLI::chosen(
			'purge',
			$args,
			$assoc_args,
			static fn() => array_column( Reg_Buffer_Set_Aside::rows( Reg_Buffer_Set_Aside::MAX_LISTED ), 'id' ),
			self::STORE
		);
		if ( null !== $ids ) {
			Reg_Buffer_Recovery_CLI::act( 'purge', $ids, array( 'Reg_Buffer_Set_Aside', 'purge' ), self::STORE );
		}
	}

	/**
	 * The rows as the list shows them (Reg_Buffer_Set_Aside::describe()).
	 */
	private static function described(): array {
		return array_map( array( 'Reg_Buffer_Set_Aside', 'describe' ), Reg_Buffer_Set_Aside::rows( Reg_Buffer_Set_Aside::MAX_LISTED ) );
	}
}
