<?php
// A quarantine retry applies the rules every entry applies (Reg_Buffer_Registration): an entry whose unique key
// has a trailing space (pushed straight into the extension by another producer, then damaged) is not buffered
// again; it stays until purged.
//   php quarantine-rules.php FIRST_N    (needs E2E_REDIS_PORT; the buffer must be empty)
require __DIR__ . '/common.php';
require getenv( 'STACK_WP_LOAD' );

$first = (int) $argv[1];
Reg_Buffer_Bridge::stats(); // The raw push below must reach this site's keys: the Bridge sets them on first use.
$event = 35;
$id    = reg_buffer_push( $event, array( 'ref' => "quarantine-rules-{$first}" ), "trailing-{$first}@example.test " );
e2e_check( is_string( $id ), 'the extension buffered a key with a trailing space' );
$redis = new Redis();
$redis->connect( '127.0.0.1', (int) e2e_env( 'E2E_REDIS_PORT' ) );
$data_key = Reg_Buffer_Settings::site_key_prefix() . "ev:{{$event}}:d";
Reg_Buffer_Bridge::stats(); // Files first: until then a registration with a unique key may be held by its marker.
$redis->hSet( $data_key, $id, preg_replace( '/^1:\d+:/', '1:soon:', (string) $redis->hGet( $data_key, $id ) ) );
e2e_same( 0, reg_buffer_flush_now()['claimed'], 'the flush quarantines it' );

$field  = "{$event}:{$id}";
$result = Reg_Buffer_Quarantine::retry( $field );
echo '  retry: ', $result['message'], "\n";
e2e_same( false, $result['ok'], 'a retry of an entry the registration rules refuse' );
e2e_same( 0, Reg_Buffer_Bridge::stats()['pending'], 'buffered again' );
e2e_check( Reg_Buffer_Quarantine::purge( $field )['ok'], 'purged' );
e2e_done();
