<?php
// Turns bench/out/results.jsonl into RESULTS.md (medians, ratios to the anchor of the same run) and the push chart.
// usage: php report.php RESULTS.jsonl BENCH_DIR QUICK(0|1)
// Full runs write BENCH_DIR/RESULTS.md + push.png; quick runs write them under BENCH_DIR/out/ so that a smoke run
// never overwrites the committed results.
[$file, $dir, $quick] = [$argv[1], $argv[2], (int)($argv[3] ?? 0)];
$meta = []; $cells = [];   // $cells[section][cell][run] = row
foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $l) {
  $r = json_decode($l, true); if (!is_array($r)) continue;
  if (($r['section'] ?? '') === 'meta') { $meta[$r['key']][] = $r['value']; continue; }
  $cells[$r['section']][$r['cell']][$r['run']] = $r;
}
$outdir = $quick ? "$dir/out" : $dir;

function median(array $v): ?float {
  $v = array_values(array_filter($v, fn($x) => $x !== null && is_numeric($x)));
  if (!$v) return null; sort($v); $c = count($v);
  return $c % 2 ? (float)$v[intdiv($c, 2)] : ($v[$c / 2 - 1] + $v[$c / 2]) / 2;
}
/** Runs of a cell that produced a number (not an error line). */
function ok_runs(array $cells, string $s, string $c): array {
  return array_filter($cells[$s][$c] ?? [], fn($r) => !isset($r['error']));
}
function med(array $cells, string $s, string $c, string $k): ?float { return median(array_column(ok_runs($cells, $s, $c), $k)); }
/** Median over runs of (cell / anchor) for one field, pairing the runs of the same round. */
function ratio(array $cells, string $s, string $c, string $sa, string $a, string $k = 'rate'): ?float {
  $x = ok_runs($cells, $s, $c); $y = ok_runs($cells, $sa, $a); $v = [];
  foreach ($x as $run => $r) if (isset($y[$run][$k], $r[$k]) && $y[$run][$k] > 0) $v[] = $r[$k] / $y[$run][$k];
  return median($v);
}
function n0($v): string { return $v === null ? 'not yet' : number_format($v, 0, '.', ','); }
function n1($v): string { return $v === null ? 'not yet' : number_format($v, $v < 10 ? 2 : 1, '.', ','); }
function dash($v): string { return $v === null ? '—' : n1($v); }
function x($v): string { return $v === null ? '—' : sprintf('%.2f×', $v); }
function runs(array $cells, string $s, string $c): string {
  $all = count($cells[$s][$c] ?? []); $ok = count(ok_runs($cells, $s, $c));
  return $all === $ok ? (string)$ok : "$ok of $all";
}
/** Per-round values of one field of a cell (run => value). */
function per_run(array $cells, string $s, string $c, string $k): array {
  $out = [];
  foreach (ok_runs($cells, $s, $c) as $run => $r) if (isset($r[$k]) && is_numeric($r[$k])) $out[$run] = (float)$r[$k];
  return $out;
}
/** "Bound:" line under a goal that is not met (what limits it, from this run's numbers). */
function bound(array &$md, ?bool $unmet, string $text): void {
  if ($unmet) $md[] = "- Bound: $text";
}
function goal(?float $v, float $min, bool $atMost = false): string {
  if ($v === null) return 'not yet';
  return ($atMost ? $v <= $min : $v >= $min) ? 'met' : '**not met**';
}

$md = [];
$md[] = '# reg_buffer benchmark results';
$md[] = '';
$md[] = 'Written by `bench/run.sh' . ($quick ? ' --quick' : '') . '` (`./build.sh bench`); do not edit by hand. Every cell ran '
  . 'in the same run on the same private redis-server and MariaDB database; numbers are medians over the runs, ratios are '
  . 'medians of the per-round ratios to the anchor measured in the same round (cells are interleaved, so noise hits '
  . 'both sides). The machine is shared and noisy: read ratios, not absolutes.';
$md[] = '';
foreach (['mode', 'started', 'finished', 'machine', 'versions', 'missing', 'skipped'] as $k)
  foreach ($meta[$k] ?? [] as $v) $md[] = "- **$k**: $v";
$md[] = '';

