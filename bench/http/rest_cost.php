<?php
// What the plugin's REST route costs beyond the do-nothing route, measured in-process, where the noise between
// HTTP requests (a WordPress floor of 10-25 ms a request on this machine) cannot hide a fraction of a millisecond.
// Dispatches the same POST body through rest_do_request() to the do-nothing route (bench/http/bench-routes.php)
// and to the plugin's route, interleaved in rounds, and times Reg_Buffer_Registrar::register() (what the route
// calls: the push) on its own. Prints one JSON line: µs per request of each, medians over the rounds.
// Run with WordPress loaded (stack_wp_php; bench/http.sh, or bench/ab/site.sh by hand):
//   php rest_cost.php [N=2000] [ROUNDS=1]
require getenv( 'STACK_WP_LOAD' );
require dirname( __DIR__ ) . '/common.php';
add_filter( 'reg_buffer_rest_permission', '__return_true' ); // As REG_BUFFER_REST_PUBLIC does on the bench site.
$server = rest_get_server(); // Fires rest_api_init: the bench site has the bench routes active.
if ( ! isset( $server->get_routes()['/reg-buffer-bench/v1/events/(?P<id>\d+)/noop'] ) ) {
	require __DIR__ . '/bench-routes.php'; // A site without them (wp_site.sh).
	do_action( 'rest_api_init', $server );
}
$n      = (int) ( $argv[1] ?? 2000 );
$rounds = (int) ( $argv[2] ?? 1 );
$routes = array( 'noop' => '/reg-buffer-bench/v1/events/7/noop', 'rest' => '/reg-buffer/v1/events/7/registrations' );
$tag    = getmypid() . '.' . bin2hex( random_bytes( 3 ) );
$times  = array();
$fields = static fn( string $email ): array => array( 'email' => $email, 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7' );
for ( $r = 0; $r < $rounds; $r++ ) {
	foreach ( $routes as $name => $path ) {
		$t = hrtime( true );
		for ( $i = 0; $i < $n; $i++ ) {
			$request = new WP_REST_Request( 'POST', $path );
			$request->set_header( 'Content-Type', 'application/json' );
			$request->set_body( json_encode( array( 'registration' => $fields( "{$name}{$r}.{$i}@example.com" ), 'unique_key' => "{$name}{$r}.{$i}.{$tag}@example.com" ) ) );
			$response = rest_do_request( $request );
			if ( 201 !== $response->get_status() ) {
				emit( array( 'error' => "$name answered " . $response->get_status() . ': ' . json_encode( $response->get_data() ) ) );
				exit( 1 );
			}
		}
		$times[ $name ][] = ( hrtime( true ) - $t ) / $n / 1000;
	}
	$t = hrtime( true );
	for ( $i = 0; $i < $n; $i++ ) {
		Reg_Buffer_Registrar::register( 7, $fields( "push{$r}.{$i}@example.com" ), "push{$r}.{$i}.{$tag}@example.com" );
	}
	$times['push'][] = ( hrtime( true ) - $t ) / $n / 1000;
}
$med = static function ( array $v ): float { sort( $v ); return $v[ intdiv( count( $v ), 2 ) ]; };
emit( array(
	'n'       => $n * $rounds,
	'noop_us' => $med( $times['noop'] ),
	'rest_us' => $med( $times['rest'] ),
	'own_us'  => $med( array_map( static fn( $a, $b ) => $b - $a, $times['noop'], $times['rest'] ) ),
	'push_us' => $med( $times['push'] ),
) );
