#!/usr/bin/env bash
# End-to-end proof of the reg-buffer WordPress plugin on a real stack: Debian's WordPress installed headlessly into
# a throw-away MariaDB database, a private redis-server, nginx + php-fpm on a free port. No mocks.
#
#   tests/e2e/run.sh              all tests
#   E2E_TESTS="name ..." tests/e2e/run.sh   only those (names as printed)
#   E2E_KEEP=1 tests/e2e/run.sh   keep the stack's files (logs) in the temp dir
#   E2E_REDIS=cluster tests/e2e/run.sh   on a 3-master, 3-replica Redis Cluster: the tests that neither stop Redis
#                                        nor reach into its keys (CLUSTER_TESTS)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/stack.sh
. "$ROOT/tests/lib/stack.sh"
E2E_PHP="$ROOT/tests/e2e/php"

ID=$$
WORK=$(mktemp -d /tmp/reg-buffer-e2e.XXXXXX)
HOST="rb-e2e-$ID.test"
DB="rb_e2e_$ID"
DB_USER="rb_e2e_$ID"
DB_PASS=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
PLUGIN="reg-buffer-e2e-$ID"
E2E_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export E2E_LEDGER="$WORK/ledger.jsonl" E2E_PLUGIN="$PLUGIN" E2E_ADMIN_PASSWORD
# Without the extension: no ini files at all, only the database driver WordPress needs.
PHP_WITHOUT_EXTENSION="php -n -d extension=mysqlnd -d extension=mysqli -d memory_limit=256M"

