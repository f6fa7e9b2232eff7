<?php
// Pushes until told to stop, never retrying: what the plugin does (a push that throws goes to its MySQL fallback).
// Args: worker id, events, out file, stop file. Writes each returned id to <out>, and
// "<exception class>\t<registration id>\t<message>" to <out>.failed for each push that threw.
declare(strict_types=1);
require __DIR__ . '/common.php';

[, $worker, $events, $out, $stop] = $argv;
$deadline = microtime(true) + 120;
for ($i = 0; !is_file($stop); $i++) {
    if (microtime(true) > $deadline) {
        fwrite(STDERR, "nobody told the pusher to stop\n");
        exit(1);
    }
    try {
        append_lines($out, [reg_buffer_push(1 + $i % (int) $events, ['worker' => (int) $worker, 'i' => $i])]);
    } catch (RegBuffer\Exception $e) {
        append_lines("$out.failed", [get_class($e) . "\t" . $e->getRegistrationId() . "\t" . str_replace("\n", ' ', $e->getMessage())]);
        usleep(10_000);
    }
    clearstatcache(true, $stop);
}
