<?php
// Hostile input through the REST route, over HTTP (nginx + php-fpm + WordPress + the plugin + Redis + MariaDB):
//   - fields and values with SQL metacharacters, `'; DROP TABLE`, serialized PHP objects of a class whose
//     __wakeup writes a file (the canary plugin), <script>, NUL and control bytes, odd Unicode, numeric-looking
//     keys, huge strings, thousands of fields, deep nesting: answered 201 and stored byte for byte (the table's
//     JSON decodes === to what WordPress decoded from the request: keys, order, types, every byte), never executed
//     (the tables are all there), never unserialized (no canary file — the control route proves the canary works);
//   - what must be refused is refused and not stored: invalid UTF-8, lone surrogates, non-JSON and serialized
//     bodies, too deep, too large, INF, bad unique keys, bad event ids;
//   - anonymous calls are refused unless the site made the route public; a wrong application password too;
//   - the rate limit (5 per client address and minute): 429 with Retry-After past the limit, per address (IPv6:
//     per /64), X-Forwarded-For believed only from a trusted proxy and only its right-most untrusted entry;
//   - the admin page shows hostile bytes (a quarantined legacy entry) escaped.
// Run by run.sh after s15_setup (FAULTS_WEB, FAULTS_HOST_*, FAULTS_APP_PASSWORD, FAULTS_CANARY_DIR).
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

// The same class name as the canary plugin's, without magic methods: serialize() here gives the exact payload.
final class RbFaultsCanary
{
    public $tag = '';
}

$seed = fseed();
$tmp = fenv('FAULTS_TMP') . '/s15';
@mkdir($tmp, 0700, true);
$web = fenv('FAULTS_WEB');
$host = fenv('STACK_WP_HOST');
$public = fenv('FAULTS_HOST_PUBLIC');
$limited = fenv('FAULTS_HOST_LIMITED');
$spoof = fenv('FAULTS_HOST_SPOOF');
$canary = fenv('FAULTS_CANARY_DIR');
$event = 800000 + getmypid() % 100000; // This scenario's own: its rows are counted by event (strays, doubles).

/** One HTTP request; returns code, lower-cased headers, body, decoded JSON. */
function http(string $method, string $url, string $host, ?string $body, array $headers = [], ?string $auth = null, ?string $cookies = null): array
{
    $c = curl_init($url);
    $h = [];
    curl_setopt_array($c, [
        CURLOPT_CUSTOMREQUEST => $method, CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 60,
        CURLOPT_HTTPHEADER => array_merge(["Host: $host", 'Expect:'], $headers),
        CURLOPT_HEADERFUNCTION => static function ($c, string $line) use (&$h) {
            $p = strpos($line, ':');
            if ($p !== false) {
                $h[strtolower(trim(substr($line, 0, $p)))] = trim(substr($line, $p + 1));
            }
            return strlen($line);
        },
    ]);
    if ($body !== null) {
        curl_setopt($c, CURLOPT_POSTFIELDS, $body);
    }
    if ($auth !== null) {
        curl_setopt($c, CURLOPT_USERPWD, $auth);
    }
    if ($cookies !== null) {
        curl_setopt_array($c, [CURLOPT_COOKIEFILE => $cookies, CURLOPT_COOKIEJAR => $cookies]);
    }
    $out = curl_exec($c);
    $code = (int) curl_getinfo($c, CURLINFO_RESPONSE_CODE);
    curl_close($c);
    return ['code' => $code, 'headers' => $h, 'body' => (string) $out, 'json' => json_decode((string) $out, true)];
}

function post_registration(string $host, string $body, array $headers = [], ?string $auth = null, ?int $event = null): array
{
    global $web;
    $event ??= $GLOBALS['event'];
    return http('POST', "$web/wp-json/reg-buffer/v1/events/$event/registrations", $host, $body,
        array_merge(['Content-Type: application/json'], $headers), $auth);
}

const SENT = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

$checks = [];
$notes = ['seed' => $seed];
$faults = 0;
$expected = []; // registration id => [case, registration as WordPress decoded it, event, unique key]
$refused = [];  // marker => case, for calls that must have stored nothing

