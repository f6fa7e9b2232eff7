<?php
// A stored entry that cannot be decoded goes to the quarantine, is counted, and never blocks the others.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\TestCase;

final class QuarantineTest extends TestCase
{
    private function corrupt(int $event, string $id, string $bytes): void
    {
        $redis = $this->client();
        $data = $this->eventKey($event, 'd');
        self::assertTrue($redis->hExists($data, $id), 'the data hash is where keys.rs says');
        $redis->hSet($data, $id, $bytes);
    }

    /**
     * Regression (issue 17's red team): an inbox entry reg_buffer did not write (bytes that are not UTF-8) made every
     * stats() and, past one filing step, every claim fail, read as a broken connection; one that did not parse left
     * `pushed` lower than stats had said. Now such entries are dropped, counted pushed and dropped, and the
     * registrations around them are flushed.
     *
     * @test
     * @group single-node
     */
    public function an_inbox_entry_reg_buffer_did_not_write_is_dropped_counted_and_blocks_nothing(): void
    {
        $ids = [reg_buffer_push(5, ['i' => 0])];
        $inbox = $this->shardKeys('inbox')[0];
        foreach (["\xff\xfe:\x80", 'no event', '12:no-time', str_repeat('9', 30) . ':x:1', '5:x:' . str_repeat('9', 400)] as $junk) {
            $this->client()->rPush($inbox, $junk);
        }
        $ids[] = reg_buffer_push(6, ['i' => 1]);
        self::assertSame(7, reg_buffer_stats()['pushed'], 'five entries and two registrations were pushed');
        self::assertSame($ids, self::ids($this->drain()));
        $stats = reg_buffer_stats();
        self::assertSame([7, 2, 0, 0, 0], [$stats['pushed'], $stats['acked'], $stats['lost'], $stats['pending'], $stats['buffered']], 'the five are counted dropped (none filed as a registration that then went missing): nothing waits');
    }

    /**
     * Regression (issue 17's red team, second pass): filing trims the inbox first, so a write refused after it (a
     * key of another type where an event's queue belongs) left the whole step's registrations in no queue. Now the
     * refused event's go back to the inbox and the others are filed.
     *
     * @test
     * @group single-node
     */
    public function an_event_whose_queue_is_broken_holds_back_only_its_own_registrations(): void
    {
        $this->client()->set($this->eventKey(7, 'q'), 'not a list');
        $stuck = reg_buffer_push(7, ['e' => 7]);
        $ids = [reg_buffer_push(8, ['e' => 8]), reg_buffer_push(9, ['e' => 9])];
        self::assertSame(3, reg_buffer_stats()['pending']);
        self::assertEqualsCanonicalizing($ids, self::ids($this->drain()), 'the other events are flushed');
        self::assertSame(1, reg_buffer_stats()['pending'], "event 7's registration still waits, counted");
        $this->client()->del($this->eventKey(7, 'q'));
        self::assertSame([$stuck], self::ids($this->drain()), 'and is flushed once its queue can be written');
    }

    /** @test */
    public function an_undecodable_entry_is_quarantined_and_does_not_block_the_others(): void
    {
        $ids = [];
        for ($i = 0; $i < 3; $i++) {
            $ids[] = reg_buffer_push(5, ['i' => $i]);
        }
        $this->corrupt(5, $ids[1], 'garbage that is no stored registration');
        $batch = reg_buffer_flush(100);
        self::assertSame([$ids[0], $ids[2]], self::ids($batch['rows']));
        $stats = reg_buffer_stats();
        self::assertSame(1, $stats['quarantined']);
        self::assertSame(2, $stats['in_flight']);
        self::assertSame(2, reg_buffer_ack($batch['batch']));
        $stats = reg_buffer_stats();
        self::assertSame(0, $stats['pending']);
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(0, $stats['buffered']);
        self::assertSame(1, $stats['quarantined']);
        self::assertSame([], reg_buffer_flush()['rows'], 'the bad entry is not handed out again');
        [$key] = $this->shardKeys('quarantine');
        $quarantine = $this->client()->hGetAll($key);
        self::assertCount(1, $quarantine);
        self::assertStringContainsString($ids[1], (string) array_key_first($quarantine));
        self::assertStringContainsString('garbage that is no stored registration', (string) reset($quarantine), 'the bytes are kept for a human');
    }

