#!/usr/bin/env bash
# A/B tool, run by hand (bench/README.md):
# the Redis time per registration of claim and ack, two builds of the extension
# in interleaved rounds (this machine's speed drifts within minutes, so only same-round comparisons hold), each
# round one claim_ack_cost.php pass (extension part only) per build; prints each round and the medians.
# usage: bench/ab/claim_ack.sh REDIS_PORT BASE.so NEW.so [ROUNDS=7] [N=10000] [BATCH=1000]
#   (a private redis-server: it FLUSHALLs; the .so files are loaded without installing them)
set -euo pipefail
port=$1 base=$2 new=$3 rounds=${4:-7} n=${5:-10000} batch=${6:-1000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for build in base new; do
  mkdir -p "$tmp/$build"
  cp /etc/php/8.2/cli/conf.d/*.ini "$tmp/$build/"
  rm -f "$tmp/$build/"*reg_buffer*
done
echo "extension=$(realpath "$base")" >"$tmp/base/99-reg_buffer.ini"
echo "extension=$(realpath "$new")" >"$tmp/new/99-reg_buffer.ini"
for ((r = 1; r <= rounds; r++)); do
  # Alternate which build goes first, so a drift within a round does not favour one.
  order="base new"; ((r % 2 == 0)) && order="new base"
  for build in $order; do
    PHP_INI_SCAN_DIR="$tmp/$build" php "$here/claim_ack_cost.php" "$port" "$n" "$batch" 1 extension \
      | php -r '$j = json_decode(stream_get_contents(STDIN), true);
                printf("%s %s claim_wall=%.2f claim_redis=%.2f ack_wall=%.2f ack_redis=%.2f %s | %s\n", $argv[1], $argv[2],
                  $j["claim_wall"], $j["claim_redis"], $j["ack_wall"], $j["ack_redis"],
                  json_encode($j["claim_redis_by_command"]), json_encode($j["ack_redis_by_command"]));' "$r" "$build"
  done
done | tee "$tmp/rounds.txt"
php -r '
$rows = [];
foreach (file($argv[1]) as $line) {
  if (!preg_match("/^\d+ (\w+) claim_wall=([\d.]+) claim_redis=([\d.]+) ack_wall=([\d.]+) ack_redis=([\d.]+)/", $line, $m)) continue;
  foreach (["claim_wall" => 2, "claim_redis" => 3, "ack_wall" => 4, "ack_redis" => 5] as $k => $i) $rows[$m[1]][$k][] = (float) $m[$i];
}
$median = function (array $v) { sort($v); $n = count($v); return $n % 2 ? $v[intdiv($n, 2)] : ($v[$n / 2 - 1] + $v[$n / 2]) / 2; };
echo "medians (us per registration):\n";
foreach ($rows as $build => $cols) {
  printf("  %-4s", $build);
  foreach ($cols as $k => $v) printf("  %s %.2f", $k, $median($v));
  echo "\n";
}
' "$tmp/rounds.txt"
