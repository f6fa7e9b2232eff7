<?php
// Shared by the e2e scripts: registrations with known content, the ledger of what must be stored, assertions.

const E2E_JSON = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

$e2e_failures = 0;
$e2e_finished = false;

// A script that dies on the way (wp_die on a database error, a fatal error) exits 0 with an HTML page unless
// this turns it into a failure: a test must not pass by not running.
register_shutdown_function(
	static function () {
		if ( ! $GLOBALS['e2e_finished'] ) {
			fwrite( STDERR, "  FAIL: the script ended before reaching its end\n" );
			exit( 1 );
		}
	}
);

/** Ends the script with CODE, marking it as having run to its end. */
function e2e_exit( int $code ): void {
	$GLOBALS['e2e_finished'] = true;
	exit( $code );
}

function e2e_check( bool $ok, string $what ): void {
	global $e2e_failures;
	if ( ! $ok ) {
		++$e2e_failures;
		fwrite( STDERR, "  FAIL: {$what}\n" );
	}
}

function e2e_same( $expected, $actual, string $what ): void {
	e2e_check( $expected === $actual, $what . ': expected ' . var_export( $expected, true ) . ', got ' . var_export( $actual, true ) );
}

function e2e_done(): void {
	global $e2e_failures;
	e2e_exit( $e2e_failures > 0 ? 1 : 0 );
}

function e2e_env( string $name ): string {
	$value = getenv( $name );
	if ( false === $value || '' === $value ) {
		fwrite( STDERR, "{$name} is not set\n" );
		exit( 2 );
	}
	return $value;
}

/**
 * A registration whose content exercises types, nesting and text a careless encoder would change.
 * $ref names it; the e-mail (when $with_key) makes it deduplicable.
 */
function e2e_registration( string $ref, int $n ): array {
	return array(
		'ref'     => $ref,
		'name'    => "Zoë Ünïcode #{$n} — 東京 \"quoted\" a/b \\ back",
		'email'   => "user{$n}@example.test",
		'tickets' => 1 + $n % 4,
		'price'   => 12.5 + $n % 3,
		'vip'     => 0 === $n % 7,
		'notes'   => null,
		'answers' => array(
			'diet'   => array( 'vegan', 'no nuts' ),
			'shirt'  => 'XL',
			'nested' => array( 'level' => array( 'deep' => array( true, false, 0, -1, 3.25 ) ) ),
		),
		'empty'   => array(),
	);
}

/** Appends accepted registrations to the ledger the verifier compares the table with. */
function e2e_ledger_add( int $event_id, ?string $unique_key, array $registration ): void {
	file_put_contents(
		e2e_env( 'E2E_LEDGER' ),
		json_encode( array( 'event_id' => $event_id, 'unique_key' => $unique_key, 'data' => $registration ), E2E_JSON ) . "\n",
		FILE_APPEND | LOCK_EX
	);
}

/** Counts outcomes by status (and error code). */
function e2e_tally( array &$tally, $outcome ): void {
	$key           = is_wp_error( $outcome ) ? 'error:' . $outcome->get_error_code() : $outcome->status;
	$tally[ $key ] = ( $tally[ $key ] ?? 0 ) + 1;
}
