<?php
// Two accepted registrations with one (event, unique key): one buffered in Redis, then one written directly while
// buffering was disabled (or Redis down) — the direct write cannot see Redis's marker. The flush must not ack the
// buffered one unseen: it is set aside with the id that holds the key.
//   php key-conflict.php buffer EVENT KEY    registers Alice (must be buffered); prints her id
//   php key-conflict.php direct EVENT KEY [NAME]  registers Mallory (must be stored directly); ledger; prints her id
//   php key-conflict.php again EVENT KEY     registers Eve once buffering is back: must be a duplicate (the table has the key)
//   php key-conflict.php check ALICE MALLORY after the flush: Alice is set aside naming Mallory, not stored; then
//                                            purges her set-aside row (later tests expect none)
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$mode = $argv[1] ?? '';
switch ( $mode ) {
	case 'buffer':
	case 'direct':
		$name    = $argv[4] ?? ( 'buffer' === $mode ? 'Alice' : 'Mallory' );
		$outcome = reg_buffer_register( (int) $argv[2], array( 'ref' => "key-conflict-{$name}", 'name' => $name ), $argv[3] );
		e2e_check( $outcome instanceof Reg_Buffer_Outcome && $outcome->is_accepted(), "{$name} is accepted" );
		e2e_same( 'buffer' === $mode ? Reg_Buffer_Outcome::BUFFERED : Reg_Buffer_Outcome::STORED, $outcome->status, "{$name}'s outcome" );
		if ( 'direct' === $mode ) {
			e2e_ledger_add( (int) $argv[2], $argv[3], array( 'ref' => "key-conflict-{$name}", 'name' => $name ) );
		}
		echo $outcome->registration_id, "\n";
		break;
	case 'again':
		// Buffering is back and the key is only in the table (written directly, no marker in Redis): another
		// registration with it is a duplicate now, not a 201 the flush would set aside (the table is asked first).
		$outcome = reg_buffer_register( (int) $argv[2], array( 'ref' => 'key-conflict-Eve', 'name' => 'Eve' ), $argv[3] );
		e2e_check( $outcome instanceof Reg_Buffer_Outcome, 'Eve gets an outcome' );
		e2e_same( Reg_Buffer_Outcome::DUPLICATE, $outcome instanceof Reg_Buffer_Outcome ? $outcome->status : null, "Eve's outcome" );
		break;
	case 'check':
		[ , , $alice, $mallory ] = $argv;
		e2e_check( ! Reg_Buffer_Store::has_registration( $alice ), 'Alice is not in the table (Mallory holds the key)' );
		e2e_check( Reg_Buffer_Store::has_registration( $mallory ), 'Mallory is in the table' );
		$row = Reg_Buffer_Set_Aside::get( $alice );
		e2e_check( null !== $row, 'Alice is set aside, not acked unseen' );
		e2e_check( null !== $row && str_contains( (string) ( $row['error'] ?? '' ), $mallory ), 'the reason names the registration that holds the key' );
		e2e_check( null !== $row && str_contains( (string) ( $row['json'] ?? '' ), 'Alice' ), 'her data is kept' );
		Reg_Buffer_Set_Aside::purge( $alice );
		break;
	default:
		fwrite( STDERR, "usage: key-conflict.php buffer|direct|check …\n" );
		e2e_exit( 2 );
}
e2e_done();
