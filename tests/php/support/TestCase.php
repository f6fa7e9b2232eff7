<?php
// Base of every test: fresh settings, a unique key prefix, an empty private Redis, and shared helpers.
// The suite's Redis is one server or a cluster (REG_BUFFER_TEST_TOPOLOGY): a test in @group single-node (it reads
// keys by name, kills the server, uses databases…) runs only against one server, one in @group cluster only
// against the cluster.
declare(strict_types=1);

namespace RegBuffer\Tests\Support;

use RegBuffer\ConnectionException;

abstract class TestCase extends \PHPUnit\Framework\TestCase
{
    public const SETTINGS = [
        'reg_buffer.redis_url', 'reg_buffer.key_prefix', 'reg_buffer.connect_timeout_ms', 'reg_buffer.timeout_ms',
        'reg_buffer.max_pending', 'reg_buffer.max_payload_bytes', 'reg_buffer.dedupe_ttl', 'reg_buffer.retry_interval_ms',
        'reg_buffer.durability', 'reg_buffer.tls_ca_file', 'reg_buffer.tls_cert_file', 'reg_buffer.tls_key_file',
    ];

    /** @var list<RedisServer> servers started by single tests, stopped at the end of the run */
    private static array $extraServers = [];

    protected string $prefix;

    /** The Redis the extension is pointed at (useServer()): the suite's, unless the test chose one of its own. */
    protected Topology $topology;

    /** The suite's Redis: a RedisServer, or a RedisCluster when isCluster() (single-node tests may use RedisServer's methods). */
    public static function redis(): Topology
    {
        return $GLOBALS['reg_buffer_test_redis'];
    }

    public static function isCluster(): bool
    {
        return self::redis() instanceof RedisCluster;
    }

    /** A server of the test's own (for kill/stall/breaker tests), stopped when the run ends. */
    public static function extraServer(bool $persistent = false): RedisServer
    {
        return self::$extraServers[] = RedisServer::start($persistent);
    }

    public static function stopExtraServers(): void
    {
        foreach (self::$extraServers as $server) {
            $server->stop();
        }
        self::$extraServers = [];
    }

    protected function setUp(): void
    {
        // phpunit.xml and phpunit-cluster.xml exclude these groups already; this covers a run with other options.
        $groups = method_exists($this, 'groups') ? $this->groups() : $this->getGroups(); // PHPUnit 10+: groups()
        if (self::isCluster() && in_array('single-node', $groups, true)) {
            self::markTestSkipped('single-node only: the suite runs against a cluster');
        }
        if (!self::isCluster() && in_array('cluster', $groups, true)) {
            self::markTestSkipped('cluster only: run with REG_BUFFER_TEST_TOPOLOGY=cluster (phpunit-cluster.xml)');
        }
        // ini_set() back to php.ini's values.
        foreach (ini_get_all('reg_buffer', true) as $name => $entry) {
            ini_set($name, (string) $entry['global_value']);
        }
        $this->prefix = 't' . bin2hex(random_bytes(5)) . ':';
        $this->useServer(self::redis());
        self::redis()->flushAll();
    }

    /** Points the extension at $server (and its database $db), waiting until it answers. */
    protected function useServer(Topology $server, int $db = 0): void
    {
        $this->topology = $server;
        ini_set('reg_buffer.redis_url', $server instanceof RedisServer ? $server->url($db) : $server->url());
        ini_set('reg_buffer.key_prefix', $this->prefix);
        $this->waitUntilReachable();
    }

    /**
     * Waits until a call succeeds: a connection left behind by a killed server fails once, and an open circuit
     * breaker fails until it closes. Generous on purpose.
     */
    protected function waitUntilReachable(float $timeout = 10): void
    {
        $deadline = microtime(true) + $timeout;
        while (true) {
            try {
                reg_buffer_stats();
                return;
            } catch (ConnectionException $e) {
                if (microtime(true) > $deadline) {
                    throw $e;
                }
                usleep(50_000);
            }
        }
    }

    /** A phpredis client of the suite's Redis: \Redis (on database $db), or \RedisCluster against the cluster. */
    protected function client(int $db = 0): \Redis|\RedisCluster
    {
        return self::redis()->client($db);
    }

    /** Environment for a worker subprocess: the same server and prefix as this test. */
    protected function workerEnv(array $more = []): array
    {
        return ['REG_BUFFER_TEST_URL' => ini_get('reg_buffer.redis_url'), 'REG_BUFFER_TEST_PREFIX' => $this->prefix] + $more;
    }

