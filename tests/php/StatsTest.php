<?php
// stats: every documented field and its value through a push / flush / ack cycle.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\TestCase;

final class StatsTest extends TestCase
{
    /** @test */
    public function an_empty_buffer_reports_zeros(): void
    {
        $stats = reg_buffer_stats();
        foreach (['pending', 'in_flight', 'buffered', 'events', 'oldest_pending_age', 'quarantined', 'maxmemory_policy', 'pushed', 'duplicates', 'claimed', 'acked', 'redelivered'] as $field) {
            self::assertArrayHasKey($field, $stats);
        }
        self::assertSame(0, $stats['pending']);
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(0, $stats['events']);
        self::assertNull($stats['oldest_pending_age']);
        self::assertSame(0, $stats['quarantined']);
        self::assertSame('noeviction', $stats['maxmemory_policy']);
    }

    /** @test */
    public function stats_follow_a_push_flush_ack_cycle(): void
    {
        [$one, $two] = $this->eventsOfOneShard(2);
        reg_buffer_push($one, ['a' => 1], 'ada@example.com');
        reg_buffer_push($one, ['a' => 2]);
        reg_buffer_push($two, ['a' => 3]);
        self::assertFalse(reg_buffer_push($one, ['a' => 4], 'ada@example.com'));
        usleep(50_000);
        $stats = reg_buffer_stats();
        self::assertSame(3, $stats['pending']);
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(3, $stats['buffered']);
        self::assertSame(2, $stats['events']);
        self::assertIsFloat($stats['oldest_pending_age']);
        self::assertGreaterThanOrEqual(0.04, $stats['oldest_pending_age']);
        self::assertLessThan(30, $stats['oldest_pending_age']);
        self::assertSame(3, $stats['pushed']);
        self::assertSame(1, $stats['duplicates']);
        self::assertSame(0, $stats['claimed']);

        $batch = reg_buffer_flush(2);
        $stats = reg_buffer_stats();
        self::assertSame(1, $stats['pending']);
        self::assertSame(2, $stats['in_flight']);
        self::assertSame(3, $stats['buffered']);
        self::assertSame(1, $stats['events']);
        self::assertIsFloat($stats['oldest_pending_age']);
        self::assertSame(2, $stats['claimed']);

        self::assertSame(2, reg_buffer_ack($batch['batch']));
        $stats = reg_buffer_stats();
        self::assertSame(1, $stats['pending']);
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(1, $stats['buffered']);
        self::assertSame(2, $stats['acked']);

        $this->drain();
        $stats = reg_buffer_stats();
        self::assertSame(0, $stats['pending']);
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(0, $stats['events']);
        self::assertNull($stats['oldest_pending_age']);
        self::assertSame(3, $stats['acked']);
        self::assertSame(3, $stats['claimed']);
        self::assertSame(0, $stats['redelivered']);
    }

    /** @test */
    public function oldest_pending_age_is_the_age_of_the_oldest_pending_registration(): void
    {
        reg_buffer_push(1, ['old' => true]);
        usleep(300_000);
        reg_buffer_push(2, ['new' => true]);
        $age = reg_buffer_stats()['oldest_pending_age'];
        self::assertGreaterThanOrEqual(0.29, $age);
        self::assertLessThan(30, $age);
    }

    /** @test */
    public function stats_are_per_key_prefix(): void
    {
        reg_buffer_push(1, []);
        ini_set('reg_buffer.key_prefix', $this->prefix . 'other:');
        self::assertSame(0, reg_buffer_stats()['pending'], 'another site sharing the Redis sees nothing');
        self::assertSame([], reg_buffer_flush()['rows']);
        ini_set('reg_buffer.key_prefix', $this->prefix);
        self::assertSame(1, reg_buffer_stats()['pending']);
    }

    /**
     * Single node only: CONFIG SET / ACL SETUSER on the one server.
     *
     * @test
     * @group single-node
     */
    public function stats_report_the_maxmemory_policy(): void
    {
        $redis = $this->client();
        $redis->config('SET', 'maxmemory-policy', 'allkeys-lru');
        try {
            self::assertSame('allkeys-lru', reg_buffer_stats()['maxmemory_policy']);
        } finally {
            $redis->config('SET', 'maxmemory-policy', 'noeviction');
        }
    }

