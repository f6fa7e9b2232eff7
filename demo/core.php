<?php
// The extension alone, without WordPress (./build.sh demo's fallback when demo/run.sh is missing): a burst of
// registrations with duplicates into reg_buffer, flushed and acked, summarised.
// Usage: php demo/core.php [registrations=20000] [events=100]; uses $REG_BUFFER_REDIS_URL or a private
// redis-server it starts and stops itself.
declare(strict_types=1);

use RegBuffer\Tests\Support\RedisServer;

if (!extension_loaded('reg_buffer')) {
    fwrite(STDERR, "reg_buffer is not loaded: run ./build.sh build first\n");
    exit(1);
}
$total = max(1, (int) ($argv[1] ?? 20000));
$events = max(1, (int) ($argv[2] ?? 100));

$server = null;
$url = getenv('REG_BUFFER_REDIS_URL');
if ($url === false || $url === '') {
    require dirname(__DIR__) . '/tests/php/support/RedisServer.php';
    $server = RedisServer::start();
    $url = $server->url();
}
ini_set('reg_buffer.redis_url', $url);
ini_set('reg_buffer.key_prefix', 'demo' . bin2hex(random_bytes(3)) . ':');
ini_set('reg_buffer.dedupe_ttl', '600'); // a configured Redis keeps the demo's dedupe markers 10 minutes, not 30 days
printf("reg_buffer %s demo: %d registrations over %d events, ~5%% duplicates, Redis %s%s\n",
    phpversion('reg_buffer'), $total, $events, preg_replace('#//[^@/]*@#', '//***@', $url), $server ? ' (private)' : '');

try {
    mt_srand(42);
    $accepted = $duplicates = 0;
    $started = microtime(true);
    for ($i = 0; $i < $total; $i++) {
        $event = 1 + $i % $events;
        // One push in twenty repeats an attendee already registered for the same event.
        $n = ($i >= $events && mt_rand(1, 20) === 1) ? mt_rand(0, intdiv($i, $events) - 1) : intdiv($i, $events);
        $id = reg_buffer_push($event, ['name' => "Attendee $n", 'email' => "attendee$n@example.com", 'tickets' => 1 + $n % 3, 'paid' => 12.5], "attendee$n@example.com");
        $id === false ? $duplicates++ : $accepted++;
    }
    $pushTime = microtime(true) - $started;

    $flushed = 0;
    $flushStarted = microtime(true);
    while (($batch = reg_buffer_flush(500))['rows'] !== []) {
        $flushed += reg_buffer_ack($batch['batch']);
    }
    $flushTime = microtime(true) - $flushStarted;
    $time = microtime(true) - $started;

    printf("accepted   %d\nduplicates %d\nflushed    %d\n", $accepted, $duplicates, $flushed);
    printf("push       %.2f s (%d/s)\nflush+ack  %.2f s (%d/s)\ntime       %.2f s, rate %d registrations/s end to end\n",
        $pushTime, $total / max($pushTime, 1e-9), $flushTime, $flushed / max($flushTime, 1e-9), $time, $total / max($time, 1e-9));
    $stats = reg_buffer_stats();
    $ok = $flushed === $accepted && $stats['pending'] === 0 && $stats['in_flight'] === 0;
    echo $ok ? "OK: every accepted registration was flushed once\n" : "FAILED: flushed $flushed of $accepted accepted\n";
} finally {
    $server?->stop();
}
exit($ok ? 0 : 1);
