<?php
// Pushes registrations, retrying through connection failures. Args: worker id, count, events, out file, start time.
// Writes each returned id to <out> as it gets it, and each id whose outcome is unknown to <out>.unknown.
declare(strict_types=1);
require __DIR__ . '/common.php';

[, $worker, $count, $events, $out, $startAt] = $argv;
wait_until((float) $startAt);
$deadline = microtime(true) + 60;
for ($i = 0; $i < (int) $count; $i++) {
    while (true) {
        try {
            $id = reg_buffer_push(1 + $i % (int) $events, ['worker' => (int) $worker, 'i' => $i], "w$worker-$i@example.com");
            append_lines($out, [$id === false ? "duplicate w$worker-$i" : $id]);
            break;
        } catch (RegBuffer\ConnectionException $e) {
            // The outcome is unknown: the retry with the same unique key tells (a duplicate = the first one landed).
            append_lines("$out.unknown", [(string) $e->getRegistrationId()]);
            if (microtime(true) > $deadline) {
                fwrite(STDERR, "gave up: {$e->getMessage()}\n");
                exit(1);
            }
            usleep(20_000);
        }
    }
}
