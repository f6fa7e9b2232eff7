<?php
// A flusher that survives its database going away: it reconnects (bounded waits) and leaves a failed batch
// un-acked (it comes back after its lease). Args: table lease limit stop_file out_file.
// The database is whatever mysqli.default_socket + FAULTS_DB point at (mariadb_down: a private mariadbd).
declare(strict_types=1);
require __DIR__ . '/lib.php';

[, $table, $lease, $limit, $stop, $outFile] = $argv;
ini_set('mysqli.default_socket', fenv('FAULTS_MYSQL_SOCKET'));
use_buffer(fenv('FAULTS_URL'), fenv('FAULTS_PREFIX'));
$db = null;
$c = ['claimed' => 0, 'inserted' => 0, 'acked' => 0, 'errors' => []];
for ($n = 0; $n < 200000; $n++) {
    try {
        $db ??= db();
        $b = reg_buffer_flush((int) $limit, (int) $lease);
        if ($b['rows'] === []) {
            if (is_file($stop)) {
                $s = reg_buffer_stats();
                if ($s['pending'] === 0 && $s['in_flight'] === 0) {
                    break;
                }
            }
            usleep(50_000);
            continue;
        }
        $c['claimed'] += count($b['rows']);
        $c['inserted'] += store_rows($db, $table, $b['rows'], 'flush');
        $c['acked'] += reg_buffer_ack($b['batch']);
    } catch (Throwable $e) {
        $k = $e instanceof mysqli_sql_exception ? 'mysql ' . $e->getCode() : get_class($e);
        $c['errors'][$k] = ($c['errors'][$k] ?? 0) + 1;
        $db = null;
        usleep(100_000);
    }
}
file_put_contents($outFile, json_encode($c));
