<?php
// One POST of a registration to URL with Host HOST; exits 0 on a 2xx answer (a route is there and works).
// usage: php probe.php URL HOST   (BENCH_TOKENS: a file whose first line is a form token to send)
[$url, $host] = [$argv[1], $argv[2]];
$token = getenv('BENCH_TOKENS') ? trim((string)fgets(fopen(getenv('BENCH_TOKENS'), 'r'))) : null;
$body = json_encode(($token ? ['token' => $token] : []) + ['registration' => ['email' => 'probe@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7'], 'unique_key' => 'probe-' . getmypid() . '@example.com']);
$ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "Host: $host\r\nContent-Type: application/json\r\n", 'content' => $body, 'ignore_errors' => true, 'timeout' => 20]]);
$answer = @file_get_contents($url, false, $ctx);
$status = isset($http_response_header[0]) ? (int)explode(' ', $http_response_header[0])[1] : 0;
echo "$url -> $status " . substr((string)$answer, 0, 300) . "\n";
exit($status >= 200 && $status < 300 ? 0 : 1);
