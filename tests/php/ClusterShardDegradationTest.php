<?php
// A Redis Cluster degrades by the shard: one master SIGKILLed while a process pushes steadily (and a flusher drains)
// costs the pushes to that master's shards for the failover, never those to the healthy masters; with
// durability=replica:1 and one replica per master, the promoted replica's shards fail fast (and fall back) while
// the others take every push. Nothing accepted is lost or doubled.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\RedisCluster;
use RegBuffer\Tests\Support\RedisServer;
use RegBuffer\Tests\Support\TestCase;

/**
 * Its own 3-master, 3-replica cluster (cluster-node-timeout 1 s, cluster-require-full-coverage no), since it kills a
 * master.
 *
 * @group cluster
 */
final class ClusterShardDegradationTest extends TestCase
{
    private const EVENTS = 48;
    private const RETRY_INTERVAL_MS = 1000;

    private ?RedisCluster $cluster = null;

    protected function tearDown(): void
    {
        $this->cluster?->stop();
        $this->cluster = null;
    }

    /** @test */
    public function with_local_durability_only_the_lost_master_s_shards_miss_pushes_and_claims_go_on(): void
    {
        [$victim, $victimEvents] = $this->startClusterAndPickVictim();
        $env = $this->workerEnv(['REG_BUFFER_TEST_RETRY_INTERVAL_MS' => (string) self::RETRY_INTERVAL_MS, 'REG_BUFFER_TEST_TIMEOUT_MS' => '1000']);
        $stop = $this->tempFile('stop');
        $log = $this->tempFile('pushes');
        $flushed = $this->tempFile('flushed');
        $pusher = PhpProcess::start('paced_pusher', [self::EVENTS, 2, $log, $stop], $env);
        $flusher = PhpProcess::start('flusher', [$flushed, $stop, 50, 2], $env);
        $this->waitForWorkers(fn () => count(self::lines($log)) >= 1000, [$pusher, $flusher], 'pushes before the kill');

        $killedAt = microtime(true);
        $flushedAtKill = count(self::lines($flushed));
        $this->cluster->killMasterAndWaitForFailover($victim);
        $failedOverAt = microtime(true);
        $flushedAtFailover = count(self::lines($flushed));
        $this->waitForWorkers(fn () => microtime(true) > $killedAt + 12, [$pusher, $flusher], 'twelve seconds after the kill');
        touch($stop);
        self::assertSame(0, $pusher->wait(60), 'pusher: ' . $pusher->stderr());
        self::assertSame(0, $flusher->wait(90), 'flusher: ' . $flusher->stderr());

        $pushes = $this->pushes($log);
        $after = array_filter($pushes, fn ($p) => $p['at'] >= $killedAt);
        $healthyAfter = array_filter($after, fn ($p) => !isset($victimEvents[$p['event']]));
        $summary = $this->summary($pushes, $killedAt, $failedOverAt, $victimEvents);
        self::assertGreaterThan(0, count($healthyAfter));
        self::assertSame([], array_values(array_map(fn ($p) => $p['message'], array_filter($healthyAfter, fn ($p) => !$p['ok']))), "a push to a healthy master failed: $summary");
        self::assertGreaterThanOrEqual(0.9, self::acceptedShare($after), "at least 90% of the pushes after the kill are accepted: $summary");
        self::assertGreaterThan($flushedAtKill, $flushedAtFailover, "the flusher stored registrations of the healthy shards during the failover ($summary)");

        // local durability: a push the master took just before it died may not have reached its replica (the
        // documented trade); every other accepted push is flushed, and none twice.
        [$missing, $doubled] = $this->flushedOnce($pushes, $flushed);
        foreach ($missing as $id) {
            $p = $pushes[$id];
            self::assertTrue(isset($victimEvents[$p['event']]) && $p['at'] > $killedAt - 0.5 && $p['at'] < $killedAt, "accepted push $id (event {$p['event']}) was lost: $summary");
        }
        self::assertSame([], $doubled, 'no registration is stored twice');
    }

