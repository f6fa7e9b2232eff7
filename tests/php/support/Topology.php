<?php
// What the suite runs against: one redis-server (RedisServer) or a Redis Cluster of them (RedisCluster).
declare(strict_types=1);

namespace RegBuffer\Tests\Support;

interface Topology
{
    /** The reg_buffer.redis_url that reaches it. */
    public function url(): string;

    /** Empties every database of every master. */
    public function flushAll(): void;

    /** Every key matching $pattern, on every master, sorted. */
    public function keys(string $pattern = '*'): array;

    /** @return list<RedisServer> every server process, running or not */
    public function nodes(): array;

    public function stop(): void;
}
