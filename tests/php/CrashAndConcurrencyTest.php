<?php
// Many processes at once, processes killed mid-work, Redis killed mid-run, fork: nothing lost, nothing doubled.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\TestCase;

final class CrashAndConcurrencyTest extends TestCase
{
    /** @test */
    public function a_flusher_killed_between_claim_and_ack_loses_nothing(): void
    {
        $ids = [];
        $events = $this->eventsOfOneShard(2);
        for ($i = 0; $i < 20; $i++) {
            $ids[] = reg_buffer_push($events[$i % 2], ['i' => $i]);
        }
        $flusher = PhpProcess::start('claim_and_hang', [100, 2], $this->workerEnv());
        self::assertTrue($flusher->waitForOutput("\n", 30), 'the flusher claimed: ' . $flusher->stderr());
        $leaseEndsBy = microtime(true) + 2;
        self::assertSame(1, preg_match('/^claimed (.*)$/m', $flusher->stdout(), $m));
        $claimed = json_decode($m[1], true, 512, JSON_THROW_ON_ERROR);
        self::assertEqualsCanonicalizing($ids, $claimed, 'it claimed everything');
        $flusher->kill(); // SIGKILL: no ack, no shutdown
        self::assertSame(137, $flusher->wait());

        self::assertSame([], reg_buffer_flush(100)['rows'], 'still leased to the dead flusher');
        self::assertSame(20, reg_buffer_stats()['in_flight']);
        usleep((int) (max(0, $leaseEndsBy - microtime(true)) * 1e6) + 200_000);
        $rows = $this->drain(100);
        self::assertEqualsCanonicalizing($ids, self::ids($rows), 'the whole batch came back after the lease');
        $stats = reg_buffer_stats();
        self::assertSame(20, $stats['redelivered']);
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(0, $stats['buffered']);
    }

    /** @test */
    public function four_pushers_and_two_flushers_at_once_store_every_registration_exactly_once(): void
    {
        $perPusher = 1000;
        $stop = $this->tempFile('stop');
        $startAt = sprintf('%.6f', microtime(true) + 0.5);
        $pushers = $flushers = $pushedFiles = $flushedFiles = [];
        for ($f = 0; $f < 2; $f++) {
            $flushedFiles[] = $file = $this->tempFile("flushed$f");
            $flushers[] = PhpProcess::start('flusher', [$file, $stop, 50, 30], $this->workerEnv());
        }
        for ($w = 0; $w < 4; $w++) {
            $pushedFiles[] = $file = $this->tempFile("pushed$w");
            $pushers[] = PhpProcess::start('pusher', [$w, $perPusher, 7, $file, $startAt], $this->workerEnv());
        }
        foreach ($pushers as $p) {
            self::assertSame(0, $p->wait(90), 'pusher: ' . $p->stderr());
        }
        touch($stop);
        foreach ($flushers as $p) {
            self::assertSame(0, $p->wait(90), 'flusher: ' . $p->stderr());
            self::assertSame('', $p->stderr());
        }

        $pushed = [];
        foreach ($pushedFiles as $file) {
            array_push($pushed, ...self::lines($file));
            self::assertSame([], self::lines("$file.unknown"), 'no push failed');
        }
        self::assertCount(4 * $perPusher, $pushed);
        self::assertCount(4 * $perPusher, array_unique($pushed), 'every push got its own id');
        $acked = [];
        $batches = [];
        foreach ($flushedFiles as $file) {
            foreach (self::lines($file) as $line) {
                [$batch, $id] = explode("\t", $line);
                $acked[] = $id;
                $batches[$batch] = true;
            }
        }
        self::assertGreaterThan(1, count($batches));
        self::assertCount(count($acked), array_unique($acked), 'no registration was in two acknowledged batches');
        self::assertEqualsCanonicalizing($pushed, $acked, 'every pushed registration was flushed');
        $stats = reg_buffer_stats();
        self::assertSame(0, $stats['pending']);
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(0, $stats['buffered']);
        self::assertSame(0, $stats['redelivered']);
        self::assertSame(4 * $perPusher, $stats['pushed']);
        self::assertSame(4 * $perPusher, $stats['acked']);
    }

