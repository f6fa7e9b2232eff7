<?php
// range: still-buffered registrations of one event by time, oldest first, bounded by a limit.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\TestCase;

final class RangeTest extends TestCase
{
    /** Pushes $n registrations of $event a few ms apart; returns their ids. */
    private function pushSpaced(int $event, int $n): array
    {
        $ids = [];
        for ($i = 0; $i < $n; $i++) {
            $ids[] = reg_buffer_push($event, ['i' => $i], "r$i@example.com");
            usleep(3000);
        }
        return $ids;
    }

    /** @test */
    public function returns_an_events_registrations_oldest_first_with_the_row_shape_of_flush(): void
    {
        $ids = $this->pushSpaced(3, 5);
        reg_buffer_push(4, ['other event' => true]);
        $rows = reg_buffer_range(3, 0, INF);
        self::assertSame($ids, self::ids($rows));
        self::assertSame(['id', 'event_id', 'registered_at', 'unique_key', 'data', 'json', 'status'], array_keys($rows[0]));
        self::assertSame(3, $rows[0]['event_id']);
        self::assertSame(['i' => 0], $rows[0]['data']);
        self::assertSame('r0@example.com', $rows[0]['unique_key']);
        $flushed = $this->drain();
        $byId = array_column($flushed, null, 'id');
        foreach ($rows as $row) {
            self::assertSame($byId[$row['id']], $row, 'range and flush give the same row');
        }
    }

    /** @test */
    public function selects_by_time_with_inclusive_bounds(): void
    {
        $ids = $this->pushSpaced(3, 6);
        $at = array_column(reg_buffer_range(3, 0, INF), 'registered_at', 'id');
        $times = array_values($at);
        self::assertSame([$ids[1], $ids[2], $ids[3]], self::ids(reg_buffer_range(3, $times[1], $times[3])), 'both bounds inclusive');
        self::assertSame([$ids[2]], self::ids(reg_buffer_range(3, $times[2], $times[2])));
        self::assertSame(array_slice($ids, 4), self::ids(reg_buffer_range(3, $times[3] + 0.0015, INF)));
        self::assertSame(array_slice($ids, 0, 2), self::ids(reg_buffer_range(3, -INF, $times[2] - 0.0015)));
        self::assertSame([], reg_buffer_range(3, $times[5] + 1, $times[5] + 100));
        self::assertSame([], reg_buffer_range(3, $times[3], $times[1]), 'from after to: nothing');
    }

    /** @test */
    public function respects_the_limit_keeping_the_oldest(): void
    {
        $ids = $this->pushSpaced(3, 5);
        self::assertSame(array_slice($ids, 0, 2), self::ids(reg_buffer_range(3, 0, INF, 2)));
        self::assertSame(array_slice($ids, 0, 1), self::ids(reg_buffer_range(3, 0, INF, 1)));
    }

    /** @test */
    public function the_default_limit_is_1000(): void
    {
        for ($i = 0; $i < 1005; $i++) {
            reg_buffer_push(3, ['i' => $i]);
        }
        self::assertCount(1000, reg_buffer_range(3, 0, INF));
    }

    /** @test */
    public function includes_in_flight_registrations_but_not_acknowledged_ones(): void
    {
        $ids = $this->pushSpaced(3, 4);
        $batch = reg_buffer_flush(2);
        self::assertSame($ids, self::ids(reg_buffer_range(3, 0, INF)), 'in flight is still buffered');
        reg_buffer_ack($batch['batch']);
        self::assertSame(array_slice($ids, 2), self::ids(reg_buffer_range(3, 0, INF)));
        $this->drain();
        self::assertSame([], reg_buffer_range(3, 0, INF));
    }

    /** @test */
    public function range_does_not_claim_anything(): void
    {
        $ids = $this->pushSpaced(3, 3);
        reg_buffer_range(3, 0, INF);
        self::assertSame($ids, self::ids(reg_buffer_flush()['rows']));
    }

    /** @test */
    public function an_unknown_event_has_an_empty_range(): void
    {
        self::assertSame([], reg_buffer_range(99, 0, INF));
    }

    /** @test */
    public function refuses_a_bad_event_or_limit(): void
    {
        reg_buffer_push(3, []);
        self::assertThrows(\ValueError::class, fn () => reg_buffer_range(0, 0, INF));
        self::assertThrows(\ValueError::class, fn () => reg_buffer_range(-1, 0, INF));
        self::assertThrows(\ValueError::class, fn () => reg_buffer_range(3, 0, INF, 0));
        self::assertThrows(\ValueError::class, fn () => reg_buffer_range(3, 0, INF, -5));
        self::assertThrows(\TypeError::class, fn () => reg_buffer_range(3, 'yesterday', INF));
        self::assertThrows(\ArgumentCountError::class, fn () => reg_buffer_range(3, 0));
    }
}
