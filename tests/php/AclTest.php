<?php
// An ACL user limited to the prefix's keys and to exactly the commands docs/redis-setup.md lists runs the whole
// push / flush / ack / stats / range path (and import_legacy on one server) with no denial in ACL LOG; a user
// missing any one of those commands gets an exception that says so.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\RedisServer;
use RegBuffer\Tests\Support\TestCase;

final class AclTest extends TestCase
{
    /** docs/redis-setup.md: what every reg_buffer user needs (inside its scripts too: ACL applies to redis.call). */
    public const COMMANDS = [
        'evalsha', 'script|load', 'config|get', 'info',
        'del', 'get', 'set', 'incr',
        'hdel', 'hexists', 'hget', 'hgetall', 'hincrby', 'hlen', 'hmget', 'hscan', 'hset',
        'lindex', 'llen', 'lpop', 'lpush', 'lrange', 'lrem', 'ltrim', 'rpush',
        'zadd', 'zcard', 'zrange', 'zrangebyscore', 'zrem', 'zscore', 'time',
    ];
    /** …and on one server, where a push with nothing to check first is a transaction (no scripts on a cluster). */
    public const SINGLE_COMMANDS = ['exec', 'multi', 'mget']; // exec first: a refused MULTI sends the prefix's pushes to the script
    /** …and on a Redis Cluster (the path there runs with durability=replica:1: wait, needed for that on one server too). */
    public const CLUSTER_COMMANDS = ['cluster|slots', 'ping', 'wait'];
    /**
     * …and on a cluster while slots move (redis-cli --cluster reshard / rebalance): the client follows an ASK
     * redirection with ASKING. ClusterReshardTest runs its clients as a user with COMMANDS, CLUSTER_COMMANDS and
     * these, and checks ACL LOG (without asking it logs denials).
     */
    public const RESHARD_COMMANDS = ['asking'];
    /** …and for reg_buffer_import_legacy() (one server only), with the key pattern ~event_reg_buffer:*. */
    public const IMPORT_COMMANDS = ['scan'];

    private const USER = 'regbuf_app';
    private const PASSWORD = 'app-s3cret';

    protected function tearDown(): void
    {
        foreach ($this->nodes() as $node) {
            $node->client()->rawCommand('ACL', 'DELUSER', self::USER);
        }
    }

    /**
     * Regression (issue 17's red team): filing wrote the events' queues before trimming the inbox, so with an ACL
     * from before the inbox (no ltrim) each refused filing left the queues written and the next filed them again:
     * one claim returned 35 rows for 5 registrations. Now the inbox is trimmed first: a refused filing writes nothing.
     *
     * @test
     * @group single-node
     */
    public function a_filing_the_acl_refuses_files_nothing_and_nothing_twice_once_allowed(): void
    {
        $documented = $this->usePathSettings();
        self::redis()->flushAll();
        $this->setUser(array_values(array_diff($documented, ['ltrim'])));
        $this->connectAsUser();
        $ids = [];
        for ($i = 0; $i < 5; $i++) {
            $ids[] = reg_buffer_push(1 + $i % 2, ['i' => $i], "p$i@example.com");
        }
        for ($i = 0; $i < 3; $i++) {
            self::assertThrows(\RegBuffer\Exception::class, fn () => reg_buffer_stats(), 'filing needs ltrim');
        }
        $this->setUser($documented);
        $rows = $this->drain(100);
        self::assertEqualsCanonicalizing($ids, self::ids($rows), 'each registration once');
        $stats = reg_buffer_stats();
        self::assertSame([5, 5, 0, 0], [$stats['pushed'], $stats['acked'], $stats['lost'], $stats['pending']]);
    }

    /**
     * Regression (issue 17's red team): a plain push whose MULTI Redis refused (an ACL without it, a proxy without
     * transactions) threw although its HSET and RPUSH had run one by one, so a caller retrying stored it twice. Now
     * it answers its id and is flushed once.
     *
     * @test
     * @group single-node
     */
    public function a_push_whose_multi_is_refused_is_buffered_once_and_said_so(): void
    {
        $documented = $this->usePathSettings();
        ini_set('reg_buffer.max_pending', '3');
        self::redis()->flushAll();
        $this->setUser(array_values(array_diff($documented, ['multi'])));
        $this->connectAsUser();
        // The first push runs the script (no figure yet), the second the transaction whose MULTI is refused, the
        // rest the script again: the cap holds (the red team's second pass found it ignored from then on).
        $ids = [];
        for ($i = 0; $i < 3; $i++) {
            $ids[] = reg_buffer_push(1, ['i' => $i]);
            self::assertRegistrationId($ids[$i]);
        }
        self::assertThrows(\RegBuffer\CapacityException::class, fn () => reg_buffer_push(1, ['i' => 3]));
        $this->setUser($documented);
        self::assertSame($ids, self::ids($this->drain(100)), 'each once, in order');
    }

