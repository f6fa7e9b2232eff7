<?php
// Installs WordPress headlessly into the configured (empty) database: php wp-install.php URL
putenv( 'STACK_WP_INSTALLING=1' );
require getenv( 'STACK_WP_LOAD' );
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

// No MTA on a test machine: the welcome mail is not sent.
add_filter( 'pre_wp_mail', '__return_true' );

$url = $argv[1] ?? 'http://' . $_SERVER['HTTP_HOST'];
if ( is_blog_installed() ) {
	fwrite( STDERR, "already installed\n" );
	exit( 1 );
}
$result = wp_install( 'reg_buffer test site', 'admin', 'admin@example.test', true, '', wp_generate_password( 24 ) );
update_option( 'siteurl', $url );
update_option( 'home', $url );
// Pretty permalinks so /wp-json/... is routed like on a real site.
update_option( 'permalink_structure', '/%postname%/' );
flush_rewrite_rules( false );
echo "installed user {$result['user_id']}\n";
