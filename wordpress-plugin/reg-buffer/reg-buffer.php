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
 * Text Domain:       reg-buffer
 *
 * @package RegBuffer
 */

// The main file only guards and bootstraps; each concern lives in includes/.
if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'REG_BUFFER_PLUGIN_VERSION', '0.1.0' );
define( 'REG_BUFFER_PLUGIN_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-reg-buffer-settings.php';
require_once __DIR__ . '/includes/class-reg-buffer-bridge.php';
require_once __DIR__ . '/includes/class-reg-buffer-registration-rules.php';
require_once __DIR__ . '/includes/class-reg-buffer-registration.php';
require_once __DIR__ . '/includes/class-reg-buffer-outcome.php';
require_once __DIR__ . '/includes/class-reg-buffer-operator-action.php';
require_once __DIR__ . '/includes/class-reg-buffer-set-aside.php';
require_once __DIR__ . '/includes/class-reg-buffer-store.php';
require_once __DIR__ . '/includes/class-reg-buffer-status.php';
require_once __DIR__ . '/includes/class-reg-buffer-history.php';
require_once __DIR__ . '/includes/class-reg-buffer-quarantine.php';
require_once __DIR__ . '/includes/class-reg-buffer-registrar.php';
require_once __DIR__ . '/includes/class-reg-buffer-flush-lock.php';
require_once __DIR__ . '/includes/class-reg-buffer-flusher.php';
require_once __DIR__ . '/includes/class-reg-buffer-source-hooks.php';
require_once __DIR__ . '/includes/class-reg-buffer-events.php';
require_once __DIR__ . '/includes/class-reg-buffer-client-address.php';
require_once __DIR__ . '/includes/class-reg-buffer-rest-controller.php';
require_once __DIR__ . '/includes/class-reg-buffer-form-token.php';
require_once __DIR__ . '/includes/class-reg-buffer-intake-config.php';
require_once __DIR__ . '/includes/class-reg-buffer-intake.php';
require_once __DIR__ . '/includes/class-reg-buffer-admin.php';
require_once __DIR__ . '/includes/class-reg-buffer-site-health.php';
require_once __DIR__ . '/includes/class-reg-buffer-plugin.php';
require_once __DIR__ . '/includes/functions.php';

register_activation_hook( __FILE__, array( 'Reg_Buffer_Plugin', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Reg_Buffer_Plugin', 'deactivate' ) );

Reg_Buffer_Plugin::instance()->boot();

if ( defined( 'WP_CLI' ) && WP_CLI ) {
	require_once __DIR__ . '/includes/class-reg-buffer-cli.php';
	WP_CLI::add_command( 'reg-buffer', 'Reg_Buffer_CLI' );
	WP_CLI::add_command( 'reg-buffer quarantine', 'Reg_Buffer_Quarantine_CLI' );
}