    /**
     * A push with a unique key is a transaction too (the marker's SET NX holds the registration until it is filed):
     * with MULTI refused, its SET and RPUSH run one by one and their replies still tell taken from duplicate.
     *
     * @test
     * @group single-node
     */
    public function a_unique_key_push_whose_multi_is_refused_is_deduped_and_flushed_once(): void
    {
        $documented = $this->usePathSettings();
        ini_set('reg_buffer.max_pending', '0');
        self::redis()->flushAll();
        $this->setUser(array_values(array_diff($documented, ['multi'])));
        $this->connectAsUser();
        $first = reg_buffer_push(1, ['i' => 0], 'ada@example.com');
        self::assertRegistrationId($first);
        // The same server under another URL: not yet known to refuse MULTI, so its push is a transaction again.
        ini_set('reg_buffer.redis_url', ini_get('reg_buffer.redis_url') . '&again=1');
        self::assertFalse(reg_buffer_push(1, ['i' => 1], 'ada@example.com'), 'the duplicate, told by its SET NX');
        $held = fn () => self::redis()->client()->lRange("{$this->prefix}held", 0, -1);
        self::assertFalse(reg_buffer_push(1, ['i' => 2], 'ada@example.com'), 'the duplicate, told by the script');
        self::assertCount(1, $held(), 'the first is held; a duplicate leaves no entry behind');
        self::assertStringStartsWith("1:$first:", $held()[0]);
        $this->setUser($documented);
        $rows = $this->drain(100);
        self::assertSame([$first], self::ids($rows));
        self::assertSame(['i' => 0], $rows[0]['data']);
        $stats = reg_buffer_stats();
        self::assertSame([2, 0], [$stats['duplicates'], $stats['pending']]);
    }

    /** @test */
    public function the_documented_commands_are_exactly_what_the_whole_path_needs(): void
    {
        $documented = $this->usePathSettings();

        // Start from nothing; grant each command ACL LOG shows was denied, until the whole path runs.
        $granted = [];
        for ($round = 0; ; $round++) {
            self::assertLessThan(80, $round, 'the path keeps being denied: ' . implode(' ', $granted));
            [$error, $denied] = $this->runPathAs($granted);
            if ($denied === []) {
                self::assertNull($error, 'the path failed without an ACL denial: ' . ($error ? get_class($error) . ': ' . $error->getMessage() : ''));
                break;
            }
            array_push($granted, ...$denied);
        }
        sort($documented);
        sort($granted);
        self::assertSame($documented, $granted, 'the commands reg_buffer needs (update docs/redis-setup.md and README too)');

        // Exactly the documented list: the path runs and ACL LOG stays empty on every node.
        [$error, $denied] = $this->runPathAs($documented);
        self::assertNull($error, $error ? $error->getMessage() : '');
        self::assertSame([], $denied);
    }

    /** @test */
    public function a_user_missing_any_one_command_gets_an_exception_that_says_acl_refused_it(): void
    {
        $documented = $this->usePathSettings();
        foreach ($documented as $missing) {
            [$error, $denied] = $this->runPathAs(array_values(array_diff($documented, [$missing])));
            self::assertSame([$missing], $denied);
            if ($missing === 'config|get' || $missing === 'info') {
                self::assertNull($error, "without $missing only stats()'s facts about the server are null");
                continue;
            }
            if ($missing === 'multi' || $missing === 'exec') {
                // A refused MULTI lets the writes after it run one by one (that push is buffered, and said so); a
                // refused EXEC discards the transaction and the push runs its script.
                self::assertNull($error, "without $missing a plain push still buffers");
                continue;
            }
            self::assertInstanceOf(\RegBuffer\Exception::class, $error, "without $missing: " . ($error ? get_class($error) . ': ' . $error->getMessage() : 'no exception'));
            self::assertMatchesRegularExpression("/NOPERM|no permissions|can't run this command/i", $error->getMessage(), "without $missing the exception says ACL refused it");
        }
    }

