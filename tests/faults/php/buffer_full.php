<?php
// Fault class 5: a full buffer.
//  (a) Redis at its own maxmemory with noeviction: which exception push throws (reported), the fallback stores
//      directly, and whether a flusher can drain while Redis is still full (claim and ack must not need memory
//      the server refuses); then maxmemory is lifted and everything is drained.
//  (b) reg_buffer.max_pending reached: CapacityException, fallback, drain.
// Nothing accepted may be lost or doubled.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$tmp = fenv('FAULTS_TMP') . '/s5';
@mkdir($tmp, 0700, true);
$redis = new FRedis('s5', ['--appendonly', 'no', '--maxmemory', '3mb']);
register_shutdown_function(fn () => $redis->stop());
$table = 's5_regs';
create_table($table);
$ledger = "$tmp/ledger.0";
$seq = 0;
$exceptions = [];
$fallbacks = 0;
/** Pushes one; on a RegBuffer\Exception falls back to a direct write. Returns the exception or null. */
$push = function (int $pad) use ($table, $ledger, &$seq, &$exceptions, &$fallbacks): ?Throwable {
    $ref = 's5-' . $seq++;
    $data = ['ref' => $ref, 'pad' => str_repeat('é', $pad)];
    try {
        $id = reg_buffer_push(1 + $seq % 2, $data);
        ledger_add($ledger, 'ok', $id, $ref);
        return null;
    } catch (RegBuffer\Exception $e) {
        $key = get_class($e) . ': ' . preg_replace('/\d+/', 'N', substr($e->getMessage(), 0, 100));
        $exceptions[$key] = ($exceptions[$key] ?? 0) + 1;
        $id = $e->getRegistrationId();
        if ($id === null) {
            $exceptions['(no registration id on the exception)'] = ($exceptions['(no registration id on the exception)'] ?? 0) + 1;
            $id = 'noid' . bin2hex(random_bytes(11));
        }
        store_direct($table, $id, 1 + $seq % 2, $data, null);
        ledger_add($ledger, 'direct', $id, $ref);
        $fallbacks++;
        return $e;
    }
};

// (a) maxmemory
use_buffer($redis->url(), 'faults5a:');
$first = null;
$faultsA = 0;
for ($i = 0; $i < 20000 && $faultsA < 50; $i++) {
    $e = $push(1000);
    if ($e !== null) {
        $first ??= $e;
        $faultsA++;
    }
}
// Right after the OOM: Redis is reachable and answering; a refusal is not a connection failure.
$afterOom = 'ok';
try {
    reg_buffer_stats();
} catch (Throwable $e) {
    $afterOom = get_class($e) . ': ' . $e->getMessage();
}
usleep(1_200_000); // past reg_buffer.retry_interval_ms (1000 ms), in case the breaker was tripped
$atMax = ['flush' => 'not tried'];
try {
    $b = reg_buffer_flush(50, 30);
    $atMax['flush'] = 'claimed ' . count($b['rows']);
    store_rows(db(), $table, $b['rows'], 'flush');
    $atMax['ack'] = reg_buffer_ack($b['batch']);
} catch (Throwable $e) {
    $atMax[isset($b) ? 'ack' : 'flush'] = get_class($e) . ': ' . $e->getMessage();
}
$stillFull = $redis->client()->info('memory')['used_memory'] ?? null;
$redis->client()->config('SET', 'maxmemory', '0');
$drainA = drain($table, 500, 30);

// (b) max_pending
use_buffer($redis->url(), 'faults5b:', ['max_pending' => 200]);
$faultsB = 0;
$capacity = 0;
for ($i = 0; $i < 400; $i++) {
    $e = $push(10);
    if ($e !== null) {
        $faultsB++;
        $capacity += $e instanceof RegBuffer\CapacityException ? 1 : 0;
    }
}
$drainB = drain($table, 500, 30);
$v = verify($table, [$ledger]);
$firstClass = $first ? get_class($first) : 'none';
$checks = [
    'maxmemory reached' => $first !== null,
    'maxmemory: a RegBuffer\\Exception carrying the tried id' => $first !== null && $first->getRegistrationId() !== null,
    'max_pending: 200 buffered, then CapacityException' => $capacity === 200 && $faultsB === 200,
    'an OOM refusal does not trip the circuit breaker (stats right after works)' => $afterOom === 'ok',
    'a flusher can drain while Redis is at maxmemory' => isset($atMax['ack']) && is_int($atMax['ack']) && $atMax['ack'] > 0,
    'drains emptied the buffer' => $drainA['empty'] && $drainB['empty'],
    'nothing lost' => $v['lost'] === 0,
    'nothing doubled' => $v['doubled'] === 0,
    'no row without a ledger entry' => $v['extra'] === 0,
];
result('Redis maxmemory (noeviction) + max_pending: capacity fallback', $faultsA + $faultsB, $v, $checks,
    ['seed' => $seed, 'at maxmemory push threw' => $firstClass . ': ' . ($first?->getMessage() ?? ''), 'exceptions' => $exceptions,
     'flush while full' => $atMax, 'stats right after the OOM' => $afterOom, 'used_memory while full' => $stillFull, 'fallbacks' => $fallbacks]);
