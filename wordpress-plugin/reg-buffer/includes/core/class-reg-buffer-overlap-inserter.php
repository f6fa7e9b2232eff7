<?php
/**
 * Owns the overlapped INSERT: a batch's INSERT sent without waiting (MYSQLI_ASYNC on wpdb's own connection), so
 * that the flusher's Redis work (ack the batch before, claim the next) runs while MariaDB inserts.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reg_Buffer_Inserter with Redis time and MySQL time overlapping instead of adding up.
 *
 * The batch is one statement, atomic on its own. When nothing listens to reg_buffer_before_commit and the
 * statement can carry its strict sql_mode itself (MariaDB's SET STATEMENT … FOR), it runs alone in autocommit:
 * the flush lock is asked before it is sent (its check needs no query: see Reg_Buffer_Flush_Lock::still_held())
 * and no other round trip is made. Otherwise it runs as Reg_Buffer_Store::insert() does: START TRANSACTION, the
 * INSERT, then after it the before-commit hook, the lock check and COMMIT.
 *
 * A batch that cannot be sent that way (a db.php drop-in or another driver, the postmeta mirror, a batch of more
 * than one statement) takes the plain path, and $meanwhile is not called.
 */
final class Reg_Buffer_Overlap_Inserter extends Reg_Buffer_Inserter {
	// phpcs:disable WordPress.DB.RestrictedFunctions -- wpdb has no query that returns before MySQL is done: the overlap is mysqli's async API, on wpdb's own connection.

	/**
	 * The one INSERT statement for $rows, or null when the batch takes the plain path. Makes no query (strings are
	 * escaped by the client library), so it may run while an INSERT is in flight.
	 *
	 * @param array $rows the rows of a batch whose screen changes nothing.
	 * @return string[]|null
	 */
	public function prepare( array $rows ) {
		if ( array() === $rows || Reg_Buffer_Settings::get( 'mirror_postmeta' ) || null === Reg_Buffer_Store::own_mysqli() ) {
			return null;
		}
		$statements = Reg_Buffer_Store::statements( $rows );
		return 1 === count( $statements ) ? $statements : null;
	}

	/**
	 * Sends the INSERT, runs $meanwhile while MariaDB works on it, then waits for it (and commits).
	 *
	 * @param array         $rows      as for Reg_Buffer_Inserter::insert().
	 * @param callable      $meanwhile called once the INSERT is in flight; nothing in it may query the database.
	 * @param string[]|null $prepared  prepare( $rows ), when the flusher built it ahead.
	 * @return int|WP_Error
	 */
	public function insert( array $rows, callable $meanwhile, $prepared = null ) {
		$insert = $this->send( $rows, $prepared ?? $this->prepare( $rows ) );
		if ( ! is_array( $insert ) ) {
			return $insert; // Not sent without waiting: the plain path's result.
		}
		$meanwhile();
		return $this->reap( $insert );
	}

	/**
	 * Sends the batch's INSERT without waiting; or, when it cannot, stores the batch the plain way.
	 *
	 * @param array         $rows       the batch.
	 * @param string[]|null $statements its one statement, or null.
	 * @return array|int|WP_Error the INSERT in flight (for reap()), or the plain path's result.
	 */
	private function send( array $rows, ?array $statements ) {
		global $wpdb;
		$link = Reg_Buffer_Store::own_mysqli();
		if ( null === $statements || null === $link ) {
			return parent::insert( $rows, '__return_null' );
		}
		$statement  = self::with_strict_mode( $link, $statements[0] );
		$autocommit = null !== $statement && ! has_action( 'reg_buffer_before_commit' );
		if ( $autocommit ) {
			if ( null !== $this->may_commit && ! ( $this->may_commit )() ) {
				return Reg_Buffer_Store::lock_lost();
			}
			$connection = ''; // Not compared: the statement commits itself, on the connection it is sent on.
		} else {
			if ( null === $statement ) {
				Reg_Buffer_Store::strict_mode_on();
			}
			$connection = Reg_Buffer_Store::start_transaction();
			// Taken after the queries above: wpdb replaces its mysqli object when it reconnects.
			$link = Reg_Buffer_Store::own_mysqli();
			if ( is_wp_error( $connection ) || null === $link ) {
				if ( null === $statement ) {
					Reg_Buffer_Store::strict_mode_off();
				}
				return is_wp_error( $connection ) ? $connection : Reg_Buffer_Store::db_error( 'INSERT' );
			}
		}
		$strict_set = null === $statement;
		try {
			$sent = false !== mysqli_query( $link, $statement ?? $statements[0], MYSQLI_ASYNC );
		} catch ( mysqli_sql_exception $e ) {
			$sent = false;
		}
		if ( $sent ) {
			return compact( 'rows', 'connection', 'link', 'autocommit', 'strict_set' );
		}
		$error = self::link_error( $link );
		if ( ! $autocommit ) {
			$wpdb->query( 'ROLLBACK' );
		}
		if ( $strict_set ) {
			Reg_Buffer_Store::strict_mode_off();
		}
		return $error;
	}

