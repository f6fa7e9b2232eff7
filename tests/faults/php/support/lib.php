<?php
// Shared by the fault scenarios: a private redis-server (kill -9 / restart on the same port), a throw-away
// MariaDB table, a faithful flusher (claim -> one multi-row INSERT IGNORE keyed by registration id in one
// transaction -> COMMIT -> ack), a ledger of what was accepted, and the verifier (lost / doubled / strays).
declare(strict_types=1);

if (!extension_loaded('reg_buffer')) {
    fwrite(STDERR, "reg_buffer is not loaded\n");
    exit(2);
}
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

function fenv(string $name, ?string $default = null): string
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        if ($default !== null) {
            return $default;
        }
        fwrite(STDERR, "$name is not set\n");
        exit(2);
    }
    return $v;
}

function flog(string $msg): void
{
    fwrite(STDERR, '  [' . basename($_SERVER['SCRIPT_NAME'] ?? '?', '.php') . '] ' . $msg . "\n");
}

/** Seeded randomness for the harness itself (kill points, sleeps): reproducible with FAULTS_SEED. */
function fseed(): int
{
    static $seed = null;
    if ($seed === null) {
        $seed = (int) fenv('FAULTS_SEED', (string) random_int(1, 1 << 30));
        mt_srand($seed);
    }
    return $seed;
}

function short_mode(): bool
{
    return fenv('FAULTS_MODE', 'short') !== 'soak';
}

// ------------------------------------------------------------------------------------------------------ Redis

final class FRedis
{
    public int $port;
    public string $dir;
    /** @var list<string> */
    private array $args;
    public int $kills = 0;

    /** $args: extra redis-server options, e.g. ['--appendonly', 'yes', '--appendfsync', 'always']. */
    public function __construct(string $name, array $args = [])
    {
        $this->dir = fenv('FAULTS_TMP') . '/redis-' . $name . '-' . getmypid();
        @mkdir($this->dir, 0700, true);
        $this->args = $args;
        for ($attempt = 1; ; $attempt++) {
            $this->port = self::freePort();
            if ($this->launch()) {
                return;
            }
            if ($attempt >= 5) {
                throw new RuntimeException("redis-server did not start: " . @file_get_contents("$this->dir/redis.log"));
            }
        }
    }

