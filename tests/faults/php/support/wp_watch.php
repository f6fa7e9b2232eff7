<?php
// The plugin's side of plugin_redis_data_loss (WordPress loaded, STACK_WP_LOAD):
//   php wp_watch.php push N REF_PREFIX LEDGER      N registrations through reg_buffer_register(); ledger lines
//                                                  "ok|direct <id> <ref>" as the other scenarios write them
//   php wp_watch.php admin-ack                     the admin page's Acknowledge button (nonce, administrator)
//   php wp_watch.php status [no-phpredis]          one status check, printed as JSON: warning codes and texts, the
//                                                  recorded losses, the watch's snapshot, Redis persistence, the
//                                                  Site Health Redis test, and what the admin page shows
// "no-phpredis" turns the plugin's own phpredis use off (filter reg_buffer_use_phpredis): the watch then has only
// the extension's counters to go by.
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
	fwrite( STDERR, "usage: wp_watch.php push N PREFIX LEDGER | status [no-phpredis] | admin-ack\n" );
	exit( 2 );
}
if ( 'no-phpredis' === ( $argv[2] ?? '' ) ) {
	add_filter( 'reg_buffer_use_phpredis', '__return_false' );
}
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
			'warning'    => 1 === preg_match( '/<li class="reg-buffer-warning-bad" data-code="redis_data_lost">/', $html ),
			'ack_button' => str_contains( $html, 'data-op="ack_loss"' ),
			'verdict'    => str_contains( $html, 'data-state="bad"' ),
		),
		'now'         => time(),
	),
	JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
), "\n";
