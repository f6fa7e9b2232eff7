<?php
// The plugin's own Redis client (the Redis watch, the REST rate counters) reads a URL as the extension does: a
// password may hold '/', '#', '?', '@' or '%'-escapes and still names the same server; parse_url() had picked another.
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$cases = array(
	'redis://u:se/krit@10.1.2.3:6380/2'  => array( '10.1.2.3', 6380, 'u', 'se/krit', 2 ),
	'redis://:a@b#c?d@[::1]:7000/3'      => array( '::1', 7000, null, 'a@b#c?d', 3 ),
	'redis://app:p%40ss%2Fw@redis.test:6390' => array( 'redis.test', 6390, 'app', 'p@ss/w', 0 ),
	'redis://127.0.0.1:6379'             => array( '127.0.0.1', 6379, null, null, 0 ),
);
foreach ( $cases as $url => [ $host, $port, $user, $password, $db ] ) {
	$p = Reg_Buffer_Redis_Client::parse_url( $url );
	e2e_same( array( $host, $port, $user, $password, $db ), array( $p['host'], $p['port'], $p['user'], $p['password'], $p['db'] ), "parse of a URL with password {$password}" );
}
e2e_done();
