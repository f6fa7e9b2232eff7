<?php
// Reg_Buffer_Registrar: the one path every source takes — buffered in Redis, a duplicate, written directly when the
// buffer cannot take it, or refused.
declare(strict_types=1);

namespace RegBuffer\Tests\Plugin;

final class RegistrarTest extends SiteTestCase
{
    public function test_a_valid_registration_is_buffered_in_redis_and_not_yet_in_the_table(): void
    {
        $outcome = \Reg_Buffer_Registrar::register(7, ['name' => 'Ada', 'seats' => 2], 'ada@example.com');

        self::assertInstanceOf(\Reg_Buffer_Outcome::class, $outcome);
        self::assertSame(\Reg_Buffer_Outcome::BUFFERED, $outcome->status);
        self::assertMatchesRegularExpression('/^[0-9A-HJKMNP-TV-Z]{26}$/D', (string) $outcome->registration_id);
        self::assertNull($outcome->fallback_reason);
        self::assertSame(1, self::pending());
        self::assertSame([], self::storedRows(), 'the flush writes it, not the registrar');
    }

    public function test_the_flush_stores_a_buffered_registration_exactly_as_given(): void
    {
        $outcome = \Reg_Buffer_Registrar::register('7', ['name' => 'Ada', 'seats' => 2, 'note' => 'ü/"'], 'ada@example.com');
        $summary = reg_buffer_flush_now();

        self::assertSame([1, 1, 0], [$summary['claimed'] ?? null, $summary['inserted'] ?? null, $summary['duplicates'] ?? null], json_encode($summary));
        $rows = self::storedRows();
        self::assertCount(1, $rows);
        self::assertSame([$outcome->registration_id, '7', 'ada@example.com'], [$rows[0]['registration_id'], $rows[0]['event_id'], $rows[0]['unique_key']]);
        self::assertSame(['name' => 'Ada', 'seats' => 2, 'note' => 'ü/"'], json_decode($rows[0]['data'], true));
        self::assertSame(0, self::pending());
    }

    public function test_a_second_registration_with_the_same_unique_key_is_a_duplicate_and_not_kept(): void
    {
        $first = \Reg_Buffer_Registrar::register(7, ['name' => 'Ada'], 'ada@example.com');
        $second = \Reg_Buffer_Registrar::register(7, ['name' => 'Ada again'], 'ada@example.com');
        $other_event = \Reg_Buffer_Registrar::register(8, ['name' => 'Ada'], 'ada@example.com');

        self::assertSame(\Reg_Buffer_Outcome::BUFFERED, $first->status);
        self::assertSame(\Reg_Buffer_Outcome::DUPLICATE, $second->status);
        self::assertFalse($second->is_accepted());
        self::assertNull($second->registration_id);
        self::assertSame(\Reg_Buffer_Outcome::BUFFERED, $other_event->status, 'a key is unique per event');
        self::assertSame(2, self::pending());
    }

    public function test_a_unique_key_only_the_table_knows_is_a_duplicate_before_any_push(): void
    {
        // Written directly (buffering disabled), so Redis never saw its marker.
        $this->withSettings(['disabled' => true]);
        $direct = \Reg_Buffer_Registrar::register(9, ['name' => 'Eve'], 'eve@example.com');
        self::assertSame([\Reg_Buffer_Outcome::STORED, 'disabled'], [$direct->status, $direct->fallback_reason]);

        $this->withSettings(['disabled' => false]);
        $again = \Reg_Buffer_Registrar::register(9, ['name' => 'Eve again'], 'eve@example.com');

        self::assertSame(\Reg_Buffer_Outcome::DUPLICATE, $again->status);
        self::assertSame(0, self::pending(), 'nothing was pushed that the flush would have to set aside');
        self::assertCount(1, self::storedRows());
    }

