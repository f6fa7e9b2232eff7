<?php
// Through the plugin (redis_persistence_modes' sequel): when Redis comes back without its data, the plugin's status
// must say so — how many registrations may be gone and between which times — and keep saying it (status, WP-CLI
// exit code, Site Health, admin page, one error_log line) until an operator acknowledges it; a restart that kept
// the data must not warn.
// A WordPress site run.sh set up on its own redis-server (FAULTS_WP_REDIS_DIR), started with appendfsync always:
//   1. 300 registrations flushed, 120 left buffered; status: no loss, persistence aof-always
//   2. kill -9 + restart with the AOF: the data is back, no warning (the watch saw the restart: new run_id)
//   3. 30 more buffered (150 in Redis); status
//   4. kill -9 + restart without persistence: Redis is empty; 25 more registrations arrive
//   5. status: "Redis lost its data … up to 150 registrations", evidence marker; the 150 are really missing from
//      the table after a drain, every other accepted registration is there
//   6. the warning stays (second process), is logged once, `wp reg-buffer status` exits 1, Site Health is critical,
//      the admin page shows it in red with an Acknowledge button; `wp reg-buffer acknowledge-loss` clears it
//   7. a second loss after the first was acknowledged: 40 buffered, kill -9 + restart, 10 new: detected by the
//      extension's epoch too
//   8. RDB: 100 buffered, SAVE, 50 more, kill -9, restart from the snapshot: detected by the counters (the marker
//      is in the snapshot); 150 reported, the 50 really missing, the 100 stored; acknowledged on the admin page
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$tmp = fenv('FAULTS_TMP') . '/s14p';
@mkdir($tmp, 0700, true);
$log = "$tmp/php-error.log";
$dir = fenv('FAULTS_WP_REDIS_DIR');
$aof = ['--appendonly', 'yes', '--appendfsync', 'always'];
$redis = FRedis::adopt($dir, (int) trim((string) file_get_contents("$dir/port")), $aof);
$cli = dirname(__DIR__, 2) . '/e2e/php/wp-cli.php';

/** Runs a PHP script with WordPress's loader in the environment; returns [exit code, stdout lines]. */
function wp_run(string $script, array $args, string $log): array
{
    $cmd = array_merge([PHP_BINARY], ini_args(), ['-d', 'log_errors=1', '-d', "error_log=$log", $script], $args);
    exec(implode(' ', array_map('escapeshellarg', $cmd)) . ' 2>>' . escapeshellarg("$log.stderr"), $out, $rc);
    return [$rc, $out];
}

/** A flush run's watch, then the status: what an operator sees after the next WP-Cron run. */
function watch_status(string $log): array
{
    [$rc, $out] = wp_run(__DIR__ . '/support/wp_watch.php', ['status'], $log);
    $s = json_decode((string) end($out), true);
    if ($rc !== 0 || !is_array($s)) {
        throw new RuntimeException("wp_watch.php status failed ($rc): " . implode("\n", $out));
    }
    return $s;
}

function push(int $n, string $prefix, string $ledger, string $log): void
{
    [$rc, $out] = wp_run(__DIR__ . '/support/wp_watch.php', ['push', (string) $n, $prefix, $ledger], $log);
    if ($rc !== 0) {
        throw new RuntimeException("push failed ($rc): " . implode("\n", $out));
    }
}

function drain_site(string $tmp, string $log): array
{
    [, $out] = wp_run(__DIR__ . '/support/wp_flush.php', [$tmp, 'drain'], $log);
    return json_decode((string) end($out), true) ?: ['raw' => $out];
}

function lines_matching(string $file, string $needle): int
{
    return is_file($file) ? substr_count((string) file_get_contents($file), $needle) : 0;
}

$checks = [];
$notes = ['seed' => $seed];
$kept = "$tmp/ledger.kept";     // must reach the table
$doomed = "$tmp/ledger.doomed"; // buffered when Redis lost its data: the figure the status must report