    /** @test */
    public function with_replica_durability_a_master_without_replica_fails_fast_and_the_others_take_every_push(): void
    {
        [$victim, $victimEvents] = $this->startClusterAndPickVictim();
        $env = $this->workerEnv([
            'REG_BUFFER_TEST_DURABILITY' => 'replica:1:300',
            'REG_BUFFER_TEST_RETRY_INTERVAL_MS' => (string) self::RETRY_INTERVAL_MS,
            'REG_BUFFER_TEST_TIMEOUT_MS' => '1000',
            'REG_BUFFER_TEST_CONNECT_TIMEOUT_MS' => '200',
        ]);
        $stop = $this->tempFile('stop');
        $log = $this->tempFile('pushes');
        $pusher = PhpProcess::start('paced_pusher', [self::EVENTS, 2, $log, $stop], $env);
        $this->waitForWorkers(fn () => count(self::lines($log)) >= 1000, [$pusher], 'pushes before the kill');

        $killedAt = microtime(true);
        $promoted = $this->cluster->killMasterAndWaitForFailover($victim); // it has no replica of its own now
        $failedOverAt = microtime(true);
        $this->waitForWorkers(fn () => microtime(true) > $killedAt + 12, [$pusher], 'twelve seconds after the kill');
        // The operator sees which shards are degraded, and why.
        ini_set('reg_buffer.durability', 'replica:1:300');
        $stats = reg_buffer_stats();
        touch($stop);
        self::assertSame(0, $pusher->wait(60), 'pusher: ' . $pusher->stderr());

        $pushes = $this->pushes($log);
        $summary = $this->summary($pushes, $killedAt, $failedOverAt, $victimEvents);
        $after = array_filter($pushes, fn ($p) => $p['at'] >= $killedAt);
        $healthy = array_filter($after, fn ($p) => !isset($victimEvents[$p['event']]));
        self::assertGreaterThanOrEqual(0.99, self::acceptedShare($healthy), "pushes whose shard still has a replica: $summary");
        // The promoted master's shards: the first push of each hold-off waits out WAIT (300 ms), the rest fail fast.
        $degradedAfterFailover = array_filter($after, fn ($p) => isset($victimEvents[$p['event']]) && $p['at'] > $failedOverAt + 1);
        self::assertNotEmpty($degradedAfterFailover);
        $slow = array_filter($degradedAfterFailover, fn ($p) => $p['ms'] > 250);
        $victimShards = $this->shardsOfMaster($promoted);
        $windows = count($victimShards) * ((12 - ($failedOverAt - $killedAt)) * 1000 / self::RETRY_INTERVAL_MS + 2);
        self::assertLessThanOrEqual($windows, count($slow), "at most one push per shard and hold-off waits for WAIT: $summary");
        foreach ($degradedAfterFailover as $p) {
            self::assertLessThan(300 + 200 + 100, $p['ms'], "no push waits longer than WAIT's timeout plus a connect: $summary");
        }

        $byShard = array_column($stats['degraded'], 'why', 'shard');
        self::assertNotEmpty($victimShards);
        foreach ($victimShards as $k) {
            self::assertArrayHasKey($k, $byShard, 'stats name the promoted master\'s shard ' . $k . ': ' . json_encode($stats['degraded']));
            self::assertStringContainsString('replica', $byShard[$k]);
        }
        self::assertSame(count($stats['degraded']), $stats['shards_degraded']);
        self::assertSame(count($victimShards), $stats['shards_degraded'], json_encode($stats['degraded']));
        self::assertSame(16, $stats['shards']);
        self::assertFalse($stats['partial']);

        [$missing, $doubled] = $this->flushedOnce($pushes, null);
        self::assertSame([], $missing, "every accepted push is flushed (replica:1): $summary");
        self::assertSame([], $doubled);
    }

    /** @test */
    public function nothing_found_while_a_shard_is_unreachable_is_no_empty_buffer(): void
    {
        [$victim, $victimEvents] = $this->startClusterAndPickVictim();
        $onVictim = array_key_first($victimEvents);
        $elsewhere = min(array_diff(range(1, self::EVENTS), array_keys($victimEvents)));
        for ($i = 0; $i < 5; $i++) {
            reg_buffer_push($onVictim, ['i' => $i]);
        }
        // A damaged registration on a healthy shard: the claim quarantines it, which must not hide the lost shard.
        $damaged = reg_buffer_push($elsewhere, ['damaged' => true]);
        $this->client()->hSet($this->eventKey($elsewhere, 'd'), $damaged, 'garbage');
        ini_set('reg_buffer.retry_interval_ms', '0');
        $victim->kill();
        $e = self::assertThrows(\RegBuffer\ConnectionException::class, fn () => $this->drain(), 'a flush that passed over a lost shard does not answer "empty"');
        self::assertNotSame('', $e->getMessage());
        $stats = reg_buffer_stats();
        self::assertTrue($stats['partial'], 'stats say they are partial');
        self::assertSame('', $stats['epoch']);
        self::assertGreaterThanOrEqual(1, $stats['shards_degraded']);
    }