// ---------------------------------------------------------------------------------------------------- push
$labels = [
  'regbuf' => 'reg_buffer_push (no unique key)',
  'regbuf_unique' => 'reg_buffer_push (unique key)',
  'regbuf_book' => 'reg_buffer_book (no unique key, a capacity never reached)',
  'seed' => 'seed snippet (connect, LPUSH, EXPIRE, close)',
  'pconnect_expire' => 'phpredis pconnect LPUSH+EXPIRE',
  'pconnect' => 'phpredis pconnect LPUSH alone (floor)',
  'predis' => 'Predis persistent LPUSH+EXPIRE',
  'mysql' => 'add_post_meta ×5, autocommit',
  'symfony_xadd' => 'peer: Symfony Messenger\'s Redis transport (XADD)',
  'laravel_evalsha' => 'peer: Laravel\'s Redis queue (EVALSHA of RPUSH + RPUSH)',
  'sidekiq_multi' => 'peer: Sidekiq\'s push shape (MULTI SADD + LPUSH)',
  'redis_benchmark' => 'redis-benchmark -t lpush -c 1 (physical floor)',
];
$pn = ($cells['push']['pconnect'] ?? null) ? (reset($cells['push']['pconnect'])['n'] ?? '?') : '?';
$md[] = "## 1. Push: one process, $pn registrations of 5 fields";
$md[] = '';
$md[] = 'N per run in the second column (the slow anchors run fewer: their rate is per registration). Latencies are per registration, measured around each call. CPU per registration: the PHP process (getrusage) and redis-server (INFO cpu) over the cell.';
$md[] = '';
$md[] = '| way | N | reg/s | p50 µs | p99 µs | p99.9 µs | × LPUSH-alone floor | × seed | PHP CPU µs | Redis CPU µs | runs |';
$md[] = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
foreach ($labels as $c => $label) {
  if (!isset($cells['push'][$c]) && !str_starts_with($c, 'regbuf')) continue;
  $md[] = sprintf('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', $label, n0(med($cells, 'push', $c, 'n')), n0(med($cells, 'push', $c, 'rate')),
    n1(med($cells, 'push', $c, 'p50_us')), n1(med($cells, 'push', $c, 'p99_us')), n1(med($cells, 'push', $c, 'p999_us')),
    x(ratio($cells, 'push', $c, 'push', 'pconnect')), x(ratio($cells, 'push', $c, 'push', 'seed')),
    dash(med($cells, 'push', $c, 'client_cpu_us')), dash(med($cells, 'push', $c, 'redis_cpu_us')), runs($cells, 'push', $c));
}
$md[] = '';
if (isset($cells['push']['laravel_evalsha'], $cells['push']['symfony_xadd'])) {
  $md[] = sprintf('Beside the peers (same connection kind, same payload, same rounds; issue 17\'s goals: ≥ 1.0× Laravel and ≥ 0.95× the XADD without a unique key, ≥ 0.9× the XADD with one): reg_buffer_push %s Laravel\'s push and %s the XADD; with a unique key %s the XADD.',
    x(ratio($cells, 'push', 'regbuf', 'push', 'laravel_evalsha')), x(ratio($cells, 'push', 'regbuf', 'push', 'symfony_xadd')), x(ratio($cells, 'push', 'regbuf_unique', 'push', 'symfony_xadd')));
  $md[] = '';
}
if (($bk = ratio($cells, 'push', 'regbuf_book', 'push', 'regbuf')) !== null) {
  $md[] = sprintf('A booking (an event with a capacity: the seat counted in the same script, and the server\'s run id read to trust the count) runs at %s the rate of a push without one, in the same rounds; Redis CPU %s against %s µs.',
    x($bk), dash(med($cells, 'push', 'regbuf_book', 'redis_cpu_us')), dash(med($cells, 'push', 'regbuf', 'redis_cpu_us')));
  $md[] = '';
}
$g1 = ratio($cells, 'push', 'regbuf_unique', 'push', 'pconnect'); $g2 = ratio($cells, 'push', 'regbuf_unique', 'push', 'seed');
$tail = ($p50 = med($cells, 'push', 'regbuf_unique', 'p50_us')) && ($p99 = med($cells, 'push', 'regbuf_unique', 'p99_us')) ? $p99 / $p50 : null;
$md[] = sprintf('Goals (push with a unique key): ≥ 1.0× LPUSH alone — %s (%s); ≥ 3× seed — %s (%s); p99 ≤ 2× p50 — %s (%s; the machine is not idle).',
  goal($g1, 1.0), x($g1), goal($g2, 3.0), x($g2), goal($tail, 2.0, true), $tail === null ? '—' : sprintf('p99/p50 = %.2f', $tail));
