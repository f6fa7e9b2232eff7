<?php
// reg_buffer_book() and the seat calls: an event's capacity held in the push's own round trip — exactly `capacity`
// registrations hold a seat across processes, the count outlives flushes, a count Redis cannot vouch for is refused
// until the caller seeds it, cancellations free or pass on their seat, and waiters are served in order.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\SeatsUnknownException;
use RegBuffer\SoldOutException;
use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\TestCase;

final class SeatsTest extends TestCase
{
    private static function seats(int $capacity, bool $waitlist = false): array
    {
        return ['capacity' => $capacity, 'waitlist' => $waitlist];
    }

    /** @test */
    public function an_events_first_booking_is_refused_until_its_count_is_seeded_and_a_second_seed_changes_nothing(): void
    {
        $e = self::assertThrows(SeatsUnknownException::class, fn () => reg_buffer_book(7, ['n' => 1], self::seats(3)));
        self::assertInstanceOf(\RegBuffer\Exception::class, $e);
        self::assertSame(0, reg_buffer_stats()['pending'], 'nothing was written');
        self::assertSame(['known' => false, 'taken' => 0, 'waiting' => 0], reg_buffer_seats(7));
        self::assertTrue(reg_buffer_seats_seed(7, 1, 0));
        self::assertFalse(reg_buffer_seats_seed(7, 0, 0), 'a known count stands');
        self::assertSame(['known' => true, 'taken' => 1, 'waiting' => 0], reg_buffer_seats(7));
        $booking = reg_buffer_book(7, ['n' => 1], self::seats(3));
        self::assertRegistrationId($booking['id']);
        self::assertSame(['status' => 'registered', 'remaining' => 1, 'waiting' => 0], array_diff_key($booking, ['id' => 0]));
    }

    /** @test */
    public function exactly_capacity_is_booked_then_sold_out_with_nothing_written_and_the_count_outlives_the_flush(): void
    {
        reg_buffer_seats_seed(8, 0, 0);
        $ids = [];
        for ($i = 0; $i < 5; $i++) {
            $ids[] = reg_buffer_book(8, ['n' => $i], self::seats(5))['id'];
        }
        $pending = reg_buffer_stats()['pending'];
        $e = self::assertThrows(SoldOutException::class, fn () => reg_buffer_book(8, ['n' => 5], self::seats(5)));
        self::assertNull($e->getRegistrationId(), 'nothing was written');
        self::assertSame($pending, reg_buffer_stats()['pending']);
        $rows = $this->drain();
        self::assertSame($ids, self::ids($rows));
        self::assertSame(array_fill(0, 5, 'registered'), array_column($rows, 'status'));
        self::assertThrows(SoldOutException::class, fn () => reg_buffer_book(8, ['n' => 6], self::seats(5)), 'flushed registrations still hold their seats');
        self::assertSame(['known' => true, 'taken' => 5, 'waiting' => 0], reg_buffer_seats(8));
        self::assertSame('registered', reg_buffer_book(8, ['n' => 7], self::seats(6))['status'], 'a raised capacity applies to the next booking');
    }

    /** @test */
    public function a_duplicate_takes_no_seat_and_a_refused_booking_takes_no_unique_key(): void
    {
        reg_buffer_seats_seed(9, 0, 0);
        self::assertSame('registered', reg_buffer_book(9, [], self::seats(2), 'ada@example.org')['status']);
        $dup = reg_buffer_book(9, [], self::seats(2), 'ada@example.org');
        self::assertSame(['id' => null, 'status' => 'duplicate', 'remaining' => 1, 'waiting' => 0], $dup);
        self::assertSame('registered', reg_buffer_book(9, [], self::seats(2), 'bob@example.org')['status']);
        self::assertThrows(SoldOutException::class, fn () => reg_buffer_book(9, [], self::seats(2), 'eve@example.org'));
        self::assertSame('waitlisted', reg_buffer_book(9, [], self::seats(2, true), 'eve@example.org')['status'], 'the sold-out booking left no marker behind');
        self::assertSame(3, reg_buffer_stats()['pending'], 'ada, bob and eve');
    }

