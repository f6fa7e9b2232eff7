<?php
// Side experiment (not run by run.sh): where the flush's Redis side spends its time. A backlog like the bench's
// (N registrations of 5 fields, unique keys, 100 events or $EVENTS) is drained in batches of BATCH:
//  1. through the extension (reg_buffer_flush(BATCH, 300, false) / reg_buffer_ack): wall time per call and
//     Redis' own time (INFO commandstats: the EVALSHA, and the commands the script ran, which Redis 7 counts too);
//  2. through the same claim/ack Lua (src/core/lua + the key prelude) and variants of it, run with EVAL by phpredis,
//     to price what a different script would save.
// usage: php claim_ack_cost.php REDIS_PORT [N=10000] [BATCH=1000] [ROUNDS=5] [extension]   (a private redis-server: it
// FLUSHALLs; "extension" runs part 1 only, as claim_ack_ab.sh does to compare two builds)
// Part 2 calls the scripts as the extension does on a single server (plan, then the claim declaring its keys).
$port = (int) $argv[1]; $n = (int) ($argv[2] ?? 10000); $batch = (int) ($argv[3] ?? 1000); $rounds = (int) ($argv[4] ?? 5);
$only_extension = ($argv[5] ?? '') === 'extension';
$events = (int) (getenv('EVENTS') ?: 100);   // how many events the backlog is spread over
ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
$r = new Redis(); $r->connect('127.0.0.1', $port);
$reg = ['email' => 'someone@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7'];
$fill = function () use ($r, $n, $reg, $events) {
  $r->flushAll();
  for ($i = 0; $i < $n; $i++) reg_buffer_push($i % $events + 1, $reg, "p$i." . uniqid() . '@example.com');
};
/** usec and calls per command since the last reset. */
$stats = function () use ($r): array {
  $out = [];
  foreach ($r->info('commandstats') as $k => $v) {
    if (preg_match('/calls=(\d+),usec=(\d+)/', $v, $m)) $out[substr($k, 8)] = ['calls' => (int) $m[1], 'usec' => (int) $m[2]];
  }
  return $out;
};
$median = function (array $v) { sort($v); return $v ? $v[intdiv(count($v), 2)] : null; };

// 1. The extension.
$res = ['claim_wall_us' => [], 'claim_redis_us' => [], 'ack_wall_us' => [], 'ack_redis_us' => [], 'claim_cmds' => [], 'ack_cmds' => []];
for ($round = 0; $round < $rounds; $round++) {
  $fill();
  $claimed = 0; $wall_c = 0; $wall_a = 0; $redis_c = 0; $redis_a = 0; $cmds_c = []; $cmds_a = [];
  while (true) {
    $r->rawCommand('CONFIG', 'RESETSTAT');
    $t = hrtime(true); $b = reg_buffer_flush($batch, 300, false); $wall = hrtime(true) - $t;
    if (!$b['rows']) break;
    $s = $stats();
    $wall_c += $wall; $redis_c += $s['evalsha']['usec'];
    foreach ($s as $cmd => $v) if (!in_array($cmd, ['evalsha', 'config', 'info'], true)) $cmds_c[$cmd] = ($cmds_c[$cmd] ?? 0) + $v['usec'];
    $r->rawCommand('CONFIG', 'RESETSTAT');
    $t = hrtime(true); reg_buffer_ack($b['batch']); $wall_a += hrtime(true) - $t;
    $s = $stats();
    $redis_a += $s['evalsha']['usec'];
    foreach ($s as $cmd => $v) if (!in_array($cmd, ['evalsha', 'config', 'info'], true)) $cmds_a[$cmd] = ($cmds_a[$cmd] ?? 0) + $v['usec'];
    $claimed += count($b['rows']);
  }
  $res['claim_wall_us'][] = $wall_c / 1e3 / $claimed; $res['claim_redis_us'][] = $redis_c / $claimed;
  $res['ack_wall_us'][] = $wall_a / 1e3 / $claimed; $res['ack_redis_us'][] = $redis_a / $claimed;
  $res['claim_cmds'][] = array_map(fn ($u) => $u / $claimed, $cmds_c);
  $res['ack_cmds'][] = array_map(fn ($u) => $u / $claimed, $cmds_a);
}
$per_cmd = function (array $list) use ($median) {
  $out = [];
  foreach (array_keys($list[0]) as $cmd) $out[$cmd] = round($median(array_column($list, $cmd)), 2);
  arsort($out);
  return $out;
};
echo json_encode(['what' => 'extension, us per registration (median of rounds)',
  'claim_wall' => round($median($res['claim_wall_us']), 2), 'claim_redis' => round($median($res['claim_redis_us']), 2),
  'claim_redis_by_command' => $per_cmd($res['claim_cmds']),
  'ack_wall' => round($median($res['ack_wall_us']), 2), 'ack_redis' => round($median($res['ack_redis_us']), 2),
  'ack_redis_by_command' => $per_cmd($res['ack_cmds'])], JSON_PRETTY_PRINT), "\n";