    /** @test */
    public function every_kind_of_undecodable_entry_is_quarantined(): void
    {
        $bad = [
            'empty' => '',
            'unknown version' => '9:1700000000000000:-:{}',
            'bad timestamp' => '1:soon:-:{}',
            'truncated unique key' => '1:1700000000000000:99:abc{}',
            'invalid JSON' => '1:1700000000000000:-:{"a":',
            'JSON that is no array' => '1:1700000000000000:-:5',
            'invalid UTF-8' => "1:1700000000000000:-:{\"a\":\"\xff\"}",
        ];
        $ids = [];
        foreach (array_keys($bad) as $i => $what) {
            $ids[$what] = reg_buffer_push(5, ['i' => $i]);
        }
        $good = reg_buffer_push(5, ['good' => true]);
        foreach ($bad as $what => $bytes) {
            $this->corrupt(5, $ids[$what], $bytes);
        }
        $batch = reg_buffer_flush(100);
        self::assertSame([$good], self::ids($batch['rows']));
        self::assertSame(count($bad), reg_buffer_stats()['quarantined']);
        self::assertSame(1, reg_buffer_ack($batch['batch']));
    }

    /** @test */
    public function a_batch_of_only_undecodable_entries_leaves_nothing_in_flight(): void
    {
        [$five, $six] = $this->eventsOfOneShard(2);
        $a = reg_buffer_push($five, ['a' => 1]);
        $b = reg_buffer_push($six, ['b' => 1]);
        $this->corrupt($five, $a, 'x');
        $this->corrupt($six, $b, 'y');
        $batch = reg_buffer_flush(100, 1);
        self::assertSame([], $batch['rows']);
        $stats = reg_buffer_stats();
        self::assertSame(2, $stats['quarantined']);
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(0, $stats['pending']);
        self::assertSame([], reg_buffer_flush(100)['rows']);
        self::assertSame(0, reg_buffer_ack($batch['batch']));
    }

    /**
     * Regression (found by this suite, fixed in 39bd55c): when the lease of a batch whose every entry was
     * quarantined ran out, the next flush threw "value is not an integer or out of range": claim.lua ran
     * HINCRBY in_flight -#members with #members == 0, and Lua's -0 reached Redis as "-0".
     *
     * @test
     */
    public function a_lease_running_out_on_a_fully_quarantined_batch_does_not_fail_the_next_flush(): void
    {
        $bad = reg_buffer_push(5, ['bad' => 1]);
        $this->corrupt(5, $bad, 'x');
        self::assertSame([], reg_buffer_flush(100, 1)['rows']);
        $good = reg_buffer_push(5, ['good' => 1]);
        usleep(1_200_000);
        $batch = reg_buffer_flush(100, 60);
        self::assertSame([$good], self::ids($batch['rows']), 'nothing is redelivered from the quarantine');
        self::assertSame(1, reg_buffer_ack($batch['batch']));
        $stats = reg_buffer_stats();
        self::assertSame(0, $stats['in_flight']);
        self::assertSame(1, $stats['quarantined']);
    }

    /** @test */
    public function range_skips_an_undecodable_entry_instead_of_failing(): void
    {
        $a = reg_buffer_push(5, ['a' => 1]);
        $b = reg_buffer_push(5, ['b' => 1]);
        $this->corrupt(5, $a, 'x');
        self::assertSame([$b], self::ids(reg_buffer_range(5, 0, INF)));
    }

    /** @test */
    public function an_id_whose_data_vanished_is_skipped_and_counted_as_lost(): void
    {
        // What an eviction under a maxmemory policy other than noeviction would do to a buffered registration.
        $a = reg_buffer_push(5, ['a' => 1]);
        $b = reg_buffer_push(5, ['b' => 1]);
        $this->client()->hDel($this->eventKey(5, 'd'), $a);
        $batch = reg_buffer_flush(100);
        self::assertSame([$b], self::ids($batch['rows']));
        self::assertSame(1, reg_buffer_ack($batch['batch']));
        $stats = reg_buffer_stats();
        self::assertSame(1, $stats['lost']);
        self::assertSame(0, $stats['buffered']);
        self::assertSame(0, $stats['pending']);
    }
}