$fr = per_run($cells, 'push', 'pconnect', 'rate');
if (count($fr) > 1) array_push($md, '', sprintf('Noise: the LPUSH-alone floor ranged %s–%s reg/s over this run\'s rounds (%.1f×).', n0(min($fr)), n0(max($fr)), max($fr) / max(1, min($fr))));
$md[] = '';
$rcU = med($cells, 'push', 'regbuf_unique', 'redis_cpu_us'); $rcL = med($cells, 'push', 'pconnect', 'redis_cpu_us');
$ccU = med($cells, 'push', 'regbuf_unique', 'client_cpu_us'); $ccL = med($cells, 'push', 'pconnect', 'client_cpu_us');
$rcS = med($cells, 'push', 'seed', 'redis_cpu_us');
bound($md, $g1 !== null && $g1 < 1.0, sprintf('≥ 1.0× LPUSH alone: a push is one round trip, but a Lua script of several commands inside it — Redis CPU %s µs per push against %s µs for an LPUSH in this run, PHP CPU %s µs against %s µs (section 1\'s CPU columns). On one connection the round trip is the floor for both; the script\'s server time and the client\'s encoding come on top (analysis below).', dash($rcU), dash($rcL), dash($ccU), dash($ccL)));
$floorSeed = ratio($cells, 'push', 'pconnect', 'push', 'seed'); $rbSeed = ratio($cells, 'push', 'redis_benchmark', 'push', 'seed');
bound($md, $g2 !== null && $g2 < 3.0, sprintf('≥ 3× seed: the seed pays a connect and a close per registration (Redis CPU %s µs per registration), reg_buffer one round trip with its script (%s µs). ', dash($rcS), dash($rcU))
  . ($floorSeed !== null && $floorSeed < 3.0
    ? sprintf('One round trip from PHP is itself only %s the seed in this run (phpredis\' bare LPUSH; redis-benchmark\'s C client %s): a PHP push, script or not, would need a round trip cheaper than phpredis\' bare LPUSH to reach 3×.', x($floorSeed), x($rbSeed))
    : sprintf('One bare round trip from PHP reached %s the seed in this run (phpredis\' LPUSH alone), the push %s of that: what is missing is the script\'s server time, as for the 1.0× goal above (3× the seed is %s LPUSH alone here).', x($floorSeed), x($g1), $floorSeed ? x(3.0 / $floorSeed) : '—')));
$fl50 = med($cells, 'push', 'pconnect', 'p50_us'); $fl99 = med($cells, 'push', 'pconnect', 'p99_us');
bound($md, $tail !== null && $tail > 2.0, sprintf('p99 ≤ 2× p50: the LPUSH-alone floor itself has p99/p50 = %s in this run — the tail is the shared machine\'s (other processes take the 2 cores), not something a push can remove.', $fl50 && $fl99 ? sprintf('%.2f', $fl99 / $fl50) : '—'));
$md[] = '';

// ---------------------------------------------------------------------------------------------- concurrency
$md[] = '## 2. Push under concurrency (processes at once, one connection each)';
$md[] = '';
$md[] = 'Redis CPU µs: redis-server\'s CPU per registration over the cell (one core is all Redis has).';
$md[] = '';
$md[] = '| processes | reg_buffer reg/s | reg_buffer p99 µs | LPUSH-alone reg/s | LPUSH-alone p99 µs | × LPUSH alone | Redis CPU µs: reg_buffer / LPUSH | runs |';
$md[] = '|---:|---:|---:|---:|---:|---:|---|---:|';
$procs = [];
foreach (array_keys($cells['conc'] ?? []) as $c) if (!str_starts_with($c, 'regbuf_rush')) $procs[(int)explode('@', $c)[1]] = true;
ksort($procs);
foreach (array_keys($procs) as $p) {
  $md[] = sprintf('| %d | %s | %s | %s | %s | %s | %s / %s | %s |', $p, n0(med($cells, 'conc', "regbuf@$p", 'rate')),
    n1(med($cells, 'conc', "regbuf@$p", 'p99_us')), n0(med($cells, 'conc', "pconnect@$p", 'rate')),
    n1(med($cells, 'conc', "pconnect@$p", 'p99_us')), x(ratio($cells, 'conc', "regbuf@$p", 'conc', "pconnect@$p")),
    dash(med($cells, 'conc', "regbuf@$p", 'redis_cpu_us')), dash(med($cells, 'conc', "pconnect@$p", 'redis_cpu_us')), runs($cells, 'conc', "pconnect@$p"));
}
$md[] = '';
if (isset($cells['conc']['symfony_xadd@1'])) {
  $md[] = 'The peers under the same concurrency (reg/s, and reg_buffer\'s rate against each in the same rounds):';
  $md[] = '';
  $md[] = '| processes | Symfony XADD reg/s | Laravel EVALSHA reg/s | reg_buffer × XADD | reg_buffer × Laravel | Redis CPU µs: XADD / Laravel | runs |';
  $md[] = '|---:|---:|---:|---:|---:|---|---:|';
  foreach (array_keys($procs) as $p) {
    $md[] = sprintf('| %d | %s | %s | %s | %s | %s / %s | %s |', $p, n0(med($cells, 'conc', "symfony_xadd@$p", 'rate')), n0(med($cells, 'conc', "laravel_evalsha@$p", 'rate')),
      x(ratio($cells, 'conc', "regbuf@$p", 'conc', "symfony_xadd@$p")), x(ratio($cells, 'conc', "regbuf@$p", 'conc', "laravel_evalsha@$p")),
      dash(med($cells, 'conc', "symfony_xadd@$p", 'redis_cpu_us')), dash(med($cells, 'conc', "laravel_evalsha@$p", 'redis_cpu_us')), runs($cells, 'conc', "symfony_xadd@$p"));
  }
  $md[] = '';
}
if (isset($cells['conc']['regbuf_rush@32'])) {
  $md[] = sprintf('A rush: 32 processes book %s registrations of one event whose capacity is a tenth of them (`reg_buffer_book`, the rest answered `SoldOutException` at once): %s bookings/s, p99 %s µs, Redis CPU %s µs a booking; %s runs, each checked to have booked exactly the capacity.',
    n0(med($cells, 'conc', 'regbuf_rush@32', 'n')), n0(med($cells, 'conc', 'regbuf_rush@32', 'rate')), n1(med($cells, 'conc', 'regbuf_rush@32', 'p99_us')),
    dash(med($cells, 'conc', 'regbuf_rush@32', 'redis_cpu_us')), runs($cells, 'conc', 'regbuf_rush@32'));
  $md[] = '';
}

