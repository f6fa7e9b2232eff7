<?php
// Puts three entries into the site's quarantine, the ways they get there on a real site, and prints their fields
// as JSON {"keyed": …, "garbage": …, "legacy": …}:
//   keyed   — a registration with a unique key whose stored timestamp was damaged: the flush quarantines it; a
//             retry can decode its data and key (it is in the ledger: it must be stored once, after the retry)
//   garbage — a registration whose stored bytes were overwritten: the flush quarantines it; retry cannot work
//   legacy  — a seed-snippet element whose timestamp is a string: import-legacy quarantines it; a retry can
//             decode it (in the ledger)
//   php quarantine-setup.php FIRST_N    (needs E2E_REDIS_PORT; the buffer must be empty)
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );

$first  = (int) $argv[1];
$redis  = new Redis();
$redis->connect( '127.0.0.1', (int) e2e_env( 'E2E_REDIS_PORT' ) );
$prefix = Reg_Buffer_Settings::site_key_prefix();
$before = Reg_Buffer_Bridge::stats()['quarantined'];

// keyed: buffered through the plugin, then its stored bytes get a bad timestamp.
$keyed_event = 31;
$keyed       = e2e_registration( "quarantine-keyed-{$first}", $first );
$outcome     = reg_buffer_register( $keyed_event, $keyed, $keyed['email'] );
e2e_same( 'buffered', $outcome->status ?? null, 'keyed registration buffered' );
$data_key = "{$prefix}ev:{{$keyed_event}}:d";
Reg_Buffer_Bridge::stats(); // Files first: until then a registration with a unique key may be held by its marker.
$stored = $redis->hGet( $data_key, $outcome->registration_id );
e2e_check( is_string( $stored ) && str_starts_with( $stored, '1:' ), 'the stored bytes are where the README says' );
$redis->hSet( $data_key, $outcome->registration_id, preg_replace( '/^1:\d+:/', '1:soon:', $stored ) );
e2e_ledger_add( $keyed_event, $keyed['email'], $keyed );

// garbage: not in the ledger (it can only be purged).
$garbage_event = 33;
$garbage_id    = reg_buffer_register( $garbage_event, array( 'ref' => "quarantine-garbage-{$first}" ) )->registration_id;
$redis->hSet( "{$prefix}ev:{{$garbage_event}}:d", $garbage_id, "garbage \xff\x00 that is no stored registration" );

$summary = reg_buffer_flush_now();
e2e_same( 0, $summary['claimed'], 'the flush hands out neither (both quarantined)' );

// legacy: the seed snippet's element with date('U') as a string.
$legacy_event = 32;
$legacy       = e2e_registration( "quarantine-legacy-{$first}", $first + 1 );
$redis->lPush( "event_reg_buffer:{$legacy_event}", json_encode( array( 'timestamp' => '1700000000', 'registration_details' => $legacy ) ) );
e2e_same( 0, Reg_Buffer_Bridge::import_legacy( 'event_reg_buffer:*' ), 'legacy elements imported (it is quarantined instead)' );
e2e_ledger_add( $legacy_event, null, $legacy );

e2e_same( $before + 3, Reg_Buffer_Bridge::stats()['quarantined'], 'quarantined entries' );
$fields = array_keys( $redis->hGetAll( "{$prefix}quarantine" ) );
$pick   = static fn( int $event ) => array_values( array_filter( $fields, static fn( $f ) => str_starts_with( $f, "{$event}:" ) ) )[0] ?? null;
echo json_encode(
	array(
		'keyed'   => "{$keyed_event}:{$outcome->registration_id}",
		'garbage' => "{$garbage_event}:{$garbage_id}",
		'legacy'  => $pick( $legacy_event ),
	)
), "\n";
e2e_check( in_array( "{$keyed_event}:{$outcome->registration_id}", $fields, true ), 'keyed entry quarantined' );
e2e_check( in_array( "{$garbage_event}:{$garbage_id}", $fields, true ), 'garbage entry quarantined' );
e2e_done();
