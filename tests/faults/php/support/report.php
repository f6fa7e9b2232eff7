<?php
// Prints the summary table from the RESULT lines in FILE; exit 1 when any scenario failed or lost/doubled.
$rows = [];
foreach (file($argv[1], FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
    $r = json_decode($line, true);
    $rows[] = is_array($r) ? $r : ['class' => 'unreadable result line', 'faults' => 0, 'accepted' => 0, 'stored' => 0, 'lost' => 0,
        'doubled' => 0, 'ok' => false, 'failed' => [json_last_error_msg()], 'notes' => [substr($line, 0, 200)]];
}
$w = max(array_map(fn ($r) => mb_strlen($r['class']), $rows) + [10]);
$fmt = "%-{$w}s %8s %10s %10s %6s %8s  %s\n";
printf($fmt, 'fault class', 'faults', 'accepted', 'stored', 'lost', 'doubled', 'result');
echo str_repeat('-', $w + 56), "\n";
$pass = 0;
$fail = 0;
foreach ($rows as $r) {
    $ok = $r['ok'] && $r['lost'] === 0 && $r['doubled'] === 0;
    $ok ? $pass++ : $fail++;
    printf($fmt, $r['class'] . str_repeat(' ', $w - mb_strlen($r['class'])), $r['faults'], $r['accepted'], $r['stored'], $r['lost'], $r['doubled'],
        $ok ? 'PASS' : 'FAIL: ' . implode('; ', $r['failed']));
}
echo "\n";
foreach ($rows as $r) {
    echo '* ', $r['class'], ': ', json_encode($r['notes'], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}
if ($rows === []) {
    $fail++;
    echo "no scenario reported a result\n";
}
echo "\nfaults: $pass passed, $fail failed\n";
exit($fail > 0 ? 1 : 0);
