<?php
// Helpers shared by the bench's PHP scripts: where the anchors are, percentiles, one JSON line out.

// The bench builds backlogs far past the extension's default cap (200,000): it measures them uncapped.
if (extension_loaded('reg_buffer')) {
  ini_set('reg_buffer.max_pending', '0');
}

function anchors_dir(): string {
  $d = getenv('BENCH_ANCHORS');
  return $d !== false && $d !== '' ? $d : dirname(__DIR__, 2) . '/shared/anchors';
}

/** p50/p99/p99.9 in microseconds of a list of nanosecond durations. */
function percentiles_us(array $ns): array {
  if (!$ns) return ['p50_us' => null, 'p99_us' => null, 'p999_us' => null];
  sort($ns); $c = count($ns);
  $at = fn(float $q) => $ns[min($c - 1, (int)floor($q * $c))] / 1000;
  return ['p50_us' => $at(0.50), 'p99_us' => $at(0.99), 'p999_us' => $at(0.999)];
}

/** One result line; BENCH_TAGS (a JSON object: section, cell, run) is merged in by run.sh. */
function emit(array $row): void {
  $tags = json_decode((string)getenv('BENCH_TAGS'), true);
  echo json_encode((is_array($tags) ? $tags : []) + $row, JSON_UNESCAPED_SLASHES), "\n";
}

/** The registrations table of insert_limit.php, under another name so that the two never share rows. */
function create_regs_table(mysqli $db, string $table): void {
  $db->query("DROP TABLE IF EXISTS $table");
  $db->query("CREATE TABLE $table (id bigint unsigned AUTO_INCREMENT PRIMARY KEY, registration_id varchar(40) NOT NULL, event_id bigint unsigned NOT NULL, unique_key varchar(191) NULL, registered_at datetime(3) NOT NULL, data longtext NOT NULL, stored_at datetime NOT NULL, UNIQUE KEY rid (registration_id), UNIQUE KEY ev_uk (event_id, unique_key), KEY event_id (event_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
}
