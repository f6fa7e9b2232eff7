<?php
/**
 * Plugin Name:       reg_buffer
 * Plugin URI:        https://example.invalid/reg-buffer
 * Description:       Buffers event registrations in Redis through the reg_buffer PHP extension and flushes them to MySQL in batches, exactly once; writes straight to MySQL when Redis or the extension is unavailable.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.2
 * Author:            reg_buffer authors
 * License:           GPLv2 or later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       reg-buffer
 *
 * @package RegBuffer
 */

// The main file only guards and bootstraps; each concern lives in its folder under includes/, loaded on first use.
if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'REG_BUFFER_PLUGIN_VERSION', '0.1.0' );
define( 'REG_BUFFER_PLUGIN_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-reg-buffer-autoloader.php';
Reg_Buffer_Autoloader::register();
require_once __DIR__ . '/includes/core/functions.php';

register_activation_hook( __FILE__, array( 'Reg_Buffer_Plugin', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Reg_Buffer_Plugin', 'deactivate' ) );

Reg_Buffer_Plugin::instance()->boot(); // Every hook, and the WP-CLI commands, are wired there.
