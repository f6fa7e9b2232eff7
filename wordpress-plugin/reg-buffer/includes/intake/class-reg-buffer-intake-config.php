<?php
/**
 * Owns where the fast intake's config files live and how they are written and read: one rule for the plugin (which
 * writes them) and intake.php (which reads them without WordPress, so nothing in here calls WordPress).
 *
 * @package RegBuffer
 */

if ( ! defined( 'ABSPATH' ) && ! defined( 'REG_BUFFER_INTAKE' ) ) {
	exit;
}

/**
 * The directory is REG_BUFFER_INTAKE_CONFIG_DIR when set (a wp-config constant for the plugin, the same value as a
 * fastcgi_param or environment variable for intake.php: the way to keep it outside the web root), else
 * `reg-buffer-intake` beside the plugins directory (wp-content/reg-buffer-intake on a default install). The plugin
 * finds the plugins directory as WordPress names it (WP_PLUGIN_DIR); intake.php as the web server named the script
 * (SCRIPT_FILENAME, which keeps a symlinked plugin folder's path), then by its own resolved path — PHP resolves
 * symlinks in __DIR__, so that alone would miss a symlinked plugin folder.
 *
 * Every file written there is PHP that exits when run, temp files included (`.<name>.tmp.php`): a web server that
 * serves the directory runs them and shows nothing. The config is JSON after `__halt_compiler();`, which the intake
 * reads as a file, not through include: an opcode cache (opcache.validate_timestamps=0, or its revalidate_freq) would
 * keep serving an old config — `accepting` included — after WP-CLI or another PHP pool rewrote it.
 */
final class Reg_Buffer_Intake_Config {

	const DIR_NAME = 'reg-buffer-intake';
	const VERSION  = 3; // 2: JSON after __halt_compiler(); `accepting`, `rate_limit`, `trusted_proxies`. 3: `seats`, `stale`.
	const DATA     = "exit;\n__halt_compiler();\n";

	/**
	 * The directory for a plugins directory, unless REG_BUFFER_INTAKE_CONFIG_DIR names one.
	 *
	 * @param string      $plugins_dir the plugins directory.
	 * @param string|null $configured  REG_BUFFER_INTAKE_CONFIG_DIR, when set.
	 */
	public static function dir( string $plugins_dir, ?string $configured = null ): string {
		if ( null !== $configured && '' !== $configured ) {
			return rtrim( $configured, '/' );
		}
		return dirname( rtrim( $plugins_dir, '/' ) ) . '/' . self::DIR_NAME;
	}

	/**
	 * Where intake.php looks for site $site's file: the first of its candidate directories holding it, or null.
	 *
	 * @param array  $server      $_SERVER (REG_BUFFER_INTAKE_CONFIG_DIR, SCRIPT_FILENAME).
	 * @param string $intake_file intake.php's own (resolved) path.
	 * @param string $site        a site id (checked by the caller: 16 hex characters).
	 */
	public static function find( array $server, string $intake_file, string $site ): ?string {
		$configured = (string) ( $server['REG_BUFFER_INTAKE_CONFIG_DIR'] ?? getenv( 'REG_BUFFER_INTAKE_CONFIG_DIR' ) );
		if ( '' !== $configured ) {
			return self::dir( '', $configured ) . '/' . $site . '.php';
		}
		$dirs   = array();
		$script = (string) ( $server['SCRIPT_FILENAME'] ?? '' );
		if ( '' !== $script && $script !== $intake_file && realpath( $script ) === $intake_file ) {
			$dirs[] = self::dir( dirname( $script, 2 ) ); // The plugin folder's path as the web server sees it.
		}
		$dirs[] = self::dir( dirname( $intake_file, 2 ) );
		foreach ( $dirs as $dir ) {
			if ( is_file( $dir . '/' . $site . '.php' ) ) {
				return $dir . '/' . $site . '.php';
			}
		}
		return null;
	}

	/**
	 * The text of a config file: PHP that exits when run, the config as JSON after it; '' when it cannot be encoded.
	 *
	 * @param array $config what intake.php needs.
	 */
	public static function file_text( array $config ): string {
		$json = json_encode( $config, JSON_UNESCAPED_SLASHES ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode -- no WordPress in the intake.
		if ( false === $json ) {
			return '';
		}
		return "<?php\n// Written by the reg_buffer plugin for intake.php (see readme.txt, Fast intake). Do not edit: it is rewritten.\n"
			. self::DATA . $json . "\n";
	}

	/**
	 * A config file's config, or null when it is missing or not one.
	 *
	 * @param string $file the file.
	 */
	public static function read( string $file ): ?array {
		$text = @file_get_contents( $file ); // phpcs:ignore WordPress.PHP.NoSilencedErrors,WordPress.WP.AlternativeFunctions -- missing is an answer (null).
		$at   = false === $text ? false : strpos( $text, self::DATA );
		if ( false === $at ) {
			return null;
		}
		$config = json_decode( substr( $text, $at + strlen( self::DATA ) ), true );
		return is_array( $config ) ? $config : null;
	}

	/**
	 * The temp file a config is written to before it is renamed into place: in the same directory (the rename is
	 * atomic), never a name the intake includes (not `<16 hex>.php`), and ending in .php, so that one left by a crash
	 * is run (and exits), not served as text.
	 *
	 * @param string $file the config file.
	 */
	public static function temp_path( string $file ): string {
		return dirname( $file ) . '/.' . basename( $file, '.php' ) . '.' . bin2hex( random_bytes( 4 ) ) . '.tmp.php';
	}

	/**
	 * The guard files of the directory, for a web server that serves it: nothing to list, nothing to read.
	 *
	 * @return array<string,string> name => text.
	 */
	public static function guards(): array {
		return array(
			'index.php' => "<?php\n// Silence is golden.\n",
			'.htaccess' => "Require all denied\nDeny from all\n",
		);
	}
}
