<?php
// PHPUnit bootstrap: insists on the loaded extension, starts the suite's private Redis, stops it at exit.
// REG_BUFFER_TEST_TOPOLOGY=cluster (phpunit-cluster.xml): the suite's Redis is a 3-master/3-replica Redis Cluster
// instead of one redis-server; tests in @group single-node are then skipped, tests in @group cluster run.
declare(strict_types=1);

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\RedisCluster;
use RegBuffer\Tests\Support\RedisServer;
use RegBuffer\Tests\Support\TestCase;

if (!extension_loaded('reg_buffer')) {
    fwrite(STDERR, "\nreg_buffer is NOT loaded in this PHP (" . PHP_BINARY . ', ' . (php_ini_loaded_file() ?: 'no php.ini') . ").\n"
        . "Run ./build.sh build (installs it for the CLI), or: php -d extension=" . dirname(__DIR__, 2) . "/target/release/libreg_buffer.so /usr/bin/phpunit -c tests/php/phpunit.xml\n\n");
    exit(1);
}
foreach (['redis', 'posix'] as $needed) {
    if (!extension_loaded($needed)) {
        fwrite(STDERR, "\nthe tests need the $needed extension (php8.2-$needed)\n\n");
        exit(1);
    }
}

require __DIR__ . '/support/Topology.php';
require __DIR__ . '/support/RedisServer.php';
require __DIR__ . '/support/RedisCluster.php';
require __DIR__ . '/support/PhpProcess.php';
require __DIR__ . '/support/TestCase.php';

// Worker subprocesses must load the same extension: through php.ini when it is installed, else by path.
(static function (): void {
    $probe = static function (array $php): bool {
        $out = [];
        exec(implode(' ', array_map('escapeshellarg', [...$php, '-r', 'echo extension_loaded("reg_buffer") ? "yes" : "no";'])) . ' 2>/dev/null', $out);
        return ($out[0] ?? '') === 'yes';
    };
    $built = getenv('REG_BUFFER_TEST_EXTENSION') ?: dirname(__DIR__, 2) . '/target/release/libreg_buffer.so';
    foreach ([[PHP_BINARY], [PHP_BINARY, '-d', "extension=$built"]] as $php) {
        if ($probe($php)) {
            PhpProcess::$php = $php;
            return;
        }
    }
    fwrite(STDERR, "\nphp subprocesses cannot load reg_buffer (neither from php.ini nor from $built)\n\n");
    exit(1);
})();

$topology = getenv('REG_BUFFER_TEST_TOPOLOGY') ?: 'single-node';
if (!in_array($topology, ['single-node', 'cluster'], true)) {
    fwrite(STDERR, "\nREG_BUFFER_TEST_TOPOLOGY is single-node (the default) or cluster, not $topology\n\n");
    exit(1);
}
$GLOBALS['reg_buffer_test_redis'] = $topology === 'cluster' ? RedisCluster::start(3, 1) : RedisServer::start();
fwrite(STDERR, "reg_buffer tests against: $topology (" . $GLOBALS['reg_buffer_test_redis']->url() . ")\n");
$bootstrapPid = getmypid();
register_shutdown_function(static function () use ($bootstrapPid): void {
    // A forked child must not stop the parent's server.
    if (getmypid() === $bootstrapPid) {
        $GLOBALS['reg_buffer_test_redis']->stop();
        TestCase::stopExtraServers();
        TestCase::removeTempFiles();
    }
});
