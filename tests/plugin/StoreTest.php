<?php
// Reg_Buffer_Store: the registrations table, its one insert path (flush and direct write), the unique keys.
declare(strict_types=1);

namespace RegBuffer\Tests\Plugin;

final class StoreTest extends SiteTestCase
{
    private const ADA = '01HZZZZZZZZZZZZZZZZZZZZZA1';
    private const BOB = '01HZZZZZZZZZZZZZZZZZZZZZB2';
    private const EVE = '01HZZZZZZZZZZZZZZZZZZZZZE3';

    public function test_the_activated_plugin_created_both_tables_at_the_current_schema(): void
    {
        global $wpdb;
        self::assertSame(\Reg_Buffer_Store::table(), $wpdb->get_var($wpdb->prepare('SHOW TABLES LIKE %s', \Reg_Buffer_Store::table())));
        self::assertSame(\Reg_Buffer_Set_Aside::table(), $wpdb->get_var($wpdb->prepare('SHOW TABLES LIKE %s', \Reg_Buffer_Set_Aside::table())));
        self::assertSame(\Reg_Buffer_Store::SCHEMA_VERSION, get_option(\Reg_Buffer_Store::SCHEMA_OPTION));
        $keys = $wpdb->get_results('SHOW INDEX FROM ' . \Reg_Buffer_Store::table() . " WHERE Non_unique = 0 AND Key_name = 'event_unique_key'", ARRAY_A);
        self::assertSame(['event_id', 'unique_key'], array_column($keys, 'Column_name'));
    }

    public function test_insert_stores_each_row_with_its_id_event_key_time_and_json(): void
    {
        $inserted = \Reg_Buffer_Store::insert([
            self::row(self::ADA, 7, 'ada@example.com', ['name' => "Ada 'O' \\ \"L\"", 'seats' => 2]),
            self::row(self::BOB, 7, null, ['name' => 'Bob'], 1700000001.5),
        ]);

        self::assertSame(2, $inserted);
        self::assertSame(2, \Reg_Buffer_Store::count());
        $rows = self::storedRows();
        self::assertSame([self::ADA, '7', 'ada@example.com', '2023-11-14 22:13:20.250'], array_slice(array_values($rows[0]), 0, 4));
        self::assertSame(['name' => "Ada 'O' \\ \"L\"", 'seats' => 2], json_decode($rows[0]['data'], true), 'quotes and backslashes survive the escaping');
        self::assertSame([self::BOB, null, '2023-11-14 22:13:21.500'], [$rows[1]['registration_id'], $rows[1]['unique_key'], $rows[1]['registered_at']]);
        self::assertTrue(\Reg_Buffer_Store::has_registration(self::ADA));
        self::assertTrue(\Reg_Buffer_Store::has_unique_key(7, 'ada@example.com'));
        self::assertFalse(\Reg_Buffer_Store::has_unique_key(8, 'ada@example.com'));
    }

    public function test_a_batch_delivered_twice_is_stored_once(): void
    {
        $batch = [self::row(self::ADA, 7, 'ada@example.com', ['n' => 1]), self::row(self::BOB, 7, null, ['n' => 2])];
        self::assertSame(2, \Reg_Buffer_Store::insert($batch));
        self::assertSame(0, \Reg_Buffer_Store::insert($batch), 'a redelivered batch changes nothing');
        self::assertSame(2, \Reg_Buffer_Store::count());
        self::assertSame([], \Reg_Buffer_Store::rows_not_stored($batch), 'each row is there under its own id');
    }

