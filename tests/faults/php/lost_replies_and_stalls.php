<?php
// Faults: replies lost on the way back (a proxy in front of Redis that forwards commands and swallows replies:
// tests/php/workers/reply_eating_proxy.php) and Redis stalled (CLIENT PAUSE ... ALL), while two
// pushers go through the proxy (timeout_ms 300) and a flusher drains Redis directly. A push that times out falls
// back to a direct write keyed by the id it tried: when the command did run, the flush later meets that id again
// and INSERT IGNORE keeps one row. The breaker trips, and pushes return to Redis when it answers again.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$faultsWanted = short_mode() ? 8 : 40;
$tmp = fenv('FAULTS_TMP') . '/s8';
@mkdir($tmp, 0700, true);
$redis = new FRedis('s8', ['--appendonly', 'no']);
$flag = "$tmp/eat-replies";
$proxy = proc_open([PHP_BINARY, __DIR__ . '/../../php/workers/reply_eating_proxy.php', (string) $redis->port, $flag],
    [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => STDERR], $pipes);
register_shutdown_function(function () use ($redis, $proxy) {
    @posix_kill(proc_get_status($proxy)['pid'], SIGKILL);
    $redis->stop();
});
stream_set_blocking($pipes[1], true);
$line = (string) fgets($pipes[1]);
if (!preg_match('/port (\d+)/', $line, $m)) {
    result('lost replies (proxy) + CLIENT PAUSE stalls', 0, [], ['proxy started' => false]);
    exit(1);
}
$proxyUrl = "redis://127.0.0.1:{$m[1]}";
$prefix = 'faults8:';
$table = 's8_regs';
create_table($table);
putenv('FAULTS_URL=' . $redis->url());
putenv('FAULTS_PREFIX=' . $prefix);
use_buffer($redis->url(), $prefix);
$stop = "$tmp/stop";
$pushers = [];
for ($w = 0; $w < 2; $w++) {
    $pushers[] = spawn(__DIR__ . '/support/pusher.php', [$table, "$tmp/ledger.$w", "s8w$w", 200000, $stop, 3, 2000],
        ['FAULTS_URL' => $proxyUrl, 'FAULTS_PREFIX' => $prefix, 'FAULTS_PUSH_TIMEOUT_MS' => '300']);
}
$flusher = spawn(__DIR__ . '/support/flusher.php', [$table, 5, 200, "run:$stop.flusher", $tmp, 1000000],
    ['FAULTS_URL' => $redis->url(), 'FAULTS_PREFIX' => $prefix]);
