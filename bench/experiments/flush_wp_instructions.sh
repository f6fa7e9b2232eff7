#!/usr/bin/env bash
# Side experiment (not run by run.sh): instructions (callgrind) the plugin's flush process executes per
# registration — noise-free where the wall-clock rates of this shared machine are not. For each plugin tree: the
# flush of an N backlog (bench/flush_wp.php) less the same process with nothing to flush (WordPress' boot).
# Counts the PHP process only (not Redis, not MariaDB). Run inside bench/experiments/wp_site.sh:
#   bench/experiments/wp_site.sh bench/experiments/flush_wp_instructions.sh [N=5000] PLUGIN_DIR...
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/bench
N=${1:-5000}; shift
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
for dir in "$@"; do
  ln -sfn "$dir" "$WP_PLUGIN_LINK"
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  empty=$(ir php -d memory_limit=128M "$BENCH/flush_wp.php" 0 1000)
  php "$BENCH/push.php" regbuf_unique "$N" "$REDIS_PORT" 8 100 "ir.$RANDOM" >/dev/null
  full=$(ir php -d memory_limit=128M "$BENCH/flush_wp.php" "$N" 1000)
  printf '%-50s %8.0f instructions per registration (%s - %s over %s)\n' "$dir" "$(( (full - empty) / N ))" "$full" "$empty" "$N"
done
