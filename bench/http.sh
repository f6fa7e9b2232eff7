# WordPress site + HTTP cells for bench/run.sh (sourced; uses record/note/step/$OUT/$REDIS_PORT from run.sh).
# The site is a throw-away one made with tests/lib/stack.sh (its own database, /etc/wordpress/config-HOST.php,
# plugins linked under names of our own); nginx + php-fpm are the bench's own (lib.sh start_web), because the
# bare endpoint and the plugin's fast intake are plain PHP files that nginx must serve outside WordPress.

. "$ROOT/tests/lib/stack.sh"

PLUGIN_SRC=$ROOT/wordpress-plugin/reg-buffer
HAVE_PLUGIN=0; [ -f "$PLUGIN_SRC/reg-buffer.php" ] && [ -f "$PLUGIN_SRC/includes/core/class-reg-buffer-flusher.php" ] && HAVE_PLUGIN=1
WP_READY=0

INTAKE_CONFIG=""
wp_teardown() {
  [ -z "$INTAKE_CONFIG" ] || rm -f "$INTAKE_CONFIG"
  stack_plugin_remove "reg-buffer-bench-$$" 2>/dev/null || true
  stack_plugin_remove "reg-buffer-bench-routes-$$" 2>/dev/null || true
  stack_wp_remove_config "$WP_HOST" 2>/dev/null || true
  stack_db_drop "$WP_DB" "$WP_USER" >/dev/null 2>&1 || true
}

# wp_setup: a WordPress site with the plugin and the bench's routes active -> WP_HOST, WP_READY=1.
wp_setup() {
  WP_HOST="regbuf-bench-$$.test"; WP_DB="regbuf_bench_wp_$$"; WP_USER="rbwp_$$"; WP_PASS="pw$RANDOM$RANDOM$$"
  BENCH_CLEANUP+=(wp_teardown)
  stack_mariadb_ensure || return 1
  stack_db_create "$WP_DB" "$WP_USER" "$WP_PASS" 2>>"$OUT/stderr.log" || return 1
  stack_wp_config "$WP_HOST" "$WP_DB" "$WP_USER" "$WP_PASS" "define( 'REG_BUFFER_REDIS_URL', 'redis://127.0.0.1:$REDIS_PORT' );
define( 'REG_BUFFER_REST_PUBLIC', true );
define( 'REG_BUFFER_BATCH_SIZE', 1000 );
define( 'REG_BUFFER_KEY_PREFIX', 'regbuf:' ); // the extension's default, which the flush cells fill
define( 'REG_BUFFER_MAX_PENDING', 0 ); // the flush cells' backlogs pass the default cap
define( 'REG_BUFFER_INTAKE_RATE_LIMIT', 1000000000 ); // counted as on a real site, never reached by one load generator
define( 'REG_BUFFER_REST_RATE_LIMIT', 1000000000 ); // the public route's limit, likewise" 2>>"$OUT/stderr.log" || return 1
  stack_wp_install "$WP_HOST" "http://$WP_HOST" >>"$OUT/stderr.log" 2>&1 || return 1
  # the bench's own routes (do-nothing floor, add_post_meta x5), as a plugin active on this site only
  mkdir -p "$OUT/routes-plugin"
  cp "$BENCH/http/bench-routes.php" "$OUT/routes-plugin/bench-routes.php"
  stack_plugin_install "$OUT/routes-plugin" "reg-buffer-bench-routes-$$" 2>>"$OUT/stderr.log" || return 1
  local plugins="reg-buffer-bench-routes-$$/bench-routes.php"
  if [ $HAVE_PLUGIN = 1 ]; then
    stack_plugin_install "$PLUGIN_SRC" "reg-buffer-bench-$$" 2>>"$OUT/stderr.log" || return 1
    plugins="$plugins reg-buffer-bench-$$/reg-buffer.php"
  fi
  # shellcheck disable=SC2086
  stack_wp_php "$WP_HOST" "$BENCH/http/activate.php" $plugins >>"$OUT/stderr.log" 2>&1 || return 1
  WP_READY=1
}

# The plugin's fast intake (issue 4 item 5): intake.php, a PHP file of the plugin that does not boot WordPress,
# taking one-use form tokens that the plugin mints (bench/http/tokens.php mints them the same way per cell).
HAVE_INTAKE=0; [ -f "$PLUGIN_SRC/intake.php" ] && [ -f "$PLUGIN_SRC/includes/intake/class-reg-buffer-form-token.php" ] && HAVE_INTAKE=1
intake_setup() {
  local out
  out=$(stack_wp_php "$WP_HOST" "$BENCH/http/intake_setup.php" 2>>"$OUT/stderr.log" | tail -n 1) || return 1
  INTAKE_CONFIG=$(php -r 'echo json_decode($argv[1], true)["config"] ?? "";' "$out")
  [ -f "$INTAKE_CONFIG" ]
}
# mint_tokens COUNT -> $OUT/http/tokens.txt
mint_tokens() {
  php "$BENCH/http/tokens.php" "$INTAKE_CONFIG" "$PLUGIN_SRC/includes/intake/class-reg-buffer-form-token.php" 7 "$1" "$OUT/http/tokens.txt"
}

