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

    public function test_the_rest_route_answers_201_with_the_seat_then_409_sold_out_with_nothing_remaining(): void
    {
        $this->hook('reg_buffer_event_open', '__return_true');
        $this->hook('reg_buffer_rest_permission', '__return_true');
        reg_buffer_set_capacity(self::EVENT, 1);
        $post = static function (): \WP_REST_Response {
            $request = new \WP_REST_Request('POST', '/reg-buffer/v1/events/' . self::EVENT . '/registrations');
            $request->set_header('Content-Type', 'application/json');
            $request->set_body((string) wp_json_encode(['registration' => ['name' => 'Ada']]));
            return rest_do_request($request);
        };

        $first = $post();
        $second = $post();

        self::assertSame(201, $first->get_status());
        self::assertSame(['buffered', 'registered', 0], [$first->get_data()['status'], $first->get_data()['seat'], $first->get_data()['remaining']]);
        self::assertSame(409, $second->get_status());
        self::assertSame(['code' => 'reg_buffer_sold_out', 'data' => ['status' => 409, 'remaining' => 0]], array_intersect_key($second->get_data(), ['code' => 1, 'data' => 1]));
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

    public function test_without_the_extension_a_booking_counts_the_table_and_redis_counts_again_before_the_next(): void
    {
        // This process cannot unload the extension: the bookings without it run in a PHP started without its ini file.
        reg_buffer_set_capacity(self::EVENT, 3);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
        reg_buffer_flush_now();

        $answers = self::withoutTheExtension('
            $answers = [];
            foreach ([2, 3, 4] as $n) {
                $outcome = reg_buffer_register(' . self::EVENT . ', ["n" => $n]);
                $answers[] = is_wp_error($outcome) ? $outcome->get_error_code() : [$outcome->fallback_reason, $outcome->seat, $outcome->remaining];
            }
            return $answers;
        ');

        self::assertSame([['extension_not_loaded', 'registered', 1], ['extension_not_loaded', 'registered', 0], 'reg_buffer_sold_out'], $answers);
        self::assertSame(['registered' => 3], self::statuses());
        wp_cache_flush(); // As the next request: the stale mark the other process wrote.
        self::assertSame([self::EVENT], \Reg_Buffer_Seats::stale_events());
        self::assertSame(1, \Reg_Buffer_Bridge::seats(self::EVENT)['taken'], 'Redis missed the two');

        self::assertSame('reg_buffer_sold_out', self::answer(\Reg_Buffer_Registrar::register(self::EVENT, ['n' => 5])), 'counted again before booking');
        self::assertSame([], \Reg_Buffer_Seats::stale_events());
        self::assertSame(['known' => true, 'taken' => 3, 'waiting' => 0], \Reg_Buffer_Bridge::seats(self::EVENT));
    }

    /**
     * Runs $code with WordPress loaded for the test site in a PHP without the reg_buffer extension: this PHP's ini
     * files but the extension's (PHP_INI_SCAN_DIR). Gives back what $code returns (through JSON).
     */
    private static function withoutTheExtension(string $code): mixed
    {
        $dir = $GLOBALS['reg_buffer_test_redis']->dir . '/ini-without-reg-buffer';
        if (!is_dir($dir)) {
            mkdir($dir);
            foreach (glob(PHP_CONFIG_FILE_SCAN_DIR . '/*.ini') as $ini) {
                if (!str_contains((string) file_get_contents($ini), 'reg_buffer')) {
                    symlink($ini, $dir . '/' . basename($ini));
                }
            }
        }
        $site = $GLOBALS['reg_buffer_test_site'];
        $script = 'ini_set("error_log", ' . var_export((string) ini_get('error_log'), true) . ');'
            . 'if (extension_loaded("reg_buffer")) { fwrite(STDERR, "the extension is still loaded"); exit(3); }'
            . 'require getenv("STACK_WP_LOAD");'
            . 'echo "\\n<<<", json_encode((static function () {' . $code . '})()), "\\n";';
        $command = 'PHP_INI_SCAN_DIR=' . escapeshellarg($dir) . ' STACK_WP_HOST=' . escapeshellarg($site->host)
            . ' STACK_WP_LOAD=' . escapeshellarg(dirname(__DIR__) . '/lib/wp-load-cli.php')
            . ' ' . escapeshellarg(PHP_BINARY) . ' -r ' . escapeshellarg($script) . ' 2>&1';
        exec($command, $out, $status);
        $text = implode("\n", $out);
        $at = strrpos($text, "\n<<<");
        if ($status !== 0 || $at === false) {
            self::fail("the request without the extension failed ($status):\n$text");
        }
        return json_decode(substr($text, $at + 4), true);
    }

    public function test_a_registration_the_flush_sets_aside_keeps_its_seat_through_a_recount_until_purged(): void
    {
        reg_buffer_set_capacity(self::EVENT, 2);
        $ada = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'ada'], 'ada@example.org');
        self::assertSame('registered', $ada->seat);
        // Another row took the key while Ada's was buffered (a direct write): the flush sets hers aside, unstored.
        \Reg_Buffer_Store::insert([self::row('01JSETASIDEHOLDER000000000', self::EVENT, 'ada@example.org', ['n' => 'holder'])]);
        reg_buffer_flush_now();
        self::assertNotNull(\Reg_Buffer_Set_Aside::get($ada->registration_id));
        self::assertSame('registered', \Reg_Buffer_Set_Aside::get($ada->registration_id)['status']);

        $counted = \Reg_Buffer_Seats::recount(self::EVENT);
        self::assertSame(2, $counted['taken'], 'the stored holder and the set-aside registration: a retry may still store it');
        self::assertSame('reg_buffer_sold_out', self::answer(\Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'eve'])));

        self::assertTrue(\Reg_Buffer_Set_Aside::purge($ada->registration_id)['ok']);
        self::assertSame(1, reg_buffer_seats_left(self::EVENT), 'purged: it will never be stored, its seat is free');
        self::assertSame('registered', self::answer(\Reg_Buffer_Registrar::register(self::EVENT, ['n' => 'eve'])));
    }

    public function test_a_recount_sees_a_batch_another_session_commits_between_its_reads_exactly_once(): void
    {
        reg_buffer_set_capacity(self::EVENT, 5);
        $booked = [];
        foreach (['a', 'b', 'c'] as $n) {
            $booked[] = \Reg_Buffer_Registrar::register(self::EVENT, ['n' => $n])->registration_id;
        }
        reg_buffer_seats_forget(self::EVENT);
        // A flusher's session commits the three buffered registrations while the recount reads the table (they stay
        // in Redis until its ack): after the recount's COUNT(*), just before it looks the buffered ids up.
        $flusher = new \mysqli(DB_HOST, DB_USER, DB_PASSWORD, DB_NAME);
        $table = \Reg_Buffer_Store::table();
        $done = false;
        $this->hook('query', static function (string $query) use (&$done, $flusher, $table, $booked): string {
            if (!$done && str_contains($query, "SELECT registration_id FROM {$table} WHERE registration_id IN (")) {
                $done = true;
                foreach ($booked as $id) {
                    $flusher->query("INSERT INTO {$table} (registration_id, event_id, registered_at, data, stored_at, status) VALUES ('{$id}', " . self::EVENT . ", UTC_TIMESTAMP(3), '{}', UTC_TIMESTAMP(3), 'registered')");
                }
            }
            return $query;
        });

        $counted = \Reg_Buffer_Seats::recount(self::EVENT);

        self::assertTrue($done, 'the other session committed during the recount');
        self::assertSame(3, $counted['taken'], 'in neither read would be 0 (an oversold event); in both, 6');
        self::assertSame(2, reg_buffer_seats_left(self::EVENT));
    }

    public function test_a_freed_seat_waits_for_an_older_waiter_still_buffered_rather_than_go_to_a_newer_one_stored(): void
    {
        reg_buffer_set_capacity(self::EVENT, 1, true);
        $ada = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'ada']);
        reg_buffer_flush_now();
        $bob = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'bob']); // waitlisted, buffered
        usleep(2000); // Older by a clock tick: within one millisecond two registrations made apart are not ordered.
        $this->withSettings(['disabled' => true]);
        $cy = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'cy']); // waitlisted, written to the table
        $this->withSettings(['disabled' => false]);
        self::assertSame(['buffered', 'waitlisted', 'stored', 'waitlisted'], [$bob->status, $bob->seat, $cy->status, $cy->seat]);

        $cancelled = reg_buffer_cancel_registration($ada->registration_id);

        self::assertSame([], $cancelled['promoted'], 'Bob is older: Cy must not take the seat');
        self::assertSame('waitlisted', self::statusOf($cy->registration_id));
        reg_buffer_flush_now();
        self::assertSame('registered', self::statusOf($bob->registration_id), 'stored, Bob gets the seat he is owed');
        self::assertSame('waitlisted', self::statusOf($cy->registration_id));
    }

    public function test_a_stale_mark_another_process_wrote_is_seen_by_the_next_booking_of_a_process_started_before_it(): void
    {
        global $wpdb;
        reg_buffer_set_capacity(self::EVENT, 3);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
        reg_buffer_flush_now();
        \Reg_Buffer_Seats::stale_events(); // This process has its options loaded (a long WP-CLI run, a request in flight).
        // Meanwhile a PHP without the extension wrote two rows Redis did not count, and marked the event stale.
        $table = \Reg_Buffer_Store::table();
        foreach (['01JSTALEWRITER0000000000A1', '01JSTALEWRITER0000000000A2'] as $id) {
            $wpdb->query("INSERT INTO {$table} (registration_id, event_id, registered_at, data, stored_at, status) VALUES ('{$id}', " . self::EVENT . ", UTC_TIMESTAMP(3), '{}', UTC_TIMESTAMP(3), 'registered')");
        }
        $wpdb->query($wpdb->prepare("UPDATE {$wpdb->options} SET option_value = %s WHERE option_name = %s", serialize([self::EVENT => time()]), \Reg_Buffer_Seats::STALE_OPTION))
            || $wpdb->insert($wpdb->options, ['option_name' => \Reg_Buffer_Seats::STALE_OPTION, 'option_value' => serialize([self::EVENT => time()]), 'autoload' => 'yes']);

        self::assertSame('reg_buffer_sold_out', self::answer(\Reg_Buffer_Registrar::register(self::EVENT, ['n' => 4])), 'Redis still says 1 taken: only a recount sees 3');
    }

    public function test_without_the_extension_a_cancel_passes_the_seat_to_the_oldest_waiter_and_a_newcomer_queues(): void
    {
        reg_buffer_set_capacity(self::EVENT, 1, true);
        $ada = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'ada']);
        $bob = \Reg_Buffer_Registrar::register(self::EVENT, ['who' => 'bob']);
        reg_buffer_flush_now();

        $answers = self::withoutTheExtension('
            $cancelled = reg_buffer_cancel_registration(' . var_export($ada->registration_id, true) . ');
            $newcomer = reg_buffer_register(' . self::EVENT . ', ["who" => "cy"]);
            return [$cancelled["promoted"], is_wp_error($newcomer) ? $newcomer->get_error_code() : $newcomer->seat];
        ');

        self::assertSame([[$bob->registration_id], 'waitlisted'], $answers);
        self::assertSame('registered', self::statusOf($bob->registration_id));
    }

    public function test_a_flush_run_counts_an_event_whose_count_redis_lost(): void
    {
        reg_buffer_set_capacity(self::EVENT, 4);
        \Reg_Buffer_Registrar::register(self::EVENT, ['n' => 1]);
        reg_buffer_flush_now();
        $this->redis()->flushAll();
        self::assertFalse(\Reg_Buffer_Bridge::seats(self::EVENT)['known']);

        reg_buffer_flush_now(); // WP-Cron's run: the fast intake, which cannot count the table, relies on it.

        self::assertSame(['known' => true, 'taken' => 1, 'waiting' => 0], \Reg_Buffer_Bridge::seats(self::EVENT));
    }

    public function test_the_places_left_of_an_unpublished_event_are_not_shown(): void
    {
        $draft = wp_insert_post(['post_title' => 'Draft event', 'post_status' => 'draft']);
        $published = wp_insert_post(['post_title' => 'Event', 'post_status' => 'publish']);
        reg_buffer_set_capacity($draft, 10);
        reg_buffer_set_capacity($published, 10);
        wp_set_current_user(0);

        self::assertSame('', \Reg_Buffer_Seats_Shortcode::render(['event' => (string) $draft]));
        self::assertStringContainsString('10 places left', \Reg_Buffer_Seats_Shortcode::render(['event' => (string) $published]));
        reg_buffer_set_capacity($draft, null);
        reg_buffer_set_capacity($published, null);
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
