<?php
/**
 * Owns the set-aside store: registrations that were claimed from the buffer but cannot be stored (MySQL refused
 * the row, or the fast intake's flush-time screen refused it), one row each in {$wpdb->prefix}reg_buffer_set_aside,
 * listed, retried and purged by an operator.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * A batch may be acknowledged only when each of its rows is in the registrations table or here: add() says
 * whether every row it was given is durably here. The bytes of the unique key and the data are kept as they came
 * (binary columns, sent as hex literals): a row MySQL refused for its bytes must not be refused again here.
 */
final class Reg_Buffer_Set_Aside {

	/** The option that held set-aside rows before this table (migrated into it, then deleted). */
	const LEGACY_OPTION = 'reg_buffer_rejected';

	/** The longest error message kept (the column is TEXT). */
	const MAX_ERROR_CHARS = 2000;

	/** How many rows list() returns at most. */
	const MAX_LISTED = 10000;

	/**
	 * The current site's table name.
	 */
	public static function table(): string {
		global $wpdb;
		return $wpdb->prefix . 'reg_buffer_set_aside';
	}

	/**
	 * Creates or upgrades the table (called from Reg_Buffer_Store::install()), then moves the rows of the old
	 * `reg_buffer_rejected` option into it.
	 *
	 * @return bool false when the option's rows could not all be moved (the schema upgrade is tried again).
	 */
	public static function install(): bool {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$table = self::table();
		dbDelta(
			"CREATE TABLE {$table} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  registration_id varbinary(191) NOT NULL,
  event_id bigint(20) unsigned NOT NULL,
  registered_at datetime(3) NOT NULL,
  unique_key blob DEFAULT NULL,
  data longblob NOT NULL,
  error text NOT NULL,
  set_aside_at datetime(3) NOT NULL,
  status varchar(16) NOT NULL DEFAULT 'registered',
  PRIMARY KEY  (id),
  UNIQUE KEY registration_id (registration_id),
  KEY event_id (event_id),
  KEY event_status (event_id,status)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
		);
		return self::migrate_option();
	}