// --- the canary works: its control route unserializes, in this site's php-fpm, into FAULTS_TMP/canary --------
$probe = new RbFaultsCanary();
$probe->tag = 'control';
$control = http('POST', "$web/wp-json/rb-faults/v1/control", $public, serialize($probe), ['Content-Type: text/plain']);
clearstatcache();
$checks['control: the canary fires when something does unserialize'] = $control['code'] === 200 && is_file("$canary/wakeup-control");

// --- hostile registrations that must be accepted and stored exactly -------------------------------------------
$obj = new RbFaultsCanary();
$obj->tag = 'hostile-value';
$serialized = serialize($obj);
$objKey = new RbFaultsCanary();
$objKey->tag = 'hostile-key';
$objUk = new RbFaultsCanary();
$objUk->tag = 'hostile-uk';
mt_srand($seed);
$many = [];
for ($i = 0; $i < 1000; $i++) {
    $many["f$i'\"; --"] = "v$i<b>" . mt_rand();
}
$deep = 'bottom';
for ($i = 0; $i < 60; $i++) {
    $deep = ["l$i" => $deep];
}
$accept = [
    'sql in values' => ['name' => "Robert'); DROP TABLE wp_reg_buffer_registrations; --", 'email' => "x' OR '1'='1", 'q' => '"; SELECT SLEEP(5); -- ', 'bs' => "\\' \\\" %_ ` ; /* */ -- # \\\\"],
    'sql in field names' => ["'; DROP TABLE wp_users; --" => 'v', '`id`' => 1, 'a"b' => 2, '%_' => 3, 'x\\' => 4, 'ORDER BY 1' => 5],
    'serialized objects as values' => ['o' => $serialized, 'in_list' => serialize([$obj]), 's' => 's:5:"hello";', 'b' => 'b:1;', 'n' => 'N;', 'c' => 'C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}'],
    'serialized object as a field name' => [serialize($objKey) => 'key is an object', 'a:1:{i:0;s:1:"x";}' => 'key is an array'],
    'markup' => ['name' => '<script>alert(1)</script>', 'img' => '<img src=x onerror=alert(1)>', 'attr' => '" onmouseover="alert(1)', '<script>k</script>' => 'markup key', 'php' => '<?php system("id"); ?>'],
    'NUL and control bytes' => ['nul' => "a\0b", "\0key" => 'v', 'only' => "\0", 'ctl' => implode('', array_map('chr', range(1, 31))) . "\x7f"],
    'unicode' => ['emoji' => "Zoë 🎟️ 👩🏽‍💻", 'rtl' => "\u{202E}gnp.exe", 'zw' => "a\u{200B}b\u{FEFF}c", 'ls' => "line\u{2028}sep\u{2029}", 'combining' => "e\u{0301}", 'max' => "\u{10FFFF}"],
    'numeric-looking keys and numbers' => ['01' => 'x', '-1' => 'y', '1.5' => 'z', ' 7' => 'space', 'big' => PHP_INT_MAX, 'neg' => PHP_INT_MIN, 'f' => 1.0, 'tiny' => 5e-324, 'e' => 1.7976931348623157e308, 'str' => '1e400'],
    'list-like object (PHP sees a list)' => ['0' => 'a', '1' => 'b'],
    'types' => ['t' => true, 'f' => false, 'n' => null, 'empty' => [], 'nested' => ['a' => [1, [2, [3]]]]],
    'path and template strings' => ['p' => '../../../../etc/passwd', 'pct' => '%00%27%22', 'jndi' => '${jndi:ldap://x/a}', 'tpl' => '{{7*7}} <%= 7*7 %>', 'crlf' => "a\r\nSet-Cookie: x=1"],
    'huge string (24,000 bytes)' => ['big' => str_repeat("<'\";\0é>", 3000)],
    '1,000 fields' => $many,
    'nested 60 deep' => ['deep' => $deep],
];
$unique = [
    'sql in unique key' => "u'); DELETE FROM wp_users; --@example.test",
    'serialized object as unique key' => serialize($objUk),
    'markup unique key' => '<script>alert("uk")</script>@example.test',
];
$i = 0;
foreach ($accept + $unique as $case => $registration) {
    $ukey = null;
    if (isset($unique[$case])) {
        $ukey = $unique[$case];
        $registration = ['case' => $case];
    }
    $body = json_encode(['registration' => $registration, 'unique_key' => $ukey], SENT);
    $r = post_registration($public, $body);
    $faults++;
    $decoded = json_decode($body, true)['registration']; // what WordPress's JSON parsing hands the plugin
    if ($r['code'] === 201 && is_string($r['json']['id'] ?? null)) {
        $expected[$r['json']['id']] = [$case, $decoded, $event, $ukey];
    } else {
        $checks["accepted: $case"] = false;
        $notes['unexpected'][$case] = [$r['code'], substr($r['body'], 0, 300)];
    }
    $i++;
}
// A second registration with a hostile unique key is a duplicate, not an error and not a second row.
$dup = post_registration($public, json_encode(['registration' => ['case' => 'dup', 'm' => 'refused-dup'], 'unique_key' => $unique['sql in unique key']], SENT));
$checks['a repeated hostile unique key answers 409'] = $dup['code'] === 409;
$refused['refused-dup'] = 'duplicate unique key';

