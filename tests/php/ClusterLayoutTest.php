<?php
// On a Redis Cluster: 16 shards, each event's keys in its shard's slot, the ready events spread over the masters,
// max_pending in each shard, any seed reaches the cluster, and import_legacy is refused.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\CapacityException;
use RegBuffer\ConnectionException;
use RegBuffer\Tests\Support\RedisServer;
use RegBuffer\Tests\Support\TestCase;

/**
 * Against the suite's cluster (REG_BUFFER_TEST_TOPOLOGY=cluster).
 *
 * @group cluster
 */
final class ClusterLayoutTest extends TestCase
{
    /** The shard of each key under this test's prefix: key => k of its "{s<k>}" hash tag. */
    private function shards(): array
    {
        $shards = [];
        foreach ($this->keys(null, "{$this->prefix}*") as $key) {
            self::assertMatchesRegularExpression('/^' . preg_quote($this->prefix, '/') . '\{s(\d|1[0-5])\}:/', $key, 'every key is in one of 16 shards');
            preg_match('/\{s(\d+)\}/', $key, $m);
            $shards[$key] = (int) $m[1];
        }
        return $shards;
    }

    private function shardOf(int $event): int
    {
        return $this->shards()[$this->eventKey($event, 'd')];
    }

    /** @test */
    public function each_events_keys_share_its_shards_hash_tag_and_events_spread_over_the_shards(): void
    {
        for ($e = 1; $e <= 48; $e++) {
            reg_buffer_push($e, ['e' => $e], "u$e@example.com");
        }
        reg_buffer_stats(); // files each shard's inbox: the queues exist from then on
        $byEvent = [];
        foreach ($this->shards() as $key => $shard) {
            if (preg_match('/:ev:(\d+):(q|d|t|u:[0-9a-f]+)$/', $key, $m)) {
                $byEvent[(int) $m[1]][$m[2][0]] = $shard;
            } else {
                self::assertMatchesRegularExpression('/\}:(ready|oldest|stats|epoch|inbox)$/', $key, 'a shard key');
            }
        }
        self::assertCount(48, $byEvent);
        foreach ($byEvent as $event => $kinds) {
            ksort($kinds);
            self::assertSame(['d', 'q', 'u'], array_keys($kinds), "event $event: data, queue, marker");
            self::assertCount(1, array_unique($kinds), "event $event: one shard, one slot");
        }
        self::assertGreaterThan(8, count(array_unique(array_map(fn ($kinds) => $kinds['d'], $byEvent))), '48 events use most of the 16 shards');
        self::assertCount(48, $this->drain());
    }

    /** @test */
    public function the_set_of_ready_events_is_sharded_over_the_masters(): void
    {
        for ($e = 1; $e <= 48; $e++) {
            reg_buffer_push($e, ['e' => $e]);
        }
        self::assertSame(48, reg_buffer_stats()['events'], 'stats files the inboxes first');
        $mastersWithReady = 0;
        foreach (self::redis()->masters() as $master) {
            $mastersWithReady += RedisServer::scan($master->client(), "{$this->prefix}{s*}:ready") === [] ? 0 : 1;
        }
        self::assertSame(3, $mastersWithReady, 'every master holds ready events of its shards');
        self::assertSame(48, reg_buffer_stats()['events']);
        self::assertCount(48, $this->drain(100));
    }

    /** @test */
    public function a_batch_id_names_its_shard(): void
    {
        reg_buffer_push(7, ['a' => 1]);
        $batch = reg_buffer_flush();
        self::assertMatchesRegularExpression('/^(\d|1[0-5])-[0-9A-HJKMNP-TV-Z]{26}$/', $batch['batch'], '<shard>-<ULID>');
        self::assertSame($this->shardOf(7), (int) explode('-', $batch['batch'])[0]);
        self::assertSame(1, reg_buffer_ack($batch['batch']));
    }

    /** One event of each of the 16 shards: shard => event. */
    private function oneEventPerShard(): array
    {
        $perShard = [];
        foreach ($this->shardsOf(range(1, 200)) as $event => $shard) {
            $perShard[$shard] ??= $event;
        }
        self::assertCount(16, $perShard, '200 events reach every shard');
        ksort($perShard);
        return $perShard;
    }

