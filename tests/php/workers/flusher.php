<?php
// Flushes and acks until told to stop and nothing is left. Args: out file, stop file, limit, lease seconds.
// Writes "<batch>\t<id>" for every row of every acknowledged batch.
declare(strict_types=1);
require __DIR__ . '/common.php';

[, $out, $stop, $limit, $lease] = $argv;
$deadline = microtime(true) + 90;
while (microtime(true) < $deadline) {
    $batch = reg_buffer_flush((int) $limit, (int) $lease);
    if ($batch['rows'] === []) {
        if (is_file($stop)) {
            exit(0);
        }
        usleep(5_000);
        continue;
    }
    // "Store" the batch first, then acknowledge it, like a real flusher.
    append_lines($out, array_map(fn ($row) => $batch['batch'] . "\t" . $row['id'], $batch['rows']));
    $removed = reg_buffer_ack($batch['batch']);
    if ($removed !== count($batch['rows'])) {
        fwrite(STDERR, "ack of {$batch['batch']} removed $removed of " . count($batch['rows']) . "\n");
    }
}
fwrite(STDERR, "flusher ran out of time\n");
exit(1);
