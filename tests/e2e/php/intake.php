<?php
// WordPress-side helpers of tests/e2e/intake.sh (the fast intake itself is tested over HTTP, without WordPress).
//   php intake.php setup                    events (two published posts, one draft); prints JSON with their ids,
//                                           whether the site had no intake config file before its first token, and
//                                           the file's path, mode and group after it
//   php intake.php mint EVENT [USES] [TTL]  a token from reg_buffer_form_token()
//   php intake.php mint-expired EVENT       a token of this site, expired 10 s ago
//   php intake.php mint-foreign EVENT       a well-formed token for this site signed with another secret
//   php intake.php shortcode EVENT          the [reg_buffer_form_token] shortcode's output
//   php intake.php set-aside ID             the reg_buffer_rejected entry of registration ID as JSON (null if none),
//                                           then removes the set-aside entries (later tests expect none)
//   php intake.php remove-config            deletes this site's intake config file (test cleanup)
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );

$mode  = $argv[1] ?? '';
$event = (int) ( $argv[2] ?? 0 );
switch ( $mode ) {
	case 'setup':
		$ids = array();
		foreach ( array( 'a' => 'publish', 'b' => 'publish', 'draft' => 'draft' ) as $name => $status ) {
			$ids[ $name ] = wp_insert_post( array( 'post_title' => "Intake event {$name}", 'post_status' => $status, 'post_type' => 'post' ), true );
			if ( is_wp_error( $ids[ $name ] ) ) {
				fwrite( STDERR, $ids[ $name ]->get_error_message() . "\n" );
				e2e_exit( 1 );
			}
		}
		$ids['no_file_before_a_form'] = ! is_file( Reg_Buffer_Intake::config_file() );
		reg_buffer_form_token( $ids['a'] ); // The first form rendered writes the intake's config file.
		$file = Reg_Buffer_Intake::config_file();
		clearstatcache();
		$ids['site']   = Reg_Buffer_Intake::site_id();
		$ids['file']   = $file;
		$ids['mode']   = is_file( $file ) ? sprintf( '%04o', fileperms( $file ) & 0777 ) : null;
		$ids['group']  = is_file( $file ) ? ( posix_getgrgid( filegroup( $file ) )['name'] ?? null ) : null;
		echo json_encode( $ids ), "\n";
		break;
	case 'mint':
		echo reg_buffer_form_token( $event, array( 'uses' => (int) ( $argv[3] ?? 1 ), 'ttl' => (int) ( $argv[4] ?? 3600 ) ) ), "\n";
		break;
	case 'mint-expired':
		echo Reg_Buffer_Form_Token::mint( Reg_Buffer_Intake::secret(), Reg_Buffer_Intake::site_id(), $event, time() - 10, 1 ), "\n";
		break;
	case 'mint-foreign':
		echo Reg_Buffer_Form_Token::mint( bin2hex( random_bytes( 32 ) ), Reg_Buffer_Intake::site_id(), $event, time() + 600, 5 ), "\n";
		break;
	case 'shortcode':
		echo do_shortcode( '[reg_buffer_form_token event="' . $event . '"]' ), "\n";
		break;
	case 'set-aside':
		$found = null;
		foreach ( Reg_Buffer_Store::rejected() as $entry ) {
			if ( ( $entry['id'] ?? null ) === $argv[2] ) {
				$found = $entry;
			}
		}
		echo json_encode( $found, E2E_JSON ), "\n";
		delete_option( Reg_Buffer_Store::REJECTED_OPTION );
		break;
	case 'remove-config':
		wp_delete_file( Reg_Buffer_Intake::config_file() );
		delete_option( Reg_Buffer_Intake::CONFIG_OPTION );
		break;
	default:
		fwrite( STDERR, "unknown mode {$mode}\n" );
		e2e_exit( 2 );
}
e2e_exit( 0 );
