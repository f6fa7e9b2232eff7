<?php
// Reg_Buffer_Seats and the booking path (issue 16): an event with a capacity takes exactly that many registrations,
// waitlists or refuses the rest, counts itself again from MySQL and the buffer when Redis lost its count, and gives a
// cancelled registration's seat to the oldest waitlisted one.
declare(strict_types=1);

namespace RegBuffer\Tests\Plugin;

final class SeatsTest extends SiteTestCase
{
    private const EVENT = 1601;

    protected function setUp(): void
    {
        parent::setUp();
        if (!function_exists('reg_buffer_book')) {
            self::markTestSkipped('the loaded reg_buffer extension has no reg_buffer_book() (build it: ./build.sh build)');
        }
        \Reg_Buffer_Seats::uninstall(); // No capacity, owed promotion or stale mark from a test before.
    }

    protected function tearDown(): void
    {
        \Reg_Buffer_Seats::uninstall();
        parent::tearDown();
    }

    public function test_exactly_the_capacity_is_accepted_and_the_next_is_refused_as_sold_out_with_409(): void
    {
        self::assertTrue(reg_buffer_set_capacity(self::EVENT, 3));
        self::assertSame(3, reg_buffer_seats_left(self::EVENT));

        $answers = [];
        for ($n = 1; $n <= 5; $n++) {
            $outcome = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => $n]);
            $answers[] = is_wp_error($outcome)
                ? [$outcome->get_error_code(), $outcome->get_error_data()]
                : [$outcome->status, $outcome->seat, $outcome->remaining];
        }

        $sold_out = ['reg_buffer_sold_out', ['status' => 409, 'remaining' => 0]];
        self::assertSame([['buffered', 'registered', 2], ['buffered', 'registered', 1], ['buffered', 'registered', 0], $sold_out, $sold_out], $answers);
        self::assertSame(0, reg_buffer_seats_left(self::EVENT));
        self::assertSame(3, self::pending(), 'nothing of the refused ones was buffered');

        reg_buffer_flush_now();
        self::assertSame(['registered' => 3], self::statuses());
        self::assertSame(0, reg_buffer_seats_left(self::EVENT), 'the count outlives the flush');
        self::assertInstanceOf(\WP_Error::class, \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 6]));
    }

    public function test_an_event_without_capacity_is_unlimited_and_its_answers_carry_no_seat(): void
    {
        $outcome = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);

        self::assertNull(reg_buffer_seats_left(self::EVENT));
        self::assertNull(\Reg_Buffer_Seats::summary(self::EVENT));
        self::assertSame(['status' => 'buffered', 'id' => $outcome->registration_id, 'fallback_reason' => null], $outcome->to_array());
    }

    public function test_past_the_capacity_a_waitlisted_event_waitlists_and_the_flush_stores_each_status(): void
    {
        reg_buffer_set_capacity(self::EVENT, 2, true);

        $seats = [];
        for ($n = 1; $n <= 4; $n++) {
            $outcome = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => $n]);
            $seats[] = [$outcome->seat, $outcome->remaining];
        }
        $response = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 5])->to_array();

        self::assertSame([['registered', 1], ['registered', 0], ['waitlisted', 0], ['waitlisted', 0]], $seats);
        self::assertSame(['waitlisted', 0], [$response['seat'], $response['remaining']], 'the REST body says it too');
        reg_buffer_flush_now();
        self::assertSame(['registered' => 2, 'waitlisted' => 3], self::statuses());
        $summary = \Reg_Buffer_Seats::summary(self::EVENT);
        self::assertSame([2, 3, 0, true, 2, 3], [$summary['taken'], $summary['waiting'], $summary['remaining'], $summary['known'], $summary['stored'], $summary['stored_waiting']]);
    }

    public function test_after_redis_lost_everything_the_seed_counts_the_stored_rows(): void
    {
        reg_buffer_set_capacity(self::EVENT, 3);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 2]);
        reg_buffer_flush_now();

        $this->redis()->flushAll(); // A restart without persistence, a failover to an empty replica: the count is gone.
        self::assertFalse(\Reg_Buffer_Bridge::seats(self::EVENT)['known']);

        $third = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 3]);
        self::assertSame(['registered', 0], [$third->seat, $third->remaining], 'seeded with the 2 stored rows');
        self::assertSame('reg_buffer_sold_out', self::answer(\Reg_Buffer_Registrar::register(self::EVENT, ['n' => 4])));
    }

    public function test_a_seed_counts_the_table_and_the_buffer_once_each_by_id(): void
    {
        reg_buffer_set_capacity(self::EVENT, 6);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'a']);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'b']);
        reg_buffer_flush_now(); // a, b: stored.
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'c']);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'd']);
        $claim = \Reg_Buffer_Bridge::claim(10, 300);
        self::assertSame(2, \Reg_Buffer_Store::insert($claim['rows'])); // c, d: stored and still in flight (not acked).
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'e']); // e: pending.

        reg_buffer_seats_forget(self::EVENT);
        $sixth = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'f']);

        // 4 rows + e = 5 taken: f gets the last seat. Counting c and d twice would refuse f; missing e would leave one.
        self::assertSame(['registered', 0], [$sixth->seat, $sixth->remaining]);
        self::assertSame(['known' => true, 'taken' => 6, 'waiting' => 0], \Reg_Buffer_Bridge::seats(self::EVENT));
        self::assertSame('reg_buffer_sold_out', self::answer(\Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'g'])));
    }

    public function test_cancelling_a_registration_frees_its_seat(): void
    {
        reg_buffer_set_capacity(self::EVENT, 2);
        $first = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 2]);
        reg_buffer_flush_now();
        self::assertSame(0, reg_buffer_seats_left(self::EVENT));

        $cancelled = reg_buffer_cancel_registration($first->registration_id);

        self::assertSame(['event_id' => self::EVENT, 'was' => 'registered', 'release' => 'freed', 'promoted' => []], $cancelled);
        self::assertSame(['cancelled' => 1, 'registered' => 1], self::statuses());
        self::assertSame(1, reg_buffer_seats_left(self::EVENT));
        self::assertSame('registered', \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 3])->seat);
        self::assertSame('reg_buffer_already_cancelled', reg_buffer_cancel_registration($first->registration_id)->get_error_code());
    }

    public function test_cancelling_a_registered_one_promotes_the_oldest_waitlisted(): void
    {
        $promoted = [];
        $this->hook('reg_buffer_promoted', static function (string $id, int $event) use (&$promoted): void {
            $promoted[] = [$id, $event];
        }, 10, 2);
        reg_buffer_set_capacity(self::EVENT, 1, true);
        $ada = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'ada']);
        $bob = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'bob']);
        $cy = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'cy']);
        reg_buffer_flush_now();

        $cancelled = reg_buffer_cancel_registration($ada->registration_id);

        self::assertSame(['registered', 'promote', [$bob->registration_id]], [$cancelled['was'], $cancelled['release'], $cancelled['promoted']]);
        self::assertSame([[$bob->registration_id, self::EVENT]], $promoted);
        self::assertSame('registered', self::statusOf($bob->registration_id));
        self::assertSame('waitlisted', self::statusOf($cy->registration_id));
        self::assertSame(['known' => true, 'taken' => 1, 'waiting' => 1], \Reg_Buffer_Bridge::seats(self::EVENT));

        $left = reg_buffer_cancel_registration($cy->registration_id);
        self::assertSame(['waitlisted', 'unlisted', []], [$left['was'], $left['release'], $left['promoted']]);
        self::assertSame(['known' => true, 'taken' => 1, 'waiting' => 0], \Reg_Buffer_Bridge::seats(self::EVENT));
    }

    public function test_a_seat_freed_for_a_waitlisted_registration_still_buffered_is_its_own_once_the_flush_stores_it(): void
    {
        reg_buffer_set_capacity(self::EVENT, 1, true);
        $ada = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'ada']);
        reg_buffer_flush_now();
        $bob = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'bob']);
        self::assertSame('waitlisted', $bob->seat);

        self::assertSame('reg_buffer_not_stored_yet', reg_buffer_cancel_registration($bob->registration_id)->get_error_code(), 'flush first');
        $cancelled = reg_buffer_cancel_registration($ada->registration_id);
        self::assertSame(['promote', []], [$cancelled['release'], $cancelled['promoted']], 'bob is not in the table yet');
        $cy = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'cy']);
        self::assertSame('waitlisted', self::answer($cy), 'the seat is bob\'s, not a newcomer\'s');

        $summary = reg_buffer_flush_now();
        self::assertSame(1, $summary['promoted']);
        self::assertSame('registered', self::statusOf($bob->registration_id));
        self::assertSame('waitlisted', self::statusOf($cy->registration_id));
        self::assertSame([], get_option(\Reg_Buffer_Seats::OWED_OPTION, []), 'nothing is owed any more');
    }

    public function test_with_buffering_disabled_a_direct_write_takes_its_seat_in_redis(): void
    {
        reg_buffer_set_capacity(self::EVENT, 2);
        $this->withSettings(['disabled' => true]);
        $direct = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
        $this->withSettings(['disabled' => false]);

        self::assertSame(['stored', 'disabled', 'registered', 1], [$direct->status, $direct->fallback_reason, $direct->seat, $direct->remaining]);
        self::assertSame('registered', self::statusOf($direct->registration_id));
        self::assertSame(['known' => true, 'taken' => 1, 'waiting' => 0], \Reg_Buffer_Bridge::seats(self::EVENT), 'Redis counted it');
        $buffered = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 2]);
        self::assertSame(['buffered', 'registered', 0], [$buffered->status, $buffered->seat, $buffered->remaining]);
        self::assertSame('reg_buffer_sold_out', self::answer(\Reg_Buffer_Registrar::register(self::EVENT, ['n' => 3])));
    }

    public function test_with_redis_down_a_capacity_event_refuses_rather_than_guess(): void
    {
        reg_buffer_set_capacity(self::EVENT, 5);
        $this->redis()->kill();
        try {
            $outcome = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
            $left = reg_buffer_seats_left(self::EVENT);
        } finally {
            $this->redis()->restart();
        }

        self::assertInstanceOf(\WP_Error::class, $outcome);
        self::assertSame(503, $outcome->get_error_data()['status'] ?? null);
        self::assertSame([], self::statuses(), 'no direct write: the buffered registrations could not be counted');
        self::assertSame(0, $left, 'unknown places are shown as none');
    }

    public function test_a_release_redis_did_not_hear_marks_the_event_stale_and_the_next_flush_counts_it_again(): void
    {
        reg_buffer_set_capacity(self::EVENT, 2);
        $first = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 2]);
        reg_buffer_flush_now();
        $this->redis()->kill();
        try {
            $cancelled = reg_buffer_cancel_registration($first->registration_id);
        } finally {
            $this->redis()->restart();
        }
        self::assertSame('unknown', $cancelled['release']);
        self::assertSame([self::EVENT], \Reg_Buffer_Seats::stale_events());

        reg_buffer_flush_now();

        self::assertSame([], \Reg_Buffer_Seats::stale_events());
        self::assertSame(['known' => true, 'taken' => 1, 'waiting' => 0], \Reg_Buffer_Bridge::seats(self::EVENT));
        self::assertSame(1, reg_buffer_seats_left(self::EVENT));
    }

    public function test_a_raised_capacity_gives_its_new_seats_to_the_waitlisted_first(): void
    {
        reg_buffer_set_capacity(self::EVENT, 1, true);
        \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'ada']);
        $bob = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'bob']);
        $cy = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'cy']);
        reg_buffer_flush_now();

        self::assertTrue(reg_buffer_set_capacity(self::EVENT, 2, true));

        self::assertSame('registered', self::statusOf($bob->registration_id));
        self::assertSame('waitlisted', self::statusOf($cy->registration_id));
        self::assertSame(0, reg_buffer_seats_left(self::EVENT));
    }

    public function test_a_capacity_set_on_an_event_with_registrations_counts_them(): void
    {
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
        reg_buffer_flush_now();
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 2]); // Buffered.

        reg_buffer_set_capacity(self::EVENT, 3);

        self::assertSame(1, reg_buffer_seats_left(self::EVENT));
        self::assertSame([], \Reg_Buffer_Seats::stale_events());
        self::assertSame('reg_buffer_invalid', self::answer(reg_buffer_set_capacity(self::EVENT, -1)));
        self::assertSame(3, \Reg_Buffer_Seats::capacity(self::EVENT)['capacity'], 'a refused change changes nothing');
    }

    public function test_the_path_without_the_extension_counts_the_table(): void
    {
        self::markTestSkipped('not testable in-process: this PHP has the extension loaded and cannot unload it (Reg_Buffer_Seats::book_in_table() runs only where it is absent)');
    }

    /** A WP_Error's code, else the outcome's seat (what a failed assertion should show). */
    private static function answer(mixed $outcome): mixed
    {
        return is_wp_error($outcome) ? $outcome->get_error_code() : ($outcome instanceof \Reg_Buffer_Outcome ? $outcome->seat : $outcome);
    }

    /** The table's rows of the event by status, as counts. */
    private static function statuses(): array
    {
        global $wpdb;
        $counts = [];
        foreach ($wpdb->get_results($wpdb->prepare('SELECT status, COUNT(*) AS n FROM ' . \Reg_Buffer_Store::table() . ' WHERE event_id = %d GROUP BY status ORDER BY status', self::EVENT), ARRAY_A) as $row) {
            $counts[$row['status']] = (int) $row['n'];
        }
        return $counts;
    }

    private static function statusOf(string $registration_id): ?string
    {
        global $wpdb;
        return $wpdb->get_var($wpdb->prepare('SELECT status FROM ' . \Reg_Buffer_Store::table() . ' WHERE registration_id = %s', $registration_id));
    }
}
