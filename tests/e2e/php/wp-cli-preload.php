<?php
// Required by ops.sh's ops_wp (WP-CLI's --require, run before WordPress boots): compiles every class of the Mustache
// WP-CLI 2.12 bundles while the harness's -d error_reporting (no E_DEPRECATED) still holds. On PHP 8.4 Mustache's
// implicitly nullable parameters are deprecated when a class is compiled; WP-CLI loads it on every command (the
// synopsis of its global parameters), after WP_DEBUG set E_ALL, so its notices reached the output the tests read.
// Nothing else is loaded early or hidden: any other deprecation (the plugin's above all) still shows.
// WP-CLI requires this file inside a function (these variables are not globals), before it loads Composer's
// autoloader: Mustache's own autoloader loads the classes here, and is removed again.
$src = realpath( WP_CLI_ROOT . '/../../mustache/mustache/src' ); // vendor/wp-cli/wp-cli -> vendor/mustache/mustache.
if ( false === $src ) {
	return; // A WP-CLI without Mustache beside it: nothing to compile early.
}
require_once "$src/Mustache/Autoloader.php";
$loader = Mustache_Autoloader::register( $src );
// PSR-0: src/Mustache/Loader/FilesystemLoader.php holds Mustache_Loader_FilesystemLoader.
foreach ( new RecursiveIteratorIterator( new RecursiveDirectoryIterator( "$src/Mustache", FilesystemIterator::SKIP_DOTS ) ) as $file ) {
	if ( 'php' === $file->getExtension() ) {
		$class = str_replace( '/', '_', substr( $file->getPathname(), strlen( $src ) + 1, -4 ) );
		class_exists( $class ) || interface_exists( $class );
	}
}
spl_autoload_unregister( array( $loader, 'autoload' ) );