// --- what must be refused, and stores nothing ---------------------------------------------------------------
$tooDeep = 'refused-deep';
for ($d = 0; $d < 70; $d++) {
    $tooDeep = [$tooDeep];
}
$refuse = [
    // name => [raw body, expected status, content type, event]
    'invalid UTF-8 bytes' => ['{"registration":{"m":"refused-utf8","v":"' . "\xff\xfe\xc3\x28" . '"}}', [400]],
    'invalid UTF-8 in a key' => ['{"registration":{"m":"refused-utf8key","' . "\xc0\xaf" . '":"v"}}', [400]],
    'lone surrogate' => ['{"registration":{"m":"refused-surrogate","v":"\ud800"}}', [400]],
    'serialized PHP object as the body' => [$serialized . 'refused-serbody', [400]],
    'serialized object as the registration' => [json_encode(['registration' => $serialized, 'm' => 'refused-serreg'], SENT), [422]],
    'form-encoded body' => ['registration%5Bm%5D=refused-form', [422], 'application/x-www-form-urlencoded'],
    'nested 70 deep' => [json_encode(['registration' => ['d' => $tooDeep]], SENT), [422]],
    'over the payload limit' => [json_encode(['registration' => ['m' => 'refused-large', 'big' => str_repeat('x', 70000)]], SENT), [422]],
    'INF (1e400)' => ['{"registration":{"m":"refused-inf","v":1e400}}', [422]],
    'unique key with a trailing space' => [json_encode(['registration' => ['m' => 'refused-ukspace'], 'unique_key' => 'a@example.test '], SENT), [422]],
    'unique key that is an object' => [json_encode(['registration' => ['m' => 'refused-ukobj'], 'unique_key' => ['O:8:"stdClass":0:{}']], SENT), [422]],
    'unique key over 191 bytes' => [json_encode(['registration' => ['m' => 'refused-uklong'], 'unique_key' => str_repeat("'", 200)], SENT), [422]],
    'event id 0' => [json_encode(['registration' => ['m' => 'refused-event0']], SENT), [422], null, 0],
    'event id past PHP_INT_MAX' => [json_encode(['registration' => ['m' => 'refused-eventbig']], SENT), [422], null, '99999999999999999999'],
];
foreach ($refuse as $case => $spec) {
    [$raw, $codes] = $spec;
    $type = $spec[2] ?? 'application/json';
    $ev = $spec[3] ?? $event;
    preg_match('/refused-[a-z0-9]+/', $raw, $m);
    $refused[$m[0]] = $case;
    $r = http('POST', "$web/wp-json/reg-buffer/v1/events/$ev/registrations", $public, $raw, ["Content-Type: $type"]);
    $faults++;
    $checks["refused ($case): " . implode('/', $codes)] = in_array($r['code'], $codes, true);
    $notes['refusals'][$case] = $r['code'] . ' ' . ($r['json']['code'] ?? '');
}

