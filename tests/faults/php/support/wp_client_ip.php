<?php
// Which client address the rate limit counts (WordPress loaded for a host whose REG_BUFFER_REST_TRUSTED_PROXIES is
// '10.9.8.0/24, 127.0.0.1, 2001:db8:ff::/48, not-an-address'): prints {"case": [expected, got], ...} as JSON.
require getenv( 'STACK_WP_LOAD' );
$cases = array(
	'untrusted peer: XFF ignored'            => array( '203.0.113.5', '1.1.1.1', '203.0.113.5' ),
	'trusted peer: XFF read'                 => array( '127.0.0.1', '198.51.100.1', '198.51.100.1' ),
	'peer in a trusted /24, proxy chain'     => array( '10.9.8.200', '198.51.100.1, 10.9.8.7', '198.51.100.1' ),
	'peer just outside the /24'              => array( '10.9.9.1', '198.51.100.1', '10.9.9.1' ),
	'forged entries left of the client'      => array( '127.0.0.1', '6.6.6.6, 7.7.7.7, 198.51.100.1', '198.51.100.1' ),
	'garbage right of the client'            => array( '127.0.0.1', '198.51.100.1, <script>', '127.0.0.1' ),
	'only trusted hops'                      => array( '127.0.0.1', '10.9.8.1, 10.9.8.2', '10.9.8.1' ),
	'IPv6 peer in a trusted /48'             => array( '2001:db8:ff:1::9', '2001:db8:1::1', '2001:db8:1::1' ),
	'IPv6 peer outside the /48'              => array( '2001:db8:fe::9', '2001:db8:1::1', '2001:db8:fe::9' ),
	'no XFF from a trusted peer'             => array( '127.0.0.1', '', '127.0.0.1' ),
	'REMOTE_ADDR that is not an address'     => array( 'unix:', '198.51.100.1', '0.0.0.0' ),
);
$out = array();
foreach ( $cases as $name => list( $remote, $xff, $want ) ) {
	$_SERVER['REMOTE_ADDR']          = $remote;
	$_SERVER['HTTP_X_FORWARDED_FOR'] = $xff;
	$out[ $name ]                    = array( $want, Reg_Buffer_Rate_Limit::client_ip() );
}
echo json_encode( $out ), "\n";
