<?php
// Registrations a flush cannot store are set aside in their own table, and a batch is acked only when each of its
// rows is in the registrations table or durably set aside.
//   php set-aside.php bad-bytes FIRST_N     a registration buffered with a unique key that is not UTF-8 (as an
//                                           older extension took it; E2E_REDIS_PORT): MySQL refuses its row and
//                                           the old option refused its bytes too: it must be set aside, byte for byte
//   php set-aside.php unsettable FIRST_N    a refused row while the set-aside table cannot be written: the batch is
//                                           not acked; once it can, the next flush sets the row aside
//   php set-aside.php many FIRST_N          more set-aside data than max_allowed_packet (one option could not hold
//                                           it): every row is kept, the batches acked
//   php set-aside.php legacy-option FIRST_N a site of schema 1: rows in the reg_buffer_rejected option (one retryable,
//                                           one not); prints the retryable one's id
//   php set-aside.php seed FIRST_N          two set-aside rows for the admin page (one retryable): prints their ids
//   php set-aside.php count                 how many rows are set aside
//   php set-aside.php purge-all             purges every set-aside row through Reg_Buffer_Set_Aside::purge()
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );

// The raw reg_buffer_push() calls below must reach this site's private Redis and keys: the Bridge sets the ini
// values on its first call.
Reg_Buffer_Bridge::stats();
$mode  = $argv[1] ?? '';
$first = (int) ( $argv[2] ?? 0 );

/** Pushes ten good registrations of $event (in the ledger). */
function e2e_good_ones( int $event, int $first ): void {
	for ( $n = $first; $n < $first + 10; $n++ ) {
		$registration = e2e_registration( "set-aside-ok-{$n}", $n );
		e2e_same( 'buffered', reg_buffer_register( $event, $registration, $registration['email'] )->status ?? null, "set-aside-ok-{$n}" );
		e2e_ledger_add( $event, $registration['email'], $registration );
	}
}

/** A registration whose unique key MySQL refuses (too long for the column), pushed by another producer. */
function e2e_poison( int $event, string $ref, string $padding = '' ): string {
	$id = reg_buffer_push( $event, array( 'ref' => $ref, 'padding' => $padding ), str_repeat( 'k', 300 ) . "-{$ref}@example.test" );
	e2e_check( is_string( $id ), "the extension buffered {$ref}" );
	return (string) $id;
}

