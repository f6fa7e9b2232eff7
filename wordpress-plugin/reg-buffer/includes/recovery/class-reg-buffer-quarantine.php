<?php
/**
 * Owns the quarantine: lists, retries and purges the entries the extension set aside, through its quarantine API
 * (reg_buffer_quarantined(), reg_buffer_retry_quarantined(), reg_buffer_purge_quarantined()), so it works on one
 * Redis server and on every shard of a Redis Cluster alike, and never reads a key by name.
 *
 * An entry is named `<event>:<id>`. The extension reads what it can of the entry's stored bytes (a registration the
 * flush could not decode, or a legacy snippet's element `import-legacy` could not read): its kind, unique key,
 * registration time and JSON. Whether that is worth buffering again is this class's policy; the extension buffers
 * the recovered registration again and removes the entry in one step.
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Quarantine entries: list, retry (decode what can be decoded and push it again), purge.
 */
final class Reg_Buffer_Quarantine {

	/** How many bytes of an entry the list shows. */
	const PREVIEW_BYTES = 300;

	/** The most entries one request reads. */
	const MAX_LISTED = 10000;

	/**
	 * Whether the quarantine can be managed here: the extension is loaded (also under REG_BUFFER_DISABLED: a
	 * retried entry is flushed like the rest of what Redis holds).
	 */
	public static function is_manageable(): bool {
		return Reg_Buffer_Bridge::is_loaded();
	}

	/**
	 * Why it cannot be managed, in words (null when it can).
	 */
	public static function unavailable_reason(): ?string {
		if ( ! Reg_Buffer_Bridge::is_loaded() ) {
			return __( 'The reg_buffer extension is not loaded on this site.', 'reg-buffer' );
		}
		return null;
	}

	/**
	 * Entries, sorted by event and id (oldest first within an event); at most $limit (and MAX_LISTED).
	 *
	 * @param int $limit at most this many.
	 * @return array<int,array{field:string,event_id:int,id:string,reason:string,kind:string,preview:string,retryable:bool,problem:?string,bytes:int}>
	 * @throws \RegBuffer\Exception when Redis cannot be reached.
	 */
	public static function entries( int $limit = 200 ): array {
		$out = array();
		foreach ( Reg_Buffer_Bridge::quarantined( max( 1, min( $limit, self::MAX_LISTED ) ) ) as $row ) {
			$out[] = self::describe( $row );
		}
		return $out;
	}

	/**
	 * How many entries there are.
	 */
	public static function count(): int {
		return (int) ( Reg_Buffer_Bridge::stats()['quarantined'] ?? 0 );
	}

	/**
	 * One entry as reg_buffer_quarantined() gives it, or null when there is none of that name.
	 */
	private static function find( string $field ): ?array {
		foreach ( Reg_Buffer_Bridge::quarantined( self::MAX_LISTED ) as $row ) {
			if ( $row['entry'] === $field ) {
				return $row;
			}
		}
		return null;
	}

