# Operator experience tests (issue 7), sourced by run.sh: WP-CLI commands run as a WP-CLI user runs them (the real
# WP-CLI 2.12 where ../shared/tools/wp-cli exists, else the stand-in in php/wp-cli.php), and the admin page in
# headless Chromium (browser/admin-page.mjs).
# Uses run.sh's helpers: wp_php, status_of, expect, flush_until_empty, $HOST, $WORK, $E2E_PHP, $STACK_*.

# The real WP-CLI where ../shared/tools/wp-cli exists (see its README), else the stand-in. Standard input is
# empty, as under cron: a question (WP_CLI::confirm) is answered "no". OPS_WP_CLI_BOOT=none runs the stand-in.
OPS_WP_CLI_BOOT=${OPS_WP_CLI_BOOT:-$ROOT/../shared/tools/wp-cli/vendor/wp-cli/wp-cli/php/boot-fs.php}
if [ -f "$OPS_WP_CLI_BOOT" ]; then OPS_WP_CLI="WP-CLI 2.12"; else OPS_WP_CLI="the WP-CLI stand-in"; fi
ops_wp() {
  if [ ! -f "$OPS_WP_CLI_BOOT" ]; then wp_php "$E2E_PHP/wp-cli.php" "$@" < /dev/null; return; fi
  mkdir -p "$WORK/wp-cli-cache"
  # PAGER=cat: `wp help` pipes its text through $PAGER, else `less -R`, which a minimal root (Debian 13's) lacks.
  # wp-cli-preload.php compiles WP-CLI's bundled Mustache (deprecated on PHP 8.4) before WordPress turns E_ALL on.
  PAGER=cat WP_CLI_CACHE_DIR="$WORK/wp-cli-cache" php -d error_reporting=24575 "$OPS_WP_CLI_BOOT" --allow-root \
    --path="$STACK_WP_ROOT" --url="http://$HOST:$STACK_WEB_PORT/" --require="$E2E_PHP/wp-cli-preload.php" "$@" < /dev/null
}
ops_real_wp() { ops_wp "$@"; } # the name run.sh's tests use
ops_json() { php -r '$v = json_decode($argv[1], true); foreach (explode(".", $argv[2]) as $k) { $v = is_array($v) ? ($v[$k] ?? null) : null; } echo json_encode($v);' "$1" "$2"; }

