<?php
// push: ids, and registrations that come back from flush exactly as given.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\TestCase;

final class PushTest extends TestCase
{
    /** Pushes one registration and flushes it back: the row. */
    private function roundTrip(array $registration, ?string $uniqueKey = null): array
    {
        $id = reg_buffer_push(3, $registration, $uniqueKey);
        self::assertRegistrationId($id);
        $rows = $this->drain();
        self::assertCount(1, $rows);
        self::assertSame($id, $rows[0]['id']);
        return $rows[0];
    }

    /** Floats compared bit for bit (=== cannot tell 0.0 from -0.0). */
    private static function assertSameBits(array $expected, array $actual, string $path = 'data'): void
    {
        self::assertSame(array_keys($expected), array_keys($actual), "$path: keys and their order");
        foreach ($expected as $k => $v) {
            if (is_array($v)) {
                self::assertIsArray($actual[$k], $path . "[$k]");
                self::assertSameBits($v, $actual[$k], $path . "[$k]");
            } elseif (is_float($v)) {
                self::assertIsFloat($actual[$k], $path . "[$k] stays a float");
                self::assertSame(bin2hex(pack('E', $v)), bin2hex(pack('E', $actual[$k])), $path . "[$k] bit-exact");
            } else {
                self::assertSame($v, $actual[$k], $path . "[$k]");
            }
        }
    }

    /** @test */
    public function push_returns_a_26_character_id(): void
    {
        self::assertRegistrationId(reg_buffer_push(1, ['name' => 'Ada']));
    }

    /** @test */
    public function ids_are_unique_and_ordered_by_time(): void
    {
        $ids = [];
        for ($i = 0; $i < 300; $i++) {
            $ids[] = reg_buffer_push(1 + $i % 3, ['n' => $i]);
            if ($i % 100 === 0) {
                usleep(2000);
            }
        }
        $sorted = $ids;
        sort($sorted, SORT_STRING);
        self::assertSame($ids, $sorted, 'ids sort in push order');
        self::assertCount(300, array_unique($ids));
    }

    /** @test */
    public function a_row_has_the_documented_shape(): void
    {
        $before = microtime(true);
        $id = reg_buffer_push(42, ['name' => 'Ada'], 'ada@example.com');
        $after = microtime(true);
        $batch = reg_buffer_flush();
        self::assertSame(['batch', 'rows'], array_keys($batch));
        self::assertIsString($batch['batch']);
        self::assertNotSame('', $batch['batch']);
        self::assertTrue(array_is_list($batch['rows']));
        $row = $batch['rows'][0];
        self::assertSame(['id', 'event_id', 'registered_at', 'unique_key', 'data', 'json', 'status'], array_keys($row));
        self::assertSame($id, $row['id']);
        self::assertSame(42, $row['event_id']);
        self::assertIsFloat($row['registered_at']);
        self::assertGreaterThanOrEqual($before - 0.005, $row['registered_at'], 'registered_at is taken at push');
        self::assertLessThanOrEqual($after + 0.005, $row['registered_at'], 'registered_at is taken at push');
        self::assertSame('ada@example.com', $row['unique_key']);
        self::assertSame(['name' => 'Ada'], $row['data']);
        self::assertSame('registered', $row['status'], 'a push (no capacity) is always registered');
        self::assertSame('{"name":"Ada"}', $row['json']);
    }

    /** @test */
    public function registered_at_has_at_least_millisecond_precision(): void
    {
        $seen = [];
        for ($i = 0; $i < 5; $i++) {
            reg_buffer_push(1, ['i' => $i]);
            usleep(3000);
        }
        foreach ($this->drain() as $row) {
            $seen[] = $row['registered_at'];
        }
        self::assertCount(5, array_unique(array_map(fn ($t) => sprintf('%.3f', $t), $seen)), 'pushes 3 ms apart have different registered_at');
    }

    /** @test */
    public function unique_key_is_null_in_the_row_without_one(): void
    {
        self::assertNull($this->roundTrip(['a' => 1])['unique_key']);
    }

    /** @test */
    public function data_round_trips_exactly(): void
    {
        $registration = [
            'z_first' => 'key order is kept, not sorted',
            'a_second' => 1,
            'int' => 0,
            'negative' => -17,
            'max' => PHP_INT_MAX,
            'min' => PHP_INT_MIN,
            'float' => 1.5,
            'float_whole' => 1.0,
            'point_one' => 0.1,
            'negative_zero' => -0.0,
            'zero' => 0.0,
            'tiny' => 5e-324,
            'huge' => 1.7976931348623157e308,
            'epsilon' => PHP_FLOAT_EPSILON,
            'e21' => 1e21,
            'third' => 1 / 3,
            'true' => true,
            'false' => false,
            'null' => null,
            'numeric_string' => '123',
            'float_string' => '1.0',
            'exp_string' => '1e3',
            'empty_string' => '',
            'nul' => "a\0b\0",
            'unicode' => "Zoë 😀 日本語 \u{2028} \u{200F}עברית",
            'escapes' => "quote\" backslash\\ slash/ tab\t newline\n cr\r bell\x07",
            'empty_list' => [],
            'list' => [1, 'two', 3.0, null, [true]],
            'map' => ['b' => 1, 'a' => ['y' => [], 'x' => ['deep' => -0.0]]],
            'int_keys' => [5 => 'five', 2 => 'two', 0 => 'zero', -3 => 'minus three'],
            'one_based' => [1 => 'a', 2 => 'b'],
            'reverse_int_keys' => [1 => 'b', 0 => 'a'],
            'extreme_int_keys' => [PHP_INT_MAX => 'max', PHP_INT_MIN => 'min', 0 => 'zero'],
            'mixed_keys' => [0 => 'a', 'k' => 'b', 1 => 'c'],
            'list_then_gap' => [0 => 'a', 1 => 'b', 3 => 'd'],
            'string_keys_like_ints' => ['07' => 'leading zero', '-0' => 'minus zero', '1.5' => 'float-like', ' 1' => 'space'],
            '' => 'empty key',
            "key\0with nul" => 'nul in key',
            'ключ' => 'unicode key',
            '10' => 'int-like string key becomes int key 10, as PHP does',
            '9223372036854775808' => 'too big for an int: stays a string key',
            '-9223372036854775808' => 'PHP_INT_MIN as a key',
        ];
        $row = $this->roundTrip($registration);
        self::assertSame($registration, $row['data'], 'same types, values and key order');
        self::assertSameBits($registration, $row['data']);
    }

