<?php
// Flush a reg_buffer backlog into MariaDB without WordPress: reg_buffer_flush(BATCH) -> one multi-row INSERT IGNORE
// per batch in a transaction -> reg_buffer_ack, into insert_limit.php's table shape. Prints one JSON line:
// registrations/s, peak memory, rows stored, and the share of the time in flush / SQL / ack.
// MODE: data (rows with `data`, the default of reg_buffer_flush), json (rows without it: $with_data = false), or
// overlap (json, and the INSERT of one batch is sent with MYSQLI_ASYNC so that MariaDB works on it while this
// process acks the batch before and claims the next one; each batch is still acked only after its COMMIT).
// usage: php flush.php REDIS_PORT EXPECTED [BATCH=1000] [MODE=data]
require __DIR__ . '/common.php';
require anchors_dir() . '/db.php';
[$port, $expected] = [(int)$argv[1], (int)$argv[2]]; $batch = (int)($argv[3] ?? 1000); $mode = $argv[4] ?? 'data';
ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$port");
$db = anchor_db(); create_regs_table($db, 'regbuf_regs');
function redis_cpu(int $port): float {
  $r = new Redis(); $r->connect('127.0.0.1', $port); $i = $r->info('CPU'); $r->close();
  return (float)$i['used_cpu_user'] + (float)$i['used_cpu_sys'];
}
function insert_sql(mysqli $db, array $rows): string {
  $vals = [];
  foreach ($rows as $r) {
    $vals[] = sprintf("('%s',%d,%s,FROM_UNIXTIME(%.3F),'%s',NOW())", $db->real_escape_string($r['id']), $r['event_id'],
      $r['unique_key'] === null ? 'NULL' : "'" . $db->real_escape_string($r['unique_key']) . "'", $r['registered_at'],
      $db->real_escape_string($r['json']));
  }
  return 'INSERT IGNORE INTO regbuf_regs (registration_id,event_id,unique_key,registered_at,data,stored_at) VALUES ' . implode(',', $vals);
}
$rcpu0 = redis_cpu($port);
$with_data = $mode === 'data';
$deadline = hrtime(true) + 300e9; $max_batches = intdiv($expected, $batch) + 20;
$ru0 = getrusage();
$t = hrtime(true); $stored = 0; $batches = 0; $ns_flush = 0; $ns_sql = 0; $ns_ack = 0;
if ($mode === 'overlap') {
  // ns_sql here: time spent waiting for MariaDB (BEGIN, reaping the INSERT, COMMIT), not the INSERT's own time.
  $claim = function () use ($batch, &$ns_flush) { $a = hrtime(true); $b = reg_buffer_flush($batch, 300, false); $ns_flush += hrtime(true) - $a; return $b; };
  $b = $claim();
  $sql = $b['rows'] ? insert_sql($db, $b['rows']) : null;
  $done = null;   // the batch committed last, not yet acked
  while ($sql !== null && $batches < $max_batches && hrtime(true) < $deadline) {
    $c = hrtime(true);
    $db->begin_transaction();
    $db->query($sql, MYSQLI_ASYNC);
    $ns_sql += hrtime(true) - $c;
    if ($done !== null) { $d = hrtime(true); reg_buffer_ack($done); $ns_ack += hrtime(true) - $d; $done = null; }
    $next = $claim();
    $next_sql = $next['rows'] ? insert_sql($db, $next['rows']) : null;
    $c = hrtime(true);
    $links = [$db]; $errors = $rejects = [];
    while (mysqli_poll($links, $errors, $rejects, 10) === 0) { $links = [$db]; }
    if ($db->reap_async_query() === false) { fwrite(STDERR, "INSERT failed: {$db->error}\n"); break; }
    $db->commit();
    $ns_sql += hrtime(true) - $c;
    $done = $b['batch'];
    $stored += count($b['rows']); $batches++;
    [$b, $sql] = [$next, $next_sql];
  }
  if ($done !== null) { $d = hrtime(true); reg_buffer_ack($done); $ns_ack += hrtime(true) - $d; }
} else {
  while ($batches < $max_batches && hrtime(true) < $deadline) {
    $a = hrtime(true);
    $b = reg_buffer_flush($batch, 300, $with_data);
    $c = hrtime(true); $ns_flush += $c - $a;
    if (!$b['rows']) break;
    $sql = insert_sql($db, $b['rows']);
    $db->begin_transaction();
    $db->query($sql);
    $db->commit();
    $d = hrtime(true); $ns_sql += $d - $c;
    reg_buffer_ack($b['batch']);
    $ns_ack += hrtime(true) - $d;
    $stored += count($b['rows']); $batches++;
  }
}
$s = (hrtime(true) - $t) / 1e9;
$ru = getrusage();
$cpu = ($ru['ru_utime.tv_sec'] - $ru0['ru_utime.tv_sec'] + $ru['ru_stime.tv_sec'] - $ru0['ru_stime.tv_sec']) * 1e6 + $ru['ru_utime.tv_usec'] - $ru0['ru_utime.tv_usec'] + $ru['ru_stime.tv_usec'] - $ru0['ru_stime.tv_usec'];
$rcpu = redis_cpu($port) - $rcpu0;
$in_db = (int)$db->query('SELECT COUNT(*) FROM regbuf_regs')->fetch_row()[0];
$st = reg_buffer_stats();
emit(['n' => $stored, 'mode' => $mode, 'secs' => $s, 'rate' => $stored / $s, 'peak_mb' => memory_get_peak_usage(true) / 1048576,
  'in_db' => $in_db, 'left_pending' => $st['pending'] ?? null, 'left_in_flight' => $st['in_flight'] ?? null,
  'share_flush' => $ns_flush / 1e9 / $s, 'share_sql' => $ns_sql / 1e9 / $s, 'share_ack' => $ns_ack / 1e9 / $s,
  'flush_us' => $stored ? $ns_flush / 1e3 / $stored : null, 'ack_us' => $stored ? $ns_ack / 1e3 / $stored : null,
  'redis_cpu_us' => $stored ? $rcpu * 1e6 / $stored : null, 'php_cpu_us' => $stored ? $cpu / $stored : null]
  + ($in_db < $expected ? ['error' => "stored $in_db of $expected"] : []));
exit($in_db < $expected ? 1 : 0);