// --------------------------------------------------------------------------------------------------- flush
$md[] = '## 3. Flush into MariaDB (batches of 1,000, one INSERT each)';
$md[] = '';
$md[] = 'reg_buffer: ' . (isset($meta['flush_path']) ? $meta['flush_path'][0] : 'reg_buffer_flush(1000) → one multi-row INSERT IGNORE per batch in a transaction → reg_buffer_ack (`bench/flush.php`, insert_limit.php\'s table shape)') . '. '
  . 'Physical limit: `insert_limit.php` at 1,000 rows a statement (the 1M row: its loop copied for that batch size only, `bench/insert_limit_at.php`). '
  . 'Seed: `flush_anchor.php` with `memory_limit=128M`; "lost" = popped from Redis and never stored.';
$md[] = '';
$md[] = '"extension alone": the same batches through `bench/flush.php` (reg_buffer_flush($limit, $lease, false): rows without `data` → one INSERT IGNORE in a transaction → reg_buffer_ack, no WordPress), with the share of its time spent in reg_buffer_flush / SQL / reg_buffer_ack and the µs per registration of each call. "overlapped": the same loop with the INSERT sent asynchronously (MYSQLI_ASYNC), so that MariaDB inserts one batch while the process acks the batch before it and claims the next one (each batch still acked only after its COMMIT) — what a flusher that does not add Redis time to MySQL time would reach.';
$md[] = '';
$md[] = '| backlog | reg_buffer reg/s | peak MB | × limit | limit rows/s | seed reg/s | seed stored / left / lost | × seed | extension alone reg/s (× limit) | its time in flush / SQL / ack (µs per registration: flush, ack) | overlapped reg/s (× limit) | runs |';
$md[] = '|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---:|';
$backlogs = [];
foreach (array_keys($cells['flush'] ?? []) as $c) $backlogs[(int)explode('@', $c)[1]] = true;
ksort($backlogs);
foreach (array_keys($backlogs) as $b) {
  $seed = ok_runs($cells, 'flush', "seed@$b"); $last = $seed ? end($seed) : null;
  $seedRate = med($cells, 'flush', "seed@$b", 'rate');
  $seedTxt = $last === null ? 'not yet' : sprintf('%s / %s / %s%s', n0(med($cells, 'flush', "seed@$b", 'stored')),
    n0(med($cells, 'flush', "seed@$b", 'left_in_redis')), n0(med($cells, 'flush', "seed@$b", 'lost')),
    isset($last['failure']) ? ' (' . (str_contains($last['failure'], 'memory') ? 'fatal: memory_limit' : 'fatal') . ')' : '')
    . (($last['how'] ?? '') === 'copy' ? ' †' : '');
  $core = isset($cells['flush']["core@$b"]) ? "core@$b" : "regbuf@$b";
  $coreTxt = isset($cells['flush']["core@$b"]) ? sprintf('%s (%s)', n0(med($cells, 'flush', $core, 'rate')), x(ratio($cells, 'flush', $core, 'flush', "limit@$b"))) : (med($cells, 'flush', $core, 'share_flush') === null ? '(10k only)' : 'same as reg_buffer');
  $shares = med($cells, 'flush', $core, 'share_flush') === null ? '—' : sprintf('%.0f %% / %.0f %% / %.0f %% (%s, %s)',
    100 * med($cells, 'flush', $core, 'share_flush'), 100 * med($cells, 'flush', $core, 'share_sql'), 100 * med($cells, 'flush', $core, 'share_ack'),
    n1(med($cells, 'flush', $core, 'flush_us')), n1(med($cells, 'flush', $core, 'ack_us')));
  $ovlTxt = isset($cells['flush']["overlap@$b"]) ? sprintf('%s (%s)', n0(med($cells, 'flush', "overlap@$b", 'rate')), x(ratio($cells, 'flush', "overlap@$b", 'flush', "limit@$b"))) : '—';
  $md[] = sprintf('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', n0($b), n0(med($cells, 'flush', "regbuf@$b", 'rate')),
    n1(med($cells, 'flush', "regbuf@$b", 'peak_mb')), x(ratio($cells, 'flush', "regbuf@$b", 'flush', "limit@$b")),
    n0(med($cells, 'flush', "limit@$b", 'rate')), $seedRate ? n0($seedRate) : ($last ? '0 (failed)' : 'not yet'), $seedTxt,
    $seedRate ? x(ratio($cells, 'flush', "regbuf@$b", 'flush', "seed@$b")) : ($last ? '∞ (seed stores nothing)' : '—'), $coreTxt, $shares, $ovlTxt,
    runs($cells, 'flush', "limit@$b"));
}
$md[] = '';
$spread = [];
foreach (array_keys($backlogs) as $b) {
  $lr = per_run($cells, 'flush', "limit@$b", 'rate');
  if (count($lr) > 1) $spread[] = sprintf('%s: %s–%s rows/s (%.1f× between its slowest and fastest round)', n0($b), n0(min($lr)), n0(max($lr)), max($lr) / max(1, min($lr)));
}
if ($spread) { $md[] = 'Noise: the limit over this run\'s rounds — ' . implode('; ', $spread) . '. Same-round ratios cancel what hits both sides of a round; not what changes within one.'; $md[] = ''; }
$md[] = '† above 100k the anchor\'s own pipelined fill outgrows 128M before its flush starts: the backlog is filled the same way in chunks and the anchor\'s flush lines run copied exactly (`bench/flush_seed_drain.php`).';
$lim = [];
foreach (array_keys($backlogs) as $b) foreach (['rate_100', 'rate', 'rate_5000'] as $k) if (($v = med($cells, 'flush', "limit@$b", $k)) !== null) $lim[$b][] = n0($v);
if ($lim) {
  $md[] = '';
  $md[] = 'insert_limit.php at 100 / 1,000 / 5,000 rows a statement: ' . implode('; ', array_map(fn($b) => n0($b) . ' rows: ' . implode(' / ', $lim[$b]) . ' rows/s', array_keys($lim))) . '.';
}
$md[] = '';
$worstLimit = null; $maxPeak = null; $worstSeed = null;
foreach (array_keys($backlogs) as $b) {
  $v = ratio($cells, 'flush', "regbuf@$b", 'flush', "limit@$b"); if ($v !== null) $worstLimit = $worstLimit === null ? $v : min($worstLimit, $v);
  $v = med($cells, 'flush', "regbuf@$b", 'peak_mb'); if ($v !== null) $maxPeak = max($maxPeak ?? 0, $v);
  $v = ratio($cells, 'flush', "regbuf@$b", 'flush', "seed@$b"); if ($v !== null) $worstSeed = $worstSeed === null ? $v : min($worstSeed, $v);
}
$md[] = sprintf('Goals: ≥ 0.9× the limit — %s (worst %s); ≥ 6× the seed where the seed stores anything — %s (worst %s); peak ≤ 32 MB — %s (max %s MB).',
  goal($worstLimit, 0.9), x($worstLimit), goal($worstSeed, 6.0), x($worstSeed), goal($maxPeak, 32, true), n1($maxPeak));
