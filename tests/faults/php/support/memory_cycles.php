<?php
// N push/flush/ack cycles in one process, with every 50th cycle also taking the exception paths (ValueError,
// TypeError, duplicate, ConnectionException on a closed port, CapacityException). Prints JSON: memory_get_usage
// and VmRSS at 10%, 25%, 50%, 75% and 100% of the cycles. Args: redis_url cycles closed_port
declare(strict_types=1);
[, $url, $cycles, $closed] = $argv;
$cycles = (int) $cycles;
ini_set('reg_buffer.redis_url', $url);
ini_set('reg_buffer.key_prefix', 'faults7:' . getmypid() . ':'); // its own keys: unique keys of an earlier run would be duplicates
ini_set('reg_buffer.retry_interval_ms', '0');
$rss = function (): int {
    preg_match('/VmRSS:\s+(\d+) kB/', (string) file_get_contents('/proc/self/status'), $m);
    return (int) $m[1] * 1024;
};
$marks = [];
$at = array_map(fn ($f) => (int) ($cycles * $f), [0.1, 0.25, 0.5, 0.75]);
$errors = [];
$note = function (Throwable $e) use (&$errors) {
    $k = get_class($e);
    $errors[$k] = ($errors[$k] ?? 0) + 1;
};
$obj = new stdClass();
for ($i = 0; $i < $cycles; $i++) {
    $id = reg_buffer_push(1 + $i % 3, ['i' => $i, 'name' => 'Zoë', 'f' => 1.5, 'list' => [1, 2, ['x' => null]]], "u$i");
    $b = reg_buffer_flush(10, 60);
    if (count($b['rows']) !== 1 || $b['rows'][0]['id'] !== $id || reg_buffer_ack($b['batch']) !== 1) {
        fwrite(STDERR, "cycle $i: the round trip failed\n");
        exit(1);
    }
    if ($i % 50 === 0) {
        try { reg_buffer_push(1, ['bad' => "\xff"]); } catch (ValueError $e) { $note($e); }
        try { reg_buffer_push(1, ['deep' => [[$obj]]]); } catch (TypeError $e) { $note($e); }
        if (reg_buffer_push(1 + $i % 3, ['dup' => 1], "u$i") === false) {
            $errors['duplicate'] = ($errors['duplicate'] ?? 0) + 1;
        }
        ini_set('reg_buffer.redis_url', "redis://127.0.0.1:$closed");
        try { reg_buffer_push(1, ['x' => 1]); } catch (RegBuffer\ConnectionException $e) { $note($e); }
        ini_set('reg_buffer.redis_url', $url);
        ini_set('reg_buffer.max_pending', '1');
        reg_buffer_push(2, ['cap' => $i]);
        try { reg_buffer_push(2, ['cap' => $i]); } catch (RegBuffer\CapacityException $e) { $note($e); }
        ini_set('reg_buffer.max_pending', '0');
        $b = reg_buffer_flush(10, 60);
        reg_buffer_ack($b['batch']);
        unset($e);
    }
    if (in_array($i + 1, $at, true)) {
        gc_collect_cycles();
        $marks[(string) ($i + 1)] = ['php' => memory_get_usage(), 'rss' => $rss()];
    }
}
gc_collect_cycles();
$marks[(string) $cycles] = ['php' => memory_get_usage(), 'rss' => $rss()];
echo json_encode(['marks' => $marks, 'errors' => $errors, 'stats' => reg_buffer_stats()]), "\n";
