<?php
// Claims one batch and prints it as JSON, without acknowledging it. Args: limit, lease seconds.
declare(strict_types=1);
require __DIR__ . '/common.php';

echo json_encode(reg_buffer_flush((int) $argv[1], (int) $argv[2]), JSON_THROW_ON_ERROR | JSON_PRESERVE_ZERO_FRACTION);