$md[] = '';
$cb = null; foreach (array_keys($backlogs) as $b) if (isset($cells['flush']["core@$b"])) { $cb = $b; break; }
if ($cb !== null) {
  $fus = med($cells, 'flush', "core@$cb", 'flush_us'); $aus = med($cells, 'flush', "core@$cb", 'ack_us');
  $lus = ($l = med($cells, 'flush', "limit@$cb", 'rate')) ? 1e6 / $l : null;
  $ovl = ratio($cells, 'flush', "overlap@$cb", 'flush', "limit@$cb"); $alone = ratio($cells, 'flush', "core@$cb", 'flush', "limit@$cb");
  $pus = med($cells, 'flush', "regbuf@$cb", 'php_cpu_us');
  bound($md, $worstLimit !== null && $worstLimit < 0.9, sprintf('≥ 0.9× the limit: the plugin\'s flush overlaps Redis with MySQL (while MariaDB inserts one batch it acks the batch before and claims the next), so a batch costs the longer of the INSERT and claim + ack + PHP (the INSERT goes alone, in autocommit, when nothing listens to reg_buffer_before_commit: no other MySQL round trip per batch). At %s the limit spends %s µs per row; claim and ack took %s + %s µs per registration (extension-alone loop, Redis CPU %s µs) and the plugin\'s process %s µs of CPU: on 2 cores MariaDB\'s INSERT holds one and Redis and PHP share the other, so their sum sets the pace, not MySQL. The extension alone, claim → INSERT → ack in turn, reached %s the limit; the same loop overlapped %s (analysis below).',
    n0($cb), dash($lus), dash($fus), dash($aus), dash(med($cells, 'flush', "core@$cb", 'redis_cpu_us')), dash($pus),
    x($alone), x($ovl)));
}
foreach (array_keys($backlogs) as $b) {
  $sr = med($cells, 'flush', "seed@$b", 'rate'); $lr = med($cells, 'flush', "limit@$b", 'rate'); $v = ratio($cells, 'flush', "regbuf@$b", 'flush', "seed@$b");
  bound($md, $sr && $lr && $v !== null && $v < 6.0, sprintf('≥ 6× the seed at %s: the seed stores that backlog in one INSERT at %s reg/s, so 6× is %s reg/s = %s the limit of the same run (%s rows/s) — the 0.9× bound above applies%s.',
    n0($b), n0($sr), n0(6 * $sr), x(6 * $sr / $lr), n0($lr), 6 * $sr > $lr ? '; here 6× the seed is above the physical limit itself' : ''));
}
$md[] = '';

