<?php
// Through the plugin: unique keys that Redis and the registrations table compare differently (trailing spaces
// under the PAD SPACE utf8mb4_bin collation, invalid UTF-8, NUL, case). Every registration the plugin answered
// "buffered"/"stored" must be in the table after a flush; otherwise the plugin must refuse it up front.
// Runs on the WordPress site run.sh set up for plugin_flusher_killed (wp_unique_keys.php does the WordPress part).
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$out = [];
exec(implode(' ', array_map('escapeshellarg', array_merge([PHP_BINARY], ini_args(), [__DIR__ . '/support/wp_unique_keys.php']))) . ' 2>/dev/null', $out, $rc);
$r = json_decode((string) end($out), true);
$checks = ['the WordPress script ran' => $rc === 0 && is_array($r)];
$accepted = 0;
$stored = 0;
$lostCases = [];
foreach (is_array($r) ? $r : [] as $case => $c) {
    if ($case[0] === '_' || !in_array($c['outcome'], ['buffered', 'stored'], true)) {
        continue;
    }
    $accepted++;
    if ($c['rows'] === 1) {
        $stored++;
    } else {
        $lostCases[] = "$case ({$c['outcome']}, {$c['rows']} rows)";
    }
}
foreach ($lostCases as $case) {
    $checks["accepted and stored: $case"] = false;
}
result('plugin: unique keys Redis and the table compare differently', count($r ?? []) - 1, ['accepted' => $accepted, 'stored' => $stored,
    'lost' => $accepted - $stored, 'doubled' => 0], $checks, ['seed' => $seed, 'cases' => $r]);
