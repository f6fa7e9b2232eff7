<?php
// insert_limit.php's loop copied exactly, for one batch size only, so that the 1M backlog's limit fits the bench's
// time budget (the anchor runs three batch sizes).  usage: php insert_limit_at.php N BATCH
require __DIR__ . '/common.php';
require anchors_dir() . '/db.php';
$n = (int)$argv[1]; $batch = (int)($argv[2] ?? 1000); $db = anchor_db();
create_regs_table($db, 'regs');
$reg = json_encode(['email' => 'someone@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7']);
$t = hrtime(true);
for ($i = 0; $i < $n; $i += $batch) {
  $vals = [];
  for ($j = $i; $j < min($n, $i + $batch); $j++) $vals[] = sprintf("('%s',%d,'%s',NOW(3),'%s',NOW())", sprintf('01J%023d', $j), $j % 100, "p$j@example.com", $db->real_escape_string($reg));
  $db->begin_transaction(); $db->query('INSERT IGNORE INTO regs (registration_id,event_id,unique_key,registered_at,data,stored_at) VALUES ' . implode(',', $vals)); $db->commit();
}
$s = (hrtime(true) - $t) / 1e9;
emit(['n' => $n, 'batch' => $batch, 'secs' => $s, 'rate' => $n / $s]);