    /** @test */
    public function a_list_registration_round_trips_as_a_list(): void
    {
        $registration = ['first', 2, [3.25, ['four' => 4]], [], null];
        self::assertSame($registration, $this->roundTrip($registration)['data']);
    }

    /** @test */
    public function an_empty_registration_round_trips(): void
    {
        self::assertSame([], $this->roundTrip([])['data']);
    }

    /** @test */
    public function floats_are_bit_exact(): void
    {
        $floats = [0.1, 0.2, 0.1 + 0.2, -0.0, 0.0, 1e-7, 123456789.123456789, -2.5e-300, 4.35, 2.0 ** 53, 2.0 ** 53 + 2, 9007199254740993.0, M_PI, -M_E];
        $row = $this->roundTrip(['f' => $floats]);
        self::assertSameBits(['f' => $floats], $row['data']);
    }

    /** @test */
    public function json_field_matches_data(): void
    {
        $registration = ['name' => 'Zoë', 'tickets' => [1, 2], 'price' => 0.1, 'neg' => -0.0, 'map' => [7 => 'x'], 'nul' => "\0", 'none' => null];
        $row = $this->roundTrip($registration);
        self::assertIsString($row['json']);
        $decoded = json_decode($row['json'], true, 512, JSON_THROW_ON_ERROR);
        self::assertSame($row['data'], $decoded, 'json is data as JSON text');
        self::assertSameBits($registration, $decoded);
    }

    /** @test */
    public function nesting_64_levels_deep_is_accepted_and_round_trips(): void
    {
        $registration = ['leaf'];
        for ($level = 1; $level < 64; $level++) {
            $registration = [$registration];
        }
        self::assertSame($registration, $this->roundTrip($registration)['data']);
    }

    /** @test */
    public function a_unique_key_comes_back_byte_for_byte(): void
    {
        $key = "Ada.Lovelace+tag@Example.com";
        self::assertSame($key, $this->roundTrip(['a' => 1], $key)['unique_key']);
    }

    /** @test */
    public function a_unique_key_is_kept_byte_for_byte_and_one_that_is_not_utf8_is_refused(): void
    {
        // MySQL's utf8mb4 column refuses invalid UTF-8: such a key is refused here, before it is ever accepted.
        foreach (["a:b\0\xff\xfe:", "ada@example.com\xc3", "\xed\xa0\x80@x.org", "\xc0\xafx"] as $bad) {
            $e = self::assertThrows(\ValueError::class, fn () => reg_buffer_push(3, ['a' => 1], $bad), bin2hex($bad));
            self::assertStringContainsString('UTF-8', $e->getMessage());
        }
        $this->assertNothingWritten();
        $key = "a:b\0Zoë 😀:";
        $id = reg_buffer_push(3, ['a' => 1], $key);
        self::assertRegistrationId($id);
        self::assertSame($key, $this->drain()[0]['unique_key']);
        self::assertFalse(reg_buffer_push(3, ['a' => 2], $key), 'the same key is a duplicate');
        self::assertRegistrationId(reg_buffer_push(3, ['a' => 3], "a:b\0Zoé 😀:"));
    }

    /** @test */
    public function rows_of_one_event_come_back_in_push_order(): void
    {
        $ids = [];
        for ($i = 0; $i < 50; $i++) {
            $ids[] = reg_buffer_push(9, ['i' => $i]);
        }
        $rows = $this->drain(500);
        self::assertSame($ids, self::ids($rows));
        self::assertSame(range(0, 49), array_map(fn ($r) => $r['data']['i'], $rows));
    }

    /** @test */
    public function references_are_buffered_as_their_values(): void
    {
        $name = 'Ada';
        $tickets = [1, 2];
        $registration = ['name' => &$name, 'tickets' => &$tickets, 'copy' => ['n' => &$name]];
        $row = $this->roundTrip($registration);
        self::assertSame(['name' => 'Ada', 'tickets' => [1, 2], 'copy' => ['n' => 'Ada']], $row['data']);
    }

    /** @test */
    public function a_large_registration_within_a_raised_limit_round_trips(): void
    {
        ini_set('reg_buffer.max_payload_bytes', (string) (4 * 1024 * 1024));
        $registration = ['blob' => str_repeat("Zoë 😀\0", 150_000), 'list' => range(1, 20_000)];
        self::assertSame($registration, $this->roundTrip($registration)['data']);
    }
}
