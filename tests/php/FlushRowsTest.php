<?php
// reg_buffer_flush($limit, $lease_seconds, $with_data): rows without `data` (the stored JSON only), and the
// argument read the way PHP reads a bool parameter. Weak mode here (strict_types=0); strict mode in a subprocess.
declare(strict_types=0);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\TestCase;

final class FlushRowsTest extends TestCase
{
    /** Registrations whose PHP shape is easy to get wrong: int-like keys, floats, nesting, NUL bytes, Unicode. */
    private static function awkward(): array
    {
        return [
            ['email' => 'ada@example.com', 'qty' => 2, 'price' => 12.5, 'paid' => true, 'note' => null],
            [7 => 'seven', '8' => 'eight', '-1' => 'minus one', '007' => 'bond', '1.5' => 'x', '' => 'empty key'],
            ['list' => [1, 2, 3], 'map' => ['b' => 1, 'a' => 2], 'empty' => [], 'deep' => [[[['x' => [1.0]]]]]],
            ['nul' => "a\0b", 'quote' => "it's \"quoted\" \\ /", 'uni' => "\u{1F600} é \u{2028}", 'ctl' => "\x01\x1f\n\t"],
            ['floats' => [0.1, 1.0, -0.0, 1e300, 5e-324, 2.0 ** 53 + 2, -1.7976931348623157e308], 'ints' => [PHP_INT_MAX, PHP_INT_MIN, 0, -1]],
            ['9223372036854775808' => 'int overflow key', '-9223372036854775808' => 'min key', ' 1' => 'spaced'],
            [1, 'two', [3]],
        ];
    }

    private function pushAll(int $event, array $registrations): array
    {
        $ids = [];
        foreach ($registrations as $i => $reg) {
            $ids[] = reg_buffer_push($event, $reg, $i % 2 ? "k$i@example.com" : null);
        }
        return $ids;
    }

    /** @test */
    public function rows_without_data_are_the_rows_with_data_less_the_data_key(): void
    {
        $ids = $this->pushAll(3, self::awkward());
        $batch = reg_buffer_flush(100, 60, false);
        self::assertSame($ids, self::ids($batch['rows']));
        // range() returns the same (still in flight) registrations with data: the full row shape.
        $full = reg_buffer_range(3, 0, INF);
        self::assertCount(count($ids), $full);
        foreach ($batch['rows'] as $i => $row) {
            self::assertSame(['id', 'event_id', 'registered_at', 'unique_key', 'json', 'status'], array_keys($row));
            $expected = $full[$i];
            unset($expected['data']);
            self::assertSame($expected, $row);
        }
        self::assertSame(count($ids), reg_buffer_ack($batch['batch']), 'a batch claimed without data acks like any other');
        self::assertSame([], reg_buffer_flush(100, 60, false)['rows']);
    }

    /** @test */
    public function json_decode_of_json_gives_back_data(): void
    {
        $this->pushAll(4, self::awkward());
        foreach ($this->drain() as $row) {
            self::assertSame($row['data'], json_decode($row['json'], true, 512, JSON_THROW_ON_ERROR), $row['json']);
            // -0.0 === 0.0 in PHP: compare the float bits too.
            self::assertSame(serialize($row['data']), serialize(json_decode($row['json'], true)), $row['json']);
        }
    }

    /** @test */
    public function the_default_keeps_data_and_true_is_the_default(): void
    {
        reg_buffer_push(1, ['a' => 1]);
        reg_buffer_push(1, ['b' => 2]);
        $default = reg_buffer_flush(1)['rows'][0];
        $explicit = reg_buffer_flush(1, 300, true)['rows'][0];
        self::assertSame(['a' => 1], $default['data']);
        self::assertSame(['b' => 2], $explicit['data']);
        self::assertSame(array_keys($default), array_keys($explicit));
        self::assertSame(['id', 'event_id', 'registered_at', 'unique_key', 'data', 'json', 'status'], array_keys($default));
    }