    /** @test */
    public function past_capacity_a_waitlist_takes_registrations_in_order_and_a_freed_seat_goes_to_the_first_waiter(): void
    {
        reg_buffer_seats_seed(10, 0, 0);
        $seats = self::seats(2, true);
        $booked = [];
        foreach (['a', 'b', 'c', 'd'] as $name) {
            $booked[$name] = reg_buffer_book(10, ['name' => $name], $seats);
        }
        self::assertSame(['registered', 'registered', 'waitlisted', 'waitlisted'], array_column($booked, 'status'));
        self::assertSame(['remaining' => 0, 'waiting' => 2], array_intersect_key($booked['d'], ['remaining' => 0, 'waiting' => 0]));
        $buffered = reg_buffer_seats_buffered(10);
        self::assertEqualsCanonicalizing([$booked['a']['id'], $booked['b']['id']], $buffered['registered']);
        self::assertEqualsCanonicalizing([$booked['c']['id'], $booked['d']['id']], $buffered['waitlisted']);
        $rows = $this->drain();
        self::assertSame(['registered', 'registered', 'waitlisted', 'waitlisted'], array_column($rows, 'status'));
        self::assertSame(['a', 'b', 'c', 'd'], array_column(array_column($rows, 'data'), 'name'), 'stored as given, in order');

        self::assertSame('promote', reg_buffer_seat_release(10, false, 2), 'a seat left: it passes to the first waiter');
        self::assertSame(['known' => true, 'taken' => 2, 'waiting' => 1], reg_buffer_seats(10));
        self::assertSame('unlisted', reg_buffer_seat_release(10, true, 2));
        self::assertSame('freed', reg_buffer_seat_release(10, false, 2), 'nobody waits');
        self::assertSame(['known' => true, 'taken' => 1, 'waiting' => 0], reg_buffer_seats(10));
        self::assertSame('registered', reg_buffer_book(10, ['name' => 'e'], $seats)['status']);
        self::assertSame('waitlisted', reg_buffer_book(10, ['name' => 'f'], $seats)['status']);
    }

    /** @test */
    public function while_anyone_waits_a_newcomer_queues_behind_them_and_added_seats_go_to_the_waiters(): void
    {
        reg_buffer_seats_seed(11, 2, 3);
        self::assertSame('waitlisted', reg_buffer_book(11, [], self::seats(4, true))['status'], 'two seats are free, but three wait');
        self::assertSame(2, reg_buffer_seats_promote(11, 4));
        self::assertSame(['known' => true, 'taken' => 4, 'waiting' => 2], reg_buffer_seats(11));
        self::assertSame(0, reg_buffer_seats_promote(11, 4));
        self::assertSame('freed', reg_buffer_seat_release(11, false, 3), 'the capacity was lowered below the seats held: the seat goes');
        self::assertSame(['known' => true, 'taken' => 3, 'waiting' => 2], reg_buffer_seats(11));
        reg_buffer_seats_forget(11);
        self::assertNull(reg_buffer_seats_promote(11, 9));
        self::assertSame('unknown', reg_buffer_seat_release(11));
    }

    /** @test */
    public function a_seat_taken_without_buffering_counts_like_a_booking(): void
    {
        reg_buffer_seats_seed(12, 0, 0);
        self::assertSame(['status' => 'registered', 'remaining' => 0, 'waiting' => 0], reg_buffer_seat_take(12, self::seats(1)));
        self::assertThrows(SoldOutException::class, fn () => reg_buffer_seat_take(12, self::seats(1)));
        self::assertThrows(SoldOutException::class, fn () => reg_buffer_book(12, [], self::seats(1)));
        self::assertSame('waitlisted', reg_buffer_seat_take(12, self::seats(1, true))['status']);
        self::assertSame(0, reg_buffer_stats()['pending'], 'nothing buffered');
    }

    /** @test */
    public function a_malformed_seats_argument_is_refused_before_anything_is_written(): void
    {
        foreach ([[], ['capacity' => -1], ['capacity' => 'ten'], ['capacity' => 3, 'extra' => 1], ['capacity' => 3, 'waitlist' => 'yes'], ['capacity' => 2 ** 41]] as $seats) {
            self::assertThrows(\ValueError::class, fn () => reg_buffer_book(13, [], $seats), json_encode($seats));
        }
        self::assertThrows(\ValueError::class, fn () => reg_buffer_seats_seed(13, -1, 0));
        self::assertThrows(\ValueError::class, fn () => reg_buffer_book(0, [], self::seats(1)));
        $this->assertNothingWritten();
    }

    /** @test */
    public function after_flushall_the_count_is_unknown_again(): void
    {
        reg_buffer_seats_seed(14, 0, 0);
        reg_buffer_book(14, [], self::seats(3));
        self::redis()->flushAll();
        self::assertThrows(SeatsUnknownException::class, fn () => reg_buffer_book(14, [], self::seats(3)));
        self::assertSame(0, reg_buffer_stats()['pending']);
    }