// --- who may post ------------------------------------------------------------------------------------------
$anon = post_registration($host, json_encode(['registration' => ['m' => 'refused-anon']], SENT));
$wrong = post_registration($host, json_encode(['registration' => ['m' => 'refused-wrongpw']], SENT), [], 'admin:aaaa bbbb cccc dddd eeee ffff');
$authed = post_registration($host, json_encode(['registration' => ['m' => 'authed', "'; --" => '<script>']], SENT), [], 'admin:' . fenv('FAULTS_APP_PASSWORD'));
$refused['refused-anon'] = 'anonymous on a site that did not allow it';
$refused['refused-wrongpw'] = 'wrong application password';
$faults += 3;
$checks['anonymous POST refused (401) when the route is not public'] = $anon['code'] === 401;
$checks['a wrong application password is refused (401)'] = $wrong['code'] === 401;
$checks['an application password is let in (201)'] = $authed['code'] === 201;
if ($authed['code'] === 201) {
    $expected[$authed['json']['id']] = ['authenticated', ['m' => 'authed', "'; --" => '<script>'], $event, null];
}
$checks['the public host takes anonymous registrations (201)'] = count($expected) >= count($accept);

// --- the rate limit ----------------------------------------------------------------------------------------
$limit = 5;
$rl = ['windows' => []];
/** Posts from $client (an X-Forwarded-For value) until a 429, at most 6 * limit times; returns the answers. */
$burst = static function (string $toHost, callable $client, string $tag) use (&$expected, &$faults, $limit, $event): array {
    $answers = [];
    for ($n = 0; $n < 6 * $limit; $n++) {
        $reg = ['m' => "rl-$tag-$n"];
        $r = post_registration($toHost, json_encode(['registration' => $reg], SENT), ['X-Forwarded-For: ' . $client($n)]);
        $faults++;
        $answers[] = $r;
        if ($r['code'] === 201) {
            $expected[$r['json']['id']] = ["rate limit $tag", $reg, $event, null];
        }
        if ($r['code'] === 429) {
            break;
        }
    }
    return $answers;
};
/** Within each window (X-RateLimit-Reset): at most $limit accepted, all before the first 429; headers sane. */
$windowsOk = static function (array $answers, string $what, bool $fresh = true) use ($limit, &$rl): bool {
    $byWindow = [];
    foreach ($answers as $a) {
        $byWindow[$a['headers']['x-ratelimit-reset'] ?? 'none'][] = $a;
    }
    $ok = !isset($byWindow['none']) && end($answers)['code'] === 429;
    foreach ($byWindow as $reset => $list) {
        $seen429 = false;
        $accepted = 0;
        foreach ($list as $a) {
            if ($a['code'] === 429) {
                $seen429 = true;
                $retry = $a['headers']['retry-after'] ?? '';
                $ok = $ok && ctype_digit($retry) && (int) $retry >= 1 && (int) $retry <= 60 && ($a['json']['code'] ?? '') === 'reg_buffer_rate_limited';
            } else {
                $accepted++;
                $ok = $ok && $a['code'] === 201 && !$seen429;
            }
        }
        // A fresh address that stayed in one window is refused exactly after the limit, not before.
        $ok = $ok && $accepted <= $limit && (!$fresh || count($byWindow) > 1 || $accepted === $limit);
        $rl['windows'][$what][$reset] = array_map(static fn ($a) => $a['code'], $list);
    }
    return $ok;
};
$attempts = 0;
do {
    $attempts++;
    $a = $burst($limited, static fn () => '203.0.113.10', "a$attempts");
    $reset = end($a)['headers']['x-ratelimit-reset'] ?? '';
    $other = post_registration($limited, json_encode(['registration' => ['m' => "rl-b-$attempts"]], SENT), ['X-Forwarded-For: 198.51.100.20']);
    $forged = post_registration($limited, json_encode(['registration' => ['m' => "refused-forged$attempts"]], SENT), ['X-Forwarded-For: 192.0.2.99, 203.0.113.10']);
    $faults += 2;
    if ($other['code'] === 201) {
        $expected[$other['json']['id']] = ['rate limit other address', ['m' => "rl-b-$attempts"], $event, null];
    }
    if ($forged['code'] === 201) {
        $expected[$forged['json']['id']] = ['rate limit forged (window rolled over)', ['m' => "refused-forged$attempts"], $event, null];
    }
    $sameWindow = ($forged['headers']['x-ratelimit-reset'] ?? '') === $reset; // else a new minute began: try again
} while (!$sameWindow && $attempts < 3);
$refused["refused-forged$attempts"] = 'forged X-Forwarded-For entry left of the real client';
$checks['429 past 5 a minute, Retry-After 1..60, never more than 5 accepted per window'] = $windowsOk($a, 'client A', $attempts === 1);
$checks['another address is not limited by the first one\'s count'] = $other['code'] === 201;
$checks['a forged left X-Forwarded-For entry does not buy a new allowance'] = $sameWindow && $forged['code'] === 429;
$v6 = $burst($limited, static fn (int $n) => '2001:db8:5:6::' . dechex($n + 1), 'v6');
$checks['IPv6: one /64 shares one allowance'] = $windowsOk($v6, 'IPv6 /64');
$s = $burst($spoof, static fn (int $n) => "198.18.$n.1", 'spoof');
$checks['without a trusted proxy X-Forwarded-For is ignored (a new one per request still hits 429)'] = $windowsOk($s, 'no trusted proxy');
$env = array_merge(getenv(), ['STACK_WP_HOST' => $limited]);
$proc = proc_open(array_merge([PHP_BINARY], ini_args(), [__DIR__ . '/support/wp_client_ip.php']), [1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, $env);
$ipCases = json_decode((string) stream_get_contents($pipes[1]), true);
proc_close($proc);
$wrongIp = array_filter(is_array($ipCases) ? $ipCases : ['helper failed' => [1, 0]], static fn ($c) => $c[0] !== $c[1]);
$checks['client address: trusted proxies, CIDR (v4, v6), forged and garbage X-Forwarded-For'] = $wrongIp === [];
if ($wrongIp !== []) {
    $notes['client address'] = $wrongIp;
}
$d = $burst(fenv('FAULTS_HOST_DIRECT'), static fn () => '203.0.113.77', 'direct');
$checks['buffering off (count in the options table): the same limit'] = $windowsOk($d, 'options table') && ($d[0]['json']['status'] ?? '') === 'stored';
$notes['rate limit'] = $rl + ['attempts' => $attempts];

// --- store: flush everything, compare the table with what was sent -----------------------------------------
exec(implode(' ', array_map('escapeshellarg', array_merge([PHP_BINARY], ini_args(), [__DIR__ . '/support/wp_flush.php', $tmp, 'drain']))) . ' 2>&1', $out, $rc);
$drain = json_decode((string) end($out), true);
$checks['drain emptied the buffer'] = is_array($drain) && ($drain['empty'] ?? false);
$db = db();
$stored = 0;
$lost = 0;
$mismatch = [];
foreach ($expected as $id => [$case, $registration, $ev, $ukey]) {
    $q = $db->prepare('SELECT data, event_id, unique_key, COUNT(*) OVER () FROM wp_reg_buffer_registrations WHERE registration_id = ?');
    $q->bind_param('s', $id);
    $q->execute();
    $row = $q->get_result()->fetch_row();
    if ($row === null) {
        $lost++;
        $mismatch[$case] = 'not stored';
        continue;
    }
    $stored++;
    $back = json_decode($row[0], true, 512);
    if ($back !== $registration || (int) $row[1] !== $ev || $row[2] !== $ukey) {
        $mismatch[$case] = ['stored' => substr($row[0], 0, 200), 'event' => $row[1], 'unique_key' => $row[2]];
    }
}
$checks['every accepted registration stored exactly as sent (keys, order, types, bytes)'] = $mismatch === [];
if ($mismatch !== []) {
    $notes['mismatch'] = $mismatch;
}
$leaked = [];
foreach ($refused as $marker => $case) {
    $like = '%' . $marker . '%';
    $q = $db->prepare('SELECT COUNT(*) FROM wp_reg_buffer_registrations WHERE data LIKE ?');
    $q->bind_param('s', $like);
    $q->execute();
    if ((int) $q->get_result()->fetch_row()[0] > 0) {
        $leaked[] = $case;
    }
}
$rowsOfEvent = (int) $db->query("SELECT COUNT(*) FROM wp_reg_buffer_registrations WHERE event_id = $event")->fetch_row()[0];
$doubled = $rowsOfEvent - $stored; // rows of this event no accepted answer accounts for
$checks['no row beyond the accepted ones'] = $doubled === 0;
$checks['nothing refused was stored'] = $leaked === [];
if ($leaked !== []) {
    $notes['stored although refused'] = $leaked;
}
$tables = array_map(static fn ($r) => $r[0], $db->query('SHOW TABLES')->fetch_all());
$checks['no SQL was executed: the tables are all there'] = in_array('wp_reg_buffer_registrations', $tables, true) && in_array('wp_users', $tables, true)
    && (int) $db->query('SELECT COUNT(*) FROM wp_users')->fetch_row()[0] === 1;

// --- never unserialized: the mirror wrote the fields into the event's postmeta; read them as a theme would ----
exec(implode(' ', array_map('escapeshellarg', array_merge([PHP_BINARY], ini_args(), [__DIR__ . '/support/wp_read_meta.php', (string) $event]))) . ' 2>&1', $metaOut);
$meta = json_decode((string) end($metaOut), true);
clearstatcache();
$fired = array_map('basename', array_filter(glob("$canary/*-hostile*") ?: [], 'is_file'));
$checks['never unserialized: no hostile canary fired (REST, flush, mirror, reading the meta back)'] = $fired === [];
// The mirror writes field o under reg_buffer_o (mirrored keys carry a fixed prefix).
$checks['the mirrored serialized string reads back as that string'] = is_array($meta) && in_array($serialized, $meta['reg_buffer_o'] ?? [], true);
if ($fired !== [] || !$checks['the mirrored serialized string reads back as that string']) {
    $notes['canary'] = ['fired' => $fired, 'meta o' => $meta['o'] ?? $metaOut];
}

// --- the admin page shows hostile bytes escaped (a legacy element the import quarantines) ----------------------
$redisDir = fenv('FAULTS_WP_REDIS_DIR');
$r = FRedis::adopt($redisDir, (int) trim((string) file_get_contents("$redisDir/port")))->client();
$legacy = 'event_reg_buffer:' . getmypid();
$payload = '<script>alert("rb-xss")</script>';
$r->rPush($legacy, json_encode(['timestamp' => '<b>not a number</b>', 'registration_details' => [$payload => $payload . "\0" . $serialized]], SENT));
$cli = dirname(__DIR__, 2) . '/e2e/php/wp-cli.php';
exec(implode(' ', array_map('escapeshellarg', array_merge([PHP_BINARY], ini_args(), [$cli, 'reg-buffer', 'import-legacy', "--pattern=$legacy"]))) . ' 2>&1', $importOut);
$jar = "$tmp/cookies";
http('GET', "$web/wp-login.php", $host, null, [], null, $jar);
http('POST', "$web/wp-login.php", $host, http_build_query(['log' => 'admin', 'pwd' => fenv('FAULTS_ADMIN_PASSWORD'), 'testcookie' => '1', 'redirect_to' => '/wp-admin/']),
    [], null, $jar);
$page = http('GET', "$web/wp-admin/tools.php?page=reg-buffer", $host, null, [], null, $jar);
$shown = str_contains($page['body'], 'data-entry="') && str_contains($page['body'], '&lt;script&gt;alert(');
$checks['admin page: the quarantined hostile entry is listed, escaped'] = $page['code'] === 200 && $shown;
$checks['admin page: no raw hostile markup'] = !str_contains($page['body'], '<script>alert("rb-xss")') && !str_contains($page['body'], "<b>not a number");
$notes['admin page'] = ['code' => $page['code'], 'bytes' => strlen($page['body']), 'import' => end($importOut)];

$notes['cases'] = ['accepted' => count($accept) + count($unique), 'refused' => count($refused), 'expected rows' => count($expected)];
result('REST hostile input + auth + rate limit (HTTP, end to end)', $faults, ['accepted' => count($expected), 'stored' => $stored, 'lost' => $lost, 'doubled' => max(0, $doubled)], $checks, $notes);
