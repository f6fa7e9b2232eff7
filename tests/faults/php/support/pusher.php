<?php
// Pushes registrations until COUNT are accepted or STOP_FILE exists. Every registration carries a unique `ref`.
// A push that throws (connection trouble with an unknown outcome, capacity, OOM) falls back like the plugin:
// the registration is stored directly, keyed by the id the push tried, so a push that did land is not doubled.
// Args: table ledger ref_prefix count stop_file [events] [pace_us] [payload_bytes]
declare(strict_types=1);
require __DIR__ . '/lib.php';

[, $table, $ledger, $refPrefix, $count, $stop] = $argv;
$events = (int) ($argv[6] ?? 3);
$pace = (int) ($argv[7] ?? 0);
$pad = (int) ($argv[8] ?? 0);
use_buffer(fenv('FAULTS_URL'), fenv('FAULTS_PREFIX'), ['retry_interval_ms' => 100, 'timeout_ms' => (int) fenv('FAULTS_PUSH_TIMEOUT_MS', '1000'), 'connect_timeout_ms' => 500]);
$me = getmypid();
$tally = ['ok' => 0, 'direct' => 0];
$errors = [];
for ($i = 0; $i < (int) $count; $i++) {
    if ($i % 16 === 0 && is_file($stop)) {
        break;
    }
    $ref = "$refPrefix-$me-$i";
    $event = 1 + $i % $events;
    $data = ['ref' => $ref, 'i' => $i, 'name' => "Zoë #$i — 東京", 'price' => 12.5, 'tags' => ['a', 'b'], 'pad' => str_repeat('x', $pad)];
    try {
        $id = reg_buffer_push($event, $data);
        if ($id === false) {
            throw new RuntimeException("push without a unique key returned false");
        }
        ledger_add($ledger, 'ok', $id, $ref);
        $tally['ok']++;
    } catch (RegBuffer\Exception $e) {
        $id = $e->getRegistrationId() ?? ('nopush' . bin2hex(random_bytes(10)));
        $cls = get_class($e) . ': ' . preg_replace(['/\d+/', '/redis:\/\/\S+/'], ['N', 'URL'], substr($e->getMessage(), 0, 90));
        $errors[$cls] = ($errors[$cls] ?? 0) + 1;
        store_direct($table, $id, $event, $data, null);
        ledger_add($ledger, 'direct', $id, $ref);
        $tally['direct']++;
    }
    if ($pace > 0) {
        usleep($pace);
    }
}
file_put_contents("$ledger.summary", json_encode(['tally' => $tally, 'errors' => $errors], JSON_UNESCAPED_UNICODE) . "\n", FILE_APPEND | LOCK_EX);
