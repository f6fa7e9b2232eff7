<?php
// MariaDB going away during the flush: a private mariadbd (own datadir and unix socket, no TCP) is SIGKILLed
// (crash: InnoDB recovery on restart) or stopped (SIGTERM) while pushers fill Redis and a flusher stores batches;
// it comes back after a moment. Committed batches survive, uncommitted ones roll back and come again after their
// lease; nothing lost or doubled. The system MariaDB is not touched.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$faults = short_mode() ? 4 : 12;
$base = fenv('FAULTS_TMP');
$tmp = "$base/s12";
@mkdir($tmp, 0755, true);
chmod($base, 0755); // mariadbd runs as mysql: it must reach its datadir inside our temp dir
$my = "$tmp/mysql";
@mkdir($my, 0755, true);
chown($my, 'mysql');
$socket = "$my/sock";
$pidFile = "$my/pid";
$install = sprintf('mariadb-install-db --no-defaults --user=mysql --datadir=%s --skip-test-db --auth-root-authentication-method=normal > %s 2>&1',
    escapeshellarg("$my/data"), escapeshellarg("$my/install.log"));
exec($install, $o, $rc);
if ($rc !== 0) {
    result('MariaDB SIGKILL / stop during the flush (private mariadbd)', 0, [], ['mariadb-install-db' => false], ['log' => @file_get_contents("$my/install.log")]);
    exit(1);
}
$start = function () use ($my, $socket, $pidFile): bool {
    @unlink($pidFile);
    $cmd = sprintf('mariadbd --no-defaults --user=mysql --datadir=%s --socket=%s --pid-file=%s --skip-networking --skip-grant-tables'
        . ' --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --log-error=%s > /dev/null 2>&1 &',
        escapeshellarg("$my/data"), escapeshellarg($socket), escapeshellarg($pidFile), escapeshellarg("$my/error.log"));
    exec($cmd);
    for ($i = 0; $i < 600; $i++) {
        try {
            $db = new mysqli('localhost', 'root', '', '', 0, $socket);
            $db->close();
            return true;
        } catch (Throwable $e) {
            usleep(100_000);
        }
    }
    return false;
};
$pid = fn () => (int) @file_get_contents($pidFile);
$waitGone = function (int $p) {
    for ($i = 0; $i < 600 && $p > 0 && posix_kill($p, 0); $i++) {
        usleep(100_000);
    }
};
register_shutdown_function(function () use ($pid) {
    if ($pid() > 0) {
        posix_kill($pid(), SIGKILL);
    }
});
if (!$start()) {
    result('MariaDB SIGKILL / stop during the flush (private mariadbd)', 0, [], ['private mariadbd started' => false], ['log' => @file_get_contents("$my/error.log")]);
    exit(1);
}
ini_set('mysqli.default_socket', $socket);
putenv('FAULTS_DB=faults12');
putenv("FAULTS_MYSQL_SOCKET=$socket");
(new mysqli('localhost', 'root', '', '', 0, $socket))->query('CREATE DATABASE faults12 CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
$table = 's12_regs';
create_table($table);

$redis = new FRedis('s12', ['--appendonly', 'no']);
register_shutdown_function(fn () => $redis->stop());
$prefix = 'faults12:';
$env = ['FAULTS_URL' => $redis->url(), 'FAULTS_PREFIX' => $prefix];
putenv('FAULTS_URL=' . $redis->url());
putenv('FAULTS_PREFIX=' . $prefix);
use_buffer($redis->url(), $prefix);
$stop = "$tmp/stop";
$pushers = [];
for ($w = 0; $w < 2; $w++) {
    // Pushes go to Redis (up all along); the fallback is not expected here.
    $pushers[] = spawn(__DIR__ . '/support/pusher.php', [$table, "$tmp/ledger.$w", "s12w$w", 200000, $stop, 3, 1500], $env);
}
$flusher = spawn(__DIR__ . '/support/reconnecting_flusher.php', [$table, 2, 100, "$stop.flusher", "$tmp/flusher.json"], $env);
$done = ['SIGKILL (crash)' => 0, 'SIGTERM (stop)' => 0];
$restartFailed = 0;
for ($k = 0; $k < $faults; $k++) {
    usleep(mt_rand(500_000, 1_200_000));
    $p = $pid();
    $crash = $k % 2 === 0;
    posix_kill($p, $crash ? SIGKILL : SIGTERM);
    $waitGone($p);
    $done[$crash ? 'SIGKILL (crash)' : 'SIGTERM (stop)']++;
    usleep(mt_rand(200_000, 1_000_000));
    if (!$start()) {
        $restartFailed++;
        break;
    }
}
touch($stop);
foreach ($pushers as $p) {
    wait_proc($p, 1200);
}
touch("$stop.flusher");
$rc = wait_proc($flusher, 1200);
$fl = json_decode((string) @file_get_contents("$tmp/flusher.json"), true);
$drain = drain($table, 500, 2);
$v = verify($table, glob("$tmp/ledger.*"));
$checks = [
    'mariadbd restarted every time' => $restartFailed === 0,
    'the flusher ended normally' => $rc === 0 && is_array($fl),
    'drain emptied the buffer' => $drain['empty'],
    'nothing lost' => $v['lost'] === 0,
    'nothing doubled' => $v['doubled'] === 0,
    'no row without a ledger entry' => $v['extra'] === 0,
];
result('MariaDB SIGKILL / stop during the flush (private mariadbd)', array_sum($done), $v, $checks,
    ['seed' => $seed, 'faults' => $done, 'flusher' => $fl, 'drain' => $drain, 'pushers' => pusher_summaries("$tmp/ledger.*.summary")]);
