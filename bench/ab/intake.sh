#!/usr/bin/env bash
# A/B tool, run by hand (bench/README.md):
# the fast intake against the bare php-fpm endpoint (one phpredis pconnect +
# LPUSH), interleaved in rounds at the same wrk load, with the CPU each kind of process spent per request (nginx,
# php-fpm, redis-server, and the whole machine, wrk included). Variants are plugin trees, each copied into the site
# under its own name, so that two intakes can be compared side by side. Run inside bench/ab/site.sh:
#   bench/ab/site.sh bench/ab/intake.sh [CONNS=64] [SECS=5] [ROUNDS=5] [PLUGIN_DIR...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/bench
CONNS=${1:-64}; SECS=${2:-5}; ROUNDS=${3:-5}; shift 3 || true
DIRS=("$@"); [ ${#DIRS[@]} -gt 0 ] || DIRS=("$ROOT/wordpress-plugin/reg-buffer")
. "$BENCH/lib.sh"
W=$(mktemp -d /tmp/intake_ab.XXXXXX)
LOG=$W/log.jsonl
CONTENT=${STACK_WP_CONTENT:-/var/lib/wordpress/wp-content}
names=()
cleanup() { for n in "${names[@]}"; do rm -rf "${CONTENT:?}/plugins/$n"; done; bench_cleanup; }
trap cleanup EXIT
i=0
for d in "${DIRS[@]}"; do i=$((i + 1)); names+=("rb-intake-ab-$$-$i"); cp -r "$d" "$CONTENT/plugins/rb-intake-ab-$$-$i"; done
sed "s/@REDIS_PORT@/$REDIS_PORT/" "$BENCH/http/bare.php.in" > "$W/bare.php"
start_web "$W" 8
CONFIG=$(php "$BENCH/http/intake_setup.php" | tail -n 1 | php -r 'echo json_decode(stream_get_contents(STDIN), true)["config"];')
threads=1; [ "$CONNS" -gt 1 ] && threads=2
cell() { # NAME PATH [TOKENS]
  web_drain
  local a b r
  a=$(php "$ROOT/bench/ab/cpu_snapshot.php" "$REDIS_PORT")
  r=$(BENCH_TOKENS="${3:-}" BENCH_TAG="$1.$round.$$" php "$BENCH/http/wrk.php" "$threads" "$CONNS" "$SECS" "http://127.0.0.1:$HTTP_PORT$2" "$STACK_WP_HOST" | tail -n 1)
  b=$(php "$ROOT/bench/ab/cpu_snapshot.php" "$REDIS_PORT")
  php -r '$a = json_decode($argv[1], true); $b = json_decode($argv[2], true); $r = json_decode($argv[3], true);
    $n = max(1, $r["requests"] ?? 1); $cpu = [];
    foreach ($b as $k => $v) $cpu[$k] = round(($v - $a[$k]) / $n, 1);
    echo json_encode(["round" => (int) $argv[4], "variant" => $argv[5], "r" => $r, "cpu_us" => $cpu]), "\n";' "$a" "$b" "$r" "$round" "$1" | tee -a "$LOG"
}
for round in $(seq 1 "$ROUNDS"); do
  cell bare /bench-bare.php
  for n in "${names[@]}"; do
    php "$BENCH/http/tokens.php" "$CONFIG" "$CONTENT/plugins/$n/includes/intake/class-reg-buffer-form-token.php" 7 $((SECS * 20000)) "$W/tokens.txt"
    cell "$n" "/wp-content/plugins/$n/intake.php?event=7" "$W/tokens.txt"
  done
done
php -r '
$by = []; $cpu = [];
foreach (file($argv[1]) as $l) { $j = json_decode($l, true); $by[$j["round"]][$j["variant"]] = $j["r"]; $cpu[$j["variant"]][] = $j["cpu_us"]; }
$med = function ($v) { $v = array_values(array_filter($v, fn ($x) => $x !== null)); sort($v); return $v ? $v[intdiv(count($v), 2)] : null; };
foreach (array_keys(reset($by)) as $name) {
  $ratios = []; foreach ($by as $r) if (isset($r[$name]["rps"], $r["bare"]["rps"])) $ratios[] = $r[$name]["rps"] / $r["bare"]["rps"];
  $c = []; foreach (["nginx", "php-fpm", "redis", "machine"] as $k) $c[] = $k . " " . $med(array_column($cpu[$name], $k));
  printf("%-24s %7.0f req/s  %5.2fx bare  p50 %5.2f ms  p99 %5.2f ms  errors %d  CPU us/req: %s\n", $name, $med(array_column(array_column($by, $name), "rps")),
    $med($ratios), $med(array_column(array_column($by, $name), "p50_ms")), $med(array_column(array_column($by, $name), "p99_ms")),
    array_sum(array_column(array_column($by, $name), "errors")), implode(", ", $c));
}' "$LOG"
