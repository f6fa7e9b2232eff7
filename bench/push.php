<?php
// One push cell: N registrations of 5 fields through one way of buffering them, in P processes at once; prints one
// JSON line (rate, p50/p99/p99.9 per push). The anchors' loops are copied exactly from
// ../shared/anchors/push_anchors.php, with a clock read around each registration for the percentiles.
// usage: php push.php MODE N REDIS_PORT [PROCS=1] [EVENTS=10] [TAG=run id, keeps unique keys unique across runs]
// MODE: seed | pconnect_expire | pconnect | predis | mysql | symfony_xadd | laravel_evalsha | sidekiq_multi (the peers'
// push paths, ../shared/anchors/peer_push.php) | regbuf | regbuf_unique | regbuf_book (reg_buffer_book() to
// events whose capacity is never reached) | regbuf_rush (every process books ONE event of capacity N/10: a sold-out rush;
// the cell fails unless exactly N/10 were booked)
require __DIR__ . '/common.php';
[$mode, $n, $port] = [$argv[1], (int)$argv[2], (int)$argv[3]];
$procs = (int)($argv[4] ?? 1); $events = (int)($argv[5] ?? 10); $tag = $argv[6] ?? (string)getmypid();
$reg = ['email' => 'someone@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7'];

// Each mode: a setup run once per process (connections are opened there, as a request would reuse them) and
// the body of one registration.
function make_op(string $mode, int $port, array $reg, int $events, string $tag): callable {
  switch ($mode) {
    case 'seed': return function ($i) use ($reg, $port) {
      $redis = new Redis(); $redis->connect('127.0.0.1', $port);
      $redis->lPush('event_reg_buffer:' . ($i % 10), json_encode(['timestamp' => time(), 'registration_details' => $reg]));
      $redis->expire('event_reg_buffer:' . ($i % 10), 3600); $redis->close(); };
    case 'pconnect_expire': $p = new Redis(); $p->pconnect('127.0.0.1', $port);
      return function ($i) use ($reg, $p) {
        $p->lPush('event_reg_buffer:' . ($i % 10), json_encode(['timestamp' => time(), 'registration_details' => $reg]));
        $p->expire('event_reg_buffer:' . ($i % 10), 3600); };
    case 'pconnect': $p = new Redis(); $p->pconnect('127.0.0.1', $port);
      return function ($i) use ($reg, $p) {
        $p->lPush('event_reg_buffer:' . ($i % 10), json_encode(['timestamp' => time(), 'registration_details' => $reg])); };
    case 'predis':
      require_once '/usr/share/php/Predis/Autoloader.php'; Predis\Autoloader::register();
      $pr = new Predis\Client(['host' => '127.0.0.1', 'port' => $port, 'persistent' => true]);
      return function ($i) use ($reg, $pr) {
        $pr->lpush('event_reg_buffer:' . ($i % 10), [json_encode(['timestamp' => time(), 'registration_details' => $reg])]);
        $pr->expire('event_reg_buffer:' . ($i % 10), 3600); };
    // The peers' own push paths, copied from ../shared/anchors/peer_push.php (issue 17 measures against them).
    case 'symfony_xadd': $p = new Redis(); $p->pconnect('127.0.0.1', $port);
      return function ($i) use ($reg, $p) { $p->xAdd('messages', '*', ['message' => json_encode(['body' => $reg, 'headers' => []])]); };
    case 'laravel_evalsha': $p = new Redis(); $p->pconnect('127.0.0.1', $port);
      $sha = $p->script('load', "redis.call('rpush', KEYS[1], ARGV[1])\nredis.call('rpush', KEYS[2], 1)");
      return function ($i) use ($reg, $p, $sha) { $p->evalSha($sha, ['queues:default', 'queues:default:notify', json_encode(['uuid' => $i, 'data' => $reg])], 2); };
    case 'sidekiq_multi': $p = new Redis(); $p->pconnect('127.0.0.1', $port);
      return function ($i) use ($reg, $p) { $p->multi()->sAdd('queues', 'default')->lPush('queue:default', json_encode($reg))->exec(); };
    case 'mysql':
      require_once anchors_dir() . '/db.php';
      $db = anchor_db(); $st = $db->prepare('INSERT INTO wp_postmeta (post_id, meta_key, meta_value) VALUES (?, ?, ?)');
      return function ($i) use ($reg, $st, $db) {
        foreach ($reg as $k => $v) { $pid = $i % 10; $vs = (string)$v; $st->bind_param('iss', $pid, $k, $vs); $st->execute(); } };
    case 'regbuf':
      ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
      return function ($i) use ($reg, $events) {
        if (!is_string(reg_buffer_push($i % $events + 1, $reg))) throw new RuntimeException('push returned no id'); };
    case 'regbuf_book':
      ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
      for ($e = 1; $e <= $events; $e++) reg_buffer_seats_seed($e, 0, 0);   // once per event; a later seed changes nothing
      return function ($i) use ($reg, $events) {
        if (reg_buffer_book($i % $events + 1, $reg, ['capacity' => PHP_INT_MAX >> 23])['status'] !== 'registered') throw new RuntimeException('not booked'); };
    case 'regbuf_rush':
      ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
      reg_buffer_seats_seed(1, 0, 0);
      $seats = ['capacity' => rush_capacity()];
      return function ($i) use ($reg, $seats) {
        try { reg_buffer_book(1, $reg, $seats); } catch (RegBuffer\SoldOutException $e) { /* the rush's usual answer */ } };
    case 'regbuf_unique':
      ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
      return function ($i) use ($reg, $events, $tag) {
        if (!is_string(reg_buffer_push($i % $events + 1, $reg, "p$i.$tag@example.com"))) throw new RuntimeException('unexpected duplicate'); };
  }
  throw new InvalidArgumentException("unknown mode $mode");
}

