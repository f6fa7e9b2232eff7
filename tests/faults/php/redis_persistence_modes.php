<?php
// What a Redis SIGKILL keeps, per persistence mode (the README's table, measured): 2,000 pushes that returned an
// id, then kill -9 and restart on the same port. appendfsync always and everysec must keep every one (a process
// crash leaves written data in the page cache); with no persistence the loss is reported as a figure (notes),
// since losing them is what that mode means. Nothing is flushed here; the buffer is read back with flush+ack.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$n = short_mode() ? 2000 : 20000;
$modes = [
    'appendfsync always' => ['--appendonly', 'yes', '--appendfsync', 'always'],
    'appendfsync everysec' => ['--appendonly', 'yes', '--appendfsync', 'everysec'],
    'no persistence' => ['--appendonly', 'no'],
];
$notes = ['seed' => $seed];
$checks = [];
$accepted = 0;
$stored = 0;
foreach ($modes as $mode => $args) {
    $redis = new FRedis('s14-' . str_replace(' ', '-', $mode), $args);
    use_buffer($redis->url(), 'faults14:', ['retry_interval_ms' => 0]);
    $ids = [];
    for ($i = 0; $i < $n; $i++) {
        $ids[reg_buffer_push(1 + $i % 3, ['i' => $i])] = true;
    }
    $redis->kill9();
    $redis->restart();
    $back = 0;
    for ($round = 0; $round < 1000; $round++) {
        try {
            $b = reg_buffer_flush(1000, 60);
        } catch (RegBuffer\ConnectionException $e) { // the first call after the restart may meet the old connection
            continue;
        }
        if ($b['rows'] === []) {
            break;
        }
        foreach ($b['rows'] as $row) {
            $back += isset($ids[$row['id']]) ? 1 : 0;
        }
        reg_buffer_ack($b['batch']);
    }
    $redis->stop();
    $notes[$mode] = ['accepted' => $n, 'back after kill -9' => $back, 'gone' => $n - $back];
    if ($mode !== 'no persistence') {
        $accepted += $n;
        $stored += $back;
        $checks["$mode keeps every accepted push across a SIGKILL"] = $back === $n;
    }
}
result('Redis SIGKILL per persistence mode (always / everysec; none as a figure)', 3, ['accepted' => $accepted, 'stored' => $stored,
    'lost' => $accepted - $stored, 'doubled' => 0], $checks, $notes);
