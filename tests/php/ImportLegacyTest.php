<?php
// import_legacy: the seed snippet's lists (LPUSH of {"timestamp","registration_details"} JSON) move into the buffer.
declare(strict_types=1);

namespace RegBuffer\Tests;

use RegBuffer\Tests\Support\PhpProcess;
use RegBuffer\Tests\Support\TestCase;

/**
 * Single node only: a cluster refuses import_legacy (ClusterLayoutTest checks that).
 *
 * @group single-node
 */
final class ImportLegacyTest extends TestCase
{
    /** What the seed's PHP snippet did for each registration. */
    private static function legacyPush(\Redis $redis, int $event, array $registration, int|float $timestamp): void
    {
        $redis->lPush("event_reg_buffer:$event", json_encode(['timestamp' => $timestamp, 'registration_details' => $registration]));
        $redis->expire("event_reg_buffer:$event", 3600);
    }

    /** @test */
    public function imports_the_legacy_lists_keeping_their_timestamps_and_leaves_them_empty(): void
    {
        $redis = $this->client();
        $t = 1_700_000_000;
        $seven = [
            [['name' => 'Ada', 'tickets' => 2, 'price' => 0.1], $t],
            [['name' => 'Bob', 'extra' => ['diet' => 'vegan', 'list' => [1, 2]]], $t + 1],
            [['name' => 'Zoë', 'empty' => [], 'whole' => 1.0, 'ids' => [3 => 'x']], $t + 2],
            [['a list', 'of values'], $t + 3],
        ];
        foreach ($seven as [$registration, $at]) {
            self::legacyPush($redis, 7, $registration, $at);
        }
        self::legacyPush($redis, 8, ['name' => 'Cy'], $t + 10);
        self::legacyPush($redis, 8, ['name' => 'Di'], $t + 11.5);

        self::assertSame(6, reg_buffer_import_legacy());
        self::assertSame(0, $redis->exists('event_reg_buffer:7', 'event_reg_buffer:8'), 'the legacy lists are empty');
        $stats = reg_buffer_stats();
        self::assertSame(6, $stats['pending']);
        self::assertSame(2, $stats['events']);

        $rows = $this->drain();
        $byEvent = [];
        foreach ($rows as $row) {
            self::assertRegistrationId($row['id']);
            self::assertNull($row['unique_key']);
            $byEvent[$row['event_id']][] = $row;
        }
        ksort($byEvent);
        self::assertSame([7, 8], array_keys($byEvent));
        foreach ($seven as $i => [$registration, $at]) {
            // What the legacy JSON holds (json_encode() wrote 1.0 as 1, so that is an int now).
            $asStored = json_decode(json_encode($registration), true);
            self::assertSame($asStored, $byEvent[7][$i]['data'], 'oldest first, data as the legacy JSON holds it');
            self::assertEqualsWithDelta($at, $byEvent[7][$i]['registered_at'], 0.001, 'the legacy timestamp is kept');
        }
        self::assertSame(['name' => 'Cy'], $byEvent[8][0]['data']);
        self::assertEqualsWithDelta($t + 11.5, $byEvent[8][1]['registered_at'], 0.001);
        self::assertCount(6, array_unique(self::ids($rows)));
    }

    /** @test */
    public function imported_registrations_are_found_by_their_legacy_time(): void
    {
        $redis = $this->client();
        self::legacyPush($redis, 7, ['n' => 1], 1_600_000_000);
        self::legacyPush($redis, 7, ['n' => 2], 1_600_000_100);
        reg_buffer_import_legacy();
        $rows = reg_buffer_range(7, 1_600_000_050, 1_600_000_200);
        self::assertSame([['n' => 2]], array_column($rows, 'data'));
    }

    /** @test */
    public function imported_keys_carry_no_expiry_although_the_legacy_lists_did(): void
    {
        self::legacyPush($this->client(), 7, ['n' => 1], time());
        reg_buffer_import_legacy();
        $redis = $this->client();
        foreach ($this->keys($redis, "{$this->prefix}*") as $key) {
            self::assertSame(-1, $redis->ttl($key), "$key must not expire");
        }
    }

    /** @test */
    public function moves_everything_from_a_long_list_in_order(): void
    {
        $redis = $this->client();
        for ($i = 0; $i < 450; $i++) {
            self::legacyPush($redis, 7, ['i' => $i], 1_700_000_000 + $i);
        }
        self::assertSame(450, reg_buffer_import_legacy());
        self::assertSame(0, $redis->exists('event_reg_buffer:7'));
        self::assertSame(range(0, 449), array_map(fn ($r) => $r['data']['i'], $this->drain()));
    }

    /** @test */
    public function malformed_elements_go_to_quarantine_and_are_counted_in_stats(): void
    {
        $redis = $this->client();
        self::legacyPush($redis, 9, ['good' => 1], 1_700_000_000);
        $redis->lPush('event_reg_buffer:9', 'not json at all');
        $redis->lPush('event_reg_buffer:9', json_encode(['timestamp' => 1_700_000_001]));
        $redis->lPush('event_reg_buffer:9', json_encode(['registration_details' => ['no' => 'timestamp']]));
        $redis->lPush('event_reg_buffer:9', json_encode('a string'));
        $redis->lPush('event_reg_buffer:9', json_encode(['timestamp' => 1_700_000_002, 'registration_details' => 'not an array']));
        self::legacyPush($redis, 9, ['good' => 2], 1_700_000_003);

        $moved = reg_buffer_import_legacy();
        // "how many it moved": the quarantined elements were moved too (into the quarantine).
        self::assertContains($moved, [2, 7], 'import_legacy counts the good ones, or all it took from the lists');
        self::assertSame(0, $redis->exists('event_reg_buffer:9'), 'nothing is left behind in the legacy list');
        $stats = reg_buffer_stats();
        self::assertSame(5, $stats['quarantined']);
        self::assertSame(2, $stats['pending']);
        self::assertSame([['good' => 1], ['good' => 2]], array_column($this->drain(), 'data'));
        self::assertSame(5, $redis->hLen("{$this->prefix}quarantine"));
        self::assertStringContainsString('not json at all', $this->dump($redis, "{$this->prefix}quarantine"), 'the quarantine keeps the bytes');
    }

