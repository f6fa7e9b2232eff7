<?php
// Side experiment (not run by run.sh): pushes registrations of many shapes (and refused ones) and prints what each
// push answered and the JSON stored for it, so two builds of the extension can be diffed: the binding writes the
// JSON straight from the PHP array (src/php/convert.rs) and must write what serde_json wrote from the value.
// usage: php -d extension=A.so push_json_equiv.php REDIS_PORT TAG > a.txt; the same with B.so; diff a.txt b.txt
//        (a private redis-server: the buffer under the prefix eq<TAG>: is flushed, not acknowledged)
ini_set('reg_buffer.redis_url', 'redis://127.0.0.1:' . $argv[1]);
ini_set('reg_buffer.key_prefix', 'eq' . $argv[2] . ':');
$deep = []; $p = &$deep; for ($i = 0; $i < 63; $i++) { $p['d'] = []; $p = &$p['d']; } unset($p);
$tooDeep = [$deep];
$ref = 5; $withRef = ['r' => &$ref, 'l' => [1, &$ref]];
$holes = [0 => 'a', 1 => 'b', 2 => 'c']; unset($holes[1]);
$packedHole = [1, 2, 3]; unset($packedHole[2]);
$hashHoles = ['a' => 1, 'b' => 2, 'c' => 3, 7 => 'x']; unset($hashHoles['a'], $hashHoles['c']);
$firstHole = [1, 2, 3]; unset($firstHole[0]);
$big = []; for ($i = 0; $i < 300; $i++) $big[] = ['i' => $i, 's' => "v$i", 'f' => $i / 7];
$bigMap = []; for ($i = 0; $i < 300; $i++) $bigMap["k$i"] = $i; unset($bigMap['k5']);
$conv = [1, 2]; $conv['x'] = 3; unset($conv['x']);
$cases = [
  'hashholes' => $hashHoles, 'firsthole' => $firstHole, 'bigrows' => ['rows' => $big], 'bigmap' => $bigMap, 'converted' => $conv,
  'five' => ['email' => 'someone@example.com', 'name' => 'Ada Lovelace', 'ticket' => 'GA', 'qty' => 2, 'ip' => '203.0.113.7'],
  'empty' => [], 'list' => [1, 2, 3], 'nested' => ['a' => [], 'b' => [[]], 'c' => ['x' => ['y' => null]]],
  'listthenkey' => [0 => 'a', 1 => 'b', 'k' => 'c'], 'outoforder' => [1 => 'a', 0 => 'b'], 'startsat1' => [1 => 'x'],
  'neg' => [-1 => 'n', 5 => 'five'], 'bigint' => [PHP_INT_MAX => PHP_INT_MIN, 'm' => PHP_INT_MAX],
  'floats' => [0.1, -0.0, 1.0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 123456789.123456789, 2.5, -3.75e-5, 100.0],
  'bools' => [true, false, null], 'strings' => ["é", "😀", "\x00\x01\x1f\x7f", "\"\\/", "\u{2028}\u{2029}", "tab\tnl\ncr\r", "", "0", "07"],
  'keys' => ["é" => 1, "a\"b" => 2, "\x00" => 3, "" => 4, "07" => 5, "-0" => 6, "1.0" => 7, " 1" => 8, "+1" => 9, "9223372036854775808" => 10],
  'deep64' => $deep, 'holes' => $holes, 'packedhole' => $packedHole, 'refs' => $withRef,
  'mixed' => ['a' => 1, 0 => 'zero', 'b' => [1 => 1, 2 => 2], 3 => [true]],
  'inf' => ['x' => INF], 'nan' => [NAN], 'obj' => ['o' => new stdClass], 'badutf' => ['s' => "\xff"], 'badkey' => ["\xff" => 1],
  'toodeep' => $tooDeep, 'closure' => ['f' => fn() => 1], 'resource' => ['r' => STDIN], 'badnested' => ['a' => ['b' => [1, "\xc3"]]],
  'big' => ['s' => str_repeat('x', 70000)],
];
foreach ($cases as $name => $reg) {
  try { $id = reg_buffer_push(1, $reg); $out = 'ok'; }
  catch (Throwable $e) { $out = get_class($e) . ': ' . $e->getMessage(); }
  echo "$name: $out\n";
}
$rows = reg_buffer_flush(1000)['rows'];
foreach ($rows as $r) echo $r['json'], "\n";
