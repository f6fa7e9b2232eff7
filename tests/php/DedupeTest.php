<?php
// Dedupe by unique key: per event, atomic across processes, remembered after flush, stored only as a digest.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\TestCase;

final class DedupeTest extends TestCase
{
    /** @test */
    public function a_second_push_with_the_same_unique_key_returns_false_and_buffers_nothing(): void
    {
        $first = reg_buffer_push(1, ['name' => 'Ada'], 'ada@example.com');
        self::assertRegistrationId($first);
        // Every key but the counters' (the duplicate is counted there).
        $registrationKeys = fn () => array_values(array_filter($this->keys(), fn ($k) => !str_ends_with($k, 'stats')));
        $keysBefore = $registrationKeys();
        $data = $this->eventKey(1, 'd');
        $dataBefore = $this->client()->hGetAll($data);
        self::assertFalse(reg_buffer_push(1, ['name' => 'Ada again'], 'ada@example.com'));
        self::assertSame($keysBefore, $registrationKeys());
        self::assertSame($dataBefore, $this->client()->hGetAll($data));
        $stats = reg_buffer_stats();
        self::assertSame(1, $stats['pending']);
        self::assertSame(1, $stats['duplicates']);
        $rows = $this->drain();
        self::assertSame([$first], self::ids($rows));
        self::assertSame(['name' => 'Ada'], $rows[0]['data'], 'the first one wins');
    }

    /** @test */
    public function the_unique_key_is_still_refused_after_the_first_was_flushed_and_acked(): void
    {
        self::assertRegistrationId(reg_buffer_push(1, ['n' => 1], 'ada@example.com'));
        self::assertCount(1, $this->drain());
        self::assertSame(0, reg_buffer_stats()['pending']);
        self::assertFalse(reg_buffer_push(1, ['n' => 2], 'ada@example.com'));
        self::assertSame([], reg_buffer_flush()['rows']);
    }

    /** @test */
    public function the_unique_key_is_refused_while_the_first_is_in_flight(): void
    {
        reg_buffer_push(1, ['n' => 1], 'ada@example.com');
        $batch = reg_buffer_flush();
        self::assertFalse(reg_buffer_push(1, ['n' => 2], 'ada@example.com'));
        self::assertSame(1, reg_buffer_ack($batch['batch']));
        self::assertSame([], reg_buffer_flush()['rows']);
    }

    /** @test */
    public function dedupe_is_per_event(): void
    {
        $a = reg_buffer_push(1, ['n' => 1], 'ada@example.com');
        $b = reg_buffer_push(2, ['n' => 2], 'ada@example.com');
        self::assertRegistrationId($a);
        self::assertRegistrationId($b);
        self::assertFalse(reg_buffer_push(2, ['n' => 3], 'ada@example.com'));
        $rows = $this->drain();
        self::assertEqualsCanonicalizing([$a, $b], self::ids($rows));
    }

    /** @test */
    public function different_unique_keys_are_not_duplicates(): void
    {
        self::assertRegistrationId(reg_buffer_push(1, [], 'ada@example.com'));
        self::assertRegistrationId(reg_buffer_push(1, [], 'Ada@example.com'), 'keys are compared byte for byte');
        self::assertRegistrationId(reg_buffer_push(1, [], 'ada@example.com '));
        self::assertCount(3, $this->drain());
    }

    /** @test */
    public function pushes_without_a_unique_key_are_never_deduped(): void
    {
        $a = reg_buffer_push(1, ['same' => 1]);
        $b = reg_buffer_push(1, ['same' => 1]);
        $c = reg_buffer_push(1, ['same' => 1], null);
        self::assertCount(3, array_unique([$a, $b, $c]));
        self::assertCount(3, $this->drain());
    }

    /** @test */
    public function only_a_digest_of_the_unique_key_is_stored(): void
    {
        $email = 'grace.hopper@example.com';
        $redis = $this->client();
        reg_buffer_push(5, ['name' => 'Grace'], $email);
        foreach ($this->keys($redis) as $key) {
            self::assertStringNotContainsStringIgnoringCase('grace', $key, 'no key name holds the e-mail address');
        }
        $markers = $this->keys($redis, $this->eventKey(5, 'u:*', true));
        self::assertCount(1, $markers, 'one marker for the unique key');
        self::assertMatchesRegularExpression('/:u:[0-9a-f]{16,64}$/', $markers[0], 'the marker is named by a hex digest');

        self::assertCount(1, $this->drain());
        foreach ($this->keys($redis) as $key) {
            self::assertStringNotContainsString($email, $key);
            self::assertStringNotContainsString($email, $this->dump($redis, $key), "after ack no value holds the e-mail address ($key)");
        }
        self::assertFalse(reg_buffer_push(5, ['name' => 'Grace'], $email), 'the digest still dedupes');
    }

