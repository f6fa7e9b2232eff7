<?php
// Shared by the worker scripts: the test's server and prefix come from the environment.
declare(strict_types=1);

if (!extension_loaded('reg_buffer')) {
    fwrite(STDERR, "reg_buffer is not loaded in this worker\n");
    exit(2);
}
ini_set('reg_buffer.redis_url', (string) getenv('REG_BUFFER_TEST_URL'));
ini_set('reg_buffer.key_prefix', (string) getenv('REG_BUFFER_TEST_PREFIX'));
foreach (['retry_interval_ms', 'timeout_ms', 'connect_timeout_ms', 'durability', 'tls_ca_file', 'tls_cert_file', 'tls_key_file'] as $setting) {
    $value = getenv('REG_BUFFER_TEST_' . strtoupper($setting));
    if ($value !== false) {
        ini_set("reg_buffer.$setting", $value);
    }
}

/** Waits for a shared start time, so that several workers begin at the same moment. */
function wait_until(float $at): void
{
    $left = $at - microtime(true);
    if ($left > 0) {
        usleep((int) ($left * 1e6));
    }
}

/** Appends lines to a file in one write (O_APPEND), safe against a concurrent reader. */
function append_lines(string $file, array $lines): void
{
    if ($lines !== []) {
        file_put_contents($file, implode("\n", $lines) . "\n", FILE_APPEND | LOCK_EX);
    }
}