    /** @test */
    public function a_batch_comes_from_one_shard_and_the_shards_take_turns_so_a_busy_one_starves_none(): void
    {
        $perShard = $this->oneEventPerShard();
        $shardOf = array_flip($perShard);
        $busy = array_shift($perShard);
        for ($i = 0; $i < 3000; $i++) {
            reg_buffer_push($busy, ['i' => $i]);
        }
        foreach ($perShard as $quiet) {
            reg_buffer_push($quiet, ['quiet' => true]);
        }
        $served = [];
        for ($k = 0; $k < 16; $k++) {
            $batch = reg_buffer_flush(100);
            $shards = array_values(array_unique(array_map(fn ($row) => $shardOf[$row['event_id']], $batch['rows'])));
            self::assertCount(1, $shards, 'a batch comes from one shard');
            self::assertSame((int) explode('-', $batch['batch'])[0], $shards[0], 'the batch id names it');
            $served += array_flip(array_column($batch['rows'], 'event_id'));
        }
        foreach ($perShard as $quiet) {
            self::assertArrayHasKey($quiet, $served, "16 flushes reached the quiet event $quiet although event $busy's shard holds 3000");
        }
    }

    /**
     * The flusher's loop stops at the first flush without rows: while registrations are pending anywhere, a flush
     * must not come back empty because the shard it reached held only undecodable entries.
     *
     * @test
     */
    public function a_flush_does_not_come_back_empty_while_another_shard_has_registrations(): void
    {
        $perShard = $this->oneEventPerShard();
        $good = array_pop($perShard);
        foreach ($perShard as $event) {
            $id = reg_buffer_push($event, ['bad' => true]);
            $this->client()->hSet($this->eventKey($event, 'd'), $id, 'garbage'); // 15 shards hold only this
        }
        $goodId = reg_buffer_push($good, ['good' => true]);
        $rows = [];
        while (($batch = reg_buffer_flush(100))['rows'] !== []) {
            array_push($rows, ...$batch['rows']);
            reg_buffer_ack($batch['batch']);
        }
        self::assertSame([$goodId], self::ids($rows), 'the loop reached the one good registration');
        self::assertSame(0, reg_buffer_stats()['pending']);
    }

    /**
     * One event lives in one shard: it may use the whole cap (not a 16th of it), and is refused at it; every other
     * shard holds up to the cap too (so a master with k shards holds at most k × max_pending).
     *
     * @test
     */
    public function one_event_can_buffer_the_whole_cap_and_is_refused_at_it(): void
    {
        $shards = $this->shardsOf(range(1, 40));
        $elsewhere = array_keys(array_filter($shards, fn (int $shard) => $shard !== $shards[1]))[0];
        ini_set('reg_buffer.max_pending', '40');
        for ($i = 0; $i < 40; $i++) {
            self::assertRegistrationId(reg_buffer_push(1, ['n' => $i]), "push $i of 40");
        }
        $e = self::assertThrows(CapacityException::class, fn () => reg_buffer_push(1, ['n' => 40], 'late@example.com'));
        self::assertRegistrationId($e->getRegistrationId());
        self::assertSame([], $this->keys(null, $this->eventKey(1, 'u:*', true)), 'the refused push took no marker');
        self::assertRegistrationId(reg_buffer_push($elsewhere, ['n' => 1]), 'another shard has room of its own');
        self::assertSame(41, reg_buffer_stats()['pending']);
    }

    /** @test */
    public function import_legacy_is_refused_on_a_cluster(): void
    {
        $e = self::assertThrows(\RegBuffer\Exception::class, fn () => reg_buffer_import_legacy());
        self::assertNotInstanceOf(ConnectionException::class, $e, 'a refusal, not a connection problem');
        self::assertStringContainsStringIgnoringCase('single Redis server', $e->getMessage());
        self::assertSame([], $this->keys(null, "{$this->prefix}*"));
    }

    /** @test */
    public function any_one_node_is_enough_as_a_seed_even_a_replica(): void
    {
        $cluster = self::redis();
        foreach ($cluster->masters() as $master) {
            foreach ([$master, ...$cluster->replicasOf($master)] as $seed) {
                ini_set('reg_buffer.redis_url', $cluster->url([$seed]));
                $id = reg_buffer_push(3, ['seed' => $seed->port]);
                self::assertSame([$id], self::ids($this->drain()), "seed {$seed->port}");
            }
        }
    }

    /** @test */
    public function every_call_throws_a_connection_exception_when_no_seed_answers(): void
    {
        ini_set('reg_buffer.redis_url', 'redis+cluster://127.0.0.1:' . RedisServer::freePort() . ',127.0.0.1:' . RedisServer::freePort());
        ini_set('reg_buffer.retry_interval_ms', '0');
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['a' => 1]));
        self::assertRegistrationId($e->getRegistrationId());
        foreach (['flush' => fn () => reg_buffer_flush(), 'ack' => fn () => reg_buffer_ack('3-01JD0000000000000000000000'),
            'stats' => fn () => reg_buffer_stats(), 'range' => fn () => reg_buffer_range(1, 0, INF)] as $what => $call) {
            $e = self::assertThrows(ConnectionException::class, $call, $what);
            self::assertNull($e->getRegistrationId(), $what);
        }
    }
}
