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
// Byte for byte what wpdb::query() sends (its 'query' filter turns prepare()'s placeholder escapes back into %), as
// one list of tuples: the split into statements (at MAX_STATEMENT_BYTES) may fall elsewhere, since the old bytes
// counted the placeholder escapes.
$big = array_fill( 0, 30, array( 'id' => 'x', 'event_id' => 1, 'registered_at' => 1.0, 'unique_key' => null, 'json' => str_repeat( "%'\0", 60000 ) ) );
$head = 'INSERT INTO ' . Reg_Buffer_Store::table() . ' (registration_id, event_id, unique_key, registered_at, data, stored_at) VALUES ';
$tail = ' ON DUPLICATE KEY UPDATE id = id';
$sent = static function ( array $statements ) use ( $wpdb, $head, $tail ): string {
	$tuples = array();
	foreach ( $statements as $st ) {
		if ( ! str_starts_with( $st, $head ) || ! str_ends_with( $st, $tail ) ) {
			fwrite( STDERR, "a statement without the INSERT head or tail\n" );
			exit( 1 );
		}
		$tuples[] = substr( $st, strlen( $head ), -strlen( $tail ) );
	}
	return $wpdb->remove_placeholder_escape( implode( ',', $tuples ) );
};
$same = 0;
foreach ( array( $rows, array_slice( $rows, 0, 1 ), array_slice( $rows, 0, 999 ), $big ) as $set ) {
	if ( $sent( old_statements( $set ) ) !== $sent( $new( $set ) ) ) {
		fwrite( STDERR, "DIFFERENT statements for a set of " . count( $set ) . " rows\n" );
		exit( 1 );
	}
	++$same;
}
// MySQL must store the bytes: the hostile rows through the real insert path, read back.
$wpdb->query( 'TRUNCATE TABLE ' . Reg_Buffer_Store::table() );
$stored = array_values( array_filter( $rows, static fn( $r ) => 1 === preg_match( '/^[0-9A-Za-z]+$/', $r['id'] ) && ( null === $r['unique_key'] || '' === $r['unique_key'] || mb_check_encoding( $r['unique_key'], 'UTF-8' ) ) && mb_check_encoding( $r['json'], 'UTF-8' ) ) );
$keyed = array();
foreach ( $stored as $r ) { // one row per (event, unique key), as the table's unique index wants
	$k = $r['event_id'] . "\0" . ( $r['unique_key'] ?? '' );
	if ( null === $r['unique_key'] || '' === $r['unique_key'] || ! isset( $keyed[ $k ] ) ) { $keyed[ $k . ( null === $r['unique_key'] || '' === $r['unique_key'] ? $r['id'] : '' ) ] = $r; }
}
$stored = array_values( array_filter( $keyed, static fn( $r ) => $r['event_id'] > 0 ) );
$inserted = Reg_Buffer_Store::insert( $stored );
$back = $wpdb->get_results( 'SELECT registration_id, data FROM ' . Reg_Buffer_Store::table(), OBJECT_K );
$exact = 0;
foreach ( $stored as $r ) { $exact += isset( $back[ $r['id'] ] ) && $back[ $r['id'] ]->data === $r['json'] ? 1 : 0; }
echo json_encode( array( 'identical_sets' => $same, 'statements_of_big' => count( $new( $big ) ), 'inserted' => $inserted, 'stored_byte_exact' => $exact, 'of' => count( $stored ) ) ), "\n";
if ( $exact !== count( $stored ) ) { exit( 1 ); }

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