// 1. A healthy baseline.
push(300, 's14p-flushed', $kept, $log);
$notes['drain 1'] = drain_site($tmp, $log);
push(120, 's14p-doomed-a', $doomed, $log);
$s1 = watch_status($log);
$checks['no loss warning while Redis keeps its data'] = !in_array('redis_data_lost', $s1['codes'], true) && $s1['losses'] === [];
$checks['status reads Redis persistence (aof-always)'] = $s1['persistence'] === 'aof-always';
$checks['the watch recorded 120 buffered'] = ($s1['snapshot']['buffered'] ?? null) === 120;

// 2. A crash that the AOF survives: no warning.
$redis->kill9();
$redis->restart();
$s2 = watch_status($log);
$checks['a restart that kept the data does not warn'] = $s2['losses'] === [] && ($s2['buffer']['buffered'] ?? null) === 120;
$checks['the watch saw the restart (new run_id)'] = ($s2['snapshot']['run_id'] ?? 'a') !== ($s1['snapshot']['run_id'] ?? 'b');

// 3. More buffered; the last look at intact data.
push(30, 's14p-doomed-b', $doomed, $log);
$s3 = watch_status($log);
$t1 = (int) ($s3['snapshot']['time'] ?? 0);
$checks['150 buffered before the loss'] = ($s3['snapshot']['buffered'] ?? null) === 150;

// 4. Redis comes back empty; registrations keep arriving.
$redis->kill9();
$redis->restartWith(['--appendonly', 'no']);
$restartedAt = time();
push(25, 's14p-after', $kept, $log);

// 5. The status says what was lost, and when.
$s4 = watch_status($log);
$loss = $s4['losses'][0] ?? [];
$notes['loss'] = $loss;
$notes['loss text'] = $s4['loss_text'];
$checks['status warns redis_data_lost'] = in_array('redis_data_lost', $s4['codes'], true) && count($s4['losses']) === 1;
$checks['it reports the 150 buffered at the last check'] = ($loss['buffered'] ?? null) === 150 && str_contains((string) $s4['loss_text'], 'up to 150 registrations');
$checks['between the last intact check and now'] = ($loss['since'] ?? 0) === $t1 && ($loss['detected'] ?? 0) >= $restartedAt;
$checks['cause: a restart, seen by the marker'] = ($loss['cause'] ?? '') === 'restart' && ($loss['evidence'] ?? '') === 'marker';
$checks['persistence now reads none'] = $s4['persistence'] === 'none';
$drain = drain_site($tmp, $log);
$notes['drain 2'] = $drain;
$vKept = verify('', [$kept], '', "SELECT registration_id, JSON_UNQUOTE(JSON_EXTRACT(data, '$.ref')) FROM wp_reg_buffer_registrations");
$vDoomed = verify('', [$doomed], '', "SELECT registration_id, JSON_UNQUOTE(JSON_EXTRACT(data, '$.ref')) FROM wp_reg_buffer_registrations");
$notes['doomed'] = $vDoomed;
$checks['the reported number is what is really missing'] = $vDoomed['accepted'] === 150 && $vDoomed['lost'] === ($loss['buffered'] ?? -1);

// 6. The warning stays until acknowledged, everywhere it should show, and is logged once.
$s5 = watch_status($log);
$checks['the warning stays (next check, another process)'] = in_array('redis_data_lost', $s5['codes'], true) && $s5['losses'] === $s4['losses'];
$checks['Site Health: Redis test critical with the text'] = $s5['health']['status'] === 'critical' && str_contains($s5['health']['description'], 'up to 150 registrations');
$checks['admin page: red, the warning, an Acknowledge button'] = $s5['admin'] === ['warning' => true, 'ack_button' => true, 'verdict' => true];
[$rcStatus, $cliOut] = wp_run($cli, ['reg-buffer', 'status', '--format=json'], $log);
$cliJson = json_decode(implode("\n", $cliOut), true);
$checks['wp reg-buffer status exits 1 and lists the loss'] = $rcStatus === 1 && in_array('redis_data_lost', $cliJson['warning_codes'] ?? [], true);
$checks['error_log: the loss logged once'] = lines_matching($log, 'reg_buffer: Redis lost its data') === 1;
[$rcAck, $ackOut] = wp_run($cli, ['reg-buffer', 'acknowledge-loss'], $log);
$s6 = watch_status($log);
$checks['acknowledge-loss clears it'] = $rcAck === 0 && $s6['losses'] === [] && !in_array('redis_data_lost', $s6['codes'], true);
[$rcClear] = wp_run($cli, ['reg-buffer', 'status'], $log);
$checks['wp reg-buffer status exits 0 again'] = $rcClear === 0;
$checks['error_log: the acknowledgement logged'] = lines_matching($log, 'reg_buffer: Redis data loss of') === 1;

