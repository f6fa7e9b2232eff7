<?php
// Flushes and acks until told to stop and nothing is left. Args: out file, stop file, limit, lease seconds.
// Writes "<batch>\t<id>\t<unique key>" for every row of every batch it stored (before acking it, like a real flusher), and
// "<batch>" to <out>.unacked when the ack failed (Redis down: the batch comes back after its lease).
declare(strict_types=1);
require __DIR__ . '/common.php';

[, $out, $stop, $limit, $lease] = $argv;
$deadline = microtime(true) + 90;
while (microtime(true) < $deadline) {
    try {
        $batch = reg_buffer_flush((int) $limit, (int) $lease);
    } catch (RegBuffer\Exception $e) {
        usleep(20_000);
        continue;
    }
    if ($batch['rows'] === []) {
        try {
            if (is_file($stop) && reg_buffer_stats()['in_flight'] === 0) {
                exit(0);
            }
        } catch (RegBuffer\Exception $e) {
            // Redis is down: try again.
        }
        usleep(5_000);
        continue;
    }
    append_lines($out, array_map(fn ($row) => $batch['batch'] . "\t" . $row['id'] . "\t" . $row['unique_key'], $batch['rows']));
    try {
        $removed = reg_buffer_ack($batch['batch']);
        if ($removed !== count($batch['rows'])) {
            fwrite(STDERR, "ack of {$batch['batch']} removed $removed of " . count($batch['rows']) . "\n");
        }
    } catch (RegBuffer\Exception $e) {
        append_lines("$out.unacked", [$batch['batch']]);
    }
}
fwrite(STDERR, "flusher ran out of time\n");
exit(1);
