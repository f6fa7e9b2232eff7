<?php
// Runs import_legacy once and prints how many it moved. Args: start time.
declare(strict_types=1);
require __DIR__ . '/common.php';

wait_until((float) ($argv[1] ?? 0));
echo reg_buffer_import_legacy(), "\n";
