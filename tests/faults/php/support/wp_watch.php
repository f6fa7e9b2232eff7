<?php
// The plugin's side of plugin_redis_data_loss (WordPress loaded, STACK_WP_LOAD):
//   php wp_watch.php push N REF_PREFIX LEDGER      N registrations through reg_buffer_register(); ledger lines
//                                                  "ok|direct <id> <ref>" as the other scenarios write them
//   php wp_watch.php admin-ack                     the admin page's Acknowledge button (nonce, administrator)
//   php wp_watch.php status                        what a flush run does first (the Redis watch observes), then
//                                                  one status check, printed as JSON: warning codes and texts, the
//                                                  recorded losses, the watch's snapshot, Redis persistence, the
//                                                  Site Health Redis test, and what the admin page shows
require getenv( 'STACK_WP_LOAD' );
$cmd = $argv[1] ?? '';
if ( 'push' === $cmd ) {
	[ , , $n, $prefix, $ledger ] = $argv;
	$tally = array();
	for ( $i = 0; $i < (int) $n; $i++ ) {
		$ref     = "$prefix-$i";
		$outcome = reg_buffer_register( 1 + $i % 3, array( 'ref' => $ref, 'i' => $i ), null );
		$status  = is_wp_error( $outcome ) ? 'error:' . $outcome->get_error_code() : $outcome->status;
		$tally[ $status ] = ( $tally[ $status ] ?? 0 ) + 1;
		if ( ! is_wp_error( $outcome ) && in_array( $outcome->status, array( 'buffered', 'stored' ), true ) ) {
			file_put_contents( $ledger, ( 'buffered' === $outcome->status ? 'ok' : 'direct' ) . "\t{$outcome->registration_id}\t$ref\n", FILE_APPEND | LOCK_EX );
		}
	}
	echo json_encode( $tally ), "\n";
	exit( 0 );
}
if ( 'admin-ack' === $cmd ) {
	// The admin page's Acknowledge button, as admin-post.php runs it: an administrator, the form's nonce.
	wp_set_current_user( 1 );
	$_POST['op']       = 'ack_loss';
	$_POST['entry']    = '';
	$_POST['_wpnonce'] = wp_create_nonce( 'reg-buffer-ack_loss|' );
	$_REQUEST          = $_POST;
	add_filter(
		'wp_redirect',
		static function ( $location ) {
			throw new RuntimeException( (string) $location );
		}
	);
	try {
		Reg_Buffer_Admin::handle_action();
		$redirect = null;
	} catch ( RuntimeException $e ) {
		$redirect = $e->getMessage();
	}
	echo json_encode(
		array(
			'redirect' => $redirect,
			'notice'   => get_transient( 'reg_buffer_notice_1' ),
			'losses'   => Reg_Buffer_Redis_Watch::incidents(),
		)
	), "\n";
	exit( 0 );
}
if ( 'status' !== $cmd ) {
	fwrite( STDERR, "usage: wp_watch.php push N PREFIX LEDGER | status | admin-ack\n" );
	exit( 2 );
}
// The watch observes at every flush run (WP-Cron's every minute, `wp reg-buffer flush`); the status only reads.
Reg_Buffer_Redis_Watch::observe();
$report = reg_buffer_status();
$tests  = Reg_Buffer_Site_Health::add_tests( array( 'direct' => array() ) );
$health = call_user_func( $tests['direct']['reg_buffer_redis']['test'] );
wp_set_current_user( 1 );
ob_start();
Reg_Buffer_Admin::render();
$html = ob_get_clean();
$i    = array_search( 'redis_data_lost', $report['warning_codes'], true );
echo json_encode(
	array(
		'codes'       => $report['warning_codes'],
		'loss_text'   => false === $i ? null : $report['warnings'][ $i ],
		'losses'      => $report['redis_losses'],
		'persistence' => $report['redis_persistence'],
		'snapshot'    => Reg_Buffer_Redis_Watch::snapshot(),
		'buffer'      => $report['buffer'],
		'health'      => array( 'status' => $health['status'], 'description' => wp_strip_all_tags( $health['description'] ) ),
		'admin'       => array(
			'warning'    => 1 === preg_match( '/<div class="notice notice-error inline reg-buffer-problem" data-code="redis_data_lost">/', $html ),
			'ack_button' => str_contains( $html, 'data-op="ack_loss"' ),
			'verdict'    => 1 === preg_match( '/class="notice notice-error inline reg-buffer-headline" data-state="[a-z]+" data-severity="error"/', $html ),
		),
		'now'         => time(),
	),
	JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
), "\n";
