<?php
// A small stand-in for WP-CLI (wp-cli is not a Debian package): loads WordPress with WP_CLI defined, lets the plugin
// register its commands through WP_CLI::add_command() as under a real `wp`, then runs one command the way WP-CLI
// dispatches it: the longest registered command name wins, the next word is the subcommand (a method, hyphens as
// underscores, or the method whose docblock says `@subcommand <name>`), the rest are positional arguments and
// --key=value / --flag options. Output goes to STDOUT (log, line, success) and STDERR (warning, error) with WP-CLI's
// prefixes; the exit code is WP-CLI's (error: 1, halt: its code; a question not answered "y" ends it with 0).
// `help <command>` prints what WP-CLI's help takes from the docblocks: the first line as the short description,
// under DESCRIPTION, and each subcommand's under SUBCOMMANDS.
//
//   php wp-cli.php reg-buffer status --format=json
//   php wp-cli.php help reg-buffer
define( 'WP_CLI', true );

final class WP_CLI_Standin_Exit extends \Exception {
}

// phpcs:disable Generic.Files.OneObjectStructurePerFile
final class WP_CLI {
	/** @var array<string,string> command name => class */
	public static $commands = array();

	public static function add_command( string $name, $callable, array $args = array() ): bool {
		self::$commands[ $name ] = $callable;
		// WP-CLI reads the class as it registers it (loading its file, which may register more).
		return ! is_string( $callable ) || class_exists( $callable );
	}
	public static function log( $message ): void {
		echo $message, "\n";
	}
	public static function line( $message = '' ): void {
		echo $message, "\n";
	}
	public static function success( $message ): void {
		echo 'Success: ', $message, "\n";
	}
	public static function warning( $message ): void {
		fwrite( STDERR, 'Warning: ' . $message . "\n" );
	}
	public static function error( $message, $exit = true ): void {
		fwrite( STDERR, 'Error: ' . $message . "\n" );
		if ( $exit ) {
			throw new WP_CLI_Standin_Exit( '', 1 );
		}
	}
	public static function halt( int $code ): void {
		throw new WP_CLI_Standin_Exit( '', $code );
	}
	public static function confirm( string $question, array $assoc_args = array() ): void {
		if ( empty( $assoc_args['yes'] ) ) {
			echo $question, ' [y/n] ';
			if ( 'y' !== strtolower( trim( (string) fgets( STDIN ) ) ) ) {
				throw new WP_CLI_Standin_Exit( '', 0 );
			}
		}
	}
	public static function print_value( $value, array $assoc_args = array() ): void {
		$format = $assoc_args['format'] ?? '';
		if ( 'json' === $format ) {
			echo json_encode( $value ), "\n";
		} elseif ( 'yaml' === $format ) {
			echo "---\n", self::yaml( (array) $value, 0 );
		} else {
			echo is_array( $value ) || is_object( $value ) ? var_export( $value, true ) : $value, "\n";
		}
	}
	/** YAML of nested arrays: maps as `key: value`, lists as `- value`, scalars JSON-encoded (valid YAML). */
	private static function yaml( array $value, int $indent ): string {
		$out = '';
		foreach ( $value as $key => $item ) {
			$head = str_repeat( ' ', $indent ) . ( array_is_list( $value ) ? '-' : "{$key}:" );
			$out .= is_array( $item ) && array() !== $item
				? $head . "\n" . self::yaml( $item, $indent + 2 )
				: $head . ' ' . ( array() === $item ? '[ ]' : json_encode( $item, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE ) ) . "\n";
		}
		return $out;
	}
	/** The short description WP-CLI takes from a docblock: its first line. */
	public static function shortdesc( string $doc ): string {
		$text = preg_replace( '/^\s*\/\*\*|\s*\*\/$|^\s*\* ?/m', '', $doc );
		return explode( "\n", ltrim( $text, "\n" ) )[0];
	}
}
// phpcs:enable

require __DIR__ . '/wp-cli-utils.php';
require getenv( 'STACK_WP_LOAD' );