    /**
     * Single node only: CONFIG SET / ACL SETUSER on the one server.
     *
     * @test
     * @group single-node
     */
    public function maxmemory_policy_is_null_where_config_get_is_refused(): void
    {
        $redis = $this->client();
        $redis->rawCommand('ACL', 'SETUSER', 'noconfig', 'on', '>secret', '~*', '&*', '+@all', '-config');
        ini_set('reg_buffer.redis_url', 'redis://noconfig:secret@127.0.0.1:' . self::redis()->port);
        reg_buffer_push(1, ['a' => 1]);
        $stats = reg_buffer_stats();
        self::assertNull($stats['maxmemory_policy']);
        self::assertSame(1, $stats['pending'], 'the rest of stats still works');
    }

    /** @test */
    public function stats_name_the_server_run_and_its_lifetime_counters(): void
    {
        $stats = reg_buffer_stats();
        self::assertMatchesRegularExpression('/^[0-9a-f]{40}(,[0-9a-f]{40})*$/', $stats['run_id']);
        self::assertIsInt($stats['uptime']);
        self::assertGreaterThanOrEqual(0, $stats['uptime']);
        self::assertContains($stats['persistence'], ['aof-always', 'aof-everysec', 'aof-no', 'rdb', 'none']);
        self::assertSame(['pushed', 'duplicates', 'claimed', 'acked', 'redelivered', 'lost', 'retried'], $stats['counters']);
        foreach ($stats['counters'] as $name) {
            self::assertIsInt($stats[$name], "the counter $name is in stats");
        }
        if (!self::isCluster()) {
            $info = $this->client()->info('server');
            self::assertSame($info['run_id'], $stats['run_id']);
        }
    }

    /**
     * Single node only: CONFIG SET and a restart of the one server.
     *
     * @test
     * @group single-node
     */
    public function persistence_follows_the_server_configuration_and_run_id_its_restarts(): void
    {
        $server = self::extraServer(true);
        $this->useServer($server);
        $redis = $server->client();
        $expect = [
            ['yes', 'always', '', 'aof-always'],
            ['yes', 'everysec', '', 'aof-everysec'],
            ['yes', 'no', '', 'aof-no'],
            ['no', 'everysec', '3600 1', 'rdb'],
            ['no', 'everysec', '', 'none'],
        ];
        foreach ($expect as [$aof, $fsync, $save, $name]) {
            $redis->config('SET', 'appendfsync', $fsync);
            $redis->config('SET', 'save', $save);
            $redis->config('SET', 'appendonly', $aof);
            // Turning AOF on starts a rewrite; INFO reports aof_enabled at once.
            self::assertSame($name, reg_buffer_stats()['persistence'], "appendonly $aof, appendfsync $fsync, save '$save'");
        }
        $redis->config('SET', 'appendonly', 'yes');
        $before = reg_buffer_stats()['run_id'];
        $server->restart();
        $this->waitUntilReachable();
        $after = reg_buffer_stats();
        self::assertNotSame($before, $after['run_id'], 'a restart is a new run');
        self::assertLessThan(30, $after['uptime']);
    }

    /**
     * Single node only: ACL SETUSER on the one server.
     *
     * @test
     * @group single-node
     */
    public function the_server_facts_are_null_where_info_is_refused(): void
    {
        $redis = $this->client();
        $redis->rawCommand('ACL', 'SETUSER', 'noinfo', 'on', '>secret', '~*', '&*', '+@all', '-info');
        ini_set('reg_buffer.redis_url', 'redis://noinfo:secret@127.0.0.1:' . self::redis()->port);
        reg_buffer_push(1, ['a' => 1]);
        $stats = reg_buffer_stats();
        self::assertSame([null, null, null], [$stats['run_id'], $stats['uptime'], $stats['persistence']]);
        self::assertSame(1, $stats['pending'], 'the rest of stats still works');
        self::assertNotNull($stats['maxmemory_policy'], 'CONFIG GET is still allowed');
    }
}
