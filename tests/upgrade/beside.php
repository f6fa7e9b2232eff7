<?php
// tests/upgrade/run.sh's second part: the previous release (its inbox, no held list) flushing beside this build, as
// during a rolling upgrade or a rollback. `push` (this build): plain pushes and pushes with unique keys (held by
// their markers) and duplicates; the accepted ids go to a ledger. `flush` (the previous release): drains what it
// sees, acknowledging it, into the ledger. `check` (this build): drains the rest: every accepted id exactly once,
// with its data, nothing counted lost. Exits non-zero on a failure.
declare(strict_types=1);

[$mode, $port, $ledgerFile] = [$argv[1], (int) $argv[2], $argv[3]];
ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
ini_set('reg_buffer.key_prefix', 'beside:');
$failures = 0;
$check = function (bool $ok, string $what) use (&$failures): void {
    echo ($ok ? 'ok   ' : 'FAIL ') . $what . "\n";
    $failures += $ok ? 0 : 1;
};
$ledger = is_file($ledgerFile) ? json_decode((string) file_get_contents($ledgerFile), true) : ['accepted' => [], 'seen' => []];
$drain = function () use (&$ledger): void {
    for ($round = 0; $round < 100; $round++) {
        $batch = reg_buffer_flush(50);
        if ($batch['rows'] === []) {
            return;
        }
        foreach ($batch['rows'] as $row) {
            $ledger['seen'][] = [$row['id'], $row['event_id'], $row['data']];
        }
        reg_buffer_ack($batch['batch']);
    }
};

if ($mode === 'push') {
    $refused = 0;
    for ($i = 0; $i < 200; $i++) {
        $data = ['i' => $i, 'email' => "a$i@example.test"];
        $event = 1 + $i % 5;
        $id = reg_buffer_push($event, $data, $i % 2 === 0 ? "a$i@example.test" : null);
        if (is_string($id)) {
            $ledger['accepted'][$id] = [$event, $data];
        }
        if ($i % 10 === 0 && reg_buffer_push($event, ['again' => $i], "a$i@example.test") === false) {
            $refused++;
        }
    }
    $check(count($ledger['accepted']) === 200 && $refused === 20, "this build accepted 200 (100 with unique keys) and refused 20 duplicates ($refused)");
    $redis = new Redis();
    $redis->connect('127.0.0.1', $port);
    $ledger['held'] = $redis->lLen('beside:held');
} elseif ($mode === 'flush') {
    $redis = new Redis();
    $redis->connect('127.0.0.1', $port);
    $held = $redis->lLen('beside:held');
    $check($held > 0 && $held === $ledger['held'], "the previous release sees a held list of $held it does not read");
    $drain();
    $check($redis->lLen('beside:held') === $held, 'and leaves it whole');
    $check(count($ledger['seen']) === 200 - $held, 'it flushed the rest (' . count($ledger['seen']) . ')');
} else {
    $drain();
    $seen = [];
    foreach ($ledger['seen'] as [$id, $event, $data]) {
        $seen[$id][] = [$event, $data];
    }
    $missing = array_diff_key($ledger['accepted'], $seen);
    $doubled = array_filter($seen, fn ($rows) => count($rows) > 1);
    $unknown = array_diff_key($seen, $ledger['accepted']);
    $wrong = array_filter(array_keys(array_intersect_key($seen, $ledger['accepted'])), fn ($id) => $seen[$id][0] != $ledger['accepted'][$id]);
    $check(count($ledger['accepted']) === 200, 'the ledger holds 200 accepted registrations');
    $check($missing === [], 'nothing missing (' . count($missing) . ')');
    $check($doubled === [], 'nothing handed out twice (' . count($doubled) . ')');
    $check($unknown === [], 'nothing unknown (' . count($unknown) . ')');
    $check($wrong === [], 'every registration with its event and data (' . count($wrong) . ' differ)');
    $stats = reg_buffer_stats();
    $check($stats['pending'] === 0 && $stats['lost'] === 0, "nothing left or lost (pending {$stats['pending']}, lost {$stats['lost']})");
    $check(reg_buffer_push(3, ['late' => true], 'a2@example.test') === false, 'a key whose registration was held is still taken');
    echo $failures ? "beside: $failures check(s) failed\n" : "beside: passed\n";
}
file_put_contents($ledgerFile, json_encode($ledger));
exit($failures ? 1 : 0);
