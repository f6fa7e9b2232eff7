<?php
// Memory: many push/flush/ack cycles (and exception paths) in one process must not grow the process.
// Compares memory_get_usage() and RSS between 25% of the cycles (after warm-up) and the end.
// Soak mode also runs a smaller count under valgrind --leak-check=full with USE_ZEND_ALLOC=0 and fails on
// "definitely lost" blocks whose stack names reg_buffer.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$cycles = (int) fenv('FAULTS_MEMORY_CYCLES', short_mode() ? '100000' : '1000000');
$redis = new FRedis('s7', ['--appendonly', 'no']);
register_shutdown_function(fn () => $redis->stop());
$closed = FRedis::freePort();
$out = [];
exec(implode(' ', array_map('escapeshellarg', array_merge([PHP_BINARY], ini_args(), [__DIR__ . '/support/memory_cycles.php', $redis->url(), (string) $cycles, (string) $closed]))) . ' 2>&1', $out, $rc);
$r = json_decode((string) end($out), true);
$checks = ['the cycles ran' => $rc === 0 && is_array($r)];
$notes = ['seed' => $seed, 'cycles' => $cycles];
if (is_array($r)) {
    $m = $r['marks'];
    $k = array_keys($m);
    $from = $m[$k[1]];
    $to = $m[$k[count($k) - 1]];
    $phpGrowth = $to['php'] - $from['php'];
    $rssGrowth = $to['rss'] - $from['rss'];
    $span = (int) $k[count($k) - 1] - (int) $k[1];
    // A leak of 16 bytes a cycle over 75,000 cycles is 1.2 MB: allow less than that, plus allocator noise.
    $checks['memory_get_usage does not grow'] = $phpGrowth <= 64 * 1024;
    $checks['RSS does not grow (< 16 bytes a cycle)'] = $rssGrowth < 16 * $span;
    $notes += ['memory_get_usage growth' => $phpGrowth, 'RSS growth' => $rssGrowth, 'RSS at marks (KB)' => array_map(fn ($x) => intdiv($x['rss'], 1024), $m),
        'exception paths' => $r['errors']];
} else {
    $notes['output'] = array_slice($out, -5);
}
$faults = $cycles;
if (!short_mode()) {
    $vcycles = 2000;
    $log = fenv('FAULTS_TMP') . '/valgrind.log';
    $cmd = 'USE_ZEND_ALLOC=0 ZEND_DONT_UNLOAD_MODULES=1 valgrind --leak-check=full --show-leak-kinds=definite --num-callers=30 --log-file=' . escapeshellarg($log) . ' '
        . implode(' ', array_map('escapeshellarg', array_merge([PHP_BINARY], ini_args(), [__DIR__ . '/support/memory_cycles.php', $redis->url(), (string) $vcycles, (string) $closed]))) . ' 2>&1';
    exec($cmd, $vout, $vrc);
    $text = (string) @file_get_contents($log);
    preg_match('/definitely lost: ([\d,]+) bytes in ([\d,]+) blocks/', $text, $dl);
    // The blocks of the "definitely lost" records that name the extension.
    $ours = 0;
    foreach (preg_split('/\n==\d+== \n/', $text) as $record) {
        if (str_contains($record, 'definitely lost in loss record') && preg_match('/reg_buffer|ext_php_rs|redis::/', $record)) {
            $ours++;
        }
    }
    preg_match('/ERROR SUMMARY: (\d+) errors/', $text, $es);
    $checks['valgrind ran'] = $vrc === 0 && $text !== '';
    $notes['valgrind exit'] = [$vrc, array_slice($vout, -3)];
    // With --leak-check=full each definitely-lost record counts as an error: anything beyond them is a memory error.
    $leakRecords = (int) preg_match_all('/definitely lost in loss record/', $text);
    $checks['valgrind: no invalid read/write or uninitialised use'] = isset($es[1]) && (int) $es[1] === $leakRecords;
    $checks['valgrind: no definitely-lost block from the extension'] = $ours === 0;
    $notes['valgrind'] = ['cycles' => $vcycles, 'definitely lost (whole process)' => $dl[0] ?? 'none reported', 'records naming the extension' => $ours, 'error summary' => $es[0] ?? 'missing'];
    $faults += $vcycles;
}
result('memory: push/flush/ack cycles + exception paths in one process', $faults, ['accepted' => $cycles, 'stored' => $cycles], $checks, $notes);
