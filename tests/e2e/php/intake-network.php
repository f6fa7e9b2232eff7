<?php
// Network-side helpers of tests/e2e/intake.sh (a site of a network and the fast intake), run on the network's main
// site with WordPress loaded:
//   php intake-network.php site PATH     a new site at PATH (the plugin is network-active: it gets its table), a
//                                        published event on it and a 10-use token: {"blog":…,"event":…,"token":…,"file":…}
//   php intake-network.php STATUS BLOG   archive | unarchive | spam | ham | deactivate | activate the site, as the
//                                        network admin's Sites screen does (update_blog_status)
//   php intake-network.php delete BLOG   deletes the site (wp_delete_site)
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$mode = $argv[1] ?? '';
$blog = (int) ( $argv[2] ?? 0 );
$flip = array(
	'archive'    => array( 'archived', 1 ),
	'unarchive'  => array( 'archived', 0 ),
	'spam'       => array( 'spam', 1 ),
	'ham'        => array( 'spam', 0 ),
	'deactivate' => array( 'deleted', 1 ),
	'activate'   => array( 'deleted', 0 ),
);
if ( isset( $flip[ $mode ] ) ) {
	update_blog_status( $blog, $flip[ $mode ][0], $flip[ $mode ][1] );
	e2e_exit( 0 );
}
switch ( $mode ) {
	case 'site':
		$made = wp_insert_site( array( 'domain' => get_network()->domain, 'path' => $argv[2], 'title' => 'Intake site' ) );
		e2e_check( ! is_wp_error( $made ), 'site created' );
		switch_to_blog( $made );
		$event = wp_insert_post( array( 'post_title' => 'Network event', 'post_status' => 'publish', 'post_type' => 'post' ) );
		$token = reg_buffer_form_token( $event, array( 'uses' => 10 ) );
		echo json_encode( array( 'blog' => $made, 'event' => $event, 'token' => $token, 'file' => Reg_Buffer_Intake::config_file() ) ), "\n";
		restore_current_blog();
		break;
	case 'delete':
		$deleted = wp_delete_site( $blog );
		e2e_check( ! is_wp_error( $deleted ), 'site deleted' );
		break;
	default:
		fwrite( STDERR, "unknown mode {$mode}\n" );
		e2e_exit( 2 );
}
e2e_exit( 0 );
