<?php
// reg_buffer_quarantined(), reg_buffer_retry_quarantined(), reg_buffer_purge_quarantined(): the quarantine read and
// worked on through the extension, on one server and on every shard of a cluster, each change in one step.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\TestCase;

final class QuarantineApiTest extends TestCase
{
    /** Pushes a registration of $event and damages its stored bytes, so the next flush quarantines it. */
    private function quarantine(int $event, array $registration, ?string $uniqueKey = null, string $damage = 'garbage'): string
    {
        $id = reg_buffer_push($event, $registration, $uniqueKey);
        self::assertRegistrationId($id);
        $this->client()->hSet($this->eventKey($event, 'd'), $id, $damage);
        return "$event:$id";
    }

    /** @test */
    public function lists_every_quarantined_entry_with_its_reason_and_bytes_in_order(): void
    {
        $entries = [];
        foreach ([7, 3, 250, 12] as $event) {
            $entries[] = $this->quarantine($event, ['e' => $event], null, "damaged bytes of $event\n\xff");
        }
        $good = reg_buffer_push(3, ['fine' => true]);
        $rows = $this->drain();
        self::assertSame([$good], self::ids($rows), 'the damaged ones are set aside, the good one stored');
        $listed = reg_buffer_quarantined();
        usort($entries, static fn ($a, $b) => [(int) $a, $a] <=> [(int) $b, $b]);
        self::assertSame($entries, array_column($listed, 'entry'), 'ordered by event id, then registration id');
        $first = $listed[0];
        self::assertSame(['entry', 'event_id', 'id', 'reason', 'stored', 'kind', 'registered_at', 'unique_key', 'json', 'problem'], array_keys($first));
        self::assertSame(['unreadable', null, null, null], [$first['kind'], $first['registered_at'], $first['unique_key'], $first['json']]);
        self::assertIsString($first['problem']);
        self::assertSame(3, $first['event_id']);
        self::assertSame(explode(':', $first['entry'])[1], $first['id']);
        self::assertNotSame('', $first['reason']);
        self::assertSame("damaged bytes of 3\n\xff", $first['stored'], 'the bytes as stored, byte for byte');
        self::assertCount(2, reg_buffer_quarantined(2));
        self::assertSame(4, reg_buffer_stats()['quarantined']);
    }

    /** @test */
    public function a_retried_entry_is_buffered_again_under_its_own_id_and_leaves_the_quarantine(): void
    {
        $pushedAt = microtime(true);
        $entry = $this->quarantine(5, ['name' => 'Ada'], 'ada@example.com');
        self::assertSame([], $this->drain());
        usleep(50_000);
        $retriedAt = microtime(true);
        $id = reg_buffer_retry_quarantined($entry, ['name' => 'Ada'], 'ada@example.com');
        // Its own id: a copy of it already stored (a flusher died before its ack) is then stored once, by id.
        self::assertSame(explode(':', $entry)[1], $id);
        self::assertSame([], reg_buffer_quarantined());
        $stats = reg_buffer_stats();
        self::assertSame([0, 1, 1], [$stats['quarantined'], $stats['pending'], $stats['retried']]);
        $rows = $this->drain();
        self::assertSame([$id], self::ids($rows));
        self::assertSame(['name' => 'Ada'], $rows[0]['data']);
        self::assertSame('ada@example.com', $rows[0]['unique_key']);
        self::assertGreaterThanOrEqual(floor($pushedAt * 1000) / 1000, $rows[0]['registered_at'], 'registered when it was pushed (to the ms)');
        self::assertLessThan($retriedAt - 0.02, $rows[0]['registered_at'], 'not at the retry');
        self::assertFalse(reg_buffer_push(5, ['name' => 'Ada again'], 'ada@example.com'), 'the unique key is still held');
        self::assertThrows(\ValueError::class, fn () => reg_buffer_retry_quarantined($entry, ['name' => 'Ada']), 'a second retry finds nothing');
    }

    /** @test */
    public function a_retry_with_a_unique_key_that_is_not_utf8_is_refused_and_the_entry_stays(): void
    {
        $entry = $this->quarantine(7, ['n' => 1], 'cy@example.com');
        self::assertSame([], $this->drain());
        self::assertThrows(\ValueError::class, fn () => reg_buffer_retry_quarantined($entry, ['n' => 1], "cy@example.com\xff"));
        self::assertSame([$entry], array_column(reg_buffer_quarantined(), 'entry'));
        self::assertSame(0, reg_buffer_stats()['pending']);
    }

    /** @test */
    public function a_retry_whose_unique_key_another_registration_holds_is_a_duplicate_and_the_entry_stays(): void
    {
        $entry = $this->quarantine(6, ['n' => 1], 'bob@example.com');
        self::assertSame([], $this->drain());
        // The marker expired meanwhile, and another registration took the key.
        $this->client()->del($this->eventKey(6, 'u:*', true) === '' ? [] : $this->keys(null, $this->eventKey(6, 'u:*', true)));
        $other = reg_buffer_push(6, ['n' => 2], 'bob@example.com');
        self::assertRegistrationId($other);
        self::assertNull(reg_buffer_retry_quarantined($entry, ['n' => 1], 'bob@example.com'));
        self::assertSame([$entry], array_column(reg_buffer_quarantined(), 'entry'));
        self::assertSame([$other], self::ids($this->drain()));
    }

