<?php
// rediss://: the extension talks TLS to a redis-server with a certificate it trusts, and refuses one it does not.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\RedisServer;
use RegBuffer\Tests\Support\TestCase;

final class TlsTest extends TestCase
{
    private static ?RedisServer $tlsServer = null;
    private static string $certs = '';

    public static function setUpBeforeClass(): void
    {
        if (!is_executable('/usr/bin/openssl') && trim((string) shell_exec('command -v openssl')) === '') {
            return;
        }
        self::$certs = sys_get_temp_dir() . '/reg_buffer_phpunit_tls_' . getmypid();
        @mkdir(self::$certs, 0700, true);
        $d = escapeshellarg(self::$certs);
        $script = "cd $d && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=reg_buffer test CA'"
            . " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1'"
            . " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf"
            . ' && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf';
        exec("($script) >/dev/null 2>&1", $out, $code);
        if ($code === 0) {
            self::$tlsServer = RedisServer::start(false, ['cert' => self::$certs . '/server.pem', 'key' => self::$certs . '/server.key', 'ca' => self::$certs . '/ca.pem']);
        }
    }

    public static function tearDownAfterClass(): void
    {
        self::$tlsServer?->stop();
        self::$tlsServer = null;
        array_map('unlink', glob(self::$certs . '/*') ?: []);
        @rmdir(self::$certs);
    }

    protected function setUp(): void
    {
        parent::setUp();
        if (self::$tlsServer === null) {
            self::markTestSkipped('openssl or a TLS-enabled redis-server is missing');
        }
    }

    private function roundTrip(array $env): array
    {
        $env = ['REG_BUFFER_TEST_URL' => self::$tlsServer->url(), 'REG_BUFFER_TEST_PREFIX' => $this->prefix, 'REG_BUFFER_TEST_RETRY_INTERVAL_MS' => '0'] + $env;
        [$code, $out, $err] = PhpProcess::run('round_trip', [], $env);
        self::assertSame(0, $code, $err);
        return json_decode($out, true, 512, JSON_THROW_ON_ERROR);
    }

    /** @test */
    public function a_rediss_url_pushes_flushes_and_acks_over_tls(): void
    {
        $result = $this->roundTrip(['SSL_CERT_FILE' => self::$certs . '/ca.pem']);
        self::assertArrayNotHasKey('error', $result, $result['message'] ?? '');
        self::assertRegistrationId($result['id']);
        self::assertSame([$result['id']], array_column($result['rows'], 'id'));
        self::assertSame(['over' => 'tls', 'name' => 'Zoë'], $result['rows'][0]['data']);
        self::assertSame(1, $result['acked']);
    }

    /** @test */
    public function a_certificate_nobody_trusts_is_refused(): void
    {
        $result = $this->roundTrip(['SSL_CERT_FILE' => '/dev/null']);
        self::assertSame('RegBuffer\ConnectionException', $result['error'] ?? null, json_encode($result));
        self::assertSame([], $this->keys(self::$tlsServer->client(), $this->prefix . '*'), 'nothing went over an untrusted connection');
    }
}
