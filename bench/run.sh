#!/usr/bin/env bash
# The benchmark: reg_buffer beside its anchors (../shared/anchors), in one run, on a private Redis and a throw-away
# MariaDB database; writes bench/RESULTS.md and bench/push.png. Scratch output: bench/out/ (git-ignored).
#   bench/run.sh          full run (each cell >= 5 times, the 1M backlog 3 times), within 15 minutes
#   bench/run.sh --quick  smoke run (small N, fewer runs, ~2 minutes): exits non-zero only when something is
#                         broken (a script fails, a count is wrong), never because a number is slow
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH=$ROOT/bench
OUT=$BENCH/out
export BENCH_ANCHORS=${BENCH_ANCHORS:-$(cd "$ROOT/.." && pwd)/shared/anchors}

QUICK=0
case "${1:-}" in
  --quick) QUICK=1 ;;
  "") ;;
  *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

# Sizes. The slow anchors (seed snippet, Predis, LPUSH+EXPIRE) run N/5 registrations and add_post_meta N/50:
# their rate is per registration, and a full run must fit in 15 minutes on a noisy 2-core machine.
# RUNS_BIG: runs of the 1M backlog; SEED_RUNS_BIG: runs of the seed's flush on backlogs >= 100k (it dies the same
# way every time). BUDGET: seconds after which the remaining expensive runs are skipped (and said so); the 1M
# backlog goes before the 100k one so that a loaded machine drops 100k or HTTP runs rather than the only 1M run.
if [ $QUICK = 1 ]; then
  RUNS=2; PUSH_N=5000; CONC_N=4000; CONC_PROCS="1 8"; BACKLOGS="10000"; RUNS_BIG=1; SEED_RUNS_BIG=1
  WRK_SECS=1; WRK_CONNS="1 16"; WRK_RUNS=1; GROWTH_N=2000; GROWTH_EVENTS="1 1000"; BUDGET=150
else
  RUNS=5; PUSH_N=50000; CONC_N=10000; CONC_PROCS="1 8 32"; BACKLOGS="10000 1000000 100000"; RUNS_BIG=2; SEED_RUNS_BIG=1
  WRK_SECS=2; WRK_CONNS="1 16 64"; WRK_RUNS=5; GROWTH_N=2000; GROWTH_EVENTS="1 1000 100000"; BUDGET=800
fi
T_START=$SECONDS
CELL_TIMEOUT=$((QUICK == 1 ? 120 : 420))   # no single measurement may hang the bench
# time_left SECONDS: true when that much of the budget is left for the rest of the sections.
time_left() { [ $((SECONDS - T_START + $1)) -le $BUDGET ]; }

step() { printf '\n==> [%ds] %s\n' "$((SECONDS - ${T_START:-0}))" "$*"; }

rm -rf "$OUT"; mkdir -p "$OUT"
RES=$OUT/results.jsonl; : > "$RES"
FAILED=()
. "$BENCH/lib.sh"
trap bench_cleanup EXIT
[ -f "$BENCH_ANCHORS/push_anchors.php" ] || { echo "the anchors are not at $BENCH_ANCHORS (set BENCH_ANCHORS)" >&2; exit 1; }

# record SECTION CELL RUN CMD...: runs one measurement, appends its JSON line (tagged) to results.jsonl.
record() {
  local section=$1 cell=$2 run=$3; shift 3
  local line rc=0
  line=$(BENCH_TAGS="{\"section\":\"$section\",\"cell\":\"$cell\",\"run\":$run}" timeout -k 10 "$CELL_TIMEOUT" "$@" 2>>"$OUT/stderr.log" | tail -n 1) || rc=$?
  if [ $rc -ne 0 ] || [ "${line:0:1}" != "{" ]; then
    printf '  ! %s/%s run %s failed (exit %s): %s\n' "$section" "$cell" "$run" "$rc" "${line:-no output, see bench/out/stderr.log}"
    FAILED+=("$section/$cell")
    printf '{"section":"%s","cell":"%s","run":%s,"error":"exit %s"}\n' "$section" "$cell" "$run" "$rc" >> "$RES"
    return 0
  fi
  echo "$line" >> "$RES"
  printf '  %s/%s #%s: %s\n' "$section" "$cell" "$run" \
    "$(php -r '$r = json_decode($argv[1], true); foreach (["rate","p50_us","p99_us","peak_mb","lost","rps","own_us"] as $k) if (isset($r[$k])) printf("%s=%.6g ", $k, $r[$k]);' "$line")"
}

# note KEY VALUE: a fact about this run for the report (machine, versions, what is missing).
note() { php -r 'echo json_encode(["section" => "meta", "key" => $argv[1], "value" => $argv[2]]), "\n";' "$1" "$2" >> "$RES"; }

HAVE_EXT=0; php -m | grep -x reg_buffer >/dev/null && HAVE_EXT=1
HAVE_PREDIS=0; [ -f /usr/share/php/Predis/Autoloader.php ] && HAVE_PREDIS=1

