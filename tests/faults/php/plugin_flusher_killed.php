<?php
// Fault class 1 through the WordPress plugin's real flush path (reg_buffer_flush_now: flush lock, claim, one
// INSERT per batch — in autocommit, or in a transaction when reg_buffer_before_commit has a listener — ack): the
// flusher SIGKILLed N times (WordPress loaded before the flush; mid-transaction after the INSERT, before COMMIT,
// with a listener; after the commit before the ack; at a random moment) while two pushers register through
// reg_buffer_register(). A final drain must store every accepted registration exactly once.
// Run by run.sh after it set up a site (FAULTS_WP_HOST, FAULTS_DB = the site's database).
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$kills = short_mode() ? 30 : 150;
$tmp = fenv('FAULTS_TMP') . '/s10';
@mkdir($tmp, 0700, true);
$stop = "$tmp/stop";
$pushers = [];
for ($w = 0; $w < 2; $w++) {
    $pushers[] = spawn(__DIR__ . '/support/wp_push.php', ["$tmp/ledger.$w", "wpw$w", 200000, $stop, 3000]);
}
$points = ['before_flush', 'before_commit', 'after_commit', 'random'];
$done = array_fill_keys($points, 0);
$missed = 0;
for ($k = 0; $k < $kills; $k++) {
    $point = $points[mt_rand(0, count($points) - 1)];
    $markers = "$tmp/m$k";
    mkdir($markers);
    if ($point === 'random') {
        $p = spawn(__DIR__ . '/support/wp_flush.php', [$markers, 'run']);
        usleep(mt_rand(0, 800_000));
        posix_kill(proc_pid($p), SIGKILL);
        wait_proc($p);
        $done[$point]++;
        continue;
    }
    $p = spawn(__DIR__ . '/support/wp_flush.php', [$markers, "stop:$point"]);
    $reached = wait_file("$markers/$point", 100);
    posix_kill(proc_pid($p), SIGKILL);
    wait_proc($p);
    $reached ? $done[$point]++ : $missed++;
}
touch($stop);
foreach ($pushers as $p) {
    wait_proc($p, 1200);
}
$out = [];
exec(implode(' ', array_map('escapeshellarg', array_merge([PHP_BINARY], ini_args(), [__DIR__ . '/support/wp_flush.php', $tmp, 'drain']))) . ' 2>&1', $out, $rc);
$drain = json_decode((string) end($out), true);
$v = verify('', glob("$tmp/ledger.*"), '', "SELECT registration_id, JSON_UNQUOTE(JSON_EXTRACT(data, '$.ref')) FROM wp_reg_buffer_registrations");
$checks = [
    'drain emptied the buffer' => is_array($drain) && ($drain['empty'] ?? false),
    'nothing lost' => $v['lost'] === 0,
    'nothing doubled' => $v['doubled'] === 0,
    'no row without a ledger entry' => $v['extra'] === 0,
    'ids match refs' => $v['id_mismatch'] === 0,
    'kill points reached (<=10% missed)' => $missed <= $kills / 10,
];
result('plugin flush path: flusher SIGKILL (before flush/mid-transaction/after COMMIT/random)', array_sum($done), $v, $checks,
    ['seed' => $seed, 'kills' => $done, 'missed' => $missed, 'drain' => $drain ?? end($out), 'pushers' => pusher_summaries("$tmp/ledger.*.summary")]);
