#!/usr/bin/env bash
# The main job end to end: a burst of event registrations through the WordPress plugin into Redis, one flush
# into MySQL, and a summary. Runs on a throw-away WordPress database and (unless REG_BUFFER_REDIS_URL is set)
# a private redis-server; removes both afterwards.
#
#   demo/run.sh [TOTAL] [WORKERS]     defaults: 20000 registrations, 2 concurrent workers, 100 events,
#                                     one in 20 a second registration by the same attendee (a duplicate);
#                                     event 2 has TOTAL/400 seats (a quarter of its share): the rest is sold out
#   DEMO_PLUGIN_SRC=DIR demo/run.sh   the plugin copied from DIR (e.g. one WP-CLI installed from the zip)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/lib/stack.sh
. "$ROOT/tests/lib/stack.sh"
DEMO_PHP="$ROOT/demo/php"

TOTAL=${1:-20000}
WORKERS=${2:-2}
DUP_EVERY=20
export DEMO_EVENT=2 DEMO_CAPACITY=$(( TOTAL / 400 > 0 ? TOTAL / 400 : 1 ))

ID=$$
WORK=$(mktemp -d /tmp/reg-buffer-demo.XXXXXX)
HOST="rb-demo-$ID.test"
DB="rb_demo_$ID"
DB_USER="rb_demo_$ID"
DB_PASS=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export DEMO_PLUGIN="reg-buffer-demo-$ID"
OWN_REDIS=

