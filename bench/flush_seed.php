<?php
// The seed's flush (../shared/anchors/flush_anchor.php) run as shipped with memory_limit=128M (as under WP-Cron),
// then counted: what it stored, what is still in Redis, and what it lost (popped from Redis, never stored).
// usage: php flush_seed.php N REDIS_PORT
require __DIR__ . '/common.php';
require anchors_dir() . '/db.php';
[$n, $port] = [(int)$argv[1], (int)$argv[2]];
$cmd = escapeshellarg(PHP_BINARY) . ' -d memory_limit=128M ' . escapeshellarg(anchors_dir() . '/flush_anchor.php') . " $n $port 2>&1";
$t = hrtime(true); exec($cmd, $out, $rc); $wall = (hrtime(true) - $t) / 1e9;
$text = implode("\n", $out);
$r = new Redis(); $r->connect('127.0.0.1', $port);
$left = 0; foreach ($r->keys('event_reg_buffer:*') as $k) $left += $r->lLen($k);
$db = anchor_db();
$stored = intdiv((int)$db->query('SELECT COUNT(*) FROM wp_postmeta')->fetch_row()[0], 5);
$row = ['n' => $n, 'stored' => $stored, 'left_in_redis' => $left, 'lost' => $n - $stored - $left, 'exit' => $rc];
if (preg_match('/total ([\d.]+)s, (\d+) reg\/s.*peak mem ([\d.]+) MB/', $text, $m)) {
  $row += ['secs' => (float)$m[1], 'rate' => (float)$m[2], 'peak_mb' => (float)$m[3] * 1e6 / 1048576];
} else {
  $row += ['rate' => 0, 'secs' => $wall, 'failure' => preg_match('/(PHP )?Fatal error:\s*([^\n]*?) in \//', $text, $m) ? $m[2] : substr($text, -200)];
}
emit($row);