    /**
     * Every key matching $pattern (SCAN) of $redis, sorted; of the Redis in use (every master of a cluster) when
     * $redis is null or a \RedisCluster.
     */
    protected function keys(\Redis|\RedisCluster|null $redis = null, string $pattern = '*'): array
    {
        return $redis instanceof \Redis ? RedisServer::scan($redis, $pattern) : $this->topology->keys($pattern);
    }

    /**
     * The name of event $event's key $kind ("q", "d", "t", or a SCAN pattern like "u:*" with $pattern) under this
     * test's prefix: "<p>ev:{<e>}:<kind>" on one server, "<p>{s<k>}:ev:<e>:<kind>" on a cluster (its shard k is
     * found by SCAN, so the key must exist there unless $pattern).
     */
    protected function eventKey(int|string $event, string $kind, bool $pattern = false): string
    {
        if (!$this->topology instanceof RedisCluster) {
            return "{$this->prefix}ev:{{$event}}:$kind";
        }
        $glob = "{$this->prefix}{s*}:ev:$event:$kind";
        if ($pattern) {
            return $glob;
        }
        $found = $this->keys(null, $glob);
        self::assertCount(1, $found, "one key $glob");
        return $found[0];
    }

    /**
     * $n event ids whose registrations one flush can claim together: 1…n on one server; on a cluster, where a batch
     * comes from one shard, n events of one shard (of 16·n events, one shard gets n).
     *
     * @return list<int>
     */
    protected function eventsOfOneShard(int $n): array
    {
        if (!$this->topology instanceof RedisCluster) {
            return range(1, $n);
        }
        $byShard = [];
        foreach ($this->shardsOf(range(1, 16 * $n)) as $event => $shard) {
            $byShard[$shard][] = $event;
        }
        usort($byShard, fn ($a, $b) => count($b) <=> count($a));
        return array_slice($byShard[0], 0, $n);
    }

    /**
     * On a cluster: event => the shard k of its "{s<k>}" keys, for each of $events — found by pushing one
     * registration to each and reading the key names; Redis is emptied again afterwards.
     */
    protected function shardsOf(array $events): array
    {
        foreach ($events as $event) {
            reg_buffer_push($event, []);
        }
        $shards = [];
        foreach ($this->keys(null, $this->eventKey('*', 'd', true)) as $key) {
            preg_match('/\{s(\d+)\}:ev:(\d+):d$/', $key, $m);
            $shards[(int) $m[2]] = (int) $m[1];
        }
        $this->topology->flushAll();
        ksort($shards);
        return $shards;
    }

    /** The existing keys named $name ("quarantine", "stats", …) of every shard: "<p><name>", or "<p>{s<k>}:<name>". */
    protected function shardKeys(string $name): array
    {
        return $this->topology instanceof RedisCluster ? $this->keys(null, "{$this->prefix}{s*}:$name") : $this->keys(null, "{$this->prefix}$name");
    }

    /** A key's whole value as text, whatever its type, to search it for a string. */
    protected function dump(\Redis|\RedisCluster $redis, string $key): string
    {
        return match ($redis->type($key)) {
            \Redis::REDIS_STRING => (string) $redis->get($key),
            \Redis::REDIS_HASH => implode("\n", array_map(fn ($k, $v) => "$k\n$v", array_keys($redis->hGetAll($key)), $redis->hGetAll($key))),
            \Redis::REDIS_LIST => implode("\n", $redis->lRange($key, 0, -1)),
            \Redis::REDIS_SET => implode("\n", $redis->sMembers($key)),
            \Redis::REDIS_ZSET => implode("\n", array_keys($redis->zRange($key, 0, -1, true))),
            default => '',
        };
    }

    /** Claims and acks until nothing is pending; returns every row, in order. */
    protected function drain(int $limit = 1000, int $lease = 60): array
    {
        $rows = [];
        for ($i = 0; $i < 10_000; $i++) {
            $batch = reg_buffer_flush($limit, $lease);
            if ($batch['rows'] === []) {
                return $rows;
            }
            array_push($rows, ...$batch['rows']);
            self::assertSame(count($batch['rows']), reg_buffer_ack($batch['batch']));
        }
        self::fail('the buffer never emptied');
    }