    /** @test */
    public function a_user_limited_to_other_keys_gets_a_clear_exception(): void
    {
        $this->setUser($this->usePathSettings(), 'someone-else:*');
        $e = self::assertThrows(\RegBuffer\Exception::class, fn () => reg_buffer_push(1, ['a' => 1]));
        self::assertMatchesRegularExpression('/NOPERM|no permissions/i', $e->getMessage());
        self::assertRegistrationId($e->getRegistrationId());
        self::assertSame([], $this->keys(null, "{$this->prefix}*"), 'nothing was written');
    }

    /** Points the extension at the suite's Redis as the user; returns the commands the path needs there. */
    private function usePathSettings(): array
    {
        ini_set('reg_buffer.retry_interval_ms', '0');
        if (self::isCluster()) {
            ini_set('reg_buffer.durability', 'replica:1:5000');
        }
        $this->connectAsUser();
        return self::isCluster() ? [...self::COMMANDS, ...self::CLUSTER_COMMANDS] : [...self::COMMANDS, ...self::SINGLE_COMMANDS, ...self::IMPORT_COMMANDS];
    }

    /**
     * Points the extension at the suite's Redis as the user, through a URL it has not used yet, so that the run
     * opens new connections (a cluster client reads the slot map then). One server: its address; a cluster: another
     * subset of its nodes as seeds each time.
     */
    private function connectAsUser(): void
    {
        static $runs = 0;
        $runs++;
        // One server: a URL of its own per run too (an unknown query parameter), so that what a process noted
        // about an earlier run's user (a refused MULTI) is not this run's.
        $url = self::redis()->url() . "/0?run=$runs";
        if (self::isCluster()) {
            $nodes = self::redis()->nodes();
            $subset = $runs % (2 ** count($nodes) - 1) + 1; // a bit mask: any subset of the nodes will do as seeds
            $url = self::redis()->url(array_values(array_filter($nodes, fn ($i) => ($subset >> $i) & 1, ARRAY_FILTER_USE_KEY)));
        }
        ini_set('reg_buffer.redis_url', preg_replace('#://#', '://' . self::USER . ':' . self::PASSWORD . '@', $url, 1));
    }

    /**
     * Empties Redis (data and scripts), gives the user exactly $commands on the prefix's keys, runs the path as that user, and
     * returns [the exception it ended with or null, the commands ACL LOG shows were denied on any node].
     */
    private function runPathAs(array $commands): array
    {
        self::redis()->flushAll();
        foreach ($this->nodes() as $node) {
            $node->client()->rawCommand('SCRIPT', 'FLUSH'); // as a fresh Redis: the scripts need loading
        }
        $this->setUser($commands);
        $this->connectAsUser();
        try {
            $this->path();
            $error = null;
        } catch (\Throwable $e) {
            $error = $e;
        }
        $denied = [];
        foreach ($this->nodes() as $node) {
            foreach ($node->client()->rawCommand('ACL', 'LOG') ?: [] as $entry) {
                $entry = self::pairs($entry);
                self::assertSame('command', $entry['reason'], 'only commands are denied, never a key: ' . json_encode($entry));
                $denied[$entry['object']] = true;
            }
        }
        return [$error, array_keys($denied)];
    }

