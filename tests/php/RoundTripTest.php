<?php
// What reaches Redis: one command per push, claim and ack; SCAN, never KEYS.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\TestCase;

/**
 * Single node only: MONITOR and INFO commandstats of the one server.
 *
 * @group single-node
 */
final class RoundTripTest extends TestCase
{
    /**
     * Runs each operation while redis-cli MONITOR watches, and returns, per operation, the commands clients sent
     * (commands run inside a script are marked "lua" by MONITOR and left out).
     *
     * @param array<string, callable> $operations
     * @return array<string, list<string>>
     */
    private function monitored(array $operations): array
    {
        $log = $this->tempFile('monitor');
        $monitor = proc_open(['redis-cli', '-p', (string) self::redis()->port, 'monitor'], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
        self::assertIsResource($monitor);
        try {
            $probe = $this->client();
            $until = fn (string $text) => self::waitFor(fn () => str_contains((string) file_get_contents($log), $text));
            $until('OK');
            foreach ($operations as $name => $operation) {
                $probe->echo("mark:$name");
                $operation();
            }
            $probe->echo('mark:end');
            $until('mark:end');
        } finally {
            proc_terminate($monitor, SIGKILL);
            proc_close($monitor);
        }
        $sent = [];
        $current = null;
        foreach (explode("\n", (string) file_get_contents($log)) as $line) {
            if (preg_match('/"ECHO" "mark:([^"]+)"/i', $line, $m)) {
                $current = $m[1];
                $sent[$current] ??= [];
            } elseif ($current !== null && preg_match('/^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/', $line, $m) && $m[1] !== 'lua') {
                $sent[$current][] = strtolower($m[2]);
            }
        }
        unset($sent['end']);
        return $sent;
    }

    private static function waitFor(callable $condition, float $timeout = 10): void
    {
        $deadline = microtime(true) + $timeout;
        while (!$condition()) {
            self::assertLessThan($deadline, microtime(true), 'timed out waiting for redis-cli monitor');
            usleep(10_000);
        }
    }

    /** @test */
    public function push_takes_one_round_trip_and_claim_and_ack_two(): void
    {
        // Warm up: the first use of each script may load it.
        reg_buffer_push(1, ['warm' => true], 'warm@example.com');
        reg_buffer_ack(reg_buffer_flush(10)['batch']);
        $batch = null;
        $sent = $this->monitored([
            'push' => fn () => reg_buffer_push(1, ['a' => 1], 'ada@example.com'),
            'duplicate push' => fn () => reg_buffer_push(1, ['a' => 1], 'ada@example.com'),
            'push without a unique key' => fn () => reg_buffer_push(2, ['b' => 1]),
            'claim' => function () use (&$batch) {
                $batch = reg_buffer_flush(10);
            },
            'ack' => function () use (&$batch) {
                reg_buffer_ack($batch['batch']);
            },
        ]);
        self::assertCount(2, $batch['rows']);
        // A claim first reads what it will touch (a read-only script), an ack its batch: each script then declares
        // every key it uses, which a Redis Cluster needs to redirect it correctly while a slot moves.
        // A push with no limit and no seats is a transaction written at once (one round trip; MONITOR lists its
        // commands): the data, its name in the inbox, and what the cap reads (the counters, the other list's
        // length). With a unique key the registration is held by the key's marker, taken with SET NX, and named in
        // the held list until a claim files it; a duplicate then removes the entry it named (a second round trip,
        // for duplicates only: the claim above got two rows, not three).
        $expected = [
            'push' => ['multi', 'set', 'rpush', 'hmget', 'llen', 'exec'],
            'duplicate push' => ['multi', 'set', 'rpush', 'hmget', 'llen', 'exec', 'evalsha'],
            'push without a unique key' => ['multi', 'hset', 'rpush', 'hmget', 'llen', 'exec'],
            'claim' => ['evalsha', 'evalsha'],
            'ack' => ['lrange', 'evalsha'],
        ];
        foreach ($sent as $operation => $commands) {
            self::assertSame($expected[$operation] ?? ['evalsha'], $commands, "$operation: its round trips");
        }
        self::assertCount(5, $sent);
    }

    /** @test */
    public function never_uses_keys(): void
    {
        $probe = $this->client();
        $probe->rawCommand('CONFIG', 'RESETSTAT');
        $probe->lPush('event_reg_buffer:3', json_encode(['timestamp' => 1_700_000_000, 'registration_details' => ['x' => 1]]));
        reg_buffer_import_legacy();
        reg_buffer_push(1, ['a' => 1], 'ada@example.com');
        reg_buffer_range(1, 0, INF);
        reg_buffer_stats();
        $this->drain();
        $commands = [];
        foreach ($probe->info('commandstats') as $name => $line) {
            $commands[substr((string) $name, strlen('cmdstat_'))] = true;
        }
        self::assertArrayHasKey('scan', $commands, 'import_legacy walks the keyspace with SCAN');
        self::assertArrayNotHasKey('keys', $commands);
    }
}
