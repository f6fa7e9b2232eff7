<?php
// Reg_Buffer_Quarantine: the entries the extension set aside (reg_buffer_quarantined(): kind, registered_at,
// unique_key, json, problem), listed, retried into the buffer (under its own id), purged. Entries get there as on a real site: a
// registration whose stored bytes were damaged is quarantined by the flush, a seed-snippet element the import
// cannot read by import-legacy.
declare(strict_types=1);

namespace RegBuffer\Tests\Plugin;

final class QuarantineTest extends SiteTestCase
{
    /** Buffers a registration through the plugin, then overwrites its stored bytes with what $damage makes of them. */
    private function damaged(int $event, array $registration, ?string $uniqueKey, callable $damage): string
    {
        $outcome = \Reg_Buffer_Registrar::register($event, $registration, $uniqueKey);
        self::assertSame(\Reg_Buffer_Outcome::BUFFERED, $outcome->status);
        return $this->damage($event, $outcome->registration_id, $damage);
    }

    private function damage(int $event, string $id, callable $damage): string
    {
        // The stored bytes' key, as the README documents it: <prefix>ev:{<event>}:d, field = the registration id,
        // once the inbox is filed (stats() files it first; until then a push with a unique key is held by its marker).
        reg_buffer_stats();
        $key = \Reg_Buffer_Settings::site_key_prefix() . "ev:{{$event}}:d";
        $redis = $this->redis()->client();
        $stored = $redis->hGet($key, $id);
        self::assertIsString($stored, 'the stored bytes are where the README says');
        $redis->hSet($key, $id, $damage($stored));
        return "$event:$id";
    }

    /** A damaged timestamp: the flush cannot decode it, but its unique key and JSON can still be read. */
    private static function badTime(): callable
    {
        return static fn (string $stored) => (string) preg_replace('/^1:\d+:/', '1:soon:', $stored);
    }

    private function flushQuarantines(int $expected): void
    {
        $before = \Reg_Buffer_Quarantine::count();
        $summary = reg_buffer_flush_now();
        self::assertSame(0, $summary['inserted'] ?? null, json_encode($summary));
        self::assertSame($before + $expected, \Reg_Buffer_Quarantine::count());
    }

    private static function entry(string $field): ?array
    {
        foreach (\Reg_Buffer_Quarantine::entries() as $entry) {
            if ($entry['field'] === $field) {
                return $entry;
            }
        }
        return null;
    }

    public function test_the_list_says_what_each_entry_is_and_whether_a_retry_can_work(): void
    {
        $keyed = $this->damaged(31, ['name' => 'Ada'], 'ada@example.com', self::badTime());
        $garbage = $this->damaged(33, ['name' => 'Bob'], null, static fn () => "garbage \xff\x00 that is no stored registration");
        $this->flushQuarantines(2);
        $redis = $this->redis()->client();
        $redis->lPush('event_reg_buffer:32', json_encode(['timestamp' => '1700000000', 'registration_details' => ['name' => 'Cy']]));
        $redis->lPush('event_reg_buffer:34', json_encode(['timestamp' => 1700000000]));
        self::assertSame(0, \Reg_Buffer_Bridge::import_legacy('event_reg_buffer:*'), 'both legacy elements quarantined, none imported');

        $entries = \Reg_Buffer_Quarantine::entries();
        self::assertSame([31, 32, 33, 34], array_column($entries, 'event_id'), 'ordered by event');
        self::assertSame(4, \Reg_Buffer_Quarantine::count());

        $by_event = array_column($entries, null, 'event_id');
        self::assertSame($keyed, $by_event[31]['field']);
        self::assertSame(['stored', true, null], [$by_event[31]['kind'], $by_event[31]['retryable'], $by_event[31]['problem']]);
        self::assertStringContainsString('ada@example.com{"name":"Ada"}', $by_event[31]['preview']);
        self::assertStringContainsString('timestamp', $by_event[31]['reason']);

        self::assertSame(['legacy', true], [$by_event[32]['kind'], $by_event[32]['retryable']]);

        self::assertSame($garbage, $by_event[33]['field']);
        self::assertSame(['unreadable', false], [$by_event[33]['kind'], $by_event[33]['retryable']]);
        self::assertSame('the bytes are in no format reg_buffer knows', $by_event[33]['problem']);
        self::assertSame('garbage \xff\x00 that is no stored registration', $by_event[33]['preview'], 'bytes that are not UTF-8 are shown escaped');
        self::assertSame(strlen("garbage \xff\x00 that is no stored registration"), $by_event[33]['bytes']);

        self::assertSame(['legacy', false, 'the legacy element has no registration_details'], [$by_event[34]['kind'], $by_event[34]['retryable'], $by_event[34]['problem']]);
    }

