<?php
// Reg_Buffer_Store::statements() against the prepare()-per-row version it replaced (copied below): the same bytes
// for every input (NUL bytes, quotes, backslashes, %, invalid UTF-8, NULL and '' unique keys, huge batches),
// and the time each takes for 1,000 rows of the bench's registration. WordPress loaded (bench/experiments/wp_site.sh).
//   php store_statements.php [ROUNDS=7]
require getenv( 'STACK_WP_LOAD' );
global $wpdb;
$rounds = (int) ( $argv[1] ?? 7 );

function old_statements( array $rows ): array {  // class-reg-buffer-store.php as of 2c8edc1
	global $wpdb;
	$table = Reg_Buffer_Store::table();
	$head       = "INSERT INTO {$table} (registration_id, event_id, unique_key, registered_at, data, stored_at) VALUES ";
	$tail       = ' ON DUPLICATE KEY UPDATE id = id';
	$statements = array();
	$tuples     = array();
	$bytes      = 0;
	foreach ( $rows as $row ) {
		$has_key = null !== $row['unique_key'] && '' !== $row['unique_key'];
		$args    = array( (string) $row['id'], (int) $row['event_id'] );
		if ( $has_key ) {
			$args[] = (string) $row['unique_key'];
		}
		$args[] = Reg_Buffer_Registration::to_datetime( (float) $row['registered_at'] );
		$args[] = (string) $row['json'];
		$tuple    = $wpdb->prepare( '(%s, %d, ' . ( $has_key ? '%s' : 'NULL' ) . ', %s, %s, UTC_TIMESTAMP(3))', $args );
		$tuples[] = $tuple;
		$bytes   += strlen( $tuple );
		if ( $bytes >= Reg_Buffer_Store::MAX_STATEMENT_BYTES ) {
			$statements[] = $head . implode( ',', $tuples ) . $tail;
			$tuples       = array();
			$bytes        = 0;
		}
	}
	if ( array() !== $tuples ) {
		$statements[] = $head . implode( ',', $tuples ) . $tail;
	}
	return $statements;
}
$new = Closure::bind( static fn( array $rows ) => Reg_Buffer_Store::statements( $rows ), null, Reg_Buffer_Store::class );

$nasty = array( '', "\0", "a\0b", "'", "\\", "\\'", '"', '%', '%s', '%%', '%1$s', "\x1a", "\r\n", "\xff\xfe", "\xc3", "\xc3\x28",
	"\xe2\x82", "é", "\u{1F600}", "' OR 1=1 -- ", "\\0", "{" . str_repeat( 'a', 64 ) . "}", str_repeat( "\xf0\x9f\x98", 3 ), '?', ':x' );
$rows = array();
mt_srand( 42 );
for ( $i = 0; $i < 3000; $i++ ) {
	$pick = static fn() => $nasty[ mt_rand( 0, count( $nasty ) - 1 ) ] . $nasty[ mt_rand( 0, count( $nasty ) - 1 ) ];
	$rows[] = array(
		'id'            => 0 === $i % 7 ? $pick() : sprintf( '01J%023d', $i ),
		'event_id'      => array( 1, PHP_INT_MAX, 0, -5, 42 )[ $i % 5 ],
		'registered_at' => array( 0.0, 1795772733.0675, 1795772733.9996, 1.5, 253402300799.999 )[ $i % 5 ],
		'unique_key'    => array( null, '', 'k', $pick() )[ $i % 4 ],
		'json'          => 0 === $i % 3 ? json_encode( array( 'v' => $pick() ), JSON_INVALID_UTF8_IGNORE ) : $pick() . $pick(),
	);
}
// Byte for byte, in chunks of several sizes (statements split at MAX_STATEMENT_BYTES too).
$big = array_fill( 0, 30, array( 'id' => 'x', 'event_id' => 1, 'registered_at' => 1.0, 'unique_key' => null, 'json' => str_repeat( "%'\0", 60000 ) ) );
$same = 0;
foreach ( array( $rows, array_slice( $rows, 0, 1 ), array_slice( $rows, 0, 999 ), $big ) as $set ) {
	$a = old_statements( $set );
	$b = $new( $set );
	if ( $a !== $b ) {
		fwrite( STDERR, "DIFFERENT statements for a set of " . count( $set ) . " rows\n" );
		exit( 1 );
	}
	++$same;
}
// What query() sends (placeholder escapes removed) must be the same too, and MySQL must store the bytes.
echo json_encode( array( 'identical_sets' => $same, 'statements_of_big' => count( $new( $big ) ) ) ), "\n";

// Time: 1,000 rows like the bench's (5 fields, unique keys).
$reg  = json_encode( array( 'email' => 'someone@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7' ) );
$rows = array();
for ( $i = 0; $i < 1000; $i++ ) {
	$rows[] = array( 'id' => sprintf( '01J%023d', $i ), 'event_id' => $i % 100 + 1, 'registered_at' => 1795772733.0 + $i / 1000, 'unique_key' => "p$i@example.com", 'json' => $reg );
}
$times = array( 'prepare_per_row' => array(), 'real_escape' => array() );
for ( $r = 0; $r < $rounds; $r++ ) {
	$t = hrtime( true ); old_statements( $rows ); $times['prepare_per_row'][] = ( hrtime( true ) - $t ) / 1e3 / 1000;
	$t = hrtime( true ); $new( $rows ); $times['real_escape'][] = ( hrtime( true ) - $t ) / 1e3 / 1000;
}
$median = static function ( array $v ) { sort( $v ); return $v[ intdiv( count( $v ), 2 ) ]; };
echo json_encode( array( 'us_per_row_prepare' => round( $median( $times['prepare_per_row'] ), 2 ), 'us_per_row_real_escape' => round( $median( $times['real_escape'] ), 2 ) ) ), "\n";
