<?php
// Soak: a backlog of FAULTS_BACKLOG (default 1,000,000) registrations, pushed by 2 processes, then flushed into
// MariaDB by one flusher running under memory_limit=128M (batches of 2,000). Every registration stored once;
// the flusher's peak memory is reported.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$total = (int) fenv('FAULTS_BACKLOG', '1000000');
$tmp = fenv('FAULTS_TMP') . '/s9';
@mkdir($tmp, 0700, true);
$redis = new FRedis('s9', ['--appendonly', 'no']);
register_shutdown_function(fn () => $redis->stop());
$prefix = 'faults9:';
$table = 's9_regs';
create_table($table);
$env = ['FAULTS_URL' => $redis->url(), 'FAULTS_PREFIX' => $prefix];
putenv('FAULTS_URL=' . $redis->url());
putenv('FAULTS_PREFIX=' . $prefix);
use_buffer($redis->url(), $prefix);
$pushers = [];
for ($w = 0; $w < 2; $w++) {
    $pushers[] = spawn(__DIR__ . '/support/pusher.php', [$table, "$tmp/ledger.$w", "s9w$w", intdiv($total, 2), "$tmp/never", 50, 0], $env);
}
foreach ($pushers as $p) {
    wait_proc($p, 36000);
}
$backlog = reg_buffer_stats();
$cmd = array_merge([PHP_BINARY], ini_args(), ['-d', 'memory_limit=128M', __DIR__ . '/support/flusher.php', $table, '600', '2000', 'loop', $tmp, '100000']);
$p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => STDOUT, 2 => STDERR], $pipes, null, array_merge(getenv(), $env));
$rc = wait_proc($p, 36000);
$stats = [];
foreach (glob("$tmp/stats.*") as $f) {
    $stats = json_decode(file_get_contents($f), true);
}
unset($stats['ids']);
$drain = drain($table, 2000, 60);
$v = verify($table, glob("$tmp/ledger.*"));
$checks = [
    'the flusher under memory_limit=128M ended normally' => $rc === 0 && ($stats['errors'] ?? ['missing']) === [],
    'the backlog was complete' => $backlog['pending'] === $v['accepted'],
    'the flusher stored it all' => ($stats['claimed'] ?? 0) === $v['accepted'] && $drain['claimed'] === 0,
    'nothing lost' => $v['lost'] === 0,
    'nothing doubled' => $v['doubled'] === 0,
    'no row without a ledger entry' => $v['extra'] === 0,
];
result("backlog of $total flushed under memory_limit=128M", 1, $v, $checks,
    ['seed' => $seed, 'pending before the flush' => $backlog['pending'], 'flusher' => $stats, 'pushers' => pusher_summaries("$tmp/ledger.*.summary")]);