    public function test_a_retried_entry_is_buffered_again_under_its_own_id_with_its_key_and_then_stored_once(): void
    {
        $field = $this->damaged(31, ['name' => 'Ada'], 'ada@example.com', self::badTime());
        $this->flushQuarantines(1);

        $result = \Reg_Buffer_Quarantine::retry($field);

        self::assertTrue($result['ok'], $result['message']);
        self::assertMatchesRegularExpression('/^[0-9A-Z]{26}$/D', (string) $result['id']);
        self::assertSame(explode(':', $field)[1], $result['id'], 'its own id: were it already stored, storing by id keeps one');
        self::assertStringContainsString($result['id'], $result['message']);
        self::assertNull(self::entry($field), 'out of the quarantine');
        self::assertSame([0, 1], [\Reg_Buffer_Quarantine::count(), self::pending()]);

        reg_buffer_flush_now();
        $rows = self::storedRows();
        self::assertSame([[$result['id'], '31', 'ada@example.com']], array_map(static fn ($r) => [$r['registration_id'], $r['event_id'], $r['unique_key']], $rows));
        self::assertSame(['name' => 'Ada'], json_decode($rows[0]['data'], true));
        self::assertSame(\Reg_Buffer_Outcome::DUPLICATE, \Reg_Buffer_Registrar::register(31, ['name' => 'Ada'], 'ada@example.com')->status, 'the key stays taken');

        $again = \Reg_Buffer_Quarantine::retry($field);
        self::assertFalse($again['ok']);
        self::assertSame('No such entry: it was already retried or purged.', $again['message']);
    }

    public function test_a_legacy_element_is_retried_as_a_registration_of_its_event(): void
    {
        $this->redis()->client()->lPush('event_reg_buffer:32', json_encode(['timestamp' => 'yesterday', 'registration_details' => ['name' => 'Cy']]));
        \Reg_Buffer_Bridge::import_legacy('event_reg_buffer:*');
        [$entry] = \Reg_Buffer_Quarantine::entries();

        self::assertTrue(\Reg_Buffer_Quarantine::retry($entry['field'])['ok']);
        reg_buffer_flush_now();
        self::assertSame([['32', null, ['name' => 'Cy']]], array_map(static fn ($r) => [$r['event_id'], $r['unique_key'], json_decode($r['data'], true)], self::storedRows()));
    }

    public function test_an_entry_that_cannot_be_decoded_is_not_retried_and_stays(): void
    {
        $field = $this->damaged(33, ['name' => 'Bob'], null, static fn () => 'garbage');
        $this->flushQuarantines(1);

        $result = \Reg_Buffer_Quarantine::retry($field);

        self::assertFalse($result['ok']);
        self::assertSame('Cannot retry: the bytes are in no format reg_buffer knows. Purge it (its bytes are shown in the list).', $result['message']);
        self::assertNotNull(self::entry($field));
        self::assertSame(0, self::pending());
    }