    /** @test */
    public function a_purged_entry_is_gone_and_a_second_purge_says_so(): void
    {
        $entry = $this->quarantine(8, ['n' => 1]);
        $this->drain();
        self::assertTrue(reg_buffer_purge_quarantined($entry));
        self::assertFalse(reg_buffer_purge_quarantined($entry));
        self::assertSame([], reg_buffer_quarantined());
        self::assertSame(0, reg_buffer_stats()['quarantined']);
    }

    /** @test */
    public function malformed_entry_names_are_refused(): void
    {
        foreach (['', 'x', '5', '0:abc', '-1:abc', 'abc:def', '5:'] as $bad) {
            self::assertThrows(\ValueError::class, fn () => reg_buffer_purge_quarantined($bad), $bad);
            self::assertThrows(\ValueError::class, fn () => reg_buffer_retry_quarantined($bad, []), $bad);
        }
        self::assertThrows(\ValueError::class, fn () => reg_buffer_quarantined(0));
    }

    /** @test */
    public function a_quarantined_entry_tells_what_can_still_be_read_from_it(): void
    {
        // A stored registration damaged only after its data: the time, the key and the data are still there.
        $id = reg_buffer_push(21, ['name' => 'Ada', 'seats' => 2], 'ada@example.com');
        $stored = $this->client()->hGet($this->eventKey(21, 'd'), $id);
        self::assertIsString($stored);
        [, $micros] = explode(':', $stored);
        $this->client()->hSet($this->eventKey(21, 'd'), $id, $stored . ' trailing damage');
        // Damaged in the timestamp only: the registration is still whole.
        $id2 = reg_buffer_push(21, ['name' => 'Bob'], null);
        $stored2 = $this->client()->hGet($this->eventKey(21, 'd'), $id2);
        $this->client()->hSet($this->eventKey(21, 'd'), $id2, preg_replace('/^1:\d+:/', '1:12x:', $stored2));
        self::assertSame([], $this->drain());
        $byId = array_column(reg_buffer_quarantined(), null, 'id');
        $ada = $byId[$id];
        self::assertSame(['stored', null, null], [$ada['kind'], $ada['unique_key'], $ada['json']], 'data with trailing garbage is not whole: neither its key nor its data is given');
        self::assertStringContainsString('not JSON', $ada['problem']);
        self::assertEqualsWithDelta((int) $micros / 1e6, $ada['registered_at'], 1e-6);
        $bob = $byId[$id2];
        self::assertSame(['stored', null, '{"name":"Bob"}', null, null], [$bob['kind'], $bob['registered_at'], $bob['json'], $bob['unique_key'], $bob['problem']]);
        // What json gives back is what a retry takes.
        $again = reg_buffer_retry_quarantined("21:$id2", json_decode($bob['json'], true));
        self::assertSame([['name' => 'Bob']], array_column($this->drain(), 'data'));
        self::assertRegistrationId($again);
    }

    /**
     * Single node only: the legacy lists are imported from one server.
     *
     * @test
     * @group single-node
     */
    public function a_legacy_element_the_import_could_not_read_keeps_its_details_when_they_are_intact(): void
    {
        if (self::isCluster()) {
            self::markTestSkipped('the import runs on one server');
        }
        $redis = $this->client();
        $redis->rPush('event_reg_buffer:9', '{"timestamp": "not a number", "registration_details": {"b": 2, "a": [1.5, "x"]}}', '{"no": "details"}');
        reg_buffer_import_legacy();
        $byKind = [];
        foreach (reg_buffer_quarantined() as $entry) {
            $byKind[$entry['json'] === null ? 'lost' : 'kept'] = $entry;
        }
        self::assertSame(['legacy', null, '{"b": 2, "a": [1.5, "x"]}', null], [$byKind['kept']['kind'], $byKind['kept']['registered_at'], $byKind['kept']['json'], $byKind['kept']['problem']]);
        self::assertSame('legacy', $byKind['lost']['kind']);
        self::assertStringContainsString('registration_details', $byKind['lost']['problem']);
    }

    /** @test */
    public function a_retried_entry_goes_first_and_counts_in_the_backlog_age(): void
    {
        $entry = $this->quarantine(9, ['n' => 'old']);
        self::assertSame([], $this->drain());
        usleep(1_200_000);
        $newer = reg_buffer_push(9, ['n' => 'new']);
        $id = reg_buffer_retry_quarantined($entry, ['n' => 'old']);
        self::assertGreaterThanOrEqual(1.1, reg_buffer_stats()['oldest_pending_age'], 'the retried registration is the oldest waiting');
        self::assertSame([$id, $newer], self::ids($this->drain()), 'in time order');
    }
}