    /** @test */
    public function rows_without_data_come_back_whole_after_a_redelivery(): void
    {
        $ids = $this->pushAll(5, self::awkward());
        $first = reg_buffer_flush(100, 1, false);
        usleep(1_200_000);
        $again = reg_buffer_flush(100, 60, false);
        self::assertNotSame($first['batch'], $again['batch']);
        self::assertSame($ids, self::ids($again['rows']));
        self::assertSame($first['rows'], $again['rows']);
        self::assertSame(count($ids), reg_buffer_ack($again['batch']));
    }

    /** @test */
    public function with_data_is_read_like_any_bool_parameter_of_php_in_weak_mode(): void
    {
        // in_array()'s third parameter is a plain `bool $strict` of an internal function: the reference.
        $values = ['int 0' => 0, 'int 1' => 1, 'int 2' => 2, 'string "0"' => '0', 'empty string' => '', 'string "no"' => 'no',
            'float 0.0' => 0.0, 'float 0.5' => 0.5, 'array' => [], 'object' => new \stdClass(), 'null' => null];
        foreach ($values as $what => $value) {
            reg_buffer_push(1, ['what' => $what]);
            $expected = $this->outcome(fn () => in_array(1, [1], $value) ? 'ok' : 'ok', 'in_array', 'strict');
            $got = $this->outcome(function () use ($value, $what) {
                $rows = reg_buffer_flush(1, 60, $value)['rows'];
                self::assertCount(1, $rows, $what);
                return array_key_exists('data', $rows[0]) === (bool) $value ? 'ok' : 'data ' . var_export(array_key_exists('data', $rows[0]), true);
            }, 'reg_buffer_flush', 'with_data');
            self::assertSame($expected, $got, $what);
            if (str_contains($got, 'TypeError')) {
                // A refused call claimed nothing.
                self::assertSame(['what' => $what], reg_buffer_flush(1, 60)['rows'][0]['data'], $what);
            }
        }
    }

    /** @test */
    public function strict_types_callers_get_a_type_error_for_anything_but_a_bool(): void
    {
        $script = tempnam(sys_get_temp_dir(), 'reg_buffer_flush_rows_') . '.php';
        file_put_contents($script, '<?php declare(strict_types=1); require ' . var_export(__DIR__ . '/workers/common.php', true) . ';
            reg_buffer_push(1, ["a" => 1]); reg_buffer_push(1, ["b" => 2]);
            foreach (["false" => false, "int 0" => 0, "string" => "", "null" => null, "true" => true] as $what => $v) {
                try { $r = reg_buffer_flush(1, 60, $v); echo $what, "\t", array_key_exists("data", $r["rows"][0]) ? "data" : "json only", "\n"; }
                catch (\Throwable $e) { echo $what, "\t", get_class($e), ": ", $e->getMessage(), "\n"; }
            }');
        try {
            [$code, $out, $err] = PhpProcess::run($script, [], $this->workerEnv());
        } finally {
            @unlink($script);
        }
        self::assertSame(0, $code, $err);
        $type = fn (string $given) => "TypeError: reg_buffer_flush(): Argument #3 (\$with_data) must be of type bool, $given given";
        self::assertSame(
            "false\tjson only\nint 0\t{$type('int')}\nstring\t{$type('string')}\nnull\t{$type('null')}\ntrue\tdata\n",
            $out
        );
    }

    /** @test */
    public function refuses_a_fourth_argument(): void
    {
        $e = self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_flush(1, 1, false, 1));
        self::assertSame('reg_buffer_flush() expects at most 3 arguments, 4 given', $e->getMessage());
    }

    /**
     * What a call did, with the function and parameter names neutralised so that two functions compare: 'ok', the
     * exception's class and message, or the deprecation it raised followed by its result.
     */
    private function outcome(callable $call, string $function, string $param): string
    {
        $raised = [];
        set_error_handler(function (int $no, string $message) use (&$raised) {
            $raised[] = $message;
            return true;
        });
        try {
            $result = $call();
        } catch (\Throwable $e) {
            $result = get_class($e) . ': ' . $e->getMessage();
        } finally {
            restore_error_handler();
        }
        $text = implode(' | ', [...$raised, $result]);
        return str_replace(["$function()", "#3 (\$$param)", "parameter #3 (\$$param)"], ['F()', '#3 ($p)', 'parameter #3 ($p)'], $text);
    }
}
