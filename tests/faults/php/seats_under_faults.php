<?php
// Per-event capacity (issue 16) through the plugin's real booking path while the flush and Redis fail: three
// bookers call reg_buffer_register() (the registrar books with reg_buffer_book(); when Redis has no valid count —
// after every restart, the count is tied to the server's run — it seeds it from MySQL + reg_buffer_seats_buffered(),
// union by id, and books again) on two events, one without a waitlist and one with; flush runs store rows with
// their status; flushers are SIGKILLed (mid-transaction, after the commit before the ack, at random) and Redis is
// SIGKILLed and restarted (AOF appendfsync always: nothing acknowledged is lost). The bookers go on until both
// events are full. After a final drain: exactly the capacity of registered rows per event (never more), every
// accepted registration stored once with the seat it was answered, no row that was not accepted (but bookings whose
// outcome was unknown: 503 reg_buffer_outcome_unknown, allowed, not required), and the count agrees with the table.
// Run by run.sh on its own site "seats" (FAULTS_WP_REDIS_DIR: its redis-server, which this scenario kills).
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$tmp = fenv('FAULTS_TMP') . '/seats';
@mkdir($tmp, 0700, true);
$dir = fenv('FAULTS_WP_REDIS_DIR');
$redis = FRedis::adopt($dir, (int) trim((string) file_get_contents("$dir/port")), ['--appendonly', 'yes', '--appendfsync', 'always']);
$seats = __DIR__ . '/support/wp_seats.php';

/** Runs wp_seats.php (WordPress loaded); returns [exit code, last line of stdout]. */
function wp_seats(string $script, array $args): array
{
    $cmd = array_merge([PHP_BINARY], ini_args(), [$script], array_map('strval', $args));
    exec(implode(' ', array_map('escapeshellarg', $cmd)) . ' 2>&1', $out, $rc);
    return [$rc, (string) end($out)];
}

$plain = ['event' => 1701, 'capacity' => short_mode() ? 300 : 1000, 'waitlist' => false];
$listed = ['event' => 1702, 'capacity' => short_mode() ? 150 : 400, 'waitlist' => true];
$checks = [];
foreach ([$plain, $listed] as $e) {
    [$rc, $out] = wp_seats($seats, array_merge(['capacity', $e['event'], $e['capacity']], $e['waitlist'] ? ['waitlist'] : []));
    $checks["capacity of {$e['event']} set"] = $rc === 0;
    if ($rc !== 0) {
        flog("set_capacity {$e['event']}: $out");
    }
}

$stop = "$tmp/stop";
$bookers = [];
for ($w = 0; $w < 3; $w++) {
    // Paced so that the seats sell while the faults happen (about 35 bookings a second in all), not before them.
    $bookers[] = spawn($seats, ['book', "$tmp/ledger.$w", "seats$w", $stop, 60_000, $plain['event'], $listed['event']]);
}

// The faults, in a seeded order: Redis SIGKILL + restart, and flushers SIGKILLed at a point of their run; between
// them flush runs that end normally, so that rows are stored while seats sell (a seed counts table + buffer).
$plan = array_merge(array_fill(0, short_mode() ? 6 : 25, 'redis'), array_fill(0, short_mode() ? 12 : 50, 'flusher'),
    array_fill(0, short_mode() ? 8 : 30, 'flush'));