    /** @test */
    public function a_second_import_moves_nothing(): void
    {
        self::legacyPush($this->client(), 7, ['n' => 1], 1_700_000_000);
        self::assertSame(1, reg_buffer_import_legacy());
        self::assertSame(0, reg_buffer_import_legacy());
        self::assertCount(1, $this->drain());
    }

    /** @test */
    public function the_pattern_selects_the_lists_to_import(): void
    {
        $redis = $this->client();
        self::legacyPush($redis, 7, ['n' => 7], 1_700_000_000);
        self::legacyPush($redis, 8, ['n' => 8], 1_700_000_000);
        self::assertSame(1, reg_buffer_import_legacy('event_reg_buffer:7'));
        self::assertSame(1, $redis->lLen('event_reg_buffer:8'));
        self::assertSame([['n' => 7]], array_column($this->drain(), 'data'));
    }

    /** @test */
    public function leaves_keys_alone_that_are_not_legacy_event_lists(): void
    {
        $redis = $this->client();
        $redis->set('event_reg_buffer:10', 'a string, not a list');
        $redis->lPush('event_reg_buffer:abc', json_encode(['timestamp' => 1, 'registration_details' => []]));
        $redis->lPush('event_reg_buffer:0', json_encode(['timestamp' => 1, 'registration_details' => []]));
        self::assertSame(0, reg_buffer_import_legacy());
        self::assertSame('a string, not a list', $redis->get('event_reg_buffer:10'));
        self::assertSame(1, $redis->lLen('event_reg_buffer:abc'));
        self::assertSame(1, $redis->lLen('event_reg_buffer:0'));
        self::assertSame(0, reg_buffer_stats()['pending']);
    }

    /** @test */
    public function imported_registrations_flow_like_pushed_ones(): void
    {
        self::legacyPush($this->client(), 7, ['legacy' => true], 1_700_000_000);
        reg_buffer_import_legacy();
        $pushed = reg_buffer_push(7, ['new' => true]);
        $rows = $this->drain();
        self::assertSame([['legacy' => true], ['new' => true]], array_column($rows, 'data'));
        self::assertSame($pushed, $rows[1]['id']);
    }

    /** Fills legacy lists with $n elements over 4 events, each carrying its number; pipelined for speed. */
    private function seedLegacy(int $n): void
    {
        $redis = $this->client();
        $pipe = $redis->multi(\Redis::PIPELINE);
        for ($i = 0; $i < $n; $i++) {
            $pipe->lPush('event_reg_buffer:' . (1 + $i % 4), json_encode(['timestamp' => 1_700_000_000 + $i, 'registration_details' => ['i' => $i]]));
        }
        $pipe->exec();
    }

    /** Every seeded element is buffered exactly once and the lists are empty. */
    private function assertEachElementMovedOnce(int $n): void
    {
        self::assertSame(0, $this->client()->exists('event_reg_buffer:1', 'event_reg_buffer:2', 'event_reg_buffer:3', 'event_reg_buffer:4'));
        $numbers = array_map(fn ($r) => $r['data']['i'], $this->drain(5000));
        sort($numbers);
        self::assertSame(range(0, $n - 1), $numbers, 'each legacy element buffered exactly once');
        self::assertSame(0, reg_buffer_stats()['quarantined']);
    }

    /** @test */
    public function concurrent_imports_move_each_element_exactly_once(): void
    {
        $this->seedLegacy(3000);
        $startAt = sprintf('%.6f', microtime(true) + 0.5);
        $importers = [];
        for ($w = 0; $w < 3; $w++) {
            $importers[] = PhpProcess::start('import', [$startAt], $this->workerEnv());
        }
        $moved = 0;
        foreach ($importers as $p) {
            self::assertSame(0, $p->wait(60), $p->stderr());
            $moved += (int) trim($p->stdout());
        }
        self::assertSame(3000, $moved, 'the importers together report every element once');
        $this->assertEachElementMovedOnce(3000);
    }

    /** @test */
    public function an_import_killed_midway_loses_and_doubles_nothing(): void
    {
        $this->seedLegacy(20000);
        $importer = PhpProcess::start('import', [0], $this->workerEnv());
        $redis = $this->client();
        $deadline = microtime(true) + 30;
        // Kill it once it has visibly started moving elements.
        while ((int) $redis->hGet("{$this->prefix}stats", 'pushed') < 2000 && $importer->running() && microtime(true) < $deadline) {
            usleep(2_000);
        }
        $importer->kill();
        reg_buffer_import_legacy();
        $this->assertEachElementMovedOnce(20000);
    }

    /** @test */
    public function importing_while_the_legacy_snippet_still_pushes_moves_each_element_exactly_once(): void
    {
        $this->seedLegacy(2000);
        $snippet = PhpProcess::start('legacy_snippet', [self::redis()->port, 2000, 3000, 4]);
        $moved = 0;
        while ($snippet->running()) {
            $moved += reg_buffer_import_legacy();
        }
        self::assertSame(0, $snippet->wait(), $snippet->stderr());
        $moved += reg_buffer_import_legacy();
        self::assertSame(5000, $moved);
        $this->assertEachElementMovedOnce(5000);
    }
}
