<?php
// Runs WordPress's own wp-cron.php once from the CLI, as a system cron job would: due events run, ours included.
$_SERVER['HTTP_HOST']      = getenv( 'STACK_WP_HOST' );
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REQUEST_URI']    = '/wp-cron.php';
require ( getenv( 'STACK_WP_ROOT' ) ?: '/usr/share/wordpress' ) . '/wp-cron.php';
