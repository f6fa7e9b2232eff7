<?php
// A front-end request on a site that uses neither the fast intake nor the admin page loads none of their code:
// WordPress loaded for GET / as index.php loads it (wp(), the template loader), then get_included_files() must hold
// nothing from the plugin's includes/intake/ or includes/admin/ (the history charts), and its core must be there.
//   php lazy-load.php
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
define( 'WP_USE_THEMES', true );
require getenv( 'STACK_WP_LOAD' );

// The CLI request's host has no port where the site's URL has one: the canonical redirect would answer 301 and exit.
remove_action( 'template_redirect', 'redirect_canonical' );
e2e_same( false, get_option( Reg_Buffer_Plugin::INTAKE_CONFIG_OPTION, false ), 'this site has not used the fast intake (run this case before the intake tests)' );
wp();
ob_start();
require ABSPATH . WPINC . '/template-loader.php';
ob_end_clean();
// Debian's WordPress ships no theme: the template loader runs its hooks and finds no template to render.
e2e_check( did_action( 'template_redirect' ) > 0 && did_action( 'wp' ) > 0, 'the front-end request ran wp() and the template loader' );

$plugin = wp_normalize_path( realpath( WP_PLUGIN_DIR . '/' . e2e_env( 'E2E_PLUGIN' ) ) ) . '/includes/';
$loaded = array();
foreach ( get_included_files() as $file ) {
	$file = wp_normalize_path( $file );
	if ( str_starts_with( $file, $plugin ) ) {
		$loaded[] = substr( $file, strlen( $plugin ) );
	}
}
e2e_check( in_array( 'core/class-reg-buffer-plugin.php', $loaded, true ), 'the plugin is loaded: ' . implode( ', ', $loaded ) );
foreach ( $loaded as $file ) {
	e2e_check( ! str_starts_with( $file, 'intake/' ) && ! str_starts_with( $file, 'admin/' ), "a front-end request loaded {$file}" );
}
echo json_encode( $loaded ), "\n";
e2e_done();
