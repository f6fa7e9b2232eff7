<?php
// Claims one batch, reports it, and hangs before acknowledging it (the test kills it). Args: limit, lease seconds.
declare(strict_types=1);
require __DIR__ . '/common.php';

$batch = reg_buffer_flush((int) $argv[1], (int) $argv[2]);
echo 'claimed ', json_encode(array_column($batch['rows'], 'id')), "\n";
sleep(120);