    /**
     * A 3+3 cluster (one replica per master); the victim is the master of shard 0, and the events it serves.
     *
     * @return array{0: RedisServer, 1: array<int, true>}
     */
    private function startClusterAndPickVictim(): array
    {
        // The healthy masters keep serving their slots while one master's are uncovered (docs/redis-setup.md).
        $this->cluster = RedisCluster::start(3, 1, 1000, null, ['--cluster-require-full-coverage', 'no']);
        $this->useServer($this->cluster);
        $victim = $this->cluster->masterOfSlot($this->slotOf('{s0}'));
        $victimShards = array_flip($this->shardsOfMaster($victim));
        $victimEvents = [];
        foreach ($this->shardsOf(range(1, self::EVENTS)) as $event => $shard) {
            if (isset($victimShards[$shard])) {
                $victimEvents[$event] = true;
            }
        }
        self::assertNotEmpty($victimEvents, 'some events live on the victim');
        self::assertLessThan(self::EVENTS, count($victimEvents), 'some events live elsewhere');
        return [$victim, $victimEvents];
    }

    /** The shards (0…15) whose slot $master serves. */
    private function shardsOfMaster(RedisServer $master): array
    {
        $shards = [];
        for ($k = 0; $k < 16; $k++) {
            if ($this->cluster->masterOfSlot($this->slotOf("{s$k}"))->port === $master->port) {
                $shards[] = $k;
            }
        }
        return $shards;
    }

    private function slotOf(string $key): int
    {
        foreach ($this->cluster->masters() as $node) {
            if ($node->isRunning()) {
                return (int) $node->client()->rawCommand('CLUSTER', 'KEYSLOT', $key);
            }
        }
        throw new \RuntimeException('no master is running');
    }

    /** The pusher's log by registration id (a failed push without an id is keyed by its line). */
    private function pushes(string $log): array
    {
        $pushes = [];
        foreach (self::lines($log) as $n => $line) {
            [$at, $event, $outcome, $id, $ms, $message] = explode("\t", $line, 6) + [5 => ''];
            $pushes[$id !== '' ? $id : "line$n"] = ['at' => (float) $at, 'event' => (int) $event, 'ok' => $outcome === 'ok', 'ms' => (float) $ms, 'message' => $message, 'id' => $id];
        }
        return $pushes;
    }

    private static function acceptedShare(array $pushes): float
    {
        return $pushes === [] ? 0.0 : count(array_filter($pushes, fn ($p) => $p['ok'])) / count($pushes);
    }

    /** What happened, for failure messages: pushes before / after the kill, accepted, to the victim's shards. */
    private function summary(array $pushes, float $killedAt, float $failedOverAt, array $victimEvents): string
    {
        $after = array_filter($pushes, fn ($p) => $p['at'] >= $killedAt);
        $victim = array_filter($after, fn ($p) => isset($victimEvents[$p['event']]));
        $failed = array_filter($after, fn ($p) => !$p['ok']);
        return sprintf(
            '%d pushes, %d after the kill (%.1f%% accepted; %d to the victim\'s shards, %.1f%% of them accepted); failover took %.1f s; first failures: %s',
            count($pushes), count($after), 100 * self::acceptedShare($after), count($victim), 100 * self::acceptedShare($victim),
            $failedOverAt - $killedAt, json_encode(array_slice(array_values(array_map(fn ($p) => $p['message'], $failed)), 0, 2)),
        );
    }

    /**
     * Drains what is left (after what $flushedLog's flusher stored); returns the accepted ids never stored, and the
     * ids stored by two batches that were both acknowledged (a batch whose ack failed comes back: storing it again
     * is the flush's idempotent repeat, by id).
     */
    private function flushedOnce(array $pushes, ?string $flushedLog): array
    {
        ini_set('reg_buffer.durability', 'local');
        $stored = $acked = [];
        $unacked = $flushedLog === null ? [] : array_flip(self::lines("$flushedLog.unacked"));
        foreach ($flushedLog === null ? [] : self::lines($flushedLog) as $line) {
            [$batch, $id] = explode("\t", $line);
            $stored[$id] = true;
            if (!isset($unacked[$batch])) {
                $acked[$id] = ($acked[$id] ?? 0) + 1;
            }
        }
        foreach ($this->drain() as $row) {
            $stored[$row['id']] = true;
            $acked[$row['id']] = ($acked[$row['id']] ?? 0) + 1;
        }
        $accepted = array_keys(array_filter($pushes, fn ($p) => $p['ok']));
        $known = array_flip(array_column($pushes, 'id'));
        self::assertSame([], array_values(array_filter(array_keys($stored), fn ($id) => !isset($known[$id]))), 'nothing that was never pushed');
        return [array_values(array_diff($accepted, array_keys($stored))), array_keys(array_filter($acked, fn ($n) => $n > 1))];
    }
}
