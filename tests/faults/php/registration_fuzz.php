<?php
// Hostile input: a seeded, bounded fuzzer of registrations (nested arrays, arbitrary keys, extreme ints and
// floats, NUL bytes, invalid UTF-8, huge strings, depths around the limit, objects, INF/NAN) and of unique keys.
// A model predicts accept/refuse: every accepted one must come back from reg_buffer_flush() identical (===, key
// order and key types, float bits), every refused one must throw ValueError/TypeError and write nothing.
// Plus fixed cases: a recursive array by reference, a payload over max_payload_bytes, bad event ids.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$count = short_mode() ? 3000 : 40000;
$redis = new FRedis('s6', ['--appendonly', 'no']);
register_shutdown_function(fn () => $redis->stop());
use_buffer($redis->url(), 'faults6:', ['max_payload_bytes' => 8 << 20]);

// ---- depth limit, probed (documented: "up to 64 levels deep"; the registration array itself is level 1)
$chain = function (int $levels) {
    $v = 'leaf';
    for ($i = 0; $i < $levels; $i++) {
        $v = [$v];
    }
    return $v;
};
$maxDepth = 0;
for ($d = 60; $d <= 70; $d++) {
    try {
        reg_buffer_push(1, $chain($d));
        $maxDepth = $d;
    } catch (ValueError $e) {
        break;
    }
}
$failures = [];
$fail = function (string $what) use (&$failures) {
    if (count($failures) < 20) {
        $failures[] = $what;
    }
};
if ($maxDepth !== 64) {
    $fail("depth: the deepest accepted registration has $maxDepth levels, the stub says 64");
}
while (($b = reg_buffer_flush(100, 60))['rows'] !== []) {
    reg_buffer_ack($b['batch']);
}

// ---- generator; every generated value reports what the model expects: null (accept), 'value' or 'type'
$worse = function (string $kind) { // the generator's hint; the model is $classify() below
};
$invalidUtf8 = ["\xff", "\xc3\x28", "\xa0\xa1", "\xe2\x28\xa1", "\xf0\x28\x8c\xbc", "\xed\xa0\x80", "\xc0\xaf", "ab\x80cd"];
$huge = 0;
$str = function () use ($invalidUtf8, $worse, &$huge): string {
    $r = mt_rand(0, 99);
    if ($r < 3) {
        $worse('value');
        return 'x' . $invalidUtf8[mt_rand(0, count($invalidUtf8) - 1)];
    }
    if ($r < 5) {
        $huge++;
        return str_repeat(mt_rand(0, 1) ? 'é' : "a\0", mt_rand(10_000, 150_000)); // huge, NUL bytes
    }
    $pool = ['', "\0", "a\0b", 'plain', 'Zoë', '東京', '🎉', "'; DROP TABLE wp_users; --", '<script>alert(1)</script>',
        'O:8:"stdClass":0:{}', "\u{FEFF}", "\u{10FFFF}", "\r\n\t", '\\u0000', '"', '{}', '[]', '-0', '1e3', '0123'];
    if ($r < 60) {
        return $pool[mt_rand(0, count($pool) - 1)];
    }
    $s = '';
    for ($i = mt_rand(0, 20); $i > 0; $i--) {
        $s .= mb_chr(mt_rand(0, 3) === 0 ? mt_rand(0x80, 0xD7FF) : mt_rand(0, 0x7F), 'UTF-8');
    }
    return $s;
};
$float = function () use ($worse): float {
    $pool = [-0.0, 0.0, 1.0, -1.0, 0.1, 1e-320, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
        -1.7976931348623157e308, 9007199254740993.0, 1e15, 1e16, 1e21, 123456789.125, (float) PHP_INT_MAX, (float) PHP_INT_MIN];
    $r = mt_rand(0, 99);
    if ($r < 2) {
        $worse('value');
        return [INF, -INF, NAN][mt_rand(0, 2)];
    }
    if ($r < 50) {
        return $pool[mt_rand(0, count($pool) - 1)];
    }
    do { // random bit patterns, finite only
        $f = unpack('E', pack('NN', mt_rand(0, 0xFFFFFFFF), mt_rand(0, 0xFFFFFFFF)))[1];
    } while (!is_finite($f));
    return $f;
};
$int = function (): int {
    $pool = [0, 1, -1, PHP_INT_MAX, PHP_INT_MIN, PHP_INT_MAX - 1, PHP_INT_MIN + 1, 1 << 53, (1 << 53) + 1, -(1 << 53) - 1, 255, 256];
    return mt_rand(0, 1) ? $pool[mt_rand(0, count($pool) - 1)] : mt_rand(PHP_INT_MIN, PHP_INT_MAX);
};
$key = function () use ($str, $int): int|string {
    $r = mt_rand(0, 9);
    if ($r < 3) {
        return $int();
    }
    if ($r < 5) {
        return ['123', '0', '-5', '0123', '-0', '1e3', ' 1', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '1.5'][mt_rand(0, 10)];
    }
    $k = $str();
    return strlen($k) > 200 ? substr($k, 0, 200) : $k;
};
$value = function (int $depth) use (&$value, $str, $float, $int, $key, $worse) {
    $r = mt_rand(0, 99);
    if ($depth < 6 && $r < 25 || $depth < 64 && $r < 8) {
        $a = [];
        $list = mt_rand(0, 1) === 0;
        for ($i = mt_rand(0, 6); $i > 0; $i--) {
            $list ? $a[] = $value($depth + 1) : $a[$key()] = $value($depth + 1);
        }
        return $a;
    }
    if ($r < 26) {
        $worse('type');
        return [new stdClass(), fn () => 1, new ArrayObject([1])][mt_rand(0, 2)];
    }
    return match (mt_rand(0, 5)) {
        0 => $int(),
        1 => $float(),
        2 => mt_rand(0, 1) === 1,
        3 => null,
        default => $str(),
    };
};
$depthOf = function ($v) use (&$depthOf): int {
    if (!is_array($v)) {
        return 0;
    }
    $m = 0;
    foreach ($v as $x) {
        $m = max($m, $depthOf($x));
    }
    return 1 + $m;
};
$same = function ($a, $b) use (&$same): bool {
    if (is_float($a)) {
        return is_float($b) && pack('E', $a) === pack('E', $b);
    }
    if (is_array($a)) {
        if (!is_array($b) || array_keys($a) !== array_keys($b)) {
            return false;
        }
        foreach ($a as $k => $x) {
            if (!$same($x, $b[$k])) {
                return false;
            }
        }
        return true;
    }
    return $a === $b;
};

