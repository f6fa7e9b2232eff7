<?php
// reg_buffer.durability=replica:1 on a Redis Cluster: a master SIGKILLed while pushers run loses no registration
// whose push returned an id; a push that threw carries its id, for the plugin's MySQL fallback.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\ConnectionException;
use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\RedisCluster;
use RegBuffer\Tests\Support\TestCase;

/**
 * A cluster of its own, since it kills a master: 3 masters with 2 replicas each (cluster-node-timeout 1 s), so that
 * the promoted replica still has one to satisfy replica:1.
 *
 * @group cluster
 */
final class ClusterFailoverTest extends TestCase
{
    private ?RedisCluster $cluster = null;

    protected function tearDown(): void
    {
        $this->cluster?->stop();
        $this->cluster = null;
    }

    /** @test */
    public function every_push_that_returned_an_id_is_flushed_exactly_once_after_a_master_is_killed(): void
    {
        $this->cluster = RedisCluster::start(3, 2, 1000);
        $this->useServer($this->cluster);
        $env = $this->workerEnv(['REG_BUFFER_TEST_DURABILITY' => 'replica:1:2000', 'REG_BUFFER_TEST_RETRY_INTERVAL_MS' => '100', 'REG_BUFFER_TEST_TIMEOUT_MS' => '3000']);
        $stop = $this->tempFile('stop');
        $files = $pushers = [];
        for ($w = 0; $w < 3; $w++) {
            $files[] = $file = $this->tempFile("pushed$w");
            $pushers[] = PhpProcess::start('pusher_until_stopped', [$w, 16, $file, $stop], $env);
        }
        $pushed = fn () => array_sum(array_map(fn ($f) => count(self::lines($f)), $files));
        $this->waitForWorkers(fn () => $pushed() >= 300, $pushers, 'pushes before the kill');

        // The master that holds event 1's keys (and other shards' keys) dies without a word, while its replicas lag
        // behind: it has writes they never got (with durability=local those pushes returned ids, and are lost).
        $victim = $this->cluster->masterOfSlot($this->slotOf($this->eventKey(1, 'd')));
        $this->cluster->stallReplicasOf($victim, 2);
        $promoted = $this->cluster->killMasterAndWaitForFailover($victim);
        $this->cluster->waitForReplicaOf($promoted); // its sibling replica follows it: replica:1 can hold again
        $atFailover = $pushed();
        $this->waitForWorkers(fn () => $pushed() >= $atFailover + 300, $pushers, 'pushes after the failover');
        touch($stop);
        foreach ($pushers as $p) {
            self::assertSame(0, $p->wait(60), 'pusher: ' . $p->stderr());
        }

        $succeeded = array_merge(...array_map(fn ($f) => self::lines($f), $files));
        $failed = array_map(fn ($line) => explode("\t", $line, 3), array_merge(...array_map(fn ($f) => self::lines("$f.failed"), $files)));
        foreach ($failed as [$class, $id, $message]) {
            self::assertSame(ConnectionException::class, $class, $message);
            self::assertRegistrationId($id, $message); // the plugin stores the registration under this id
        }
        self::assertCount(count($succeeded), array_unique($succeeded));

        // Seeds: the dead master first; the client finds the living nodes.
        ini_set('reg_buffer.redis_url', $this->cluster->url([$victim, $promoted]));
        $stored = array_count_values(self::ids($this->drain()));
        $failedIds = array_column($failed, 1);
        self::assertSame([], array_values(array_diff($succeeded, array_keys($stored))), sprintf(
            'every push that returned an id is flushed (%d returned an id, %d threw and went to the fallback)', count($succeeded), count($failed)));
        self::assertSame([], array_keys(array_filter($stored, fn ($n) => $n > 1)), 'none is flushed twice');
        self::assertSame([], array_values(array_diff(array_keys($stored), $succeeded, $failedIds)), 'nothing that was never pushed');
        self::assertSame(0, reg_buffer_stats()['lost']);
    }

    /** The hash slot of $key (CLUSTER KEYSLOT). */
    private function slotOf(string $key): int
    {
        return (int) $this->cluster->masters()[0]->client()->rawCommand('CLUSTER', 'KEYSLOT', $key);
    }
}
