<?php
// Side experiment (not run by run.sh): what the plugin's REST route costs beyond the do-nothing route, measured
// in-process so that the machine's noise between HTTP requests does not hide it. Dispatches the same POST body
// through rest_do_request() to the do-nothing route (bench/http/bench-routes.php) and to the plugin's route,
// interleaved in rounds; prints the median µs per request of each and the difference. Run inside
// bench/experiments/wp_site.sh (REST_PUBLIC is set here):
//   php bench/experiments/rest_cost.php [N=2000] [ROUNDS=7]
define( 'REG_BUFFER_REST_PUBLIC', true );
require getenv( 'STACK_WP_LOAD' );
require dirname( __DIR__ ) . '/http/bench-routes.php';
do_action( 'rest_api_init', rest_get_server() );
$n = (int) ( $argv[1] ?? 2000 ); $rounds = (int) ( $argv[2] ?? 7 );
$routes = array( 'noop' => '/reg-buffer-bench/v1/events/7/noop', 'rest' => '/reg-buffer/v1/events/7/registrations' );
$times = array();
for ( $r = 0; $r < $rounds; $r++ ) {
	foreach ( $routes as $name => $path ) {
		$t = hrtime( true );
		for ( $i = 0; $i < $n; $i++ ) {
			$request = new WP_REST_Request( 'POST', $path );
			$request->set_header( 'Content-Type', 'application/json' );
			$request->set_body( sprintf( '{"registration":{"email":"p%d.%d@example.com","name":"Ada Lovelace","ticket":"GA","qty":2,"ip":"203.0.113.7"},"unique_key":"p%d.%d.%d@example.com"}', $r, $i, $r, $i, getmypid() ) );
			$response = rest_get_server()->response_to_data( rest_do_request( $request ), false );
			if ( 0 === $i && 0 === $r && ! isset( $response['status'] ) ) {
				fwrite( STDERR, "$name: unexpected answer " . json_encode( $response ) . "\n" );
				exit( 1 );
			}
		}
		$times[ $name ][] = ( hrtime( true ) - $t ) / $n / 1000;
	}
	// The push alone, as the route makes it (Reg_Buffer_Registrar::register: the plugin's settings, then the push).
	$t = hrtime( true );
	for ( $i = 0; $i < $n; $i++ ) {
		Reg_Buffer_Registrar::register( 7, array( 'email' => "q{$r}.{$i}@example.com", 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7' ), sprintf( 'q%d.%d.%d@example.com', $r, $i, getmypid() ) );
	}
	$times['register'][] = ( hrtime( true ) - $t ) / $n / 1000;
}
$med = static function ( array $v ): float { sort( $v ); return $v[ intdiv( count( $v ), 2 ) ]; };
printf( "do-nothing route %.1f us, plugin route %.1f us per request; the plugin route's own work: %.1f us, of which Reg_Buffer_Registrar::register() (the push) %.1f us (medians of %d rounds of %d)\n",
	$med( $times['noop'] ), $med( $times['rest'] ), $med( array_map( static fn( $a, $b ) => $b - $a, $times['noop'], $times['rest'] ) ), $med( $times['register'] ), $rounds, $n );