    public function test_an_entry_the_plugins_rules_refuse_is_not_retried(): void
    {
        // Pushed past the plugin (the extension does not reserve names), so only the retry's rules can refuse it.
        $id = reg_buffer_push(35, ['_reg_buffer_forged' => 1], null);
        self::assertIsString($id);
        $field = $this->damage(35, $id, self::badTime());
        $this->flushQuarantines(1);
        self::assertTrue(self::entry($field)['retryable'], 'its bytes decode');

        $result = \Reg_Buffer_Quarantine::retry($field);

        self::assertFalse($result['ok']);
        self::assertSame('Cannot retry: Field names starting with _reg_buffer are reserved. Purge it (its bytes are shown in the list).', $result['message']);
        self::assertNotNull(self::entry($field));
        self::assertSame(0, self::pending());
    }

    public function test_a_retry_whose_key_another_registration_took_meanwhile_is_a_duplicate(): void
    {
        $field = $this->damaged(31, ['name' => 'Ada'], 'ada@example.com', self::badTime());
        $this->flushQuarantines(1);
        // The key's marker still names the quarantined registration: the extension hands it over on retry. Another
        // registration holding the key in Redis is what makes it a duplicate: take the marker away, then the key.
        $redis = $this->redis()->client();
        foreach (\RegBuffer\Tests\Support\RedisServer::scan($redis, \Reg_Buffer_Settings::site_key_prefix() . 'ev:{31}:u:*') as $marker) {
            $redis->del($marker);
        }
        self::assertSame(\Reg_Buffer_Outcome::BUFFERED, \Reg_Buffer_Registrar::register(31, ['name' => 'Other Ada'], 'ada@example.com')->status);

        $result = \Reg_Buffer_Quarantine::retry($field);

        self::assertFalse($result['ok']);
        self::assertStringContainsString('this one is a duplicate. Purge it.', $result['message']);
        self::assertNotNull(self::entry($field));
        self::assertSame(1, self::pending(), 'only the other registration');
    }

    public function test_a_purged_entry_is_gone_for_good(): void
    {
        $field = $this->damaged(33, ['name' => 'Bob'], null, static fn () => 'garbage');
        $keep = $this->damaged(36, ['name' => 'Dan'], null, static fn () => 'garbage too');
        $this->flushQuarantines(2);

        $result = \Reg_Buffer_Quarantine::purge($field);

        self::assertSame([true, "Entry $field was purged."], [$result['ok'], $result['message']]);
        self::assertSame([$keep], array_column(\Reg_Buffer_Quarantine::entries(), 'field'));
        self::assertSame(0, self::pending());
        self::assertSame([false, 'No such entry: it was already retried or purged.'], array_values(array_slice(\Reg_Buffer_Quarantine::purge($field), 0, 2)));
    }

    public function test_a_name_that_is_no_entry_is_refused_before_redis_is_asked(): void
    {
        foreach (['', 'abc', '0:01ABC', '7:', '7:with space'] as $name) {
            $result = \Reg_Buffer_Quarantine::retry($name);
            self::assertSame([false, 'That is not a quarantine entry (expected <event>:<id>).'], [$result['ok'], $result['message']], $name);
            self::assertFalse(\Reg_Buffer_Quarantine::purge($name)['ok'], $name);
        }
    }

    public function test_with_redis_down_listing_throws_and_an_action_says_redis_could_not_be_reached(): void
    {
        $field = $this->damaged(33, ['name' => 'Bob'], null, static fn () => 'garbage');
        $this->flushQuarantines(1);
        $this->redis()->kill();
        try {
            try {
                \Reg_Buffer_Quarantine::entries();
                self::fail('entries() answered without Redis');
            } catch (\RegBuffer\Exception $e) {
                self::assertStringContainsString('connection', strtolower($e->getMessage()));
            }
            $result = \Reg_Buffer_Quarantine::purge($field);
        } finally {
            $this->redis()->restart();
        }
        self::assertFalse($result['ok']);
        self::assertStringStartsWith('Redis could not be reached: ', $result['message']);
    }
}
