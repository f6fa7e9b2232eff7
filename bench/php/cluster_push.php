<?php
// The cluster row: push throughput of reg_buffer on one redis-server, on a 3-master Redis Cluster, and on a
// 3-master/3-replica cluster with reg_buffer.durability=replica:1 — same N registrations of 5 fields over 100
// events, P processes at once, each cell RUNS times interleaved; prints one JSON line per run, then a Markdown table
// (median rate) on the last lines. Servers: private ones on free ports (the tests' RedisServer / RedisCluster).
// usage: php bench/php/cluster_push.php N PROCS RUNS
declare(strict_types=1);
require __DIR__ . '/../../tests/php/support/Topology.php';
require __DIR__ . '/../../tests/php/support/RedisServer.php';
require __DIR__ . '/../../tests/php/support/RedisCluster.php';

use RegBuffer\Tests\Support\RedisCluster;
use RegBuffer\Tests\Support\RedisServer;

[$n, $procs, $runs] = [(int) ($argv[1] ?? 20000), (int) ($argv[2] ?? 8), (int) ($argv[3] ?? 3)];
if (!extension_loaded('reg_buffer')) {
    fwrite(STDERR, "reg_buffer is not loaded\n");
    exit(1);
}
$reg = ['email' => 'someone@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7'];

/** One run: $procs forked pushers share $n pushes; returns [rate per second, error or '']. */
function run_cell(string $url, string $durability, int $n, int $procs, array $reg): array
{
    $dir = sys_get_temp_dir() . '/rb_cluster_push_' . getmypid();
    @mkdir($dir);
    $start = hrtime(true) + 300_000_000 + $procs * 20_000_000;
    $kids = [];
    for ($k = 0; $k < $procs; $k++) {
        $pid = pcntl_fork();
        if ($pid === -1) {
            return [0.0, 'fork failed'];
        }
        if ($pid > 0) {
            $kids[] = $pid;
            continue;
        }
        ini_set('reg_buffer.redis_url', $url);
        ini_set('reg_buffer.durability', $durability);
        $share = intdiv($n, $procs) + ($k < $n % $procs ? 1 : 0);
        reg_buffer_stats(); // connect (and read the slot map) before the clock starts, as a warm php-fpm worker has
        while (hrtime(true) < $start) {
            usleep(1000);
        }
        $t0 = hrtime(true);
        $err = '';
        try {
            for ($i = 0; $i < $share; $i++) {
                reg_buffer_push(($k * 7919 + $i) % 100 + 1, $reg);
            }
        } catch (Throwable $e) {
            $err = get_class($e) . ': ' . $e->getMessage();
        }
        file_put_contents("$dir/$k", json_encode(['t0' => $t0, 't1' => hrtime(true), 'n' => $i, 'err' => $err]));
        exit(0);
    }
    foreach ($kids as $pid) {
        pcntl_waitpid($pid, $status);
    }
    [$t0, $t1, $done, $errs] = [PHP_INT_MAX, 0, 0, []];
    for ($k = 0; $k < $procs; $k++) {
        $h = json_decode((string) @file_get_contents("$dir/$k"), true) ?? ['t0' => PHP_INT_MAX, 't1' => 0, 'n' => 0, 'err' => "worker $k wrote nothing"];
        @unlink("$dir/$k");
        [$t0, $t1, $done] = [min($t0, $h['t0']), max($t1, $h['t1']), $done + $h['n']];
        if ($h['err'] !== '') {
            $errs[] = $h['err'];
        }
    }
    @rmdir($dir);
    return [$done / (max(1, $t1 - $t0) / 1e9), implode('; ', array_unique($errs))];
}

$servers = [];
try {
    $servers['one redis-server'] = [$single = RedisServer::start(), $single->url(), 'local'];
    $servers['cluster, 3 masters'] = [$c3 = RedisCluster::start(3, 0), $c3->url(), 'local'];
    $servers['cluster, 3 masters + 3 replicas, durability=replica:1'] = [$c6 = RedisCluster::start(3, 1), $c6->url(), 'replica:1'];
    $rates = [];
    $failed = false;
    for ($run = 1; $run <= $runs; $run++) {
        foreach ($servers as $cell => [$topology, $url, $durability]) {
            $topology->flushAll();
            [$rate, $err] = run_cell($url, $durability, $n, $procs, $reg);
            echo json_encode(['section' => 'cluster', 'cell' => $cell, 'run' => $run, 'n' => $n, 'procs' => $procs, 'rate' => $rate] + ($err ? ['error' => $err] : [])), "\n";
            $failed = $failed || $err !== '';
            $rates[$cell][] = $rate;
        }
    }
    $median = function (array $xs): float {
        sort($xs);
        $m = intdiv(count($xs), 2);
        return count($xs) % 2 ? $xs[$m] : ($xs[$m - 1] + $xs[$m]) / 2;
    };
    $base = $median($rates['one redis-server']);
    echo "\n## Cluster row: push on one node vs a Redis Cluster\n\n";
    echo "$n registrations (5 fields, 100 events) by $procs processes at once, median of $runs runs, all servers on this machine.\n\n";
    echo "| Redis | pushes/s | vs one node |\n|---|---:|---:|\n";
    foreach ($rates as $cell => $xs) {
        printf("| %s | %s | %.2f× |\n", $cell, number_format($median($xs)), $median($xs) / max(1e-9, $base));
    }
} finally {
    // (exit() inside try would skip this: the servers would outlive the bench)
    foreach ($servers as [$topology]) {
        $topology->stop();
    }
}
exit($failed ? 1 : 0);
