<?php
// The two WP_CLI\Utils functions the plugin's commands use, as the stand-in's (see wp-cli.php): format_items prints
// table (tab-separated, header first), json, csv, yaml or count; make_progress_bar returns a bar that counts ticks
// and prints "<message> <done>/<total>" when finished.
namespace WP_CLI\Utils;

function format_items( string $format, array $items, $fields ): void {
	$fields = is_array( $fields ) ? $fields : explode( ',', (string) $fields );
	$rows   = array_map( static fn( $item ) => array_combine( $fields, array_map( static fn( $f ) => ( (array) $item )[ $f ] ?? null, $fields ) ), $items );
	switch ( $format ) {
		case 'json':
			echo json_encode( $rows, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE ), "\n";
			return;
		case 'count':
			echo count( $rows ), "\n";
			return;
		case 'csv':
			$out = fopen( 'php://output', 'w' );
			fputcsv( $out, $fields );
			foreach ( $rows as $row ) {
				fputcsv( $out, array_map( static fn( $v ) => is_scalar( $v ) || null === $v ? $v : json_encode( $v ), $row ) );
			}
			return;
		case 'yaml':
			foreach ( $rows as $row ) {
				echo "-\n";
				foreach ( $row as $k => $v ) {
					echo "  {$k}: ", json_encode( $v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE ), "\n";
				}
			}
			return;
		case 'table':
			echo implode( "\t", $fields ), "\n";
			foreach ( $rows as $row ) {
				echo implode( "\t", array_map( static fn( $v ) => is_scalar( $v ) || null === $v ? (string) $v : json_encode( $v ), $row ) ), "\n";
			}
			return;
		default:
			\WP_CLI::error( "Invalid format: {$format}" );
	}
}

final class Standin_Progress_Bar {
	public int $done = 0;
	public function __construct( public string $message, public int $total ) {
	}
	public function tick( int $increment = 1 ): void {
		$this->done += $increment;
	}
	public function finish(): void {
		echo "{$this->message} {$this->done}/{$this->total}\n";
	}
}

function make_progress_bar( string $message, int $count ): Standin_Progress_Bar {
	return new Standin_Progress_Bar( $message, $count );
}
