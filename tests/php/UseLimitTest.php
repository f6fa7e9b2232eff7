<?php
// reg_buffer_push()'s $use_limit: a token (a signed form's nonce) carries at most N registrations of one event,
// counted in the push's own round trip; only registrations actually buffered count.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\LimitException;
use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\TestCase;

final class UseLimitTest extends TestCase
{
    private static function limit(string $token, int $uses): array
    {
        return ['token' => $token, 'uses' => $uses, 'expires_at' => time() + 600];
    }

    /** @test */
    public function a_token_carries_its_uses_and_then_is_refused_with_nothing_written(): void
    {
        $first = reg_buffer_push(3, ['n' => 1], null, self::limit('nonce-a', 2));
        $second = reg_buffer_push(3, ['n' => 2], null, self::limit('nonce-a', 2));
        self::assertRegistrationId($first);
        self::assertRegistrationId($second);
        $pendingBefore = reg_buffer_stats()['pending'];
        $e = self::assertThrows(LimitException::class, fn () => reg_buffer_push(3, ['n' => 3], null, self::limit('nonce-a', 2)));
        self::assertInstanceOf(\RegBuffer\Exception::class, $e);
        self::assertNull($e->getRegistrationId(), 'nothing was written: there is no id to store elsewhere');
        self::assertSame($pendingBefore, reg_buffer_stats()['pending']);
        self::assertSame([$first, $second], self::ids($this->drain()));
        self::assertThrows(LimitException::class, fn () => reg_buffer_push(3, ['n' => 4], null, self::limit('nonce-a', 2)), 'still counted after the flush');
    }

    /** @test */
    public function tokens_and_events_are_counted_apart(): void
    {
        self::assertRegistrationId(reg_buffer_push(3, [], null, self::limit('nonce-a', 1)));
        self::assertRegistrationId(reg_buffer_push(3, [], null, self::limit('nonce-b', 1)));
        self::assertRegistrationId(reg_buffer_push(4, [], null, self::limit('nonce-a', 1)));
        self::assertRegistrationId(reg_buffer_push(3, [], null), 'a push without a limit is not counted');
        self::assertThrows(LimitException::class, fn () => reg_buffer_push(3, [], null, self::limit('nonce-b', 1)));
    }

    /** @test */
    public function a_duplicate_uses_nothing(): void
    {
        self::assertRegistrationId(reg_buffer_push(5, [], 'ada@example.com', self::limit('nonce-c', 2)));
        self::assertFalse(reg_buffer_push(5, [], 'ada@example.com', self::limit('nonce-c', 2)));
        self::assertRegistrationId(reg_buffer_push(5, [], 'bob@example.com', self::limit('nonce-c', 2)), 'the duplicate did not use the second use');
        self::assertThrows(LimitException::class, fn () => reg_buffer_push(5, [], 'eve@example.com', self::limit('nonce-c', 2)));
    }

    /** @test */
    public function a_used_up_token_never_tells_whether_a_key_is_registered(): void
    {
        self::assertRegistrationId(reg_buffer_push(5, [], 'ada@example.com', self::limit('nonce-d', 1)));
        $registered = self::assertThrows(LimitException::class, fn () => reg_buffer_push(5, [], 'ada@example.com', self::limit('nonce-d', 1)));
        $unknown = self::assertThrows(LimitException::class, fn () => reg_buffer_push(5, [], 'bob@example.com', self::limit('nonce-d', 1)));
        self::assertSame($registered->getMessage(), $unknown->getMessage());
        self::assertRegistrationId(reg_buffer_push(5, [], 'bob@example.com'), 'the refused push took no marker');
    }

    /** @test */
    public function a_token_whose_expiry_is_past_is_used_up(): void
    {
        $now = time();
        foreach ([$now - 3600, $now - 1, $now] as $expires) {
            self::assertThrows(LimitException::class, fn () => reg_buffer_push(6, [], 'ada@example.com', ['token' => 'old', 'uses' => 5, 'expires_at' => $expires]), "expires_at $expires");
        }
        $this->assertNothingWritten();
    }

    /** @test */
    public function the_count_lives_until_the_token_expires_and_the_token_itself_is_not_stored(): void
    {
        $expires = time() + 600;
        reg_buffer_push(6, [], null, ['token' => 'secret-nonce', 'uses' => 1, 'expires_at' => $expires]);
        $redis = $this->client();
        $counters = array_values(array_filter($this->keys(), static fn (string $k) => str_contains($k, ':n:')));
        self::assertCount(1, $counters);
        self::assertStringNotContainsString('secret-nonce', $counters[0]);
        self::assertSame('1', $redis->get($counters[0]));
        self::assertEqualsWithDelta($expires, time() + $redis->ttl($counters[0]), 2);
    }

    /** @test */
    public function a_malformed_limit_is_refused_before_anything_is_written(): void
    {
        $bad = [
            ['uses' => 1, 'expires_at' => time() + 60],
            ['token' => 'x', 'uses' => 0, 'expires_at' => time() + 60],
            ['token' => 'x', 'uses' => 1],
            ['token' => 'x', 'uses' => 1, 'expires_at' => time() + 60, 'extra' => 1],
            ['token' => '', 'uses' => 1, 'expires_at' => time() + 60],
            ['token' => 7, 'uses' => 1, 'expires_at' => time() + 60],
        ];
        foreach ($bad as $limit) {
            self::assertThrows(\ValueError::class, fn () => reg_buffer_push(1, [], null, $limit), json_encode($limit));
        }
        self::assertThrows(\TypeError::class, fn () => reg_buffer_push(1, [], null, 'x'));
        self::assertRegistrationId(reg_buffer_push(1, [], null, ['token' => 'x', 'uses' => '2', 'expires_at' => (string) (time() + 60)]), 'numeric strings count as ints');
        $this->assertNothingWrittenBut(1);
    }

    /** @test */
    public function concurrent_pushers_never_exceed_the_limit(): void
    {
        $workers = [];
        for ($w = 0; $w < 4; $w++) {
            $workers[] = PhpProcess::start('use_limit_pusher', [40, 9, 'shared', 25], $this->workerEnv());
        }
        $out = '';
        foreach ($workers as $worker) {
            self::assertSame(0, $worker->wait(), $worker->stderr());
            $out .= $worker->stdout();
        }
        self::assertSame(25, substr_count($out, "ok\n"), $out);
        self::assertSame(4 * 40 - 25, substr_count($out, "limit\n"));
        self::assertCount(25, $this->drain());
    }

    private function assertNothingWrittenBut(int $pending): void
    {
        self::assertSame($pending, reg_buffer_stats()['pending']);
    }
}