step "machine and stack"
note mode "$([ $QUICK = 1 ] && echo quick || echo full)"
note started "$(date -u '+%Y-%m-%d %H:%M UTC')"
note machine "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average at start $(cut -d' ' -f1-3 /proc/loadavg), $(awk '/MemTotal/{printf "%.0f", $2 / 1048576}' /proc/meminfo) GB RAM"
note versions "PHP $(php -r 'echo PHP_VERSION;'), reg_buffer $( [ $HAVE_EXT = 1 ] && php -r '$f = ini_get("extension_dir") . "/reg_buffer.so"; echo phpversion("reg_buffer"), " (.so of ", gmdate("Y-m-d H:i", (int)@filemtime($f)), " UTC)";' || echo 'not loaded'), phpredis $(php -r 'echo phpversion("redis");'), Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-), MariaDB $(mysql -V | grep -o '[0-9.]*-MariaDB' | head -1), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock wordpress-plugin 2>/dev/null || echo ' with uncommitted changes in src/ or the plugin (the working tree was built)')"
start_redis
start_db
echo "redis-server on 127.0.0.1:$REDIS_PORT, database $BENCH_DB, anchors in $BENCH_ANCHORS"
. "$BENCH/http.sh"
step "WordPress site (plugin $([ $HAVE_PLUGIN = 1 ] && echo present || echo 'not there yet'))"
wp_setup || { echo "  ! WordPress site setup failed: see bench/out/stderr.log"; FAILED+=("wordpress"); }
FLUSH_PATH=faithful
if [ $HAVE_EXT = 1 ] && [ $HAVE_PLUGIN = 1 ] && [ $WP_READY = 1 ]; then
  FLUSH_PATH=plugin
  note flush_path "the plugin's real insert path, Reg_Buffer_Flusher::run() (claim -> Reg_Buffer_Store's one INSERT a batch, in autocommit unless reg_buffer_before_commit has listeners -> ack, flush lock held; while MariaDB inserts one batch the flusher acks the one before and claims the next), WordPress loaded, memory_limit=128M (\`bench/flush_wp.php\`); peak memory includes WordPress's own"
fi
[ $HAVE_EXT = 1 ] || { echo "reg_buffer is not loaded (php -m): its cells are 'not yet'"; note missing "reg_buffer extension not loaded"; }

PUSH_MODES="regbuf regbuf_unique regbuf_book seed pconnect_expire pconnect symfony_xadd laravel_evalsha sidekiq_multi"
[ $HAVE_EXT = 1 ] || PUSH_MODES="seed pconnect_expire pconnect"
[ $HAVE_PREDIS = 1 ] && PUSH_MODES="$PUSH_MODES predis"

step "1. push, one process, $PUSH_N registrations of 5 fields ($RUNS runs, cells interleaved)"
for run in $(seq 1 $RUNS); do
  for m in $PUSH_MODES; do
    n=$PUSH_N; case $m in seed|predis|pconnect_expire) n=$((PUSH_N / 5)) ;; esac
    record push "$m" "$run" php "$BENCH/push.php" "$m" "$n" "$REDIS_PORT" 1 10 "r$run"
  done
  record push mysql "$run" php "$BENCH/push.php" mysql $((PUSH_N / 50)) "$REDIS_PORT" 1 10 "r$run"
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  record push redis_benchmark "$run" php "$BENCH/redis_benchmark.php" $((PUSH_N / 5)) "$REDIS_PORT"
done
if [ $QUICK = 1 ] && [ $HAVE_EXT = 1 ]; then
  step "the A/B tool (bench/ab/push.sh), the installed build on both sides: so it never rots"
  AB_SO="$(php -r 'echo ini_get("extension_dir");')/reg_buffer.so"
  if "$BENCH/ab/push.sh" "$AB_SO" "$AB_SO" "$REDIS_PORT" 1 500 > "$OUT/ab_push.txt" 2>> "$OUT/stderr.log" \
    && grep -q '^regbuf_unique *new: x LPUSH alone' "$OUT/ab_push.txt"; then
    sed 's/^/  /' "$OUT/ab_push.txt"
  else
    echo "  ! bench/ab/push.sh failed: see bench/out/stderr.log"; FAILED+=("ab/push.sh")
  fi
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
fi

step "2. push under concurrency: $CONC_PROCS processes, $CONC_N registrations in all; a rush: 32 processes book 10x the capacity of one event"
CONC_MODES="pconnect symfony_xadd laravel_evalsha"; [ $HAVE_EXT = 1 ] && CONC_MODES="regbuf $CONC_MODES"
for run in $(seq 1 $RUNS); do
  for p in $CONC_PROCS; do
    for m in $CONC_MODES; do record conc "$m@$p" "$run" php "$BENCH/push.php" "$m" "$CONC_N" "$REDIS_PORT" "$p" 10 "c$run"; done
  done
  # the cell fails unless exactly a tenth of the bookings got a seat
  if [ $HAVE_EXT = 1 ]; then record conc "regbuf_rush@32" "$run" php "$BENCH/push.php" regbuf_rush "$CONC_N" "$REDIS_PORT" 32 1 "c$run"; fi
done

