<?php
// Fault class 4: two flushers at once on the same prefix (cron overlapping a WP-CLI run, without any flush lock),
// and two sites with different key prefixes sharing one Redis (same event ids), each with its own table.
// Leases are long, so no registration may be claimed twice; each is stored once, in its own site's table only.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$perPusher = short_mode() ? 4000 : 40000;
$tmp = fenv('FAULTS_TMP') . '/s4';
@mkdir($tmp, 0700, true);
$redis = new FRedis('s4', ['--appendonly', 'no']);
register_shutdown_function(fn () => $redis->stop());
$sites = ['A' => 'faults4a:', 'B' => 'faults4b:'];
$procs = [];
$stop = "$tmp/stop";
foreach ($sites as $site => $prefix) {
    create_table("s4_$site");
    @mkdir("$tmp/$site");
    $env = ['FAULTS_URL' => $redis->url(), 'FAULTS_PREFIX' => $prefix, 'FAULTS_RECORD_IDS' => '1'];
    $procs["push$site"] = spawn(__DIR__ . '/support/pusher.php', ["s4_$site", "$tmp/$site/ledger.0", "site$site", $perPusher, "$stop.never", 3, 200], $env);
    for ($f = 0; $f < 2; $f++) {
        $procs["flush$site$f"] = spawn(__DIR__ . '/support/flusher.php', ["s4_$site", 600, mt_rand(20, 200), "run:$stop", "$tmp/$site", 1000000], $env);
    }
}
foreach (['pushA', 'pushB'] as $p) {
    wait_proc($procs[$p], 3000);
}
touch($stop);
$rc = [];
foreach ($procs as $name => $p) {
    if (str_starts_with($name, 'flush')) {
        $rc[$name] = wait_proc($p, 1200);
    }
}
$total = ['accepted' => 0, 'stored' => 0, 'lost' => 0, 'doubled' => 0];
$checks = [];
$notes = ['seed' => $seed];
foreach ($sites as $site => $prefix) {
    use_buffer($redis->url(), $prefix);
    $drain = drain("s4_$site", 500, 2);
    $v = verify("s4_$site", ["$tmp/$site/ledger.0"], "site$site-");
    $claimed = [];
    $perFlusher = [];
    foreach (glob("$tmp/$site/stats.*") as $file) {
        $s = json_decode(file_get_contents($file), true);
        $perFlusher[] = $s['claimed'];
        foreach ($s['ids'] as $id) {
            $claimed[$id] = ($claimed[$id] ?? 0) + 1;
        }
    }
    $twice = count(array_filter($claimed, fn ($n) => $n > 1));
    foreach (['accepted', 'stored', 'lost', 'doubled'] as $k) {
        $total[$k] += $v[$k];
    }
    $checks += [
        "$site: drain emptied the buffer" => $drain['empty'] && $drain['claimed'] === 0,
        "$site: nothing lost" => $v['lost'] === 0,
        "$site: nothing doubled" => $v['doubled'] === 0,
        "$site: no cross-talk" => $v['cross_talk'] === 0 && $v['extra'] === 0,
        "$site: no registration claimed twice" => $twice === 0,
        "$site: both flushers worked" => count($perFlusher) === 2 && min($perFlusher) > 0,
        "$site: the flushers claimed all" => count($claimed) === $v['rows'],
    ];
    $notes[$site] = ['claimed per flusher' => $perFlusher, 'claimed twice' => $twice, 'rows' => $v['rows'], 'cross' => $v['cross_talk'],
        'stats' => array_intersect_key(reg_buffer_stats(), array_flip(['pushed', 'claimed', 'acked', 'redelivered']))];
}
$checks['flushers ended normally'] = array_sum($rc) === 0;
result('two flushers on one prefix + two prefixes on one Redis', 2, $total, $checks, $notes);