    public function test_a_unique_key_another_registration_holds_is_left_out_and_named_by_rows_not_stored(): void
    {
        self::assertSame(1, \Reg_Buffer_Store::insert([self::row(self::ADA, 7, 'ada@example.com', ['who' => 'first'])]));
        $batch = [self::row(self::EVE, 7, 'ada@example.com', ['who' => 'second']), self::row(self::BOB, 7, 'bob@example.com', ['who' => 'bob'])];

        self::assertSame(1, \Reg_Buffer_Store::insert($batch), 'the unique index keeps the second holder out');
        self::assertSame([self::ADA, self::BOB], array_column(self::storedRows(), 'registration_id'));
        self::assertSame(['who' => 'first'], json_decode(self::storedRows()[0]['data'], true), 'the holder is unchanged');

        $absent = \Reg_Buffer_Store::rows_not_stored($batch);
        self::assertCount(1, $absent);
        self::assertSame([self::EVE, 7, 'ada@example.com'], [$absent[0]['id'], $absent[0]['event_id'], $absent[0]['unique_key']]);
        self::assertStringContainsString('by registration ' . self::ADA, $absent[0]['error']);
    }

    public function test_a_batch_is_rolled_back_when_it_may_not_commit(): void
    {
        $result = \Reg_Buffer_Store::insert([self::row(self::ADA, 7, null, ['n' => 1])], static fn () => false);

        self::assertInstanceOf(\WP_Error::class, $result);
        self::assertSame('reg_buffer_lock_lost', $result->get_error_code());
        self::assertSame(0, \Reg_Buffer_Store::count());
    }

    public function test_writes_hooked_before_commit_commit_with_the_batch(): void
    {
        global $wpdb;
        $seen = [];
        $this->hook('reg_buffer_before_commit', static function (array $rows, int $inserted) use (&$seen, $wpdb): void {
            $seen[] = [array_column($rows, 'id'), $inserted, (int) $wpdb->get_var('SELECT @@in_transaction')];
        }, 10, 2);
        \Reg_Buffer_Store::insert([self::row(self::ADA, 7, null, ['n' => 1])]);

        self::assertSame([[[self::ADA], 1, 1]], $seen, 'inside the open transaction, with the count of new rows');
    }

    public function test_insert_each_sets_aside_a_row_the_table_refuses_and_stores_the_rest(): void
    {
        // A key longer than the column: strict mode refuses it instead of truncating it into someone else's key.
        $batch = [self::row(self::ADA, 7, str_repeat('k', 300), ['n' => 1]), self::row(self::BOB, 7, 'bob@example.com', ['n' => 2])];
        self::assertInstanceOf(\WP_Error::class, \Reg_Buffer_Store::insert($batch), 'the multi-row INSERT fails as a whole');
        self::assertSame(0, \Reg_Buffer_Store::count());

        $result = \Reg_Buffer_Store::insert_each($batch);

        self::assertSame(['inserted' => 1, 'rejected' => 1], $result);
        self::assertSame([self::BOB], array_column(self::storedRows(), 'registration_id'));
        $aside = \Reg_Buffer_Set_Aside::get(self::ADA);
        self::assertNotNull($aside);
        self::assertSame(str_repeat('k', 300), $aside['unique_key']);
        self::assertSame('{"n":1}', $aside['json']);
        self::assertStringContainsString('unique_key', $aside['error']);
        self::assertSame(1, \Reg_Buffer_Set_Aside::count());
    }

    public function test_the_postmeta_mirror_copies_new_registrations_fields_under_prefixed_keys(): void
    {
        $this->withSettings(['mirror_postmeta' => true]);
        $event = wp_insert_post(['post_title' => 'Event', 'post_status' => 'publish']);
        $row = self::row(self::ADA, $event, null, ['Email' => 'ada@example.com', '_thumbnail_id' => '5', 'extra' => ['a' => 1]]);

        self::assertSame(1, \Reg_Buffer_Store::insert([$row]));
        self::assertSame(0, \Reg_Buffer_Store::insert([$row]));

        self::assertSame([self::ADA], get_post_meta($event, '_reg_buffer_registration_id'), 'once, though delivered twice');
        self::assertSame('ada@example.com', get_post_meta($event, 'reg_buffer_email', true));
        self::assertSame('{"a":1}', get_post_meta($event, 'reg_buffer_extra', true));
        self::assertSame('', get_post_meta($event, '_thumbnail_id', true), 'a registrant never writes protected meta');
        self::assertSame('5', get_post_meta($event, 'reg_buffer__thumbnail_id', true));
        wp_delete_post($event, true);
    }
}
