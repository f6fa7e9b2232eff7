<?php
// Books $argv[1] registrations of event $argv[2] with the capacity read from the file $argv[3] before each booking
// (so a test can change it under load), waitlist $argv[4] (1|0), unique keys $argv[5] (1|0: "w<worker>-<i>@x",
// each key booked twice), starting at Unix time $argv[6], pausing $argv[7] µs (default 0) between bookings. Prints one line per booking: registered | waitlisted |
// sold_out | duplicate | unknown, then its id.
declare(strict_types=1);

require __DIR__ . '/common.php';

[, $count, $event, $capacityFile, $waitlist, $unique, $start] = $argv;
$pause = (int) ($argv[7] ?? 0);
wait_until((float) $start);
$worker = getmypid();
$lines = [];
for ($i = 0; $i < (int) $count; $i++) {
    $seats = ['capacity' => (int) file_get_contents($capacityFile), 'waitlist' => $waitlist === '1'];
    $key = $unique === '1' ? sprintf('w%d-%d@example.org', $worker, intdiv($i, 2)) : null;
    try {
        $booking = reg_buffer_book((int) $event, ['worker' => $worker, 'i' => $i], $seats, $key);
        $lines[] = $booking['status'] . "\t" . ($booking['id'] ?? '');
    } catch (RegBuffer\SoldOutException $e) {
        $lines[] = "sold_out\t";
    } catch (RegBuffer\SeatsUnknownException $e) {
        $lines[] = "unknown\t";
    }
    if ($pause > 0) {
        usleep($pause);
    }
}
echo implode("\n", $lines), "\n";
