<?php
// reg_buffer.durability: "local" (the default) returns once the master has the write; "replica:N[:timeout_ms]"
// only once N replicas have it (WAIT), else push throws ConnectionException carrying the registration id.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\ConnectionException;
use RegBuffer\Tests\Support\RedisCluster;
use RegBuffer\Tests\Support\RedisServer;
use RegBuffer\Tests\Support\TestCase;

final class DurabilityTest extends TestCase
{
    /** @var list<RedisServer> */
    private array $own = [];

    protected function tearDown(): void
    {
        foreach ($this->own as $server) {
            $server->stop();
        }
        $this->own = [];
    }

    /** Replicas the suite's Redis has per master: none for the single server, one in the cluster. */
    private static function replicasPerMaster(): int
    {
        return self::isCluster() ? 1 : 0;
    }

    /** @test */
    public function local_is_the_default_and_needs_no_replica(): void
    {
        self::assertSame('local', ini_get('reg_buffer.durability'));
        $id = reg_buffer_push(1, ['a' => 1]);
        self::assertRegistrationId($id);
        self::assertSame([$id], self::ids($this->drain()));
    }

    /** @test */
    public function a_push_fewer_replicas_acknowledged_than_asked_throws_with_its_id_and_the_count(): void
    {
        $have = self::replicasPerMaster();
        ini_set('reg_buffer.durability', 'replica:' . ($have + 1) . ':200');
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['a' => 1]));
        self::assertRegistrationId($e->getRegistrationId(), 'the plugin writes the registration to MySQL under this id');
        self::assertMatchesRegularExpression("/\\b$have\\b/", $e->getMessage(), "the message tells how many replicas acknowledged ($have)");
        self::assertStringContainsStringIgnoringCase('replica', $e->getMessage());
        // The master has it: a flush may deliver it too, under the same id, so the fallback's copy is not doubled.
        ini_set('reg_buffer.durability', 'local');
        self::assertContains(self::ids($this->drain()), [[], [$e->getRegistrationId()]]);
    }

    /** @test */
    public function a_shard_short_of_replicas_holds_its_pushes_off_instead_of_waiting_each_time(): void
    {
        $want = self::replicasPerMaster() + 1;
        ini_set('reg_buffer.durability', "replica:$want:300");
        // 0 first: a hold-off left by an earlier test of this process has run out (it is read against the setting).
        ini_set('reg_buffer.retry_interval_ms', '0');
        $start = microtime(true);
        $first = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['n' => 1]));
        self::assertGreaterThanOrEqual(0.29, microtime(true) - $start, 'the first push waited for the replicas');
        ini_set('reg_buffer.retry_interval_ms', '1500');
        self::assertLessThan(1.0, microtime(true) - $start, 'its hold-off has not run out yet');
        $start = microtime(true);
        $second = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['n' => 2]));
        self::assertLessThan(0.1, microtime(true) - $start, 'the next push to the shard fails at once');
        self::assertStringContainsString('held off', $second->getMessage());
        self::assertRegistrationId($second->getRegistrationId(), 'the plugin stores it elsewhere under this id');
        $stats = reg_buffer_stats();
        self::assertNotEmpty($stats['degraded'], 'stats name the degraded shard');
        self::assertStringContainsString("of the $want replica", implode(' ', array_column($stats['degraded'], 'why')));
        self::assertGreaterThanOrEqual(1, $stats['shards_degraded']);
        // Claims and acks go on (the first push is on the master): a flush drains the shard.
        ini_set('reg_buffer.durability', 'local');
        self::assertSame([$first->getRegistrationId()], self::ids($this->drain()));
        self::assertRegistrationId(reg_buffer_push(1, ['n' => 3]), 'local durability holds nothing off');
        // Once retry_interval_ms has passed, a push tries (and waits) again.
        ini_set('reg_buffer.durability', "replica:$want:300");
        usleep(1_600_000);
        $start = microtime(true);
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['n' => 4]));
        self::assertGreaterThanOrEqual(0.29, microtime(true) - $start);
        ini_set('reg_buffer.durability', 'local');
    }

    /** @test */
    public function an_ack_fewer_replicas_acknowledged_than_asked_still_counts_so_a_flush_drains_on(): void
    {
        reg_buffer_push(1, ['a' => 1]);
        reg_buffer_push(1, ['a' => 2]);
        $batch = reg_buffer_flush(1);
        ini_set('reg_buffer.durability', 'replica:' . (self::replicasPerMaster() + 1) . ':200');
        $start = microtime(true);
        self::assertSame(1, reg_buffer_ack($batch['batch']), 'the batch left the master');
        self::assertGreaterThanOrEqual(0.19, microtime(true) - $start, 'it waited for the replicas');
        $next = reg_buffer_flush(1);
        self::assertCount(1, $next['rows'], 'the next claim is not held off');
        self::assertSame(1, reg_buffer_ack($next['batch']));
        ini_set('reg_buffer.durability', 'local');
        self::assertSame(0, reg_buffer_stats()['pending']);
    }

    /** @test */
    public function with_replica_1_a_push_returns_only_once_a_replica_has_the_registration(): void
    {
        if (self::isCluster()) {
            $replica = null; // found once the key exists
        } else {
            $master = $this->own[] = RedisServer::start();
            $replica = $this->own[] = RedisServer::start(false, null, ['--replicaof', '127.0.0.1', (string) $master->port]);
            $this->waitForReplication($replica);
            $this->useServer($master);
        }
        ini_set('reg_buffer.durability', 'replica:1:5000');
        for ($i = 0; $i < 20; $i++) {
            $id = reg_buffer_push(1, ['i' => $i]);
            self::assertRegistrationId($id);
            $data = $this->eventKey(1, 'd');
            $replica ??= $this->replicaOf($data);
            // Read from the replica right away: WAIT returned, so it has the write (READONLY: a cluster replica serves reads).
            $client = $replica->client();
            if (self::isCluster()) {
                $client->rawCommand('READONLY');
            }
            self::assertTrue($client->hExists($data, $id), "the replica has registration $i as soon as push returned");
        }
        self::assertCount(20, $this->drain(), 'ack waited for the replica too, and succeeded');
        if (self::isCluster()) {
            return;
        }
        $replica->kill();
        ini_set('reg_buffer.durability', 'replica:1:200');
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['after' => 'the replica died']));
        self::assertRegistrationId($e->getRegistrationId());
        self::assertMatchesRegularExpression('/\b0\b/', $e->getMessage(), 'no replica acknowledged');
    }

    /** @test */
    public function a_malformed_durability_is_refused_naming_the_setting(): void
    {
        foreach (['replica', 'replica:', 'replica:x', 'replica:1:soon', 'quorum', 'replica:-1'] as $bad) {
            if (ini_set('reg_buffer.durability', $bad) === false) {
                continue; // refused at ini_set() already
            }
            $e = self::assertThrows(\Throwable::class, fn () => reg_buffer_push(1, []), $bad);
            self::assertStringContainsString('reg_buffer.durability', $e->getMessage(), $bad);
            ini_restore('reg_buffer.durability');
        }
        $this->assertNothingWritten();
    }

    private function replicaOf(string $key): RedisServer
    {
        /** @var RedisCluster $cluster */
        $cluster = self::redis();
        $slot = (int) $cluster->masters()[0]->client()->rawCommand('CLUSTER', 'KEYSLOT', $key);
        return $cluster->replicasOf($cluster->masterOfSlot($slot))[0];
    }

    private function waitForReplication(RedisServer $replica, float $timeout = 30): void
    {
        $deadline = microtime(true) + $timeout;
        while (!$replica->replicaInSync()) {
            self::assertLessThan($deadline, microtime(true), 'the replica never synced');
            usleep(20_000);
        }
    }
}
