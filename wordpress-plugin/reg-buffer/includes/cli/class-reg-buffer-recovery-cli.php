<?php
/**
 * Owns what `wp reg-buffer quarantine` and `wp reg-buffer set-aside` have in common: the list, and retry or purge
 * of named entries or of all of them.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The list and the actions of a store of registrations an operator fixes by hand (the quarantine, the set-aside
 * table). Each command class describes its store with an array:
 *
 *     one     noun for one item ('quarantined entry')
 *     many    noun for several ('quarantined entries')
 *     list    the command that lists them ('wp reg-buffer quarantine list')
 *     store   the store's name in a sentence ('the quarantine')
 */
final class Reg_Buffer_Recovery_CLI {

	/**
	 * Prints $rows in the --format asked for (table, csv, json, yaml or count).
	 *
	 * @param array    $assoc_args the command's options.
	 * @param array    $rows       one array per item.
	 * @param string[] $fields     the columns, in order.
	 */
	public static function show( array $assoc_args, array $rows, array $fields ): void {
		WP_CLI\Utils\format_items( (string) ( $assoc_args['format'] ?? 'table' ), $rows, $fields );
	}

	/**
	 * The items to act on: every one of $all_ids with --all (after asking, for a purge), else those named. Nothing
	 * to do with --all is a success: it says so and ends the command.
	 *
	 * @param string   $what       retry | purge.
	 * @param array    $args       the named items.
	 * @param array    $assoc_args the command's options (--all, --yes).
	 * @param callable $all_ids    returns every item --all means.
	 * @param array    $store      see the class.
	 * @return string[]|null the items, or null when there is nothing to do.
	 */
	public static function chosen( string $what, array $args, array $assoc_args, callable $all_ids, array $store ): ?array {
		if ( empty( $assoc_args['all'] ) ) {
			if ( array() === $args ) {
				WP_CLI::error( sprintf( 'Name %s (see `%s`) or use --all.', $store['many'], $store['list'] ) );
			}
			return array_map( 'strval', $args );
		}
		$ids = array_map( 'strval', $all_ids() );
		if ( array() === $ids ) {
			WP_CLI::success(
				'retry' === $what
					? sprintf( 'Nothing to retry: %s holds nothing that can be retried.', $store['store'] )
					: sprintf( 'Nothing to purge: %s is empty.', $store['store'] )
			);
			return null;
		}
		if ( 'purge' === $what ) {
			WP_CLI::confirm( sprintf( 'Delete %s for good?', self::count_of( count( $ids ), $store ) ), $assoc_args );
		}
		return $ids;
	}

	/**
	 * Retries or purges each of $ids with $action (returns Reg_Buffer_Operator_Action::result()); an item that
	 * fails is a warning, and any failure makes the command fail at the end.
	 *
	 * @param string   $what   retry | purge.
	 * @param string[] $ids    the items.
	 * @param callable $action one item => result.
	 * @param array    $store  see the class.
	 */
	public static function act( string $what, array $ids, callable $action, array $store ): void {
		$failed = 0;
		foreach ( $ids as $id ) {
			$result = $action( $id );
			if ( $result['ok'] ) {
				WP_CLI::log( $result['message'] );
			} else {
				++$failed;
				WP_CLI::warning( "{$id}: {$result['message']}" );
			}
		}
		$done = 'retry' === $what ? 'retried' : 'purged';
		if ( $failed > 0 ) {
			WP_CLI::error( sprintf( '%d of %s could not be %s.', $failed, self::count_of( count( $ids ), $store ), $done ) );
		}
		WP_CLI::success( sprintf( '%s %s.', self::count_of( count( $ids ), $store ), $done ) );
	}

	/**
	 * "1 quarantined entry", "2 quarantined entries".
	 *
	 * @param int   $count how many.
	 * @param array $store see the class.
	 */
	private static function count_of( int $count, array $store ): string {
		return Reg_Buffer_CLI::count_of( $count, $store['one'], $store['many'] );
	}
}
