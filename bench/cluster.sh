#!/usr/bin/env bash
# The cluster row of the benchmark: reg_buffer's push throughput on one redis-server vs a 3-master Redis Cluster
# (and 3+3 with durability=replica:1), private servers on free ports. Appends its table to RESULTS.md (bench/ for a
# full run, bench/out/ for --quick) and its JSON lines to bench/out/results.jsonl. Called by bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out; mkdir -p "$OUT"
if [ "${1:-}" = --quick ]; then N=4000; PROCS=4; RUNS=1; DEST=$OUT/RESULTS.md; else N=20000; PROCS=8; RUNS=3; DEST=bench/RESULTS.md; fi
php bench/php/cluster_push.php "$N" "$PROCS" "$RUNS" > "$OUT/cluster.txt"
grep '^{' "$OUT/cluster.txt" >> "$OUT/results.jsonl"
sed -n '/^## Cluster row/,$p' "$OUT/cluster.txt" | tee -a "$DEST"
