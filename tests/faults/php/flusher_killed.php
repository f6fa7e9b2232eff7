<?php
// Fault class 1: the flusher SIGKILLed at random points, N times in a row, while two pushers keep going.
// Kill points: before_claim, after_claim, mid_insert (the INSERT is sent and blocked by a LOCK TABLES ... WRITE
// held by the harness, so the kill lands while the statement runs inside the transaction), after_commit (stored,
// not acked: the batch comes back after its lease and INSERT IGNORE inserts nothing), random (a flushing loop
// killed after a random delay). A final drain must store every accepted registration exactly once.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$kills = short_mode() ? 100 : 400;
$tmp = fenv('FAULTS_TMP') . '/s1';
@mkdir($tmp, 0700, true);
$redis = new FRedis('s1', ['--appendonly', 'yes', '--appendfsync', 'everysec']);
$prefix = 'faults1:';
$table = 's1_regs';
create_table($table);
$env = ['FAULTS_URL' => $redis->url(), 'FAULTS_PREFIX' => $prefix];
putenv('FAULTS_URL=' . $redis->url());
putenv('FAULTS_PREFIX=' . $prefix);
use_buffer($redis->url(), $prefix);
register_shutdown_function(fn () => $redis->stop());

$stop = "$tmp/stop";
$pushers = [];
for ($w = 0; $w < 2; $w++) {
    $pushers[] = spawn(__DIR__ . '/support/pusher.php', [$table, "$tmp/ledger.$w", "s1w$w", 200000, $stop, 3, 2000], $env);
}
$lock = db();
$points = ['before_claim', 'after_claim', 'mid_insert', 'after_commit', 'random'];
$done = array_fill_keys($points, 0);
$missed = 0;
for ($k = 0; $k < $kills; $k++) {
    $point = $points[mt_rand(0, count($points) - 1)];
    $markers = "$tmp/m$k";
    mkdir($markers);
    if ($point === 'random') {
        $p = spawn(__DIR__ . '/support/flusher.php', [$table, 2, mt_rand(1, 300), 'loop', $markers, 1000000], $env);
        usleep(mt_rand(0, 400_000));
        posix_kill(proc_pid($p), SIGKILL);
        wait_proc($p);
        $done[$point]++;
        continue;
    }
    $stage = $point === 'mid_insert' ? 'before_insert' : $point;
    if ($point === 'mid_insert') {
        $lock->query("LOCK TABLES `$table` WRITE");
    }
    $p = spawn(__DIR__ . '/support/flusher.php', [$table, 2, mt_rand(1, 300), "stop:$stage", $markers, 1000000], $env);
    $reached = wait_file("$markers/$stage", 100);
    if ($reached && $point === 'mid_insert') {
        // The marker is written just before the query: wait until the server shows the INSERT waiting.
        $seen = false;
        for ($i = 0; $i < 200 && !$seen; $i++) {
            $r = $lock->query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT IGNORE INTO `$table`%'");
            $seen = (int) $r->fetch_row()[0] > 0;
            $seen || usleep(10_000);
        }
        $reached = $seen;
    }
    posix_kill(proc_pid($p), SIGKILL);
    wait_proc($p);
    if ($point === 'mid_insert') {
        $lock->query('UNLOCK TABLES');
    }
    $reached ? $done[$point]++ : $missed++;
}
touch($stop);
foreach ($pushers as $p) {
    wait_proc($p, 1200);
}
$drain = drain($table, 500, 2);
$v = verify($table, glob("$tmp/ledger.*"));
$stats = reg_buffer_stats();
$checks = [
    'drain emptied the buffer' => $drain['empty'],
    'nothing lost' => $v['lost'] === 0,
    'nothing doubled' => $v['doubled'] === 0,
    'no row without a ledger entry' => $v['extra'] === 0,
    'ids match refs' => $v['id_mismatch'] === 0,
    'kill points reached (<=10% missed)' => $missed <= $kills / 10,
];
result('flusher SIGKILL (before claim/after claim/mid-INSERT/after COMMIT/random)', array_sum($done), $v, $checks,
    ['seed' => $seed, 'kills' => $done, 'missed' => $missed, 'redelivered' => $stats['redelivered'], 'drain' => $drain, 'rows' => $v['rows'], 'pushers' => pusher_summaries("$tmp/ledger.*.summary")]);
