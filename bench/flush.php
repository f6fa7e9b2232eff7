<?php
// Flush a reg_buffer backlog into MariaDB the way the plugin does until its flush class exists: reg_buffer_flush
// (BATCH) -> one multi-row INSERT IGNORE per batch in a transaction -> reg_buffer_ack, into insert_limit.php's table
// shape. Prints one JSON line: registrations/s, peak memory, rows stored.
// usage: php flush.php REDIS_PORT EXPECTED [BATCH=1000]
require __DIR__ . '/common.php';
require anchors_dir() . '/db.php';
[$port, $expected] = [(int)$argv[1], (int)$argv[2]]; $batch = (int)($argv[3] ?? 1000);
ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
$db = anchor_db(); create_regs_table($db, 'regbuf_regs');
function redis_cpu(int $port): float {
  $r = new Redis(); $r->connect('127.0.0.1', $port); $i = $r->info('CPU'); $r->close();
  return (float)$i['used_cpu_user'] + (float)$i['used_cpu_sys'];
}
$rcpu0 = redis_cpu($port);
$deadline = hrtime(true) + 300e9; $max_batches = intdiv($expected, $batch) + 20;
$t = hrtime(true); $stored = 0; $batches = 0; $ns_flush = 0; $ns_sql = 0; $ns_ack = 0;
while ($batches < $max_batches && hrtime(true) < $deadline) {
  $a = hrtime(true);
  $b = reg_buffer_flush($batch);
  $c = hrtime(true); $ns_flush += $c - $a;
  if (!$b['rows']) break;
  $vals = [];
  foreach ($b['rows'] as $r) {
    $vals[] = sprintf("('%s',%d,%s,FROM_UNIXTIME(%.3F),'%s',NOW())", $db->real_escape_string($r['id']), $r['event_id'],
      $r['unique_key'] === null ? 'NULL' : "'" . $db->real_escape_string($r['unique_key']) . "'", $r['registered_at'],
      $db->real_escape_string($r['json']));
  }
  $db->begin_transaction();
  $db->query('INSERT IGNORE INTO regbuf_regs (registration_id,event_id,unique_key,registered_at,data,stored_at) VALUES ' . implode(',', $vals));
  $db->commit();
  $d = hrtime(true); $ns_sql += $d - $c;
  reg_buffer_ack($b['batch']);
  $ns_ack += hrtime(true) - $d;
  $stored += count($b['rows']); $batches++;
}
$s = (hrtime(true) - $t) / 1e9;
$rcpu = redis_cpu($port) - $rcpu0;
$in_db = (int)$db->query('SELECT COUNT(*) FROM regbuf_regs')->fetch_row()[0];
$st = reg_buffer_stats();
emit(['n' => $stored, 'secs' => $s, 'rate' => $stored / $s, 'peak_mb' => memory_get_peak_usage(true) / 1048576,
  'in_db' => $in_db, 'left_pending' => $st['pending'] ?? null, 'left_in_flight' => $st['in_flight'] ?? null,
  'share_flush' => $ns_flush / 1e9 / $s, 'share_sql' => $ns_sql / 1e9 / $s, 'share_ack' => $ns_ack / 1e9 / $s,
  'flush_us' => $stored ? $ns_flush / 1e3 / $stored : null, 'ack_us' => $stored ? $ns_ack / 1e3 / $stored : null,
  'redis_cpu_us' => $stored ? $rcpu * 1e6 / $stored : null]
  + ($in_db < $expected ? ['error' => "stored $in_db of $expected"] : []));
exit($in_db < $expected ? 1 : 0);
