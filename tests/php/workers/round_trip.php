<?php
// Push, flush and ack one registration; prints the outcome as JSON (or the exception). Used over rediss://.
declare(strict_types=1);
require __DIR__ . '/common.php';

try {
    $id = reg_buffer_push(1, ['over' => 'tls', 'name' => 'Zoë']);
    $batch = reg_buffer_flush();
    echo json_encode(['id' => $id, 'rows' => $batch['rows'], 'acked' => reg_buffer_ack($batch['batch'])]);
} catch (\Throwable $e) {
    echo json_encode(['error' => get_class($e), 'message' => $e->getMessage()]);
}
