#!/usr/bin/env bash
# Fault and hostile-input suite (issue 5): real redis-server, real MariaDB, real PHP processes.
#   tests/faults/run.sh --short            a few minutes (./build.sh test)
#   tests/faults/run.sh --soak             longer: more kills, 1,000,000-registration backlog, valgrind leak check
#   tests/faults/run.sh --short s1 s6      only the named scenarios (s1..s14, or rust)
# Env: FAULTS_SEED (reproduce a run), FAULTS_PHP_ARGS (extra php options, e.g. "-d extension=/path/to.so").
# Prints a summary table and a final line "faults: N passed, M failed"; exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
HERE=$ROOT/tests/faults

MODE=short
case "${1:-}" in
  --short) MODE=short; shift ;;
  --soak) MODE=soak; shift ;;
  "") ;;
  -*) echo "usage: $0 [--short|--soak] [scenario...]" >&2; exit 2 ;;
esac
ONLY=("$@")

# shellcheck source=../lib/stack.sh
. "$ROOT/tests/lib/stack.sh"

php ${FAULTS_PHP_ARGS:-} -r 'exit(extension_loaded("reg_buffer") ? 0 : 1);' || { echo "reg_buffer is not loaded (./build.sh build)" >&2; exit 1; }

FAULTS_TMP=$(mktemp -d /tmp/reg_buffer_faults.XXXXXX)
FAULTS_DB=reg_buffer_faults_$$
FAULTS_SEED=${FAULTS_SEED:-$(( (RANDOM << 15) | RANDOM ))}
export FAULTS_TMP FAULTS_DB FAULTS_SEED FAULTS_MODE=$MODE

WP_HOST="" WP_DB="" WP_PLUGIN=""
cleanup() {
  local f pid
  set +e
  if [ -n "$WP_HOST" ]; then
    stack_redis_stop "$FAULTS_TMP/wp" 2>/dev/null
    stack_plugin_remove "$WP_PLUGIN"
    stack_wp_remove_config "$WP_HOST"
    stack_db_drop "$WP_DB" "$WP_DB" 2>/dev/null
  fi
  # Every redis-server the scenarios started writes its pidfile under FAULTS_TMP: kill exactly those.
  for f in "$FAULTS_TMP"/*/redis.pid "$FAULTS_TMP"/*/*/redis.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
  mysql -uroot -e "DROP DATABASE IF EXISTS \`$FAULTS_DB\`" 2>/dev/null || true
  rm -rf "$FAULTS_TMP"
}
trap cleanup EXIT

stack_mariadb_ensure
mysql -uroot -e "CREATE DATABASE \`$FAULTS_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"

echo "fault suite: mode=$MODE seed=$FAULTS_SEED tmp=$FAULTS_TMP db=$FAULTS_DB"
RESULTS=$FAULTS_TMP/results.jsonl
: > "$RESULTS"

# shellcheck disable=SC2086 # FAULTS_PHP_ARGS is a list of options on purpose.
run_php() { php ${FAULTS_PHP_ARGS:-} "$@"; }

want() {
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local s; for s in "${ONLY[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1
}

scenario() {
  local name=$1 file=$2 out rc=0
  want "$name" || return 0
  out=$FAULTS_TMP/$name.out
  printf '\n--> %s (%s)\n' "$name" "$file"
  run_php "$HERE/php/$file" > "$out" 2> >(tee "$FAULTS_TMP/$name.err" | tail -n 40 >&2) || rc=$?
  if grep -q '^RESULT ' "$out"; then
    grep '^RESULT ' "$out" | sed 's/^RESULT //' >> "$RESULTS"
  else
    printf '{"class":"%s (crashed, exit %d)","faults":0,"accepted":0,"stored":0,"lost":0,"doubled":0,"ok":false,"failed":["no result line"],"notes":[]}\n' \
      "$name" "$rc" >> "$RESULTS"
  fi
  grep -v '^RESULT ' "$out" || true
  if [ "$rc" -ne 0 ] && grep -q '^RESULT ' "$out"; then
    printf '{"class":"%s (exit %d)","faults":0,"accepted":0,"stored":0,"lost":0,"doubled":0,"ok":false,"failed":["non-zero exit"],"notes":[]}\n' \
      "$name" "$rc" >> "$RESULTS"
  fi
}