    public function test_with_redis_down_a_registration_is_written_directly_and_counted_as_a_fallback(): void
    {
        $errors = [];
        $this->hook('reg_buffer_error', static function (string $code, $cause, array $context) use (&$errors): void {
            $errors[] = [$code, $context['registration_id'] ?? null];
        }, 10, 3);
        $this->redis()->kill();
        try {
            $outcome = \Reg_Buffer_Registrar::register(11, ['name' => 'Bob'], 'bob@example.com');
        } finally {
            $this->redis()->restart();
        }

        self::assertSame([\Reg_Buffer_Outcome::STORED, 'connection'], [$outcome->status, $outcome->fallback_reason]);
        $rows = self::storedRows();
        self::assertCount(1, $rows);
        self::assertSame([$outcome->registration_id, '11', 'bob@example.com'], [$rows[0]['registration_id'], $rows[0]['event_id'], $rows[0]['unique_key']]);
        self::assertSame(['name' => 'Bob'], json_decode($rows[0]['data'], true));
        self::assertSame(1, \Reg_Buffer_Status::fallbacks());
        self::assertSame('connection', get_option(\Reg_Buffer_Status::LAST_FALLBACK_OPTION)['reason'] ?? null);
        self::assertSame([['connection', $outcome->registration_id]], $errors, 'monitoring hears of it through reg_buffer_error');

        // Back up: the same key is now a duplicate (the table has it), and a new one is buffered again.
        self::assertSame(\Reg_Buffer_Outcome::DUPLICATE, \Reg_Buffer_Registrar::register(11, ['name' => 'Bob'], 'bob@example.com')->status);
        self::assertSame(\Reg_Buffer_Outcome::BUFFERED, \Reg_Buffer_Registrar::register(11, ['name' => 'Cy'], 'cy@example.com')->status);
    }

    public function test_with_redis_and_the_table_both_gone_the_caller_hears_the_outcome_is_unknown_with_the_id(): void
    {
        global $wpdb;
        $table = \Reg_Buffer_Store::table();
        $this->redis()->kill();
        $wpdb->query("RENAME TABLE {$table} TO {$table}_away");
        $suppress = $wpdb->suppress_errors(true);
        try {
            $outcome = \Reg_Buffer_Registrar::register(12, ['name' => 'Dan']);
        } finally {
            $wpdb->suppress_errors($suppress);
            $wpdb->query("RENAME TABLE {$table}_away TO {$table}");
            $this->redis()->restart();
        }

        self::assertInstanceOf(\WP_Error::class, $outcome);
        self::assertSame('reg_buffer_outcome_unknown', $outcome->get_error_code());
        self::assertSame(503, $outcome->get_error_data()['status'] ?? null);
        self::assertMatchesRegularExpression('/^[0-9A-Z]{26}$/D', (string) ($outcome->get_error_data()['registration_id'] ?? ''));
        self::assertSame([], self::storedRows());
        self::assertSame(0, \Reg_Buffer_Status::fallbacks(), 'nothing was written, so nothing fell back');
    }

    public function test_an_invalid_registration_is_refused_with_422_and_neither_buffered_nor_stored(): void
    {
        $cases = [
            'event id zero' => [0, ['name' => 'x'], null],
            'event id text' => ['seven', ['name' => 'x'], null],
            'not an array' => [7, 'name=x', null],
            'reserved field' => [7, ['_reg_buffer_intake' => 'forged'], null],
            'object value' => [7, ['when' => new \DateTime()], null],
            'INF' => [7, ['n' => INF], null],
            'key with a trailing space' => [7, ['name' => 'x'], 'ada@example.com '],
            'key too long' => [7, ['name' => 'x'], str_repeat('k', 192)],
            'key not UTF-8' => [7, ['name' => 'x'], "ada\xff"],
            'field not UTF-8' => [7, ['name' => "\xc3"], null],
        ];
        foreach ($cases as $what => [$event, $registration, $key]) {
            $outcome = \Reg_Buffer_Registrar::register($event, $registration, $key);
            self::assertInstanceOf(\WP_Error::class, $outcome, $what);
            self::assertSame('reg_buffer_invalid', $outcome->get_error_code(), $what);
            self::assertSame(422, $outcome->get_error_data()['status'] ?? null, $what);
        }
        self::assertSame(0, self::pending());
        self::assertSame([], self::storedRows());
    }

    public function test_a_registration_past_the_payload_limit_is_refused_on_the_direct_path_too(): void
    {
        $this->withSettings(['disabled' => true, 'max_payload_bytes' => 100]);
        $outcome = \Reg_Buffer_Registrar::register(7, ['bio' => str_repeat('x', 200)]);

        self::assertInstanceOf(\WP_Error::class, $outcome);
        self::assertSame(422, $outcome->get_error_data()['status'] ?? null);
        self::assertSame([], self::storedRows());
    }

    public function test_every_outcome_fires_reg_buffer_registered(): void
    {
        $seen = [];
        $this->hook('reg_buffer_registered', static function ($outcome, $event) use (&$seen): void {
            $seen[] = [is_wp_error($outcome) ? $outcome->get_error_code() : $outcome->status, $event];
        }, 10, 2);
        \Reg_Buffer_Registrar::register(7, ['a' => 1], 'k');
        \Reg_Buffer_Registrar::register(7, ['a' => 1], 'k');
        \Reg_Buffer_Registrar::register(-1, ['a' => 1]);

        self::assertSame([['buffered', 7], ['duplicate', 7], ['reg_buffer_invalid', -1]], $seen);
    }
}
