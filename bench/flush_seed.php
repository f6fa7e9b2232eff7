<?php
// The seed's flush with memory_limit=128M (as under WP-Cron), then counted: what it stored, what is still in Redis,
// and what it lost (popped from Redis, never stored).
// Up to 100k: ../shared/anchors/flush_anchor.php as shipped (it fills its own backlog). Above: its pipelined fill
// alone outgrows 128M, so this script fills the backlog the same way in chunks and runs the anchor's flush lines
// copied exactly (bench/flush_seed_drain.php) under 128M.
// usage: php flush_seed.php N REDIS_PORT
require __DIR__ . '/common.php';
require anchors_dir() . '/db.php';
[$n, $port] = [(int)$argv[1], (int)$argv[2]];
$r = new Redis(); $r->connect('127.0.0.1', $port);
if ($n <= 100000) {
  $script = anchors_dir() . '/flush_anchor.php'; $how = 'anchor';
} else {
  $script = __DIR__ . '/flush_seed_drain.php'; $how = 'copy';
  $reg = ['email' => 'someone@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7'];
  $r->flushAll();
  for ($i = 0; $i < $n; $i += 10000) {
    $pipe = $r->multi(Redis::PIPELINE);
    for ($j = $i; $j < min($n, $i + 10000); $j++) $pipe->lPush('event_reg_buffer:' . ($j % 10), json_encode(['timestamp' => time(), 'registration_details' => $reg]));
    $pipe->exec();
  }
}
$cmd = escapeshellarg(PHP_BINARY) . ' -d memory_limit=128M ' . escapeshellarg($script) . " $n $port 2>&1";
$t = hrtime(true); exec($cmd, $out, $rc); $wall = (hrtime(true) - $t) / 1e9;
$text = implode("\n", $out);
$left = 0; foreach ($r->keys('event_reg_buffer:*') as $k) $left += $r->lLen($k);
$db = anchor_db();
$stored = intdiv((int)$db->query('SELECT COUNT(*) FROM wp_postmeta')->fetch_row()[0], 5);
$row = ['n' => $n, 'how' => $how, 'stored' => $stored, 'left_in_redis' => $left, 'lost' => $n - $stored - $left, 'exit' => $rc];
if (preg_match('/total ([\d.]+)s, (\d+) reg\/s.*peak mem ([\d.]+) MB/', $text, $m)) {
  $row += ['secs' => (float)$m[1], 'rate' => (float)$m[2], 'peak_mb' => (float)$m[3] * 1e6 / 1048576];
} else {
  $row += ['rate' => 0, 'secs' => $wall, 'failure' => preg_match('/Fatal error:\s*(.*? on line \d+)/', $text, $m) ? $m[1] : substr($text, -200)];
  // a fatal error before the first pop (e.g. in the anchor's own fill) means its flush never ran: nothing to count
  if ($stored === 0 && $left === 0) { $row['lost'] = null; $row['failure'] = 'did not reach its flush: ' . $row['failure']; }
}
emit($row);