	/**
	 * Moves the rows of the `reg_buffer_rejected` option (plugin versions before this table) into the table, and
	 * deletes the option only when every one of them is there.
	 */
	public static function migrate_option(): bool {
		global $wpdb;
		$raw = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", self::LEGACY_OPTION ) );
		if ( null === $raw ) {
			return true;
		}
		$rows = maybe_unserialize( (string) $raw );
		$rows = is_array( $rows ) ? array_values( array_filter( $rows, 'is_array' ) ) : array();
		foreach ( $rows as $i => $row ) {
			if ( ! isset( $row['id'] ) || '' === (string) $row['id'] ) {
				$rows[ $i ]['id'] = 'legacy-' . md5( serialize( $row ) ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.serialize_serialize -- a name for a row that had none.
			}
		}
		if ( array() !== $rows && ! self::add( $rows ) ) {
			error_log( 'reg_buffer: the reg_buffer_rejected option could not be moved into ' . self::table() . '; it is kept and tried again' ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- the PHP error log is where the plugin reports to operators.
			return false;
		}
		delete_option( self::LEGACY_OPTION );
		return true;
	}

	/**
	 * Drops the current site's table (uninstall), and the old option if it is still there.
	 */
	public static function uninstall(): void {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . self::table() ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the plugin's own table name, no input.
		delete_option( self::LEGACY_OPTION );
	}

	/**
	 * Sets rows aside: one table row each, once per registration id (a redelivered batch adds nothing).
	 *
	 * Runs in the caller's transaction when there is one (the flush's insert_each(): then the rows are durable
	 * with its COMMIT, which the flush checks), else each INSERT commits itself (the fast intake's screen).
	 *
	 * @param array $rows each: id, event_id, registered_at (Unix seconds), unique_key (string|null), json, error.
	 * @return bool true only when every row is in the table (as this session sees it); false on any failure.
	 */
	public static function add( array $rows ): bool {
		global $wpdb;
		if ( array() === $rows ) {
			return true;
		}
		$table = self::table();
		$ids   = array();
		foreach ( $rows as $row ) {
			if ( ! is_array( $row ) || ! isset( $row['id'] ) || '' === (string) $row['id'] ) {
				return false; // Nothing to find it by: it cannot be set aside, so its batch must not be acked.
			}
			$id         = (string) $row['id'];
			$ids[ $id ] = true;
			$key        = $row['unique_key'] ?? null;
			$error      = self::text( (string) ( $row['error'] ?? '' ) );
			// Every value is ASCII (hex literals, digits, a datetime made here), so wpdb sends the statement as
			// it is: no charset check can strip or refuse bytes the registration had.
			// A set-aside registration of an event with a capacity keeps its place (seat or waitlist) until purged.
			$statement = "INSERT INTO {$table} (registration_id, event_id, registered_at, unique_key, data, error, set_aside_at, status) VALUES ("
				. self::hex( $id ) . ', '
				. max( 0, (int) ( $row['event_id'] ?? 0 ) ) . ", '"
				. Reg_Buffer_Registration::to_datetime( (float) ( $row['registered_at'] ?? 0 ) ) . "', "
				. ( null === $key ? 'NULL' : self::hex( (string) $key ) ) . ', '
				. self::hex( (string) ( $row['json'] ?? '' ) ) . ', '
				. self::hex( $error ) . ", UTC_TIMESTAMP(3), '" . Reg_Buffer_Store::booked_status( $row ) . "') ON DUPLICATE KEY UPDATE id = id";
			if ( false === $wpdb->query( $statement ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- only hex literals and numbers.
				return false;
			}
		}
		// Read back: true only when this session sees every id (inside a transaction: its own writes).
		$found = 0;
		foreach ( array_chunk( array_keys( $ids ), 500 ) as $chunk ) {
			$in    = implode( ',', array_map( array( __CLASS__, 'hex' ), array_map( 'strval', $chunk ) ) );
			$count = $wpdb->get_var( "SELECT COUNT(*) FROM {$table} WHERE registration_id IN ({$in})" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name, $in only hex literals.
			if ( null === $count ) {
				return false;
			}
			$found += (int) $count;
		}
		return count( $ids ) === $found;
	}

	/**
	 * How many rows are set aside (null when the table cannot be read).
	 */
	public static function count(): ?int {
		global $wpdb;
		$table = self::table();
		$wpdb->suppress_errors( true );
		$count = $wpdb->get_var( "SELECT COUNT(*) FROM {$table}" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
		$wpdb->suppress_errors( false );
		return null === $count ? null : (int) $count;
	}

	/**
	 * Set-aside rows, oldest first: id (the registration id, its name for retry and purge), event_id,
	 * registered_at, unique_key, json, error, set_aside_at.
	 *
	 * @param int $limit at most this many (and MAX_LISTED).
	 * @return array<int,array{id:string,event_id:int,registered_at:string,unique_key:?string,json:string,error:string,set_aside_at:string}>
	 */
	public static function rows( int $limit = 200 ): array {
		global $wpdb;
		$table = self::table();
		$rows  = $wpdb->get_results( $wpdb->prepare( "SELECT registration_id, event_id, registered_at, unique_key, data, error, set_aside_at FROM {$table} ORDER BY id LIMIT %d", max( 1, min( $limit, self::MAX_LISTED ) ) ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $table is the plugin's own table name.
		return array_map( array( __CLASS__, 'shape' ), (array) $rows );
	}

	/**
	 * One set-aside row by registration id, or null.
	 */
	public static function get( string $id ): ?array {
		global $wpdb;
		$table = self::table();
		$row   = $wpdb->get_row( "SELECT registration_id, event_id, registered_at, unique_key, data, error, set_aside_at, status FROM {$table} WHERE registration_id = " . self::hex( $id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQL.NotPrepared -- $table is the plugin's own table name, hex() a hex literal.
		return is_array( $row ) ? self::shape( $row ) : null;
	}

	/**
	 * What a row is, for the list: the stored fields plus a printable preview and whether a retry can work.
	 */
	public static function describe( array $row ): array {
		$problem = self::retry_problem( $row );
		return array(
			'id'            => $row['id'],
			'event'         => $row['event_id'],
			'registered_at' => $row['registered_at'],
			'unique_key'    => null === $row['unique_key'] ? '' : Reg_Buffer_Operator_Action::printable( $row['unique_key'], 120 ),
			'error'         => $row['error'],
			'set_aside_at'  => $row['set_aside_at'],
			'retryable'     => null === $problem ? 'yes' : 'no: ' . $problem,
			'preview'       => Reg_Buffer_Operator_Action::printable( $row['json'], 300 ),
		);
	}

	/**
	 * Stores a set-aside row in the registrations table under its own id (it was accepted under that id, and a
	 * unique key's marker in Redis names it), validated as any registration is, then removes it. An intake
	 * registration is stored as the flush stores one (marker removed, strings sanitised). A named MySQL lock keeps
	 * two operators from doing it at once.
	 *
	 * @return array{ok:bool, message:string, id:?string}
	 */
	public static function retry( string $id ): array {
		return self::locked(
			$id,
			static function () use ( $id ) {
				$row = self::get( $id );
				if ( null === $row ) {
					return Reg_Buffer_Operator_Action::result( false, __( 'No such set-aside registration: it was already retried or purged.', 'reg-buffer' ) );
				}
				$problem = self::retry_problem( $row );
				if ( null !== $problem ) {
					/* translators: %s: why */
					return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'Cannot retry: %s. Purge it (its bytes are shown in the list).', 'reg-buffer' ), $problem ) );
				}
				$data  = Reg_Buffer_Intake::stored_form( json_decode( $row['json'], true, 64 ) );
				$valid = Reg_Buffer_Registration::check_identity( $row['event_id'], $row['unique_key'] );
				$json  = is_wp_error( $valid ) ? $valid : Reg_Buffer_Registration::to_json( $data );
				if ( is_wp_error( $json ) ) {
					/* translators: %s: error message */
					return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'Refused again: %s', 'reg-buffer' ), $json->get_error_message() ) );
				}
				$inserted = Reg_Buffer_Store::insert(
					array(
						array(
							'id'            => $id,
							'event_id'      => $row['event_id'],
							'registered_at' => self::unix( $row['registered_at'] ),
							'unique_key'    => $row['unique_key'],
							'data'          => $data,
							'json'          => $json,
							'status'        => $row['status'], // Its seat (or waitlist place) was kept while it was set aside.
						),
					)
				);
				if ( is_wp_error( $inserted ) ) {
					/* translators: %s: error message */
					return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'Refused again: %s', 'reg-buffer' ), $inserted->get_error_message() ) );
				}
				if ( 0 === $inserted && ! Reg_Buffer_Store::has_registration( $id ) ) {
					return Reg_Buffer_Operator_Action::result( false, __( 'Another registration with the same unique key is already stored for this event: this one is a duplicate. Purge it.', 'reg-buffer' ) );
				}
				if ( ! self::delete( $id ) ) {
					/* translators: %s: registration id */
					return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'Stored as %s, but the set-aside row could not be removed: purge it (do not retry it).', 'reg-buffer' ), $id ) );
				}
				Reg_Buffer_Operator_Action::log( sprintf( 'set-aside registration %s retried: stored', $id ) );
				/* translators: %s: registration id */
				return Reg_Buffer_Operator_Action::result( true, sprintf( __( 'Set-aside registration %s was registered again: stored under its own id.', 'reg-buffer' ), $id ), $id );
			}
		);
	}

	/**
	 * A DATETIME(3) in UTC as Unix seconds.
	 */
	private static function unix( string $datetime ): float {
		$at = DateTimeImmutable::createFromFormat( 'Y-m-d H:i:s.v', $datetime, new DateTimeZone( 'UTC' ) );
		if ( false === $at ) {
			$at = DateTimeImmutable::createFromFormat( 'Y-m-d H:i:s', $datetime, new DateTimeZone( 'UTC' ) );
		}
		return false === $at ? microtime( true ) : (float) $at->format( 'U.v' );
	}

	/**
	 * Deletes a set-aside row for good.
	 *
	 * @return array{ok:bool, message:string, id:?string}
	 */
	public static function purge( string $id ): array {
		return self::locked(
			$id,
			static function () use ( $id ) {
				if ( null === self::get( $id ) ) {
					return Reg_Buffer_Operator_Action::result( false, __( 'No such set-aside registration: it was already retried or purged.', 'reg-buffer' ) );
				}
				$row = self::get( $id );
				if ( ! self::delete( $id ) ) {
					return Reg_Buffer_Operator_Action::result( false, __( 'MySQL refused to delete it; try again.', 'reg-buffer' ) );
				}
				if ( null !== $row && null !== Reg_Buffer_Seats::capacity( $row['event_id'] ) ) {
					// It will never be stored: the place it kept goes back (a seat may pass to the first waiter).
					Reg_Buffer_Seats::release( $row['event_id'], 'waitlisted' === $row['status'] );
				}
				Reg_Buffer_Operator_Action::log( sprintf( 'set-aside registration %s purged', $id ) );
				/* translators: %s: registration id */
				return Reg_Buffer_Operator_Action::result( true, sprintf( __( 'Set-aside registration %s was purged.', 'reg-buffer' ), $id ) );
			}
		);
	}

	/**
	 * Why a retry cannot work (the data is not JSON of an array, or not UTF-8), or null.
	 */
	private static function retry_problem( array $row ): ?string {
		if ( $row['event_id'] <= 0 ) {
			return __( 'it names no event', 'reg-buffer' );
		}
		if ( ! Reg_Buffer_Operator_Action::is_utf8( $row['json'] ) ) {
			return __( 'the data is not valid UTF-8', 'reg-buffer' );
		}
		if ( ! is_array( json_decode( $row['json'], true, 64 ) ) ) {
			return __( 'the data is not JSON of an array', 'reg-buffer' );
		}
		if ( null !== $row['unique_key'] && ! Reg_Buffer_Operator_Action::is_utf8( $row['unique_key'] ) ) {
			return __( 'the unique key is not valid UTF-8', 'reg-buffer' );
		}
		return null;
	}

	private static function delete( string $id ): bool {
		global $wpdb;
		$table = self::table();
		return false !== $wpdb->query( "DELETE FROM {$table} WHERE registration_id = " . self::hex( $id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQL.NotPrepared -- $table is the plugin's own table name, hex() a hex literal.
	}

	/**
	 * A database row as add() was given it.
	 */
	private static function shape( array $row ): array {
		return array(
			'id'            => (string) $row['registration_id'],
			'event_id'      => (int) $row['event_id'],
			'registered_at' => (string) $row['registered_at'],
			'unique_key'    => null === $row['unique_key'] ? null : (string) $row['unique_key'],
			'json'          => (string) $row['data'],
			'error'         => (string) $row['error'],
			'set_aside_at'  => (string) $row['set_aside_at'],
			'status'        => Reg_Buffer_Store::booked_status( $row ),
		);
	}

	/**
	 * A MySQL hex literal of $bytes (X'' for the empty string).
	 */
	private static function hex( string $bytes ): string {
		return "X'" . bin2hex( $bytes ) . "'";
	}

	/**
	 * An error message as valid UTF-8 of at most MAX_ERROR_CHARS characters (it may quote the refused bytes).
	 */
	private static function text( string $message ): string {
		$message = mb_scrub( $message, 'UTF-8' );
		return mb_strlen( $message, 'UTF-8' ) > self::MAX_ERROR_CHARS ? mb_substr( $message, 0, self::MAX_ERROR_CHARS, 'UTF-8' ) . '…' : $message;
	}

	/**
	 * Runs $work holding a MySQL named lock for this row, so a double click never registers it twice.
	 */
	private static function locked( string $id, callable $work ): array {
		if ( '' === $id ) {
			return Reg_Buffer_Operator_Action::result( false, __( 'Name a set-aside registration by its id (see the list).', 'reg-buffer' ) );
		}
		return Reg_Buffer_Operator_Action::under_lock(
			'reg_buffer_sa:' . md5( DB_NAME . '|' . self::table() . '|' . $id ),
			__( 'Someone else is acting on this registration right now; try again.', 'reg-buffer' ),
			$work
		);
	}
}
