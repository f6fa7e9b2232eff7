<?php
// Fault class 3: MariaDB trouble during the flush, each provoked from another connection:
//  - lock-wait timeout: a transaction holds SELECT ... FOR UPDATE over the whole table (next-key locks up to the
//    supremum), the flusher's INSERT waits innodb_lock_wait_timeout = 1 s and gets 1205;
//  - deadlock: a heavier transaction inserts (uncommitted) the ids of the next batch but its first, the flusher's
//    INSERT takes the first and waits on the second, then the transaction inserts the first: InnoDB picks the
//    lighter flusher as the victim (1213);
//  - connection killed (KILL <thread>) while the INSERT waits inside the transaction (2013/2006/1927).
// The failing batch is rolled back and not acked; it comes back after its lease. Nothing lost or doubled.
declare(strict_types=1);
require __DIR__ . '/support/lib.php';

$seed = fseed();
$rounds = short_mode() ? 2 : 6;
$tmp = fenv('FAULTS_TMP') . '/s3';
@mkdir($tmp, 0700, true);
$redis = new FRedis('s3', ['--appendonly', 'no']);
$prefix = 'faults3:';
$table = 's3_regs';
create_table($table);
$env = ['FAULTS_URL' => $redis->url(), 'FAULTS_PREFIX' => $prefix, 'FAULTS_LOCK_WAIT' => '1'];
putenv('FAULTS_URL=' . $redis->url());
putenv('FAULTS_PREFIX=' . $prefix);
use_buffer($redis->url(), $prefix);
register_shutdown_function(fn () => $redis->stop());
$ledger = "$tmp/ledger.0";
$seq = 0;
$push = function (int $n) use ($ledger, &$seq) {
    for ($i = 0; $i < $n; $i++, $seq++) {
        $ref = "s3-$seq";
        $id = reg_buffer_push(1, ['ref' => $ref, 'n' => $seq, 'text' => "l'été \"quoted\" \\ ; DROP TABLE x; --"]);
        ledger_add($ledger, 'ok', $id, $ref);
    }
};
$b = db();
$waitingInsert = function () use ($b, $table): ?int {
    for ($i = 0; $i < 500; $i++) {
        $r = $b->query("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT IGNORE INTO `$table`%' AND ID <> CONNECTION_ID()");
        $row = $r->fetch_row();
        if ($row) {
            return (int) $row[0];
        }
        usleep(10_000);
    }
    return null;
};
$errors = [];
$faults = ['lock-wait timeout' => 0, 'deadlock (flusher victim)' => 0, 'deadlock (other victim)' => 0, 'connection killed' => 0];
$flushers = [];
for ($r = 0; $r < $rounds; $r++) {
    // lock-wait timeout
    $push(300);
    $b->begin_transaction();
    $b->query("SELECT registration_id FROM `$table` FOR UPDATE");
    $f = spawn(__DIR__ . '/support/flusher.php', [$table, 2, 100, 'loop', $tmp, 20], $env);
    if ($waitingInsert() !== null) {
        usleep(2_500_000); // longer than the 1 s lock wait: at least one 1205
        $faults['lock-wait timeout']++;
    }
    $b->commit();
    $flushers[] = $f;

    // deadlock
    foreach ($flushers as $f) {
        wait_proc($f, 1200);
    }
    $flushers = [];
    drain($table, 500, 2);
    $push(300);
    $pending = reg_buffer_range(1, 0, INF, 100);
    $ids = array_column($pending, 'id');
    $b->query('SET SESSION innodb_lock_wait_timeout = 20');
    $b->begin_transaction();
    $ballast = [];
    foreach (array_slice($ids, 1) as $id) {
        $ballast[] = "('" . $b->real_escape_string($id) . "','blocker',1,'{}','blocker')";
    }
    $b->query("INSERT INTO `$table` (registration_id, ref, event_id, data, via) VALUES " . implode(',', $ballast));
    $f = spawn(__DIR__ . '/support/flusher.php', [$table, 2, 100, 'loop', $tmp, 20], $env + ['FAULTS_LOCK_WAIT' => '20']);
    if ($waitingInsert() !== null) {
        try {
            $b->query("INSERT INTO `$table` (registration_id, ref, event_id, data, via) VALUES ('" . $b->real_escape_string($ids[0]) . "','blocker',1,'{}','blocker')");
            $faults['deadlock (flusher victim)']++; // went through: the flusher was rolled back
        } catch (mysqli_sql_exception $e) {
            $e->getCode() === 1213 ? $faults['deadlock (other victim)']++ : $errors[] = 'blocker: ' . $e->getMessage();
        }
    } else {
        $errors[] = 'deadlock: the flusher never showed its INSERT';
    }
    $b->rollback();
    $flushers[] = $f;

    // connection killed while the INSERT waits
    foreach ($flushers as $f) {
        wait_proc($f, 1200);
    }
    $flushers = [];
    $push(300);
    $b->begin_transaction();
    $b->query("SELECT registration_id FROM `$table` FOR UPDATE");
    $f = spawn(__DIR__ . '/support/flusher.php', [$table, 2, 100, 'loop', $tmp, 20], $env + ['FAULTS_LOCK_WAIT' => '20']);
    $thread = $waitingInsert();
    if ($thread !== null) {
        $b->query("KILL $thread");
        $faults['connection killed']++;
    }
    $b->commit();
    $flushers[] = $f;
    foreach ($flushers as $f) {
        wait_proc($f, 1200);
    }
    $flushers = [];
}
$drain = drain($table, 500, 2);
$flusherErrors = [];
foreach (glob("$tmp/stats.*") as $file) {
    foreach (json_decode(file_get_contents($file), true)['errors'] as $k => $n) {
        $flusherErrors[$k] = ($flusherErrors[$k] ?? 0) + $n;
    }
}
$v = verify($table, [$ledger]);
$blockers = (int) $b->query("SELECT COUNT(*) FROM `$table` WHERE ref = 'blocker'")->fetch_row()[0];
$checks = [
    'drain emptied the buffer' => $drain['empty'],
    'nothing lost' => $v['lost'] === 0,
    'nothing doubled' => $v['doubled'] === 0,
    'no row without a ledger entry' => $v['extra'] === 0,
    'no blocker row left' => $blockers === 0,
    'every fault provoked' => $faults['lock-wait timeout'] === $rounds && $faults['connection killed'] === $rounds
        && $faults['deadlock (flusher victim)'] + $faults['deadlock (other victim)'] === $rounds,
    'flushers saw 1205' => ($flusherErrors['mysql 1205'] ?? 0) > 0,
    'flushers saw 1213' => $faults['deadlock (flusher victim)'] === 0 || ($flusherErrors['mysql 1213'] ?? 0) > 0,
    'no harness errors' => $errors === [],
];
result('MariaDB lock-wait timeout / deadlock / connection KILL mid-flush', array_sum($faults), $v, $checks,
    ['seed' => $seed, 'faults' => $faults, 'flusher errors' => $flusherErrors, 'harness errors' => $errors, 'redelivered' => reg_buffer_stats()['redelivered']]);
