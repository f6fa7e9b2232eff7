<?php
// Flushes the buffer.
//   php flush.php until-empty         flush runs until the buffer is empty; prints the totals as JSON
//   php flush.php once [LEASE]        one flush run (claims with a LEASE seconds lease); prints its summary and
//                                     the reg_buffer_error codes it fired
//   php flush.php no-time             one flush run with a time budget of 0 s; prints its summary
//   php flush.php lose-connection     one flush (2 s lease) whose MySQL session is killed inside the
//                                     transaction, before COMMIT; prints its summary and error codes
//   php flush.php lose-lock           one flush (batches of 50, 2 s lease) whose MySQL session is killed after its
//                                     first batch is committed, and wpdb reconnected (a new session, without the
//                                     flush lock); prints its summary and error codes
//   php flush.php overlap BATCH       one flush run in batches of BATCH; prints its summary and, per batch, the
//                                     registrations in flight when it commits (reg_buffer_before_commit)
//   php flush.php statements BATCH [hooked]
//                                     one flush run in batches of BATCH; prints its summary and the statements
//                                     its MySQL session ran, by kind (session Com_* counters); "hooked" adds a
//                                     reg_buffer_before_commit listener
//   php flush.php crash MARKER_FILE   one flush that, after its first batch is committed and before the ack,
//                                     writes MARKER_FILE and waits to be killed (SIGKILL by the test)
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$mode = $argv[1] ?? 'until-empty';
if ( 'no-time' === $mode ) {
	echo json_encode( reg_buffer_flush_now( array( 'time' => 0 ) ) ), "\n";
	e2e_exit( 0 );
}
if ( 'lose-connection' === $mode || 'lose-lock' === $mode ) {
	// Kill our own session once, the named lock (and an open transaction) with it. lose-connection: inside the
	// batch's transaction, and wpdb reconnects silently on the next query; lose-lock: after the first batch is
	// committed, and wpdb reconnects at once (a new session, without the lock).
	$reconnect = 'lose-lock' === $mode;
	add_action(
		$reconnect ? 'reg_buffer_batch_stored' : 'reg_buffer_before_commit',
		static function () use ( $reconnect ) {
			static $done = false;
			if ( ! $done ) {
				$done = true;
				global $wpdb;
				$wpdb->suppress_errors( true );
				$wpdb->query( 'KILL CONNECTION_ID()' );
				if ( $reconnect ) {
					$wpdb->check_connection( false );
				}
				$wpdb->suppress_errors( false );
			}
		}
	);
}
if ( 'once' === $mode || 'lose-connection' === $mode || 'lose-lock' === $mode ) {
	$errors = array();
	add_action(
		'reg_buffer_error',
		static function ( $code, $cause, $context ) use ( &$errors ) {
			$errors[] = $code . ( isset( $context['error'] ) ? ': ' . $context['error'] : '' );
		},
		10,
		3
	);
	$lease             = 'once' === $mode ? (int) ( $argv[2] ?? 0 ) : 2;
	$budget            = $lease > 0 ? array( 'lease_seconds' => $lease ) : array();
	$summary           = reg_buffer_flush_now( 'lose-lock' === $mode ? $budget + array( 'batch_size' => 50 ) : $budget );
	$summary['errors'] = $errors;
	echo json_encode( $summary ), "\n";
	e2e_exit( 0 );
}
if ( 'overlap' === $mode ) {
	$at_commit = array();
	add_action(
		'reg_buffer_before_commit',
		static function () use ( &$at_commit ) {
			$at_commit[] = reg_buffer_stats()['in_flight'];
		}
	);
	$summary              = reg_buffer_flush_now( array( 'batch_size' => (int) $argv[2] ) );
	$summary['at_commit'] = $at_commit;
	echo json_encode( $summary ), "\n";
	e2e_exit( 0 );
}
if ( 'statements' === $mode ) {
	global $wpdb;
	$count = static function () use ( $wpdb ): array {
		$kinds = array( 'Com_begin', 'Com_commit', 'Com_rollback', 'Com_set_option', 'Com_insert', 'Com_select' );
		$rows  = $wpdb->get_results( "SHOW SESSION STATUS WHERE Variable_name IN ('" . implode( "','", $kinds ) . "')", ARRAY_N );
		return array_column( $rows, 1, 0 );
	};
	if ( 'hooked' === ( $argv[3] ?? '' ) ) {
		add_action( 'reg_buffer_before_commit', static function () {} );
	}
	$session = $wpdb->get_var( 'SELECT CONNECTION_ID()' );
	$before  = $count();
	$summary = reg_buffer_flush_now( array( 'batch_size' => (int) $argv[2] ) );
	$after   = $count();
	foreach ( $after as $kind => $n ) {
		$summary['statements'][ strtolower( substr( $kind, 4 ) ) ] = (int) $n - (int) ( $before[ $kind ] ?? 0 );
	}
	// The SHOW STATUS above and the SELECT CONNECTION_ID() below are this script's, not the flush's.
	$summary['same_session'] = $session === $wpdb->get_var( 'SELECT CONNECTION_ID()' );
	echo json_encode( $summary ), "\n";
	e2e_exit( 0 );
}
if ( 'crash' === $mode ) {
	$marker = $argv[2];
	add_action(
		'reg_buffer_batch_stored',
		static function ( $batch, $claimed, $inserted ) use ( $marker ) {
			file_put_contents( $marker, json_encode( array( 'batch' => $batch, 'claimed' => $claimed, 'inserted' => $inserted, 'pid' => getmypid() ) ) );
			sleep( 120 ); // The test kills us here: committed, not acked.
			exit( 3 );
		},
		10,
		3
	);
	// A short lease, so the test need not wait the default 300 s for the batch to be handed out again.
	reg_buffer_flush_now( array( 'lease_seconds' => 2 ) );
	fwrite( STDERR, "the flush finished without committing a batch\n" );
	exit( 1 );
}

$totals = array( 'runs' => 0, 'claimed' => 0, 'inserted' => 0, 'duplicates' => 0, 'rejected' => 0, 'acked' => 0, 'locked' => 0 );
for ( $run = 0; $run < 200; $run++ ) { // Bounded: a flush that never empties the buffer fails the test.
	$summary = reg_buffer_flush_now();
	++$totals['runs'];
	foreach ( array( 'claimed', 'inserted', 'duplicates', 'rejected', 'acked' ) as $k ) {
		$totals[ $k ] += $summary[ $k ] ?? 0;
	}
	if ( 'locked' === $summary['outcome'] ) {
		// Another flusher's session (or a killed one the server has not reaped yet) holds the lock.
		++$totals['locked'];
		usleep( 200000 );
		continue;
	}
	if ( 'empty' === $summary['outcome'] || 'direct' === $summary['outcome'] ) {
		$totals['outcome'] = $summary['outcome'];
		break;
	}
	if ( 'error' === $summary['outcome'] ) {
		$totals['outcome'] = 'error';
		break;
	}
}
echo json_encode( $totals ), "\n";
e2e_exit( 'error' === ( $totals['outcome'] ?? 'error' ) ? 1 : 0 );