    /**
     * Single node only: kills and restarts a server of its own (ClusterFailoverTest kills a cluster master).
     *
     * @test
     * @group single-node
     */
    public function every_push_that_returned_an_id_survives_redis_being_killed_and_restarted(): void
    {
        $server = self::extraServer(persistent: true);
        $this->useServer($server);
        $env = $this->workerEnv(['REG_BUFFER_TEST_RETRY_INTERVAL_MS' => '50', 'REG_BUFFER_TEST_CONNECT_TIMEOUT_MS' => '500', 'REG_BUFFER_TEST_TIMEOUT_MS' => '2000']);
        $files = [];
        $pushers = [];
        for ($w = 0; $w < 2; $w++) {
            $files[] = $file = $this->tempFile("pushed$w");
            $pushers[] = PhpProcess::start('pusher', [$w, 800, 5, $file, microtime(true)], $env);
        }
        // Kill Redis once the pushers are well under way, keep it down a moment, bring it back from its AOF.
        $deadline = microtime(true) + 30;
        while (count(self::lines($files[0])) + count(self::lines($files[1])) < 200 && microtime(true) < $deadline) {
            usleep(5_000);
        }
        $server->kill();
        $atKill = count(self::lines($files[0])) + count(self::lines($files[1]));
        usleep(400_000);
        $server->restart();
        foreach ($pushers as $p) {
            self::assertSame(0, $p->wait(90), 'pusher: ' . $p->stderr());
        }
        self::assertLessThan(1600, $atKill, 'Redis was killed mid-run');

        $this->waitUntilReachable();
        $lines = [...self::lines($files[0]), ...self::lines($files[1])];
        self::assertCount(1600, $lines);
        // A retry after an unknown outcome may find its own first attempt stored: the unique key answers "duplicate".
        $succeeded = array_values(array_filter($lines, fn ($l) => !str_starts_with($l, 'duplicate ')));
        $unknown = [...self::lines("{$files[0]}.unknown"), ...self::lines("{$files[1]}.unknown")];
        self::assertNotEmpty($unknown, 'some pushes met the dead server');
        $rows = $this->drain(1000);
        $flushed = self::ids($rows);
        self::assertCount(count($flushed), array_unique($flushed), 'nothing flushed twice');
        self::assertSame([], array_values(array_diff($succeeded, $flushed)), 'every push that returned an id is flushed');
        self::assertSame([], array_values(array_diff($flushed, $succeeded, $unknown)), 'nothing that was never pushed');
        $registrations = array_map(fn ($r) => $r['data']['worker'] . '-' . $r['data']['i'], $rows);
        sort($registrations);
        $expected = [];
        for ($w = 0; $w < 2; $w++) {
            for ($i = 0; $i < 800; $i++) {
                $expected[] = "$w-$i";
            }
        }
        sort($expected);
        self::assertSame($expected, $registrations, 'each registration stored exactly once');
    }