// 7. A second loss, after the first was acknowledged.
push(40, 's14p-doomed-c', $doomed, $log);
$s7 = watch_status($log);
$redis->kill9();
$redis->restart();
push(10, 's14p-after-c', $kept, $log);
$s8 = watch_status($log);
$loss2 = $s8['losses'][0] ?? [];
$notes['second loss'] = $loss2;
// The extension's epoch (reg_buffer_stats()['epoch']) names the data: it is the marker.
$checks['a second loss: detected by the extension\'s epoch, 40 reported'] = ($s7['snapshot']['buffered'] ?? null) === 40
    && ($loss2['evidence'] ?? '') === 'marker' && ($loss2['buffered'] ?? null) === 40;
wp_run($cli, ['reg-buffer', 'acknowledge-loss'], $log);
$notes['drain 3'] = drain_site($tmp, $log);

// 8. RDB: a restart from a snapshot older than the data. The marker survives (it is in the snapshot); the
// counters went back: reported, with the figure of the last check as the upper bound of what is missing.
push(100, 's14p-in-snapshot', $kept, $log);
watch_status($log); // the watch's snapshot before Redis's
$redis->client()->save();
push(50, 's14p-doomed-d', "$tmp/ledger.rdb", $log);
$s9 = watch_status($log);
$redis->kill9();
$redis->restart(); // appendonly no: loads dump.rdb
$s10 = watch_status($log);
$loss3 = $s10['losses'][0] ?? [];
$notes['loss after an RDB restart'] = $loss3;
$checks['RDB restart from an older snapshot: detected by the counters, 150 reported'] = ($s9['snapshot']['buffered'] ?? null) === 150
    && count($s10['losses']) === 1 && ($loss3['evidence'] ?? '') === 'counters' && ($loss3['cause'] ?? '') === 'restart' && ($loss3['buffered'] ?? null) === 150;
[, $ackOut] = wp_run(__DIR__ . '/support/wp_watch.php', ['admin-ack'], $log);
$adminAck = json_decode((string) end($ackOut), true);
$checks['the admin page\'s Acknowledge (nonce) clears it and says so'] = is_array($adminAck) && $adminAck['losses'] === []
    && str_contains((string) $adminAck['redirect'], 'page=reg-buffer') && ($adminAck['notice']['ok'] ?? false) === true;
$notes['drain 4'] = drain_site($tmp, $log);
$vRdb = verify('', ["$tmp/ledger.rdb"], '', "SELECT registration_id, JSON_UNQUOTE(JSON_EXTRACT(data, '$.ref')) FROM wp_reg_buffer_registrations");
$checks['RDB: what is missing (the 50 after the snapshot) is within the reported figure'] = $vRdb['lost'] === 50 && $vRdb['lost'] <= ($loss3['buffered'] ?? 0);
$vKept = verify('', [$kept], '', "SELECT registration_id, JSON_UNQUOTE(JSON_EXTRACT(data, '$.ref')) FROM wp_reg_buffer_registrations");
$notes['kept'] = $vKept;
$checks['every registration accepted outside the loss windows is stored'] = $vKept['lost'] === 0 && $vKept['accepted'] === 435;
$checks['no PHP warnings or notices'] = lines_matching($log, 'PHP Warning') + lines_matching($log, 'PHP Notice') + lines_matching($log, 'PHP Deprecated') === 0;
if (!$checks['no PHP warnings or notices']) {
    $notes['php log'] = array_slice(file($log, FILE_IGNORE_NEW_LINES) ?: [], 0, 10);
}
result('plugin status after Redis lost its data (none / RDB): reported, kept until acknowledged', 3, $vKept, $checks, $notes);
