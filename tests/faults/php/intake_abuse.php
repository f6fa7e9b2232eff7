<?php
// Intake abuse while a rush is on (issue 13): the fast intake (intake.php through nginx + php-fpm, the plugin's site
// and its own Redis with maxmemory) takes legitimate registrations — each from its own address behind the trusted
// proxy, retried on 429/503 as a form would — while, interleaved with them on parallel connections:
//   - a flood of valid registrations with fresh tokens from 5 addresses (rate limited per address),
//   - a wide flood from 60 addresses that stays under the rate limit (only the buffer cap stops it),
//   - oversized bodies, malformed and 70-deep JSON, a body of thousands of keys with a forged token,
//   - forged tokens (bad signature, another site, another event) and replays of used tokens,
//   - enumeration: used-up tokens asking about registered e-mails, and fresh tokens asking from one address,
// and a flusher runs throughout. Checks: every request answered 201 is stored exactly once (lost 0, doubled 0) and
// nothing else is; every legitimate registration is accepted in the end; the refusals are the right ones and
// wrote nothing; a used-up token never tells whether an e-mail is registered; each address's non-429 answers stay
// within its limit per window; the buffer never holds more than max_pending and Redis stays under maxmemory.
// Run by run.sh after s16_setup (FAULTS_INTAKE_URL, FAULTS_INTAKE_TOKENS, FAULTS_INTAKE_REDIS_PORT, …).
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
mt_srand($seed);
$tmp = fenv('FAULTS_TMP') . '/s16';
@mkdir($tmp, 0700, true);
$url = fenv('FAULTS_INTAKE_URL');
$host = fenv('STACK_WP_HOST');
$redisPort = (int) fenv('FAULTS_INTAKE_REDIS_PORT');
$maxmemory = (int) fenv('FAULTS_INTAKE_MAXMEMORY');
$t = json_decode((string) file_get_contents(fenv('FAULTS_INTAKE_TOKENS')), true);
$event = (int) $t['event'];
$cfg = $t['config'];
$limit = (int) fenv('FAULTS_INTAKE_RATE_LIMIT'); // what run.sh configured (REG_BUFFER_INTAKE_RATE_LIMIT), per minute
$window = 60;
$maxPending = (int) ($cfg['ini']['reg_buffer.max_pending'] ?? 0);
foreach ($cfg['ini'] as $k => $v) {
    ini_set($k, (string) $v); // This process reads the site's buffer (stats) as the intake writes it.
}
$checks = ['the intake config carries the configured rate limit' => ($cfg['rate_limit'] ?? null) == ['limit' => $limit, 'window' => $window]];
$notes = ['seed' => $seed, 'rate_limit' => "$limit per {$window}s", 'max_pending' => $maxPending];

/** A request: kind, client address (X-Forwarded-For from the trusted proxy), token header or null, body. */
function req(string $kind, string $ip, ?string $tokenHeader, string $body, int $event, string $ref = '', string $query = ''): array
{
    return compact('kind', 'ip', 'tokenHeader', 'body', 'event', 'ref', 'query');
}