if ($only_extension) exit(0);

// 2. The scripts by EVAL, and variants. Prelude and bodies as the extension builds them (single server).
$lua = dirname(__DIR__, 2) . '/src/core/lua';
preg_match('/lua_prelude\(\) -> &\'static str \{\s*r#"(.*?)"#/s', file_get_contents(dirname(__DIR__, 2) . '/src/core/keys.rs'), $m);
$prelude = $m[1];
$claim = file_get_contents("$lua/claim.lua"); $ack = file_get_contents("$lua/ack.lua"); $plan = file_get_contents("$lua/plan.lua");
// A variant is the script with some text replaced; if that text is no longer in the script it is skipped.
$replacing = function (string $script, array $pairs): ?string {
  foreach ($pairs as $from => $to) if (!str_contains($script, $from)) return null;
  return strtr($script, $pairs);
};
$variants = [
  'claim.lua as is' => ['claim', $claim],
  'claim without re-scoring ready' => ['claim', $replacing($claim, ["in_chunks('ZADD', K_READY, ready_pairs, 1000)" => ''])],
  'claim without HMGET (ids only)' => ['claim', $replacing($claim,
    ["local entries = redis.call('HMGET', k_data(e), unpack(ids, from, upto))" => 'local entries = ids'])],
  'ack.lua as is' => ['ack', $ack],
  'ack without the time index ZREM' => ['ack', $replacing($ack, ["    redis.call('ZREM', k_time(e), unpack(ids, from, upto))\n" => ''])],
];
// The extension's calls, single server: the plan, then the claim declaring every key; the batch, then the ack.
$k_event = fn ($e, $part) => "regbuf:ev:{{$e}}:$part";
$run_claim = function (string $body) use ($r, $prelude, $plan, $batch, $k_event) {
  [$events, $expired, $expired_events] = $r->eval("#!lua flags=no-writes\n" . $prelude . $plan, ['regbuf:ready', 'regbuf:leases', 'regbuf:', '', (string) $batch], 2);
  if (!$events && !$expired) return null;
  $involved = array_values(array_unique(array_merge($events, $expired_events)));
  $id = sprintf('01J%023d', mt_rand());
  $keys = ['regbuf:ready', 'regbuf:oldest', 'regbuf:leases', 'regbuf:stats', "regbuf:batch:$id"];
  foreach ($expired as $old) $keys[] = "regbuf:batch:$old";
  foreach ($involved as $e) array_push($keys, $k_event($e, 'q'), $k_event($e, 'd'), $k_event($e, 't'));
  $args = ['regbuf:', '', (string) $batch, '300000', $id, (string) count($expired), ...$expired, (string) count($involved), ...$involved];
  $reply = $r->eval("#!lua flags=allow-oom\n" . $prelude . $body, [...$keys, ...$args], count($keys));
  return is_array($reply) && $reply[0] !== '' ? $reply[0] : null;
};
$run_ack = function (string $body, string $id) use ($r, $prelude, $k_event) {
  $events = array_values(array_unique(array_map(fn ($m) => explode(':', $m)[0], $r->lRange("regbuf:batch:$id", 0, -1))));
  $keys = ["regbuf:batch:$id", 'regbuf:leases', 'regbuf:stats'];
  foreach ($events as $e) array_push($keys, $k_event($e, 'd'), $k_event($e, 't'));
  return $r->eval("#!lua flags=allow-oom\n" . $prelude . $body, [...$keys, 'regbuf:', '', $id, ...$events], count($keys));
};
$out = [];
$claimed = fn () => (int) $r->hGet('regbuf:stats', 'claimed');
foreach ($variants as $name => [$kind, $body]) {
  if ($body === null) { $out[$name] = 'n/a: the script changed'; continue; }
  $times = [];
  for ($round = 0; $round < $rounds; $round++) {
    $fill();
    // Batches are claimed and acked for real; only the variant under test is timed (EVAL's usec in commandstats).
    $usec = 0; $before = $claimed();
    while (true) {
      $r->rawCommand('CONFIG', 'RESETSTAT');
      $id = $run_claim($kind === 'claim' ? $body : $claim);
      if ($kind === 'claim') $usec += $stats()['eval']['usec'] ?? 0;
      if ($id === null) break;
      $r->rawCommand('CONFIG', 'RESETSTAT');
      $run_ack($kind === 'ack' ? $body : $ack, $id);
      if ($kind === 'ack') $usec += $stats()['eval']['usec'] ?? 0;
    }
    if (($count = $claimed() - $before) > 0) $times[] = $usec / $count;
  }
  $out[$name] = $times ? round($median($times), 2) : 'failed';
}
echo json_encode(['what' => 'Redis us per registration (EVAL of plan + claim, or of ack, median of rounds)'] + $out, JSON_PRETTY_PRINT), "\n";