the_wp_cli_commands_show_flush_drain_and_fix_the_quarantine() {
  local out rc
  flush_until_empty || return 1 # a test before may leave registrations in Redis (e.g. a push whose WAIT fell short)
  wp_php "$E2E_PHP/push.php" function 300 0 800000 buffered || return 1

  out=$(ops_wp reg-buffer status --format=json) || { echo "  FAIL: status exited $?" >&2; return 1; }
  expect "status --format=json: pending (= reg_buffer_stats)" "$(status_of buffer.pending)" "$(ops_json "$out" buffer.pending)" || return 1
  expect "status --format=json: pushed (= reg_buffer_stats)" "$(status_of buffer.pushed)" "$(ops_json "$out" buffer.pushed)" || return 1
  echo "  with $OPS_WP_CLI"
  out=$(ops_wp reg-buffer status) || { echo "  FAIL: status (table) exited non-zero without warnings" >&2; return 1; }
  grep -qP '^buffer\.pending\t300$' <<< "$out" || { echo "  FAIL: status table has no 'buffer.pending 300' row:" >&2; echo "$out" | head -40 >&2; return 1; }
  grep -q '^Success: ' <<< "$out" || { echo "  FAIL: status table does not end with Success" >&2; return 1; }

  out=$(ops_wp reg-buffer flush --limit=100 --batch-size=40) || { echo "  FAIL: flush --limit exited non-zero: $out" >&2; return 1; }
  echo "  $(grep Success <<< "$out")"
  if [ "$OPS_WP_CLI" != "WP-CLI 2.12" ]; then # WP-CLI draws no progress bar into a pipe
    grep -qx 'Flushing registrations 100/100' <<< "$out" || { echo "  FAIL: progress bar: $out" >&2; return 1; }
  fi
  grep -q '100 registrations in 3 batches: 100 stored' <<< "$out" || { echo "  FAIL: flush --limit summary: $out" >&2; return 1; }
  expect "pending after flush --limit=100" 200 "$(status_of buffer.pending)" || return 1
  out=$(ops_wp reg-buffer flush --until-empty) || { echo "  FAIL: flush --until-empty: $out" >&2; return 1; }
  expect "pending after flush --until-empty" 0 "$(status_of buffer.pending)" || return 1
  expect "last flush outcome" '"empty"' "$(status_of last_flush.outcome)" || return 1
  ops_wp reg-buffer flush --limit=0 >/dev/null 2>&1 && { echo "  FAIL: flush --limit=0 was accepted" >&2; return 1; }

  local fields keyed garbage legacy
  fields=$(E2E_REDIS_PORT=$STACK_REDIS_PORT wp_php "$E2E_PHP/quarantine-setup.php" 810000) || return 1
  keyed=$(ops_json "$fields" keyed | tr -d '"'); garbage=$(ops_json "$fields" garbage | tr -d '"'); legacy=$(ops_json "$fields" legacy | tr -d '"')
  echo "  quarantined: keyed $keyed, garbage $garbage, legacy $legacy"
  out=$(ops_wp reg-buffer quarantine list --format=json) || return 1
  expect "quarantine list: entries" 3 "$(php -r 'echo count(json_decode($argv[1], true));' "$out")" || return 1
  expect "quarantine list: retryable ones" '["31:yes","32:yes","33:no"]' \
    "$(php -r '$r = array_map(fn($e) => $e["event"] . ":" . substr($e["retryable"], 0, strpos($e["retryable"] . ":", ":")), json_decode($argv[1], true)); sort($r); echo json_encode($r);' "$out")" || return 1
  rc=0; out=$(ops_wp reg-buffer status 2>&1) || rc=$?
  expect "status exit code with a quarantine (for monitoring)" 1 "$rc" || return 1
  grep -q '^Warning: 3 buffered registrations could not be decoded' <<< "$out" || { echo "  FAIL: no quarantine warning: $out" >&2; return 1; }
  ops_wp reg-buffer status >/dev/null 2>&1 || true
  expect "error_log lines for the quarantine warning (once, however often the status is read)" 1 \
    "$(grep -c 'reg_buffer: warning: 3 buffered registrations could not be decoded' "$WORK/debug.log")" || return 1

  rc=0; out=$(ops_wp reg-buffer quarantine retry "$garbage" 2>&1) || rc=$?
  expect "retry of an entry whose bytes cannot be decoded exits" 1 "$rc" || return 1
  echo "  retry of garbage: $(grep Warning <<< "$out")"
  out=$(ops_wp reg-buffer quarantine retry --all) || { echo "  FAIL: retry --all: $out" >&2; return 1; }
  echo "  $(grep Success <<< "$out")"
  expect "quarantined after retry --all" 1 "$(status_of buffer.quarantined)" || return 1
  expect "pending after retry --all (both buffered again)" 2 "$(status_of buffer.pending)" || return 1
  out=$(ops_wp reg-buffer drain --timeout=60) || { echo "  FAIL: drain: $out" >&2; return 1; }
  echo "  $(grep Success <<< "$out")"
  expect "pending after drain" 0 "$(status_of buffer.pending)" || return 1
  expect "in flight after drain" 0 "$(status_of buffer.in_flight)" || return 1

  ops_wp reg-buffer quarantine purge --all >/dev/null 2>&1 # asks, and is answered "no"
  expect "quarantined after purge --all without --yes (nothing purged)" 1 "$(status_of buffer.quarantined)" || return 1
  out=$(ops_wp reg-buffer quarantine purge --all --yes) || { echo "  FAIL: purge: $out" >&2; return 1; }
  expect "quarantined after purge" 0 "$(status_of buffer.quarantined)" || return 1
  rc=0; ops_wp reg-buffer quarantine purge "$garbage" >/dev/null 2>&1 || rc=$?
  expect "purging it again exits" 1 "$rc" || return 1

  # import-legacy through the command (a well-formed element).
  redis-cli -p "$STACK_REDIS_PORT" LPUSH event_reg_buffer:34 \
    "$(php -r 'echo json_encode(["timestamp" => 1700000100, "registration_details" => ["ref" => "cli-legacy-1", "seat" => "B2"]]);')" >/dev/null
  php -r 'echo json_encode(["event_id" => 34, "unique_key" => null, "data" => ["ref" => "cli-legacy-1", "seat" => "B2"]]), "\n";' >> "$E2E_LEDGER"
  out=$(ops_wp reg-buffer import-legacy) || { echo "  FAIL: import-legacy: $out" >&2; return 1; }
  grep -q 'Success: Moved 1 registration into the buffer.' <<< "$out" || { echo "  FAIL: import-legacy: $out" >&2; return 1; }
  ops_wp reg-buffer flush --until-empty >/dev/null || return 1
  rc=0; ops_wp reg-buffer no-such-thing >/dev/null 2>&1 || rc=$?
  expect "an unknown subcommand exits" 1 "$rc" || return 1
  out=$(ops_wp reg-buffer status) || { echo "  FAIL: status still warns after the quarantine was dealt with: $out" >&2; return 1; }
  grep -q 'reg_buffer: all clear: .*quarantine' "$WORK/debug.log" || { echo "  FAIL: no 'all clear' line in the log" >&2; return 1; }
  expect "log lines naming a registration's e-mail (never logged)" 0 "$(grep -c 'user810000@example.test' "$WORK/debug.log")" || return 1
  echo "  logged: $(grep -c 'reg_buffer: ' "$WORK/debug.log") reg_buffer lines in all, e.g. $(grep -m1 -o 'reg_buffer: quarantined entry .*' "$WORK/debug.log")"
  expect "Site Health tests" '{"reg_buffer":"good","reg_buffer_extension":"good","reg_buffer_redis":"good","reg_buffer_eviction":"good","reg_buffer_backlog":"good","reg_buffer_shards":"good"}' \
    "$(wp_php "$E2E_PHP/site-health-all.php")" || return 1
  wp_php "$E2E_PHP/verify.php"
}

