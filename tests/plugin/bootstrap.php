<?php
// PHPUnit bootstrap of the plugin tests: a throw-away site on the real stack, removed at exit.
//   - a private redis-server on a free port (tests/php/support/RedisServer.php, as the extension's tests use);
//   - a MariaDB database and user of its own, made over root's socket (as tests/lib/stack.sh does);
//   - /etc/wordpress/config-HOST.php (Debian's wp-config.php picks it by HTTP_HOST) naming both;
//   - the plugin linked into wp-content/plugins under a name of its own, WordPress installed (tests/lib/wp-install.php)
//     and the plugin activated (activate.php), each in a process of its own, then WordPress loaded here as on any
//     request.
// REG_BUFFER_PLUGIN_TESTS_KEEP=1 keeps the database and the config for a look afterwards; REG_BUFFER_PLUGIN_TESTS_LOG=1
// prints the PHP error log (where the plugin reports outages) at the end; REG_BUFFER_PLUGIN_SOURCE=DIR tests another
// copy of the plugin (e.g. one changed on purpose, to see a test fail).
declare(strict_types=1);

use RegBuffer\Tests\Support\RedisServer;

// wp-config.php and wp-settings.php set globals; PHPUnit may include this file from inside a method.
global $table_prefix, $wpdb, $wp_version, $wp_db_version;

foreach (['reg_buffer', 'mysqli', 'redis', 'posix'] as $needed) {
    if (!extension_loaded($needed)) {
        fwrite(STDERR, "\nthe plugin tests need the $needed extension in this PHP (" . PHP_BINARY . "); ./build.sh build installs reg_buffer\n\n");
        exit(1);
    }
}
$wp_root = getenv('STACK_WP_ROOT') ?: '/usr/share/wordpress';
$wp_content = getenv('STACK_WP_CONTENT') ?: '/var/lib/wordpress/wp-content';
$wp_etc = getenv('STACK_WP_ETC') ?: '/etc/wordpress';
if (!is_file("$wp_root/wp-load.php") || !is_dir("$wp_content/plugins") || !is_writable($wp_etc)) {
    fwrite(STDERR, "\nthe plugin tests need Debian's wordpress package ($wp_root, $wp_content/plugins) and a writable $wp_etc (run as root)\n\n");
    exit(1);
}

require dirname(__DIR__) . '/php/support/Topology.php';
require dirname(__DIR__) . '/php/support/RedisServer.php';
require __DIR__ . '/support/Site.php';
require __DIR__ . '/support/SiteTestCase.php';

$rb_run = getmypid() . '_' . bin2hex(random_bytes(3));
$rb_site = new RegBuffer\Tests\Plugin\Site(
    host: 'rb-plugin-' . str_replace('_', '-', $rb_run) . '.test',
    database: 'rb_plugin_' . $rb_run,
    password: bin2hex(random_bytes(12)),
    plugin: 'reg-buffer-plugin-tests-' . $rb_run,
    wpContent: $wp_content,
    wpEtc: $wp_etc,
);
$GLOBALS['reg_buffer_test_site'] = $rb_site;
$rb_bootstrap_pid = getmypid();
register_shutdown_function(static function () use ($rb_site, $rb_bootstrap_pid): void {
    if (getmypid() !== $rb_bootstrap_pid) {
        return; // A forked child must not remove the parent's site.
    }
    if (isset($GLOBALS['rb_error_log']) && is_file($GLOBALS['rb_error_log']) && filesize($GLOBALS['rb_error_log']) > 0 && getenv('REG_BUFFER_PLUGIN_TESTS_LOG')) {
        fwrite(STDERR, "PHP error log of the run:\n" . file_get_contents($GLOBALS['rb_error_log']));
    }
    if (isset($GLOBALS['reg_buffer_test_redis'])) {
        $GLOBALS['reg_buffer_test_redis']->stop();
    }
    if (getenv('REG_BUFFER_PLUGIN_TESTS_KEEP')) {
        fwrite(STDERR, "kept database {$rb_site->database} and {$rb_site->configFile()}\n");
        $rb_site->removePlugin();
        return;
    }
    $rb_site->remove();
});

$GLOBALS['reg_buffer_test_redis'] = RedisServer::start();
// The plugin reports outages to the PHP error log, once per kind per process: into a file, not the test output.
$GLOBALS['rb_error_log'] = $GLOBALS['reg_buffer_test_redis']->dir . '/php-error.log';
ini_set('error_log', $GLOBALS['rb_error_log']);
$rb_site->create(
    $wp_root,
    __DIR__ . '/activate.php',
    getenv('REG_BUFFER_PLUGIN_SOURCE') ?: dirname(__DIR__, 2) . '/wordpress-plugin/reg-buffer',
    [
        'REG_BUFFER_REDIS_URL' => $GLOBALS['reg_buffer_test_redis']->url(),
        'REG_BUFFER_KEY_PREFIX' => "rb-plugin-tests-$rb_run:",
        // The tests stop Redis and start it again: the extension's circuit breaker must not outlast that.
        'REG_BUFFER_RETRY_INTERVAL_MS' => 0,
        'REG_BUFFER_CONNECT_TIMEOUT_MS' => 500,
    ],
);
fwrite(STDERR, "plugin tests: site {$rb_site->host} (database {$rb_site->database}), Redis at " . $GLOBALS['reg_buffer_test_redis']->url() . "\n");

// As on any request for that host: Debian's wp-config.php picks the config by HTTP_HOST.
$_SERVER['HTTP_HOST'] = $rb_site->host;
$_SERVER['SERVER_NAME'] = $rb_site->host;
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
require_once "$wp_root/wp-load.php";
require_once ABSPATH . "wp-admin/includes/plugin.php";
if (!class_exists('Reg_Buffer_Plugin', false) || !is_plugin_active($rb_site->pluginBasename())) {
    fwrite(STDERR, "\nthe plugin is not active on the test site after activate.php\n\n");
    exit(1);
}
