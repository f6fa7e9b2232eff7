<?php
// The seed's PHP snippet at work: LPUSHes legacy registrations (and sets the list's expiry) like the old site did.
// Args: redis port, first number, count, events. Needs only phpredis.
declare(strict_types=1);

[, $port, $first, $count, $events] = array_map('intval', $argv);
$redis = new Redis();
$redis->connect('127.0.0.1', $port);
for ($i = $first; $i < $first + $count; $i++) {
    $key = 'event_reg_buffer:' . (1 + $i % $events);
    $redis->lPush($key, json_encode(['timestamp' => 1_700_000_000 + $i, 'registration_details' => ['i' => $i]]));
    $redis->expire($key, 3600);
}