    /**
     * The whole API, each step checked: pushes (with a unique key and a duplicate, with a use limit), a rate hit,
     * range, stats,
     * flush (with and without data), a lease running out and the redelivery, ack, an entry lost, the quarantine
     * (list, retry, purge), and on one server import_legacy.
     */
    private function path(): void
    {
        $admin = $this->client();
        $a = reg_buffer_push(1, ['a' => 1], 'ada@example.com', ['token' => 'nonce', 'uses' => 5, 'expires_at' => time() + 600]);
        self::assertRegistrationId($a);
        self::assertFalse(reg_buffer_push(1, ['a' => 'again'], 'ada@example.com'));
        // The token's second use (its first sets the counter, later ones increment it).
        $b = reg_buffer_push(1, ['b' => 2], null, ['token' => 'nonce', 'uses' => 5, 'expires_at' => time() + 600]);
        $bad = [reg_buffer_push(3, ['c' => 3]), reg_buffer_push(3, ['c' => 4])];
        $d = reg_buffer_push(4, ['d' => 4]);
        foreach ($bad as $id) {
            $admin->hSet($this->eventKey(3, 'd'), $id, 'garbage: goes to the quarantine');
        }
        $admin->hDel($this->eventKey(4, 'd'), $d); // as an eviction would: counted as lost
        $hit = reg_buffer_rate_hit('203.0.113.9', 2);
        self::assertSame([1, true], [$hit['count'], $hit['allowed']]);
        self::assertSame([$a, $b], self::ids(reg_buffer_range(1, 0, INF)));
        self::assertSame(5, reg_buffer_stats()['pending']);
        // A batch comes from one shard: flush until nothing is left (one batch on one server).
        $first = $this->flushEverything(1, true);
        self::assertEqualsCanonicalizing([$a, $b], self::ids(array_merge(...array_column($first, 'rows'))));
        $deadline = microtime(true) + 10;
        $again = [];
        do {
            self::assertLessThan($deadline, microtime(true), 'the batches never came back after their lease');
            usleep(100_000);
            array_push($again, ...$this->flushEverything(60, false));
        } while (count(array_merge(...array_column($again, 'rows'))) < 2);
        self::assertEqualsCanonicalizing([$a, $b], self::ids(array_merge(...array_column($again, 'rows'))), 'redelivered after the lease');
        foreach ($first as $batch) {
            self::assertSame(0, reg_buffer_ack($batch['batch']), 'a late ack after the redelivery');
        }
        foreach ($again as $batch) {
            self::assertSame(count($batch['rows']), reg_buffer_ack($batch['batch']));
        }
        $entries = reg_buffer_quarantined();
        self::assertEqualsCanonicalizing($bad, array_column($entries, 'id'));
        $retried = reg_buffer_retry_quarantined($entries[0]['entry'], ['c' => 'recovered'], 'carol@example.com');
        self::assertRegistrationId($retried);
        self::assertTrue(reg_buffer_purge_quarantined($entries[1]['entry']));
        self::assertSame([$retried], self::ids($this->drain()));
        if (!self::isCluster()) {
            $admin->lPush('event_reg_buffer:7', json_encode(['timestamp' => 1_700_000_000, 'registration_details' => ['legacy' => true]]));
            self::assertSame(1, reg_buffer_import_legacy());
            self::assertCount(1, $this->drain());
        }
        // A push with a unique key and nothing else (a transaction on one server: its marker holds it), filed.
        $eve = reg_buffer_push(5, ['e' => 5], 'eve@example.com');
        self::assertSame([$eve], self::ids($this->drain()));
        $stats = reg_buffer_stats();
        self::assertSame([0, 0, 0, 1], [$stats['pending'], $stats['in_flight'], $stats['quarantined'], $stats['lost']]);
    }

    /** Flushes until a flush finds nothing: the batches, unacknowledged. */
    private function flushEverything(int $lease, bool $withData): array
    {
        $batches = [];
        while (($batch = reg_buffer_flush(100, $lease, $withData))['rows'] !== []) {
            $batches[] = $batch;
        }
        return $batches;
    }

    private function setUser(array $commands, ?string $keys = null): void
    {
        $keys = $keys === null ? ["~{$this->prefix}*", '~event_reg_buffer:*'] : ["~$keys"];
        foreach ($this->nodes() as $node) {
            $client = $node->client();
            $client->rawCommand('ACL', 'SETUSER', ...[self::USER, 'reset', 'on', '>' . self::PASSWORD, ...$keys, 'resetchannels', '-@all', ...array_map(fn ($c) => "+$c", $commands)]);
            $client->rawCommand('ACL', 'LOG', 'RESET');
        }
    }

    /** @return list<RedisServer> every running node: ACL users and ACL LOG are per node */
    private function nodes(): array
    {
        return array_values(array_filter(self::redis()->nodes(), fn (RedisServer $s) => $s->isRunning()));
    }

    /** ACL LOG entry (a flat key, value, … list) as a map. */
    private static function pairs(array $flat): array
    {
        $map = [];
        for ($i = 0; $i + 1 < count($flat); $i += 2) {
            $map[$flat[$i]] = $flat[$i + 1];
        }
        return $map;
    }
}
