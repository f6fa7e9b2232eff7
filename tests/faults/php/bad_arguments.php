<?php
// Hostile input, the PHP-level matrix: bad arguments to every function (under strict_types, and coerced), very
// long and odd unique keys, garbage batch ids, SCAN patterns that match the extension's own keys. Each call must
// fail clearly (TypeError / ValueError / ArgumentCountError) or be a harmless no-op, and leave the buffer as it was:
// the same pending registrations, which still flush back intact.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$redis = new FRedis('s11', ['--appendonly', 'no']);
register_shutdown_function(fn () => $redis->stop());
use_buffer($redis->url(), 'faults11:');
$failures = [];
$calls = 0;
$fail = function (string $what) use (&$failures) {
    $failures[] = $what;
};
// A buffer with known content that every hostile call below must leave alone.
$known = [];
for ($i = 0; $i < 50; $i++) {
    $known[reg_buffer_push(1 + $i % 3, ['ref' => "s11-$i", 'i' => $i], "key-$i")] = "s11-$i";
}
$snapshot = fn () => array_intersect_key(reg_buffer_stats(), array_flip(['pending', 'in_flight', 'pushed', 'duplicates', 'quarantined', 'acked']));
$before = $snapshot();

$expect = function (string $what, callable $call, ?string $class, $result = null) use (&$calls, $fail) {
    $calls++;
    try {
        $r = $call();
        if ($class !== null) {
            $fail("$what: returned " . var_export($r, true) . " instead of throwing $class");
        } elseif ($result !== null && $r !== $result) {
            $fail("$what: returned " . var_export($r, true) . ', expected ' . var_export($result, true));
        }
    } catch (Throwable $e) {
        if ($class === null || !$e instanceof $class) {
            $fail("$what: " . get_class($e) . ': ' . $e->getMessage() . ($class ? " (expected $class)" : ' (expected no exception)'));
        }
    }
};
$T = TypeError::class;
$V = ValueError::class;
$A = ArgumentCountError::class;
$wrong = ['string' => 'x', 'float' => 1.5, 'null' => null, 'array' => [], 'object' => new stdClass(), 'bool' => true];
foreach ($wrong as $type => $w) {
    if ($type !== 'array') {
        $expect("push(1, $type)", fn () => reg_buffer_push(1, $w), $T);
    }
    $expect("push($type, [])", fn () => reg_buffer_push($w, ['x' => 1]), $T);
    if (!in_array($type, ['string', 'null'], true)) {
        $expect("push(1, [], $type)", fn () => reg_buffer_push(1, ['x' => 1], $w), $T);
        $expect("ack($type)", fn () => reg_buffer_ack($w), $T);
        $expect("import_legacy($type)", fn () => reg_buffer_import_legacy($w), $T);
    }
    if ($type !== 'float') {
        $expect("range(1, $type, 1.0)", fn () => reg_buffer_range(1, $w, 1.0), $T);
    }
    $expect("flush($type)", fn () => reg_buffer_flush($w), $T);
    $expect("flush(1, $type)", fn () => reg_buffer_flush(1, $w), $T);
}
$expect('push()', fn () => reg_buffer_push(), $A);
$expect('push(1)', fn () => reg_buffer_push(1), $A);
$expect('ack()', fn () => reg_buffer_ack(), $A);
$expect('range()', fn () => reg_buffer_range(), $A);
$expect('stats(1)', fn () => reg_buffer_stats(1), $A);
$expect('push(-1)', fn () => reg_buffer_push(-1, ['x' => 1]), $V);
$expect('push unique key ""', fn () => reg_buffer_push(1, ['x' => 1], ''), $V);
$expect('push unique key of 1025 bytes', fn () => reg_buffer_push(1, ['x' => 1], str_repeat('k', 1025)), $V);
$expect('push over max_payload_bytes', fn () => reg_buffer_push(1, ['x' => str_repeat('a', 70000)]), $V);
$expect('push INF', fn () => reg_buffer_push(1, ['x' => INF]), $V);
$expect('push NAN deep', fn () => reg_buffer_push(1, ['x' => [[['y' => NAN]]]]), $V);
$expect('push invalid UTF-8 value', fn () => reg_buffer_push(1, ['x' => "\xc3\x28"]), $V);
$expect('push invalid UTF-8 key', fn () => reg_buffer_push(1, ["\xed\xa0\x80" => 1]), $V);
$expect('push closure', fn () => reg_buffer_push(1, ['x' => fn () => 1]), $T);
$expect('push generator', fn () => reg_buffer_push(1, ['x' => (function () { yield 1; })()]), $T);
$self = [1];
$self[] = &$self;
$expect('push recursive by reference', fn () => reg_buffer_push(1, $self), $V);
$expect('flush(-5)', fn () => reg_buffer_flush(-5), $V);
$expect('flush(1, 0)', fn () => reg_buffer_flush(1, 0), $V);
$expect('flush(PHP_INT_MAX)', fn () => reg_buffer_flush(PHP_INT_MAX), $V);
$expect('flush(1, PHP_INT_MAX)', fn () => reg_buffer_flush(1, PHP_INT_MAX), $V);
$expect('range(0, ...)', fn () => reg_buffer_range(0, 0.0, 1.0), $V);
$expect('range(1, 0, 1, 0)', fn () => reg_buffer_range(1, 0.0, 1.0, 0), $V);
$expect('range(1, NAN, 1)', fn () => reg_buffer_range(1, NAN, 1.0), $V);
$expect('range(1, 0, NAN)', fn () => reg_buffer_range(1, 0.0, NAN), $V);
$expect('range(1, INF, -INF) is empty', fn () => reg_buffer_range(1, INF, -INF), null, []);
// Garbage batch ids: a harmless 0.
foreach (['', 'x', "\xff\xfe", "\0", str_repeat('b', 1 << 20), "'; DROP TABLE x; --", '*', 'faults11:*', '01ARZ3NDEKTSV4RRFFQ69G5FAV'] as $i => $batch) {
    $expect("ack(garbage #$i)", fn () => reg_buffer_ack($batch), null, 0);
}
// Legacy import with patterns that match the extension's own keys (or everything): must not touch the buffer.
foreach (['*', 'faults11:*', '', '[', "\0", str_repeat('*', 5000)] as $i => $pattern) {
    $expect("import_legacy(pattern #$i)", fn () => reg_buffer_import_legacy($pattern), null, 0);
}
// Coercion without strict_types: "5" as event id is fine there; "abc" is a TypeError there too.
$coerced = spawn_php_r('declare(strict_types=0); ini_set("reg_buffer.redis_url", getenv("U")); ini_set("reg_buffer.key_prefix", "faults11c:");'
    . ' try { reg_buffer_push("abc", ["x" => 1]); echo "accepted"; } catch (TypeError $e) { echo "TypeError"; }', ['U' => $redis->url()]);
