#!/usr/bin/env bash
# A/B tool, run by hand (bench/README.md):
# flush variants side by side, interleaved in rounds, each drained from the
# same kind of backlog (N registrations of 5 fields, unique keys, 100 events, pushed by 8 processes), beside the
# physical limit (insert_limit_at.php N 1000) of the same round. Run inside bench/ab/site.sh:
#   bench/ab/site.sh bench/ab/flush.sh [N=10000] [ROUNDS=5] [VARIANT...]
# VARIANT: core:data | core:json | core:overlap (bench/flush.php modes) or plugin:DIR (bench/flush_wp.php with
# the plugin tree DIR active). Prints one JSON line per measurement, then per variant the median rate and the
# median of its per-round ratios to the limit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/bench
N=${1:-10000}; ROUNDS=${2:-5}; shift 2 || true
VARIANTS=("$@")
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=(core:data core:json core:overlap "plugin:$ROOT/wordpress-plugin/reg-buffer")
LOG=$(mktemp /tmp/flush_ab.XXXXXX.jsonl)
PHPX=${STACK_PHP:-php}
for round in $(seq 1 "$ROUNDS"); do
  line=$($PHPX "$BENCH/insert_limit_at.php" "$N" 1000 | tail -n 1)
  echo "{\"round\":$round,\"variant\":\"limit\",\"r\":$line}" | tee -a "$LOG"
  for v in "${VARIANTS[@]}"; do
    $PHPX "$BENCH/push.php" regbuf_unique "$N" "$REDIS_PORT" 8 100 "ab$round.$RANDOM" >/dev/null
    case $v in
      core:*) line=$($PHPX "$BENCH/flush.php" "$REDIS_PORT" "$N" 1000 "${v#core:}" | tail -n 1) ;;
      plugin:*) ln -sfn "${v#plugin:}" "$WP_PLUGIN_LINK"
        line=$($PHPX -d memory_limit=128M "$BENCH/flush_wp.php" "$N" 1000 | tail -n 1) ;;
    esac
    echo "{\"round\":$round,\"variant\":\"$v\",\"r\":$line}" | tee -a "$LOG"
  done
done
php -r '
$by = []; $cpu = [];
foreach (file($argv[1]) as $l) { $j = json_decode($l, true); $by[$j["round"]][$j["variant"]] = $j["r"]["rate"] ?? null; $cpu[$j["variant"]][] = $j["r"]["php_cpu_us"] ?? null; }
$med = function ($v) { $v = array_values(array_filter($v, fn ($x) => $x !== null)); sort($v); return $v ? $v[intdiv(count($v), 2)] : null; };
$names = array_keys(reset($by));
foreach ($names as $name) {
  $rates = array_column($by, $name); $ratios = [];
  foreach ($by as $r) if (isset($r[$name], $r["limit"])) $ratios[] = $r[$name] / $r["limit"];
  $c = $med($cpu[$name]);
  printf("%-50s %8.0f reg/s  %5.2fx limit  PHP CPU %s us/reg (medians of %d rounds)\n", $name, $med($rates), $med($ratios), $c === null ? "-" : sprintf("%.1f", $c), count($ratios));
}' "$LOG"
