<?php
// A php subprocess running a worker script with the extension loaded; its output goes to files, never pipes.
declare(strict_types=1);

namespace RegBuffer\Tests\Support;

final class PhpProcess
{
    /** The php command line that loads reg_buffer, decided once by the bootstrap. */
    public static array $php = [PHP_BINARY];

    /** @var resource */
    private $process;
    public readonly int $pid;
    private ?int $exitCode = null;

    private function __construct(private readonly string $base, private readonly string $out, private readonly string $err, array $command, array $env)
    {
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $out, 'w'], 2 => ['file', $err, 'w']], $pipes, null, $env + getenv());
        if (!is_resource($process)) {
            throw new \RuntimeException('cannot start ' . implode(' ', $command));
        }
        $this->process = $process;
        $this->pid = (int) proc_get_status($process)['pid'];
    }

    /** Runs tests/php/workers/<name>.php (or any path) with $args; $env adds environment variables. */
    public static function start(string $script, array $args = [], array $env = []): self
    {
        if (!str_contains($script, '/')) {
            $script = dirname(__DIR__) . "/workers/$script.php";
        }
        $base = tempnam(sys_get_temp_dir(), 'reg_buffer_proc_');
        return new self($base, "$base.out", "$base.err", [...self::$php, $script, ...array_map('strval', $args)], array_map('strval', $env));
    }

    /** Starts and waits: [exit code, stdout, stderr]. */
    public static function run(string $script, array $args = [], array $env = [], float $timeout = 60): array
    {
        $p = self::start($script, $args, $env);
        $code = $p->wait($timeout);
        return [$code, $p->stdout(), $p->stderr()];
    }

    public function running(): bool
    {
        if ($this->exitCode !== null) {
            return false;
        }
        $status = proc_get_status($this->process);
        if (!$status['running']) {
            $this->exitCode = $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
            return false;
        }
        return true;
    }

    /** Waits for the exit; kills the process and fails when it outlives $timeout seconds. */
    public function wait(float $timeout = 60): int
    {
        $deadline = microtime(true) + $timeout;
        while ($this->running()) {
            if (microtime(true) > $deadline) {
                $this->kill();
                throw new \RuntimeException("worker {$this->pid} did not finish within {$timeout}s; stderr: " . $this->stderr());
            }
            usleep(10_000);
        }
        return (int) $this->exitCode;
    }

    public function kill(): void
    {
        if ($this->running()) {
            posix_kill($this->pid, SIGKILL);
            $this->wait(10);
        }
    }

    public function stdout(): string
    {
        return (string) @file_get_contents($this->out);
    }

    public function stderr(): string
    {
        return (string) @file_get_contents($this->err);
    }

    /** Waits until stdout contains $text; false after $timeout seconds or when the process ended without it. */
    public function waitForOutput(string $text, float $timeout = 30): bool
    {
        $deadline = microtime(true) + $timeout;
        while (microtime(true) < $deadline) {
            if (str_contains($this->stdout(), $text)) {
                return true;
            }
            if (!$this->running()) {
                return str_contains($this->stdout(), $text);
            }
            usleep(10_000);
        }
        return false;
    }

    public function __destruct()
    {
        $this->kill();
        @unlink($this->out);
        @unlink($this->err);
        @unlink($this->base);
    }
}