$calls++;
if ($coerced !== 'TypeError') {
    $fail("non-strict push(\"abc\"): $coerced");
}

$after = $snapshot();
if ($after !== $before) {
    $fail('the buffer changed: before ' . json_encode($before) . ' after ' . json_encode($after));
}
// The known registrations still flush back intact.
$back = 0;
for ($round = 0; $round < 10; $round++) {
    $b = reg_buffer_flush(100, 60);
    if ($b['rows'] === []) {
        break;
    }
    foreach ($b['rows'] as $row) {
        if (($known[$row['id']] ?? null) !== ($row['data']['ref'] ?? '')) {
            $fail("flushed an unexpected row {$row['id']}");
        } else {
            $back++;
        }
    }
    reg_buffer_ack($b['batch']);
}
$v = ['accepted' => count($known), 'stored' => $back, 'lost' => count($known) - $back, 'doubled' => 0];
result('hostile arguments to every function (strict types, coercion, garbage batch ids, SCAN patterns)', $calls, $v,
    ['every call failed clearly or did nothing' => $failures === [], 'the buffer is intact' => $back === count($known)],
    ['seed' => $seed, 'failures' => array_slice($failures, 0, 20)]);

function spawn_php_r(string $code, array $env): string
{
    $cmd = array_merge([PHP_BINARY], ini_args(), ['-r', $code]);
    $p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, array_merge(getenv(), $env));
    $out = stream_get_contents($pipes[1]);
    proc_close($p);
    return trim((string) $out);
}
