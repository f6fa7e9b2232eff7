<?php
// Pushes the same unique keys as its siblings, all starting at once. Args: event, keys, start time, out file.
// Writes "<key>\t<id or false>" per push.
declare(strict_types=1);
require __DIR__ . '/common.php';

[, $event, $keys, $startAt, $out] = $argv;
wait_until((float) $startAt);
$lines = [];
for ($i = 0; $i < (int) $keys; $i++) {
    $key = "attendee$i@example.com";
    $id = reg_buffer_push((int) $event, ['pid' => getmypid(), 'i' => $i], $key);
    $lines[] = $key . "\t" . ($id === false ? 'false' : $id);
}
append_lines($out, $lines);