    /** @test */
    public function the_marker_expires_after_dedupe_ttl(): void
    {
        ini_set('reg_buffer.dedupe_ttl', '1000');
        reg_buffer_push(5, [], 'ada@example.com');
        $redis = $this->client();
        [$marker] = $this->keys($redis, $this->eventKey(5, 'u:*', true));
        $ttl = $redis->ttl($marker);
        self::assertGreaterThan(990, $ttl, 'marker TTL ~ dedupe_ttl');
        self::assertLessThanOrEqual(1000, $ttl);
    }

    /** @test */
    public function the_marker_ttl_defaults_to_30_days(): void
    {
        reg_buffer_push(5, [], 'ada@example.com');
        $redis = $this->client();
        [$marker] = $this->keys($redis, $this->eventKey(5, 'u:*', true));
        self::assertGreaterThan(2592000 - 10, $redis->ttl($marker));
        self::assertLessThanOrEqual(2592000, $redis->ttl($marker));
    }

    /** @test */
    public function the_unique_key_is_accepted_again_once_dedupe_ttl_has_passed(): void
    {
        ini_set('reg_buffer.dedupe_ttl', '1');
        self::assertRegistrationId(reg_buffer_push(5, ['n' => 1], 'ada@example.com'));
        self::assertCount(1, $this->drain());
        usleep(1_600_000);
        self::assertRegistrationId(reg_buffer_push(5, ['n' => 2], 'ada@example.com'));
    }

    /** @test */
    public function no_buffered_key_carries_an_expiry_only_markers_do(): void
    {
        reg_buffer_push(1, ['a' => 1], 'ada@example.com');
        reg_buffer_push(1, ['a' => 2]);
        reg_buffer_push(2, ['a' => 3], 'bob@example.com');
        reg_buffer_push(2, ['a' => 4]);
        reg_buffer_flush(1, 300); // something in flight: a batch and a lease
        reg_buffer_stats();
        $redis = $this->client();
        $keys = $this->keys($redis);
        self::assertNotEmpty($keys);
        $markers = 0;
        foreach ($keys as $key) {
            $ttl = $redis->ttl($key);
            if (preg_match('/:u:[0-9a-f]+$/', $key)) {
                $markers++;
                self::assertGreaterThan(0, $ttl, "marker $key expires");
            } else {
                self::assertSame(-1, $ttl, "$key must not expire");
            }
        }
        self::assertSame(2, $markers);
    }

    /** @test */
    public function dedupe_holds_under_concurrent_pushes_of_the_same_key_from_several_processes(): void
    {
        $workers = 6;
        $keys = 60;
        $out = $this->tempFile('dedupe.out');
        $startAt = microtime(true) + 1.0;
        $procs = [];
        for ($w = 0; $w < $workers; $w++) {
            $procs[] = PhpProcess::start('dedupe_pusher', [7, $keys, sprintf('%.6f', $startAt), $out], $this->workerEnv());
        }
        foreach ($procs as $p) {
            self::assertSame(0, $p->wait(60), 'worker failed: ' . $p->stderr());
        }
        $winners = [];
        $lines = self::lines($out);
        self::assertCount($workers * $keys, $lines);
        foreach ($lines as $line) {
            [$key, $id] = explode("\t", $line);
            if ($id !== 'false') {
                $winners[$key][] = $id;
            }
        }
        self::assertCount($keys, $winners, 'every key was accepted once');
        foreach ($winners as $key => $ids) {
            self::assertCount(1, $ids, "$key was accepted by exactly one process");
        }
        $rows = $this->drain();
        self::assertCount($keys, $rows);
        self::assertEqualsCanonicalizing(array_merge(...array_values($winners)), self::ids($rows));
        $stats = reg_buffer_stats();
        self::assertSame(($workers - 1) * $keys, $stats['duplicates']);
        @unlink($out);
    }
}