	/**
	 * Waits for the INSERT send() left in flight: how many rows were new, or a WP_Error (rolled back).
	 *
	 * @param array $insert what send() returned.
	 * @return int|WP_Error
	 */
	private function reap( array $insert ) {
		global $wpdb;
		try {
			$done = mysqli_reap_async_query( $insert['link'] );
		} catch ( mysqli_sql_exception $e ) {
			$done = false;
		}
		if ( false === $done ) {
			// A statement that fails in autocommit leaves nothing behind; inside the transaction, roll it back.
			$result = self::link_error( $insert['link'] );
			if ( ! $insert['autocommit'] ) {
				$wpdb->query( 'ROLLBACK' );
			}
		} elseif ( $insert['autocommit'] ) {
			// Committed with the statement, on the connection it was sent on (nothing could replace it meanwhile).
			$result = array( 'inserted' => (int) mysqli_affected_rows( $insert['link'] ) );
		} else {
			$result = Reg_Buffer_Store::commit( $insert['rows'], array( 'inserted' => (int) mysqli_affected_rows( $insert['link'] ) ), $insert['connection'], $this->may_commit );
		}
		if ( $insert['strict_set'] ) {
			Reg_Buffer_Store::strict_mode_off();
		}
		return is_wp_error( $result ) ? $result : $result['inserted'];
	}

	/**
	 * $statement carrying the strict sql_mode itself, so that it needs no SET before and after: MariaDB's
	 * `SET STATEMENT sql_mode = '…' FOR …` (10.2 on), with the session's own modes plus STRICT_TRANS_TABLES. The
	 * session's sql_mode is read once per connection (one query, the first time). Null on another server (then
	 * Reg_Buffer_Store::strict_mode_on() / strict_mode_off() set it around the transaction).
	 *
	 * @param mysqli $link      wpdb's connection.
	 * @param string $statement the INSERT.
	 */
	private static function with_strict_mode( mysqli $link, string $statement ): ?string {
		static $modes = array(); // Connection id => the strict sql_mode, or false where SET STATEMENT cannot carry it.
		$connection   = (string) mysqli_thread_id( $link );
		if ( ! isset( $modes[ $connection ] ) ) {
			$modes[ $connection ] = false;
			if ( 1 === preg_match( '/(\d+)\.(\d+)\.\d+-MariaDB/', (string) mysqli_get_server_info( $link ), $v ) && ( (int) $v[1] > 10 || ( 10 === (int) $v[1] && (int) $v[2] >= 2 ) ) ) {
				try {
					$read = mysqli_query( $link, 'SELECT @@SESSION.sql_mode' );
					$mode = false === $read ? null : (string) mysqli_fetch_row( $read )[0];
				} catch ( mysqli_sql_exception $e ) {
					$mode = null;
				}
				if ( null !== $mode && 1 === preg_match( '/^[A-Z_,]*$/D', $mode ) ) {
					$strict               = in_array( 'STRICT_TRANS_TABLES', explode( ',', $mode ), true ) ? $mode : ltrim( $mode . ',STRICT_TRANS_TABLES', ',' );
					$modes[ $connection ] = "SET STATEMENT sql_mode = '{$strict}' FOR ";
				}
			}
		}
		return false === $modes[ $connection ] ? null : $modes[ $connection ] . $statement;
	}

	/**
	 * The INSERT sent on the mysqli connection itself failed (wpdb's last_error does not have it).
	 *
	 * @param mysqli $link the connection.
	 */
	private static function link_error( mysqli $link ): WP_Error {
		return new WP_Error( 'reg_buffer_db', sprintf( 'MySQL error during %s: %s', 'INSERT', mysqli_error( $link ) ), array( 'status' => 503 ) );
	}
	// phpcs:enable WordPress.DB.RestrictedFunctions
}