shuffle($plan);
$points = ['before_commit', 'after_commit', 'random'];
$done = ['redis' => 0, 'before_commit' => 0, 'after_commit' => 0, 'random' => 0];
$flushRuns = [];
$restarts = [];
$missed = 0;
foreach ($plan as $k => $fault) {
    usleep(mt_rand(100_000, 400_000));
    if ($fault === 'flush') {
        @mkdir("$tmp/m$k");
        $flushRuns[] = wait_proc(spawn(__DIR__ . '/support/wp_flush.php', ["$tmp/m$k", 'run']), 600);
        continue;
    }
    if ($fault === 'redis') {
        $redis->kill9();
        usleep(mt_rand(0, 300_000));
        $redis->restart();
        $restarts[] = microtime(true);
        $done['redis']++;
        continue;
    }
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

// The bookers go on until both events are full (every seat taken), bounded.
$full = false;
for ($i = 0; $i < (short_mode() ? 120 : 300) && !$full; $i++) {
    $full = true;
    foreach ([$plain, $listed] as $e) {
        [, $line] = wp_seats($seats, ['summary', $e['event']]);
        $s = json_decode($line, true);
        $full = $full && is_array($s) && $s['known'] && $s['remaining'] === 0;
    }
    if (!$full) {
        usleep(500_000);
    }
}
usleep(300_000); // a few more refusals (and waitlisted) after the last seat
touch($stop);
$bookerExits = array_map(fn ($p) => wait_proc($p, 1200), $bookers);
[, $drainLine] = wp_seats(__DIR__ . '/support/wp_flush.php', [$tmp, 'drain']);
$drain = json_decode($drainLine, true);

// What the bookers were answered, against the table.
$accepted = []; // id => [seat, ref, event]
$unknown = [];  // id => [ref, event]
foreach (glob("$tmp/ledger.*") as $file) {
    if (str_ends_with($file, '.summary')) {
        continue;
    }
    foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
        [$seat, $id, $ref, $event, $at] = explode("\t", $line);
        if ($seat === 'unknown') {
            $unknown[$id] = [$ref, (int) $event];
        } else {
            $accepted[$id] = [$seat, $ref, (int) $event, (float) $at];
        }
    }
}
$tally = [];
foreach (glob("$tmp/ledger.*.summary") as $file) {
    foreach (json_decode((string) file_get_contents($file), true) ?? [] as $k => $n) {
        $tally[$k] = ($tally[$k] ?? 0) + $n;
    }
}
ksort($tally);
$rows = db()->query("SELECT registration_id, event_id, status, JSON_UNQUOTE(JSON_EXTRACT(data, '$.ref')) FROM wp_reg_buffer_registrations")->fetch_all();
$rowsPerRef = [];
$byStatus = [];
$found = [];
$extra = 0;
$landedUnknown = 0;
$seatMismatch = 0;
foreach ($rows as [$id, $event, $status, $ref]) {
    $rowsPerRef[$ref] = ($rowsPerRef[$ref] ?? 0) + 1;
    $byStatus[(int) $event][$status] = ($byStatus[(int) $event][$status] ?? 0) + 1;
    if (isset($accepted[$id])) {
        $found[$id] = true;
        $seatMismatch += ($accepted[$id][0] !== $status || $accepted[$id][1] !== $ref || $accepted[$id][2] !== (int) $event) ? 1 : 0;
    } elseif (isset($unknown[$id]) && $unknown[$id][0] === $ref) {
        $landedUnknown++;
    } else {
        $extra++;
    }
}
$lost = count($accepted) - count($found);
$doubled = array_sum(array_map(fn ($n) => $n - 1, array_filter($rowsPerRef, fn ($n) => $n > 1)));
$v = ['accepted' => count($accepted), 'stored' => count($found), 'lost' => $lost, 'doubled' => $doubled];
$answered = fn (int $event, string $seat) => count(array_filter($accepted, fn ($a) => $a[2] === $event && $a[0] === $seat));
// Redis restarts while an event was selling (between its first and its last registered answer): each made the
// count unknown with seats left, so the bookings after it went through a seed.
$selling = [];
foreach ([$plain, $listed] as $e) {
    $times = array_column(array_filter($accepted, fn ($a) => $a[2] === $e['event'] && $a[0] === 'registered'), 3);
    $selling[$e['event']] = $times === [] ? 0 : count(array_filter($restarts, fn ($t) => $t > min($times) && $t < max($times)));
}
$summaries = [];
foreach ([$plain, $listed] as $e) {
    [, $line] = wp_seats($seats, ['summary', $e['event']]);
    $summaries[$e['event']] = json_decode($line, true);
}
$checks += [
    'drain emptied the buffer' => is_array($drain) && ($drain['empty'] ?? false),
    'nothing lost' => $lost === 0,
    'nothing doubled' => $doubled === 0,
    'no row that was not accepted (or of an unknown outcome)' => $extra === 0,
    'each row has the seat its booking was answered' => $seatMismatch === 0,
    "event {$plain['event']}: exactly its capacity of registered rows" => ($byStatus[$plain['event']]['registered'] ?? 0) === $plain['capacity'],
    "event {$plain['event']}: no other status" => array_keys($byStatus[$plain['event']] ?? []) === ['registered'],
    "event {$plain['event']}: refused as sold out (data.remaining 0) past it" => ($tally["{$plain['event']} reg_buffer_sold_out remaining 0"] ?? 0) > 0
        && count(preg_grep('/ reg_buffer_sold_out remaining (?!0$)/', array_keys($tally))) === 0,
    "event {$listed['event']}: exactly its capacity of registered rows" => ($byStatus[$listed['event']]['registered'] ?? 0) === $listed['capacity'],
    "event {$listed['event']}: waitlisted rows = the waitlisted answers (+ landed unknowns)" => ($byStatus[$listed['event']]['waitlisted'] ?? 0) >= $answered($listed['event'], 'waitlisted')
        && ($byStatus[$listed['event']]['waitlisted'] ?? 0) > 0,
    "event {$listed['event']}: never sold out (it has a waitlist)" => !isset($tally["{$listed['event']} reg_buffer_sold_out remaining 0"]),
    'the count agrees with the table (taken = capacity, waiting = waitlisted rows)' => ($summaries[$plain['event']]['taken'] ?? null) === $plain['capacity']
        && ($summaries[$listed['event']]['taken'] ?? null) === $listed['capacity']
        && ($summaries[$listed['event']]['waiting'] ?? null) === ($byStatus[$listed['event']]['waitlisted'] ?? 0),
    'both events filled up' => $full,
    "Redis restarted while event {$plain['event']} was selling" => $selling[$plain['event']] > 0,
    'the bookers and the flush runs between the faults ended normally' => $bookerExits === [0, 0, 0] && array_unique($flushRuns) === [0],
    'kill points reached (<=20% missed)' => $missed <= count(array_keys($plan, 'flusher')) / 5,
];
result('seats: bookings under flusher SIGKILL + Redis SIGKILL/restart (AOF always)', array_sum($done), $v, $checks, [
    'seed' => $seed, 'faults' => $done, 'missed' => $missed, 'restarts while selling' => $selling, 'rows' => $byStatus, 'answers' => $tally,
    'answered registered' => [$plain['event'] => $answered($plain['event'], 'registered'), $listed['event'] => $answered($listed['event'], 'registered')],
    'unknown outcomes' => count($unknown), 'of them stored' => $landedUnknown, 'counts' => $summaries, 'drain' => $drain ?? $drainLine,
]);
