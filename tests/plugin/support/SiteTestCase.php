<?php
// What every plugin test starts from: an empty registrations table and set-aside table, an empty buffer in a
// running Redis, no fallback counts, the settings as the config file gives them.
declare(strict_types=1);

namespace RegBuffer\Tests\Plugin;

use PHPUnit\Framework\TestCase;
use RegBuffer\Tests\Support\RedisServer;

abstract class SiteTestCase extends TestCase
{
    /** @var list<array{string, callable, int}> filters and actions a test added, removed after it */
    private array $hooks = [];

    protected function setUp(): void
    {
        global $wpdb;
        if (!$this->redis()->isRunning()) {
            $this->redis()->restart(); // A test that stopped it failed before starting it again.
        }
        $this->redis()->flushAll();
        $wpdb->query('TRUNCATE TABLE ' . \Reg_Buffer_Store::table());
        $wpdb->query('TRUNCATE TABLE ' . \Reg_Buffer_Set_Aside::table());
        delete_option(\Reg_Buffer_Status::FALLBACKS_OPTION);
        delete_option(\Reg_Buffer_Status::LAST_FALLBACK_OPTION);
        \Reg_Buffer_Settings::reset();
    }

    protected function tearDown(): void
    {
        foreach ($this->hooks as [$name, $callback, $priority]) {
            remove_filter($name, $callback, $priority);
        }
        $this->hooks = [];
        \Reg_Buffer_Settings::reset();
    }

    /** add_filter() (add_action() alike) for this test only. */
    protected function hook(string $name, callable $callback, int $priority = 10, int $args = 1): void
    {
        add_filter($name, $callback, $priority, $args);
        $this->hooks[] = [$name, $callback, $priority];
    }

    /** Settings as the reg_buffer_settings filter would change them on a site, for this test only. */
    protected function withSettings(array $changes): void
    {
        $this->hook('reg_buffer_settings', static fn (array $values) => array_replace($values, $changes));
        \Reg_Buffer_Settings::reset();
    }

    protected function redis(): RedisServer
    {
        return $GLOBALS['reg_buffer_test_redis'];
    }

    /**
     * Runs $code in a new PHP process with WordPress loaded for the test site, as a request would, after define()ing
     * $constants (as lines of wp-config would): what only a fresh request can show, since a constant cannot be
     * undefined here. $code returns a value; this gives it back (through JSON).
     */
    protected static function inFreshRequest(string $code, array $constants = []): mixed
    {
        $site = $GLOBALS['reg_buffer_test_site'];
        $script = 'ini_set("error_log", ' . var_export((string) ini_get('error_log'), true) . ');';
        foreach ($constants as $name => $value) {
            $script .= sprintf('define(%s, %s);', var_export($name, true), var_export($value, true));
        }
        // tests/lib/wp-load-cli.php: HTTP_HOST picks the site's config, as for any request.
        $script .= 'require getenv("STACK_WP_LOAD");'
            . 'echo "\\n<<<", json_encode((static function () {' . $code . '})()), "\\n";';
        $command = 'STACK_WP_HOST=' . escapeshellarg($site->host) . ' STACK_WP_LOAD=' . escapeshellarg(dirname(__DIR__, 2) . '/lib/wp-load-cli.php')
            . ' ' . escapeshellarg(PHP_BINARY) . ' -r ' . escapeshellarg($script) . ' 2>&1';
        $out = [];
        exec($command, $out, $status);
        $text = implode("\n", $out);
        $at = strrpos($text, "\n<<<");
        if ($status !== 0 || $at === false) {
            self::fail("the fresh request failed ($status):\n$text");
        }
        return json_decode(substr($text, $at + 4), true);
    }

    /** The registrations table's rows, by insertion order, as MariaDB has them. */
    protected static function storedRows(): array
    {
        global $wpdb;
        return $wpdb->get_results('SELECT registration_id, event_id, unique_key, registered_at, data FROM ' . \Reg_Buffer_Store::table() . ' ORDER BY id', ARRAY_A);
    }

    /** Registrations waiting in Redis for this site (the extension's count). */
    protected static function pending(): int
    {
        return (int) \Reg_Buffer_Bridge::stats()['pending'];
    }

    /** A row as Reg_Buffer_Store::insert() takes it (the shape reg_buffer_flush() gives). */
    protected static function row(string $id, int $event, ?string $uniqueKey, array $data, float $at = 1700000000.25): array
    {
        return [
            'id' => $id,
            'event_id' => $event,
            'registered_at' => $at,
            'unique_key' => $uniqueKey,
            'data' => $data,
            'json' => json_encode($data, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES),
        ];
    }
}