# wrk_cell CELL RUN CONNS PATH: POSTs registrations for WRK_SECS seconds, records req/s, p50/p99, errors.
# 64 connections on WordPress mean ~1 s queues: those cells run 1.5 times as long to measure more than the ramp.
# The endpoints that do not boot WordPress answer thousands of requests a second: half as long is plenty.
wrk_cell() {
  local cell=$1 run=$2 conns=$3 path=$4 threads=1 secs=$WRK_SECS
  [ "$conns" -gt 1 ] && threads=2
  [ "$conns" -ge 64 ] && secs=$((WRK_SECS * 3 / 2))
  case $cell in bare|intake) secs=$(( (secs + 1) / 2 )) ;; esac
  web_drain
  local tokens=""
  if [ "$cell" = intake ]; then mint_tokens $((secs * 20000)) || return 0; tokens="$OUT/http/tokens.txt"; fi
  BENCH_TOKENS="$tokens" BENCH_TAG="$cell.$conns.$run.$$" record http "$cell@$conns" "$run" \
    php "$BENCH/http/wrk.php" "$threads" "$conns" "$secs" "http://127.0.0.1:$HTTP_PORT$path" "$WP_HOST"
}

http_section() {
  [ $WP_READY = 1 ] || { note http_missing "the WordPress site could not be set up (see bench/out/stderr.log)"; return 1; }
  mkdir -p "$OUT/http"
  sed "s/@REDIS_PORT@/$REDIS_PORT/" "$BENCH/http/bare.php.in" > "$OUT/http/bare.php"
  start_web "$OUT/http" 8
  local routes="noop mysql bare" intake
  if [ $HAVE_EXT = 1 ] && [ $HAVE_PLUGIN = 1 ]; then routes="noop rest mysql bare"
  else note http_missing "plugin REST route: $([ $HAVE_PLUGIN = 1 ] && echo 'the extension is not loaded (the route would measure its direct-MySQL fallback)' || echo 'the plugin is not there')"; fi
  if [ $HAVE_INTAKE = 1 ] && [ $HAVE_EXT = 1 ]; then
    if intake_setup; then routes="$routes intake"
    else echo "  ! the fast intake's config could not be made: see bench/out/stderr.log"; FAILED+=("http/intake"); fi
  else
    note http_missing "fast intake (issue 4 item 5): $([ $HAVE_INTAKE = 1 ] && echo 'the extension is not loaded' || echo 'not in the plugin yet')"
  fi
  local ok=1 r c path tokens
  for r in $routes; do path=$(route_path "$r"); tokens=""
    if [ "$r" = intake ]; then mint_tokens 1 && tokens="$OUT/http/tokens.txt"; fi
    if ! BENCH_TOKENS="$tokens" php "$BENCH/http/probe.php" "http://127.0.0.1:$HTTP_PORT$path" "$WP_HOST" >>"$OUT/stderr.log" 2>&1; then
      echo "  ! route $r ($path) does not answer 2xx: see bench/out/stderr.log"; FAILED+=("http/$r"); ok=0
    fi
  done
  for run in $(seq 1 "$WRK_RUNS"); do
    time_left 25 || { note skipped "HTTP: runs $run..$WRK_RUNS skipped to keep the bench within its time budget"; break; }
    for c in $WRK_CONNS; do
      for r in $routes; do wrk_cell "$r" "$run" "$c" "$(route_path "$r")"; done
    done
    # The REST route's own cost, in-process (a fraction of a millisecond that HTTP medians over the floor blur).
    case " $routes " in *" rest "*)
      record http_cost rest_cost "$run" env STACK_WP_HOST="$WP_HOST" STACK_WP_LOAD="$(stack_wp_loader)" STACK_WP_ROOT="$STACK_WP_ROOT" php "$BENCH/http/rest_cost.php" "$([ "$QUICK" = 1 ] && echo 200 || echo 2000)" ;;
    esac
  done
  [ $ok = 1 ]
}

route_path() {
  case $1 in
    noop) echo "/wp-json/reg-buffer-bench/v1/events/7/noop" ;;
    mysql) echo "/wp-json/reg-buffer-bench/v1/events/7/postmeta" ;;
    rest) echo "/wp-json/reg-buffer/v1/events/7/registrations" ;;
    bare) echo "/bench-bare.php" ;;
    intake) echo "/wp-content/plugins/reg-buffer-bench-$$/intake.php?event=7" ;;
  esac
}