    /** @test */
    public function a_forked_child_gets_its_own_connection(): void
    {
        if (!function_exists('pcntl_fork')) {
            self::markTestSkipped('pcntl is not available');
        }
        $parentIds = [reg_buffer_push(1, ['who' => 'parent', 'i' => -1])];
        $childOut = $this->tempFile('child');
        $pid = pcntl_fork();
        self::assertNotSame(-1, $pid);
        if ($pid === 0) {
            // The child: push concurrently with the parent, then leave without running PHP's shutdown
            // (that is PHPUnit's and the bootstrap's business) by replacing the process image.
            $lines = [];
            try {
                for ($i = 0; $i < 200; $i++) {
                    $lines[] = reg_buffer_push(1, ['who' => 'child', 'i' => $i]);
                }
            } catch (\Throwable $e) {
                $lines[] = 'error ' . get_class($e) . ': ' . $e->getMessage();
            }
            file_put_contents($childOut, implode("\n", $lines) . "\n");
            pcntl_exec('/bin/true');
            posix_kill(posix_getpid(), SIGKILL);
        }
        for ($i = 0; $i < 200; $i++) {
            $parentIds[] = reg_buffer_push(1, ['who' => 'parent', 'i' => $i]);
        }
        pcntl_waitpid($pid, $status);
        self::assertTrue(pcntl_wifexited($status) && pcntl_wexitstatus($status) === 0, 'the child exited cleanly');
        $childIds = self::lines($childOut);
        self::assertCount(200, $childIds, implode("\n", array_slice($childIds, -3)));
        foreach ([...$parentIds, ...$childIds] as $id) {
            self::assertRegistrationId($id);
        }
        $rows = $this->drain(1000);
        self::assertEqualsCanonicalizing([...$parentIds, ...$childIds], self::ids($rows));
        $byId = array_column($rows, 'data', 'id');
        foreach ($childIds as $i => $id) {
            self::assertSame(['who' => 'child', 'i' => $i], $byId[$id], 'each reply went to the process that asked');
        }
        self::assertSame(['who' => 'parent', 'i' => 199], $byId[end($parentIds)]);
        self::assertRegistrationId(reg_buffer_push(1, ['parent still works' => true]));
    }

    /** @test */
    public function a_child_exiting_normally_does_not_break_the_parents_connection(): void
    {
        if (!function_exists('pcntl_fork')) {
            self::markTestSkipped('pcntl is not available');
        }
        [$code, $out, $err] = PhpProcess::run('fork_child_exit', [], $this->workerEnv());
        self::assertSame(0, $code, $err);
        $result = json_decode($out, true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(0, $result['child_status']);
        self::assertCount(51, $result['parent']);
        self::assertCount(50, $result['child']);
        $rows = $this->drain();
        self::assertEqualsCanonicalizing([...$result['parent'], ...$result['child']], self::ids($rows));
        $byId = array_column($rows, 'data', 'id');
        foreach ($result['parent'] as $i => $id) {
            self::assertSame(['who' => 'parent', 'i' => $i], $byId[$id]);
        }
    }

    /**
     * Single node only: kills and restarts a server of its own (ClusterFailoverTest kills a cluster master).
     *
     * @test
     * @group single-node
     */
    public function pushers_and_a_flusher_through_a_redis_kill_and_restart_store_everything_at_least_once(): void
    {
        $server = self::extraServer(persistent: true);
        $this->useServer($server);
        $env = $this->workerEnv(['REG_BUFFER_TEST_RETRY_INTERVAL_MS' => '50', 'REG_BUFFER_TEST_CONNECT_TIMEOUT_MS' => '500', 'REG_BUFFER_TEST_TIMEOUT_MS' => '2000']);
        $stop = $this->tempFile('stop');
        $flushed = $this->tempFile('flushed');
        $flusher = PhpProcess::start('flusher', [$flushed, $stop, 20, 2], $env);
        $files = $pushers = [];
        for ($w = 0; $w < 2; $w++) {
            $files[] = $file = $this->tempFile("pushed$w");
            $pushers[] = PhpProcess::start('pusher', [$w, 600, 3, $file, microtime(true)], $env);
        }
        $deadline = microtime(true) + 30;
        while (count(self::lines($flushed)) < 200 && microtime(true) < $deadline) {
            usleep(5_000);
        }
        $server->kill();
        usleep(400_000);
        $server->restart();
        foreach ($pushers as $p) {
            self::assertSame(0, $p->wait(90), 'pusher: ' . $p->stderr());
        }
        touch($stop);
        self::assertSame(0, $flusher->wait(90), 'flusher: ' . $flusher->stderr());

        $succeeded = array_values(array_filter([...self::lines($files[0]), ...self::lines($files[1])], fn ($l) => !str_starts_with($l, 'duplicate ')));
        $unknown = [...self::lines("{$files[0]}.unknown"), ...self::lines("{$files[1]}.unknown")];
        self::assertEveryPushStored($succeeded, $unknown, [$flushed]);
        $this->waitUntilReachable();
        $stats = reg_buffer_stats();
        self::assertSame(0, $stats['pending']);
        self::assertSame(0, $stats['in_flight']);
    }
}