$done = ['lost replies' => 0, 'CLIENT PAUSE' => 0];
$admin = $redis->client();
for ($k = 0; $k < $faultsWanted; $k++) {
    usleep(mt_rand(300_000, 700_000));
    if ($k % 2 === 0) {
        touch($flag);
        usleep(mt_rand(400_000, 800_000));
        unlink($flag);
        $done['lost replies']++;
    } else {
        $admin->rawCommand('CLIENT', 'PAUSE', (string) mt_rand(500, 900), 'ALL');
        $done['CLIENT PAUSE']++;
    }
}
// Traffic after the last fault must go to Redis again. First the last fault must be over: a PING on the admin
// connection blocks while CLIENT PAUSE ... ALL lasts. Then each pusher writes 40 more ledger lines (bounded wait).
@unlink($flag);
$admin->ping();
// A pusher whose last call failed or timed out keeps its circuit breaker open for reg_buffer.retry_interval_ms
// (100 ms here) and writes directly meanwhile, as designed; on a loaded machine its last timed-out call may end well
// after the fault did. The traffic counted below starts after both.
usleep(1_000_000);
$count = fn ($f) => is_file($f) ? count(file($f)) : 0;
$base = array_map($count, ["$tmp/ledger.0", "$tmp/ledger.1"]);
for ($i = 0; $i < 600 && min($count("$tmp/ledger.0") - $base[0], $count("$tmp/ledger.1") - $base[1]) < 40; $i++) {
    usleep(100_000);
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
// Pushes whose reply was lost but whose command ran: their id is both a direct row and a buffered registration.
$claimedTwice = 0;
$flushed = 0;
foreach (glob("$tmp/stats.*") as $f) {
    $s = json_decode(file_get_contents($f), true);
    $claimedTwice += $s['claimed'] - $s['inserted'];
    $flushed += $s['claimed'];
}
$tailOk = true;
$tails = [];
foreach (glob("$tmp/ledger.[0-9]") as $f) {
    $lines = file($f, FILE_IGNORE_NEW_LINES);
    $tail = array_slice($lines, -20);
    $tails[] = implode(',', array_map(fn ($l) => strstr($l, "\t", true), $tail));
    $tailOk = $tailOk && count($tail) === 20 && count(array_filter($tail, fn ($l) => str_starts_with($l, "ok\t"))) === 20;
}
// Lost-reply pushes whose command had run: the fallback's id also reached the table through the flush.
$directIds = [];
foreach (glob("$tmp/ledger.[0-9]") as $f) {
    foreach (file($f, FILE_IGNORE_NEW_LINES) as $l) {
        if (str_starts_with($l, "direct\t")) {
            $directIds[] = "'" . explode("\t", $l)[1] . "'";
        }
    }
}
$landed = $directIds === [] ? 0 : (int) db()->query("SELECT COUNT(*) FROM `$table` WHERE via = 'flush' AND registration_id IN (" . implode(',', $directIds) . ')')->fetch_row()[0];
$breaker = 0;
foreach ($ps['errors'] as $k => $n) {
    $breaker += str_contains($k, 'not retrying') ? $n : 0;
}
$checks = [
    'drain emptied the buffer' => $drain['empty'],
    'nothing lost' => $v['lost'] === 0,
    'nothing doubled' => $v['doubled'] === 0,
    'no row without a ledger entry' => $v['extra'] === 0,
    'some pushes fell back' => $ps['direct'] > 0,
    'some lost-reply pushes had landed (and were stored once)' => $landed + $claimedTwice > 0,
    'the breaker tripped' => $breaker > 0,
    'the last 20 pushes of each pusher went to Redis' => $tailOk,
    'the flusher ended normally' => $flusherRc === 0,
];
// A hung Redis (SIGSTOP: it accepts connections, answers nothing) met on a fresh connection: how long a push
// blocks, against timeout_ms 300 / connect_timeout_ms 1000 and 500 (a figure, not a check: no time is asserted).
$hung = new FRedis('s8hung', ['--appendonly', 'no']);
$hungPid = $hung->pid();
posix_kill($hungPid, SIGSTOP);
$stall = [];
foreach ([[300, 1000], [300, 500]] as [$t, $c]) {
    use_buffer($hung->url(), $prefix, ['timeout_ms' => $t, 'connect_timeout_ms' => $c, 'retry_interval_ms' => 0]);
    $t0 = microtime(true);
    try {
        reg_buffer_push(1, ['ref' => 'hung']);
        $stall["timeout_ms=$t connect_timeout_ms=$c"] = 'accepted?!';
    } catch (RegBuffer\ConnectionException $e) {
        $stall["timeout_ms=$t connect_timeout_ms=$c"] = sprintf('ConnectionException after %.2f s', microtime(true) - $t0);
    }
}
posix_kill($hungPid, SIGCONT);
$hung->stop();
result('lost replies (proxy) + CLIENT PAUSE stalls: fallback, breaker, recovery', array_sum($done), $v, $checks,
    ['seed' => $seed, 'faults' => $done, 'pushers' => $ps, 'flushed rows already stored by the fallback' => $claimedTwice, 'fallback ids the flush stored first (the push had landed)' => $landed, 'ledger tails' => $tails, 'push to a SIGSTOPped Redis, fresh connection' => $stall, 'drain' => $drain]);