/**
 * What the model expects of a registration: null (accepted), or the refusals it deserves ('type' for an object or
 * resource, 'value' for invalid UTF-8, INF/NAN, too deep); with both, the first one met may be reported.
 */
$classify = function ($v, int $depth = 1) use (&$classify): ?string {
    $found = [];
    if ($depth > 64) {
        $found['value'] = true;
    }
    foreach ($v as $k => $x) {
        if (is_string($k) && !mb_check_encoding($k, 'UTF-8')) {
            $found['value'] = true;
        }
        if (is_array($x)) {
            foreach (explode('|', (string) $classify($x, $depth + 1)) as $r) {
                if ($r !== '') {
                    $found[$r] = true;
                }
            }
        } elseif (is_object($x) || is_resource($x)) {
            $found['type'] = true;
        } elseif (is_float($x) && !is_finite($x) || is_string($x) && !mb_check_encoding($x, 'UTF-8')) {
            $found['value'] = true;
        }
    }
    ksort($found);
    return $found === [] ? null : implode('|', array_keys($found));
};
$expected = [];
$tally = ['accepted' => 0, 'refused ValueError' => 0, 'refused TypeError' => 0, 'deep' => 0];
for ($n = 0; $n < $count; $n++) {
    $bad = null;
    $reg = [];
    for ($i = mt_rand(0, 8); $i > 0; $i--) {
        $reg[$key()] = $value(2);
    }
    if (mt_rand(0, 19) === 0) { // a chain around the depth limit
        $levels = mt_rand(58, 68);
        $reg['deep'] = $chain($levels - 1);
        $tally['deep']++;
    }
    $bad = $classify($reg);
    $ukey = null;
    $ur = mt_rand(0, 9);
    if ($ur === 0) {
        $ukey = "k$n-" . $str();
        if (strlen($ukey) > 1024 || !mb_check_encoding($ukey, 'UTF-8')) { // the extension refuses a key that is not UTF-8
            $bad ??= 'value';
        }
    } elseif ($ur === 1) {
        $ukey = mt_rand(0, 1) ? '' : str_repeat('k', 1025);
        $bad ??= 'value';
    }
    $event = mt_rand(1, 5);
    $before = reg_buffer_stats();
    try {
        $id = reg_buffer_push($event, $reg, $ukey);
        if ($bad !== null) {
            $fail("#$n accepted but the model expected a {$bad} error; unique key " . var_export($ukey === null ? null : substr($ukey, 0, 40), true) . ' (' . strlen((string) $ukey) . ' bytes); ' . substr(var_export($reg, true), 0, 300));
        }
        if (!is_string($id) || strlen($id) !== 26) {
            $fail("#$n push returned " . var_export($id, true));
            continue;
        }
        $expected[$id] = [$event, $reg, $ukey];
        $tally['accepted']++;
    } catch (ValueError | TypeError $e) {
        $kind = $e instanceof TypeError ? 'type' : 'value';
        $tally[$kind === 'type' ? 'refused TypeError' : 'refused ValueError']++;
        if ($bad !== null && !in_array($kind, explode('|', $bad), true)) {
            $fail("#$n refused with {$kind} error ({$e->getMessage()}) but the model expected {$bad}; unique key " . strlen((string) $ukey) . ' bytes; ' . substr(var_export($reg, true), 0, 300));
        }
        if ($bad === null) {
            $fail("#$n refused ({$e->getMessage()}) but the model expected it accepted: " . substr(var_export($reg, true), 0, 300));
        }
        $after = reg_buffer_stats();
        if ($after['pushed'] !== $before['pushed'] || $after['pending'] !== $before['pending']) {
            $fail("#$n refused but something was written");
        }
    } catch (Throwable $e) {
        $fail("#$n threw " . get_class($e) . ': ' . $e->getMessage());
    }
}