function reg_body(string $ref, ?string $ukey, ?string $token = null): string
{
    $b = ['registration' => ['ref' => $ref, 'name' => "Name $ref", 'tickets' => 1]];
    if ($ukey !== null) {
        $b['unique_key'] = $ukey;
    }
    if ($token !== null) {
        $b['token'] = $token;
    }
    return json_encode($b, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
}

/** Sends $requests on $parallel connections; returns each answer (code, JSON code, Retry-After) by index. */
function send_all(array $requests, int $parallel, string $url, string $host, ?callable $tick = null): array
{
    $mh = curl_multi_init();
    $answers = [];
    $next = 0;
    $running = [];
    $start = static function (int $i) use (&$running, $requests, $url, $host, $mh) {
        $r = $requests[$i];
        $headers = ["Host: $host", 'Content-Type: application/json', 'Expect:', 'X-Forwarded-For: ' . $r['ip']];
        if ($r['tokenHeader'] !== null) {
            $headers[] = 'X-Reg-Buffer-Token: ' . $r['tokenHeader'];
        }
        $c = curl_init($url . '?event=' . $r['event'] . $r['query']);
        $retry = '';
        curl_setopt_array($c, [
            CURLOPT_POST => true, CURLOPT_POSTFIELDS => $r['body'], CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 30,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_HEADERFUNCTION => static function ($c, string $line) use (&$retry) {
                if (stripos($line, 'Retry-After:') === 0) {
                    $retry = trim(substr($line, 12));
                }
                return strlen($line);
            },
        ]);
        curl_multi_add_handle($mh, $c);
        $running[spl_object_id($c)] = [$i, $c, &$retry];
    };
    while ($next < count($requests) && count($running) < $parallel) {
        $start($next++);
    }
    while ($running) {
        curl_multi_exec($mh, $active);
        curl_multi_select($mh, 0.05);
        while ($info = curl_multi_info_read($mh)) {
            $c = $info['handle'];
            [$i, , $retry] = $running[spl_object_id($c)];
            $body = (string) curl_multi_getcontent($c);
            $json = json_decode($body, true);
            $answers[$i] = ['code' => (int) curl_getinfo($c, CURLINFO_RESPONSE_CODE), 'json' => is_array($json) ? $json : [],
                'retry' => $retry, 'at' => microtime(true)];
            unset($running[spl_object_id($c)]);
            curl_multi_remove_handle($mh, $c);
            curl_close($c);
            if ($tick !== null) {
                $tick();
            }
            if ($next < count($requests)) {
                $start($next++);
            }
        }
    }
    curl_multi_close($mh);
    return $answers;
}

/** Redis's used_memory (bytes) of the site's private server. */
function used_memory(int $port): int
{
    $info = (string) shell_exec('redis-cli -p ' . $port . ' info memory 2>/dev/null');
    return preg_match('/^used_memory:(\d+)/m', $info, $m) ? (int) $m[1] : -1;
}

// --- the requests ---------------------------------------------------------------------------------------------
$legitTokens = $t['legit'];
$attack = $t['attack'];
$requests = [];
$legit = []; // ref => index of its latest request
foreach ($legitTokens as $i => $token) {
    $ref = "legit-$i";
    $ip = '198.51.' . intdiv($i, 200) . '.' . ($i % 200 + 1);
    // Half carry the token in the header, half in the body (the bounded scan).
    $requests[] = $i % 2 ? req('legit', $ip, $token, reg_body($ref, "$ref@example.test"), $event, $ref)
        : req('legit', $ip, null, reg_body($ref, "$ref@example.test", $token), $event, $ref);
}
$a = 0;
for ($ip = 1; $ip <= 5; $ip++) { // rate-limited flood: 5 addresses, 60 valid registrations each
    for ($n = 0; $n < 60; $n++, $a++) {
        $requests[] = req('flood', "203.0.113.$ip", $attack[$a], reg_body("flood-$ip-$n", "flood-$ip-$n@example.test"), $event, "flood-$ip-$n");
    }
}
for ($ip = 1; $ip <= 60; $ip++) { // wide flood: 60 addresses (IPv6, each its own /64), 10 each: under the rate limit
    for ($n = 0; $n < 10; $n++, $a++) {
        $requests[] = req('wide', "2001:db8:$ip::1", $attack[$a], reg_body("wide-$ip-$n", null), $event, "wide-$ip-$n");
    }
}
$fresh = array_slice($attack, $a); // unused fresh tokens for the malformed and enumeration requests
$f = 0;
$big = reg_body('big', null) . str_repeat(' ', 300 * 1024);
for ($n = 0; $n < 30; $n++) {
    $requests[] = req('oversized', "192.0.2.$n", $fresh[$f++], $big, $event);
}
$deep = str_repeat('{"a":', 70) . '1' . str_repeat('}', 70);
for ($n = 0; $n < 30; $n++) {
    $requests[] = req('malformed', "192.0.2.$n", $fresh[$f++], $n % 2 ? '{"registration": {"a": ' : '{"registration": ' . $deep . '}', $event);
}
$colliding = '{"registration":{' . implode(',', array_map(static fn ($k) => "\"k$k\":1", range(1, 20000))) . '}}';
$forgedOf = static function (string $token): string {
    $last = strrpos($token, '.');
    $sig = substr($token, $last + 1);
    return substr($token, 0, $last + 1) . ($sig[0] === 'A' ? 'B' : 'A') . substr($sig, 1);
};
for ($n = 0; $n < 40; $n++) {
    $token = $fresh[$f++];
    $kind = ['forged', 'other_site', 'other_event', 'forged_colliding'][$n % 4];
    $bad = match ($kind) {
        'forged', 'forged_colliding' => $forgedOf($token),
        'other_site' => preg_replace('/^1\.[0-9a-f]{16}\./', '1.' . bin2hex(random_bytes(8)) . '.', $token),
        'other_event' => $token,
    };
    $requests[] = req($kind, "192.0.2.$n", $bad, $kind === 'forged_colliding' ? $colliding : reg_body("forged-$n", "forged-$n@example.test"),
        $kind === 'other_event' ? (int) $t['draft'] : $event);
}
shuffle($requests);
// Replays and enumeration run after the first pass (they need used tokens); one address for the fresh-token probe.
$checks['no token is minted for an event that is not open'] = $t['draft_token'] === '';

// --- a flusher throughout ---------------------------------------------------------------------------------------
$stop = "$tmp/stop";
$flusher = proc_open(['bash', '-c', 'while [ ! -f "$1" ]; do "$2" "$3" "$4" run >/dev/null || true; sleep 0.3; done', 'flusher',
    $stop, PHP_BINARY, __DIR__ . '/support/wp_flush.php', $tmp], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'],
    2 => ['file', "$tmp/flusher.err", 'a']], $pipes);