scenario s1 s1_flusher_kill.php
scenario s2 s2_redis_kill.php
scenario s3 s3_mysql_trouble.php
scenario s4 s4_concurrency.php
scenario s5 s5_capacity.php
scenario s6 s6_fuzz.php
scenario s7 s7_memory.php
scenario s8 s8_lost_reply_stall.php
scenario s11 s11_bad_arguments.php
scenario s12 s12_mariadb_down.php
scenario s14 s14_persistence_modes.php
if [ "$MODE" = soak ] || [ -n "${FAULTS_BACKLOG:-}" ]; then scenario s9 s9_backlog.php; fi

# The plugin's real flush path: a throw-away WordPress site (tests/lib/stack.sh) with the plugin active.
wp_site() {
  WP_HOST="rb-faults-$$.test" WP_DB="rb_faults_$$" WP_PLUGIN="reg-buffer-faults-$$"
  local pass; pass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  STACK_REDIS_ARGS="--appendfsync always" stack_redis_start "$FAULTS_TMP/wp"
  stack_db_create "$WP_DB" "$WP_DB" "$pass"
  stack_wp_config "$WP_HOST" "$WP_DB" "$WP_DB" "$pass" "define( 'REG_BUFFER_REDIS_URL', '$STACK_REDIS_URL' );
define( 'REG_BUFFER_KEY_PREFIX', 'rb-faults-$$:' );"
  stack_wp_install "$WP_HOST" "http://$WP_HOST" >/dev/null
  stack_plugin_install "$ROOT/wordpress-plugin/reg-buffer" "$WP_PLUGIN"
  E2E_PLUGIN=$WP_PLUGIN E2E_ADMIN_PASSWORD=$pass E2E_LEDGER=/dev/null stack_wp_php "$WP_HOST" "$ROOT/tests/e2e/php/setup-site.php" >/dev/null
}
if want s10 || want s13; then
  if [ -d "$ROOT/wordpress-plugin/reg-buffer" ] && wp_site 2> "$FAULTS_TMP/wp-setup.err"; then
    FAULTS_DB=$WP_DB STACK_WP_HOST=$WP_HOST STACK_WP_LOAD=$(stack_wp_loader) STACK_WP_ROOT=$STACK_WP_ROOT scenario s10 s10_plugin_flusher_kill.php
    FAULTS_DB=$WP_DB STACK_WP_HOST=$WP_HOST STACK_WP_LOAD=$(stack_wp_loader) STACK_WP_ROOT=$STACK_WP_ROOT scenario s13 s13_plugin_unique_keys.php
  else
    tail -n 20 "$FAULTS_TMP/wp-setup.err" >&2
    printf '{"class":"plugin flush path (site setup failed)","faults":0,"accepted":0,"stored":0,"lost":0,"doubled":0,"ok":false,"failed":["WordPress site setup"],"notes":[]}\n' >> "$RESULTS"
  fi
fi

# The codec's property tests (tests/codec_props.rs, seeded; cargo test runs them too): one row in the table.
if want rust; then
  printf '\n--> rust (cargo test --test codec_props)\n'
  cases=4000; [ "$MODE" = soak ] && cases=100000
  if CODEC_PROPS_SEED=$FAULTS_SEED CODEC_PROPS_CASES=$cases cargo test --release --quiet --test codec_props > "$FAULTS_TMP/rust.out" 2>&1; then ok=true; failed='[]'; else ok=false; failed='["cargo test --test codec_props"]'; tail -n 30 "$FAULTS_TMP/rust.out" >&2; fi
  printf '{"class":"codec property test (Rust: round trip, max_bytes, damaged bytes, int keys)","faults":%d,"accepted":%d,"stored":%d,"lost":0,"doubled":0,"ok":%s,"failed":%s,"notes":{"seed":%s,"cases":%d}}\n' \
    "$((cases * 3))" "$cases" "$cases" "$ok" "$failed" "$FAULTS_SEED" "$cases" >> "$RESULTS"
fi

printf '\n==================== fault suite summary (%s, seed %s) ====================\n' "$MODE" "$FAULTS_SEED"
php "$HERE/php/report.php" "$RESULTS"
