<?php
// Calls the API from a file that declares strict_types: prints "<case>\t<outcome>" per call.
declare(strict_types=1);
require __DIR__ . '/common.php';

$cases = [
    'int event id' => fn () => reg_buffer_push(5, ['ok' => 1]),
    'string event id' => fn () => reg_buffer_push('5', ['ok' => 1]),
    'int unique key' => fn () => reg_buffer_push(5, ['ok' => 1], 123),
    'string limit' => fn () => reg_buffer_flush('3'),
    'float limit' => fn () => reg_buffer_flush(3.0),
    'int batch' => fn () => reg_buffer_ack(5),
    'int range bounds' => fn () => reg_buffer_range(5, 0, PHP_INT_MAX),
    'string range bound' => fn () => reg_buffer_range(5, '0', 1.0),
];
foreach ($cases as $name => $call) {
    try {
        $result = $call();
        echo $name, "\t", is_array($result) ? 'array' : get_debug_type($result), "\n";
    } catch (\Throwable $e) {
        echo $name, "\t", get_class($e), "\n";
    }
}
