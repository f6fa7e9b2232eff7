<?php
// rediss://: the extension talks TLS to a redis-server whose certificate a test CA signed — trusted through the
// system store (SSL_CERT_FILE) or reg_buffer.tls_ca_file — refuses one it does not trust, and presents a client
// certificate (reg_buffer.tls_cert_file / tls_key_file) where the server demands one (tls-auth-clients yes).
// Also rediss+cluster:// to a Redis Cluster that talks TLS everywhere.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\RedisCluster;
use RegBuffer\Tests\Support\RedisServer;
use RegBuffer\Tests\Support\TestCase;

final class TlsTest extends TestCase
{
    private static ?RedisServer $tlsServer = null;
    private static string $certs = '';

    public static function setUpBeforeClass(): void
    {
        if (trim((string) shell_exec('command -v openssl')) === '') {
            return;
        }
        self::$certs = sys_get_temp_dir() . '/reg_buffer_phpunit_tls_' . getmypid();
        @mkdir(self::$certs, 0700, true);
        $d = escapeshellarg(self::$certs);
        // ca.pem signs the server's and the client's certificates; other-ca.pem signs a client nobody trusts.
        $ca = fn (string $name, string $cn) => "openssl req -x509 -newkey rsa:2048 -nodes -keyout $name.key -out $name.pem -days 2 -subj '/CN=$cn'";
        $cert = fn (string $name, string $cn, string $by, string $ext) => "openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr -subj '/CN=$cn'"
            . " && printf '$ext\\n' > $name.cnf && openssl x509 -req -in $name.csr -CA $by.pem -CAkey $by.key -CAcreateserial -out $name.pem -days 2 -extfile $name.cnf";
        $script = "cd $d && " . implode(' && ', [
            $ca('ca', 'reg_buffer test CA'),
            $ca('other-ca', 'someone else'),
            $cert('server', '127.0.0.1', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost'),
            $cert('client', 'reg_buffer client', 'ca', 'extendedKeyUsage=clientAuth'),
            $cert('other-client', 'reg_buffer client', 'other-ca', 'extendedKeyUsage=clientAuth'),
        ]);
        exec("($script) >/dev/null 2>&1", $out, $code);
        if ($code === 0) {
            self::$tlsServer = RedisServer::start(false, self::tlsFiles());
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
        $this->requireClientCertificates(false);
    }

    private static function tlsFiles(): array
    {
        return ['cert' => self::$certs . '/server.pem', 'key' => self::$certs . '/server.key', 'ca' => self::$certs . '/ca.pem'];
    }

    /** tls-auth-clients yes/no on the TLS server (its own clients use the unix socket). */
    private function requireClientCertificates(bool $required): void
    {
        self::$tlsServer->client()->config('SET', 'tls-auth-clients', $required ? 'yes' : 'no');
    }

    /** Push, flush and ack one registration in a fresh php process; $env: SSL_CERT_FILE, REG_BUFFER_TEST_TLS_*. */
    private function roundTrip(array $env, ?string $url = null): array
    {
        $env += ['REG_BUFFER_TEST_URL' => $url ?? self::$tlsServer->url(), 'REG_BUFFER_TEST_PREFIX' => $this->prefix, 'REG_BUFFER_TEST_RETRY_INTERVAL_MS' => '0', 'SSL_CERT_FILE' => '/dev/null'];
        [$code, $out, $err] = PhpProcess::run('round_trip', [], $env);
        self::assertSame(0, $code, $err);
        return json_decode($out, true, 512, JSON_THROW_ON_ERROR);
    }

    private function assertRoundTripped(array $result): void
    {
        self::assertArrayNotHasKey('error', $result, ($result['error'] ?? '') . ': ' . ($result['message'] ?? ''));
        self::assertRegistrationId($result['id']);
        self::assertSame([$result['id']], array_column($result['rows'], 'id'));
        self::assertSame(['over' => 'tls', 'name' => 'Zoë'], $result['rows'][0]['data']);
        self::assertSame(1, $result['acked']);
    }

    private function assertRefused(array $result, string $why): void
    {
        self::assertSame('RegBuffer\ConnectionException', $result['error'] ?? null, "$why: " . json_encode($result));
        self::assertSame([], $this->keys(self::$tlsServer->client(), $this->prefix . '*'), "$why: nothing went over the connection");
    }

    private function file(string $name): string
    {
        return self::$certs . "/$name";
    }

    /**
     * @test
     * @group single-node
     */
    public function a_rediss_url_pushes_flushes_and_acks_over_tls(): void
    {
        $this->assertRoundTripped($this->roundTrip(['SSL_CERT_FILE' => $this->file('ca.pem')]));
    }

    /**
     * @test
     * @group single-node
     */
    public function a_certificate_nobody_trusts_is_refused(): void
    {
        $this->assertRefused($this->roundTrip([]), 'the system store does not know the test CA');
        $this->assertRefused($this->roundTrip(['REG_BUFFER_TEST_TLS_CA_FILE' => $this->file('other-ca.pem')]), 'tls_ca_file names another CA');
    }

    /**
     * @test
     * @group single-node
     */
    public function tls_ca_file_trusts_the_servers_ca_without_the_system_store(): void
    {
        $this->assertRoundTripped($this->roundTrip(['REG_BUFFER_TEST_TLS_CA_FILE' => $this->file('ca.pem')]));
    }

    /**
     * @test
     * @group single-node
     */
    public function a_client_certificate_is_presented_where_the_server_demands_one(): void
    {
        $this->requireClientCertificates(true);
        $trust = ['REG_BUFFER_TEST_TLS_CA_FILE' => $this->file('ca.pem')];
        $this->assertRefused($this->roundTrip($trust), 'no client certificate');
        $this->assertRefused($this->roundTrip($trust + ['REG_BUFFER_TEST_TLS_CERT_FILE' => $this->file('other-client.pem'), 'REG_BUFFER_TEST_TLS_KEY_FILE' => $this->file('other-client.key')]), 'a client certificate the server does not trust');
        $this->assertRoundTripped($this->roundTrip($trust + ['REG_BUFFER_TEST_TLS_CERT_FILE' => $this->file('client.pem'), 'REG_BUFFER_TEST_TLS_KEY_FILE' => $this->file('client.key')]));
    }

    /**
     * @test
     * @group single-node
     */
    public function a_missing_certificate_file_is_an_error_naming_the_setting(): void
    {
        $result = $this->roundTrip(['REG_BUFFER_TEST_TLS_CA_FILE' => $this->file('no-such-ca.pem')]);
        self::assertArrayHasKey('error', $result);
        self::assertStringContainsString('reg_buffer.tls_ca_file', $result['message']);
    }

    /**
     * @test
     * @group cluster
     */
    public function a_rediss_cluster_url_works_with_the_ca_file_and_a_client_certificate(): void
    {
        $cluster = RedisCluster::start(3, 0, 1500, self::tlsFiles());
        try {
            foreach ($cluster->nodes() as $node) {
                $node->client()->config('SET', 'tls-auth-clients', 'yes'); // nodes present their own certificate to each other
            }
            $this->assertRoundTripped($this->roundTrip([
                'REG_BUFFER_TEST_TLS_CA_FILE' => $this->file('ca.pem'),
                'REG_BUFFER_TEST_TLS_CERT_FILE' => $this->file('client.pem'),
                'REG_BUFFER_TEST_TLS_KEY_FILE' => $this->file('client.key'),
            ], $cluster->url()));
            $result = $this->roundTrip(['REG_BUFFER_TEST_TLS_CA_FILE' => $this->file('ca.pem')], $cluster->url());
            self::assertSame('RegBuffer\ConnectionException', $result['error'] ?? null, 'no client certificate: ' . json_encode($result));
        } finally {
            $cluster->stop();
        }
    }
}