step "3. flush into MariaDB: backlogs $BACKLOGS ($FLUSH_PATH path)"
[ $HAVE_EXT = 1 ] || note missing "flush cells of reg_buffer (extension not loaded)"
for b in $BACKLOGS; do
  runs=$RUNS; [ "$b" -ge 1000000 ] && runs=$RUNS_BIG
  # a 1M run takes ~2.5 minutes here, and growth + HTTP + the report ~4 more after it
  need=20; [ "$b" -ge 100000 ] && need=60; [ "$b" -ge 1000000 ] && need=400
  for run in $(seq 1 "$runs"); do
    if ! time_left $need; then note skipped "flush of $b: runs $run..$runs skipped to keep the bench within its time budget"; break; fi
    if [ $HAVE_EXT = 1 ]; then
      # the growth cell's anchor: the same push on an empty buffer, just before the backlog is filled
      record growth_backlog "empty:$b" "$run" php "$BENCH/push.php" regbuf_unique "$GROWTH_N" "$REDIS_PORT" 1 100 "z$b.$run"
      # the backlog: $b registrations with unique keys over 100 events, pushed by 8 processes
      record fill "$b" "$run" php "$BENCH/push.php" regbuf_unique "$b" "$REDIS_PORT" 8 100 "f$b.$run"
      # push cost on top of that backlog (growth), then flush all of it
      BENCH_KEEP=1 record growth_backlog "$b" "$run" php "$BENCH/push.php" regbuf_unique "$GROWTH_N" "$REDIS_PORT" 1 100 "g$b.$run"
      if [ $FLUSH_PATH = plugin ]; then
        record flush "regbuf@$b" "$run" env STACK_WP_HOST="$WP_HOST" STACK_WP_LOAD="$(stack_wp_loader)" STACK_WP_ROOT="$STACK_WP_ROOT" \
          php -d memory_limit=128M "$BENCH/flush_wp.php" $((b + GROWTH_N)) 1000
      else
        record flush "regbuf@$b" "$run" php "$BENCH/flush.php" "$REDIS_PORT" $((b + GROWTH_N)) 1000
      fi
      # the extension alone under the same loop without WordPress (bench/flush.php, rows without data as the plugin
      # claims them), to tell its cost from the plugin's; and that loop with the INSERT overlapped with claim and ack
      if [ $FLUSH_PATH = plugin ] && [ "$b" -le 10000 ]; then
        record fill "core:$b" "$run" php "$BENCH/push.php" regbuf_unique "$b" "$REDIS_PORT" 8 100 "k$b.$run"
        record flush "core@$b" "$run" php "$BENCH/flush.php" "$REDIS_PORT" "$b" 1000 json
        record fill "overlap:$b" "$run" php "$BENCH/push.php" regbuf_unique "$b" "$REDIS_PORT" 8 100 "o$b.$run"
        record flush "overlap@$b" "$run" php "$BENCH/flush.php" "$REDIS_PORT" "$b" 1000 overlap
      fi
    fi
    # the physical limit: the anchor as shipped (3 batch sizes) on the first run and for 10k; its 1,000-row loop after
    if [ "$run" = 1 ] && [ "$b" -le 100000 ] || [ "$b" -lt 100000 ]; then
      record flush "limit@$b" "$run" php "$BENCH/insert_limit.php" "$b"
    else
      record flush "limit@$b" "$run" php "$BENCH/insert_limit_at.php" "$b" 1000
    fi
    if [ "$b" -lt 100000 ] || [ "$run" -le $SEED_RUNS_BIG ]; then
      record flush "seed@$b" "$run" php "$BENCH/flush_seed.php" "$b" "$REDIS_PORT"
    fi
  done
done

step "6. cost growth: push vs number of events ($GROWTH_EVENTS)"
if [ $HAVE_EXT = 1 ]; then
  for run in $(seq 1 $RUNS); do
    time_left 60 || { note skipped "growth by events: runs $run..$RUNS skipped for time"; break; }
    for e in $GROWTH_EVENTS; do record growth_events "$e" "$run" php "$BENCH/push.php" regbuf_unique "$GROWTH_N" "$REDIS_PORT" 1 "$e" "e$e.$run"; done
  done
fi

step "5. HTTP: nginx + php-fpm + wrk ($WRK_CONNS connections, ${WRK_SECS}s a cell)"
http_section || { echo "  ! HTTP section failed"; FAILED+=("http"); }

step "report"
note finished "$(date -u '+%Y-%m-%d %H:%M UTC')"
php "$BENCH/report.php" "$RES" "$BENCH" $QUICK
# the cluster row: push on one node vs a 3-master Redis Cluster, appended to RESULTS.md (bench/cluster.sh)
"$BENCH/cluster.sh" $([ $QUICK = 1 ] && echo --quick) || FAILED+=("cluster")
# the raw measurements beside the report they made (full runs only, like RESULTS.md)
[ $QUICK = 1 ] || cp "$RES" "$BENCH/RESULTS.jsonl"
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "bench: broken cells: ${FAILED[*]}" >&2
  exit 1
fi
echo "bench: all cells ran; see bench/$([ $QUICK = 1 ] && echo out/)RESULTS.md"