cleanup() {
  set +e
  if [ -n "$OWN_REDIS" ]; then
    stack_redis_stop "$WORK"
  elif [ -n "${REG_BUFFER_REDIS_URL:-}" ]; then
    # Someone else's Redis: remove only this demo's keys (dedupe digests and counters outlive the flush).
    redis-cli -u "$REG_BUFFER_REDIS_URL" --scan --pattern "rb-demo-$ID:*" 2>/dev/null \
      | xargs -r -n 500 redis-cli -u "$REG_BUFFER_REDIS_URL" del >/dev/null 2>&1
  fi
  stack_plugin_remove "$DEMO_PLUGIN"
  stack_wp_remove_config "$HOST"
  stack_db_drop "$DB" "$DB_USER"
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
field() { php -r '$j = json_decode($argv[1], true); echo $j[$argv[2]] ?? "";' "$1" "$2"; }

step "stack: MariaDB database $DB, WordPress for $HOST"
php -m | grep -x reg_buffer >/dev/null || echo "note: the reg_buffer extension is not loaded: the plugin will write directly to MySQL"
stack_mariadb_ensure
if [ -z "${REG_BUFFER_REDIS_URL:-}" ]; then
  OWN_REDIS=1
  # The demo's buffer needs no persistence.
  STACK_REDIS_ARGS="--appendonly no" stack_redis_start "$WORK"
  REDIS_URL=$STACK_REDIS_URL
else
  REDIS_URL=$REG_BUFFER_REDIS_URL
  echo "using Redis at REG_BUFFER_REDIS_URL (keys under rb-demo-$ID:)"
fi
stack_db_create "$DB" "$DB_USER" "$DB_PASS"
stack_wp_config "$HOST" "$DB" "$DB_USER" "$DB_PASS" "define( 'REG_BUFFER_REDIS_URL', '$REDIS_URL' );
define( 'REG_BUFFER_KEY_PREFIX', 'rb-demo-$ID:' );"
stack_plugin_install "${DEMO_PLUGIN_SRC:-$ROOT/wordpress-plugin/reg-buffer}" "$DEMO_PLUGIN"
stack_wp_install "$HOST" "http://$HOST"
stack_wp_php "$HOST" "$DEMO_PHP/activate.php"

step "burst: $TOTAL registrations over 100 events from $WORKERS concurrent workers (1 in $DUP_EVERY a duplicate)"
burst_started=$(date +%s.%N)
pids=()
for ((w = 0; w < WORKERS; w++)); do
  stack_wp_php "$HOST" "$DEMO_PHP/burst.php" "$w" "$WORKERS" "$TOTAL" "$DUP_EVERY" > "$WORK/burst-$w.json" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
burst_seconds=$(php -r "printf('%.3f', microtime(true) - $burst_started);")
accepted=0 duplicates=0 sold_out=0 failed=0 buffered=0 direct=0
for ((w = 0; w < WORKERS; w++)); do
  j=$(cat "$WORK/burst-$w.json")
  accepted=$((accepted + $(field "$j" accepted)))
  duplicates=$((duplicates + $(field "$j" duplicates)))
  sold_out=$((sold_out + $(field "$j" sold_out)))
  failed=$((failed + $(field "$j" failed)))
  buffered=$((buffered + $(field "$j" buffered)))
  direct=$((direct + $(field "$j" stored)))
done
echo "accepted $accepted (buffered $buffered, written directly $direct), duplicates $duplicates, sold out $sold_out, failed $failed in ${burst_seconds}s"

step "flush: Redis -> MySQL (the job WP-Cron runs every minute)"
flush=$(stack_wp_php "$HOST" "$DEMO_PHP/flush.php")
echo "$flush"
flush_seconds=$(field "$flush" seconds)
stored=$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_registrations")
distinct=$(stack_sql "$DB" "SELECT COUNT(DISTINCT event_id, unique_key) FROM wp_reg_buffer_registrations")
seated=$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_registrations WHERE event_id = $DEMO_EVENT AND status = 'registered'")

step "summary"
php -r '
[$_, $total, $accepted, $dups, $failed, $stored, $distinct, $burst, $flush, $batches, $pending, $soldOut, $event, $capacity, $seated] = $argv;
printf("%-34s %s\n", "registrations submitted", $total);
printf("%-34s %s\n", "accepted", $accepted);
printf("%-34s %s\n", "duplicates refused", $dups);
printf("%-34s %s (event %s: %s seats, %s rows registered)\n", "sold out", $soldOut, $event, $capacity, $seated);
printf("%-34s %s\n", "failed", $failed);
printf("%-34s %s (%s distinct attendees)\n", "rows stored in MySQL", $stored, $distinct);
printf("%-34s %s\n", "left in Redis", $pending === "" ? "n/a" : $pending);
printf("%-34s %.2f s  (%.0f registrations/s)\n", "burst through the plugin", $burst, $total / max($burst, 1e-6));
printf("%-34s %.2f s  (%.0f rows/s, %s batches)\n", "flush into MySQL", $flush, $stored / max($flush, 1e-6), $batches);
' "$TOTAL" "$accepted" "$duplicates" "$failed" "$stored" "$distinct" "$burst_seconds" "$flush_seconds" \
  "$(field "$flush" batches)" "$(field "$flush" pending)" "$sold_out" "$DEMO_EVENT" "$DEMO_CAPACITY" "$seated"

ok=1
[ "$failed" -eq 0 ] || { echo "MISMATCH: $failed registrations failed" >&2; ok=0; }
[ "$stored" -eq "$accepted" ] || { echo "MISMATCH: stored $stored != accepted $accepted" >&2; ok=0; }
[ "$stored" -eq "$distinct" ] || { echo "MISMATCH: an attendee is stored twice" >&2; ok=0; }
[ $((accepted + duplicates + sold_out)) -eq "$TOTAL" ] || { echo "MISMATCH: accepted + duplicates + sold out != submitted" >&2; ok=0; }
[ "$seated" -eq "$DEMO_CAPACITY" ] || { echo "MISMATCH: event $DEMO_EVENT has $seated registered rows for $DEMO_CAPACITY seats" >&2; ok=0; }
if [ "$ok" -eq 1 ]; then echo "demo: OK — every accepted registration stored exactly once, event $DEMO_EVENT exactly at its capacity"; else exit 1; fi