$peakBuffered = 0;
$peakMemory = 0;
$ticks = 0;
$sample = static function () use (&$peakBuffered, &$peakMemory, &$ticks, $redisPort) {
    if (++$ticks % 25) {
        return;
    }
    try {
        $s = reg_buffer_stats();
        $peakBuffered = max($peakBuffered, (int) $s['pending'] + (int) $s['in_flight']);
    } catch (Throwable $e) {
        // A sample missed is not a failure of the intake.
    }
    $peakMemory = max($peakMemory, used_memory($redisPort));
};

$started = microtime(true);
$answers = send_all($requests, 12, $url, $host, $sample);

// Replays of legitimate tokens already used, and enumeration: used-up tokens ask about registered and unknown
// e-mails (must all be 403 reg_buffer_token_used, never 409); fresh tokens from one address ask about registered ones
// (at most the rate limit per window are answered at all).
$accepted = []; // id => ref
$legitDone = [];
$byKind = [];
foreach ($answers as $i => $ans) {
    $r = $requests[$i];
    $byKind[$r['kind']][] = $ans['code'] . ' ' . ($ans['json']['code'] ?? ($ans['json']['status'] ?? ''));
    if ($ans['code'] === 201) {
        $accepted[$ans['json']['id']] = $r['ref'];
        if ($r['kind'] === 'legit') {
            $legitDone[$r['ref']] = $r;
        }
    }
}
$second = [];
$registered = array_keys($legitDone);
$usedLegit = array_values(array_intersect_key($legitTokens, array_flip(array_map(static fn ($ref) => (int) substr($ref, 6), array_keys($legitDone)))));
foreach (array_slice($usedLegit, 0, 40) as $n => $token) {
    $ukey = $n % 2 ? $registered[$n % count($registered)] . '@example.test' : "nobody-$n@example.test";
    $second[] = req('replay', '198.18.0.' . ($n + 1), $token, reg_body("replay-$n", $ukey), $event);
}
// Only e-mails already registered: an unregistered one would be taken by the probe (anyone can pre-claim an address,
// SECURITY.md) and its owner's retry would then be a duplicate.
for ($n = 0; $n < 3 * $limit && $f < count($fresh); $n++) {
    $second[] = req('enumerate', '203.0.113.99', $fresh[$f++], reg_body("enum-$n", $registered[$n % count($registered)] . '@example.test'), $event);
}
$secondAnswers = send_all($second, 6, $url, $host, $sample);
foreach ($secondAnswers as $i => $ans) {
    $r = $second[$i];
    $byKind[$r['kind']][] = $ans['code'] . ' ' . ($ans['json']['code'] ?? ($ans['json']['status'] ?? ''));
    $answers['second-' . $i] = $ans + ['request' => $r];
    if ($ans['code'] === 201) {
        $accepted[$ans['json']['id']] = 'second-' . $r['kind'] . "-$i";
    }
}

// Legitimate registrations refused for now (429 / 503) retry, as a form would, until accepted (bounded).
$pending = [];
foreach ($requests as $i => $r) {
    if ($r['kind'] === 'legit' && !isset($legitDone[$r['ref']])) {
        $pending[] = $r;
    }
}
$retries = 0;
for ($round = 0; $pending && $round < 20; $round++) {
    sleep(1);
    $retryAnswers = send_all($pending, 6, $url, $host, $sample);
    $still = [];
    foreach ($retryAnswers as $i => $ans) {
        $retries++;
        $r = $pending[$i];
        if ($ans['code'] === 201) {
            $accepted[$ans['json']['id']] = $r['ref'];
            $legitDone[$r['ref']] = $r;
        } elseif (in_array($ans['code'], [429, 503], true)) {
            $still[] = $r;
        } else {
            $byKind['legit-retry'][] = $ans['code'] . ' ' . ($ans['json']['code'] ?? '');
        }
    }
    $pending = $still;
}
$ended = microtime(true);
touch($stop);
wait_proc($flusher, 600);

