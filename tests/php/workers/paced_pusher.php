<?php
// Pushes one registration every $gap_ms to events 1…$events in turn until told to stop, never retrying (what the
// plugin does). Args: events, gap ms, out file, stop file. Writes one line per push:
// "<start microtime>\t<event>\tok|fail\t<registration id>\t<duration ms>\t<exception message>".
declare(strict_types=1);
require __DIR__ . '/common.php';

[, $events, $gap, $out, $stop] = $argv;
$deadline = microtime(true) + 120;
$lines = [];
for ($i = 0; !is_file($stop); $i++) {
    if (microtime(true) > $deadline) {
        fwrite(STDERR, "nobody told the pusher to stop\n");
        exit(1);
    }
    $event = 1 + $i % (int) $events;
    $start = microtime(true);
    try {
        $id = reg_buffer_push($event, ['i' => $i]);
        $lines[] = sprintf("%.6f\t%d\tok\t%s\t%.3f\t", $start, $event, $id, (microtime(true) - $start) * 1000);
    } catch (RegBuffer\Exception $e) {
        $message = str_replace(["\n", "\t"], ' ', $e->getMessage());
        $lines[] = sprintf("%.6f\t%d\tfail\t%s\t%.3f\t%s", $start, $event, $e->getRegistrationId(), (microtime(true) - $start) * 1000, $message);
    }
    if (count($lines) >= 50) {
        append_lines($out, $lines);
        $lines = [];
    }
    $left = $start + (int) $gap / 1000 - microtime(true);
    if ($left > 0) {
        usleep((int) ($left * 1e6));
    }
    clearstatcache(true, $stop);
}
append_lines($out, $lines);