cleanup() {
  set +e
  stack_web_stop "$WORK"
  stack_redis_stop "$WORK"
  stack_redis_cluster_stop "$WORK"
  stack_plugin_remove "$PLUGIN"
  stack_wp_remove_config "$HOST"
  if [ -n "${MS_HOST:-}" ]; then stack_wp_remove_config "$MS_HOST"; stack_db_drop "$MS_DB" "$MS_DB"; fi
  local other
  for other in ${OTHER_SITES:-}; do stack_wp_remove_config "$other.test"; stack_db_drop "${other//-/_}" "${other//-/_}"; done
  stack_db_drop "$DB" "$DB_USER"
  if [ -n "${E2E_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
wp_php() { stack_wp_php "$HOST" "$@"; }
status_of() { wp_php "$E2E_PHP/status.php" "$@"; }
rows_in_table() { stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_registrations"; }
# expect WHAT EXPECTED ACTUAL
expect() {
  if [ "$2" = "$3" ]; then return 0; fi
  echo "  FAIL: $1: expected $2, got $3" >&2
  return 1
}
rest() { php "$E2E_PHP/rest.php" "http://127.0.0.1:$STACK_WEB_PORT" "$HOST" admin "$APP_PASSWORD" "$@"; }
flush_until_empty() {
  # Right after Redis returns, the extension's circuit breaker may still refuse for retry_interval_ms.
  local attempt
  for attempt in 1 2 3; do
    if FLUSH_TOTALS=$(wp_php "$E2E_PHP/flush.php" until-empty); then return 0; fi
    sleep 1
  done
  echo "  FAIL: the flush kept failing: $FLUSH_TOTALS" >&2
  return 1
}
total_of() { php -r '$t = json_decode($argv[1], true); echo json_encode($t[$argv[2]] ?? null);' "$FLUSH_TOTALS" "$1"; }
# shellcheck source=ops.sh
. "$ROOT/tests/e2e/ops.sh" # WP-CLI and admin page tests (OPS_TESTS)

# ------------------------------------------------------------------------------------------------------ tests

a_front_end_request_loads_no_intake_or_admin_code() {
  wp_php "$E2E_PHP/lazy-load.php" > /dev/null
}

stores_each_accepted_registration_once_from_the_action_rest_and_the_seed_hook() {
  wp_php "$E2E_PHP/push.php" action 7000 10 0 buffered || return 1
  rest 500 10 200000 buffered || return 1
  wp_php "$E2E_PHP/push.php" seed 2500 10 100000 buffered || return 1
  local accepted pending
  accepted=$(wc -l < "$E2E_LEDGER")
  pending=$(status_of buffer.pending)
  expect "registrations pending in Redis before the flush" "$accepted" "$pending" || return 1
  expect "rows before the flush" 0 "$(rows_in_table)" || return 1
  expect "a flush ran before cron" null "$(status_of last_flush)" || return 1
  # WP-Cron as a visitor's request triggers it: GET /wp-cron.php through nginx + php-fpm. It answers at once
  # (fastcgi_finish_request) and runs the due reg_buffer_flush afterwards, so wait for its summary.
  echo "  GET /wp-cron.php (the scheduled reg_buffer_flush is due)"
  curl -s -o /dev/null -H "Host: $HOST" "http://127.0.0.1:$STACK_WEB_PORT/wp-cron.php" || return 1
  stack_wait_for 1200 bash -c "[ \"\$(STACK_WP_HOST=$HOST STACK_WP_LOAD=$(stack_wp_loader) php $E2E_PHP/status.php last_flush.outcome)\" != null ]" \
    || { echo "  FAIL: the cron flush did not finish within 2 minutes" >&2; return 1; }
  expect "last flush outcome (cron emptied the buffer)" '"empty"' "$(status_of last_flush.outcome)" || return 1
  expect "registrations the cron flush inserted" "$accepted" "$(status_of last_flush.inserted)" || return 1
  expect "registrations left in Redis" 0 "$(status_of buffer.pending)" || return 1
  expect "registrations in flight" 0 "$(status_of buffer.in_flight)" || return 1
  expect "Site Health with the extension and Redis up" '"good"' "$(wp_php "$E2E_PHP/site-health.php")" || return 1
  wp_php "$E2E_PHP/verify.php"
}

the_flush_claims_the_next_batch_while_mysql_inserts_one() {
  # Redis time and MySQL time overlap: when a batch commits, the next one is already claimed and the one before
  # it already acked (its ack went out during this batch's INSERT), so two batches are in flight, never three.
  wp_php "$E2E_PHP/push.php" function 200 0 730000 buffered || return 1
  FLUSH_TOTALS=$(wp_php "$E2E_PHP/flush.php" overlap 50) || return 1
  echo "  registrations in flight at each COMMIT: $(total_of at_commit)"
  expect "in flight at each COMMIT (the batch + the next one claimed ahead)" '[100,100,100,50]' "$(total_of at_commit)" || return 1
  expect "outcome" '"empty"' "$(total_of outcome)" || return 1
  expect "acked" 200 "$(total_of acked)" || return 1
  expect "in flight after the run" 0 "$(status_of buffer.in_flight)" || return 1
  wp_php "$E2E_PHP/verify.php"
}

# begin_commit_set: [START TRANSACTION, COMMIT, SET] counts of the flush.php statements run in FLUSH_TOTALS
begin_commit_set() { total_of statements | php -r '$s = json_decode(stream_get_contents(STDIN), true); echo json_encode([$s["begin"], $s["commit"], $s["set_option"]]);'; }

a_batch_is_one_statement_unless_a_listener_needs_the_transaction() {
  # Nothing listens to reg_buffer_before_commit: each batch is one INSERT in autocommit, carrying its strict
  # sql_mode (SET STATEMENT … FOR), the lock checked by connection id — no START, COMMIT or SET per batch.
  wp_php "$E2E_PHP/push.php" function 150 0 735000 buffered || return 1
  FLUSH_TOTALS=$(wp_php "$E2E_PHP/flush.php" statements 50) || return 1
  echo "  statements of a flush of 3 batches: $(total_of statements)"
  expect "same MySQL session throughout" true "$(total_of same_session)" || return 1
  expect "batches" 3 "$(total_of batches)" || return 1
  expect "acked" 150 "$(total_of acked)" || return 1
  expect "START TRANSACTION / COMMIT / SET per batch" '[0,0,0]' "$(begin_commit_set)" || return 1
  # A listener writes its own tables in the batch's transaction: then START TRANSACTION and COMMIT, still no SET.
  wp_php "$E2E_PHP/push.php" function 100 0 736000 buffered || return 1
  FLUSH_TOTALS=$(wp_php "$E2E_PHP/flush.php" statements 50 hooked) || return 1
  echo "  the same with a reg_buffer_before_commit listener: $(total_of statements)"
  expect "START TRANSACTION / COMMIT / SET, 2 batches" '[2,2,0]' "$(begin_commit_set)" || return 1
  expect "acked" 100 "$(total_of acked)" || return 1
  wp_php "$E2E_PHP/verify.php"
}

registrations_arriving_while_flushes_run_are_all_stored_once() {
  # Producers (function calls and REST over HTTP) and flushers at the same time, as on a live site.
  wp_php "$E2E_PHP/push.php" function 3000 10 710000 buffered > "$WORK/concurrent-push.log" 2>&1 &
  local pusher=$!
  rest 200 10 720000 buffered > "$WORK/concurrent-rest.log" 2>&1 &
  local poster=$!
  local flushes=0
  while kill -0 "$pusher" 2>/dev/null || kill -0 "$poster" 2>/dev/null; do
    wp_php "$E2E_PHP/flush.php" once > /dev/null || true
    flushes=$((flushes + 1))
  done
  local ok=0
  wait "$pusher" || ok=1
  wait "$poster" || ok=1
  cat "$WORK/concurrent-push.log" "$WORK/concurrent-rest.log"
  [ "$ok" -eq 0 ] || return 1
  echo "  $flushes flushes ran while registrations arrived"
  flush_until_empty || return 1
  expect "registrations in flight" 0 "$(status_of buffer.in_flight)" || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_logged_in_form_needs_the_rest_nonce() {
  # Cookie authentication, as a form on the site itself posts: log in, fetch the wp_rest nonce, post with it.
  local jar="$WORK/cookies" base="http://127.0.0.1:$STACK_WEB_PORT" nonce with without
  curl -s -o /dev/null -c "$jar" -b 'wordpress_test_cookie=WP%20Cookie%20check' -H "Host: $HOST" \
    --data-urlencode log=admin --data-urlencode "pwd=$E2E_ADMIN_PASSWORD" --data testcookie=1 "$base/wp-login.php" || return 1
  nonce=$(curl -s -b "$jar" -H "Host: $HOST" "$base/wp-admin/admin-ajax.php?action=rest-nonce")
  [[ "$nonce" =~ ^[0-9a-f]{10}$ ]] || { echo "  FAIL: no REST nonce after logging in: $nonce" >&2; return 1; }
  local body='{"registration":{"ref":"cookie-form","seat":"A7"},"unique_key":"cookie@example.test"}'
  without=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -H "Host: $HOST" -H 'Content-Type: application/json' \
    --data "$body" "$base/wp-json/reg-buffer/v1/events/12/registrations")
  expect "logged-in POST without the nonce" 401 "$without" || return 1
  with=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -H "Host: $HOST" -H "X-WP-Nonce: $nonce" \
    -H 'Content-Type: application/json' --data "$body" "$base/wp-json/reg-buffer/v1/events/12/registrations")
  expect "logged-in POST with the nonce" 201 "$with" || return 1
  php -r 'echo json_encode(["event_id" => 12, "unique_key" => "cookie@example.test", "data" => ["ref" => "cookie-form", "seat" => "A7"]]), "\n";' >> "$E2E_LEDGER"
  flush_until_empty || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_batch_stored_but_not_acked_before_a_crash_is_not_stored_again() {
  # Exactly one batch (the default batch size is 500), so "the next flush" sees only the redelivered batch.
  wp_php "$E2E_PHP/push.php" function 500 0 300000 buffered || return 1
  local before marker="$WORK/crash-marker" pid after_crash
  before=$(rows_in_table)
  rm -f "$marker"
  STACK_WP_HOST=$HOST STACK_WP_LOAD=$(stack_wp_loader) php "$E2E_PHP/flush.php" crash "$marker" &
  pid=$!
  stack_wait_for 600 test -s "$marker" || { kill -9 "$pid" 2>/dev/null; echo "  FAIL: the flusher never committed" >&2; return 1; }
  after_crash=$(rows_in_table)
  local concurrent
  concurrent=$(wp_php "$E2E_PHP/flush.php" once)
  expect "a second flush while the first holds the lock" '"locked"' \
    "$(php -r 'echo json_encode(json_decode($argv[1], true)["outcome"]);' "$concurrent")" || { kill -9 "$pid"; return 1; }
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  echo "  SIGKILLed the flusher after its commit, before its ack: $(cat "$marker")"
  expect "rows committed by the killed flusher" $((before + 500)) "$after_crash" || return 1
  expect "registrations still in flight (un-acked)" 500 "$(status_of buffer.in_flight)" || return 1
  # The killed flusher claimed with a 2 s lease (see flush.php); wait it out so the batch is handed out again.
  sleep 3
  flush_until_empty || return 1
  echo "  next flush: $FLUSH_TOTALS"
  expect "registrations redelivered to the next flush" 500 "$(total_of claimed)" || return 1
  expect "rows the next flush inserted" 0 "$(total_of inserted)" || return 1
  expect "registrations acked by the next flush" 500 "$(total_of acked)" || return 1
  expect "rows after the next flush" "$after_crash" "$(rows_in_table)" || return 1
  expect "registrations in flight" 0 "$(status_of buffer.in_flight)" || return 1
  wp_php "$E2E_PHP/verify.php"
}

registrations_land_while_redis_is_down_and_none_is_lost_when_it_returns() {
  wp_php "$E2E_PHP/push.php" function 300 0 400000 buffered || return 1
  local fallbacks_before
  fallbacks_before=$(status_of fallbacks)
  stack_redis_stop "$WORK"
  wp_php "$E2E_PHP/push.php" function 300 10 410000 stored || return 1
  rest 40 0 420000 stored || return 1
  # The function's 30 duplicates are found in the table before any fallback.
  expect "fallbacks counted (270 via the function, 40 via REST)" $((fallbacks_before + 310)) "$(status_of fallbacks)" || return 1
  expect "last fallback reason" '"connection"' "$(status_of last_fallback.reason)" || return 1
  # Neither Redis nor MySQL: the form must hear it (503), not get a silent 201.
  stack_sql "$DB" "RENAME TABLE wp_reg_buffer_registrations TO wp_reg_buffer_registrations_away"
  local code
  code=$(curl -s -o "$WORK/503.json" -w '%{http_code}' -u "admin:$APP_PASSWORD" -H "Host: $HOST" -H 'Content-Type: application/json' \
    --data '{"registration":{"ref":"nowhere"}}' "http://127.0.0.1:$STACK_WEB_PORT/wp-json/reg-buffer/v1/events/9/registrations")
  stack_sql "$DB" "RENAME TABLE wp_reg_buffer_registrations_away TO wp_reg_buffer_registrations"
  expect "REST answer when neither Redis nor MySQL takes the registration" 503 "$code" || { cat "$WORK/503.json"; return 1; }
  # The push may have reached Redis before its connection broke: not "try again", but the id it may be stored under.
  expect "its code and the id it tried" "reg_buffer_outcome_unknown 26" \
    "$(php -r '$b = json_decode(file_get_contents($argv[1]), true); echo $b["code"], " ", strlen((string) ($b["data"]["registration_id"] ?? ""));' "$WORK/503.json")" || return 1
  stack_redis_restart "$WORK"
  echo "  buffer after the restart: $(status_of buffer buffer_error | tr '\n' ' ')"
  expect "registrations buffered before the outage, still in Redis" 300 "$(status_of buffer.pending)" || return 1
  flush_until_empty || return 1
  echo "  flush after Redis returned: $FLUSH_TOTALS"
  expect "registrations flushed after the outage" 300 "$(total_of inserted)" || return 1
  php "$E2E_PHP/rest-recovery.php" "http://127.0.0.1:$STACK_WEB_PORT" "$HOST" admin "$APP_PASSWORD" 430000 || return 1
  flush_until_empty || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_redis_restart_between_requests_loses_no_registration() {
  # php-fpm workers keep their Redis connections between requests; Redis restarts while nobody is posting.
  rest 20 0 440000 buffered >/dev/null || return 1
  stack_redis_stop "$WORK"
  stack_redis_restart "$WORK"
  local before
  before=$(status_of fallbacks)
  # Accepted either way (buffered, or stored directly if a worker's old connection fails first): none lost.
  php "$E2E_PHP/rest-recovery.php" "http://127.0.0.1:$STACK_WEB_PORT" "$HOST" admin "$APP_PASSWORD" 450000 12 || return 1
  echo "  direct writes caused by the restart: $(( $(status_of fallbacks) - before ))"
  flush_until_empty || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_push_that_timed_out_after_reaching_redis_is_stored_once() {
  E2E_REDIS_PORT=$STACK_REDIS_PORT wp_php "$E2E_PHP/timeout.php" 650000 || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_batch_whose_insert_fails_is_not_acked_and_is_stored_later() {
  wp_php "$E2E_PHP/push.php" function 100 0 600000 buffered || return 1
  local failed_flush
  # Any MySQL error will do: the table is gone for a moment.
  stack_sql "$DB" "RENAME TABLE wp_reg_buffer_registrations TO wp_reg_buffer_registrations_away"
  failed_flush=$(wp_php "$E2E_PHP/flush.php" once 2)
  stack_sql "$DB" "RENAME TABLE wp_reg_buffer_registrations_away TO wp_reg_buffer_registrations"
  echo "  flush during the MySQL error: $failed_flush"
  FLUSH_TOTALS=$failed_flush
  expect "outcome of the failing flush" '"error"' "$(total_of outcome)" || return 1
  expect "acked by the failing flush" 0 "$(total_of acked)" || return 1
  expect "reg_buffer_error fired" mysql "$(php -r 'echo explode(":", json_decode($argv[1], true)["errors"][0] ?? "")[0];' "$FLUSH_TOTALS")" || return 1
  expect "registrations still in flight (un-acked)" 100 "$(status_of buffer.in_flight)" || return 1
  sleep 3 # the 2 s lease runs out; the batch is handed out again
  flush_until_empty || return 1
  echo "  next flush: $FLUSH_TOTALS"
  expect "rows the next flush inserted" 100 "$(total_of inserted)" || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_flusher_that_lost_its_lock_rolls_back_and_does_not_ack() {
  wp_php "$E2E_PHP/push.php" function 100 0 660000 buffered || return 1
  local before
  before=$(rows_in_table)
  FLUSH_TOTALS=$(wp_php "$E2E_PHP/flush.php" lose-connection)
  echo "  flush whose MySQL session was killed before COMMIT: $FLUSH_TOTALS"
  expect "outcome" '"error"' "$(total_of outcome)" || return 1
  expect "acked" 0 "$(total_of acked)" || return 1
  expect "rows after the failed flush (rolled back)" "$before" "$(rows_in_table)" || return 1
  expect "registrations still in flight (un-acked)" 100 "$(status_of buffer.in_flight)" || return 1
  the_rest_is_stored_after_the_lease 100
}

# the_rest_is_stored_after_the_lease N: the 2 s lease of a failed flush runs out; the next flushes store N.
the_rest_is_stored_after_the_lease() {
  sleep 3
  flush_until_empty || return 1
  expect "rows the next flush inserted" "$1" "$(total_of inserted)" || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_flusher_whose_session_was_replaced_stops_before_its_next_batch() {
  # The flush lock is checked by connection id before each batch's INSERT: after wpdb reconnected (a new session,
  # without the lock), the batch claimed ahead is not inserted; the committed one is acked, the rest comes back.
  wp_php "$E2E_PHP/push.php" function 100 0 665000 buffered || return 1
  local before
  before=$(rows_in_table)
  FLUSH_TOTALS=$(wp_php "$E2E_PHP/flush.php" lose-lock)
  echo "  flush whose session was replaced after its first batch: $FLUSH_TOTALS"
  expect "outcome" '"error"' "$(total_of outcome)" || return 1
  expect "inserted (the first batch)" 50 "$(total_of inserted)" || return 1
  expect "acked (the first batch, committed)" 50 "$(total_of acked)" || return 1
  expect "the error" '["mysql: The flush lock was lost before commit; the batch was rolled back."]' "$(total_of errors)" || return 1
  expect "rows after the flush" $((before + 50)) "$(rows_in_table)" || return 1
  expect "registrations still in flight (un-acked)" 50 "$(status_of buffer.in_flight)" || return 1
  the_rest_is_stored_after_the_lease 50
}

a_row_mysql_refuses_is_set_aside_byte_for_byte_or_its_batch_is_not_acked() {
  # A key that is not UTF-8 (buffered by an older extension): MySQL refuses its row, and an option (the old
  # set-aside store) refuses its bytes as well — the table keeps them. And when a refused row cannot be set aside
  # at all, the batch stays un-acked until it can.
  E2E_REDIS_PORT=$STACK_REDIS_PORT wp_php "$E2E_PHP/set-aside.php" bad-bytes 681000 || return 1
  wp_php "$E2E_PHP/set-aside.php" unsettable 682000 || return 1
  wp_php "$E2E_PHP/verify.php"
}

set_aside_rows_beyond_max_allowed_packet_are_kept_and_managed_from_wp_cli() {
  local out rc id
  echo "  commands run by $OPS_WP_CLI"
  wp_php "$E2E_PHP/set-aside.php" many 683000 || return 1
  out=$(ops_real_wp reg-buffer set-aside list --format=count) || { echo "  FAIL: set-aside list: $out" >&2; return 1; }
  expect "set-aside list --format=count ($OPS_WP_CLI)" "$(wp_php "$E2E_PHP/set-aside.php" count)" "$(tail -n1 <<< "$out")" || return 1
  ops_real_wp reg-buffer set-aside purge --all < /dev/null >/dev/null 2>&1 || true # No terminal to say yes: nothing purged.
  expect "set aside after purge --all without --yes" "$(tail -n1 <<< "$out")" "$(wp_php "$E2E_PHP/set-aside.php" count)" || return 1
  out=$(ops_real_wp reg-buffer set-aside purge --all --yes) || { echo "  FAIL: purge --all --yes: $out" >&2; return 1; }
  echo "  $(grep Success <<< "$out")"
  expect "set aside after purge --all" 0 "$(wp_php "$E2E_PHP/set-aside.php" count)" || return 1
  out=$(ops_real_wp reg-buffer set-aside purge --all --yes) || { echo "  FAIL: purge --all with nothing to purge: $out" >&2; return 1; }
  out=$(ops_real_wp reg-buffer set-aside retry --all) || { echo "  FAIL: retry --all with nothing to retry: $out" >&2; return 1; }
  # An install of schema 1 kept its set-aside rows in the reg_buffer_rejected option: the upgrade moves them.
  id=$(wp_php "$E2E_PHP/set-aside.php" legacy-option 684000) || return 1
  local schema; schema=$(sed -n "s/.*const SCHEMA_VERSION = '\([0-9]*\)'.*/\1/p" "$ROOT/wordpress-plugin/reg-buffer/includes/core/class-reg-buffer-store.php")
  expect "schema after the next request (the plugin's current one)" "\"$schema\"" "$(status_of schema_version)" || return 1
  expect "the reg_buffer_rejected option after the upgrade" 0 \
    "$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_options WHERE option_name = 'reg_buffer_rejected'")" || return 1
  out=$(ops_real_wp reg-buffer set-aside list --format=json) || return 1
  expect "migrated rows: id and whether each can be retried" "[\"$id:yes\",\"LEGACYBAD684000:no\"]" \
    "$(php -r 'echo json_encode(array_map(fn($e) => $e["id"] . ":" . substr($e["retryable"], 0, strpos($e["retryable"] . ":", ":")), json_decode($argv[1], true)));' "$out")" || return 1
  rc=0; out=$(ops_real_wp reg-buffer set-aside retry LEGACYBAD684000 2>&1) || rc=$?
  expect "retry of a row whose data is not JSON exits" 1 "$rc" || return 1
  out=$(ops_real_wp reg-buffer set-aside retry "$id") || { echo "  FAIL: retry $id: $out" >&2; return 1; }
  echo "  $(grep Success <<< "$out")"
  rc=0; ops_real_wp reg-buffer set-aside retry "$id" >/dev/null 2>&1 || rc=$?
  expect "retrying it again exits (it is gone)" 1 "$rc" || return 1
  ops_real_wp reg-buffer set-aside purge LEGACYBAD684000 >/dev/null || return 1
  expect "set aside at the end" 0 "$(wp_php "$E2E_PHP/set-aside.php" count)" || return 1
  flush_until_empty || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_buffered_registration_whose_key_was_then_written_directly_is_set_aside_not_acked_unseen() {
  # Alice is buffered with a key; buffering is then disabled and Mallory's registration with the same key is written
  # straight to MySQL (the direct write cannot see Redis's marker; Redis down is the same). Both were accepted: the
  # flush must set Alice aside with the id that holds the key, never ack her unseen (ON DUPLICATE KEY absorbed her).
  local config="$STACK_WP_ETC/config-$HOST.php" alice mallory
  alice=$(wp_php "$E2E_PHP/key-conflict.php" buffer 930001 conflict@example.test) || return 1
  echo "define( 'REG_BUFFER_DISABLED', true ); // e2e-conflict" >> "$config"
  mallory=$(wp_php "$E2E_PHP/key-conflict.php" direct 930001 conflict@example.test) || { sed -i '/e2e-conflict/d' "$config"; return 1; }
  wp_php "$E2E_PHP/key-conflict.php" direct 930001 direct-only@example.test Frank >/dev/null || { sed -i '/e2e-conflict/d' "$config"; return 1; }
  sed -i '/e2e-conflict/d' "$config"
  wp_php "$E2E_PHP/key-conflict.php" again 930001 direct-only@example.test || return 1
  flush_until_empty || return 1
  expect "set aside by the flush" 1 "$(total_of rejected)" || return 1
  wp_php "$E2E_PHP/key-conflict.php" check "$alice" "$mallory"
}

the_plugin_writes_no_redis_key_of_its_own_and_the_rest_limit_still_answers_429() {
  # Redis belongs to the extension: the REST rate limit counts through reg_buffer_rate_hit() (no options rows), the
  # Redis watch reads reg_buffer_stats(), and every key under the site's prefix is one src/core/keys.rs names. With
  # Redis down the limit counts in WordPress and still answers 429 with Retry-After.
  local config="$STACK_WP_ETC/config-$HOST.php" rc=0
  echo "define( 'REG_BUFFER_REST_RATE_LIMIT', 3 ); // e2e-rate" >> "$config"; sleep 3 # php-fpm's opcache revalidates
  rate_round() { # 4 posts from this address to an event that does not exist: counted, then 404 or 429
    local n codes=""
    while [ $(( $(date +%s) % 60 )) -ge 54 ]; do sleep 1; done # all 4 in one fixed window
    for n in 1 2 3 4; do
      codes+="$(curl -s -o "$WORK/rate.body" -D "$WORK/rate.headers" -w '%{http_code}' -u "admin:$APP_PASSWORD" -H "Host: $HOST" \
        -H 'Content-Type: application/json' --data '{"registration":{"ref":"rate"}}' \
        "http://127.0.0.1:$STACK_WEB_PORT/wp-json/reg-buffer/v1/events/999999/registrations") "
    done
    echo "$codes$(php -r 'echo json_decode(file_get_contents($argv[1]), true)["code"] ?? "";' "$WORK/rate.body") $(grep -ciE '^Retry-After: ([1-9]|[1-5][0-9]|60)\s*$' "$WORK/rate.headers")"
  }
  rate_rows() { stack_sql "$DB" "SELECT COUNT(*) FROM wp_options WHERE option_name LIKE '\\_transient\\_reg\\_buffer\\_rl\\_%'"; }
  expect "limit 3: answers, the 4th's code and Retry-After" "404 404 404 429 reg_buffer_rate_limited 1" "$(rate_round)" || rc=1
  expect "counts kept in WordPress's options (counted by the extension instead)" 0 "$(rate_rows)" || rc=1
  E2E_REDIS_PORT=$STACK_REDIS_PORT wp_php "$E2E_PHP/own-keys.php" || rc=1
  stack_redis_stop "$WORK"
  expect "Redis down: answers, the 4th's code and Retry-After" "404 404 404 429 reg_buffer_rate_limited 1" "$(rate_round)" || rc=1
  expect "Redis down: counted in WordPress's options" true "$([ "$(rate_rows)" -gt 0 ] && echo true || echo false)" || rc=1
  stack_redis_restart "$WORK"
  sed -i '/e2e-rate/d' "$config"; sleep 3
  return $rc
}

what_redis_holds_is_flushed_and_drained_while_reg_buffer_disabled() {
  # REG_BUFFER_DISABLED stops new pushes (they go straight to MySQL) but never the flush: WP-Cron and
  # `wp reg-buffer drain` move what Redis already holds, each registration stored once.
  local config="$STACK_WP_ETC/config-$HOST.php" out
  disable() { echo "define( 'REG_BUFFER_DISABLED', true ); // e2e-disabled" >> "$config"; sleep 3; } # php-fpm's opcache revalidates
  enable() { sed -i '/e2e-disabled/d' "$config"; sleep 3; }
  wp_php "$E2E_PHP/push.php" function 200 0 910000 buffered || return 1
  disable
  wp_php "$E2E_PHP/push.php" function 50 0 911000 stored || { enable; return 1; }
  expect "status: mode while disabled" '"direct"' "$(status_of mode)" || { enable; return 1; }
  expect "status: still in Redis while disabled" 200 "$(status_of buffer.pending)" || { enable; return 1; }
  expect "status warns of them (disabled_backlog)" true \
    "$(status_of warning_codes | php -r 'echo json_encode(in_array("disabled_backlog", json_decode(stream_get_contents(STDIN), true), true));')" || { enable; return 1; }
  expect "Site Health backlog test while disabled with registrations in Redis" '"recommended"' \
    "$(wp_php "$E2E_PHP/site-health-all.php" | php -r 'echo json_encode(json_decode(stream_get_contents(STDIN), true)["reg_buffer_backlog"] ?? null);')" || { enable; return 1; }
  wp_php "$E2E_PHP/cron-due.php" || { enable; return 1; }
  curl -s -o /dev/null -H "Host: $HOST" "http://127.0.0.1:$STACK_WEB_PORT/wp-cron.php" || { enable; return 1; }
  stack_wait_for 600 bash -c "[ \"\$(STACK_WP_HOST=$HOST STACK_WP_LOAD=$(stack_wp_loader) php $E2E_PHP/status.php last_flush.outcome)\" != null ]"
  expect "the cron flush's outcome while disabled" '"empty"' "$(status_of last_flush.outcome)" || { enable; return 1; }
  expect "registrations the cron flush stored while disabled" 200 "$(status_of last_flush.inserted)" || { enable; return 1; }
  expect "the flush is still scheduled while disabled" true "$(status_of next_flush | php -r 'echo json_encode(is_int(json_decode(stream_get_contents(STDIN))));')" || { enable; return 1; }
  enable
  wp_php "$E2E_PHP/push.php" function 150 0 912000 buffered || return 1
  disable
  out=$(ops_real_wp reg-buffer drain --timeout=60) || { enable; echo "  FAIL: drain while disabled: $out" >&2; return 1; }
  echo "  $(grep Success <<< "$out")"
  expect "pending after drain while disabled" 0 "$(status_of buffer.pending)" || { enable; return 1; }
  enable
  wp_php "$E2E_PHP/verify.php"
}

a_redis_short_of_the_replicas_durability_asks_for_is_named_and_pushes_fall_back_fast() {
  # durability=replica:1 on the e2e Redis (no replica): the registrations go to MySQL, the second at once, and the
  # stats and Site Health name the degraded shard (issue 18's "the operator learns it from the site").
  wp_php "$E2E_PHP/degraded.php" 960000 || return 1
  wp_php "$E2E_PHP/verify.php"
}

two_sites_on_one_redis_without_a_prefix_flush_only_their_own_registrations() {
  # Two installs, one Redis, no REG_BUFFER_KEY_PREFIX: each has its own prefix, made once, and flushes only its own
  # registrations; neither touches the old shared `regbuf:` (another install's). Then the first one is upgraded
  # from a version that used `regbuf:`: what is there is its own, and the flush drains it until it is empty.
  local name db host ledger prefix_a prefix_b
  for name in "rb-e2e-a-$ID" "rb-e2e-b-$ID"; do
    db=${name//-/_}; host="$name.test"
    OTHER_SITES="${OTHER_SITES:-} $name"
    stack_db_create "$db" "$db" "$DB_PASS" >/dev/null 2>&1 || return 1
    stack_wp_config "$host" "$db" "$db" "$DB_PASS" "define( 'REG_BUFFER_REDIS_URL', '$STACK_REDIS_URL' );" 2>/dev/null || return 1
    stack_wp_install "$host" "http://$host:$STACK_WEB_PORT" >/dev/null 2>&1 || return 1
    stack_wp_php "$host" "$E2E_PHP/setup-site.php" >/dev/null || return 1
    : > "$WORK/ledger-$name.jsonl"
  done
  local site_a="rb-e2e-a-$ID" site_b="rb-e2e-b-$ID"
  on() { local site=$1; shift; E2E_LEDGER="$WORK/ledger-$site.jsonl" stack_wp_php "$site.test" "$@"; }
  : > "$WORK/ledger-old.jsonl"
  E2E_LEDGER="$WORK/ledger-old.jsonl" php "$E2E_PHP/legacy-prefix.php" push "$STACK_REDIS_URL" 30 920000 || return 1
  on "$site_a" "$E2E_PHP/push.php" function 120 0 921000 buffered || return 1
  on "$site_b" "$E2E_PHP/push.php" function 80 0 922000 buffered || return 1
  prefix_a=$(on "$site_a" "$E2E_PHP/status.php" key_prefix); prefix_b=$(on "$site_b" "$E2E_PHP/status.php" key_prefix)
  echo "  key prefixes: $prefix_a and $prefix_b"
  [[ "$prefix_a" =~ ^\"regbuf:[0-9a-f]{8}:\"$ ]] || { echo "  FAIL: site A's prefix $prefix_a" >&2; return 1; }
  [ "$prefix_a" != "$prefix_b" ] || { echo "  FAIL: both sites have the prefix $prefix_a" >&2; return 1; }
  expect "site A's prefix on the next request (kept)" "$prefix_a" "$(on "$site_a" "$E2E_PHP/status.php" key_prefix)" || return 1
  on "$site_a" "$E2E_PHP/flush.php" until-empty >/dev/null || return 1
  on "$site_b" "$E2E_PHP/flush.php" until-empty >/dev/null || return 1
  on "$site_a" "$E2E_PHP/verify.php" || return 1
  on "$site_b" "$E2E_PHP/verify.php" || return 1
  expect "registrations left under regbuf: (neither fresh install touched them)" 30 "$(php "$E2E_PHP/legacy-prefix.php" held "$STACK_REDIS_URL")" || return 1
  # Site A as an install upgraded from schema 1, which buffered under regbuf: and had no prefix of its own.
  stack_sql "${site_a//-/_}" "UPDATE wp_options SET option_value = '1' WHERE option_name = 'reg_buffer_schema_version'; DELETE FROM wp_options WHERE option_name = 'reg_buffer_key_prefix'"
  cat "$WORK/ledger-old.jsonl" >> "$WORK/ledger-$site_a.jsonl"
  on "$site_a" "$E2E_PHP/push.php" function 20 0 923000 buffered || return 1
  expect "site A's legacy prefix after the upgrade" '"regbuf:"' "$(on "$site_a" "$E2E_PHP/status.php" legacy_key_prefix)" || return 1
  on "$site_a" "$E2E_PHP/flush.php" until-empty >/dev/null || return 1
  expect "registrations left under regbuf: after the upgraded site's flush" 0 "$(php "$E2E_PHP/legacy-prefix.php" held "$STACK_REDIS_URL")" || return 1
  expect "site A's legacy prefix once it is empty (no longer checked)" null "$(on "$site_a" "$E2E_PHP/status.php" legacy_key_prefix)" || return 1
  on "$site_a" "$E2E_PHP/verify.php" || return 1
  on "$site_b" "$E2E_PHP/verify.php"
}

a_quarantined_entry_is_retried_only_when_the_registration_rules_take_it() {
  E2E_REDIS_PORT=$STACK_REDIS_PORT wp_php "$E2E_PHP/quarantine-rules.php" 685000 || return 1
  wp_php "$E2E_PHP/verify.php"
}

registrations_arrive_from_event_tickets_hooks_and_a_filtered_in_site_hook() {
  wp_php "$E2E_PHP/source-hooks.php" 690000 || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_flush_out_of_time_budget_leaves_the_rest_for_the_next_run() {
  wp_php "$E2E_PHP/push.php" function 300 0 695000 buffered || return 1
  FLUSH_TOTALS=$(wp_php "$E2E_PHP/flush.php" no-time)
  expect "outcome of a flush with no time left" '"budget"' "$(total_of outcome)" || return 1
  expect "claimed by it" 0 "$(total_of claimed)" || return 1
  expect "still pending" 300 "$(status_of buffer.pending)" || return 1
  flush_until_empty || return 1
  expect "the next run stored them" 300 "$(total_of inserted)" || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_registration_mysql_refuses_is_set_aside_without_blocking_the_batch() {
  wp_php "$E2E_PHP/poison.php" 680000 || return 1
  wp_php "$E2E_PHP/verify.php"
}

registrations_left_by_the_seed_snippet_are_imported_with_their_timestamps() {
  E2E_REDIS_PORT=$STACK_REDIS_PORT wp_php "$E2E_PHP/legacy.php" 670000 || return 1
  wp_php "$E2E_PHP/verify.php"
}

the_flush_mirrors_new_registrations_into_postmeta_once() {
  wp_php "$E2E_PHP/mirror.php" 700000 || return 1
  wp_php "$E2E_PHP/verify.php"
}

each_site_of_a_network_has_its_own_table_and_buffer() {
  # A separate network install in its own database, so the single-site tests' ledger stays untouched.
  local host="rb-e2e-ms-$ID.test" db="rb_e2e_ms_$ID"
  MS_HOST=$host MS_DB=$db
  stack_db_create "$db" "$db" "$DB_PASS" >/dev/null 2>&1 || return 1
  # This network takes registrations from public forms: no capability needed. No key prefix: the network's own
  # (one for the network, each site adding its suffix).
  local extra="define( 'REG_BUFFER_REDIS_URL', '$STACK_REDIS_URL' );
define( 'REG_BUFFER_REST_PUBLIC', true );"
  stack_wp_config "$host" "$db" "$db" "$DB_PASS" "$extra" || return 1
  stack_wp_install "$host" "http://$host:$STACK_WEB_PORT" >/dev/null || return 1
  stack_wp_make_network "$host" "$db" "$db" "$DB_PASS" "$extra" || return 1
  stack_wp_php "$host" "$E2E_PHP/multisite.php" || return 1
  # An anonymous visitor's form on the second site, over HTTP: routed to that site's buffer and table.
  local code
  code=$(curl -s -o "$WORK/ms-rest.json" -w '%{http_code}' -H "Host: $host" -H 'Content-Type: application/json' \
    --data '{"registration":{"ref":"ms-public","name":"Zoë"},"unique_key":"zoe@example.test"}' \
    "http://127.0.0.1:$STACK_WEB_PORT/second/wp-json/reg-buffer/v1/events/1/registrations")
  expect "anonymous POST on the public second site" 201 "$code" || { cat "$WORK/ms-rest.json"; return 1; }
  STACK_WP_PATH=/second/ stack_wp_php "$host" "$E2E_PHP/flush.php" until-empty > /dev/null || return 1
  expect "rows in the second site's table" 31 "$(stack_sql "$db" "SELECT COUNT(*) FROM wp_2_reg_buffer_registrations")" || return 1
  expect "rows in the first site's table" 50 "$(stack_sql "$db" "SELECT COUNT(*) FROM wp_reg_buffer_registrations")" || return 1
  expect "the public registration's data" '{"ref":"ms-public","name":"Zoë"}' \
    "$(stack_sql "$db" "SELECT data FROM wp_2_reg_buffer_registrations WHERE unique_key = 'zoe@example.test'")"
}

without_the_extension_the_plugin_writes_directly_and_says_so() {
  local fallbacks_before
  fallbacks_before=$(STACK_PHP=$PHP_WITHOUT_EXTENSION status_of fallbacks)
  expect "status: extension loaded" false "$(STACK_PHP=$PHP_WITHOUT_EXTENSION status_of extension_loaded)" || return 1
  expect "status: mode" '"direct"' "$(STACK_PHP=$PHP_WITHOUT_EXTENSION status_of mode)" || return 1
  expect "status: warning" '"The reg_buffer extension is not loaded: every registration is a direct MySQL write."' \
    "$(STACK_PHP=$PHP_WITHOUT_EXTENSION status_of warnings.0)" || return 1
  expect "Site Health without the extension" '"recommended"' "$(STACK_PHP=$PHP_WITHOUT_EXTENSION wp_php "$E2E_PHP/site-health.php")" || return 1
  STACK_PHP=$PHP_WITHOUT_EXTENSION wp_php "$E2E_PHP/push.php" action 400 10 500000 stored || return 1
  STACK_PHP=$PHP_WITHOUT_EXTENSION wp_php "$E2E_PHP/push.php" seed 100 10 510000 stored || return 1
  expect "status: fallbacks counted (every direct write; the 50 duplicates are found in the table first)" $((fallbacks_before + 450)) \
    "$(STACK_PHP=$PHP_WITHOUT_EXTENSION status_of fallbacks)" || return 1
  expect "status: last fallback reason" '"extension_not_loaded"' "$(STACK_PHP=$PHP_WITHOUT_EXTENSION status_of last_fallback.reason)" || return 1
  expect "flush without the extension" '"direct"' \
    "$(STACK_PHP=$PHP_WITHOUT_EXTENSION wp_php "$E2E_PHP/flush.php" until-empty | php -r 'echo json_encode(json_decode(stream_get_contents(STDIN), true)["outcome"] ?? null);')" || return 1
  STACK_PHP=$PHP_WITHOUT_EXTENSION wp_php "$E2E_PHP/verify.php"
}

uninstalling_removes_the_table_options_and_schedule() {
  wp_php "$E2E_PHP/uninstall.php"
}

ALL_TESTS="a_front_end_request_loads_no_intake_or_admin_code
stores_each_accepted_registration_once_from_the_action_rest_and_the_seed_hook
the_flush_claims_the_next_batch_while_mysql_inserts_one
a_batch_is_one_statement_unless_a_listener_needs_the_transaction
a_flusher_whose_session_was_replaced_stops_before_its_next_batch
registrations_arriving_while_flushes_run_are_all_stored_once
a_logged_in_form_needs_the_rest_nonce
a_batch_stored_but_not_acked_before_a_crash_is_not_stored_again
registrations_land_while_redis_is_down_and_none_is_lost_when_it_returns
a_redis_restart_between_requests_loses_no_registration
a_push_that_timed_out_after_reaching_redis_is_stored_once
a_batch_whose_insert_fails_is_not_acked_and_is_stored_later
a_flusher_that_lost_its_lock_rolls_back_and_does_not_ack
a_registration_mysql_refuses_is_set_aside_without_blocking_the_batch
a_row_mysql_refuses_is_set_aside_byte_for_byte_or_its_batch_is_not_acked
set_aside_rows_beyond_max_allowed_packet_are_kept_and_managed_from_wp_cli
what_redis_holds_is_flushed_and_drained_while_reg_buffer_disabled
a_buffered_registration_whose_key_was_then_written_directly_is_set_aside_not_acked_unseen
the_plugin_writes_no_redis_key_of_its_own_and_the_rest_limit_still_answers_429
two_sites_on_one_redis_without_a_prefix_flush_only_their_own_registrations
a_quarantined_entry_is_retried_only_when_the_registration_rules_take_it
registrations_arrive_from_event_tickets_hooks_and_a_filtered_in_site_hook
a_flush_out_of_time_budget_leaves_the_rest_for_the_next_run
registrations_left_by_the_seed_snippet_are_imported_with_their_timestamps
the_flush_mirrors_new_registrations_into_postmeta_once
each_site_of_a_network_has_its_own_table_and_buffer
a_redis_short_of_the_replicas_durability_asks_for_is_named_and_pushes_fall_back_fast
$OPS_TESTS
without_the_extension_the_plugin_writes_directly_and_says_so
uninstalling_removes_the_table_options_and_schedule"
. "$ROOT/tests/e2e/intake.sh" # fast intake (tests/e2e/intake.sh): adds its test before the uninstall test
. "$ROOT/tests/e2e/cli.sh" # WP-CLI as its users run it (tests/e2e/cli.sh): adds CLI_TESTS before the uninstall test
. "$ROOT/tests/e2e/seats.sh" # per-event capacity (tests/e2e/seats.sh): adds SEATS_TESTS before the uninstall test

# On a Redis Cluster the plugin must work unchanged: pushes from the action, REST and the seed's hook, a flush by
# WP-Cron, flushes racing pushes, the flush's time budget. (The quarantine through the extension and every core
# guarantee run on a cluster in PHPUnit's cluster pass.)
CLUSTER_TESTS="stores_each_accepted_registration_once_from_the_action_rest_and_the_seed_hook
registrations_arriving_while_flushes_run_are_all_stored_once
a_logged_in_form_needs_the_rest_nonce
a_flush_out_of_time_budget_leaves_the_rest_for_the_next_run"
. "$ROOT/tests/e2e/rush.sh" # capacity under a rush (tests/e2e/rush.sh): adds RUSH_TESTS before the uninstall test, RUSH_CLUSTER_TESTS to CLUSTER_TESTS

# ------------------------------------------------------------------------------------------------------ stack

step "stack: MariaDB database $DB, private Redis, WordPress for $HOST, nginx + php-fpm"
if php -m | grep -x reg_buffer >/dev/null; then
  echo "reg_buffer $(php -r 'echo phpversion("reg_buffer");') is loaded"
else
  echo "WARNING: the reg_buffer extension is not loaded: every test that needs Redis buffering will fail" >&2
fi
stack_mariadb_ensure
if [ "${E2E_REDIS:-single}" = cluster ]; then
  stack_redis_cluster_start "$WORK"
  ALL_TESTS=$CLUSTER_TESTS
else
  stack_redis_start "$WORK"
fi
stack_db_create "$DB" "$DB_USER" "$DB_PASS"
# WP_DEBUG on: any notice, warning or deprecation the plugin raises lands in debug.log and fails the run.
touch "$WORK/debug.log" && chown www-data "$WORK/debug.log" && chmod 0666 "$WORK/debug.log"
stack_wp_config "$HOST" "$DB" "$DB_USER" "$DB_PASS" "define( 'REG_BUFFER_REDIS_URL', '$STACK_REDIS_URL' );
define( 'REG_BUFFER_KEY_PREFIX', 'rb-e2e-$ID:' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', false );
define( 'WP_DEBUG_LOG', '$WORK/debug.log' );"
stack_plugin_install "$ROOT/wordpress-plugin/reg-buffer" "$PLUGIN"
stack_web_start "$WORK" 4
stack_wp_install "$HOST" "http://$HOST:$STACK_WEB_PORT"
APP_PASSWORD=$(wp_php "$E2E_PHP/setup-site.php")
wp_php "$E2E_PHP/intake.php" open-events 1 100 # the REST route takes published events only: the tests post to 1..100
: > "$E2E_LEDGER"

passed=0
failed=0
for t in ${E2E_TESTS:-$ALL_TESTS}; do
  step "$t"
  started=$SECONDS
  if "$t"; then
    passed=$((passed + 1)); echo "  ok ($((SECONDS - started)) s)"
  else
    failed=$((failed + 1)); echo "  FAILED: $t"
  fi
done

step "the plugin raised no PHP notices, warnings or deprecations"
plugin_dir=$(cd "$ROOT/wordpress-plugin/reg-buffer" && pwd -P)
if grep -E "PHP (Notice|Warning|Deprecated|Fatal error|Parse error)" "$WORK/debug.log" | grep -F -e "$plugin_dir" -e "plugins/$PLUGIN/" >&2; then
  failed=$((failed + 1)); echo "  FAILED: PHP diagnostics from the plugin (above)"
else
  passed=$((passed + 1)); echo "  ok ($(wc -l < "$WORK/debug.log") lines in debug.log, none from the plugin)"
fi

echo
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
