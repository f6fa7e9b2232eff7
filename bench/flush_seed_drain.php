<?php
// The seed's flush without its backlog fill: lines 12-24 of ../shared/anchors/flush_anchor.php copied exactly, for
// the 1M backlog, whose pipelined fill in the anchor runs out of memory_limit=128M before the flush starts.
// bench/flush_seed.php fills the backlog the same way (in chunks) and then runs this under memory_limit=128M.
// usage: php -d memory_limit=128M flush_seed_drain.php N REDIS_PORT
require __DIR__ . '/common.php';
require anchors_dir() . '/db.php';
$n = (int)($argv[1] ?? 100000); $port = (int)($argv[2] ?? 6400);
$r = new Redis(); $r->connect('127.0.0.1', $port);
$db = anchor_db(); $db->query('TRUNCATE wp_postmeta');
$t = hrtime(true); $m0 = memory_get_usage();
$rows = [];
foreach ($r->keys('event_reg_buffer:*') as $key) {
  while ($e = $r->rPop($key)) { $md = json_decode($e, true); $eid = (int)substr($key, 17);
    foreach ($md['registration_details'] as $k => $v) $rows[] = [$eid, $k, serialize($v)]; } }
$tr = (hrtime(true) - $t) / 1e9;
$sql = 'INSERT INTO wp_postmeta (post_id, meta_key, meta_value) VALUES ' . implode(',', array_map(fn($x) => sprintf("(%d,'%s','%s')", $x[0], $db->real_escape_string($x[1]), $db->real_escape_string($x[2])), $rows));
$ok = false; try { $ok = $db->query($sql); } catch (Throwable $e) { echo 'INSERT failed: ', $e->getMessage(), "\n"; }
$s = (hrtime(true) - $t) / 1e9;
$cnt = $db->query('SELECT COUNT(*) FROM wp_postmeta')->fetch_row()[0];
printf("seed flush: %d registrations, redis drain %.2fs, total %.2fs, %.0f reg/s, sql %.1f MB, peak mem %.1f MB, rows in db %d (expected %d)\n",
  $n, $tr, $s, $n / $s, strlen($sql) / 1e6, memory_get_peak_usage() / 1e6, $cnt, $n * 5);
