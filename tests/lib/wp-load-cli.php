<?php
// Loads WordPress for a CLI script: Debian's wp-config.php picks /etc/wordpress/config-HOST.php by HTTP_HOST.
$stack_host = getenv( 'STACK_WP_HOST' );
if ( ! $stack_host ) {
	fwrite( STDERR, "STACK_WP_HOST is not set\n" );
	exit( 2 );
}
$_SERVER['HTTP_HOST']       = $stack_host;
$_SERVER['SERVER_NAME']     = $stack_host;
// A multisite subdirectory site is chosen by path: STACK_WP_PATH=/second/.
$_SERVER['REQUEST_URI']     = getenv( 'STACK_WP_PATH' ) ?: '/';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['REMOTE_ADDR']     = '127.0.0.1';
if ( getenv( 'STACK_WP_INSTALLING' ) ) {
	define( 'WP_INSTALLING', true );
}
require_once ( getenv( 'STACK_WP_ROOT' ) ?: '/usr/share/wordpress' ) . '/wp-load.php';