// ---- fixed hostile cases
$fixed = 0;
$expectError = function (string $what, callable $call, string $class) use (&$fixed, $fail) {
    $fixed++;
    $before = reg_buffer_stats()['pushed'];
    try {
        $call();
        $fail("$what: accepted");
    } catch (Throwable $e) {
        if (!$e instanceof $class) {
            $fail("$what: " . get_class($e) . " instead of $class: " . $e->getMessage());
        }
    }
    if (reg_buffer_stats()['pushed'] !== $before) {
        $fail("$what: something was written");
    }
};
$rec = ['a' => 1];
$rec['self'] = &$rec;
$expectError('recursive array by reference', fn () => reg_buffer_push(1, $rec), ValueError::class);
$expectError('payload over max_payload_bytes', fn () => reg_buffer_push(1, ['x' => str_repeat('a', 9 << 20)]), ValueError::class);
$expectError('event id 0', fn () => reg_buffer_push(0, ['x' => 1]), ValueError::class);
$expectError('event id PHP_INT_MIN', fn () => reg_buffer_push(PHP_INT_MIN, ['x' => 1]), ValueError::class);
$expectError('invalid UTF-8 key', fn () => reg_buffer_push(1, ["k\xff" => 1]), ValueError::class);
$expectError('resource', fn () => reg_buffer_push(1, ['f' => STDERR]), TypeError::class);
$expectError('object deep inside', fn () => reg_buffer_push(1, ['a' => [[['o' => new DateTime()]]]]), TypeError::class);
$expectError('flush limit 0', fn () => reg_buffer_flush(0), ValueError::class);
$expectError('flush limit 10001', fn () => reg_buffer_flush(10001), ValueError::class);
$expectError('flush lease over a year', fn () => reg_buffer_flush(1, 400 * 86400), ValueError::class);
$expectError('range NAN', fn () => reg_buffer_range(1, NAN, 1.0), ValueError::class);
$big = [];
for ($i = 0; $i < 100_000; $i++) {
    $big["key-$i"] = $i;
}
$bigId = reg_buffer_push(1, $big);
$expected[$bigId] = [1, $big, null];
$tally['accepted']++;

// ---- everything accepted comes back identical, and its JSON is stored in MariaDB byte for byte
create_table('s6_regs');
$db = db();
$stored = [];
$got = 0;
for ($round = 0; $round < 1000; $round++) {
    $b = reg_buffer_flush(500, 60);
    if ($b['rows'] === []) {
        break;
    }
    foreach ($b['rows'] as $row) {
        if (!isset($expected[$row['id']])) {
            $fail("flush returned an unknown id {$row['id']}");
            continue;
        }
        [$event, $reg, $ukey] = $expected[$row['id']];
        if (!$same($reg, $row['data'])) {
            $fail("{$row['id']}: data changed: sent " . substr(var_export($reg, true), 0, 200) . ' got ' . substr(var_export($row['data'], true), 0, 200));
        }
        if ($row['event_id'] !== $event || $row['unique_key'] !== $ukey) {
            $fail("{$row['id']}: event or unique key changed");
        }
        if (!is_array(json_decode($row['json'], true))) {
            $fail("{$row['id']}: json is not JSON: " . json_last_error_msg());
        }
        store_rows($db, 's6_regs', [$row], 'flush'); // one row a statement: huge strings stay under max_allowed_packet
        $stored[$row['id']] = md5($row['json']);
        unset($expected[$row['id']]);
        $got++;
    }
    reg_buffer_ack($b['batch']);
}
$lost = count($expected);
$res = $db->query('SELECT registration_id, data FROM s6_regs');
$inDb = 0;
while ($r = $res->fetch_row()) {
    $inDb++;
    if (($stored[$r[0]] ?? null) !== md5($r[1])) {
        $fail("{$r[0]}: MariaDB holds other bytes than the flush's json");
    }
}
if ($inDb !== count($stored)) {
    $fail("MariaDB holds $inDb rows, the flush gave " . count($stored));
}
$checks = ['no failure' => $failures === [], 'nothing lost' => $lost === 0];
result('hostile input: seeded fuzzer + fixed bad inputs', $count + $fixed, ['accepted' => $tally['accepted'], 'stored' => $got, 'lost' => $lost, 'doubled' => 0],
    $checks, ['seed' => $seed, 'tally' => $tally + ['huge strings generated' => $huge], 'deepest accepted' => $maxDepth, 'failures' => $failures]);
