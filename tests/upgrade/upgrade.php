<?php
// tests/upgrade/run.sh's two halves. `push` (the previous build): registrations of several kinds, and a batch
// claimed with a 1 s lease and never acknowledged; the ids go to a ledger. `check` (this build): more pushes, then
// a drain once the lease ran out: every id of the ledger exactly once, with its data. Exits non-zero on a failure.
declare(strict_types=1);

[$mode, $port, $ledgerFile] = [$argv[1], (int) $argv[2], $argv[3]];
ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
ini_set('reg_buffer.key_prefix', 'upgrade:');
$failures = 0;
$check = function (bool $ok, string $what) use (&$failures): void {
    echo ($ok ? 'ok   ' : 'FAIL ') . $what . "\n";
    $failures += $ok ? 0 : 1;
};
$ledger = is_file($ledgerFile) ? json_decode((string) file_get_contents($ledgerFile), true) : [];
$push = function (string $who, int $event, int $i, ?string $key = null) use (&$ledger): void {
    $data = ['who' => $who, 'i' => $i, 'name' => "Attendee $i", 'email' => "a$i.$who@example.test"];
    $id = reg_buffer_push($event, $data, $key);
    if (is_string($id)) {
        $ledger[$id] = ['event' => $event, 'data' => $data];
    }
};

if ($mode === 'push') {
    for ($i = 0; $i < 300; $i++) {
        $push('old', 1 + $i % 7, $i, $i % 3 === 0 ? "old$i@example.test" : null);
    }
    reg_buffer_seats_seed(50, 0, 0); // nothing stored yet: the count starts at zero
    for ($i = 0; $i < 5; $i++) {
        $b = reg_buffer_book(50, ['who' => 'old', 'seat' => $i], ['capacity' => 3, 'waitlist' => true]);
        $ledger[$b['id']] = ['event' => 50, 'data' => ['who' => 'old', 'seat' => $i], 'status' => $b['status']];
    }
    $claimed = reg_buffer_flush(40, 1);
    $check(count($claimed['rows']) === 40, 'the previous build claimed a batch of 40 (never acknowledged)');
    $check(reg_buffer_stats()['pending'] === 305 - 40, 'the previous build counts 265 pending');
    file_put_contents($ledgerFile, json_encode($ledger));
    exit($failures ? 1 : 0);
}

// This build: the old layout is counted and ranged, new pushes join it, and a drain stores each once.
$stats = reg_buffer_stats();
$check($stats['pending'] === 265 && $stats['in_flight'] === 40, "this build counts the old layout: pending {$stats['pending']}, in flight {$stats['in_flight']}");
$check(count(reg_buffer_range(1, 0, PHP_INT_MAX, 1000)) > 0, "this build's range() reads an event the previous build filled");
for ($i = 0; $i < 100; $i++) {
    $push('new', 1 + $i % 9, $i, $i % 4 === 0 ? "new$i@example.test" : null);
}
$check(reg_buffer_push(1, ['dup' => true], 'old0@example.test') === false, "a unique key the previous build took is still taken");
usleep(1_200_000); // the previous build's lease runs out
$seen = [];
for ($round = 0; $round < 100; $round++) {
    $batch = reg_buffer_flush(50);
    if ($batch['rows'] === []) {
        break;
    }
    foreach ($batch['rows'] as $row) {
        $seen[$row['id']][] = $row;
    }
    reg_buffer_ack($batch['batch']);
}
$missing = array_diff_key($ledger, $seen);
$doubled = array_filter($seen, fn ($rows) => count($rows) > 1);
$unknown = array_diff_key($seen, $ledger);
$wrong = array_filter(array_keys(array_intersect_key($seen, $ledger)), fn ($id) => $seen[$id][0]['data'] != $ledger[$id]['data'] || $seen[$id][0]['event_id'] !== $ledger[$id]['event']);
$check(count($ledger) === 405, 'the ledger holds 305 + 100 accepted registrations (' . count($ledger) . ')');
$check($missing === [], 'nothing missing (' . count($missing) . ')');
$check($doubled === [], 'nothing handed out twice (' . count($doubled) . ')');
$check($unknown === [], 'nothing unknown (' . count($unknown) . ')');
$check($wrong === [], 'every registration with its event and data (' . count($wrong) . ' differ)');
$waitlisted = array_filter($ledger, fn ($r) => ($r['status'] ?? '') === 'waitlisted');
$check(count($waitlisted) === 2 && array_reduce(array_keys($waitlisted), fn ($ok, $id) => $ok && ($seen[$id][0]['status'] ?? '') === 'waitlisted', true), 'the previous build\'s waitlisted bookings are still waitlisted');
$after = reg_buffer_stats();
$check($after['pending'] === 0 && $after['in_flight'] === 0, 'the buffer is empty');
$check($after['pushed'] === 405 && $after['acked'] === 405 && $after['redelivered'] >= 40, "counters: pushed {$after['pushed']}, acked {$after['acked']}, redelivered {$after['redelivered']}");
echo $failures ? "upgrade: $failures check(s) failed\n" : "upgrade: passed\n";
exit($failures ? 1 : 0);
