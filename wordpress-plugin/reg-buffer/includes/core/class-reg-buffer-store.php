<?php
/**
 * Owns the registrations table: its schema (dbDelta + schema version) and the one insert path used by both the
 * flush and the direct (fallback) write.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Idempotent, transactional batch insert into {$wpdb->prefix}reg_buffer_registrations.
 */
final class Reg_Buffer_Store {

	const SCHEMA_VERSION = '4'; // 2: the set-aside table replaces the reg_buffer_rejected option; 3: status (seats); 4: the set-aside table's status.
	const SCHEMA_OPTION  = 'reg_buffer_schema_version';

	/** Keep each INSERT statement well under MariaDB's default max_allowed_packet (16 MB). */
	const MAX_STATEMENT_BYTES = 4 * MB_IN_BYTES;

	/**
	 * The current site's table name.
	 */
	public static function table(): string {
		global $wpdb;
		return $wpdb->prefix . 'reg_buffer_registrations';
	}

	/**
	 * Creates or upgrades the current site's table when its schema version is not the current one.
	 */
	public static function maybe_install(): void {
		if ( get_option( self::SCHEMA_OPTION ) !== self::SCHEMA_VERSION ) {
			self::install();
		}
	}

	/**
	 * Creates or upgrades the table with dbDelta.
	 */
	public static function install(): void {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$previous = get_option( self::SCHEMA_OPTION );
		if ( '1' === $previous && ! Reg_Buffer_Settings::key_prefix_is_configured() ) {
			// Schema 1 buffered under the shared default prefix `regbuf:`: flush what is left there (a fresh
			// install never looks there: it would take another site's registrations).
			Reg_Buffer_Flusher::add_legacy_prefix( Reg_Buffer_Settings::with_site_suffix( Reg_Buffer_Settings::LEGACY_KEY_PREFIX ) );
		}
		$table = self::table();
		// utf8mb4_bin throughout: unique keys compare byte for byte, as Redis deduplicates them, and it is one of
		// the collations wpdb trusts, so it does not re-scan every multi-row INSERT for "invalid" text (which with
		// mixed or *_unicode_ci columns rejects or strips non-ASCII data).
		dbDelta(
			"CREATE TABLE {$table} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  registration_id varchar(40) NOT NULL,
  event_id bigint(20) unsigned NOT NULL,
  unique_key varchar(191) DEFAULT NULL,
  registered_at datetime(3) NOT NULL,
  data longtext NOT NULL,
  stored_at datetime(3) NOT NULL,
  status varchar(16) NOT NULL DEFAULT 'registered',
  PRIMARY KEY  (id),
  UNIQUE KEY registration_id (registration_id),
  UNIQUE KEY event_unique_key (event_id,unique_key),
  KEY event_registered_at (event_id,registered_at),
  KEY event_status (event_id,status)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
		);
		if ( Reg_Buffer_Set_Aside::install() ) {
			update_option( self::SCHEMA_OPTION, self::SCHEMA_VERSION, true );
		}
	}

	/**
	 * Drops the current site's table (uninstall).
	 */
	public static function uninstall(): void {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . self::table() ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the plugin's own table name, no input.
		delete_option( self::SCHEMA_OPTION );
		Reg_Buffer_Set_Aside::uninstall();
	}

	/**
	 * Stores registrations once each, in one transaction: rows already present (same registration id, or same
	 * event + unique key) are left as they are, so a batch delivered twice changes nothing the second time.
	 *
	 * @param array         $rows       rows shaped like reg_buffer_flush() rows: id, event_id, registered_at,
	 *                                  unique_key, json, and status (registered | waitlisted; registered when absent).
	 * @param callable|null $may_commit asked just before COMMIT; returning false rolls back (e.g. flush lock lost).
	 * @return int|WP_Error how many rows were newly inserted.
	 */
	public static function insert( array $rows, ?callable $may_commit = null ) {
		if ( array() === $rows ) {
			return 0;
		}
		$result = self::in_transaction( $rows, static fn() => self::write( $rows ), $may_commit );
		return is_wp_error( $result ) ? $result : $result['inserted'];
	}