switch ( $mode ) {
	case 'bad-bytes':
		$event = 78;
		e2e_good_ones( $event, $first );
		// Buffered with a valid key of the same length, then its stored key's bytes become what an older extension
		// stored for a key that is not UTF-8 (`1:<µs>:<key length>:<key><json>`, see the README's key layout).
		$good_key = "bad-bytes-{$first}@example.test";
		$bad_key  = "bad-bytes-{$first}\xff\xfe@example.te";
		e2e_same( strlen( $good_key ), strlen( $bad_key ), 'same key length (test bug otherwise)' );
		$id    = reg_buffer_push( $event, array( 'ref' => "bad-bytes-{$first}" ), $good_key );
		$redis = new Redis();
		$redis->connect( '127.0.0.1', (int) e2e_env( 'E2E_REDIS_PORT' ) );
		$data_key = Reg_Buffer_Settings::site_key_prefix() . "ev:{{$event}}:d";
		reg_buffer_stats(); // Files the held list first: until then its marker holds a registration with a unique key.
		$stored = (string) $redis->hGet( $data_key, $id );
		e2e_check( str_contains( $stored, ':' . strlen( $good_key ) . ':' . $good_key ), 'the stored registration carries its key where the README says' );
		$redis->hSet( $data_key, $id, str_replace( $good_key, $bad_key, $stored ) );

		$summary     = reg_buffer_flush_now();
		$set_aside   = Reg_Buffer_Set_Aside::get( $id );
		$quarantined = array_filter( Reg_Buffer_Bridge::quarantined( 100 ), static fn( $q ) => $q['id'] === $id );
		echo '  flush: ', json_encode( $summary ), "\n";
		// Never acked without being kept: set aside (MySQL refused the row), or quarantined by the extension.
		e2e_check( null !== $set_aside || array() !== $quarantined, 'the registration whose key is not UTF-8 is neither set aside nor quarantined: lost' );
		if ( null !== $set_aside ) {
			e2e_same( $bad_key, $set_aside['unique_key'], 'its unique key, byte for byte' );
			e2e_same( '{"ref":"bad-bytes-' . $first . '"}', $set_aside['json'], 'its data' );
			e2e_same( 10, $summary['inserted'], 'the others stored' );
			e2e_same( 11, $summary['acked'], 'acked' );
			echo "  set aside: {$set_aside['error']}\n";
			e2e_check( Reg_Buffer_Set_Aside::purge( $id )['ok'], 'purged' );
		} else {
			echo "  quarantined by the extension\n";
			e2e_check( Reg_Buffer_Bridge::purge_quarantined( "{$event}:{$id}" ), 'purged from the quarantine' );
			reg_buffer_flush_now();
		}
		break;

	case 'unsettable':
		global $wpdb;
		$event = 79;
		e2e_good_ones( $event, $first );
		$id    = e2e_poison( $event, "unsettable-{$first}" );
		$table = Reg_Buffer_Set_Aside::table();
		$wpdb->query( "RENAME TABLE {$table} TO {$table}_away" ); // phpcs:ignore WordPress.DB.PreparedSQL
		$summary = reg_buffer_flush_now( array( 'lease_seconds' => 2 ) );
		$wpdb->query( "RENAME TABLE {$table}_away TO {$table}" ); // phpcs:ignore WordPress.DB.PreparedSQL
		echo '  flush while the set-aside table cannot be written: ', json_encode( $summary ), "\n";
		e2e_same( 'error', $summary['outcome'], 'outcome' );
		e2e_same( 0, $summary['acked'], 'acked (the refused row could not be kept)' );
		e2e_same( 11, Reg_Buffer_Bridge::stats()['in_flight'], 'registrations still in flight (un-acked)' );
		sleep( 3 ); // The lease runs out; the batch is handed out again.
		$summary = reg_buffer_flush_now();
		echo '  the next flush: ', json_encode( $summary ), "\n";
		e2e_same( 11, $summary['acked'], 'acked once the row could be set aside' );
		e2e_same( 1, $summary['rejected'], 'set aside' );
		e2e_check( null !== Reg_Buffer_Set_Aside::get( $id ), 'the refused registration is set aside' );
		e2e_check( Reg_Buffer_Set_Aside::purge( $id )['ok'], 'purged' );
		break;

	case 'many':
		global $wpdb;
		$event   = 80;
		$packet  = (int) $wpdb->get_var( 'SELECT @@max_allowed_packet' );
		$padding = str_repeat( 'p', 60000 );
		$count   = intdiv( $packet, strlen( $padding ) ) + 10;
		$ids     = array();
		for ( $i = 0; $i < $count; $i++ ) {
			$ids[] = e2e_poison( $event, "many-{$first}-{$i}", $padding );
		}
		$summary = reg_buffer_flush_now( array( 'batch_size' => 100 ) );
		echo '  ', $count, ' refused rows of 60 kB (', round( $count * 60000 / $packet, 2 ), 'x max_allowed_packet): ', json_encode( $summary ), "\n";
		e2e_same( 'empty', $summary['outcome'], 'outcome' );
		e2e_same( $count, $summary['rejected'], 'set aside' );
		e2e_same( $count, $summary['acked'], 'acked' );
		$table = Reg_Buffer_Set_Aside::table();
		e2e_same( (string) $count, $wpdb->get_var( "SELECT COUNT(*) FROM {$table} WHERE event_id = {$event} AND LENGTH(data) > 60000" ), 'rows in the set-aside table, each whole' ); // phpcs:ignore WordPress.DB.PreparedSQL
		e2e_same( $count, reg_buffer_status()['set_aside'], 'status: set aside' );
		break;

	case 'legacy-option':
		// What a site of schema 1 left: rows in one option. The next request's upgrade moves them into the table.
		$ok = e2e_registration( "set-aside-legacy-{$first}", $first );
		update_option(
			Reg_Buffer_Set_Aside::LEGACY_OPTION,
			array(
				array( 'id' => "LEGACYOK{$first}", 'event_id' => 81, 'registered_at' => 1700000000.5, 'unique_key' => $ok['email'], 'json' => wp_json_encode( $ok ), 'error' => 'MySQL error during INSERT: Lock wait timeout exceeded' ),
				array( 'id' => "LEGACYBAD{$first}", 'event_id' => 81, 'registered_at' => 1700000001.0, 'unique_key' => null, 'json' => '{"ref":', 'error' => 'intake: refused' ),
			),
			false
		);
		update_option( Reg_Buffer_Store::SCHEMA_OPTION, '1', true );
		// Retried, it is registered (and stored once): in the ledger.
		e2e_ledger_add( 81, $ok['email'], $ok );
		echo "LEGACYOK{$first}\n";
		break;

	case 'seed':
		// Two set-aside rows for the admin page: one a retry can register (in the ledger), one it cannot.
		$ok = e2e_registration( "set-aside-page-{$first}", $first );
		e2e_check(
			Reg_Buffer_Set_Aside::add(
				array(
					array( 'id' => "PAGEOK{$first}", 'event_id' => 82, 'registered_at' => microtime( true ), 'unique_key' => $ok['email'], 'json' => wp_json_encode( $ok ), 'error' => 'MySQL error during INSERT: Lock wait timeout exceeded' ),
					array( 'id' => "PAGEBAD{$first}", 'event_id' => 82, 'registered_at' => microtime( true ), 'unique_key' => null, 'json' => "\xff not JSON", 'error' => 'intake: refused' ),
				)
			),
			'set aside'
		);
		e2e_ledger_add( 82, $ok['email'], $ok );
		echo json_encode( array( 'retry' => "PAGEOK{$first}", 'purge' => "PAGEBAD{$first}" ) ), "\n";
		break;

	case 'count':
		echo (int) Reg_Buffer_Set_Aside::count(), "\n";
		break;

	case 'purge-all':
		foreach ( Reg_Buffer_Set_Aside::rows( Reg_Buffer_Set_Aside::MAX_LISTED ) as $row ) {
			e2e_check( Reg_Buffer_Set_Aside::purge( $row['id'] )['ok'], "purged {$row['id']}" );
		}
		break;

	default:
		fwrite( STDERR, "unknown mode {$mode}\n" );
		e2e_exit( 2 );
}
e2e_done();