    /** A server someone else started (tests/lib/stack.sh: DIR/redis.pid, DIR/redis.log), to kill and restart. */
    public static function adopt(string $dir, int $port, array $args = []): self
    {
        $r = (new ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $r->dir = $dir;
        $r->port = $port;
        $r->args = $args;
        return $r;
    }

    /** Restarts with other options (e.g. without persistence); the server must be down. */
    public function restartWith(array $args): void
    {
        $this->args = $args;
        $this->restart();
    }

    public static function freePort(): int
    {
        $s = stream_socket_server('tcp://127.0.0.1:0');
        $n = stream_socket_get_name($s, false);
        fclose($s);
        return (int) substr($n, strrpos($n, ':') + 1);
    }

    public function url(): string
    {
        return "redis://127.0.0.1:{$this->port}";
    }

    private function launch(): bool
    {
        $cmd = array_merge(
            ['redis-server', '--bind', '127.0.0.1', '--port', (string) $this->port, '--dir', $this->dir,
             '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'yes',
             '--pidfile', "$this->dir/redis.pid", '--logfile', "$this->dir/redis.log"],
            $this->args
        );
        @unlink("$this->dir/redis.pid");
        exec(implode(' ', array_map('escapeshellarg', $cmd)) . ' 2>&1', $out, $rc);
        if ($rc !== 0) {
            return false;
        }
        // PONG (not LOADING) within a bounded number of tries.
        for ($i = 0; $i < 300; $i++) {
            try {
                $r = $this->client();
                if ($r->ping() === true || $r->ping() === '+PONG') {
                    $r->close();
                    return true;
                }
            } catch (Throwable $e) {
            }
            usleep(20_000);
        }
        return false;
    }

    public function pid(): int
    {
        for ($i = 0; $i < 100 && !is_file("$this->dir/redis.pid"); $i++) {
            usleep(10_000);
        }
        return (int) @file_get_contents("$this->dir/redis.pid");
    }

    public function client(): Redis
    {
        $r = new Redis();
        $r->connect('127.0.0.1', $this->port, 2.0);
        $r->setOption(Redis::OPT_READ_TIMEOUT, 10.0);
        return $r;
    }

    public function kill9(): void
    {
        $pid = $this->pid();
        if ($pid > 0) {
            posix_kill($pid, SIGKILL);
            for ($i = 0; $i < 500 && posix_kill($pid, 0); $i++) {
                usleep(10_000);
            }
        }
        @unlink("$this->dir/redis.pid");
        $this->kills++;
    }

    public function restart(): void
    {
        for ($attempt = 0; $attempt < 50; $attempt++) {
            if ($this->launch()) {
                return;
            }
            usleep(100_000); // the port may still be in TIME_WAIT-like limbo for a moment
        }
        throw new RuntimeException("redis-server did not restart on $this->port");
    }

    public function stop(): void
    {
        $pid = $this->pid();
        if ($pid > 0) {
            posix_kill($pid, SIGKILL);
        }
        @unlink("$this->dir/redis.pid");
    }
}

/** Points this process's extension at a server and prefix. */
function use_buffer(string $url, string $prefix, array $ini = []): void
{
    ini_set('reg_buffer.redis_url', $url);
    ini_set('reg_buffer.key_prefix', $prefix);
    foreach ($ini as $k => $v) {
        ini_set("reg_buffer.$k", (string) $v);
    }
}

// ---------------------------------------------------------------------------------------------------- MariaDB

function db(): mysqli
{
    $db = new mysqli('localhost', 'root', '', fenv('FAULTS_DB'));
    $db->set_charset('utf8mb4');
    return $db;
}

/** A fresh registrations table: keyed by the registration id, like the plugin's (UNIQUE registration_id). */
function create_table(string $table): void
{
    $db = db();
    $db->query("DROP TABLE IF EXISTS `$table`");
    $db->query("CREATE TABLE `$table` (
        pk BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        registration_id VARCHAR(40) NOT NULL,
        ref VARCHAR(100) NOT NULL,
        event_id BIGINT UNSIGNED NOT NULL,
        unique_key VARCHAR(191) NULL,
        data LONGTEXT NOT NULL,
        via VARCHAR(10) NOT NULL,
        UNIQUE KEY registration_id (registration_id),
        KEY ref (ref)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
    $db->close();
}

const FJSON = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

/**
 * Stores rows in one transaction with one multi-row INSERT IGNORE; returns rows newly inserted.
 * $hook(string $stage) is called at 'before_insert' and 'after_commit'. Throws mysqli_sql_exception (after ROLLBACK).
 */
function store_rows(mysqli $db, string $table, array $rows, string $via, ?callable $hook = null): int
{
    $values = [];
    foreach ($rows as $row) {
        $ref = (string) ($row['data']['ref'] ?? 'no-ref');
        $values[] = sprintf(
            "('%s','%s',%d,%s,'%s','%s')",
            $db->real_escape_string($row['id']),
            $db->real_escape_string($ref),
            (int) $row['event_id'],
            $row['unique_key'] === null ? 'NULL' : "'" . $db->real_escape_string($row['unique_key']) . "'",
            $db->real_escape_string($row['json'] ?? json_encode($row['data'], FJSON)),
            $via
        );
    }
    $db->begin_transaction();
    try {
        if ($hook) {
            $hook('before_insert');
        }
        $db->query("INSERT IGNORE INTO `$table` (registration_id, ref, event_id, unique_key, data, via) VALUES " . implode(',', $values));
        $n = $db->affected_rows;
        $db->commit();
    } catch (Throwable $e) {
        try {
            $db->rollback();
        } catch (Throwable $ignored) {
        }
        throw $e;
    }
    if ($hook) {
        $hook('after_commit');
    }
    return $n;
}

/** The pusher's fallback: store one registration directly, keyed by the id the failed push tried. */
function store_direct(string $table, string $id, int $event, array $data, ?string $ukey): int
{
    static $db = null;
    for ($attempt = 0; ; $attempt++) {
        try {
            $db ??= db();
            return store_rows($db, $table, [['id' => $id, 'event_id' => $event, 'unique_key' => $ukey, 'data' => $data]], 'direct');
        } catch (mysqli_sql_exception $e) {
            $db = null;
            if ($attempt >= 20) {
                throw $e;
            }
            usleep(50_000);
        }
    }
}

/**
 * One flusher pass until Redis has nothing pending and nothing in flight (bounded by $maxRounds).
 * Returns counters. Tolerates Redis/MySQL errors (the batch stays un-acked and comes back after its lease).
 */
function drain(string $table, int $limit = 500, int $lease = 2, int $maxRounds = 4000): array
{
    $db = db();
    $c = ['claimed' => 0, 'inserted' => 0, 'acked' => 0, 'errors' => 0, 'rounds' => 0];
    for ($round = 0; $round < $maxRounds; $round++) {
        $c['rounds']++;
        try {
            $b = reg_buffer_flush($limit, $lease);
            if ($b['rows'] === []) {
                $s = reg_buffer_stats();
                if ($s['pending'] === 0 && $s['in_flight'] === 0) {
                    return $c + ['empty' => true];
                }
                usleep(100_000); // in-flight leases of killed flushers still running
                continue;
            }
            $c['claimed'] += count($b['rows']);
            $c['inserted'] += store_rows($db, $table, $b['rows'], 'flush');
            $c['acked'] += reg_buffer_ack($b['batch']);
        } catch (Throwable $e) {
            $c['errors']++;
            if ($e instanceof mysqli_sql_exception) {
                $db = db();
            }
            usleep(50_000);
        }
    }
    return $c + ['empty' => false];
}

// ----------------------------------------------------------------------------------------------------- ledger

/** Appends lines "<kind>\t<id>\t<ref>" (kind: ok = push returned the id, direct = stored by the fallback). */
function ledger_add(string $file, string $kind, string $id, string $ref): void
{
    file_put_contents($file, "$kind\t$id\t$ref\n", FILE_APPEND | LOCK_EX);
}

/**
 * Compares ledgers with a table. accepted = refs the callers were told are safe (push returned an id, or the
 * fallback stored them); stored = those found; lost = accepted but absent; doubled = refs with more than one row;
 * strays = rows no ledger knows (a push with an unknown outcome that landed in Redis is fine only if its ref is
 * known). $refPrefix: rows whose ref does not start with it are cross-talk.
 */
function verify(string $table, array $ledgers, string $refPrefix = '', ?string $select = null): array
{
    $accepted = [];
    $idOf = [];
    foreach ($ledgers as $file) {
        if (!is_file($file) || str_ends_with($file, '.summary')) {
            continue;
        }
        foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            $f = explode("\t", $line);
            if (count($f) !== 3) {
                throw new RuntimeException("bad ledger line in $file: $line");
            }
            [$kind, $id, $ref] = $f;
            $accepted[$ref] = true;
            $idOf[$id] = $ref;
        }
    }
    $db = db();
    $res = $db->query($select ?? "SELECT registration_id, ref FROM `$table`");
    $rowsPerRef = [];
    $mismatch = 0;
    $cross = 0;
    $total = 0;
    while ($r = $res->fetch_row()) {
        $total++;
        [$id, $ref] = $r;
        $rowsPerRef[$ref] = ($rowsPerRef[$ref] ?? 0) + 1;
        if (isset($idOf[$id]) && $idOf[$id] !== $ref) {
            $mismatch++;
        }
        if ($refPrefix !== '' && !str_starts_with($ref, $refPrefix)) {
            $cross++;
        }
    }
    $stored = 0;
    $lost = 0;
    foreach ($accepted as $ref => $_) {
        isset($rowsPerRef[$ref]) ? $stored++ : $lost++;
    }
    $doubled = 0;
    foreach ($rowsPerRef as $n) {
        if ($n > 1) {
            $doubled += $n - 1;
        }
    }
    return ['accepted' => count($accepted), 'stored' => $stored, 'lost' => $lost, 'doubled' => $doubled,
        'rows' => $total, 'extra' => $total - $stored - $doubled, 'id_mismatch' => $mismatch, 'cross_talk' => $cross];
}

// --------------------------------------------------------------------------------------------------- processes

/** Starts `php FILE ARGS` with the given extra environment; returns the proc handle. */
function spawn(string $file, array $args, array $env = [], ?string $stderr = null)
{
    $cmd = array_merge([PHP_BINARY], ini_args(), [$file], array_map('strval', $args));
    $spec = [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'],
        2 => $stderr ? ['file', $stderr, 'a'] : STDERR];
    $p = proc_open($cmd, $spec, $pipes, null, array_merge(getenv(), $env));
    if (!is_resource($p)) {
        throw new RuntimeException("cannot start $file");
    }
    return $p;
}

/** Passes -d options of this process on (e.g. -d extension=... when the suite runs a build not installed). */
function ini_args(): array
{
    $extra = getenv('FAULTS_PHP_ARGS');
    return $extra ? preg_split('/\s+/', trim($extra)) : [];
}

function proc_pid($p): int
{
    return proc_get_status($p)['pid'];
}

/** Waits (bounded) for a process to end; returns its exit code, or -1 if it had to be killed. */
function wait_proc($p, int $tenths = 600): int
{
    for ($i = 0; $i < $tenths; $i++) {
        $s = proc_get_status($p);
        if (!$s['running']) {
            proc_close($p);
            return $s['signaled'] ? 128 + $s['termsig'] : $s['exitcode'];
        }
        usleep(100_000);
    }
    posix_kill(proc_get_status($p)['pid'], SIGKILL);
    proc_close($p);
    return -1;
}

/** Waits (bounded) until FILE exists; true when it does. */
function wait_file(string $file, int $tenths = 300): bool
{
    for ($i = 0; $i < $tenths * 10; $i++) {
        clearstatcache(true, $file);
        if (is_file($file)) {
            return true;
        }
        usleep(10_000);
    }
    return false;
}

/** The scenario's one result line, read by run.sh. */
function result(string $class, int $faults, array $v, array $checks, array $notes = []): void
{
    $failed = array_keys(array_filter($checks, fn ($ok) => !$ok));
    $line = ['class' => $class, 'faults' => $faults, 'accepted' => $v['accepted'] ?? 0, 'stored' => $v['stored'] ?? 0,
        'lost' => $v['lost'] ?? 0, 'doubled' => $v['doubled'] ?? 0, 'ok' => $failed === [], 'failed' => $failed,
        'notes' => $notes];
    echo 'RESULT ' . json_encode($line, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR) . "\n";
}

/** Totals of the pushers' summaries (ok / direct, and the exceptions that sent them to the fallback). */
function pusher_summaries(string $glob): array
{
    $t = ['ok' => 0, 'direct' => 0, 'errors' => []];
    foreach (glob($glob) as $f) {
        foreach (file($f, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            $s = json_decode($line, true);
            $t['ok'] += $s['tally']['ok'];
            $t['direct'] += $s['tally']['direct'];
            foreach ($s['errors'] as $k => $n) {
                $t['errors'][$k] = ($t['errors'][$k] ?? 0) + $n;
            }
        }
    }
    return $t;
}
