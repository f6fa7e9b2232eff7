<?php
// The physical floor of one LPUSH on one connection: `redis-benchmark -t lpush -c 1` on the bench's Redis.
// usage: php redis_benchmark.php N REDIS_PORT
require __DIR__ . '/common.php';
[$n, $port] = [(int)$argv[1], (int)$argv[2]];
exec("redis-benchmark -h 127.0.0.1 -p $port -t lpush -c 1 -n $n --csv 2>&1", $out, $rc);
foreach ($out as $l) {
  $f = str_getcsv($l);
  if (($f[0] ?? '') === 'LPUSH') {  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95…","p99…","max…"
    emit(['n' => $n, 'rate' => (float)$f[1], 'p50_us' => (float)$f[4] * 1000, 'p99_us' => (float)($f[6] ?? 0) * 1000]);
    exit(0);
  }
}
emit(['error' => 'redis-benchmark: ' . substr(implode(' ', $out), -200)]); exit(1);
