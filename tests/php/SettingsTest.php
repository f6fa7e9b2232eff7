<?php
// Settings: changeable with ini_set() at run time, URL forms, passwords kept out of messages and phpinfo().
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\TestCase;

final class SettingsTest extends TestCase
{
    /** @test */
    public function the_key_prefix_namespaces_every_key(): void
    {
        reg_buffer_push(1, ['a' => 1], 'ada@example.com');
        $batch = reg_buffer_flush(1);
        reg_buffer_push(2, ['a' => 2]);
        $all = $this->keys();
        self::assertNotEmpty($all);
        foreach ($all as $key) {
            self::assertStringStartsWith($this->prefix, $key);
        }
        reg_buffer_ack($batch['batch']);
    }

    /** @test */
    public function two_prefixes_share_one_redis_without_seeing_each_other(): void
    {
        $a = reg_buffer_push(1, ['site' => 'a'], 'ada@example.com');
        ini_set('reg_buffer.key_prefix', $this->prefix . 'b:');
        $b = reg_buffer_push(1, ['site' => 'b'], 'ada@example.com');
        self::assertRegistrationId($b, 'dedupe is per prefix');
        self::assertSame([$b], self::ids($this->drain()));
        ini_set('reg_buffer.key_prefix', $this->prefix);
        self::assertSame([$a], self::ids($this->drain()));
    }

    /** @test */
    public function every_key_of_an_event_shares_one_cluster_hash_tag(): void
    {
        reg_buffer_push(77, ['a' => 1], 'ada@example.com');
        reg_buffer_stats(); // files the inbox: the queue exists from then on
        $eventKeys = array_filter($this->keys(), fn ($k) => str_contains($k, 'ev:'));
        self::assertCount(3, $eventKeys, 'queue, data, marker');
        // One server: <p>ev:{77}:…; a cluster: <p>{s<k>}:ev:77:… — the event's shard k, the same for all three.
        $layout = self::isCluster() ? '/^' . preg_quote($this->prefix, '/') . '(\{s\d+\}):ev:77:/' : '/^' . preg_quote($this->prefix, '/') . 'ev:(\{77\}):/';
        $tags = [];
        foreach ($eventKeys as $key) {
            self::assertMatchesRegularExpression($layout, $key);
            preg_match($layout, $key, $m);
            $tags[$m[1]] = true;
        }
        self::assertCount(1, $tags, 'one hash tag: one slot');
    }

    /**
     * Single node only: databases, unix sockets and ACL users of the one server (AclTest covers a cluster).
     *
     * @test
     * @group single-node
     */
    public function the_database_in_the_url_is_used(): void
    {
        ini_set('reg_buffer.redis_url', self::redis()->url(3));
        reg_buffer_push(1, ['db' => 3]);
        self::assertSame(0, $this->client()->dbSize());
        self::assertGreaterThan(0, $this->client(3)->dbSize());
        self::assertCount(1, $this->drain());
    }

    /**
     * Single node only: databases, unix sockets and ACL users of the one server (AclTest covers a cluster).
     *
     * @test
     * @group single-node
     */
    public function a_unix_socket_url_works(): void
    {
        ini_set('reg_buffer.redis_url', 'redis+unix://' . self::redis()->socket());
        $id = reg_buffer_push(1, ['via' => 'unix']);
        ini_set('reg_buffer.redis_url', self::redis()->url());
        self::assertSame([$id], self::ids($this->drain()), 'the same server over TCP sees it');
    }

    /**
     * Single node only: databases, unix sockets and ACL users of the one server (AclTest covers a cluster).
     *
     * @test
     * @group single-node
     */
    public function a_url_with_user_and_password_authenticates(): void
    {
        $this->client()->rawCommand('ACL', 'SETUSER', 'app', 'on', '>s3cret', '~*', '&*', '+@all');
        ini_set('reg_buffer.redis_url', 'redis://app:s3cret@127.0.0.1:' . self::redis()->port);
        self::assertRegistrationId(reg_buffer_push(1, ['auth' => true]));
        ini_set('reg_buffer.redis_url', 'redis://app:wrong@127.0.0.1:' . self::redis()->port);
        $e = self::assertThrows(\RegBuffer\Exception::class, fn () => reg_buffer_push(1, ['auth' => false]));
        self::assertStringNotContainsString('wrong', $e->getMessage(), 'the password is not in the message');
        ini_set('reg_buffer.redis_url', self::redis()->url());
        self::assertCount(1, $this->drain());
    }

