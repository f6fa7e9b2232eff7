<?php
// A push that times out after Redis took it: the direct write reuses the exception's registration id, so when the
// Redis copy is flushed later it is recognised as the same registration and not stored twice.
//   php timeout.php FIRST_N      (needs E2E_REDIS_PORT: the test blocks that Redis for a second)
define( 'REG_BUFFER_TIMEOUT_MS', 200 );
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );

$n        = (int) $argv[1];
$event_id = 42;
// Warm the connection: on a fresh connection the first reply may wait up to connect_timeout_ms instead.
$warm = e2e_registration( "timeout-warm-{$n}", $n );
e2e_same( 'buffered', reg_buffer_register( $event_id, $warm, $warm['email'] )->status ?? null, 'warm-up registration' );
e2e_ledger_add( $event_id, $warm['email'], $warm );

// Block Redis for 1.5 s with a busy script: our push is read and executed only after it, long after the client
// gave up at 200 ms.
$port = (int) e2e_env( 'E2E_REDIS_PORT' );
$busy = 'local ok, clock = pcall(function() return os.clock end) local now = ok and clock or function() local t = redis.call("TIME") return t[1] + t[2] / 1e6 end local s = now() while now() - s < 1.5 do end return 1';
exec( sprintf( '(redis-cli -p %d EVAL %s 0 >/dev/null 2>&1 &)', $port, escapeshellarg( $busy ) ) );
// Push only once Redis is really busy (a PING gets no answer), however slowly the machine started the script.
$is_busy = static function () use ( $port ): bool {
	$socket = stream_socket_client( "tcp://127.0.0.1:{$port}", $errno, $errstr, 1.0 );
	if ( false === $socket ) {
		return false;
	}
	stream_set_timeout( $socket, 0, 50000 );
	fwrite( $socket, "PING\r\n" );
	$reply = fgets( $socket );
	fclose( $socket );
	return false === $reply;
};
for ( $tries = 0; $tries < 100 && ! $is_busy(); $tries++ ) {
	usleep( 20000 );
}
e2e_check( $tries < 100, 'Redis became busy' );

$registration = e2e_registration( "timeout-{$n}", $n + 1 );
$outcome      = reg_buffer_register( $event_id, $registration, $registration['email'] );
e2e_check( $outcome instanceof Reg_Buffer_Outcome, 'an outcome' );
e2e_same( 'stored', $outcome->status ?? null, 'the timed-out registration was written directly' );
e2e_same( 'connection', $outcome->fallback_reason ?? null, 'fallback reason' );
e2e_ledger_add( $event_id, $registration['email'], $registration );

sleep( 2 ); // the busy script ends after 1.5 s; then Redis runs our push
$in_redis = array_column( reg_buffer_range( $event_id, time() - 300, time() + 60 ), 'id' );
e2e_check( in_array( $outcome->registration_id, $in_redis, true ), 'the timed-out push did reach Redis, under the same id (otherwise this test proves nothing)' );

$summary = reg_buffer_flush_now();
e2e_same( 2, $summary['claimed'], 'registrations flushed' );
e2e_same( 1, $summary['inserted'], 'rows inserted (the warm-up only)' );
global $wpdb;
$table = Reg_Buffer_Store::table();
e2e_same( '1', $wpdb->get_var( $wpdb->prepare( "SELECT COUNT(*) FROM {$table} WHERE registration_id = %s", $outcome->registration_id ) ), 'rows with the timed-out registration id' );
echo "  push timed out after Redis took it; direct write and Redis copy share id {$outcome->registration_id}; stored once\n";
e2e_done();
