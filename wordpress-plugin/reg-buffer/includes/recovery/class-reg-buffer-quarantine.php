<?php
/**
 * Owns the quarantine: lists, retries and purges the entries the extension set aside, through its quarantine API
 * (reg_buffer_quarantined(), reg_buffer_retry_quarantined(), reg_buffer_purge_quarantined()), so it works on one
 * Redis server and on every shard of a Redis Cluster alike, and never reads a key by name.
 *
 * An entry is named `<event>:<id>`; its stored bytes are the registration as it was stored
 * (`1:<µs>:<unique key length or ->:<unique key><json>`) for an entry the flush could not decode, or the legacy
 * snippet's element (`{"timestamp":…,"registration_details":{…}}`) for one `import-legacy` could not read. What can
 * be recovered from them is this class's policy; the extension buffers the recovered registration again and removes
 * the entry in one step.
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
			$out[] = self::describe( (string) $row['entry'], $row['reason'] . "\n" . $row['stored'] );
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
	 * One entry's `<reason>\n<bytes>`, or null when there is none of that name.
	 */
	private static function find( string $field ): ?string {
		foreach ( Reg_Buffer_Bridge::quarantined( self::MAX_LISTED ) as $row ) {
			if ( $row['entry'] === $field ) {
				return $row['reason'] . "\n" . $row['stored'];
			}
		}
		return null;
	}

	/**
	 * Puts a quarantined entry back into the buffer: decodes what can be recovered and hands it to
	 * reg_buffer_retry_quarantined(), which buffers it (a new id, the time of the retry) and removes the entry in
	 * one step.
	 *
	 * @param string $field `<event>:<id>`.
	 * @return array{ok:bool, message:string, id:?string}
	 */
	public static function retry( string $field ): array {
		return self::locked(
			$field,
			static function () use ( $field ) {
				$value = self::find( $field );
				if ( null === $value ) {
					return Reg_Buffer_Operator_Action::result( false, __( 'No such entry: it was already retried or purged.', 'reg-buffer' ) );
				}
				$entry = self::describe( $field, $value );
				if ( ! $entry['retryable'] ) {
					/* translators: %s: why */
					return Reg_Buffer_Operator_Action::result( false, sprintf( __( 'Cannot retry: %s. Purge it (its bytes are shown in the list).', 'reg-buffer' ), $entry['problem'] ) );
				}
				$decoded = self::decode( self::bytes_of( $value ) );
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
					// One step in Redis: buffered under a new id and out of the quarantine, or neither.
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
	 * @param string $field `<event>:<id>`.
	 * @param string $value `<reason>\n<bytes>`.
	 */
	public static function describe( string $field, string $value ): array {
		$parts  = explode( ':', $field, 2 );
		$bytes  = self::bytes_of( $value );
		$nl     = strpos( $value, "\n" );
		$reason = false === $nl ? $value : substr( $value, 0, $nl );
		$entry  = array(
			'field'     => $field,
			'event_id'  => (int) $parts[0],
			'id'        => (string) ( $parts[1] ?? '' ),
			'reason'    => $reason,
			'kind'      => str_starts_with( $bytes, '1:' ) ? 'stored' : ( str_starts_with( ltrim( $bytes ), '{' ) ? 'legacy' : 'unknown' ),
			'preview'   => Reg_Buffer_Operator_Action::printable( $bytes, self::PREVIEW_BYTES ),
			'bytes'     => strlen( $bytes ),
			'retryable' => false,
			'problem'   => null,
		);
		if ( $entry['event_id'] <= 0 ) {
			$entry['problem'] = __( 'the entry names no event', 'reg-buffer' );
			return $entry;
		}
		$decoded = self::decode( $bytes );
		if ( null !== $decoded['problem'] ) {
			$entry['problem'] = $decoded['problem'];
			return $entry;
		}
		$entry['retryable'] = true;
		return $entry;
	}

	/**
	 * Decodes the bytes of an entry as leniently as is safe: the data must be intact JSON of an array (it is pushed
	 * exactly as it is); a damaged or missing timestamp does not matter (the retry gets the time of the retry).
	 *
	 * @return array{data:?array, unique_key:?string, problem:?string}
	 */
	private static function decode( string $bytes ): array {
		$fail = static fn( string $why ) => array( 'data' => null, 'unique_key' => null, 'problem' => $why );
		$json = null;
		$key  = null;
		if ( str_starts_with( $bytes, '1:' ) ) {
			$rest = substr( $bytes, 2 );
			$i    = strpos( $rest, ':' );
			if ( false === $i ) {
				return $fail( __( 'the stored registration has no timestamp field', 'reg-buffer' ) );
			}
			$rest = substr( $rest, $i + 1 );
			$i    = strpos( $rest, ':' );
			if ( false === $i ) {
				return $fail( __( 'the stored registration has no unique-key field', 'reg-buffer' ) );
			}
			$klen = substr( $rest, 0, $i );
			$rest = substr( $rest, $i + 1 );
			if ( '-' !== $klen ) {
				if ( ! ctype_digit( $klen ) || (int) $klen > strlen( $rest ) ) {
					return $fail( __( 'the unique key is truncated', 'reg-buffer' ) );
				}
				$key  = substr( $rest, 0, (int) $klen );
				$rest = substr( $rest, (int) $klen );
			}
			$json = $rest;
		} elseif ( str_starts_with( ltrim( $bytes ), '{' ) ) {
			$legacy = json_decode( $bytes, true );
			if ( ! is_array( $legacy ) || ! array_key_exists( 'registration_details', $legacy ) ) {
				return $fail( __( 'the legacy element is not JSON with registration_details', 'reg-buffer' ) );
			}
			$data = $legacy['registration_details'];
			if ( ! is_array( $data ) ) {
				return $fail( __( 'registration_details is not an array', 'reg-buffer' ) );
			}
			return array( 'data' => $data, 'unique_key' => null, 'problem' => null );
		} else {
			return $fail( __( 'the bytes are in no format reg_buffer knows', 'reg-buffer' ) );
		}
		if ( ! Reg_Buffer_Operator_Action::is_utf8( $json ) ) {
			return $fail( __( 'the data is not valid UTF-8', 'reg-buffer' ) );
		}
		$data = json_decode( $json, true, 64 );
		if ( ! is_array( $data ) ) {
			return $fail( __( 'the data is not JSON of an array', 'reg-buffer' ) );
		}
		if ( null !== $key && ( '' === $key || ! Reg_Buffer_Operator_Action::is_utf8( $key ) ) ) {
			return $fail( __( 'the unique key is empty or not valid UTF-8', 'reg-buffer' ) );
		}
		return array( 'data' => $data, 'unique_key' => $key, 'problem' => null );
	}

	private static function bytes_of( string $value ): string {
		$nl = strpos( $value, "\n" );
		return false === $nl ? '' : substr( $value, $nl + 1 );
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