	/**
	 * Like insert(), one row at a time, for a batch whose multi-row INSERT failed: rows MySQL refuses on their
	 * own are set aside in the set-aside table (Reg_Buffer_Set_Aside, same transaction) instead of blocking every
	 * later flush (one bad item at the head blocked Matomo QueuedTracking's queue, its #211). If MySQL itself is
	 * the problem (the table cannot even be read), or a row cannot be set aside either, the batch fails as a
	 * whole (rolled back, not acked): each row of an acked batch is in the table or set aside.
	 *
	 * @return array{inserted:int, rejected:int}|WP_Error
	 */
	public static function insert_each( array $rows, ?callable $may_commit = null ) {
		global $wpdb;
		$work = static function () use ( $rows, $wpdb ) {
			$inserted = 0;
			$rejected = array();
			foreach ( $rows as $row ) {
				// A savepoint per row: a refused row is undone alone; and if the server rolled back the whole
				// transaction (a deadlock does), the savepoint is gone and the batch fails instead of acking
				// rows that were silently undone.
				if ( false === $wpdb->query( 'SAVEPOINT reg_buffer_row' ) ) {
					return self::db_error( 'SAVEPOINT' );
				}
				$result = self::write( array( $row ) );
				if ( is_wp_error( $result ) ) {
					if ( false === $wpdb->query( 'ROLLBACK TO SAVEPOINT reg_buffer_row' ) ) {
						return self::db_error( 'ROLLBACK TO SAVEPOINT' );
					}
					$rejected[] = array(
						'id'            => (string) $row['id'],
						'event_id'      => (int) $row['event_id'],
						'registered_at' => (float) $row['registered_at'],
						'unique_key'    => $row['unique_key'],
						'json'          => (string) $row['json'],
						'status'        => self::booked_status( $row ),
						'error'         => $result->get_error_message(),
					);
					continue;
				}
				$inserted += $result['inserted'];
			}
			if ( array() !== $rejected ) {
				$table = self::table();
				if ( false === $wpdb->query( "SELECT 1 FROM {$table} LIMIT 0" ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
					return self::db_error( 'probe' );
				}
				if ( ! Reg_Buffer_Set_Aside::add( $rejected ) ) {
					return self::db_error( 'set-aside' );
				}
			}
			return array(
				'inserted' => $inserted,
				'rejected' => count( $rejected ),
			);
		};
		return self::in_transaction( $rows, $work, $may_commit );
	}

	/**
	 * Runs $work inside START TRANSACTION … COMMIT.
	 *
	 * @param array         $rows       the rows $work writes (for the before-commit hook).
	 * @param callable      $work       returns array{inserted:int, …} or WP_Error (then ROLLBACK).
	 * @param callable|null $may_commit asked just before COMMIT.
	 * @return array|WP_Error what $work returned.
	 */
	private static function in_transaction( array $rows, callable $work, ?callable $may_commit ) {
		global $wpdb;
		self::strict_mode_on();
		try {
			$connection = self::start_transaction();
			if ( is_wp_error( $connection ) ) {
				return $connection;
			}
			$result = $work();
			if ( is_wp_error( $result ) ) {
				$wpdb->query( 'ROLLBACK' );
				return $result;
			}
			return self::commit( $rows, $result, $connection, $may_commit );
		} finally {
			self::strict_mode_off();
		}
	}

	/**
	 * WordPress takes STRICT_TRANS_TABLES out of the session's sql_mode, so MySQL would silently truncate an
	 * over-long value; for our rows a refusal is better than a changed registration. strict_mode_off() restores.
	 */
	public static function strict_mode_on(): void {
		global $wpdb;
		$wpdb->query( "SET @reg_buffer_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = IF(@@SESSION.sql_mode = '', 'STRICT_TRANS_TABLES', CONCAT(@@SESSION.sql_mode, ',STRICT_TRANS_TABLES'))" );
	}

	/**
	 * Restores the session's sql_mode strict_mode_on() saved.
	 */
	public static function strict_mode_off(): void {
		global $wpdb;
		$wpdb->query( 'SET SESSION sql_mode = @reg_buffer_sql_mode' );
	}

	/**
	 * START TRANSACTION; returns the connection's id, which commit() compares.
	 *
	 * @return string|WP_Error
	 */
	public static function start_transaction() {
		global $wpdb;
		if ( false === $wpdb->query( 'START TRANSACTION' ) ) {
			return self::db_error( 'START TRANSACTION' );
		}
		// wpdb silently reconnects and re-sends a query when the server has gone away: a COMMIT re-sent on a
		// new connection "succeeds" with nothing to commit. Comparing connection ids catches that case, so a
		// batch is never acked on the strength of a commit that did not happen.
		return self::connection_id();
	}

	/**
	 * The id of wpdb's MySQL session: from the mysqli handshake without a round trip when wpdb is WordPress' own
	 * (a reconnect makes a new mysqli object, with the new session's id), else by asking the server.
	 */
	public static function connection_id(): string {
		global $wpdb;
		return self::known_connection_id() ?? (string) $wpdb->get_var( 'SELECT CONNECTION_ID()' );
	}

	/**
	 * connection_id() when it is known without a query (wpdb is WordPress' own), else null.
	 */
	public static function known_connection_id(): ?string {
		$link = self::own_mysqli();
		return null === $link ? null : (string) mysqli_thread_id( $link ); // phpcs:ignore WordPress.DB.RestrictedFunctions.mysql_mysqli_thread_id -- wpdb's own connection, read only.
	}

	/**
	 * The end of a transaction whose writes succeeded: the before-commit hook, $may_commit, COMMIT, and the check
	 * that it was this connection's COMMIT.
	 *
	 * @param array  $rows       the batch.
	 * @param array  $result     what the writes returned (array{inserted:int, …}).
	 * @param string $connection start_transaction()'s connection id.
	 * @return array|WP_Error $result, or why nothing was committed.
	 */
	public static function commit( array $rows, array $result, string $connection, ?callable $may_commit ) {
		global $wpdb;
		/**
		 * Fires inside the transaction, before COMMIT: write your own tables here and they commit (or roll
		 * back) together with the registrations.
		 *
		 * @param array $rows     the batch (rows shaped like reg_buffer_flush() rows).
		 * @param int   $inserted how many of them are new.
		 */
		do_action( 'reg_buffer_before_commit', $rows, $result['inserted'] );
		if ( null !== $may_commit && ! $may_commit() ) {
			$wpdb->query( 'ROLLBACK' );
			return self::lock_lost();
		}
		if ( false === $wpdb->query( 'COMMIT' ) ) {
			return self::rollback( 'COMMIT' );
		}
		if ( self::connection_id() !== $connection ) {
			return new WP_Error( 'reg_buffer_db', __( 'The MySQL connection was replaced during the transaction; its outcome is unknown.', 'reg-buffer' ), array( 'status' => 503 ) );
		}
		return $result;
	}

	/**
	 * The INSERT statements (and the postmeta mirror) for $rows, inside the caller's transaction.
	 *
	 * @return array{inserted:int}|WP_Error
	 */
	private static function write( array $rows ) {
		global $wpdb;
		$mirror = (bool) Reg_Buffer_Settings::get( 'mirror_postmeta' );
		// Which ids exist before the insert: the rest are the ones this transaction inserts (for the mirror).
		$existing = $mirror ? self::existing_ids( $rows ) : array();
		$inserted = 0;
		foreach ( self::statements( $rows ) as $statement ) {
			$result = $wpdb->query( $statement ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- escaped with _real_escape() in statements().
			if ( false === $result ) {
				return self::db_error( 'INSERT' );
			}
			$inserted += (int) $result;
		}
		if ( $mirror && $inserted > 0 ) {
			$new_ids = array_diff( self::existing_ids( $rows ), $existing );
			if ( ! self::mirror_to_postmeta( $rows, array_flip( $new_ids ) ) ) {
				return self::db_error( 'postmeta mirror' );
			}
		}
		return array( 'inserted' => $inserted );
	}

	/**
	 * Whether a registration of this event with this unique key is stored (false when the table cannot be read:
	 * the flush's conflict check is the next line of defence).
	 */
	public static function has_unique_key( int $event_id, string $unique_key ): bool {
		global $wpdb;
		$table = self::table();
		return null !== $wpdb->get_var( $wpdb->prepare( "SELECT 1 FROM {$table} WHERE event_id = %d AND unique_key = %s LIMIT 1", $event_id, $unique_key ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
	}

	/**
	 * Whether a registration with this id is stored.
	 */
	public static function has_registration( string $registration_id ): bool {
		global $wpdb;
		$table = self::table();
		return null !== $wpdb->get_var( $wpdb->prepare( "SELECT id FROM {$table} WHERE registration_id = %s", $registration_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
	}

	/**
	 * How many registrations the current site's table holds.
	 */
	public static function count(): int {
		global $wpdb;
		$table = self::table();
		return (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$table}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
	}

	/**
	 * Multi-row INSERT statements, each below MAX_STATEMENT_BYTES; usually exactly one per batch.
	 *
	 * Each string is escaped as prepare() escapes a %s argument (see escaper(); without prepare()'s per-call format
	 * parsing) and quoted, but for those that cannot hold anything to escape (an id of letters and digits, the
	 * datetime made here); the event id is an int; a missing unique key is a literal NULL. What wpdb::query() sends
	 * is byte for byte what one prepare() per row built before (compared once by bench/experiments/store_statements.php, now in git history).
	 *
	 * @return string[]
	 */
	public static function statements( array $rows ): array {
		$escape = self::escaper();
		$table  = self::table();
		// "ON DUPLICATE KEY UPDATE id = id" keeps duplicates out without INSERT IGNORE's habit of turning real
		// errors (truncation, bad values) into warnings: a real error must fail the batch so it stays un-acked.
		$head       = "INSERT INTO {$table} (registration_id, event_id, unique_key, registered_at, data, stored_at, status) VALUES ";
		$tail       = ' ON DUPLICATE KEY UPDATE id = id';
		$statements = array();
		$tuples     = array();
		$bytes      = 0;
		foreach ( $rows as $row ) {
			$id  = (string) $row['id'];
			$key = $row['unique_key'];
			// An id of letters and digits only (every id the extension makes) needs no escaping; the datetime is
			// made here of digits, '-', ':', ' ' and '.'.
			$tuple    = "('" . ( 1 === preg_match( '/^[0-9A-Za-z]{1,64}$/D', $id ) ? $id : $escape( $id ) ) . "', "
				. (int) $row['event_id'] . ', '
				. ( null === $key || '' === $key ? 'NULL' : "'" . $escape( (string) $key ) . "'" ) . ", '"
				. Reg_Buffer_Registration::to_datetime( (float) $row['registered_at'] ) . "', '"
				. $escape( (string) $row['json'] ) . "', UTC_TIMESTAMP(3), '" . self::booked_status( $row ) . "')";
			$tuples[] = $tuple;
			$bytes   += strlen( $tuple );
			if ( $bytes >= self::MAX_STATEMENT_BYTES ) {
				$statements[] = $head . implode( ',', $tuples ) . $tail;
				$tuples       = array();
				$bytes        = 0;
			}
		}
		if ( array() !== $tuples ) {
			$statements[] = $head . implode( ',', $tuples ) . $tail;
		}
		return $statements;
	}

	/**
	 * The status a new row is stored with: waitlisted when it was booked so, else registered (every row of an event
	 * without capacity; a redelivered row keeps the status its stored copy has since, ON DUPLICATE KEY).
	 *
	 * @param array $row a row to insert.
	 */
	public static function booked_status( array $row ): string {
		return 'waitlisted' === ( $row['status'] ?? null ) ? 'waitlisted' : 'registered';
	}

	/**
	 * The string escaper for statements(): wpdb's own, $wpdb->_real_escape(), unless that is WordPress' mysqli
	 * escaper (see own_mysqli()), which is then called directly — the same mysqli_real_escape_string() on the same
	 * connection, without _real_escape()'s placeholder bookkeeping per call (it marks each % so that a later
	 * prepare() leaves it alone, and wpdb::query() unmarks it before sending).
	 */
	private static function escaper(): callable {
		global $wpdb;
		$link = self::own_mysqli();
		return null === $link ? array( $wpdb, '_real_escape' ) : static fn( string $s ): string => mysqli_real_escape_string( $link, $s ); // phpcs:ignore WordPress.DB.RestrictedFunctions.mysql_mysqli_real_escape_string -- what $wpdb->_real_escape() calls, on its connection (see above).
	}

	/**
	 * wpdb's open mysqli connection when wpdb is WordPress' own (no db.php drop-in overrides how it escapes or
	 * queries), so that the plugin may use it directly as wpdb would (Reg_Buffer_Overlap_Inserter); otherwise null.
	 */
	public static function own_mysqli(): ?mysqli {
		global $wpdb;
		$link = isset( $wpdb->dbh ) ? $wpdb->dbh : null; // Protected; wpdb::__get() reads it.
		if ( ! $link instanceof mysqli || 'wpdb' !== get_class( $wpdb ) ) {
			return null;
		}
		return $link;
	}

	/**
	 * The rows of a stored batch that the table does not hold under their own id, each with the reason, as
	 * Reg_Buffer_Set_Aside::add() takes them: ON DUPLICATE KEY leaves out a row whose (event, unique key) another
	 * registration already holds (one written directly while Redis was down or buffering disabled, which could
	 * not see the buffered one's marker). Both were accepted: the one left out must be set aside, never acked unseen.
	 *
	 * @return array<int,array>|WP_Error
	 */
	public static function rows_not_stored( array $rows ) {
		global $wpdb;
		if ( array() === $rows ) {
			return array();
		}
		$table   = self::table();
		$present = array_flip( self::existing_ids( $rows ) );
		if ( '' !== $wpdb->last_error ) {
			return self::db_error( 'SELECT' );
		}
		$absent = array();
		foreach ( $rows as $row ) {
			if ( isset( $present[ (string) $row['id'] ] ) ) {
				continue;
			}
			$key      = $row['unique_key'] ?? null;
			$holder   = null === $key || '' === $key ? null : $wpdb->get_var( $wpdb->prepare( "SELECT registration_id FROM {$table} WHERE event_id = %d AND unique_key = %s", (int) $row['event_id'], (string) $key ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
			$absent[] = array(
				'id'            => (string) $row['id'],
				'event_id'      => (int) $row['event_id'],
				'registered_at' => (float) $row['registered_at'],
				'unique_key'    => $key,
				'json'          => (string) $row['json'],
				'error'         => null === $holder
					? 'not stored: no row with its id after the INSERT'
					: sprintf( 'not stored: its unique key is already stored for this event by registration %s (written directly while this one was buffered, or before it while Redis could not see it)', $holder ),
			);
		}
		return $absent;
	}

	/**
	 * Registration ids of $rows that the table holds, as seen by this transaction.
	 *
	 * @return string[]
	 */
	private static function existing_ids( array $rows ): array {
		global $wpdb;
		$table = self::table();
		$ids   = array_map( static fn( $row ) => (string) $row['id'], $rows );
		$in    = implode( ',', array_fill( 0, count( $ids ), '%s' ) );
		return $wpdb->get_col( $wpdb->prepare( "SELECT registration_id FROM {$table} WHERE registration_id IN ({$in})", $ids ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQLPlaceholders.UnfinishedPrepare -- $table is the plugin's own table name, $in one %s per id.
	}

	/** Every mirrored field's meta key starts with this: a registrant never names a key of WordPress or a plugin. */
	const MIRROR_META_PREFIX = 'reg_buffer_';

	/**
	 * The postmeta key a registration field is mirrored under: `reg_buffer_` + the field as sanitize_key() makes it,
	 * at most 255 characters. It never starts with `_`, so protected meta (`_thumbnail_id`, `_wp_page_template`,
	 * page-builder data) cannot be written by a registrant.
	 */
	public static function mirror_meta_key( $field ): string {
		return substr( self::MIRROR_META_PREFIX . sanitize_key( (string) $field ), 0, 255 );
	}

	/**
	 * Copies the fields of newly inserted registrations into their event's postmeta, as the seed snippet did, each
	 * under mirror_meta_key() (`email` → `reg_buffer_email`).
	 * Scalars are stored as text, arrays as JSON, each through maybe_serialize() as add_post_meta() stores them: a
	 * value that merely looks serialized (`O:8:"stdClass":…`, posted by anyone) is serialized once more, so
	 * get_post_meta() gives the string back instead of unserializing an attacker's object.
	 *
	 * @param array               $rows    the batch.
	 * @param array<string,mixed> $new_ids ids (as keys) inserted by this transaction.
	 */
	private static function mirror_to_postmeta( array $rows, array $new_ids ): bool {
		global $wpdb;
		$tuples = array();
		$events = array();
		foreach ( $rows as $row ) {
			if ( ! isset( $new_ids[ $row['id'] ] ) ) {
				continue;
			}
			$event_id            = (int) $row['event_id'];
			$events[ $event_id ] = true;
			$data                = is_array( $row['data'] ?? null ) ? $row['data'] : json_decode( (string) $row['json'], true );
			$tuples[]            = $wpdb->prepare( '(%d, %s, %s)', $event_id, '_reg_buffer_registration_id', $row['id'] );
			foreach ( (array) $data as $field => $value ) {
				$meta_value = is_array( $value ) ? wp_json_encode( $value ) : ( is_bool( $value ) ? ( $value ? '1' : '0' ) : (string) $value );
				$tuples[]   = $wpdb->prepare( '(%d, %s, %s)', $event_id, self::mirror_meta_key( $field ), maybe_serialize( $meta_value ) );
			}
		}
		if ( array() === $tuples ) {
			return true;
		}
		$ok = false !== $wpdb->query( "INSERT INTO {$wpdb->postmeta} (post_id, meta_key, meta_value) VALUES " . implode( ',', $tuples ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- each tuple was made by $wpdb->prepare() above.
		foreach ( array_keys( $events ) as $event_id ) {
			wp_cache_delete( $event_id, 'post_meta' );
		}
		return $ok;
	}

	/**
	 * Why a batch was not committed: the flush lock was lost (also Reg_Buffer_Overlap_Inserter's answer).
	 */
	public static function lock_lost(): WP_Error {
		return new WP_Error( 'reg_buffer_lock_lost', __( 'The flush lock was lost before commit; the batch was rolled back.', 'reg-buffer' ) );
	}

	private static function rollback( string $step ): WP_Error {
		global $wpdb;
		$error = self::db_error( $step );
		$wpdb->query( 'ROLLBACK' );
		return $error;
	}

	/**
	 * The error wpdb's last query left, for $step.
	 *
	 * @param string $step what was being done.
	 */
	public static function db_error( string $step ): WP_Error {
		global $wpdb;
		return new WP_Error( 'reg_buffer_db', sprintf( 'MySQL error during %s: %s', $step, $wpdb->last_error ), array( 'status' => 503 ) );
	}
}