    /** @test */
    public function the_password_never_appears_in_exceptions_or_phpinfo(): void
    {
        ini_set('reg_buffer.redis_url', 'redis://app:Sup3rS3cret@127.0.0.1:' . \RegBuffer\Tests\Support\RedisServer::freePort());
        ini_set('reg_buffer.retry_interval_ms', '0');
        $e = self::assertThrows(\RegBuffer\ConnectionException::class, fn () => reg_buffer_push(1, []));
        self::assertStringNotContainsString('Sup3rS3cret', $e->getMessage());
        self::assertStringNotContainsString('Sup3rS3cret', (string) $e);
        ob_start();
        phpinfo(INFO_MODULES);
        $info = (string) ob_get_clean();
        self::assertStringContainsString('reg_buffer', $info);
        self::assertStringContainsString('reg_buffer.redis_url', $info, 'phpinfo() shows the settings');
        self::assertStringNotContainsString('Sup3rS3cret', $info);
    }

    /**
     * A password holding / @ : % # ? — which ends a URL's authority early, or makes the URL invalid — never shows:
     * not in the exception of any call (connection error, invalid URL), not in phpinfo() in-process or `php -i`.
     *
     * @test
     */
    public function a_password_with_url_delimiters_never_appears_anywhere(): void
    {
        $port = \RegBuffer\Tests\Support\RedisServer::freePort();
        ini_set('reg_buffer.retry_interval_ms', '0');
        ini_set('reg_buffer.connect_timeout_ms', '300');
        foreach (['se/krit', 'Sx@y:z/w', 'Pa%2Fss#w?rd', 'Q?u#e:r@y/', 'Z%41p@p'] as $password) {
            $decoded = rawurldecode($password);
            $urls = [
                "redis://u:$password@127.0.0.1:$port",
                "redis://:$password@127.0.0.1:$port/1",
                "redis+cluster://u:$password@127.0.0.1:$port",
                "redis+unix:///tmp/regbuf-none.sock?db=0&pass=$password",
                "redis://u:$password@",
            ];
            foreach ($urls as $url) {
                ini_set('reg_buffer.redis_url', $url);
                foreach ([fn () => reg_buffer_push(1, []), fn () => reg_buffer_stats(), fn () => reg_buffer_flush()] as $call) {
                    $e = self::assertThrows(\RegBuffer\Exception::class, $call, $url);
                    foreach ([$password, $decoded] as $secret) {
                        self::assertStringNotContainsString($secret, (string) $e, "the exception for $url");
                    }
                }
                ob_start();
                phpinfo(INFO_MODULES);
                $info = (string) ob_get_clean();
                self::assertStringContainsString('reg_buffer.redis_url', $info);
                foreach ([$password, $decoded] as $secret) {
                    self::assertStringNotContainsString($secret, $info, "phpinfo() for $url");
                }
                $out = [];
                exec(escapeshellarg(PHP_BINARY) . ' -d ' . escapeshellarg("reg_buffer.redis_url=$url") . ' -i 2>&1', $out);
                $cli = implode("\n", $out);
                self::assertStringContainsString('reg_buffer.redis_url', $cli);
                foreach ([$password, $decoded] as $secret) {
                    self::assertStringNotContainsString($secret, $cli, "php -i for $url");
                }
            }
        }
    }

    /** @test */
    public function phpinfo_shows_every_setting(): void
    {
        ob_start();
        phpinfo(INFO_MODULES);
        $info = (string) ob_get_clean();
        foreach (self::SETTINGS as $name) {
            self::assertStringContainsString($name, $info);
        }
    }

    /** @test */
    public function a_malformed_setting_gives_an_error_naming_it(): void
    {
        ini_set('reg_buffer.timeout_ms', 'soon');
        $e = self::assertThrows(\Throwable::class, fn () => reg_buffer_push(1, []));
        self::assertStringContainsString('reg_buffer.timeout_ms', $e->getMessage());
        ini_set('reg_buffer.timeout_ms', '1000');
        $this->assertNothingWritten();
    }

    /**
     * Regression (found by this suite, fixed in 39bd55c): ini_restore() left reg_buffer settings unchanged. PHP
     * only restores an entry whose on_modify handler accepts the old value, and the entries had none.
     *
     * @test
     */
    public function ini_restore_brings_back_the_php_ini_value(): void
    {
        $original = ini_get_all('reg_buffer', true)['reg_buffer.key_prefix']['global_value'];
        ini_set('reg_buffer.key_prefix', 'changed:');
        ini_restore('reg_buffer.key_prefix');
        self::assertSame($original, ini_get('reg_buffer.key_prefix'));
    }
}