$words = array();
$assoc = array();
foreach ( array_slice( $argv, 1 ) as $arg ) {
	if ( preg_match( '/^--([^=]+)=(.*)$/s', $arg, $m ) ) {
		$assoc[ $m[1] ] = $m[2];
	} elseif ( str_starts_with( $arg, '--' ) ) {
		$assoc[ substr( $arg, 2 ) ] = true;
	} else {
		$words[] = $arg;
	}
}
// `help <command>`: its short description, and its subcommands' (methods and child commands) as WP-CLI lists them.
if ( 'help' === ( $words[0] ?? '' ) ) {
	$name = implode( ' ', array_slice( $words, 1 ) );
	if ( ! isset( WP_CLI::$commands[ $name ] ) ) {
		fwrite( STDERR, "Error: '{$name}' is not a registered wp command.\n" );
		exit( 1 );
	}
	$ref  = new ReflectionClass( WP_CLI::$commands[ $name ] );
	$subs = array();
	foreach ( $ref->getMethods( ReflectionMethod::IS_PUBLIC ) as $candidate ) {
		$doc = (string) $candidate->getDocComment();
		if ( ! $candidate->isStatic() && ! str_starts_with( $candidate->getName(), '__' ) ) {
			$subs[ preg_match( '/@subcommand\s+(\S+)/', $doc, $m ) ? $m[1] : str_replace( '_', '-', $candidate->getName() ) ] = WP_CLI::shortdesc( $doc );
		}
	}
	foreach ( WP_CLI::$commands as $child => $callable ) {
		if ( str_starts_with( $child, "{$name} " ) && ! str_contains( substr( $child, strlen( $name ) + 1 ), ' ' ) ) {
			$subs[ substr( $child, strlen( $name ) + 1 ) ] = WP_CLI::shortdesc( (string) ( new ReflectionClass( $callable ) )->getDocComment() );
		}
	}
	ksort( $subs );
	echo "NAME\n\n  wp {$name}\n\nDESCRIPTION\n\n  ", WP_CLI::shortdesc( (string) $ref->getDocComment() ), "\n\nSYNOPSIS\n\n  wp {$name} <command>\n\nSUBCOMMANDS\n\n";
	foreach ( $subs as $sub => $desc ) {
		printf( "  %-20s %s\n", $sub, $desc );
	}
	echo "\n";
	exit( 0 );
}
// The longest registered command that the words start with.
$class = null;
$used  = 0;
foreach ( WP_CLI::$commands as $name => $callable ) {
	$parts = explode( ' ', $name );
	if ( array_slice( $words, 0, count( $parts ) ) === $parts && count( $parts ) > $used ) {
		$class = $callable;
		$used  = count( $parts );
	}
}
if ( null === $class ) {
	fwrite( STDERR, "Error: '" . implode( ' ', $words ) . "' is not a registered wp command.\n" );
	exit( 1 );
}
$sub    = $words[ $used ] ?? '';
$args   = array_slice( $words, $used + 1 );
$method = null;
$ref    = new ReflectionClass( $class );
foreach ( $ref->getMethods( ReflectionMethod::IS_PUBLIC ) as $candidate ) {
	$doc = (string) $candidate->getDocComment();
	if ( preg_match( '/@subcommand\s+(\S+)/', $doc, $m ) ? $m[1] === $sub : str_replace( '_', '-', $candidate->getName() ) === $sub ) {
		$method = $candidate;
	}
}
if ( null === $method || $method->isStatic() || str_starts_with( $method->getName(), '__' ) ) {
	fwrite( STDERR, "Error: '{$sub}' is not a registered subcommand of '" . implode( ' ', array_slice( $words, 0, $used ) ) . "'.\n" );
	exit( 1 );
}
// Every command carries docblock help with examples, as `wp help` shows it.
if ( ! str_contains( (string) $method->getDocComment(), '## EXAMPLES' ) ) {
	fwrite( STDERR, "Error: {$class}::{$method->getName()} has no ## EXAMPLES in its docblock.\n" );
	exit( 1 );
}
try {
	$method->invoke( new $class(), $args, $assoc );
} catch ( WP_CLI_Standin_Exit $e ) {
	exit( $e->getCode() );
}
exit( 0 );
