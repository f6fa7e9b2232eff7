<?php
// A faithful flusher: reg_buffer_flush -> one multi-row INSERT IGNORE in a transaction -> COMMIT -> reg_buffer_ack.
// Args: table lease limit mode marker_dir [max_batches]
//   mode = loop               flush until max_batches stored or the buffer is empty (tolerates errors)
//   mode = run:STOP_FILE      flush until STOP_FILE exists and Redis has nothing pending or in flight
//   mode = pause:STAGE        at STAGE write MARKER_DIR/STAGE, wait (bounded) for MARKER_DIR/go, go on
//   mode = stop:STAGE         at STAGE (before_claim, after_claim, before_insert, after_commit) write
//                             MARKER_DIR/STAGE and hold still there (the harness SIGKILLs it); before_insert
//                             writes the marker and then sends the INSERT (which the harness keeps blocked).
// Writes MARKER_DIR/stats.<pid> (claimed inserted acked errors) at a normal end.
declare(strict_types=1);
require __DIR__ . '/lib.php';

[, $table, $lease, $limit, $mode, $markers] = $argv;
$max = (int) ($argv[6] ?? 1000);
use_buffer(fenv('FAULTS_URL'), fenv('FAULTS_PREFIX'), ['retry_interval_ms' => 100]);
$stopAt = str_starts_with($mode, 'stop:') ? substr($mode, 5) : null;
$pauseAt = str_starts_with($mode, 'pause:') ? substr($mode, 6) : null;
$runUntil = str_starts_with($mode, 'run:') ? substr($mode, 4) : null;
$db = db();
$db->query('SET SESSION innodb_lock_wait_timeout = ' . (int) fenv('FAULTS_LOCK_WAIT', '50'));
$hold = function (string $stage) use ($stopAt, $pauseAt, $markers) {
    if ($stage === $pauseAt) {
        file_put_contents("$markers/$stage", (string) getmypid());
        wait_file("$markers/go", 300);
    }
    if ($stage === $stopAt) {
        file_put_contents("$markers/$stage", (string) getmypid());
        if ($stage !== 'before_insert') {
            sleep(60); // killed here
            exit(3);
        }
    }
};
$c = ['claimed' => 0, 'inserted' => 0, 'acked' => 0, 'errors' => [], 'batches' => 0, 'ids' => []];
$idle = 0;
for ($n = 0; $n < $max; $n++) {
    try {
        $hold('before_claim');
        $b = reg_buffer_flush((int) $limit, (int) $lease);
        if ($b['rows'] === []) {
            if ($runUntil !== null) {
                if (is_file($runUntil)) {
                    $s = reg_buffer_stats();
                    if ($s['pending'] === 0 && $s['in_flight'] === 0) {
                        break;
                    }
                }
                usleep(20_000);
                continue;
            }
            if (($stopAt !== null || $pauseAt !== null) && ++$idle < 1500) {
                usleep(20_000);
                $n--; // an empty claim is not a batch
                continue;
            }
            break;
        }
        $hold('after_claim');
        $c['claimed'] += count($b['rows']);
        if (getenv('FAULTS_RECORD_IDS')) {
            foreach ($b['rows'] as $row) {
                $c['ids'][] = $row['id'];
            }
        }
        $c['inserted'] += store_rows($db, $table, $b['rows'], 'flush', $hold);
        $c['acked'] += reg_buffer_ack($b['batch']);
        $c['batches']++;
    } catch (Throwable $e) {
        $code = $e instanceof mysqli_sql_exception ? 'mysql ' . $e->getCode() : get_class($e) . ': ' . preg_replace('/\d+/', 'N', substr($e->getMessage(), 0, 80));
        $c['errors'][$code] = ($c['errors'][$code] ?? 0) + 1;
        if ($e instanceof mysqli_sql_exception) {
            try {
                $db->close();
            } catch (Throwable $ignored) {
            }
            $db = db();
            $db->query('SET SESSION innodb_lock_wait_timeout = ' . (int) fenv('FAULTS_LOCK_WAIT', '50'));
        }
        usleep(50_000);
    }
}
$c['peak_memory'] = memory_get_peak_usage();
$c['memory_limit'] = ini_get('memory_limit');
file_put_contents("$markers/stats." . getmypid(), json_encode($c));