// ---------------------------------------------------------------------------------------------------- HTTP
$md[] = '## 5. HTTP: nginx + php-fpm on 127.0.0.1, wrk';
$md[] = '';
$routes = [
  'noop' => 'WordPress REST route doing nothing (bootstrap floor)',
  'rest' => 'plugin REST route (reg_buffer_push)',
  'mysql' => 'same route writing straight to MySQL (add_post_meta ×5)',
  'intake' => 'plugin fast intake, one-use form tokens (no WordPress boot)',
  'bare' => 'bare php-fpm endpoint: phpredis pconnect + LPUSH',
];
if (!isset($cells['http'])) {
  $md[] = 'not yet: ' . ($meta['http_missing'][0] ?? 'the HTTP section did not run.');
} else {
  $conns = [];
  foreach (array_keys($cells['http']) as $c) $conns[(int)explode('@', $c)[1]] = true;
  ksort($conns);
  $md[] = '| route | connections | req/s | p50 ms | p99 ms | errors (non-2xx + socket) | × floor req/s | p50 − floor p50 ms | runs |';
  $md[] = '|---|---:|---:|---:|---:|---:|---:|---:|---:|';
  foreach ($routes as $rt => $label) foreach (array_keys($conns) as $cn) {
    $c = "$rt@$cn";
    if (!isset($cells['http'][$c])) { $md[] = "| $label | $cn | not yet | | | | | | |"; continue; }
    $p50 = med($cells, 'http', $c, 'p50_ms'); $f50 = med($cells, 'http', "noop@$cn", 'p50_ms');
    $md[] = sprintf('| %s | %d | %s | %s | %s | %s | %s | %s | %s |', $label, $cn, n0(med($cells, 'http', $c, 'rps')), n1($p50),
      n1(med($cells, 'http', $c, 'p99_ms')), n0(array_sum(array_column(ok_runs($cells, 'http', $c), 'errors'))),
      x(ratio($cells, 'http', $c, 'http', "noop@$cn", 'rps')), $p50 !== null && $f50 !== null ? sprintf('%+.2f', $p50 - $f50) : '—', runs($cells, 'http', $c));
  }
  $md[] = '';
  $maxc = max(array_keys($conns)); $minc = min(array_keys($conns));
  $d50 = ($a = med($cells, 'http', "rest@$minc", 'p50_ms')) !== null && ($f = med($cells, 'http', "noop@$minc", 'p50_ms')) !== null ? $a - $f : null;
  $keep = ratio($cells, 'http', "rest@$maxc", 'http', "noop@$maxc", 'rps');
  $restErr = array_sum(array_column(ok_runs($cells, 'http', "rest@$maxc"), 'errors'));
  $vsRest = ratio($cells, 'http', "intake@$maxc", 'http', "rest@$maxc", 'rps');
  $vsBare = ratio($cells, 'http', "intake@$maxc", 'http', "bare@$maxc", 'rps');
  $p99 = med($cells, 'http', "intake@$maxc", 'p99_ms');
  $md[] = sprintf('Goals: REST route p50 − floor p50 at %d connection < 0.5 ms — %s (%s ms); REST route ≥ 0.97× the floor\'s req/s at %d connections with no errors — %s (%s, %s errors); '
    . 'fast intake ≥ 20× the REST route\'s req/s at %d — %s (%s), p99 < 10 ms — %s (%s ms), ≥ 1.3× the bare phpredis endpoint — %s (%s).',
    $minc, $d50 === null ? 'not yet' : ($d50 < 0.5 ? 'met' : '**not met**'), $d50 === null ? '—' : sprintf('%+.2f', $d50),
    $maxc, $keep === null ? 'not yet' : ($keep >= 0.97 && $restErr == 0 ? 'met' : '**not met**'), ($keep === null ? "—" : sprintf("%.3f×", $keep)), n0($restErr),
    $maxc, goal($vsRest, 20), x($vsRest), $p99 === null ? 'not yet' : ($p99 < 10 ? 'met' : '**not met**'), n1($p99), goal($vsBare, 1.3), x($vsBare));
  $md[] = '';
  $own = med($cells, 'http_cost', 'rest_cost', 'own_us');
  if ($own !== null) {
    $md[] = sprintf('In-process (`bench/http/rest_cost.php`: the same POST dispatched by `rest_do_request()` to both routes, interleaved, %s requests a run): the plugin\'s route costs **%s µs** more than the do-nothing route (%s against %s µs a request), of which %s µs are `Reg_Buffer_Registrar::register()`, the push (%s runs).',
      n0(med($cells, 'http_cost', 'rest_cost', 'n')), n0($own), n0(med($cells, 'http_cost', 'rest_cost', 'rest_us')), n0(med($cells, 'http_cost', 'rest_cost', 'noop_us')),
      n0(med($cells, 'http_cost', 'rest_cost', 'push_us')), runs($cells, 'http_cost', 'rest_cost'));
    $md[] = '';
  }
  $floor = per_run($cells, 'http', "noop@$minc", 'p50_ms');
  bound($md, $d50 !== null && $d50 >= 0.5, sprintf('REST p50 − floor p50 < 0.5 ms: the floor\'s own p50 ranged %s–%s ms over this run\'s %d round(s)%s; the route\'s own work beyond the floor is %s.',
    $floor ? n1(min($floor)) : '—', $floor ? n1(max($floor)) : '—', count($floor),
    $floor && max($floor) - min($floor) > 0.5 ? ', more than the 0.5 ms to be resolved: the difference is within this machine\'s noise' : '',
    $own !== null ? sprintf('%s µs measured in-process (above), under the 0.5 ms', n0($own)) : sprintf('one reg_buffer_push (section 1: p50 %s µs) and the REST controller\'s checks', n1(med($cells, 'push', 'regbuf_unique', 'p50_us')))));
  $fr = per_run($cells, 'http', "noop@$maxc", 'rps');
  bound($md, $keep !== null && ($keep < 0.97 || $restErr > 0), sprintf('REST ≥ 0.97× the floor at %d: %s short of it, while the floor itself ranged %s–%s req/s over the rounds (%s between its slowest and fastest round): the route\'s own work (one reg_buffer_push, ~0.1 ms of a %s ms request) is below what this machine resolves.',
    $maxc, $keep < 0.97 ? sprintf('%.1f %%', 100 * (0.97 - $keep) / 0.97) : 'not', $fr ? n0(min($fr)) : '—', $fr ? n0(max($fr)) : '—', $fr ? sprintf('%.2f×', max($fr) / max(1, min($fr))) : '—', n1(med($cells, 'http', "rest@$maxc", 'p50_ms'))));
  bound($md, $p99 !== null && $p99 >= 10, sprintf('intake p99 < 10 ms at %d connections: %d connections kept busy wait %d / (req/s) on average (Little\'s law), so a p99 under 10 ms needs more than %s req/s before any tail; the intake served %s, the bare php-fpm endpoint (one LPUSH) %s req/s with p99 %s ms in the same run — 2 shared cores serve nginx, php-fpm, Redis, MariaDB and wrk at once.',
    $maxc, $maxc, $maxc, n0($maxc / 0.010), n0(med($cells, 'http', "intake@$maxc", 'rps')), n0(med($cells, 'http', "bare@$maxc", 'rps')), n1(med($cells, 'http', "bare@$maxc", 'p99_ms'))));
  bound($md, $vsBare !== null && $vsBare < 1.3, sprintf('intake ≥ 1.3× the bare endpoint: both make one Redis round trip per request, but the intake\'s runs the push script (Redis CPU %s µs per push in section 1) where the bare endpoint\'s LPUSH costs %s µs, and the intake checks the token\'s HMAC, decodes the form and encodes the registration in PHP. The bare endpoint\'s second round trip (phpredis\' ECHO) costs less than that work: on 2 cores every µs of CPU per request counts, and ≥ 1.3× would need the intake to spend less CPU than a bare LPUSH endpoint (analysis below).',
    dash(med($cells, 'push', 'regbuf_unique', 'redis_cpu_us')), dash(med($cells, 'push', 'pconnect', 'redis_cpu_us'))));
  foreach ($meta['http_missing'] ?? [] as $m) { $md[] = ''; $md[] = "Not yet: $m"; }
}
$md[] = '';

