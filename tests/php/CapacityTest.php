<?php
// max_pending: at the cap push throws CapacityException carrying the id it tried, and buffers nothing.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\CapacityException;
use RegBuffer\Tests\Support\TestCase;

final class CapacityTest extends TestCase
{
    /**
     * Single node only: counts every event together (ClusterLayoutTest checks the cap per shard on a cluster).
     *
     * @test
     * @group single-node
     */
    public function push_at_max_pending_throws_a_capacity_exception_with_the_registration_id(): void
    {
        ini_set('reg_buffer.max_pending', '3');
        for ($i = 0; $i < 3; $i++) {
            self::assertRegistrationId(reg_buffer_push(1 + $i, ['i' => $i]));
        }
        $e = self::assertThrows(CapacityException::class, fn () => reg_buffer_push(9, ['i' => 3], 'late@example.com'));
        self::assertInstanceOf(\RegBuffer\Exception::class, $e);
        self::assertInstanceOf(\RuntimeException::class, $e);
        self::assertRegistrationId($e->getRegistrationId());
        $stats = reg_buffer_stats();
        self::assertSame(3, $stats['pending']);
        self::assertSame(3, $stats['pushed']);
        self::assertSame([], $this->keys(null, $this->eventKey(9, '*', true)), 'nothing of the refused push was written, not even its marker');
    }

    /**
     * Single node only: counts every event together (ClusterLayoutTest checks the cap per shard on a cluster).
     *
     * @test
     * @group single-node
     */
    public function registrations_in_flight_count_towards_the_cap_until_acknowledged(): void
    {
        ini_set('reg_buffer.max_pending', '2');
        reg_buffer_push(1, ['a' => 1]);
        reg_buffer_push(1, ['a' => 2]);
        $batch = reg_buffer_flush(10);
        self::assertThrows(CapacityException::class, fn () => reg_buffer_push(1, ['a' => 3]));
        self::assertSame(2, reg_buffer_ack($batch['batch']));
        self::assertRegistrationId(reg_buffer_push(1, ['a' => 3]));
        self::assertRegistrationId(reg_buffer_push(1, ['a' => 4], 'k@example.com'), 'a capacity refusal does not burn a unique key');
    }

    /**
     * Single node only: counts every event together (ClusterLayoutTest checks the cap per shard on a cluster).
     *
     * @test
     * @group single-node
     */
    public function a_refused_unique_key_can_be_pushed_once_there_is_room(): void
    {
        ini_set('reg_buffer.max_pending', '1');
        reg_buffer_push(1, ['a' => 1]);
        self::assertThrows(CapacityException::class, fn () => reg_buffer_push(1, ['a' => 2], 'ada@example.com'));
        $this->drain();
        self::assertRegistrationId(reg_buffer_push(1, ['a' => 2], 'ada@example.com'));
    }

    /** @test */
    public function zero_means_no_cap(): void
    {
        ini_set('reg_buffer.max_pending', '0');
        for ($i = 0; $i < 200; $i++) {
            self::assertRegistrationId(reg_buffer_push(1, ['i' => $i]));
        }
    }

    /**
     * Regression (found by this suite, fixed in 39bd55c): at the cap, a push whose unique key was taken threw
     * CapacityException instead of returning false, so a caller falling back to a direct write on
     * CapacityException stored a duplicate the dedupe had refused. A duplicate buffers nothing and needs no room.
     *
     * @test
     */
    public function a_duplicate_at_the_cap_is_still_reported_as_a_duplicate(): void
    {
        ini_set('reg_buffer.max_pending', '1');
        self::assertRegistrationId(reg_buffer_push(1, ['a' => 1], 'ada@example.com'));
        self::assertFalse(reg_buffer_push(1, ['a' => 2], 'ada@example.com'));
    }
}
