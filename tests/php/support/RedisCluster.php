<?php
// A private Redis Cluster for the tests: local redis-server processes on free ports joined by
// `redis-cli --cluster create`; masters can be killed (a replica takes over) and slots moved while clients run.
declare(strict_types=1);

namespace RegBuffer\Tests\Support;

final class RedisCluster implements Topology
{
    /** @var list<resource> redis-cli processes started by stallReplicasOf(), ended by stop() */
    private array $background = [];

    /** @param list<RedisServer> $servers */
    private function __construct(private readonly array $servers, private readonly ?array $tls)
    {
    }

    /**
     * Starts $masters masters with $replicas replicas each and waits until every node agrees the cluster is ok.
     * $nodeTimeoutMs is cluster-node-timeout: how long a dead master goes unnoticed before its replica takes over.
     * $tls as for RedisServer::start(): then the nodes talk TLS to clients, to each other and to their replicas.
     * $more: further redis-server arguments for every node.
     */
    public static function start(int $masters = 3, int $replicas = 1, int $nodeTimeoutMs = 1500, ?array $tls = null, array $more = []): self
    {
        $config = [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', (string) $nodeTimeoutMs,
            // A replica takes over however long it was cut off from its master (the tests kill masters at will).
            '--cluster-replica-validity-factor', '0',
            '--repl-diskless-sync', 'yes',
            '--repl-diskless-sync-delay', '0',
            ...$more,
        ];
        if ($tls !== null) {
            array_push($config, '--tls-cluster', 'yes', '--tls-replication', 'yes');
        }
        $servers = [];
        try {
            for ($i = 0; $i < $masters * (1 + $replicas); $i++) {
                $servers[] = RedisServer::start(false, $tls, $config);
            }
            $cluster = new self($servers, $tls);
            $cluster->cli(['--cluster', 'create', ...array_map(fn ($s) => "127.0.0.1:{$s->port}", $servers),
                '--cluster-replicas', (string) $replicas, '--cluster-yes']);
            $cluster->waitUntilHealthy();
            return $cluster;
        } catch (\Throwable $e) {
            array_map(fn (RedisServer $s) => $s->stop(), $servers);
            throw $e;
        }
    }

    /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,… — every node given as a seed (or only $seeds of them). */
    public function url(?array $seeds = null): string
    {
        $seeds ??= $this->servers;
        return ($this->tls ? 'rediss' : 'redis') . '+cluster://' . implode(',', array_map(fn ($s) => "127.0.0.1:{$s->port}", $seeds));
    }

    /** A phpredis cluster client (follows MOVED/ASK). Not for a TLS cluster. */
    public function client(): \RedisCluster
    {
        return new \RedisCluster(null, array_map(fn ($s) => "127.0.0.1:{$s->port}", $this->running()), 2.0, 10.0);
    }

    public function nodes(): array
    {
        return $this->servers;
    }

    /** @return list<RedisServer> the running nodes that are masters now */
    public function masters(): array
    {
        return array_values(array_filter($this->running(), fn (RedisServer $s) => self::role($s) === 'master'));
    }

    /** @return list<RedisServer> the running replicas of $master */
    public function replicasOf(RedisServer $master): array
    {
        $id = $this->nodeId($master);
        return array_values(array_filter($this->running(), function (RedisServer $s) use ($id): bool {
            $myself = self::myself($s);
            return str_contains($myself[2], 'slave') && $myself[3] === $id;
        }));
    }

    /** The master that serves $slot now. */
    public function masterOfSlot(int $slot): RedisServer
    {
        foreach ($this->masters() as $master) {
            foreach (array_slice(self::myself($master), 8) as $range) {
                if (str_starts_with($range, '[')) {
                    continue; // a slot being migrated ([slot->-id] / [slot-<-id]); its owner lists it as a range too
                }
                [$from, $to] = array_map('intval', explode('-', $range . '-' . $range));
                if ($slot >= $from && $slot <= $to) {
                    return $master;
                }
            }
        }
        throw new \RuntimeException("no master serves slot $slot");
    }

    public function nodeId(RedisServer $server): string
    {
        return self::myself($server)[0];
    }

    public function flushAll(): void
    {
        foreach ($this->masters() as $master) {
            $master->client()->flushAll();
        }
    }

    public function keys(string $pattern = '*'): array
    {
        $keys = [];
        foreach ($this->masters() as $master) {
            array_push($keys, ...RedisServer::scan($master->client(), $pattern));
        }
        sort($keys);
        return array_values(array_unique($keys));
    }

    /**
     * SIGKILLs $master and waits until one of its replicas serves its slots and every living node says the cluster
     * is ok. Returns the promoted replica.
     */
    public function killMasterAndWaitForFailover(RedisServer $master, float $timeout = 60): RedisServer
    {
        $replicas = $this->replicasOf($master);
        if ($replicas === []) {
            throw new \LogicException("master {$master->port} has no replica to take over");
        }
        $master->kill();
        $deadline = microtime(true) + $timeout;
        while (true) {
            foreach ($replicas as $replica) {
                if ($replica->isRunning() && self::role($replica) === 'master' && $this->allOk()) {
                    return $replica;
                }
            }
            if (microtime(true) > $deadline) {
                throw new \RuntimeException("no replica of {$master->port} took over within {$timeout}s:\n" . $this->describe());
            }
            usleep(50_000);
        }
    }

