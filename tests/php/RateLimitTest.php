<?php
// reg_buffer_push()'s $rate_limit: a client (an IP address, a /64) pushes at most `limit` times per window, counted
// inside the push's own round trip whatever the answer; past it nothing is written and RateLimitException tells
// the seconds left in the window.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\CapacityException;
use RegBuffer\LimitException;
use RegBuffer\RateLimitException;
use RegBuffer\Tests\Support\TestCase;

final class RateLimitTest extends TestCase
{
    private static function rate(string $client, int $limit, int $window = 600): array
    {
        return ['client' => $client, 'limit' => $limit, 'window' => $window];
    }

    /** @test */
    public function a_client_pushes_up_to_its_limit_then_is_refused_with_nothing_written(): void
    {
        for ($i = 0; $i < 3; $i++) {
            self::assertRegistrationId(reg_buffer_push(7, ['n' => $i], "k$i@example.com", null, self::rate('203.0.113.7', 3)));
        }
        $e = self::assertThrows(RateLimitException::class, fn () => reg_buffer_push(7, ['n' => 3], 'new@example.com', null, self::rate('203.0.113.7', 3)));
        self::assertInstanceOf(\RegBuffer\Exception::class, $e);
        self::assertNull($e->getRegistrationId(), 'nothing was written: there is no id to store elsewhere');
        self::assertGreaterThanOrEqual(1, $e->getRetryAfter());
        self::assertLessThanOrEqual(600, $e->getRetryAfter());
        self::assertStringContainsString('retry after ' . $e->getRetryAfter() . ' s', $e->getMessage());
        self::assertSame(3, reg_buffer_stats()['pending']);
        // The refused push took no unique-key marker: the same key is still free for another client.
        self::assertRegistrationId(reg_buffer_push(7, ['n' => 3], 'new@example.com', null, self::rate('198.51.100.1', 3)));
        self::assertCount(4, $this->drain());
    }

    /** @test */
    public function every_answer_counts_against_the_limit(): void
    {
        $rate = self::rate('2001:db8::/64', 4);
        self::assertRegistrationId(reg_buffer_push(8, [], 'ada@example.com', null, $rate));
        self::assertFalse(reg_buffer_push(8, [], 'ada@example.com', null, $rate), 'a duplicate counts');
        $spent = ['token' => 'nonce', 'uses' => 1, 'expires_at' => time() + 600];
        self::assertRegistrationId(reg_buffer_push(8, [], null, $spent, $rate));
        self::assertThrows(LimitException::class, fn () => reg_buffer_push(8, [], null, $spent, $rate), 'a used-up token counts');
        self::assertThrows(RateLimitException::class, fn () => reg_buffer_push(8, [], 'bob@example.com', null, $rate));
        self::assertThrows(RateLimitException::class, fn () => reg_buffer_push(8, [], 'ada@example.com', null, $rate), 'no duplicate answer past the limit either');
        self::assertRegistrationId(reg_buffer_push(8, [], null, null), 'a push without a rate limit is not counted');
    }

    /** @test */
    public function a_push_refused_at_capacity_counts(): void
    {
        ini_set('reg_buffer.max_pending', '1');
        $rate = self::rate('192.0.2.9', 2);
        self::assertRegistrationId(reg_buffer_push(9, [], null, null, $rate));
        self::assertThrows(CapacityException::class, fn () => reg_buffer_push(9, [], null, null, $rate));
        $this->drain();
        self::assertThrows(RateLimitException::class, fn () => reg_buffer_push(9, [], null, null, $rate));
    }

    /** @test */
    public function clients_are_counted_apart_and_across_events(): void
    {
        self::assertRegistrationId(reg_buffer_push(10, [], null, null, self::rate('192.0.2.1', 1)));
        self::assertRegistrationId(reg_buffer_push(10, [], null, null, self::rate('192.0.2.2', 1)));
        self::assertThrows(RateLimitException::class, fn () => reg_buffer_push(10, [], null, null, self::rate('192.0.2.1', 1)));
        if (!self::isCluster()) {
            // One server: one counter per client for every event (a cluster counts per shard: see the README).
            self::assertThrows(RateLimitException::class, fn () => reg_buffer_push(11, [], null, null, self::rate('192.0.2.1', 1)));
        }
    }

    /** @test */
    public function only_a_digest_of_the_client_is_stored_and_it_expires_with_its_window(): void
    {
        reg_buffer_push(12, [], null, null, self::rate('203.0.113.250', 5, 300));
        $counters = array_values(array_filter($this->keys(), static fn (string $k) => str_contains($k, 'rate:')));
        self::assertCount(1, $counters);
        self::assertStringNotContainsString('203.0.113', $counters[0]);
        $redis = $this->client();
        self::assertSame('1', $redis->get($counters[0]));
        $ttl = $redis->ttl($counters[0]);
        self::assertGreaterThan(0, $ttl);
        self::assertLessThanOrEqual(300, $ttl);
    }

    /** @test */
    public function when_the_window_ends_the_client_may_push_again(): void
    {
        $rate = self::rate('192.0.2.77', 1, 1);
        // Start at the beginning of a fresh one-second window (windows are aligned on Redis's clock).
        self::assertRegistrationId(reg_buffer_push(13, [], null, null, $rate));
        $e = self::assertThrows(RateLimitException::class, fn () => reg_buffer_push(13, [], null, null, $rate));
        self::assertSame(1, $e->getRetryAfter());
        usleep(1_100_000);
        self::assertRegistrationId(reg_buffer_push(13, [], null, null, $rate), 'a new window');
    }

