#!/usr/bin/env bash
# Fault and hostile-input suite (issue 5): real redis-server, real MariaDB, real PHP processes.
#   tests/faults/run.sh --short            a few minutes (./build.sh test)
#   tests/faults/run.sh --soak             longer: more kills, 1,000,000-registration backlog, valgrind leak check
#   tests/faults/run.sh --short flusher_killed registration_fuzz   only the named scenarios (file names in php/, or
#                                          rust; the old numbers s1..s16 still work)
# Env: FAULTS_SEED (reproduce a run), FAULTS_PHP_ARGS (extra php options, e.g. "-d extension=/path/to.so"),
#      FAULTS_PLUGIN_SRC (a plugin tree to test instead of wordpress-plugin/reg-buffer, e.g. a patched copy).
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
ONLY=()
# The scenarios were numbered s1..s16 before they were named by what they attack; the numbers still select them.
for s in "$@"; do
  case "$s" in
    s1) ONLY+=(flusher_killed) ;; s2) ONLY+=(redis_killed) ;; s3) ONLY+=(mariadb_errors_mid_flush) ;;
    s4) ONLY+=(concurrent_flushers) ;; s5) ONLY+=(buffer_full) ;; s6) ONLY+=(registration_fuzz) ;;
    s7) ONLY+=(memory_growth) ;; s8) ONLY+=(lost_replies_and_stalls) ;; s9) ONLY+=(million_backlog) ;;
    s10) ONLY+=(plugin_flusher_killed) ;; s11) ONLY+=(bad_arguments) ;; s12) ONLY+=(mariadb_down) ;;
    s13) ONLY+=(plugin_unique_keys) ;; s14) ONLY+=(redis_persistence_modes plugin_redis_data_loss) ;;
    s15) ONLY+=(rest_hostile_input) ;; s16) ONLY+=(intake_abuse) ;;
    *) [ -f "$HERE/php/$s.php" ] || [ "$s" = rust ] || { echo "unknown scenario: $s (see tests/faults/php/)" >&2; exit 2; }
       ONLY+=("$s") ;;
  esac
done

# shellcheck source=../lib/stack.sh
. "$ROOT/tests/lib/stack.sh"

php ${FAULTS_PHP_ARGS:-} -r 'exit(extension_loaded("reg_buffer") ? 0 : 1);' || { echo "reg_buffer is not loaded (./build.sh build)" >&2; exit 1; }

FAULTS_TMP=$(mktemp -d /tmp/reg_buffer_faults.XXXXXX)
FAULTS_DB=reg_buffer_faults_$$
FAULTS_SEED=${FAULTS_SEED:-$(( (RANDOM << 15) | RANDOM ))}
export FAULTS_TMP FAULTS_DB FAULTS_SEED FAULTS_MODE=$MODE

