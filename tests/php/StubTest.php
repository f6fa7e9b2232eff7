<?php
// The stub is the contract: it must match the loaded extension's reflection exactly, settings included.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\TestCase;

require_once __DIR__ . '/support/describe_api.php';

final class StubTest extends TestCase
{
    private const STUB = __DIR__ . '/../../php-stubs/reg_buffer.stub.php';

    protected function setUp(): void
    {
        // No Redis needed here.
    }

    /** The stub's declarations, reflected by a php that does NOT load the extension (php -n). */
    private static function describeStub(string $stub): array
    {
        $code = 'require ' . var_export(__DIR__ . '/support/describe_api.php', true) . ';'
            . 'if (extension_loaded("reg_buffer")) { fwrite(STDERR, "reg_buffer is loaded under php -n"); exit(3); }'
            . 'echo json_encode(reg_buffer_test_describe_stub(' . var_export($stub, true) . '), JSON_THROW_ON_ERROR);';
        $out = [];
        exec(implode(' ', array_map('escapeshellarg', [PHP_BINARY, '-n', '-r', $code])) . ' 2>&1', $out, $code);
        self::assertSame(0, $code, "reflecting the stub failed:\n" . implode("\n", $out));
        return json_decode(implode("\n", $out), true, 512, JSON_THROW_ON_ERROR);
    }

    private static function describeExtension(): array
    {
        $ext = new \ReflectionExtension('reg_buffer');
        $described = reg_buffer_test_describe(array_values($ext->getFunctions()), array_values($ext->getClasses()));
        // Through JSON like the stub's description, so both sides have the same shapes.
        return json_decode(json_encode($described, JSON_THROW_ON_ERROR), true, 512, JSON_THROW_ON_ERROR);
    }

    /** Readable differences between two descriptions ("path: stub … vs extension …"). */
    private static function differences(mixed $stub, mixed $ext, string $path = ''): array
    {
        if (is_array($stub) && is_array($ext)) {
            $out = [];
            foreach (array_unique([...array_keys($stub), ...array_keys($ext)]) as $k) {
                $here = $path === '' ? (string) $k : "$path.$k";
                if (!array_key_exists($k, $stub)) {
                    $out[] = "$here: only in the extension";
                } elseif (!array_key_exists($k, $ext)) {
                    $out[] = "$here: only in the stub";
                } else {
                    array_push($out, ...self::differences($stub[$k], $ext[$k], $here));
                }
            }
            return $out;
        }
        return $stub === $ext ? [] : ["$path: stub " . json_encode($stub) . ' vs extension ' . json_encode($ext)];
    }

    /** The settings the stub's docblock documents: name => default. */
    private static function documentedSettings(string $stub): array
    {
        preg_match_all('/^\s*\*\s*-\s*(reg_buffer\.\w+)\s+(string|int|bool)\s+(\S+)\s*$/m', (string) file_get_contents($stub), $m, PREG_SET_ORDER);
        $out = [];
        foreach ($m as [, $name, , $default]) {
            $out[$name] = trim($default, '"');
        }
        return $out;
    }

    /** @test */
    public function stub_functions_and_classes_match_the_loaded_extension(): void
    {
        $stub = self::describeStub(self::STUB);
        $ext = self::describeExtension();
        $undocumented = $stub['undocumented'];
        unset($stub['undocumented']);
        self::assertNotEmpty($stub['functions'], 'the stub declares no functions');
        self::assertSame([], self::differences($stub, $ext), 'php-stubs/reg_buffer.stub.php drifted from the extension');
        self::assertSame([], $undocumented, 'every declaration in the stub carries a docblock');
    }

    /** @test */
    public function stub_declares_the_api_of_the_spec(): void
    {
        $stub = self::describeStub(self::STUB);
        self::assertSame(
            ['reg_buffer_ack', 'reg_buffer_book', 'reg_buffer_flush', 'reg_buffer_import_legacy', 'reg_buffer_purge_quarantined', 'reg_buffer_push',
                'reg_buffer_quarantined', 'reg_buffer_range', 'reg_buffer_rate_hit', 'reg_buffer_retry_quarantined', 'reg_buffer_seat_release',
                'reg_buffer_seat_take', 'reg_buffer_seats', 'reg_buffer_seats_buffered', 'reg_buffer_seats_forget', 'reg_buffer_seats_promote',
                'reg_buffer_seats_seed', 'reg_buffer_stats'],
            array_keys($stub['functions'])
        );
        self::assertSame('string|false', $stub['functions']['reg_buffer_push']['returns']);
        self::assertSame('RuntimeException', $stub['classes']['RegBuffer\Exception']['parent']);
        self::assertSame('RegBuffer\Exception', $stub['classes']['RegBuffer\ConnectionException']['parent']);
        self::assertSame('RegBuffer\Exception', $stub['classes']['RegBuffer\CapacityException']['parent']);
        self::assertSame('RegBuffer\Exception', $stub['classes']['RegBuffer\LimitException']['parent']);
        self::assertSame('RegBuffer\Exception', $stub['classes']['RegBuffer\SoldOutException']['parent']);
        self::assertSame('RegBuffer\Exception', $stub['classes']['RegBuffer\SeatsUnknownException']['parent']);
    }

    /** @test */
    public function stub_documents_every_setting_with_its_default(): void
    {
        $documented = self::documentedSettings(self::STUB);
        $loaded = array_map(fn ($entry) => $entry['global_value'], ini_get_all('reg_buffer', true));
        ksort($documented);
        ksort($loaded);
        self::assertSame($loaded, $documented, 'settings in the stub docblock vs ini_get_all("reg_buffer")');
        foreach (array_keys(ini_get_all('reg_buffer', true)) as $name) {
            self::assertSame(INI_ALL, ini_get_all('reg_buffer', true)[$name]['access'], "$name is changeable with ini_set()");
        }
    }

    /** @test */
    public function a_drifted_stub_is_caught(): void
    {
        $original = (string) file_get_contents(self::STUB);
        $drifts = [
            'a default' => ['int $limit = 500', 'int $limit = 50'],
            'a parameter name' => ['string $batch', 'string $batch_id'],
            'a return type' => ['function reg_buffer_ack(string $batch): int', 'function reg_buffer_ack(string $batch): ?int'],
            'a parent class' => ['class CapacityException extends Exception', 'class CapacityException extends \RuntimeException'],
            'a missing function' => ['function reg_buffer_stats(): array {}', ''],
            'a setting default' => ['reg_buffer.timeout_ms         int     1000', 'reg_buffer.timeout_ms         int     2000'],
        ];
        $ext = self::describeExtension();
        $loaded = array_map(fn ($entry) => $entry['global_value'], ini_get_all('reg_buffer', true));
        foreach ($drifts as $what => [$from, $to]) {
            self::assertStringContainsString($from, $original, "the drift fixture for $what no longer applies");
            $base = tempnam(sys_get_temp_dir(), 'reg_buffer_stub_');
            $copy = "$base.php";
            file_put_contents($copy, str_replace($from, $to, $original));
            try {
                $stub = self::describeStub($copy);
                unset($stub['undocumented']);
                $settings = self::documentedSettings($copy);
                ksort($settings);
                ksort($loaded);
                $caught = self::differences($stub, $ext) !== [] || $settings !== $loaded;
                self::assertTrue($caught, "a stub with $what changed passes the comparison");
            } finally {
                @unlink($copy);
                @unlink($base);
            }
        }
    }
}
