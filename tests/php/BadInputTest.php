<?php
// Bad input gets a clear ValueError / TypeError / ArgumentCountError and writes nothing.
declare(strict_types=0);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\TestCase;

final class BadInputTest extends TestCase
{
    private static function nested(int $levels): array
    {
        $registration = ['leaf'];
        for ($level = 1; $level < $levels; $level++) {
            $registration = [$registration];
        }
        return $registration;
    }

    /** Asserts that pushing $registration throws $class and that Redis stayed empty. */
    private function assertPushRefused(string $class, callable $push, string $what): void
    {
        $e = self::assertThrows($class, $push, $what);
        self::assertNotSame('', $e->getMessage(), "$what: the error says why");
        $this->assertNothingWritten();
    }

    /** @test */
    public function refuses_an_event_id_of_zero_or_less(): void
    {
        foreach ([0, -1, PHP_INT_MIN] as $event) {
            $e = self::assertThrows(\ValueError::class, fn () => reg_buffer_push($event, ['a' => 1]), "event $event");
            self::assertStringContainsString('event_id', $e->getMessage());
        }
        $this->assertNothingWritten();
    }

    /** @test */
    public function refuses_objects_closures_and_resources(): void
    {
        $resource = fopen('php://memory', 'r');
        $cases = [
            'object' => ['o' => new \stdClass()],
            'nested object' => ['a' => ['b' => ['c' => new \ArrayObject([1])]]],
            'object in a list' => [1, 2, new \DateTimeImmutable()],
            'closure' => ['f' => fn () => 1],
            'resource' => ['r' => $resource],
            'iterable object' => ['e' => new \SplObjectStorage()],
        ];
        foreach ($cases as $what => $registration) {
            $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push(1, $registration), $what);
        }
        fclose($resource);
        $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push(1, ['r' => $resource]), 'closed resource');
    }

    /** @test */
    public function refuses_inf_and_nan(): void
    {
        foreach (['INF' => INF, '-INF' => -INF, 'NAN' => NAN] as $what => $f) {
            $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['x' => $f]), $what);
            $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['deep' => [[1, $f]]]), "nested $what");
        }
    }

    /** @test */
    public function refuses_nesting_deeper_than_64_levels(): void
    {
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, self::nested(65)), '65 levels');
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, self::nested(500)), '500 levels');
        self::assertRegistrationId(reg_buffer_push(1, self::nested(64)));
    }

    /** @test */
    public function refuses_a_recursive_array_without_hanging_or_crashing(): void
    {
        $registration = ['name' => 'loop'];
        $registration['self'] = &$registration;
        $e = self::assertThrows(\Throwable::class, fn () => reg_buffer_push(1, $registration));
        self::assertTrue($e instanceof \ValueError || $e instanceof \TypeError, get_class($e) . ': ' . $e->getMessage());
        $this->assertNothingWritten();
    }

    /** @test */
    public function refuses_a_payload_over_max_payload_bytes(): void
    {
        ini_set('reg_buffer.max_payload_bytes', '100');
        // {"s":"…"} is 8 bytes around the string.
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['s' => str_repeat('a', 93)]), '101 bytes');
        self::assertRegistrationId(reg_buffer_push(1, ['s' => str_repeat('a', 92)]), 'exactly 100 bytes is fine');
    }

    /** @test */
    public function the_default_payload_limit_is_64_kib(): void
    {
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['s' => str_repeat('a', 65536)]), 'over 64 KiB');
        $id = reg_buffer_push(1, ['s' => str_repeat('a', 65536 - 8)]);
        self::assertRegistrationId($id);
        self::assertSame(65536 - 8, strlen($this->drain()[0]['data']['s']));
    }

    /** @test */
    public function refuses_invalid_utf8_in_a_value(): void
    {
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['name' => "Zo\xeb"]), 'latin-1 value');
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['a' => ['b' => "\xc3\x28"]]), 'nested bad value');
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ["\xff\xfe"]), 'bad value in a list');
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['s' => "\xed\xa0\x80"]), 'a UTF-16 surrogate');
    }

    /** @test */
    public function refuses_invalid_utf8_in_a_key(): void
    {
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ["n\xe4me" => 'x']), 'latin-1 key');
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['ok' => ["\x80" => 1]]), 'nested bad key');
    }

    /** @test */
    public function refuses_an_empty_unique_key(): void
    {
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['a' => 1], ''), 'empty unique key');
    }

    /** @test */
    public function refuses_a_unique_key_over_1024_bytes(): void
    {
        $this->assertPushRefused(\ValueError::class, fn () => reg_buffer_push(1, ['a' => 1], str_repeat('k', 1025)), '1025-byte key');
        self::assertRegistrationId(reg_buffer_push(1, ['a' => 1], str_repeat('k', 1024)));
    }

    /** @test */
    public function refuses_wrong_argument_types(): void
    {
        $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push('abc', ['a' => 1]), 'event "abc"');
        $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push([], ['a' => 1]), 'event []');
        $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push(1, 'not an array'), 'registration string');
        $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push(1, null), 'registration null');
        $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push(1, new \ArrayObject(['a' => 1])), 'registration object');
        $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push(1, [], ['key']), 'unique key array');
        $this->assertPushRefused(\TypeError::class, fn () => reg_buffer_push(1, [], new \stdClass()), 'unique key object');
        self::assertThrows(\TypeError::class, fn () => reg_buffer_flush('many'));
        self::assertThrows(\TypeError::class, fn () => reg_buffer_flush(10, []));
        self::assertThrows(\TypeError::class, fn () => reg_buffer_ack([]));
        self::assertThrows(\TypeError::class, fn () => reg_buffer_import_legacy([]));
        $e = self::assertThrows(\TypeError::class, fn () => reg_buffer_push('abc', []));
        self::assertStringContainsString('reg_buffer_push(): Argument #1 ($event_id) must be of type int, string given', $e->getMessage());
        $this->assertNothingWritten();
    }

    /** @test */
    public function refuses_a_wrong_number_of_arguments(): void
    {
        self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_push());
        self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_push(1));
        self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_push(1, [], null, null, null, 'extra'));
        self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_flush(1, 2, true, 4));
        self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_ack());
        self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_stats(1));
        self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_import_legacy('a', 'b'));
        $this->assertNothingWritten();
    }

    /** @test */
    public function refuses_a_flush_limit_or_lease_of_zero_or_less_and_claims_nothing(): void
    {
        $id = reg_buffer_push(1, ['a' => 1]);
        foreach ([[0, 300], [-1, 300], [10, 0], [10, -5], [PHP_INT_MIN, 1]] as [$limit, $lease]) {
            self::assertThrows(\ValueError::class, fn () => reg_buffer_flush($limit, $lease), "limit $limit lease $lease");
        }
        self::assertSame(1, reg_buffer_stats()['pending']);
        self::assertSame(0, reg_buffer_stats()['claimed']);
        self::assertSame([$id], self::ids(reg_buffer_flush()['rows']));
    }

    /** @test */
    public function a_refused_push_leaves_earlier_registrations_alone(): void
    {
        $id = reg_buffer_push(1, ['a' => 1], 'ada@example.com');
        $keys = $this->keys();
        self::assertThrows(\TypeError::class, fn () => reg_buffer_push(1, ['o' => new \stdClass()], 'bob@example.com'));
        self::assertThrows(\ValueError::class, fn () => reg_buffer_push(1, ['x' => NAN], 'cy@example.com'));
        self::assertSame($keys, $this->keys(), 'no marker was written for a refused push');
        self::assertRegistrationId(reg_buffer_push(1, ['b' => 1], 'bob@example.com'), 'a refused push does not burn its unique key');
        self::assertSame($id, $this->drain()[0]['id']);
    }

    /** @test */
    public function weak_mode_coerces_numeric_strings_like_php_does(): void
    {
        $id = reg_buffer_push('5', ['a' => 1], 123);
        self::assertRegistrationId($id);
        $batch = reg_buffer_flush('10', '60');
        self::assertSame(5, $batch['rows'][0]['event_id']);
        self::assertSame('123', $batch['rows'][0]['unique_key']);
        self::assertSame(1, reg_buffer_ack($batch['batch']));
        self::assertSame([], reg_buffer_range('5', '0', '1e12'));
        $this->assertPushRefusedAfterwards();
    }

    private function assertPushRefusedAfterwards(): void
    {
        $before = reg_buffer_stats()['pushed'];
        self::assertThrows(\TypeError::class, fn () => reg_buffer_push('abc', ['a' => 1]));
        self::assertThrows(\TypeError::class, fn () => reg_buffer_push('5 apples', ['a' => 1]));
        self::assertSame($before, reg_buffer_stats()['pushed']);
    }

    /** @test */
    public function strict_types_callers_get_a_type_error_instead_of_coercion(): void
    {
        [$code, $out, $err] = PhpProcess::run('strict_types', [], $this->workerEnv());
        self::assertSame(0, $code, $err);
        $outcomes = [];
        foreach (explode("\n", trim($out)) as $line) {
            [$case, $outcome] = explode("\t", $line);
            $outcomes[$case] = $outcome;
        }
        self::assertSame([
            'int event id' => 'string',
            'string event id' => 'TypeError',
            'int unique key' => 'TypeError',
            'string limit' => 'TypeError',
            'float limit' => 'TypeError',
            'int batch' => 'TypeError',
            'int range bounds' => 'array',
            'string range bound' => 'TypeError',
        ], $outcomes);
        self::assertSame(1, reg_buffer_stats()['pushed'], 'only the well-typed push was buffered');
    }
}