// -------------------------------------------------------------------------------------------------- growth
$md[] = '## 6. Cost growth';
$md[] = '';
$md[] = 'Anchors: the same push spread over 1 event (same round) for the events rows; the same push on an empty buffer, run just before that backlog was filled (same round), for the backlog rows.';
$md[] = '';
$md[] = '| push (unique key) while … | reg/s | p50 µs | p99 µs | × anchor reg/s | runs |';
$md[] = '|---|---:|---:|---:|---:|---:|';
$ev = array_keys($cells['growth_events'] ?? []); sort($ev);
foreach ($ev as $e) $md[] = sprintf('| spread over %s events | %s | %s | %s | %s | %s |', n0($e), n0(med($cells, 'growth_events', $e, 'rate')),
  n1(med($cells, 'growth_events', $e, 'p50_us')), n1(med($cells, 'growth_events', $e, 'p99_us')),
  x(ratio($cells, 'growth_events', $e, 'growth_events', $ev[0] ?? '1')), runs($cells, 'growth_events', $e));
$bl = array_filter(array_keys($cells['growth_backlog'] ?? []), fn ($c) => !str_starts_with((string)$c, 'empty:')); sort($bl);
foreach ($bl as $b) $md[] = sprintf('| on a backlog of %s | %s | %s | %s | %s | %s |', n0($b), n0(med($cells, 'growth_backlog', $b, 'rate')),
  n1(med($cells, 'growth_backlog', $b, 'p50_us')), n1(med($cells, 'growth_backlog', $b, 'p99_us')),
  isset($cells['growth_backlog']["empty:$b"]) ? x(ratio($cells, 'growth_backlog', $b, 'growth_backlog', "empty:$b")) : '—', runs($cells, 'growth_backlog', $b));
