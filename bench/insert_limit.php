<?php
// Runs ../shared/anchors/insert_limit.php as shipped and turns its three lines into one JSON line
// (rate = 1,000 rows a statement, the flush's batch size; rate_100 and rate_5000 beside it).
// usage: php insert_limit.php N
require __DIR__ . '/common.php';
$n = (int)$argv[1];
exec(escapeshellarg(PHP_BINARY) . ' ' . escapeshellarg(anchors_dir() . '/insert_limit.php') . " $n 2>&1", $out, $rc);
$row = ['n' => $n];
foreach ($out as $l) if (preg_match('/batch\s+(\d+):.*= (\d+) rows\/s/', $l, $m)) $row[$m[1] == 1000 ? 'rate' : 'rate_' . $m[1]] = (float)$m[2];
if ($rc !== 0 || !isset($row['rate'])) $row['error'] = 'insert_limit.php: ' . substr(implode(' ', $out), -200);
emit($row);
exit(isset($row['error']) ? 1 : 0);