WP_SITES=() WP_HOSTS=() WP_LINKS=() WP_PLUGIN="reg-buffer-faults-$$" WP_PLUGIN_INSTALLED=""
cleanup() {
  local f pid s h
  set +e
  for s in "${WP_SITES[@]}"; do
    stack_web_stop "$FAULTS_TMP/wp-$s" 2>/dev/null
    stack_redis_stop "$FAULTS_TMP/wp-$s" 2>/dev/null
    stack_db_drop "rb_faults_${s}_$$" "rb_faults_${s}_$$" 2>/dev/null
  done
  for h in "${WP_HOSTS[@]}"; do stack_wp_remove_config "$h"; done
  for h in "${WP_LINKS[@]}"; do rm -f "$h"; done
  if [ -n "$WP_PLUGIN_INSTALLED" ]; then
    stack_plugin_remove "$WP_PLUGIN"
    stack_plugin_remove "$WP_PLUGIN-canary"
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

# scenario NAME: runs php/NAME.php and collects its RESULT lines.
scenario() {
  local name=$1 out rc=0
  want "$name" || return 0
  out=$FAULTS_TMP/$name.out
  printf '\n--> %s\n' "$name"
  run_php "$HERE/php/$name.php" > "$out" 2> >(tee "$FAULTS_TMP/$name.err" | tail -n 40 >&2) || rc=$?
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

scenario flusher_killed
scenario redis_killed
scenario mariadb_errors_mid_flush
scenario concurrent_flushers
scenario buffer_full
scenario registration_fuzz
scenario memory_growth
scenario lost_replies_and_stalls
scenario bad_arguments
scenario mariadb_down
scenario redis_persistence_modes
if [ "$MODE" = soak ] || [ -n "${FAULTS_BACKLOG:-}" ]; then scenario million_backlog; fi

# Through the plugin: throw-away WordPress sites (tests/lib/stack.sh), each with its own redis-server and database,
# the plugin active. wp_site NAME REDIS_ARGS: host rb-faults-NAME-PID.test, files under FAULTS_TMP/wp-NAME.
wp_site() {
  local name=$1 redis_args=$2 dir="$FAULTS_TMP/wp-$1" db="rb_faults_$1_$$" pass
  pass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  WP_SITES+=("$name")
  STACK_REDIS_ARGS="$redis_args" stack_redis_start "$dir"
  stack_db_create "$db" "$db" "$pass"
  printf '%s\n' "$pass" > "$dir/db-password"
  wp_site_host "$name" "$(wp_host "$name")" ""
  stack_wp_install "$(wp_host "$name")" "http://$(wp_host "$name")" >/dev/null
  if [ -z "$WP_PLUGIN_INSTALLED" ]; then
    WP_PLUGIN_INSTALLED=1
    stack_plugin_install "${FAULTS_PLUGIN_SRC:-$ROOT/wordpress-plugin/reg-buffer}" "$WP_PLUGIN"
  fi
  E2E_PLUGIN=$WP_PLUGIN E2E_ADMIN_PASSWORD=$pass E2E_LEDGER=/dev/null \
    stack_wp_php "$(wp_host "$name")" "$ROOT/tests/e2e/php/setup-site.php" > "$dir/app-password"
}
wp_host() { echo "rb-faults-$1-$$.test"; }
# wp_site_host NAME HOST EXTRA_PHP: a wp-config for HOST on site NAME's database and Redis (another host name is the
# same site with other constants, e.g. a public REST route with a rate limit).
wp_site_host() {
  local name=$1 host=$2 extra=$3 dir="$FAULTS_TMP/wp-$1" db="rb_faults_$1_$$"
  WP_HOSTS+=("$host")
  stack_wp_config "$host" "$db" "$db" "$(cat "$dir/db-password")" "define( 'REG_BUFFER_REDIS_URL', 'redis://127.0.0.1:$(cat "$dir/redis/port")' );
define( 'REG_BUFFER_KEY_PREFIX', 'rb-faults-$name-$$:' );
$extra"
}
# Runs a scenario with WordPress site NAME loaded by its PHP helpers (FAULTS_DB = the site's database).
wp_scenario() {
  local name=$1; shift
  FAULTS_DB="rb_faults_${name}_$$" STACK_WP_HOST=$(wp_host "$name") STACK_WP_LOAD=$(stack_wp_loader) STACK_WP_ROOT=$STACK_WP_ROOT \
    FAULTS_WP_REDIS_DIR="$FAULTS_TMP/wp-$name/redis" scenario "$@"
}
wp_failed() {
  tail -n 20 "$FAULTS_TMP/wp-setup.err" >&2
  printf '{"class":"%s (site setup failed)","faults":0,"accepted":0,"stored":0,"lost":0,"doubled":0,"ok":false,"failed":["WordPress site setup"],"notes":[]}\n' "$1" >> "$RESULTS"
}
# rest_hostile_input: the REST route over HTTP (private nginx + php-fpm), on site "main" under five host names: the site itself
# (REST needs a login), a public one, a public one limited to 5 per client address and minute behind a trusted
# proxy (127.0.0.1: X-Forwarded-For is believed), the same limit without trusted proxies (it is not), and the
# limit with buffering off (REG_BUFFER_DISABLED: direct writes, the count kept in the options table). The
# postmeta mirror is on, and a canary plugin is active: a class whose __wakeup writes into FAULTS_TMP/canary.
rest_site_setup() {
  local canary="$FAULTS_TMP/canary" common
  mkdir -p "$canary" && chmod 0777 "$canary" && chmod o+x "$FAULTS_TMP"
  stack_plugin_install "$HERE/canary" "$WP_PLUGIN-canary"
  common="define( 'RB_FAULTS_CANARY_DIR', '$canary' );
define( 'REG_BUFFER_MIRROR_POSTMETA', true );"
  wp_site_host main "$(wp_host main)" "$common"
  wp_site_host main "rb-faults-public-$$.test" "$common
define( 'REG_BUFFER_REST_PUBLIC', true );
define( 'REG_BUFFER_REST_RATE_LIMIT', 0 ); // hostile input, not the limit: its requests must not fill the spoof host's bucket (one site)"
  wp_site_host main "rb-faults-limited-$$.test" "$common
define( 'REG_BUFFER_REST_PUBLIC', true );
define( 'REG_BUFFER_REST_RATE_LIMIT', 5 );
define( 'REG_BUFFER_REST_TRUSTED_PROXIES', '10.9.8.0/24, 127.0.0.1, 2001:db8:ff::/48, not-an-address' );"
  wp_site_host main "rb-faults-spoof-$$.test" "$common
define( 'REG_BUFFER_REST_PUBLIC', true );
define( 'REG_BUFFER_REST_RATE_LIMIT', 5 );"
  wp_site_host main "rb-faults-direct-$$.test" "$common
define( 'REG_BUFFER_DISABLED', true );
define( 'REG_BUFFER_REST_PUBLIC', true );
define( 'REG_BUFFER_REST_RATE_LIMIT', 5 );
define( 'REG_BUFFER_REST_TRUSTED_PROXIES', '127.0.0.1' );"
  stack_wp_php "$(wp_host main)" "$HERE/php/support/wp_activate.php" "$WP_PLUGIN-canary/canary.php" >/dev/null
  stack_web_start "$FAULTS_TMP/wp-main" 3
  export FAULTS_WEB="http://127.0.0.1:$STACK_WEB_PORT" FAULTS_CANARY_DIR=$canary
  export FAULTS_HOST_PUBLIC="rb-faults-public-$$.test" FAULTS_HOST_LIMITED="rb-faults-limited-$$.test" FAULTS_HOST_SPOOF="rb-faults-spoof-$$.test"
  export FAULTS_HOST_DIRECT="rb-faults-direct-$$.test"
  FAULTS_APP_PASSWORD=$(tail -n 1 "$FAULTS_TMP/wp-main/app-password") FAULTS_ADMIN_PASSWORD=$(cat "$FAULTS_TMP/wp-main/db-password")
  export FAULTS_APP_PASSWORD FAULTS_ADMIN_PASSWORD
}
# intake_abuse: the fast intake over HTTP on site "intake": a rate limit of 20 per address and minute, the proxy 127.0.0.1
# trusted (each client's address comes in X-Forwarded-For), a buffer cap of 250; intake.php served through a
# symlink in the document root, as tests/e2e/intake.sh does. Tokens are minted by the site (wp_intake_tokens.php).
INTAKE_MAXMEMORY=$((64 * 1024 * 1024)) INTAKE_RATE_LIMIT=20
intake_site_setup() {
  local link="$STACK_WP_ROOT/rb-faults-intake-$$.php"
  chmod o+x "$FAULTS_TMP" # php-fpm and nginx (www-data) reach their socket and body files below it
  wp_site_host intake "$(wp_host intake)" "define( 'REG_BUFFER_INTAKE_RATE_LIMIT', $INTAKE_RATE_LIMIT );
define( 'REG_BUFFER_REST_TRUSTED_PROXIES', '127.0.0.1' );
define( 'REG_BUFFER_MAX_PENDING', 250 );"
  WP_LINKS+=("$link")
  ln -sfn "$STACK_WP_CONTENT/plugins/$WP_PLUGIN/intake.php" "$link"
  stack_wp_php "$(wp_host intake)" "$HERE/php/support/wp_intake_tokens.php" "$FAULTS_TMP/wp-intake/tokens.json" 120 1100 >/dev/null
  stack_web_start "$FAULTS_TMP/wp-intake" 4
  export FAULTS_INTAKE_URL="http://127.0.0.1:$STACK_WEB_PORT/rb-faults-intake-$$.php" FAULTS_INTAKE_TOKENS="$FAULTS_TMP/wp-intake/tokens.json"
  export FAULTS_INTAKE_REDIS_PORT FAULTS_INTAKE_MAXMEMORY=$INTAKE_MAXMEMORY FAULTS_INTAKE_RATE_LIMIT=$INTAKE_RATE_LIMIT
  FAULTS_INTAKE_REDIS_PORT=$(cat "$FAULTS_TMP/wp-intake/redis/port")
}
if [ -d "$ROOT/wordpress-plugin/reg-buffer" ]; then
  if want plugin_flusher_killed || want plugin_unique_keys || want rest_hostile_input; then
    if wp_site main "--appendfsync always" 2>> "$FAULTS_TMP/wp-setup.err"; then
      wp_scenario main plugin_flusher_killed
      wp_scenario main plugin_unique_keys
      if want rest_hostile_input; then
        if rest_site_setup 2>> "$FAULTS_TMP/wp-setup.err"; then wp_scenario main rest_hostile_input; else wp_failed "REST hostile input"; fi
      fi
    else
      wp_failed "plugin flush path"
    fi
  fi
  if want intake_abuse; then
    # Its own site and Redis (maxmemory: the floods must not bring it near), the intake served through nginx.
    if wp_site intake "--appendfsync everysec --maxmemory $INTAKE_MAXMEMORY" 2>> "$FAULTS_TMP/wp-setup.err" && intake_site_setup 2>> "$FAULTS_TMP/wp-setup.err"; then
      wp_scenario intake intake_abuse
    else
      wp_failed "intake abuse during a rush"
    fi
  fi
  if want seats_under_faults; then
    # Its own site: seats_under_faults kills and restarts this Redis (AOF always) while bookers fill two events.
    if wp_site seats "--appendfsync always" 2>> "$FAULTS_TMP/wp-setup.err"; then
      wp_scenario seats seats_under_faults
    else
      wp_failed "seats under faults"
    fi
  fi
  if want plugin_redis_data_loss; then
    # Its own site: plugin_redis_data_loss kills this Redis and restarts it without persistence.
    if wp_site watch "--appendfsync always" 2>> "$FAULTS_TMP/wp-setup.err"; then
      wp_scenario watch plugin_redis_data_loss
    else
      wp_failed "plugin status after Redis lost its data"
    fi
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
php "$HERE/php/support/report.php" "$RESULTS"