    /**
     * Freezes every replica of $master for $seconds (DEBUG SLEEP, run by redis-cli in the background) and waits
     * until $master holds $bytes of writes none of them has: replicas lagging behind when their master dies.
     */
    public function stallReplicasOf(RedisServer $master, float $seconds, int $bytes = 600, float $timeout = 30): void
    {
        foreach ($this->replicasOf($master) as $replica) {
            $process = proc_open(['redis-cli', '-p', (string) $replica->port, 'DEBUG', 'SLEEP', (string) $seconds], [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
            $this->background[] = $process;
        }
        $deadline = microtime(true) + $timeout;
        while (true) {
            $info = (string) $master->client()->rawCommand('INFO', 'replication');
            preg_match('/master_repl_offset:(\d+)/', $info, $m);
            preg_match_all('/slave\d+:.*offset=(\d+)/', $info, $offsets);
            if ($offsets[1] !== [] && max(array_map('intval', $offsets[1])) + $bytes <= (int) $m[1]) {
                return;
            }
            if (microtime(true) > $deadline) {
                throw new \RuntimeException("the master {$master->port} never got ahead of its replicas:\n$info");
            }
            usleep(10_000);
        }
    }

    /** Waits until $master has a replica in sync (after a failover, the dead master's other replicas follow the new one). */
    public function waitForReplicaOf(RedisServer $master, float $timeout = 60): void
    {
        $deadline = microtime(true) + $timeout;
        while (array_filter($this->replicasOf($master), fn (RedisServer $r) => $r->replicaInSync()) === []) {
            if (microtime(true) > $deadline) {
                throw new \RuntimeException("no replica of {$master->port} in sync within {$timeout}s:\n" . $this->describe());
            }
            usleep(50_000);
        }
    }

    /** Runs redis-cli with $args against the first running node (TLS options added); throws when it fails. */
    public function cli(array $args, float $timeout = 120): string
    {
        $node = $this->running()[0] ?? throw new \RuntimeException('no node runs');
        $tls = $this->tls === null ? [] : ['--tls', '--cacert', $this->tls['ca'], '--cert', $this->tls['cert'], '--key', $this->tls['key']];
        // redis-cli --cluster takes the node as host:port; other commands take -p.
        $args = array_map(fn ($a) => $a === '{node}' ? "127.0.0.1:{$node->port}" : $a, $args);
        $out = $node->dir . '/redis-cli.out';
        $process = proc_open(['redis-cli', ...$tls, ...$args], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $out, 'w'], 2 => ['file', $out, 'a']], $pipes);
        $deadline = microtime(true) + $timeout;
        while (($status = proc_get_status($process))['running']) {
            if (microtime(true) > $deadline) {
                proc_terminate($process, SIGKILL);
                proc_close($process);
                throw new \RuntimeException('redis-cli ' . implode(' ', $args) . " did not finish within {$timeout}s:\n" . @file_get_contents($out));
            }
            usleep(20_000);
        }
        proc_close($process);
        $output = (string) @file_get_contents($out);
        if ($status['exitcode'] !== 0) {
            throw new \RuntimeException('redis-cli ' . implode(' ', $args) . " failed ({$status['exitcode']}):\n$output");
        }
        return $output;
    }

    /**
     * Waits until every running node says cluster_state:ok with all 16384 slots assigned, all agree on who serves
     * what (redis-cli --cluster check), and every replica is in sync with its master.
     */
    public function waitUntilHealthy(float $timeout = 60): void
    {
        $deadline = microtime(true) + $timeout;
        while (!$this->healthy()) {
            if (microtime(true) > $deadline) {
                throw new \RuntimeException("the cluster did not become healthy within {$timeout}s:\n" . $this->describe());
            }
            usleep(50_000);
        }
    }

    public function stop(): void
    {
        foreach ($this->background as $process) {
            proc_terminate($process, SIGKILL);
            proc_close($process);
        }
        $this->background = [];
        foreach ($this->servers as $server) {
            $server->stop();
        }
    }

    /** CLUSTER NODES as every running node sees it, for failure messages. */
    public function describe(): string
    {
        $text = '';
        foreach ($this->servers as $server) {
            $text .= "node {$server->port}: " . ($server->isRunning() ? self::safely(fn () => $server->client()->rawCommand('CLUSTER', 'NODES'), '(no answer)') : '(down)') . "\n";
        }
        return $text;
    }

    private function healthy(): bool
    {
        if (!$this->allOk()) {
            return false;
        }
        foreach ($this->running() as $server) {
            if (self::role($server) === 'slave' && !$server->replicaInSync()) {
                return false;
            }
        }
        try {
            $this->cli(['--cluster', 'check', '{node}'], 30);
            return true;
        } catch (\RuntimeException) {
            return false;
        }
    }

    private function allOk(): bool
    {
        foreach ($this->running() as $server) {
            $info = (string) self::safely(fn () => $server->client()->rawCommand('CLUSTER', 'INFO'), '');
            if (!str_contains($info, 'cluster_state:ok') || !str_contains($info, 'cluster_slots_ok:16384')) {
                return false;
            }
        }
        return true;
    }

    /** @return list<RedisServer> */
    private function running(): array
    {
        return array_values(array_filter($this->servers, fn (RedisServer $s) => $s->isRunning()));
    }

    private static function role(RedisServer $server): string
    {
        return (string) self::safely(fn () => $server->client()->rawCommand('ROLE')[0], '');
    }

    /** The "myself" line of CLUSTER NODES: id, address, flags, master id, …, slot ranges from field 8 on. */
    private static function myself(RedisServer $server): array
    {
        foreach (explode("\n", (string) $server->client()->rawCommand('CLUSTER', 'NODES')) as $line) {
            $fields = explode(' ', trim($line));
            if (str_contains($fields[2] ?? '', 'myself')) {
                return $fields;
            }
        }
        throw new \RuntimeException("node {$server->port} does not know itself");
    }

    private static function safely(callable $call, mixed $otherwise): mixed
    {
        try {
            return $call();
        } catch (\RedisException) {
            return $otherwise;
        }
    }
}
