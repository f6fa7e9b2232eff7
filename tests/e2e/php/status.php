<?php
// Prints reg_buffer_status(): as JSON without arguments, or the JSON value of each dotted KEY given, one a line.
require __DIR__ . '/common.php'; // First: its guard must see a death during loading.
require getenv( 'STACK_WP_LOAD' );
$status = reg_buffer_status();
if ( $argc < 2 ) {
	echo json_encode( $status, JSON_UNESCAPED_SLASHES ), "\n";
	e2e_exit( 0 );
}
foreach ( array_slice( $argv, 1 ) as $path ) {
	$value = $status;
	foreach ( explode( '.', $path ) as $part ) {
		$value = is_array( $value ) && array_key_exists( $part, $value ) ? $value[ $part ] : null;
	}
	echo json_encode( $value, JSON_UNESCAPED_SLASHES ), "\n";
}
e2e_exit( 0 );