/** The one event's capacity in a regbuf_rush cell: a tenth of the bookings. */
function rush_capacity(): int { global $n; return max(1, intdiv($n, 10)); }

// The anchors FLUSHALL before they start; so does every cell here, but for the pushes onto a backlog (BENCH_KEEP=1).
if (getenv('BENCH_KEEP') !== '1') { $r = new Redis(); $r->connect('127.0.0.1', $port); $r->flushAll(); $r->close(); unset($r); }

// Redis's own CPU over the cell (INFO cpu), to tell server cost from client cost per registration.
function redis_cpu(int $port): float {
  $r = new Redis(); $r->connect('127.0.0.1', $port); $i = $r->info('CPU'); $r->close();
  return (float)$i['used_cpu_user'] + (float)$i['used_cpu_sys'];
}
$rcpu0 = redis_cpu($port);
$dir = sys_get_temp_dir() . '/rb_push_' . getmypid(); @mkdir($dir);
$start = hrtime(true) + 300_000_000 + $procs * 20_000_000;   // a common start line, after every fork is done
$kids = [];
for ($k = 0; $k < $procs; $k++) {
  $pid = $procs === 1 ? 0 : pcntl_fork();
  if ($pid === -1) { fwrite(STDERR, "fork failed\n"); exit(1); }
  if ($pid > 0) { $kids[] = $pid; continue; }
  // the worker: its share of the N registrations
  $share = intdiv($n, $procs) + ($k < $n % $procs ? 1 : 0);
  $op = make_op($mode, $port, $reg, $events, $tag);
  while (hrtime(true) < $start) usleep(1000);
  $lat = new SplFixedArray($share); $ru0 = getrusage(); $t0 = hrtime(true); $err = '';
  try {
    for ($i = 0; $i < $share; $i++) { $a = hrtime(true); $op($k * 1_000_000 + $i); $lat[$i] = hrtime(true) - $a; }
  } catch (Throwable $e) { $err = get_class($e) . ': ' . $e->getMessage(); $share = $i; }
  $t1 = hrtime(true); $ru1 = getrusage();
  $cpu = fn($r) => $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6 + $r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6;
  file_put_contents("$dir/$k", json_encode(['t0' => $t0, 't1' => $t1, 'n' => $share, 'err' => $err, 'cpu' => $cpu($ru1) - $cpu($ru0)]) . "\n" .
    pack('P*', ...array_slice($lat->toArray(), 0, $share)));
  if ($procs > 1) exit(0);
}
foreach ($kids as $pid) pcntl_waitpid($pid, $st);

$rcpu = redis_cpu($port) - $rcpu0;
$all = []; $t0 = PHP_INT_MAX; $t1 = 0; $done = 0; $errs = []; $ccpu = 0.0;
for ($k = 0; $k < $procs; $k++) {
  $raw = @file_get_contents("$dir/$k"); @unlink("$dir/$k");
  if ($raw === false) { $errs[] = "worker $k wrote nothing"; continue; }
  $nl = strpos($raw, "\n"); $h = json_decode(substr($raw, 0, $nl), true);
  if ($h['err'] !== '') $errs[] = $h['err'];
  $t0 = min($t0, $h['t0']); $t1 = max($t1, $h['t1']); $done += $h['n']; $ccpu += $h['cpu'];
  if ($h['n'] > 0) array_push($all, ...array_values(unpack('P*', substr($raw, $nl + 1))));
}
@rmdir($dir);
$s = max(1, $t1 - $t0) / 1e9;
if ($mode === 'regbuf_rush' && !$errs && ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port") !== false
  && ($taken = reg_buffer_seats(1)['taken']) !== rush_capacity()) {
  $errs[] = sprintf('the rush booked %d seats of %d', $taken, rush_capacity());
}
emit(['mode' => $mode, 'n' => $done, 'procs' => $procs, 'events' => $events, 'secs' => $s, 'rate' => $done / $s,
  'client_cpu_us' => $done ? $ccpu / $done * 1e6 : null, 'redis_cpu_us' => $done ? $rcpu / $done * 1e6 : null]
  + percentiles_us($all) + ($errs ? ['error' => implode('; ', array_unique($errs))] : []));
exit($errs ? 1 : 0);
