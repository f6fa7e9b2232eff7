<?php
// Slots move between masters (redis-cli --cluster reshard, then rebalance) while pushers and flushers run:
// no registration is lost or stored twice.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\RedisCluster;
use RegBuffer\Tests\Support\TestCase;

/**
 * A cluster of its own (3 masters, no replicas), since it moves every slot of one master to another and back.
 *
 * @group cluster
 */
final class ClusterReshardTest extends TestCase
{
    private ?RedisCluster $cluster = null;

    protected function tearDown(): void
    {
        $this->cluster?->stop();
        $this->cluster = null;
    }

    /**
     * One slot caught half-way through a move, step by step: the shard's batch key already on the target, its
     * other keys still on the source. Redis redirects a command (-ASK, -TRYAGAIN) only by the keys it declares, so
     * a script that built key names itself would run on the source, find the batch missing and answer 0: every
     * script declares every key it touches (plan.lua).
     *
     * @test
     */
    public function an_ack_while_its_shards_slot_is_half_moved_never_loses_the_batch(): void
    {
        $this->cluster = RedisCluster::start(3, 0);
        $this->useServer($this->cluster);
        $id = reg_buffer_push(1, ['half' => 'moved']);
        $batch = reg_buffer_flush(10, 60);
        self::assertSame([$id], self::ids($batch['rows']));
        [$batchKey] = $this->shardKeys('batch:' . $batch['batch']);
        $slot = (int) $this->cluster->masters()[0]->client()->rawCommand('CLUSTER', 'KEYSLOT', $batchKey);
        $source = $this->cluster->masterOfSlot($slot);
        $target = current(array_filter($this->cluster->masters(), fn ($m) => $m !== $source));
        $target->client()->rawCommand('CLUSTER', 'SETSLOT', $slot, 'IMPORTING', $this->cluster->nodeId($source));
        $source->client()->rawCommand('CLUSTER', 'SETSLOT', $slot, 'MIGRATING', $this->cluster->nodeId($target));
        self::assertTrue($source->client()->rawCommand('MIGRATE', '127.0.0.1', $target->port, '', 0, 5000, 'KEYS', $batchKey));

        // Redis cannot run one script over keys split between two nodes: it answers TRYAGAIN (declared keys) and the
        // ack throws, which a flusher treats as "not acknowledged yet". What it must never do is answer 0, as if the
        // batch were gone, while the batch still holds the registrations.
        try {
            $acked = reg_buffer_ack($batch['batch']);
        } catch (\RegBuffer\ConnectionException $e) {
            self::assertStringContainsString('TryAgain', $e->getMessage());
            $acked = null;
        }
        self::assertNotSame(0, $acked, 'the ack did not mistake the moving batch for an acknowledged one');

        // Finish the move; an ack that could not run now runs. The registration is gone for good, not handed out again.
        $this->cluster->cli(['--cluster', 'fix', '{node}', '--cluster-yes']);
        $this->cluster->waitUntilHealthy();
        if ($acked === null) {
            self::assertSame(1, reg_buffer_ack($batch['batch']), 'the ack, once the slot has moved');
        }
        self::assertSame([], reg_buffer_flush(10, 60)['rows']);
        self::assertSame(0, reg_buffer_stats()['buffered']);
    }

    /** @test */
    public function moving_slots_while_pushing_and_flushing_loses_and_doubles_nothing(): void
    {
        $this->cluster = RedisCluster::start(3, 0);
        $this->useServer($this->cluster);
        // The clients run as an ACL user with exactly the documented commands (those of a cluster while slots move).
        foreach ($this->cluster->nodes() as $node) {
            $node->client()->rawCommand('ACL', 'SETUSER', ...['app', 'on', '>pw', "~{$this->prefix}*", 'resetchannels', '-@all',
                ...array_map(fn ($c) => "+$c", [...AclTest::COMMANDS, ...AclTest::CLUSTER_COMMANDS, ...AclTest::RESHARD_COMMANDS])]);
        }
        ini_set('reg_buffer.redis_url', str_replace('://', '://app:pw@', $this->cluster->url()));
        $env = $this->workerEnv(['REG_BUFFER_TEST_RETRY_INTERVAL_MS' => '100']);
        $stop = $this->tempFile('stop');
        $stopFlushers = $this->tempFile('stop-flushers');
        $pushedFiles = $flushedFiles = $workers = [];
        for ($w = 0; $w < 2; $w++) {
            $pushedFiles[] = $file = $this->tempFile("pushed$w");
            $workers[] = PhpProcess::start('pusher_until_stopped', [$w, 16, $file, $stop], $env);
            $flushedFiles[] = $file = $this->tempFile("flushed$w");
            $workers[] = PhpProcess::start('flusher', [$file, $stopFlushers, 50, 30], $env);
        }
        $count = fn (array $files) => array_sum(array_map(fn ($f) => count(self::lines($f)), $files));
        $this->waitForWorkers(fn () => $count($flushedFiles) >= 200, $workers, 'the first flushed registrations');

        // Every slot of one master goes to another, then rebalance spreads them over all three again.
        [$from, $to] = $this->cluster->masters();
        $slot = (int) $from->client()->rawCommand('CLUSTER', 'KEYSLOT', $this->shardKeys('stats')[0]);
        $owner = $this->cluster->masterOfSlot($slot);
        $before = $count($pushedFiles);
        $this->cluster->cli(['--cluster', 'reshard', '{node}', '--cluster-from', $this->cluster->nodeId($owner),
            '--cluster-to', $this->cluster->nodeId($owner === $from ? $to : $from), '--cluster-slots', '16384', '--cluster-yes']);
        self::assertNotSame($owner, $this->cluster->masterOfSlot($slot), 'the slot of a shard in use moved');
        $this->cluster->cli(['--cluster', 'rebalance', '{node}', '--cluster-use-empty-masters']);
        $this->cluster->waitUntilHealthy();
        self::assertGreaterThan($before, $count($pushedFiles), 'the pushers pushed while slots moved');

        touch($stop);
        touch($stopFlushers);
        foreach ($workers as $p) {
            self::assertSame(0, $p->wait(90), 'worker: ' . $p->stderr());
            // A flusher says so when an ack removed fewer registrations than its batch held (within the lease).
            self::assertSame('', $p->stderr(), 'every ack removed its whole batch');
        }
        $succeeded = array_merge(...array_map(fn ($f) => self::lines($f), $pushedFiles));
        $failed = array_map(fn ($line) => explode("\t", $line, 3), array_merge(...array_map(fn ($f) => self::lines("$f.failed"), $pushedFiles)));
        foreach ($failed as [$class, $id, $message]) {
            self::assertRegistrationId($id, "$class: $message"); // it went to the plugin's fallback under this id
        }
        self::assertEveryPushStored($succeeded, array_column($failed, 1), $flushedFiles);
        $stats = reg_buffer_stats();
        self::assertSame(0, $stats['buffered'], 'nothing was left behind in a slot that moved');
        self::assertSame(0, $stats['lost']);
        foreach ($this->cluster->nodes() as $node) {
            self::assertSame([], $node->client()->rawCommand('ACL', 'LOG'), "ACL LOG of node {$node->port}: the documented commands sufficed");
        }
    }
}
