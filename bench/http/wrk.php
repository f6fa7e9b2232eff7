<?php
// One wrk cell: POSTs a registration (5 fields, a unique key per request) for SECS seconds; prints one JSON line:
// req/s, p50/p99 ms, errors (socket errors + non-2xx answers).
// usage: php wrk.php THREADS CONNECTIONS SECS URL HOST   (BENCH_TAG keeps unique keys unique across cells;
//        BENCH_TOKENS names a file of one-use form tokens for the fast intake, one a line, used once each)
require dirname(__DIR__) . '/common.php';
[$threads, $conns, $secs, $url, $host] = array_slice($argv, 1, 5);
$tag = preg_replace('/[^A-Za-z0-9.@-]/', '', getenv('BENCH_TAG') ?: (string)getmypid());
$tokens = preg_replace('/[^A-Za-z0-9._\/-]/', '', (string)getenv('BENCH_TOKENS'));
$lua = tempnam(sys_get_temp_dir(), 'rbwrk');
file_put_contents($lua, <<<LUA
counter, tid, nthreads = 0, 0, 0
local threads = {}
function setup(thread) nthreads = nthreads + 1; thread:set("tid", nthreads); table.insert(threads, thread) end
tokens, ntok, itok = {}, 0, 0
function init(args)
  wrk.method = "POST"; wrk.headers["Host"] = "$host"; wrk.headers["Content-Type"] = "application/json"; non2xx = 0
  -- one-use form tokens (fast intake): this thread takes every $threads-th line of the file
  local path = "$tokens"
  if path ~= "" then
    local i = 0
    for line in io.lines(path) do
      if i % $threads == tid - 1 then ntok = ntok + 1; tokens[ntok] = line end
      i = i + 1
    end
  end
end
function request()
  counter = counter + 1
  local tok = ""
  if ntok > 0 then itok = itok % ntok + 1; tok = string.format('"token":"%s",', tokens[itok]) end
  local body = string.format('{%s"registration":{"email":"p%d.%d@example.com","name":"Ada Lovelace","ticket":"GA","qty":2,"ip":"203.0.113.7"},"unique_key":"p%d.%d.$tag@example.com"}', tok, tid, counter, tid, counter)
  return wrk.format(nil, nil, nil, body)
end
function response(status, headers, body) if status < 200 or status > 299 then non2xx = non2xx + 1 end end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("non2xx") or 0) end
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"secs":%.4f,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, bad))
end
LUA);
exec(sprintf('wrk -t %d -c %d -d %ds --latency --timeout 10s -s %s %s 2>&1', $threads, $conns, $secs, escapeshellarg($lua), escapeshellarg($url)), $out, $rc);
unlink($lua);
foreach ($out as $l) if (str_starts_with($l, 'RESULT ')) {
  $r = json_decode(substr($l, 7), true);
  emit(['conns' => (int)$conns, 'requests' => $r['requests'], 'rps' => $r['requests'] / $r['secs'], 'p50_ms' => $r['p50_us'] / 1000,
    'p99_ms' => $r['p99_us'] / 1000, 'errors' => $r['socket_errors'] + $r['non2xx'], 'non2xx' => $r['non2xx']]);
  exit(0);
}
emit(['error' => 'wrk: ' . substr(implode(' ', $out), -300)]); exit(1);
