<?php
// PHPUnit bootstrap: insists on the loaded extension, starts the suite's private redis-server, stops it at exit.
declare(strict_types=1);

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\RedisServer;

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

require __DIR__ . '/support/RedisServer.php';
require __DIR__ . '/support/PhpProcess.php';
require __DIR__ . '/support/TestCase.php';

// Worker subprocesses must load the same extension: through php.ini when it is installed, else by path.
(static function (): void {
    $probe = static function (array $php): bool {
        $out = [];
        exec(implode(' ', array_map('escapeshellarg', [...$php, '-r', 'echo extension_loaded("reg_buffer") ? "yes" : "no";'])) . ' 2>/dev/null', $out);
        return ($out[0] ?? '') === 'yes';
    };
    $built = dirname(__DIR__, 2) . '/target/release/libreg_buffer.so';
    foreach ([[PHP_BINARY], [PHP_BINARY, '-d', "extension=$built"]] as $php) {
        if ($probe($php)) {
            PhpProcess::$php = $php;
            return;
        }
    }
    fwrite(STDERR, "\nphp subprocesses cannot load reg_buffer (neither from php.ini nor from $built)\n\n");
    exit(1);
})();

$GLOBALS['reg_buffer_test_redis'] = RedisServer::start();
$bootstrapPid = getmypid();
register_shutdown_function(static function () use ($bootstrapPid): void {
    // A forked child must not stop the parent's server.
    if (getmypid() === $bootstrapPid) {
        $GLOBALS['reg_buffer_test_redis']->stop();
        RegBuffer\Tests\Support\TestCase::stopExtraServers();
        RegBuffer\Tests\Support\TestCase::removeTempFiles();
    }
});
