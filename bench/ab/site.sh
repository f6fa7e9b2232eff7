#!/usr/bin/env bash
# A throw-away stack for flush experiments: private redis-server (no persistence), a MariaDB database for the
# anchors, a WordPress site with the plugin active (plugin dir: a symlink, so a script may point it at another
# copy between runs). Then runs COMMAND with, in its environment: REDIS_PORT, ANCHOR_DB_* (anchors' db.php),
# STACK_WP_HOST/STACK_WP_LOAD/STACK_WP_ROOT (bench/flush_wp.php), WP_PLUGIN_LINK (the symlink), BENCH_ANCHORS.
#   bench/ab/site.sh COMMAND [ARGS...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/bench
OUT=$(mktemp -d /tmp/rb-exp.XXXXXX)
export BENCH_ANCHORS=${BENCH_ANCHORS:-$(cd "$ROOT/.." && pwd)/shared/anchors}
. "$BENCH/lib.sh"
. "$ROOT/tests/lib/stack.sh" 2>/dev/null
WP_HOST="rb-exp-$$.test"; WP_DB="rb_exp_wp_$$"; WP_USER="rbexp_$$"; WP_PASS="pw$RANDOM$RANDOM$$"
PLUGIN_NAME="reg-buffer-exp-$$"
teardown() {
  rm -f "$STACK_WP_CONTENT/plugins/$PLUGIN_NAME"
  stack_wp_remove_config "$WP_HOST" 2>/dev/null || true
  stack_db_drop "$WP_DB" "$WP_USER" >/dev/null 2>&1 || true
  bench_cleanup
  rm -rf "$OUT"
}
trap teardown EXIT
start_redis
start_db
stack_db_create "$WP_DB" "$WP_USER" "$WP_PASS" 2>>"$OUT/stderr.log"
stack_wp_config "$WP_HOST" "$WP_DB" "$WP_USER" "$WP_PASS" "define( 'REG_BUFFER_REDIS_URL', 'redis://127.0.0.1:$REDIS_PORT' );
define( 'REG_BUFFER_BATCH_SIZE', 1000 );
define( 'REG_BUFFER_KEY_PREFIX', 'regbuf:' ); // the extension's default, which bench/push.php fills
define( 'REG_BUFFER_MAX_PENDING', 0 ); // a backlog may pass the default cap" 2>>"$OUT/stderr.log"
stack_wp_install "$WP_HOST" "http://$WP_HOST" >>"$OUT/stderr.log" 2>&1
ln -sfn "${PLUGIN_SRC:-$ROOT/wordpress-plugin/reg-buffer}" "$STACK_WP_CONTENT/plugins/$PLUGIN_NAME"
stack_wp_php "$WP_HOST" "$BENCH/http/activate.php" "$PLUGIN_NAME/reg-buffer.php" >>"$OUT/stderr.log" 2>&1
export REDIS_PORT STACK_WP_HOST=$WP_HOST STACK_WP_LOAD=$(stack_wp_loader) STACK_WP_ROOT WP_PLUGIN_LINK="$STACK_WP_CONTENT/plugins/$PLUGIN_NAME"
"$@"