the_admin_page_in_headless_chromium_shows_the_stats_and_retries_a_quarantined_entry() {
  command -v chromium >/dev/null || { echo "  FAIL: chromium is not installed (build.sh installs it)" >&2; return 1; }
  local browser="$ROOT/tests/e2e/browser"
  if [ ! -d "$browser/node_modules/playwright-core" ]; then
    (cd "$browser" && npm ci --no-audit --no-fund --silent) || { echo "  FAIL: npm ci in $browser" >&2; return 1; }
  fi
  # Something to show: registrations waiting, some stored, and a quarantine to fix.
  local fields set_aside
  flush_until_empty || return 1 # quarantine-setup.php needs an empty buffer
  fields=$(E2E_REDIS_PORT=$STACK_REDIS_PORT wp_php "$E2E_PHP/quarantine-setup.php" 820000) || return 1
  set_aside=$(wp_php "$E2E_PHP/set-aside.php" seed 825000) || return 1
  wp_php "$E2E_PHP/push.php" function 120 0 830000 buffered >/dev/null || return 1
  ops_wp reg-buffer flush --limit=50 >/dev/null || return 1
  wp_php "$E2E_PHP/push.php" function 40 0 840000 buffered >/dev/null || return 1
  # Three hours of minutely history, so the charts have something to draw (see history-seed.php).
  echo "  history samples written for the charts: $(wp_php "$E2E_PHP/history-seed.php")"
  mkdir -p "$ROOT/tests/artifacts"
  STACK_WP_HOST=$HOST STACK_WP_LOAD=$(stack_wp_loader) E2E_STATUS_PHP="$E2E_PHP/status.php" \
    E2E_BASE="http://127.0.0.1:$STACK_WEB_PORT" E2E_HOST="$HOST" E2E_RETRY="$(ops_json "$fields" legacy | tr -d '"')" \
    E2E_SET_ASIDE_RETRY="$(ops_json "$set_aside" retry | tr -d '"')" E2E_SET_ASIDE_PURGE="$(ops_json "$set_aside" purge | tr -d '"')" \
    E2E_ARTIFACTS="$ROOT/tests/artifacts" node "$browser/admin-page.mjs" || return 1
  expect "quarantined after the retry in the browser" 2 "$(status_of buffer.quarantined)" || return 1
  expect "set aside after Retry and Purge in the browser" 0 "$(wp_php "$E2E_PHP/set-aside.php" count)" || return 1
  # Redis down: the page says it in red (registrations fall back to MySQL meanwhile; other tests prove that).
  stack_redis_stop "$WORK"
  local down=0
  STACK_WP_HOST=$HOST STACK_WP_LOAD=$(stack_wp_loader) E2E_MODE=redis-down \
    E2E_BASE="http://127.0.0.1:$STACK_WEB_PORT" E2E_HOST="$HOST" E2E_STATUS_PHP="$E2E_PHP/status.php" \
    E2E_ARTIFACTS="$ROOT/tests/artifacts" node "$browser/admin-page.mjs" || down=1
  stack_redis_restart "$WORK"
  [ "$down" -eq 0 ] || return 1
  # Retry the other decodable one from the CLI, purge the rest, store everything.
  ops_wp reg-buffer quarantine retry "$(ops_json "$fields" keyed | tr -d '"')" >/dev/null || return 1
  ops_wp reg-buffer quarantine purge --all --yes >/dev/null || return 1
  flush_until_empty || return 1
  # Everything dealt with: flowing, nothing listed as a problem.
  STACK_WP_HOST=$HOST STACK_WP_LOAD=$(stack_wp_loader) E2E_MODE=clear \
    E2E_BASE="http://127.0.0.1:$STACK_WEB_PORT" E2E_HOST="$HOST" E2E_STATUS_PHP="$E2E_PHP/status.php" \
    E2E_ARTIFACTS="$ROOT/tests/artifacts" node "$browser/admin-page.mjs" || return 1
  wp_php "$E2E_PHP/verify.php"
}

OPS_TESTS="the_wp_cli_commands_show_flush_drain_and_fix_the_quarantine
the_admin_page_in_headless_chromium_shows_the_stats_and_retries_a_quarantined_entry"
