<?php
// Fault class 2: redis-server SIGKILLed and restarted (AOF, appendfsync always) while two pushers and a flusher
// run. Mid-push: random kills under full push load (a push that throws falls back to a direct, id-keyed write).
// Mid-flush: a second flusher is held after its claim or after its COMMIT while Redis dies and comes back, then
// goes on (its ack fails or lands on the restarted server; an un-acked batch comes back after its lease).
// Every push that returned an id, and every fallback write, must be stored exactly once.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$kills = short_mode() ? 10 : 40;
$tmp = fenv('FAULTS_TMP') . '/s2';
@mkdir($tmp, 0700, true);
$redis = new FRedis('s2', ['--appendonly', 'yes', '--appendfsync', 'always']);
$prefix = 'faults2:';
$table = 's2_regs';
create_table($table);
$env = ['FAULTS_URL' => $redis->url(), 'FAULTS_PREFIX' => $prefix];
putenv('FAULTS_URL=' . $redis->url());
putenv('FAULTS_PREFIX=' . $prefix);
use_buffer($redis->url(), $prefix, ['retry_interval_ms' => 100]);
register_shutdown_function(fn () => $redis->stop());

$stop = "$tmp/stop";
$pushers = [];
for ($w = 0; $w < 2; $w++) {
    $pushers[] = spawn(__DIR__ . '/support/pusher.php', [$table, "$tmp/ledger.$w", "s2w$w", 200000, $stop, 3, 1000], $env);
}
$flusher = spawn(__DIR__ . '/support/flusher.php', [$table, 2, 200, "run:$stop.flusher", $tmp, 1000000], $env);
$done = ['mid-push' => 0, 'mid-flush after claim' => 0, 'mid-flush after COMMIT' => 0];
$pausedOk = 0;
for ($k = 0; $k < $kills; $k++) {
    usleep(mt_rand(200_000, 600_000));
    $kind = ['mid-push', 'mid-flush after claim', 'mid-flush after COMMIT'][$k % 3];
    $paused = null;
    if ($kind !== 'mid-push') {
        $stage = $kind === 'mid-flush after claim' ? 'after_claim' : 'after_commit';
        $markers = "$tmp/m$k";
        mkdir($markers);
        $paused = spawn(__DIR__ . '/support/flusher.php', [$table, 2, 100, "pause:$stage", $markers, 1], $env);
        if (!wait_file("$markers/$stage", 100)) {
            posix_kill(proc_pid($paused), SIGKILL);
            wait_proc($paused);
            $paused = null;
            flog("kill $k: the paused flusher never reached $stage");
            continue;
        }
    }
    $redis->kill9();
    usleep(mt_rand(0, 300_000));
    $redis->restart();
    $done[$kind]++;
    if ($paused !== null) {
        touch("$markers/go");
        $pausedOk += wait_proc($paused, 600) === 0 ? 1 : 0;
    }
}
touch($stop);
foreach ($pushers as $p) {
    wait_proc($p, 1200);
}
touch("$stop.flusher");
$flusherRc = wait_proc($flusher, 1200);
$drain = drain($table, 500, 2);
$v = verify($table, glob("$tmp/ledger.*"));
$ps = pusher_summaries("$tmp/ledger.*.summary");
$checks = [
    'drain emptied the buffer' => $drain['empty'],
    'nothing lost' => $v['lost'] === 0,
    'nothing doubled' => $v['doubled'] === 0,
    'no row without a ledger entry' => $v['extra'] === 0,
    'ids match refs' => $v['id_mismatch'] === 0,
    'the flusher ended normally' => $flusherRc === 0,
    'all kills done' => array_sum($done) === $kills,
];
result('Redis SIGKILL + restart, AOF always (mid-push, mid-flush)', array_sum($done), $v, $checks,
    ['seed' => $seed, 'kills' => $done, 'paused flushers that went on' => $pausedOk, 'pushers' => $ps, 'drain' => $drain,
     'redelivered' => reg_buffer_stats()['redelivered']]);