    /**
     * @test
     * @group single-node
     */
    public function after_redis_restarted_the_count_it_kept_is_not_trusted(): void
    {
        $server = self::extraServer(persistent: true);
        $this->useServer($server);
        reg_buffer_seats_seed(15, 0, 0);
        reg_buffer_book(15, [], self::seats(3));
        $server->client()->save();
        $server->restart();
        $this->waitUntilReachable();
        self::assertSame(1, reg_buffer_stats()['pending'], 'the data survived the restart');
        self::assertFalse(reg_buffer_seats(15)['known'], 'but the count is from another run: the store may hold more');
        self::assertThrows(SeatsUnknownException::class, fn () => reg_buffer_book(15, [], self::seats(3)));
        self::assertTrue(reg_buffer_seats_seed(15, 1, 0));
        self::assertSame(1, reg_buffer_book(15, [], self::seats(3))['remaining']);
    }

    /** @return array<string, int> outcome => how many */
    private function rush(int $event, int $workers, int $each, string $capacityFile, bool $waitlist, bool $unique): array
    {
        $start = microtime(true) + 1.0;
        $procs = [];
        for ($w = 0; $w < $workers; $w++) {
            $procs[] = PhpProcess::start('seats_booker', [$each, $event, $capacityFile, $waitlist ? 1 : 0, $unique ? 1 : 0, $start], $this->workerEnv());
        }
        $lines = [];
        foreach ($procs as $p) {
            self::assertSame(0, $p->wait(120), $p->stderr());
            array_push($lines, ...array_filter(explode("\n", $p->stdout())));
        }
        $counts = [];
        foreach ($lines as $line) {
            $outcome = explode("\t", $line)[0];
            $counts[$outcome] = ($counts[$outcome] ?? 0) + 1;
        }
        return $counts;
    }

    /** @test */
    public function thirty_two_processes_booking_ten_times_the_capacity_get_exactly_the_capacity(): void
    {
        foreach ([[21, false, false], [22, true, false], [23, false, true]] as [$event, $unique, $waitlist]) {
            $capacity = 40;
            $file = $this->tempFile("capacity-$event");
            file_put_contents($file, (string) $capacity);
            reg_buffer_seats_seed($event, 0, 0);
            $each = intdiv(10 * $capacity + 31, 32) * ($unique ? 2 : 1);   // 10x the capacity (each key booked twice)
            $counts = $this->rush($event, 32, $each, $file, $waitlist, $unique);
            $what = json_encode(compact('unique', 'waitlist') + $counts);
            self::assertSame($capacity, $counts['registered'] ?? 0, $what);
            self::assertArrayNotHasKey('unknown', $counts, $what);
            $rows = array_filter($this->drain(), fn ($r) => $r['event_id'] === $event);
            $registered = array_filter($rows, fn ($r) => $r['status'] === 'registered');
            self::assertCount($capacity, $registered, $what);
            if ($waitlist) {
                self::assertSame(count($rows) - $capacity, $counts['waitlisted'] ?? 0, $what);
                self::assertArrayNotHasKey('sold_out', $counts, $what);
            } else {
                self::assertCount($capacity, $rows, $what);
                self::assertGreaterThan(0, $counts['sold_out'] ?? 0, $what);
            }
            if ($unique) {
                self::assertGreaterThan(0, $counts['duplicate'] ?? 0, $what);
                self::assertSame(count($rows), count(array_unique(array_column($rows, 'unique_key'))), 'no key twice');
            }
            self::assertSame(['known' => true, 'taken' => $capacity, 'waiting' => count($rows) - $capacity], reg_buffer_seats($event));
        }
    }

    /** @test */
    public function a_capacity_changed_down_and_up_under_load_ends_at_exactly_the_last_capacity(): void
    {
        $event = 31;
        $file = $this->tempFile('capacity-31');
        file_put_contents($file, '30');
        reg_buffer_seats_seed($event, 0, 0);
        $start = microtime(true) + 0.5;
        $procs = [];
        for ($w = 0; $w < 8; $w++) {
            $procs[] = PhpProcess::start('seats_booker', [400, $event, $file, 0, 0, $start, 2000], $this->workerEnv());
        }
        self::waitForWorkers(fn () => reg_buffer_seats($event)['taken'] >= 10, $procs, '10 seats taken');
        file_put_contents($file, '5');   // lowered below what is taken: nobody else gets in
        usleep(200_000);
        $taken = reg_buffer_seats($event)['taken'];
        self::assertLessThanOrEqual(30, $taken);
        usleep(200_000);
        self::assertSame($taken, reg_buffer_seats($event)['taken'], 'nothing booked while the capacity is below the seats held');
        file_put_contents($file, '60');
        foreach ($procs as $p) {
            self::assertSame(0, $p->wait(120), $p->stderr());
        }
        self::assertSame(60, reg_buffer_seats($event)['taken']);
        self::assertCount(60, array_filter($this->drain(), fn ($r) => $r['event_id'] === $event));
    }
}