    /** @test */
    public function a_malformed_rate_limit_is_refused_before_anything_is_written(): void
    {
        $bad = [
            ['limit' => 1, 'window' => 60],
            ['client' => 'x', 'window' => 60],
            ['client' => 'x', 'limit' => 1],
            ['client' => '', 'limit' => 1, 'window' => 60],
            ['client' => str_repeat('x', 257), 'limit' => 1, 'window' => 60],
            ['client' => 7, 'limit' => 1, 'window' => 60],
            ['client' => 'x', 'limit' => 0, 'window' => 60],
            ['client' => 'x', 'limit' => 1, 'window' => 0],
            ['client' => 'x', 'limit' => 1, 'window' => 86401],
            ['client' => 'x', 'limit' => 1, 'window' => 60, 'extra' => 1],
        ];
        foreach ($bad as $rate) {
            self::assertThrows(\ValueError::class, fn () => reg_buffer_push(1, [], null, null, $rate), json_encode($rate));
        }
        $e = self::assertThrows(\TypeError::class, fn () => reg_buffer_push(1, [], null, null, 'x'));
        self::assertStringContainsString('Argument #5 ($rate_limit) must be of type ?array', $e->getMessage());
        $this->assertNothingWritten();
        self::assertRegistrationId(reg_buffer_push(1, [], null, null, ['client' => str_repeat('x', 256), 'limit' => '2', 'window' => '86400']), '256 bytes, numeric strings');
    }

    /** @test */
    public function rate_hit_counts_every_call_and_says_when_the_window_ends(): void
    {
        $before = time();
        $hits = [];
        for ($i = 0; $i < 4; $i++) {
            $hits[] = reg_buffer_rate_hit('203.0.113.50', 3, 600);
        }
        self::assertSame([true, true, true, false], array_column($hits, 'allowed'));
        self::assertSame([1, 2, 3, 4], array_column($hits, 'count'));
        self::assertSame([2, 1, 0, 0], array_column($hits, 'remaining'));
        self::assertSame([3, 3, 3, 3], array_column($hits, 'limit'));
        self::assertSame(['allowed', 'count', 'limit', 'remaining', 'reset', 'retry_after'], array_keys($hits[0]));
        $reset = $hits[3]['reset'];
        self::assertSame(0, $reset % 600, 'windows are aligned on the clock');
        self::assertGreaterThan($before, $reset);
        self::assertLessThanOrEqual($before + 601, $reset);
        self::assertGreaterThanOrEqual(1, $hits[3]['retry_after']);
        self::assertLessThanOrEqual(600, $hits[3]['retry_after']);
        self::assertSame(1, reg_buffer_rate_hit('203.0.113.51', 3, 600)['count'], 'another client has its own count');
        self::assertSame(0, reg_buffer_stats()['pending'], 'nothing is buffered');
        foreach ($this->keys(null, "{$this->prefix}*") as $key) {
            self::assertStringNotContainsString('203.0.113', $key, 'only a digest of the client is stored');
        }
        $counters = $this->keys(null, "{$this->prefix}*rate:*");
        self::assertCount(2, $counters, 'one counter per client');
        foreach ($counters as $key) {
            self::assertGreaterThan(0, $this->client()->ttl($key), 'a counter expires with its window');
        }
    }

    /** @test */
    public function rate_hit_and_a_push_s_rate_limit_share_the_client_s_count_on_one_server(): void
    {
        if (self::isCluster()) {
            self::markTestSkipped('on a cluster the push counts in its event\'s shard, rate_hit in the client\'s');
        }
        self::assertRegistrationId(reg_buffer_push(7, [], null, null, self::rate('198.51.100.77', 3)));
        self::assertSame(2, reg_buffer_rate_hit('198.51.100.77', 3, 600)['count']);
        self::assertRegistrationId(reg_buffer_push(7, [], null, null, self::rate('198.51.100.77', 3)));
        self::assertThrows(RateLimitException::class, fn () => reg_buffer_push(7, [], null, null, self::rate('198.51.100.77', 3)));
    }

    /** @test */
    public function rate_hit_refuses_bad_arguments_and_tells_when_redis_is_down(): void
    {
        foreach ([
            fn () => reg_buffer_rate_hit('', 3),
            fn () => reg_buffer_rate_hit(str_repeat('a', 257), 3),
            fn () => reg_buffer_rate_hit("\xff", 3),
            fn () => reg_buffer_rate_hit('c', 0),
            fn () => reg_buffer_rate_hit('c', -1),
            fn () => reg_buffer_rate_hit('c', 3, 0),
            fn () => reg_buffer_rate_hit('c', 3, 86_401),
        ] as $i => $call) {
            self::assertThrows(\ValueError::class, $call, "case $i");
        }
        self::assertSame(1, reg_buffer_rate_hit('c', 1, 86_400)['count']);
        ini_set('reg_buffer.redis_url', 'redis://127.0.0.1:' . \RegBuffer\Tests\Support\RedisServer::freePort());
        self::assertThrows(\RegBuffer\ConnectionException::class, fn () => reg_buffer_rate_hit('c', 3));
    }
}