// --- the final drain and the ledger --------------------------------------------------------------------------------
$drain = spawn(__DIR__ . '/support/wp_flush.php', [$tmp, 'drain'], [], "$tmp/drain.err");
$checks['the final drain ends'] = wait_proc($drain, 1200) === 0;
$db = db();
$rows = [];
$res = $db->query('SELECT registration_id, data FROM wp_reg_buffer_registrations WHERE event_id = ' . $event);
while ($row = $res->fetch_assoc()) {
    $rows[$row['registration_id']][] = json_decode($row['data'], true)['ref'] ?? null;
}
$lost = array_diff_key($accepted, $rows);
$extra = array_diff_key($rows, $accepted);
$doubled = 0;
foreach ($rows as $refs) {
    $doubled += count($refs) - 1;
}
$checks['every registration answered 201 is stored (lost 0)'] = $lost === [];
$checks['none is stored twice (doubled 0)'] = $doubled === 0;
$checks['nothing is stored that was not answered 201'] = $extra === [];
$checks['every legitimate registration is accepted in the end'] = count($legitDone) === count($legitTokens);

// --- the refusals --------------------------------------------------------------------------------------------------
$only = static fn (string $kind, array $allowed) => array_diff(array_unique($byKind[$kind] ?? ['(none sent)']), $allowed) === [];
$checks['oversized bodies: 413'] = $only('oversized', ['413 reg_buffer_invalid']);
$checks['malformed and 70-deep JSON: 422'] = $only('malformed', ['422 reg_buffer_invalid']);
$checks['forged signature: 403'] = $only('forged', ['403 reg_buffer_token_invalid']);
$checks['forged token with 20,000 colliding keys: 403 before the body is decoded'] = $only('forged_colliding', ['403 reg_buffer_token_invalid']);
$checks["another site's token: 403"] = $only('other_site', ['403 reg_buffer_token_invalid']);
$checks["a token posted to another (draft) event: 403"] = $only('other_event', ['403 reg_buffer_token_invalid']);
$checks['replayed used tokens: 403 token_used whether or not the e-mail is registered (never 409)'] = $only('replay', ['403 reg_buffer_token_used']);
$checks['legitimate retries only ever see 201 / 429 / 503'] = !isset($byKind['legit-retry']);
$enumAnswered = count(array_filter($byKind['enumerate'] ?? [], static fn ($a) => !str_starts_with($a, '429')));
$windows = intdiv((int) $ended, $window) - intdiv((int) $started, $window) + 1;
$checks['enumeration from one address: answered at most the rate limit per window, then 429'] =
    $enumAnswered <= $limit * $windows && in_array('429 reg_buffer_rate_limited', $byKind['enumerate'] ?? [], true);
// Each flooding address: at most the limit per window answered with anything but 429.
$perIp = [];
foreach ($answers as $i => $ans) {
    $r = $requests[$i] ?? $ans['request'] ?? null;
    if ($r !== null && $r['kind'] === 'flood' && $ans['code'] !== 429) {
        $perIp[$r['ip']] = ($perIp[$r['ip']] ?? 0) + 1;
    }
}
$checks['rate-limited flood: each address answered at most the limit per window'] = $perIp !== [] && max($perIp) <= $limit * $windows;
$checks['rate-limited flood: 429 with Retry-After'] = in_array('429 reg_buffer_rate_limited', $byKind['flood'] ?? [], true)
    && array_filter($answers, static fn ($x) => $x['code'] === 429 && (int) $x['retry'] >= 1 && (int) $x['retry'] <= $window) !== [];
$checks['the buffer never held more than max_pending'] = $maxPending > 0 && $peakBuffered <= $maxPending;
$checks['Redis stayed under maxmemory'] = $peakMemory > 0 && $peakMemory < $maxmemory;
$wideAccepted = count(array_filter($accepted, static fn ($ref) => str_starts_with((string) $ref, 'wide-')));

$summary = [];
foreach ($byKind as $kind => $list) {
    $summary[$kind] = array_count_values($list);
}
$notes += ['answers' => $summary, 'legit' => count($legitTokens), 'legit_retries' => $retries, 'wide_flood_accepted' => $wideAccepted,
    'peak_buffered' => $peakBuffered, 'peak_used_memory' => $peakMemory, 'maxmemory' => $maxmemory, 'windows' => $windows,
    'seconds' => round($ended - $started, 1)];
$faults = count($requests) + count($second) - count($legitTokens);
result('intake abuse during a rush (floods, bad bodies, forged/replayed tokens, enumeration)', $faults,
    ['accepted' => count($accepted), 'stored' => count($accepted) - count($lost), 'lost' => count($lost), 'doubled' => $doubled],
    $checks, $notes);
