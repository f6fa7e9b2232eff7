<?php
// A private redis-server for the tests: its own free port and temp dir; start, kill -9, restart, flush, stop.
// Also one node of a RedisCluster (started with cluster-enabled in $config).
declare(strict_types=1);

namespace RegBuffer\Tests\Support;

final class RedisServer implements Topology
{
    /** @var resource|null */
    private $process = null;
    private int $pid = 0;

    private function __construct(
        public readonly int $port,
        public readonly string $dir,
        private readonly bool $persistent,
        /** @var array{cert: string, key: string, ca: string}|null TLS only (rediss://) on $port when set */
        private readonly ?array $tls = null,
        /** @var list<string> more redis-server arguments ("--name", "value", …) */
        private readonly array $config = [],
    ) {
    }

    /**
     * Starts a server on a free port. $persistent: AOF with appendfsync always, so a kill -9 loses no reply it sent.
     * $tls: ['cert' => …, 'key' => …, 'ca' => …] to serve TLS only on the port (the tests' own clients then use the
     * unix socket). $config: more redis-server arguments; with "--cluster-enabled" a free cluster bus port is added.
     */
    public static function start(bool $persistent = false, ?array $tls = null, array $config = []): self
    {
        $dir = sys_get_temp_dir() . '/reg_buffer_phpunit_' . getmypid() . '_' . bin2hex(random_bytes(4));
        if (!mkdir($dir, 0700, true) && !is_dir($dir)) {
            throw new \RuntimeException("cannot create $dir");
        }
        // The port is free when chosen, but another process may take it before redis-server binds: try again.
        for ($attempt = 1; ; $attempt++) {
            $bus = in_array('--cluster-enabled', $config, true) ? ['--cluster-port', (string) self::freePort()] : [];
            $server = new self(self::freePort(), $dir, $persistent, $tls, [...$config, ...$bus]);
            try {
                $server->launch();
                return $server;
            } catch (\RuntimeException $e) {
                $server->kill();
                if ($attempt >= 5) {
                    throw $e;
                }
            }
        }
    }

    public static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
        if ($socket === false) {
            throw new \RuntimeException("no free port: $error");
        }
        $name = stream_socket_get_name($socket, false);
        fclose($socket);
        return (int) substr((string) $name, strrpos((string) $name, ':') + 1);
    }

    public function url(int $db = 0): string
    {
        return ($this->tls ? 'rediss' : 'redis') . "://127.0.0.1:{$this->port}" . ($db > 0 ? "/$db" : '');
    }

    public function socket(): string
    {
        $socket = $this->dir . '/redis.sock';
        // A unix socket path has at most 107 bytes; a long TMPDIR would not fit.
        return strlen($socket) < 100 ? $socket : '/tmp/reg_buffer_' . md5($socket) . '.sock';
    }

    public function isRunning(): bool
    {
        return $this->process !== null && (proc_get_status($this->process)['running'] ?? false);
    }

    /** A fresh phpredis client (its own connection), on database $db. */
    public function client(int $db = 0): \Redis
    {
        $redis = new \Redis();
        $this->tls ? $redis->connect($this->socket()) : $redis->connect('127.0.0.1', $this->port, 2.0);
        $redis->setOption(\Redis::OPT_READ_TIMEOUT, 10.0);
        if ($db > 0) {
            $redis->select($db);
        }
        return $redis;
    }

    public function flushAll(): void
    {
        $this->client()->flushAll();
    }

    public function keys(string $pattern = '*'): array
    {
        return self::scan($this->client(), $pattern);
    }

    public function nodes(): array
    {
        return [$this];
    }

    /** Every key of $redis matching $pattern (SCAN, never KEYS), sorted and unique. */
    public static function scan(\Redis $redis, string $pattern = '*'): array
    {
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

    /** A replica whose link to its master is up (the initial sync done). */
    public function replicaInSync(): bool
    {
        try {
            return str_contains((string) $this->client()->rawCommand('INFO', 'replication'), 'master_link_status:up');
        } catch (\RedisException) {
            return false;
        }
    }

    /** The process id while it runs (0 when killed). */
    public function pid(): int
    {
        return $this->process === null ? 0 : $this->pid;
    }

    /** SIGKILL: no shutdown, no final save. */
    public function kill(): void
    {
        if ($this->process === null) {
            return;
        }
        posix_kill($this->pid, SIGKILL);
        proc_close($this->process);
        $this->process = null;
    }

    /** $waitUntilReady false: return as soon as the process runs (it may still be loading its AOF). */
    public function restart(bool $waitUntilReady = true): void
    {
        $this->kill();
        $this->launch($waitUntilReady);
    }

    public function stop(): void
    {
        if ($this->process !== null) {
            posix_kill($this->pid, SIGTERM);
            $deadline = microtime(true) + 5;
            while ($this->isRunning() && microtime(true) < $deadline) {
                usleep(20_000);
            }
            $this->kill();
        }
        self::removeTree($this->dir);
        @unlink($this->socket());
    }

    private function launch(bool $waitUntilReady = true): void
    {
        $ports = $this->tls === null ? ['--port', (string) $this->port] : [
            '--port', '0', '--tls-port', (string) $this->port, '--tls-auth-clients', 'no',
            '--tls-cert-file', $this->tls['cert'], '--tls-key-file', $this->tls['key'], '--tls-ca-cert-file', $this->tls['ca'],
        ];
        $command = [
            'redis-server',
            ...$ports,
            '--bind', '127.0.0.1',
            '--dir', $this->dir,
            '--save', '',
            '--appendonly', $this->persistent ? 'yes' : 'no',
            '--appendfsync', 'always',
            '--daemonize', 'no',
            '--enable-debug-command', 'local',
            '--unixsocket', $this->socket(),
            '--unixsocketperm', '700',
            '--logfile', $this->dir . '/redis.log',
            ...$this->config,
        ];
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', $this->dir . '/stderr.log', 'a']], $pipes);
        if (!is_resource($process)) {
            throw new \RuntimeException('cannot start redis-server');
        }
        $this->process = $process;
        $this->pid = (int) proc_get_status($process)['pid'];
        if (!$waitUntilReady) {
            return;
        }
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            if (!$this->isRunning()) {
                break;
            }
            try {
                $probe = new \Redis();
                if (@$probe->connect($this->socket(), 0, 0.2) && $probe->ping()) {
                    $probe->close();
                    return;
                }
            } catch (\RedisException) {
                // still loading
            }
            usleep(20_000);
        }
        $log = @file_get_contents($this->dir . '/redis.log') . @file_get_contents($this->dir . '/stderr.log');
        throw new \RuntimeException("redis-server on port {$this->port} did not come up:\n$log");
    }

    private static function removeTree(string $dir): void
    {
        if (!is_dir($dir)) {
            return;
        }
        $items = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($dir, \FilesystemIterator::SKIP_DOTS), \RecursiveIteratorIterator::CHILD_FIRST);
        foreach ($items as $item) {
            $item->isDir() ? @rmdir($item->getPathname()) : @unlink($item->getPathname());
        }
        @rmdir($dir);
    }
}
