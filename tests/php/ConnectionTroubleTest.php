<?php
// Redis unreachable, stalled or dropping connections: ConnectionException in time, a circuit breaker that fails
// at once and recovers by itself, and connections that are never reused after a failure.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\ConnectionException;
use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\RedisServer;
use RegBuffer\Tests\Support\TestCase;

/**
 * Single node only: these tests use servers and URLs of their own (killed, paused, behind a proxy), so the cluster
 * pass would only repeat them; ClusterLayoutTest covers a cluster nobody answers for.
 *
 * @group single-node
 */
final class ConnectionTroubleTest extends TestCase
{
    /** @var list<resource> */
    private array $sockets = [];

    protected function tearDown(): void
    {
        foreach ($this->sockets as $socket) {
            @fclose($socket);
        }
        $this->sockets = [];
    }

    /** An address whose TCP handshake never completes: a listener with a full backlog drops every SYN. */
    private function blackhole(): string
    {
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $error, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, stream_context_create(['socket' => ['backlog' => 0]]));
        self::assertNotFalse($server, $error);
        $this->sockets[] = $server;
        $name = (string) stream_socket_get_name($server, false);
        for ($i = 0; $i < 4; $i++) {
            $client = @stream_socket_client("tcp://$name", $errno, $error, 0.2, STREAM_CLIENT_CONNECT | STREAM_CLIENT_ASYNC_CONNECT);
            if ($client !== false) {
                $this->sockets[] = $client;
            }
        }
        usleep(50_000);
        return "redis://$name";
    }

    private static function connectionsReceived(\Redis $probe): int
    {
        return (int) $probe->info('stats')['total_connections_received'];
    }

    /** @test */
    public function redis_unreachable_throws_a_connection_exception_within_the_connect_timeout(): void
    {
        ini_set('reg_buffer.redis_url', $this->blackhole());
        ini_set('reg_buffer.connect_timeout_ms', '300');
        ini_set('reg_buffer.timeout_ms', '5000');
        $started = microtime(true);
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['a' => 1]));
        $elapsed = microtime(true) - $started;
        self::assertLessThan(0.3 + 1.0, $elapsed, 'fails within connect_timeout_ms (+1 s of slack)');
        self::assertRegistrationId($e->getRegistrationId());
    }

    /** @test */
    public function a_silent_server_times_out_within_the_timeouts(): void
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $this->sockets[] = $server;
        ini_set('reg_buffer.redis_url', 'redis://' . stream_socket_get_name($server, false));
        ini_set('reg_buffer.connect_timeout_ms', '300');
        ini_set('reg_buffer.timeout_ms', '300');
        $started = microtime(true);
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_stats());
        self::assertLessThan(0.3 + 1.0, microtime(true) - $started);
    }

    /** @test */
    public function every_call_throws_a_connection_exception_when_nothing_listens(): void
    {
        ini_set('reg_buffer.redis_url', 'redis://127.0.0.1:' . RedisServer::freePort());
        ini_set('reg_buffer.retry_interval_ms', '0');
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['a' => 1]));
        self::assertRegistrationId($e->getRegistrationId());
        foreach ([
            'flush' => fn () => reg_buffer_flush(),
            'ack' => fn () => reg_buffer_ack('01ZZZZZZZZZZZZZZZZZZZZZZZZ'),
            'stats' => fn () => reg_buffer_stats(),
            'range' => fn () => reg_buffer_range(1, 0, INF),
            'import_legacy' => fn () => reg_buffer_import_legacy(),
        ] as $what => $call) {
            $e = self::assertThrows(ConnectionException::class, $call, $what);
            self::assertNull($e->getRegistrationId(), "$what is not a push: no registration id");
        }
    }

    /** @test */
    public function the_circuit_breaker_fails_at_once_without_a_new_connection_attempt(): void
    {
        $server = self::extraServer();
        $server->kill();
        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.retry_interval_ms', '60000');
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['a' => 1]));

        $server->restart();
        $probe = $server->client();
        $before = self::connectionsReceived($probe);
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['a' => 2]), 'Redis is back, but the breaker is open');
        self::assertRegistrationId($e->getRegistrationId());
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_stats());
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_flush());
        self::assertSame($before, self::connectionsReceived($probe), 'no connection attempt while the breaker is open');
        self::assertSame(0, $probe->dbSize());
    }

    /** @test */
    public function lowering_retry_interval_ms_closes_an_open_breaker_at_once(): void
    {
        $server = self::extraServer();
        $server->kill();
        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.retry_interval_ms', '60000');
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_stats());
        $server->restart();
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_stats(), 'open for a minute');
        ini_set('reg_buffer.retry_interval_ms', '0');
        self::assertRegistrationId(reg_buffer_push(1, ['a' => 1]));
    }

    /** @test */
    public function the_circuit_breaker_is_per_server(): void
    {
        ini_set('reg_buffer.redis_url', 'redis://127.0.0.1:' . RedisServer::freePort());
        ini_set('reg_buffer.retry_interval_ms', '60000');
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_stats());
        ini_set('reg_buffer.redis_url', self::redis()->url());
        self::assertRegistrationId(reg_buffer_push(1, ['a' => 1]), 'another server is not affected');
    }

    /** @test */
    public function the_same_process_recovers_by_itself_once_redis_is_back(): void
    {
        $server = self::extraServer();
        $server->kill();
        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.retry_interval_ms', '200');
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['a' => 1]));
        $server->restart();
        usleep(300_000);
        $id = reg_buffer_push(1, ['a' => 2]);
        self::assertRegistrationId($id);
        self::assertSame([$id], self::ids($this->drain()));
    }

    /** @test */
    public function a_server_killed_under_a_pooled_connection_is_recovered_from(): void
    {
        $server = self::extraServer();
        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.retry_interval_ms', '100');
        $first = reg_buffer_push(1, ['a' => 1]);
        $server->kill();
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['a' => 2]));
        $server->restart();
        usleep(200_000);
        $this->waitUntilReachable();
        $second = reg_buffer_push(1, ['a' => 3]);
        self::assertRegistrationId($second);
        $ids = self::ids($this->drain());
        self::assertContains($second, $ids);
        self::assertNotContains($first, $ids, 'the non-persistent server forgot it: proves this is the restarted server');
    }

    /**
     * Regression (found by this suite, fixed in 39bd55c): a restarted Redis answers LOADING while it loads its
     * data; that was a plain RegBuffer\Exception, so a caller falling back on ConnectionException did not. Redis
     * cannot serve: that is a ConnectionException, like unreachable.
     *
     * @test
     */
    public function a_redis_still_loading_its_data_counts_as_unavailable(): void
    {
        $server = self::extraServer(persistent: true);
        $admin = $server->client();
        $admin->rawCommand('DEBUG', 'POPULATE', '500000', 'filler', '10');
        $admin->bgrewriteaof();
        do {
            usleep(50_000);
            $persistence = $admin->info('persistence');
        } while ($persistence['aof_rewrite_in_progress'] || $persistence['aof_rewrite_scheduled']);
        self::assertSame(500000, $admin->dbSize());
        $admin->close();

        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.retry_interval_ms', '0');
        $server->restart(waitUntilReady: false);
        $failures = [];
        $deadline = microtime(true) + 30;
        while (true) {
            try {
                $id = reg_buffer_push(1, ['after loading' => true]);
                break;
            } catch (\RegBuffer\Exception $e) {
                $failures[] = $e;
                self::assertLessThan($deadline, microtime(true), 'Redis never came back: ' . $e->getMessage());
                usleep(10_000);
            }
        }
        self::assertRegistrationId($id);
        foreach ($failures as $e) {
            self::assertInstanceOf(ConnectionException::class, $e, get_class($e) . ': ' . $e->getMessage());
            self::assertRegistrationId($e->getRegistrationId());
        }
    }

    /** @test */
    public function a_stalled_redis_times_out_with_the_registration_id(): void
    {
        $server = self::extraServer();
        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.timeout_ms', '200');
        ini_set('reg_buffer.retry_interval_ms', '0');
        reg_buffer_stats(); // connected before the stall
        $server->client()->rawCommand('CLIENT', 'PAUSE', '1500', 'ALL');
        $started = microtime(true);
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['stalled' => true]));
        self::assertLessThan(0.2 + 1.0, microtime(true) - $started, 'fails within timeout_ms (+1 s of slack)');
        $stalled = $e->getRegistrationId();
        self::assertRegistrationId($stalled);
        usleep(1_700_000);

        // The outcome of the stalled push is unknown; whatever happened, it is there at most once.
        $id = reg_buffer_push(1, ['after' => true]);
        self::assertRegistrationId($id);
        $rows = $this->drain();
        $ids = self::ids($rows);
        self::assertContains($id, $ids);
        self::assertSame([], array_values(array_diff($ids, [$id, $stalled])));
        self::assertSame(count($ids), count(array_unique($ids)));
        foreach ($rows as $row) {
            self::assertSame($row['id'] === $id ? ['after' => true] : ['stalled' => true], $row['data']);
        }
    }

    /**
     * Points the extension at a proxy in front of the suite's Redis that swallows replies while $flag exists.
     *
     * @return array{PhpProcess, string}
     */
    private function throughReplyEatingProxy(): array
    {
        $flag = $this->tempFile('eat-replies');
        $proxy = PhpProcess::start('reply_eating_proxy', [self::redis()->port, $flag]);
        self::assertTrue($proxy->waitForOutput("\n", 10), 'proxy: ' . $proxy->stderr());
        self::assertSame(1, preg_match('/port (\d+)/', $proxy->stdout(), $m));
        ini_set('reg_buffer.redis_url', "redis://127.0.0.1:{$m[1]}");
        return [$proxy, $flag];
    }

    /** @test */
    public function a_flush_whose_reply_was_lost_comes_back_after_its_lease(): void
    {
        // The claim's scripts are loaded (a claim that finds something runs both): the lost reply is the claim's,
        // not a NOSCRIPT's.
        reg_buffer_push(9, ['warm' => true]);
        reg_buffer_ack(reg_buffer_flush()['batch']);
        $ids = [reg_buffer_push(1, ['a' => 1]), reg_buffer_push(2, ['b' => 2])];
        [$proxy, $flag] = $this->throughReplyEatingProxy();
        ini_set('reg_buffer.timeout_ms', '300');
        ini_set('reg_buffer.retry_interval_ms', '0');
        self::assertSame(2, reg_buffer_stats()['pending'], 'connected through the proxy before replies go missing');
        file_put_contents($flag, '1'); // the claim's plan is answered, the claim's own reply is lost
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_flush(100, 2));
        $leaseEndsBy = microtime(true) + 2;
        self::assertNull($e->getRegistrationId());
        unlink($flag);
        ini_set('reg_buffer.redis_url', self::redis()->url());
        self::assertSame([], reg_buffer_flush(100)['rows'], 'the claim ran: leased to a flusher that never heard back');
        usleep((int) (max(0, $leaseEndsBy - microtime(true)) * 1e6) + 200_000);
        self::assertEqualsCanonicalizing($ids, self::ids($this->drain()));
        $proxy->kill();
    }

    /** @test */
    public function a_push_whose_reply_was_lost_reports_the_id_that_redis_stored(): void
    {
        [$proxy, $flag] = $this->throughReplyEatingProxy();
        ini_set('reg_buffer.timeout_ms', '300');
        ini_set('reg_buffer.retry_interval_ms', '0');
        self::assertRegistrationId(reg_buffer_push(1, ['through the proxy' => true]));

        touch($flag);
        $e = self::assertThrows(ConnectionException::class, fn () => reg_buffer_push(1, ['reply lost' => true], 'ada@example.com'));
        $tried = $e->getRegistrationId();
        self::assertRegistrationId($tried);
        unlink($flag);

        ini_set('reg_buffer.redis_url', self::redis()->url());
        self::assertFalse(reg_buffer_push(1, ['retry' => true], 'ada@example.com'), 'a retry is recognised as the same registration');
        $rows = $this->drain();
        $byId = array_column($rows, 'data', 'id');
        self::assertArrayHasKey($tried, $byId, 'the id in the exception is the id Redis stored');
        self::assertSame(['reply lost' => true], $byId[$tried]);
        self::assertCount(2, $rows);
        $proxy->kill();
    }

    /** @test */
    public function a_connection_that_timed_out_is_not_reused(): void
    {
        $server = self::extraServer();
        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.timeout_ms', '200');
        ini_set('reg_buffer.retry_interval_ms', '0');
        reg_buffer_push(7, ['before' => true]);
        $server->client()->rawCommand('CLIENT', 'PAUSE', '1000', 'ALL');
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_stats());
        self::assertThrows(ConnectionException::class, fn () => reg_buffer_range(7, 0, INF));
        usleep(1_300_000);
        // A reused connection would now read the stalled calls' replies as these calls' replies.
        $id = reg_buffer_push(7, ['after' => true]);
        self::assertRegistrationId($id);
        $stats = reg_buffer_stats();
        self::assertSame(2, $stats['pending']);
        $batch = reg_buffer_flush(100);
        self::assertSame([['before' => true], ['after' => true]], array_column($batch['rows'], 'data'));
        self::assertSame($id, $batch['rows'][1]['id']);
        self::assertSame(2, reg_buffer_ack($batch['batch']));
    }

    /** @test */
    public function a_connection_dropped_by_the_server_is_not_reused(): void
    {
        $server = self::extraServer();
        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.retry_interval_ms', '0');
        $first = reg_buffer_push(3, ['n' => 1]);
        $probe = $server->client();
        self::assertGreaterThanOrEqual(1, $probe->rawCommand('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
        $second = self::assertDoesNotThrow(fn () => reg_buffer_push(3, ['n' => 2]), 'the push after CLIENT KILL');
        $third = reg_buffer_push(3, ['n' => 3]);
        self::assertSame([$first, $second, $third], self::ids($this->drain()), 'each once, none lost');
    }

    /**
     * Regression (found by this suite, fixed in b6b69fe): Redis closes a connection idle longer than its `timeout`
     * setting (managed services often set one). The extension sent the next command into the closed pooled
     * connection, threw ConnectionException "unexpected end of file" for a Redis that was up, and opened the
     * circuit breaker, so the calls of the next retry_interval_ms failed too.
     *
     * @test
     */
    public function an_idle_connection_that_redis_closed_is_replaced_without_failing_a_call(): void
    {
        $server = self::extraServer();
        $server->client()->config('SET', 'timeout', '1');
        ini_set('reg_buffer.redis_url', $server->url());
        $first = reg_buffer_push(1, ['n' => 1]);
        $probe = $server->client();
        $deadline = microtime(true) + 10;
        do {
            usleep(200_000); // until Redis has closed the idle connection (only the probe is left)
        } while (substr_count((string) $probe->rawCommand('CLIENT', 'LIST'), ' cmd=') > 1 && microtime(true) < $deadline);
        $probe->close();
        $second = self::assertDoesNotThrow(fn () => reg_buffer_push(1, ['n' => 2]), 'the first push after the idle drop');
        $third = self::assertDoesNotThrow(fn () => reg_buffer_push(1, ['n' => 3]), 'the push after it (no breaker)');
        self::assertSame([$first, $second, $third], self::ids($this->drain()));
    }

    /**
     * Regression (found by this suite, fixed in b6b69fe): Redis answers a push from an unauthenticated client with
     * "Protocol error: unauthenticated multibulk length" and closes the connection; the extension kept it, so the
     * next call failed with ConnectionException "unexpected end of file" (tripping the breaker) instead of getting
     * Redis's own answer (NOAUTH).
     *
     * @test
     */
    public function a_connection_redis_closed_after_an_error_reply_is_not_reused(): void
    {
        $server = self::extraServer();
        $server->client()->config('SET', 'requirepass', 'secret');
        ini_set('reg_buffer.redis_url', $server->url());
        ini_set('reg_buffer.retry_interval_ms', '0');
        $first = self::assertThrows(\RegBuffer\Exception::class, fn () => reg_buffer_push(1, ['a' => 1]), 'no password');
        self::assertNotInstanceOf(ConnectionException::class, $first, 'Redis answered: ' . $first->getMessage());
        $second = self::assertThrows(\RegBuffer\Exception::class, fn () => reg_buffer_stats(), 'still no password');
        self::assertNotInstanceOf(ConnectionException::class, $second, 'the next call gets Redis\'s answer, not the dead connection: ' . $second->getMessage());
        self::assertMatchesRegularExpression('/auth/i', $second->getMessage());
    }

    /** @test */
    public function nothing_connects_at_module_startup(): void
    {
        $server = self::extraServer();
        $probe = $server->client();
        $before = self::connectionsReceived($probe);
        $code = 0;
        $out = [];
        exec(implode(' ', array_map('escapeshellarg', [...PhpProcess::$php, '-d', 'reg_buffer.redis_url=' . $server->url(), '-r', 'echo ini_get("reg_buffer.redis_url");'])) . ' 2>&1', $out, $code);
        self::assertSame(0, $code, implode("\n", $out));
        self::assertSame($before, self::connectionsReceived($probe), 'starting PHP with the extension made no connection');
        exec(implode(' ', array_map('escapeshellarg', [...PhpProcess::$php, '-d', 'reg_buffer.redis_url=' . $server->url(), '-r', 'reg_buffer_stats(); reg_buffer_stats(); reg_buffer_push(1, []);'])) . ' 2>&1', $out, $code);
        self::assertSame(0, $code, implode("\n", $out));
        self::assertSame($before + 1, self::connectionsReceived($probe), 'one lazy connection, reused by the calls of the process');
    }
}