if (!$ev && !$bl) $md[] = '| not yet | | | | | |';
$md[] = '';
$md[] = 'Flush cost per registration vs backlog (from section 3):';
$md[] = '';
$md[] = '| backlog | µs per registration (flush) | µs per row (limit, same rounds) | µs per registration (fill: push by 8 processes) |';
$md[] = '|---:|---:|---:|---:|';
foreach (array_keys($backlogs) as $b) {
  $f = med($cells, 'flush', "regbuf@$b", 'rate'); $p = med($cells, 'fill', $b, 'rate'); $l = med($cells, 'flush', "limit@$b", 'rate');
  $md[] = sprintf('| %s | %s | %s | %s |', n0($b), $f ? n1(1e6 / $f) : 'not yet', $l ? n1(1e6 / $l) : 'not yet', $p ? n1(1e6 / $p) : 'not yet');
}
$md[] = '';
if (is_file("$dir/NOTES.md")) { $md[] = trim(file_get_contents("$dir/NOTES.md")); $md[] = ''; }
$md[] = '![push throughput](push.png)';
file_put_contents("$outdir/RESULTS.md", implode("\n", $md) . "\n");

// ------------------------------------------------------------------------------------ chart: push reg/s (GD)
$bars = [];
$ratios = [];
foreach ($labels as $c => $label) if (($v = med($cells, 'push', $c, 'rate')) !== null) { $bars[$label] = $v; $ratios[$label] = ratio($cells, 'push', $c, 'push', 'pconnect'); }
if ($bars && function_exists('imagecreatetruecolor')) {
  $w = 960; $rowh = 34; $left = 380; $h = 60 + $rowh * count($bars) + 30;
  $im = imagecreatetruecolor($w, $h);
  $white = imagecolorallocate($im, 255, 255, 255); $ink = imagecolorallocate($im, 30, 30, 30);
  $grid = imagecolorallocate($im, 220, 220, 220); $ours = imagecolorallocate($im, 214, 96, 40); $them = imagecolorallocate($im, 70, 110, 170);
  imagefilledrectangle($im, 0, 0, $w, $h, $white);
  imagestring($im, 5, 10, 10, "Push: registrations/s, one PHP process (median of runs; x = ratio to LPUSH alone, same round)", $ink);
  $max = max($bars) * 1.1; $span = $w - $left - 150;
  for ($g = 0; $g <= 4; $g++) {
    $gx = $left + (int)($span * $g / 4); imageline($im, $gx, 40, $gx, $h - 25, $grid);
    imagestring($im, 2, $gx - 10, $h - 22, number_format($max * $g / 4 / 1000, 1) . 'k', $ink);
  }
  $y = 50;
  foreach ($bars as $label => $v) {
    imagestring($im, 3, 10, $y + 8, substr(str_replace('×', 'x', $label), 0, 46), $ink);
    $bw = (int)($span * $v / $max);
    imagefilledrectangle($im, $left, $y + 4, $left + max(1, $bw), $y + $rowh - 6, str_starts_with($label, 'reg_buffer') ? $ours : $them);
    imagestring($im, 3, $left + $bw + 6, $y + 8, number_format($v, 0, '.', ',') . ($ratios[$label] !== null ? sprintf(' (%.2fx)', $ratios[$label]) : ''), $ink);
    $y += $rowh;
  }
  imagepng($im, "$outdir/push.png");
}
echo "wrote $outdir/RESULTS.md", is_file("$outdir/push.png") ? " and $outdir/push.png" : '', "\n";