    /**
     * The at-least-once guarantee, from the files of flusher workers ("<batch>\t<id>…" per stored row, and
     * "<file>.unacked" listing the batches whose ack failed): every id in $succeeded was stored, nothing outside
     * $succeeded and $unknown (pushes whose outcome was unknown) was, and a registration was stored twice only
     * because the ack of its earlier batch failed. Returns id => the batches that stored it.
     */
    protected static function assertEveryPushStored(array $succeeded, array $unknown, array $flushedFiles): array
    {
        $stored = [];
        $unacked = [];
        foreach ($flushedFiles as $file) {
            foreach (self::lines($file) as $line) {
                [$batch, $id] = explode("\t", $line);
                $stored[$id][] = $batch;
            }
            $unacked += array_flip(self::lines("$file.unacked"));
        }
        self::assertSame([], array_values(array_diff($succeeded, array_keys($stored))), 'every push that returned an id was stored');
        self::assertSame([], array_values(array_diff(array_keys($stored), $succeeded, $unknown)), 'nothing that was never pushed');
        foreach ($stored as $id => $batches) {
            if (count($batches) > 1) {
                $failedAcks = array_filter(array_slice($batches, 0, -1), fn ($b) => isset($unacked[$b]));
                self::assertCount(count($batches) - 1, $failedAcks, "$id was stored again only because an earlier ack failed");
            }
        }
        return $stored;
    }

    /** Polls $condition until it holds; fails when one of the PhpProcess $workers died, or after $timeout seconds. */
    protected static function waitForWorkers(callable $condition, array $workers, string $what, float $timeout = 60): void
    {
        $deadline = microtime(true) + $timeout;
        while (!$condition()) {
            foreach ($workers as $worker) {
                self::assertTrue($worker->running(), "a worker died waiting for $what: " . $worker->stderr());
            }
            self::assertLessThan($deadline, microtime(true), "timed out waiting for $what");
            usleep(20_000);
        }
    }

    protected static function ids(array $rows): array
    {
        return array_column($rows, 'id');
    }

    /** Nothing at all was written to Redis by this test (the bad-input guarantee). */
    protected function assertNothingWritten(): void
    {
        // The epoch keys name the buffer (made by the first reg_buffer_stats(), e.g. waitUntilReachable()'s).
        $written = array_values(array_filter($this->keys(), static fn (string $k) => !str_ends_with($k, 'epoch')));
        self::assertSame([], $written, 'a refused call wrote to Redis');
        $stats = reg_buffer_stats();
        self::assertSame(0, $stats['pending']);
        self::assertSame(0, $stats['pushed']);
    }

    /** Asserts that $call throws $class; returns the exception. */
    protected static function assertThrows(string $class, callable $call, string $message = ''): \Throwable
    {
        try {
            $call();
        } catch (\Throwable $e) {
            self::assertInstanceOf($class, $e, $message . ' threw ' . get_class($e) . ': ' . $e->getMessage());
            return $e;
        }
        self::fail(($message ? "$message: " : '') . "no $class was thrown");
    }

    /** Runs $call and returns its result; an exception fails the test with $what and the exception's message. */
    protected static function assertDoesNotThrow(callable $call, string $what): mixed
    {
        try {
            return $call();
        } catch (\Throwable $e) {
            self::fail("$what threw " . get_class($e) . ': ' . $e->getMessage());
        }
    }

    protected static function assertRegistrationId(mixed $id, string $message = ''): void
    {
        self::assertIsString($id, $message);
        self::assertMatchesRegularExpression('/^[0-9A-HJKMNP-TV-Z]{26}$/', $id, ($message ? "$message: " : '') . 'a 26-character Crockford base32 id');
    }

    /** Lines of a worker's output file, without empty ones. */
    protected static function lines(string $file): array
    {
        return is_file($file) ? array_values(array_filter(explode("\n", (string) file_get_contents($file)), 'strlen')) : [];
    }

    private static function tempDir(): string
    {
        return sys_get_temp_dir() . '/reg_buffer_phpunit_files_' . getmypid();
    }

    public static function removeTempFiles(): void
    {
        array_map('unlink', glob(self::tempDir() . '/*') ?: []);
        @rmdir(self::tempDir());
    }

    protected function tempFile(string $name): string
    {
        $dir = self::tempDir();
        @mkdir($dir, 0700, true);
        $file = "$dir/{$this->prefix}" . str_replace(':', '', $name);
        @unlink($file);
        return $file;
    }
}