	/**
	 * Puts a quarantined entry back into the buffer: decodes what can be recovered and hands it to
	 * reg_buffer_retry_quarantined(), which buffers it under its own id (a copy already in the table is then
	 * stored once) and removes the entry in one step.
	 *
	 * @param string $field `<event>:<id>`.
	 * @return array{ok:bool, message:string, id:?string}
	 */
	public static function retry( string $field ): array {
		return self::locked(
			$field,
			static function () use ( $field ) {
				$row = self::find( $field );
				if ( null === $row ) {
					return Reg_Buffer_Operator_Action::result( false, __( 'No such entry: it was already retried or purged.', 'reg-buffer' ) );
				}
				$entry = self::describe( $row );
				if ( ! $entry['retryable'] ) {
					/* translators: %s: why */
					return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'Cannot retry: %s. Purge it (its bytes are shown in the list).', 'reg-buffer' ), $entry['problem'] ) );
				}
				$decoded = self::decode( $row );
				// The rules every entry applies (Reg_Buffer_Registration): a retried entry must be one any form could
				// have registered, or it would only be refused again, or stored where another entry refuses it.
				// An intake registration keeps its marker (the flush screens it) but is checked as it will be stored.
				$stored = is_array( $decoded['data'] ) ? Reg_Buffer_Intake::stored_form( $decoded['data'] ) : $decoded['data'];
				foreach ( array( Reg_Buffer_Registration::check_identity( $entry['event_id'], $decoded['unique_key'] ), Reg_Buffer_Registration::check_fields( $stored ) ) as $check ) {
					if ( is_wp_error( $check ) ) {
						/* translators: %s: why */
						return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'Cannot retry: %s Purge it (its bytes are shown in the list).', 'reg-buffer' ), $check->get_error_message() ) );
					}
				}
				try {
					// One step in Redis: buffered again under its own id and out of the quarantine, or neither.
					$id = Reg_Buffer_Bridge::retry_quarantined( $field, $decoded['data'], $decoded['unique_key'] );
				} catch ( \ValueError | \TypeError | \RegBuffer\Exception $e ) {
					/* translators: %s: error message */
					return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'The buffer refused it: %s', 'reg-buffer' ), $e->getMessage() ) );
				}
				if ( null === $id ) {
					return Reg_Buffer_Operator_Action::result( false, __( 'Another registration with the same unique key is buffered for this event: this one is a duplicate. Purge it.', 'reg-buffer' ) );
				}
				Reg_Buffer_Operator_Action::log( sprintf( 'quarantined entry %s retried: buffered again as %s', $field, $id ) );
				/* translators: 1: quarantine entry, 2: new registration id */
				return Reg_Buffer_Operator_Action::result( true, sprintf( __( 'Entry %1$s is buffered again as %2$s; the next flush stores it.', 'reg-buffer' ), $field, $id ), $id );
			}
		);
	}

	/**
	 * Deletes a quarantined entry for good.
	 *
	 * @param string $field `<event>:<id>`.
	 * @return array{ok:bool, message:string, id:?string}
	 */
	public static function purge( string $field ): array {
		return self::locked(
			$field,
			static function () use ( $field ) {
				if ( ! Reg_Buffer_Bridge::purge_quarantined( $field ) ) {
					return Reg_Buffer_Operator_Action::result( false, __( 'No such entry: it was already retried or purged.', 'reg-buffer' ) );
				}
				Reg_Buffer_Operator_Action::log( sprintf( 'quarantined entry %s purged', $field ) );
				/* translators: %s: quarantine entry */
				return Reg_Buffer_Operator_Action::result( true, sprintf( __( 'Entry %s was purged.', 'reg-buffer' ), $field ) );
			}
		);
	}

	/**
	 * What an entry is, for the list.
	 *
	 * @param array $row an entry of reg_buffer_quarantined().
	 * @return array{field:string,event_id:int,id:string,reason:string,kind:string,preview:string,retryable:bool,problem:?string,bytes:int}
	 */
	public static function describe( array $row ): array {
		$bytes = (string) ( $row['stored'] ?? '' );
		$entry = array(
			'field'     => (string) $row['entry'],
			'event_id'  => (int) ( $row['event_id'] ?? 0 ),
			'id'        => (string) ( $row['id'] ?? '' ),
			'reason'    => (string) ( $row['reason'] ?? '' ),
			'kind'      => (string) ( $row['kind'] ?? 'unreadable' ),
			'preview'   => Reg_Buffer_Operator_Action::printable( $bytes, self::PREVIEW_BYTES ),
			'bytes'     => strlen( $bytes ),
			'retryable' => false,
			'problem'   => null,
		);
		if ( $entry['event_id'] <= 0 ) {
			$entry['problem'] = __( 'the entry names no event', 'reg-buffer' );
			return $entry;
		}
		$entry['problem']   = self::decode( $row )['problem'];
		$entry['retryable'] = null === $entry['problem'];
		return $entry;
	}

	/**
	 * What a retry would buffer: the entry's JSON must be intact JSON of an array (it is pushed exactly as it is),
	 * its unique key one a registration may have (Reg_Buffer_Registration_Rules); a registration time that could not
	 * be read does not matter (the retry gets the time of the retry).
	 *
	 * @param array $row an entry of reg_buffer_quarantined().
	 * @return array{data:?array, unique_key:?string, problem:?string}
	 */
	private static function decode( array $row ): array {
		$fail = static fn( string $why ) => array(
			'data'       => null,
			'unique_key' => null,
			'problem'    => $why,
		);
		$json = $row['json'] ?? null;
		$key  = $row['unique_key'] ?? null;
		if ( ! in_array( $row['kind'] ?? null, array( 'stored', 'legacy' ), true ) ) {
			return $fail( __( 'the bytes are in no format reg_buffer knows', 'reg-buffer' ) );
		}
		if ( ! is_string( $json ) ) {
			return $fail( 'legacy' === $row['kind'] ? __( 'the legacy element has no registration_details', 'reg-buffer' ) : __( 'the stored registration\'s data cannot be read', 'reg-buffer' ) );
		}
		if ( ! Reg_Buffer_Operator_Action::is_utf8( $json ) ) {
			return $fail( __( 'the data is not valid UTF-8', 'reg-buffer' ) );
		}
		$data = json_decode( $json, true, Reg_Buffer_Registration_Rules::MAX_DEPTH );
		if ( ! is_array( $data ) ) {
			return $fail( __( 'the data is not JSON of an array', 'reg-buffer' ) );
		}
		$key_problem = Reg_Buffer_Registration_Rules::unique_key_problem( $key );
		if ( null !== $key_problem ) {
			return $fail( rtrim( Reg_Buffer_Registration::message( $key_problem ), '.' ) );
		}
		return array(
			'data'       => $data,
			'unique_key' => $key,
			'problem'    => null,
		);
	}

	/**
	 * Runs $work holding a MySQL named lock for this entry, so two operators (or a double click) never push one
	 * entry twice.
	 */
	private static function locked( string $field, callable $work ): array {
		if ( ! preg_match( '/^[1-9][0-9]*:[^\s]+$/', $field ) ) {
			return Reg_Buffer_Operator_Action::result( false, __( 'That is not a quarantine entry (expected <event>:<id>).', 'reg-buffer' ) );
		}
		return Reg_Buffer_Operator_Action::under_lock(
			'reg_buffer_q:' . md5( DB_NAME . '|' . Reg_Buffer_Settings::site_key_prefix() . '|' . $field ),
			__( 'Someone else is acting on this entry right now; try again.', 'reg-buffer' ),
			static function () use ( $work ) {
				try {
					return $work();
				} catch ( \RegBuffer\Exception $e ) {
					/* translators: %s: error message */
					return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'Redis could not be reached: %s', 'reg-buffer' ), $e->getMessage() ) );
				}
			}
		);
	}
}
