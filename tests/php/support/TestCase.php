<?php
// Base of every test: fresh settings, a unique key prefix, an empty private Redis, and shared helpers.
declare(strict_types=1);

namespace RegBuffer\Tests\Support;

use RegBuffer\ConnectionException;

abstract class TestCase extends \PHPUnit\Framework\TestCase
{
    public const SETTINGS = [
        'reg_buffer.redis_url', 'reg_buffer.key_prefix', 'reg_buffer.connect_timeout_ms', 'reg_buffer.timeout_ms',
        'reg_buffer.max_pending', 'reg_buffer.max_payload_bytes', 'reg_buffer.dedupe_ttl', 'reg_buffer.retry_interval_ms',
    ];

    /** @var list<RedisServer> servers started by single tests, stopped at the end of the run */
    private static array $extraServers = [];

    protected string $prefix;

    public static function redis(): RedisServer
    {
        return $GLOBALS['reg_buffer_test_redis'];
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
        // ini_set() back to php.ini's values.
        foreach (ini_get_all('reg_buffer', true) as $name => $entry) {
            ini_set($name, (string) $entry['global_value']);
        }
        $this->prefix = 't' . bin2hex(random_bytes(5)) . ':';
        $this->useServer(self::redis());
        self::redis()->flushAll();
    }

    /** Points the extension at $server (and its database $db), waiting until it answers. */
    protected function useServer(RedisServer $server, int $db = 0): void
    {
        ini_set('reg_buffer.redis_url', $server->url($db));
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

    protected function client(int $db = 0): \Redis
    {
        return self::redis()->client($db);
    }

    /** Environment for a worker subprocess: the same server and prefix as this test. */
    protected function workerEnv(array $more = []): array
    {
        return ['REG_BUFFER_TEST_URL' => ini_get('reg_buffer.redis_url'), 'REG_BUFFER_TEST_PREFIX' => $this->prefix] + $more;
    }

    /** Every key under this test's prefix (SCAN), sorted. */
    protected function keys(?\Redis $redis = null, string $pattern = '*'): array
    {
        $redis ??= $this->client();
        $keys = [];
        $it = null;
        while (($batch = $redis->scan($it, $pattern, 1000)) !== false) {
            array_push($keys, ...$batch);
            if ($it === 0) {
                break;
            }
        }
        sort($keys);
        return array_values(array_unique($keys));
    }

    /** A key's whole value as text, whatever its type, to search it for a string. */
    protected function dump(\Redis $redis, string $key): string
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

    protected static function ids(array $rows): array
    {
        return array_column($rows, 'id');
    }

    /** Nothing at all was written to Redis by this test (the bad-input guarantee). */
    protected function assertNothingWritten(): void
    {
        self::assertSame([], $this->keys(), 'a refused call wrote to Redis');
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

    protected static function assertRegistrationId(mixed $id): void
    {
        self::assertIsString($id);
        self::assertMatchesRegularExpression('/^[0-9A-HJKMNP-TV-Z]{26}$/', $id, 'a 26-character Crockford base32 id');
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
