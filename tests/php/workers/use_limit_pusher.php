<?php
// Pushes $argv[1] registrations of event $argv[2] under the use-limited token $argv[3] ($argv[4] uses); prints one
// line per push: "ok" (buffered) or "limit" (LimitException).
declare(strict_types=1);

require __DIR__ . '/common.php';

[, $count, $event, $token, $uses] = $argv;
for ($i = 0; $i < (int) $count; $i++) {
    try {
        $id = reg_buffer_push((int) $event, ['i' => $i], null, ['token' => $token, 'uses' => (int) $uses, 'expires_at' => time() + 600]);
        echo $id === false ? "duplicate\n" : "ok\n";
    } catch (RegBuffer\LimitException $e) {
        echo "limit\n";
    }
}
