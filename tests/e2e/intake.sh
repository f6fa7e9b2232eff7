#!/usr/bin/env bash
# End-to-end test of the fast intake (wordpress-plugin/reg-buffer/intake.php), over real HTTP through the stack's
# nginx + php-fpm, with the stack's Redis and MariaDB; no mocks.
#
#   tests/e2e/intake.sh            runs tests/e2e/run.sh with only these tests (the stack is set up as for all)
#   sourced by tests/e2e/run.sh    adds INTAKE_TESTS before the uninstall test, and INTAKE_AFTER_UNINSTALL after it
#
# The intake is served at its own file's path: a symlink in the stack's document root points at the installed
# plugin's intake.php (Debian's WordPress keeps wp-content outside the document root), like the readme's
# `location = /reg-buffer-intake` does. Prints "intake: N passed, M failed".

INTAKE_TESTS="fast_intake_takes_signed_registrations_without_wordpress
every_entry_refuses_up_front_or_stores_the_same_tricky_registrations
the_rest_route_and_the_intake_take_only_open_events
the_intake_answers_503_and_writes_nothing_while_the_site_will_not_flush
the_intake_rate_limits_each_client_inside_the_push
the_intake_finds_its_config_through_a_symlinked_plugin_and_never_serves_it
closing_the_intake_never_fails_open_when_its_config_cannot_be_written
the_intake_config_leaves_the_default_directory_once_one_is_configured
a_network_site_archived_spammed_deactivated_or_deleted_takes_no_intake_registrations
the_public_rest_route_is_rate_limited_by_default
a_set_aside_intake_registration_is_stored_under_its_own_id_on_retry"
INTAKE_AFTER_UNINSTALL="an_uninstalled_site_intake_never_accepts"

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  E2E_TESTS=$(echo $INTAKE_TESTS) exec "$(cd "$(dirname "$0")" && pwd)/run.sh"
fi

ALL_TESTS="${ALL_TESTS/uninstalling_removes_the_table_options_and_schedule/$INTAKE_TESTS
uninstalling_removes_the_table_options_and_schedule
$INTAKE_AFTER_UNINSTALL}"

intake_php() { wp_php "$E2E_PHP/intake.php" "$@"; }

# The intake served at its own file's path, through a symlink in the document root (see the header).
intake_link() {
  INTAKE_LINK="$STACK_WP_ROOT/reg-buffer-intake-$ID.php"
  ln -sfn "$STACK_WP_CONTENT/plugins/$PLUGIN/intake.php" "$INTAKE_LINK" || return 1
  INTAKE_URL="http://127.0.0.1:$STACK_WEB_PORT/reg-buffer-intake-$ID.php"
}

# site_define NAME VALUE / site_undefine NAME: a constant in the site's wp-config (then a WordPress load, whose
# `init` rewrites the intake's config file). The tests here lift the intake's rate limit (one address, many posts)
# unless they test it. The wait: php-fpm's opcache looks at wp-config's timestamp every 2 s (revalidate_freq), and a
# request that still saw the old constants would write the intake's config back.
site_define() {
  echo "define( '$1', $2 ); // intake-test" >> "$STACK_WP_ETC/config-$HOST.php"
  intake_php init
  sleep 2.1
}
site_undefine() {
  sed -i "/^define( '$1', .*\/\/ intake-test\$/d" "$STACK_WP_ETC/config-$HOST.php"
  intake_php init
  sleep 2.1
}

redis_keys() { stack_redis_cli DBSIZE; }

# intake_check WHAT EXPECTED ACTUAL: one counted check.
intake_check() {
  if [ "$2" = "$3" ]; then
    INTAKE_PASSED=$((INTAKE_PASSED + 1))
  else
    INTAKE_FAILED=$((INTAKE_FAILED + 1))
    echo "  FAIL: intake: $1: expected $2, got $3" >&2
  fi
}

# intake_post EVENT TOKEN JSON_BODY -> sets INTAKE_CODE, INTAKE_BODY, INTAKE_HEADERS (JSON body with the token in it)
intake_post() {
  local body
  body=$(php -r '$b = json_decode($argv[2], true); $b["token"] = $argv[1]; echo json_encode($b, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);' "$2" "$3")
  INTAKE_CODE=$(curl -s -o "$WORK/intake.body" -D "$WORK/intake.headers" -w '%{http_code}' -H "Host: $HOST" \
    -H 'Content-Type: application/json' --data-binary "$body" "$INTAKE_URL?event=$1")
  INTAKE_BODY=$(cat "$WORK/intake.body")
}

# intake_form EVENT TOKEN CURL_FORM_ARGS... -> same, as a browser's urlencoded form post
intake_form() {
  local event=$1 token=$2; shift 2
  INTAKE_CODE=$(curl -s -o "$WORK/intake.body" -D "$WORK/intake.headers" -w '%{http_code}' -H "Host: $HOST" \
    --data-urlencode "reg_buffer_token=$token" "$@" "$INTAKE_URL?event=$event")
  INTAKE_BODY=$(cat "$WORK/intake.body")
}

# json_get PATH (dots) from INTAKE_BODY
json_get() { php -r '$v = json_decode($argv[1], true); foreach (explode(".", $argv[2]) as $k) { $v = is_array($v) ? ($v[$k] ?? null) : null; } echo is_scalar($v) ? $v : json_encode($v);' "$INTAKE_BODY" "$1"; }

# ledger EVENT KEY|- JSON_DATA: what the flush must store
intake_ledger() {
  php -r '$k = $argv[2] === "-" ? null : $argv[2]; echo json_encode(["event_id" => (int) $argv[1], "unique_key" => $k, "data" => json_decode($argv[3], true)], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION), "\n";' \
    "$1" "$2" "$3" >> "$E2E_LEDGER"
}

fast_intake_takes_signed_registrations_without_wordpress() {
  INTAKE_PASSED=0 INTAKE_FAILED=0
  local setup a b draft closing token t2 t3 reg id
  intake_link || return 1
  site_define REG_BUFFER_INTAKE_RATE_LIMIT 100000

  setup=$(intake_php setup) || return 1
  a=$(php -r 'echo json_decode($argv[1], true)["a"];' "$setup")
  b=$(php -r 'echo json_decode($argv[1], true)["b"];' "$setup")
  draft=$(php -r 'echo json_decode($argv[1], true)["draft"];' "$setup")
  closing=$(php -r 'echo json_decode($argv[1], true)["closing"];' "$setup")
  echo "  events: a=$a b=$b draft=$draft; config $(php -r '$s = json_decode($argv[1], true); echo $s["file"], " ", $s["mode"], " group ", $s["group"];' "$setup")"
  intake_check "no config file before the site's first form" true "$(php -r 'var_export(json_decode($argv[1], true)["no_file_before_a_form"]);' "$setup")"
  intake_check "config file mode" 0640 "$(php -r 'echo json_decode($argv[1], true)["mode"];' "$setup")"
  intake_check "config file group (php-fpm's)" www-data "$(php -r 'echo json_decode($argv[1], true)["group"];' "$setup")"
  intake_check "shortcode renders a hidden token field" 1 \
    "$(intake_php shortcode "$a" | grep -cE '^<input type="hidden" name="reg_buffer_token" value="1\.[0-9a-f]{16}\.'"$a"'\.[0-9]+\.1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" />$')"

  # A valid token: 201, buffered, the REST route's body.
  token=$(intake_php mint "$a" 1)
  reg='{"ref":"intake-json-1","name":"Zoë <b>Lovelace</b>","tickets":2,"price":12.5,"vip":true,"notes":null,"answers":{"diet":["vegan"]}}'
  intake_post "$a" "$token" "{\"registration\":$reg,\"unique_key\":\"zoe-intake@example.test\"}"
  intake_check "valid token: status" 201 "$INTAKE_CODE"
  intake_check "valid token: body status" buffered "$(json_get status)"
  intake_check "valid token: registration id" 26 "$(json_get id | tr -d '\n' | wc -c)"
  # Sanitised at flush: tags stripped; the intake's marker is not stored.
  intake_ledger "$a" zoe-intake@example.test '{"ref":"intake-json-1","name":"Zoë Lovelace","tickets":2,"price":12.5,"vip":true,"notes":null,"answers":{"diet":["vegan"]}}'

  # The same token again: its one use is spent.
  intake_post "$a" "$token" '{"registration":{"ref":"intake-replay"}}'
  intake_check "replayed past its use limit: status" 403 "$INTAKE_CODE"
  intake_check "replayed past its use limit: code" reg_buffer_token_used "$(json_get code)"

  # A browser's form post with a 2-use token: two registrations, the third is refused.
  t2=$(intake_php mint "$a" 2)
  intake_form "$a" "$t2" --data-urlencode 'registration[ref]=intake-form-1' --data-urlencode 'registration[name]=Ada' --data-urlencode 'unique_key=ada-intake@example.test'
  intake_check "form post, use 1 of 2" 201 "$INTAKE_CODE"
  intake_ledger "$a" ada-intake@example.test '{"ref":"intake-form-1","name":"Ada"}'
  intake_form "$a" "$t2" --data-urlencode 'registration[ref]=intake-form-2' --data-urlencode 'registration[name]=Grace' --data-urlencode 'unique_key='
  intake_check "form post, use 2 of 2" 201 "$INTAKE_CODE"
  intake_ledger "$a" - '{"ref":"intake-form-2","name":"Grace"}'
  intake_form "$a" "$t2" --data-urlencode 'registration[ref]=intake-form-3'
  intake_check "form post, use 3 of 2" "403 reg_buffer_token_used" "$INTAKE_CODE $(json_get code)"

  # Ten posts of one 3-use token at once: exactly three are taken.
  local t4 n
  t4=$(intake_php mint "$a" 3)
  for n in 0 1 2 3 4 5 6 7 8 9; do
    curl -s -o "$WORK/intake-concurrent-$n.body" -w '%{http_code}' -H "Host: $HOST" -H 'Content-Type: application/json' \
      --data "{\"token\":\"$t4\",\"registration\":{\"ref\":\"intake-concurrent-$n\"}}" "$INTAKE_URL?event=$a" > "$WORK/intake-concurrent-$n.code" &
  done
  wait
  local taken=0 used=0
  for n in 0 1 2 3 4 5 6 7 8 9; do
    case "$(cat "$WORK/intake-concurrent-$n.code")" in
      201) taken=$((taken + 1)); intake_ledger "$a" - "{\"ref\":\"intake-concurrent-$n\"}" ;;
      403) grep -q reg_buffer_token_used "$WORK/intake-concurrent-$n.body" && used=$((used + 1)) ;;
    esac
  done
  intake_check "10 concurrent posts of a 3-use token: taken / refused as used" "3 7" "$taken $used"

  # Forged, expired, other event.
  token=$(intake_php mint "$a" 5)
  local tampered="${token%?}"; [ "${token: -1}" = A ] && tampered+=B || tampered+=A
  intake_post "$a" "$tampered" '{"registration":{"ref":"intake-forged"}}'
  intake_check "tampered signature" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  intake_post "$a" "$(intake_php mint-foreign "$a")" '{"registration":{"ref":"intake-foreign"}}'
  intake_check "signed with another secret" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  intake_post "$a" "$(echo "$token" | sed -E 's/^1\.[0-9a-f]{16}\./1.0123456789abcdef./')" '{"registration":{"ref":"intake-other-site"}}'
  intake_check "another site's id" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  intake_post "$a" "$(intake_php mint-expired "$a")" '{"registration":{"ref":"intake-expired"}}'
  intake_check "expired" "403 reg_buffer_token_expired" "$INTAKE_CODE $(json_get code)"
  intake_post "$b" "$token" '{"registration":{"ref":"intake-other-event"}}'
  intake_check "token of event a posted for event b" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  intake_post "$a" "" '{"registration":{"ref":"intake-no-token"}}'
  intake_check "no token" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  # The token is verified before the body is parsed: a forged token with a body that is not even JSON is a 403,
  # not a 422 (the decoder never ran); a "token" that is not the body's own (inside the registration) is refused.
  INTAKE_CODE=$(curl -s -o "$WORK/intake.body" -w '%{http_code}' -H "Host: $HOST" -H 'Content-Type: application/json' \
    -H "X-Reg-Buffer-Token: $tampered" --data-binary '{"registration": {"ref": "not json' "$INTAKE_URL?event=$a")
  INTAKE_BODY=$(cat "$WORK/intake.body")
  intake_check "forged token, body not JSON: refused before decoding" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  INTAKE_CODE=$(curl -s -o "$WORK/intake.body" -w '%{http_code}' -H "Host: $HOST" -H 'Content-Type: application/json' \
    --data-binary "{\"registration\":{\"token\":\"$token\",\"ref\":\"intake-nested-token\"}}" "$INTAKE_URL?event=$a")
  INTAKE_BODY=$(cat "$WORK/intake.body")
  intake_check "a token inside the registration is not the body's token" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  # The token in the X-Reg-Buffer-Token header or in ?token=, the JSON body without one; the event from the token.
  INTAKE_CODE=$(curl -s -o "$WORK/intake.body" -w '%{http_code}' -H "Host: $HOST" -H 'Content-Type: application/json' \
    -H "X-Reg-Buffer-Token: $(intake_php mint "$a" 1)" --data-binary '{"registration":{"ref":"intake-header-token"}}' "$INTAKE_URL?event=$a")
  intake_check "token in X-Reg-Buffer-Token" 201 "$INTAKE_CODE"
  intake_ledger "$a" - '{"ref":"intake-header-token"}'
  INTAKE_CODE=$(curl -s -o "$WORK/intake.body" -w '%{http_code}' -H "Host: $HOST" -H 'Content-Type: application/json' \
    --data-binary '{"registration":{"ref":"intake-query-token"}}' "$INTAKE_URL?token=$(intake_php mint "$a" 1)")
  intake_check "token in ?token=, no ?event= (the token's event)" 201 "$INTAKE_CODE"
  intake_ledger "$a" - '{"ref":"intake-query-token"}'
  INTAKE_CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "$INTAKE_URL?event=$a")
  intake_check "GET" 405 "$INTAKE_CODE"

  # Invalid fields: 422, and the token's use is not spent.
  t3=$(intake_php mint "$b" 1)
  intake_post "$b" "$t3" '{"registration":"not an object"}'
  intake_check "registration not an object" "422 reg_buffer_invalid" "$INTAKE_CODE $(json_get code)"
  intake_post "$b" "$t3" '{"registration":{"ref":"intake-reserved","_reg_buffer_intake":1}}'
  intake_check "reserved field" 422 "$INTAKE_CODE"
  intake_post "$b" "$t3" "{\"registration\":{\"ref\":\"intake-long-key\"},\"unique_key\":\"$(printf 'k%.0s' {1..192})\"}"
  intake_check "unique key over 191 bytes" 422 "$INTAKE_CODE"
  # Not UTF-8: a JSON body is refused by its decoder, a form's fields and key one by one.
  INTAKE_CODE=$(printf '{"token":"%s","registration":{"ref":"caf\xe9"}}' "$t3" | curl -s -o "$WORK/intake.body" -w '%{http_code}' \
    -H "Host: $HOST" -H 'Content-Type: application/json' --data-binary @- "$INTAKE_URL?event=$b")
  intake_check "JSON body not UTF-8" 422 "$INTAKE_CODE"
  intake_form "$b" "$t3" --data 'registration[ref]=caf%E9'
  intake_check "form field not UTF-8" "422 reg_buffer_invalid" "$INTAKE_CODE $(json_get code)"
  intake_form "$b" "$t3" --data 'registration[caf%E9]=x'
  intake_check "form field name not UTF-8" 422 "$INTAKE_CODE"
  intake_form "$b" "$t3" --data 'registration[ref]=x' --data 'unique_key=caf%E9'
  intake_check "form unique key not UTF-8" 422 "$INTAKE_CODE"
  intake_post "$b" "$t3" '{"registration":{"ref":"intake-after-422","seat":"B7"},"unique_key":"dup-intake@example.test"}'
  intake_check "the token still works after 422s" 201 "$INTAKE_CODE"
  intake_ledger "$b" dup-intake@example.test '{"ref":"intake-after-422","seat":"B7"}'

  # The same unique key for the same event, with a fresh token: 409, the REST route's duplicate.
  intake_post "$b" "$(intake_php mint "$b" 1)" '{"registration":{"ref":"intake-dup"},"unique_key":"dup-intake@example.test"}'
  intake_check "duplicate unique key" "409 reg_buffer_duplicate" "$INTAKE_CODE $(json_get code)"

  # No token for an event that takes no registrations (a draft); an event closed after its token was minted: the
  # token proved it open when the form was served, so the intake's 201 holds — it is stored at flush.
  intake_check "a token for a draft event" "" "$(intake_php mint "$draft" 1)"
  token=$(intake_php mint "$closing" 1)
  intake_php close-event "$closing"
  intake_post "$closing" "$token" '{"registration":{"ref":"intake-closed-event"}}'
  intake_check "registration for an event closed since its token, at the intake" 201 "$INTAKE_CODE"
  intake_ledger "$closing" - '{"ref":"intake-closed-event"}'

  # Within the size limit at the push, larger once sanitised or re-encoded: answered 201, so stored. 48 KB of "a < b "
  # (each "<" becomes "&lt;": 72 KB), 21,000 x U+2028 (63 KB; 126 KB if escaped as \u2028).
  local big_lt big_ls
  big_lt=$(php -r 'echo json_encode(["ref" => "intake-48k-lt", "notes" => str_repeat("a < b ", 8000)]);')
  intake_post "$a" "$(intake_php mint "$a" 1)" "{\"registration\":$big_lt}"
  intake_check "48 KB field of '<' (72 KB sanitised), at the intake" 201 "$INTAKE_CODE"
  intake_ledger "$a" - "$(php -r 'echo json_encode(["ref" => "intake-48k-lt", "notes" => rtrim(str_repeat("a &lt; b ", 8000))]);')"
  big_ls=$(php -r 'echo json_encode(["ref" => "intake-u2028", "notes" => str_repeat("\u{2028}", 21000)], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_LINE_TERMINATORS);')
  intake_post "$a" "$(intake_php mint "$a" 1)" "{\"registration\":$big_ls}"
  intake_check "21,000 x U+2028 (63 KB), at the intake" 201 "$INTAKE_CODE"
  intake_ledger "$a" - "$big_ls"
  local aside_before
  aside_before=$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_set_aside")

  # Redis down: 503 with Retry-After; nothing counted, so the same token works once Redis is back.
  token=$(intake_php mint "$a" 1)
  stack_redis_stop "$WORK"
  intake_post "$a" "$token" '{"registration":{"ref":"intake-redis-down"}}'
  # The extension cannot tell a refused connection from one lost after the push was sent: outcome unknown.
  intake_check "Redis down" "503 reg_buffer_outcome_unknown" "$INTAKE_CODE $(json_get code)"
  intake_check "Redis down: Retry-After" 1 "$(grep -ci '^Retry-After: [0-9]' "$WORK/intake.headers")"
  stack_redis_restart "$WORK"
  intake_post "$a" "$token" '{"registration":{"ref":"intake-redis-back"}}'
  intake_check "after Redis returned, the same token" 201 "$INTAKE_CODE"
  intake_ledger "$a" - '{"ref":"intake-redis-back"}'
  # Every php-fpm worker's pooled Redis connection died with the restart: each is replaced without a 503. (The
  # worker that answered "Redis down" keeps its circuit breaker open for reg_buffer.retry_interval_ms, 1 s, and
  # answers 503 at once meanwhile, as designed: let that pass first, so only stale connections are tested here.)
  sleep 1.2
  local n codes=""
  for n in 1 2 3 4 5 6 7 8; do
    intake_post "$a" "$(intake_php mint "$a" 1)" "{\"registration\":{\"ref\":\"intake-after-restart-$n\"}}"
    codes+="$INTAKE_CODE "
    [ "$INTAKE_CODE" = 201 ] && intake_ledger "$a" - "{\"ref\":\"intake-after-restart-$n\"}"
  done
  intake_check "registrations right after a Redis restart (stale pooled connections)" "201 201 201 201 201 201 201 201 " "$codes"

  # A push that timed out after it was sent (Redis busy 1.5 s with a script, the intake's timeout 200 ms): Redis runs
  # it once the script ends, so the answer is 503 reg_buffer_outcome_unknown with the id it was pushed under, and
  # that id is what the flush stores (not "could not be stored": a retry without a unique key would double it).
  site_define REG_BUFFER_TIMEOUT_MS 200
  token=$(intake_php mint "$a" 1)
  stack_redis_cli EVAL 'local ok, clock = pcall(function() return os.clock end) local now = ok and clock or function() local t = redis.call("TIME") return t[1] + t[2] / 1e6 end local s = now() while now() - s < 1.5 do end return 1' 0 > /dev/null 2>&1 &
  # Post only once Redis is really busy (a PING gets no answer in 50 ms).
  php -r 'for ($i = 0; $i < 100; $i++) { $s = stream_socket_client("tcp://127.0.0.1:" . $argv[1], $e, $m, 1.0); stream_set_timeout($s, 0, 50000); fwrite($s, "PING\r\n"); $r = fgets($s); fclose($s); if (false === $r) exit(0); usleep(20000); } exit(1);' "$STACK_REDIS_PORT" \
    || echo "  (Redis never looked busy)" >&2
  intake_post "$a" "$token" '{"registration":{"ref":"intake-timed-out"}}'
  local unknown_id
  unknown_id=$(json_get data.registration_id)
  intake_check "push timed out after it was sent" "503 reg_buffer_outcome_unknown" "$INTAKE_CODE $(json_get code)"
  intake_check "  its answer names the registration id" 26 "$(printf %s "$unknown_id" | wc -c)"
  intake_check "  and says it may have been received" 1 "$(grep -c 'may have been received' <<< "$INTAKE_BODY")"
  intake_ledger "$a" - '{"ref":"intake-timed-out"}'
  wait # the script ends, Redis runs the push
  sleep 1.2 # the worker's circuit breaker (1 s) closes
  site_undefine REG_BUFFER_TIMEOUT_MS

  # No WordPress on the way: with the site's wp-config gone (every WordPress request fails), the intake still takes one.
  token=$(intake_php mint "$a" 1)
  mv "$STACK_WP_ETC/config-$HOST.php" "$WORK/config-away.php"
  local wp_code
  wp_code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "http://127.0.0.1:$STACK_WEB_PORT/wp-json/")
  intake_post "$a" "$token" '{"registration":{"ref":"intake-without-wordpress"}}'
  mv "$WORK/config-away.php" "$STACK_WP_ETC/config-$HOST.php"
  intake_check "WordPress without its config / the intake" "404 201" "$wp_code $INTAKE_CODE"
  intake_ledger "$a" - '{"ref":"intake-without-wordpress"}'

  # The plugin's flush stores them all (the ledger): sanitised, marker stripped, nothing set aside; U+2028 unescaped
  # as in the extension's JSON.
  flush_until_empty || { INTAKE_FAILED=$((INTAKE_FAILED + 1)); }
  echo "  flush: $FLUSH_TOTALS"
  intake_check "registrations set aside at flush" "$aside_before" "$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_set_aside")"
  intake_check "the timed-out push is stored under the id its 503 named" 1 "$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_registrations WHERE registration_id = '$unknown_id' AND data LIKE '%intake-timed-out%'")"
  intake_check "U+2028 stored unescaped (bytes of the stored JSON)" 63033 "$(stack_sql "$DB" "SELECT LENGTH(data) FROM wp_reg_buffer_registrations WHERE data LIKE '%intake-u2028%'")"
  intake_check "intake marker stripped" 0 "$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_registrations WHERE data LIKE '%_reg_buffer_intake%'")"
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi

  site_undefine REG_BUFFER_INTAKE_RATE_LIMIT
  intake_done
}

intake_done() {
  rm -f "$INTAKE_LINK"
  echo "intake: $INTAKE_PASSED passed, $INTAKE_FAILED failed"
  [ "$INTAKE_FAILED" -eq 0 ]
}

every_entry_refuses_up_front_or_stores_the_same_tricky_registrations() {
  # Issue 13 item 3: one set of rules (Reg_Buffer_Registration_Rules) for the action, the function, the seed's hook,
  # REST, the intake (JSON and form), and the direct write (buffering disabled, Redis down). Each input is refused
  # up front or accepted and then stored: after the flush the table holds exactly the accepted ones and nothing was
  # set aside (a trailing-space key used to be accepted by the intake and merged away by the table's PAD SPACE index).
  intake_link || return 1
  site_define REG_BUFFER_INTAKE_RATE_LIMIT 100000
  local ok=0 aside_before mode
  aside_before=$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_set_aside")
  export E2E_WEB="http://127.0.0.1:$STACK_WEB_PORT" E2E_HOST=$HOST E2E_APP_PASSWORD=$APP_PASSWORD E2E_INTAKE_URL=$INTAKE_URL
  for mode in up disabled down; do
    [ "$mode" = down ] && stack_redis_stop "$WORK"
    wp_php "$E2E_PHP/rules.php" "$mode" || ok=1
  done
  stack_redis_restart "$WORK"
  site_undefine REG_BUFFER_INTAKE_RATE_LIMIT
  rm -f "$INTAKE_LINK"
  sleep 1.2 # the circuit breaker of the processes that saw Redis down
  flush_until_empty || return 1
  echo "  flush: $FLUSH_TOTALS"
  expect "registrations set aside at flush (accepted, then not stored)" "$aside_before" "$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_set_aside")" || ok=1
  wp_php "$E2E_PHP/verify.php" || ok=1
  return $ok
}

the_rest_route_and_the_intake_take_only_open_events() {
  # Issue 13 item 8: a published post of an allowed type (filter reg_buffer_event_open / reg_buffer_event_post_types).
  INTAKE_PASSED=0 INTAKE_FAILED=0
  intake_link || return 1
  local events draft block code
  events=$(intake_php gate-events) || return 1
  draft=$(php -r 'echo json_decode($argv[1], true)["draft"];' "$events")
  block=$(php -r 'echo json_decode($argv[1], true)["block"];' "$events")
  for spec in "$draft:404 reg_buffer_event_not_found:a draft" "999999:404 reg_buffer_event_not_found:no such post" \
    "$block:422 reg_buffer_event_closed:a published wp_block (not an event type)" "1:201 :a published post"; do
    IFS=: read -r event want what <<< "$spec"
    code=$(curl -s -o "$WORK/gate.body" -w '%{http_code}' -u "admin:$APP_PASSWORD" -H "Host: $HOST" -H 'Content-Type: application/json' \
      --data "{\"registration\":{\"ref\":\"gate-$event\"}}" "http://127.0.0.1:$STACK_WEB_PORT/wp-json/reg-buffer/v1/events/$event/registrations")
    INTAKE_BODY=$(cat "$WORK/gate.body")
    intake_check "REST, $what" "$want" "$code $( [ "$code" = 201 ] || json_get code)"
    [ "$code" = 201 ] && intake_ledger "$event" - "{\"ref\":\"gate-$event\"}"
  done
  intake_check "no token for a draft" "" "$(intake_php mint "$draft" 1)"
  intake_check "no token for a wp_block" "" "$(intake_php mint "$block" 1)"
  intake_check "no shortcode field for a draft" "" "$(intake_php shortcode "$draft")"
  flush_until_empty || INTAKE_FAILED=$((INTAKE_FAILED + 1))
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  # Item 12: the shortcode's caps, in every post whatever its author (the filter raises them).
  if intake_php shortcode-limits 1; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  intake_done
}

the_intake_answers_503_and_writes_nothing_while_the_site_will_not_flush() {
  # Issue 13 item 1: REG_BUFFER_DISABLED, the plugin deactivated (then the uninstalled case, after the uninstall test).
  INTAKE_PASSED=0 INTAKE_FAILED=0
  intake_link || return 1
  site_define REG_BUFFER_INTAKE_RATE_LIMIT 100000
  local event token n keys
  event=$(php -r 'echo json_decode($argv[1], true)["a"];' "$(intake_php setup)")
  token=$(intake_php mint "$event" 20)
  for n in 1 2 3; do
    intake_post "$event" "$token" "{\"registration\":{\"ref\":\"paused-before-$n\"}}"
    intake_check "before: registration $n" 201 "$INTAKE_CODE"
    intake_ledger "$event" - "{\"ref\":\"paused-before-$n\"}"
  done

  site_define REG_BUFFER_DISABLED true
  keys=$(redis_keys)
  intake_post "$event" "$token" '{"registration":{"ref":"paused-disabled"}}'
  intake_check "REG_BUFFER_DISABLED: intake" "503 reg_buffer_unavailable" "$INTAKE_CODE $(json_get code)"
  intake_check "REG_BUFFER_DISABLED: Retry-After" 1 "$(grep -ci '^Retry-After: [0-9]' "$WORK/intake.headers")"
  intake_check "REG_BUFFER_DISABLED: Redis keys unchanged" "$keys" "$(redis_keys)"
  site_undefine REG_BUFFER_DISABLED
  intake_post "$event" "$token" '{"registration":{"ref":"paused-enabled-again"}}'
  intake_check "REG_BUFFER_DISABLED removed: intake" 201 "$INTAKE_CODE"
  intake_ledger "$event" - '{"ref":"paused-enabled-again"}'

  # The plugins screen warns before deactivating while registrations are buffered: a row notice, a confirm on the link.
  local jar="$WORK/cookies-paused" base="http://127.0.0.1:$STACK_WEB_PORT" page
  curl -s -o /dev/null -c "$jar" -b 'wordpress_test_cookie=WP%20Cookie%20check' -H "Host: $HOST" \
    --data-urlencode log=admin --data-urlencode "pwd=$E2E_ADMIN_PASSWORD" --data testcookie=1 "$base/wp-login.php"
  page=$(curl -s -b "$jar" -H "Host: $HOST" "$base/wp-admin/plugins.php")
  intake_check "plugins screen: row notice with the count" 1 "$(grep -c '<p>4 registrations are buffered in Redis and not stored yet' <<< "$page")"
  intake_check "plugins screen: the Deactivate link asks first" 1 "$(grep -c 'onclick="return window.confirm(&quot;4 registrations are buffered' <<< "$page")"

  # Deactivated (through the real WP-CLI when it is here: it warns with the count): 503, nothing written.
  local cli=/work/shared/tools/wp-cli/vendor/wp-cli/wp-cli/php/boot-fs.php out
  if [ -f "$cli" ]; then
    out=$(WP_CLI_CACHE_DIR=$WORK/wp-cli-cache php -d error_reporting=24575 "$cli" --allow-root --path="$STACK_WP_ROOT" --url="http://$HOST/" plugin deactivate "$PLUGIN" 2>&1)
    intake_check "wp plugin deactivate warns with the count" 1 "$(grep -c 'Warning: 4 registrations are buffered in Redis' <<< "$out")"
  else
    echo "  (no WP-CLI in /work/shared/tools: deactivating through WordPress)"
    intake_php deactivate
  fi
  keys=$(redis_keys)
  intake_post "$event" "$token" '{"registration":{"ref":"paused-deactivated"}}'
  intake_check "deactivated: intake" "503 reg_buffer_unavailable" "$INTAKE_CODE $(json_get code)"
  INTAKE_CODE=$(curl -s -o "$WORK/intake.body" -w '%{http_code}' -H "Host: $HOST" --data-urlencode "reg_buffer_token=$token" \
    --data-urlencode 'registration[ref]=paused-deactivated-form' "$INTAKE_URL?event=$event")
  intake_check "deactivated: form post" 503 "$INTAKE_CODE"
  intake_check "deactivated: Redis keys unchanged" "$keys" "$(redis_keys)"
  intake_check "deactivated: still buffered" 4 "$(intake_php buffered)"

  # Reactivated: the intake takes registrations again, and the flush stores every one once.
  intake_php activate
  intake_post "$event" "$token" '{"registration":{"ref":"paused-reactivated"}}'
  intake_check "reactivated: intake" 201 "$INTAKE_CODE"
  intake_ledger "$event" - '{"ref":"paused-reactivated"}'
  site_undefine REG_BUFFER_INTAKE_RATE_LIMIT
  flush_until_empty || INTAKE_FAILED=$((INTAKE_FAILED + 1))
  echo "  flush after reactivation: $FLUSH_TOTALS"
  intake_check "stored by the flush after reactivation" 5 "$(total_of inserted)"
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  # Kept for the test after the uninstall: a token of this site, and the config file's path.
  intake_php mint "$event" 5 > "$WORK/uninstalled.token"
  echo "$event" > "$WORK/uninstalled.event"
  intake_done
}

an_uninstalled_site_intake_never_accepts() {
  # After the uninstall test: the config file is gone; a well-formed token of the site gets 403 (never 201), and
  # nothing reaches Redis.
  INTAKE_PASSED=0 INTAKE_FAILED=0
  [ -s "$WORK/uninstalled.token" ] || { echo "  FAIL: run the_intake_answers_503_and_writes_nothing_while_the_site_will_not_flush first" >&2; return 1; }
  intake_link || return 1
  local keys
  keys=$(redis_keys)
  intake_post "$(cat "$WORK/uninstalled.event")" "$(cat "$WORK/uninstalled.token")" '{"registration":{"ref":"after-uninstall"}}'
  intake_check "uninstalled: intake" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  intake_check "uninstalled: Redis keys unchanged" "$keys" "$(redis_keys)"
  intake_done
}

the_intake_rate_limits_each_client_inside_the_push() {
  # Issue 13 items 6 and 11: per client address (behind a trusted proxy: X-Forwarded-For, as for REST), counted by
  # the push itself; an IPv4-mapped IPv6 client is its IPv4 address.
  INTAKE_PASSED=0 INTAKE_FAILED=0
  intake_link || return 1
  intake_check "default rate limit in the config" '{"limit":60,"window":60}' "$(php -r 'echo json_encode(json_decode($argv[1], true)["rate_limit"]);' "$(intake_php config)")"
  site_define REG_BUFFER_REST_TRUSTED_PROXIES "'127.0.0.1'"
  site_define REG_BUFFER_INTAKE_RATE_LIMIT 3
  local event token n codes="" keys
  event=$(php -r 'echo json_decode($argv[1], true)["a"];' "$(intake_php setup)")
  token=$(intake_php mint "$event" 50)
  while [ $(( $(date +%s) % 60 )) -ge 55 ]; do sleep 1; done # all in one fixed window
  rate_post() { # XFF REF
    INTAKE_CODE=$(curl -s -o "$WORK/intake.body" -D "$WORK/intake.headers" -w '%{http_code}' -H "Host: $HOST" -H 'Content-Type: application/json' \
      -H "X-Forwarded-For: $1" -H "X-Reg-Buffer-Token: $token" --data-binary "{\"registration\":{\"ref\":\"$2\"},\"unique_key\":\"$2@example.test\"}" "$INTAKE_URL?event=$event")
    INTAKE_BODY=$(cat "$WORK/intake.body")
  }
  for n in 1 2; do
    rate_post 203.0.113.7 "rate-$n"; codes+="$INTAKE_CODE "
    intake_ledger "$event" "rate-$n@example.test" "{\"ref\":\"rate-$n\"}"
  done
  rate_post 203.0.113.7 rate-1; codes+="$INTAKE_CODE " # a duplicate counts too
  keys=$(redis_keys)
  rate_post '::ffff:203.0.113.7' rate-4; codes+="$INTAKE_CODE $(json_get code) "
  intake_check "3 per window from 203.0.113.7, then as ::ffff:203.0.113.7" "201 201 409 429 reg_buffer_rate_limited " "$codes"
  intake_check "429: Retry-After within the window" 1 "$(grep -ciE '^Retry-After: ([1-9]|[1-5][0-9]|60)\s*$' "$WORK/intake.headers")"
  intake_check "429: nothing buffered" "$keys" "$(redis_keys)"
  rate_post '6.6.6.6, 203.0.113.8' rate-5
  intake_check "another client (forged entries left of it ignored)" 201 "$INTAKE_CODE"
  intake_ledger "$event" "rate-5@example.test" '{"ref":"rate-5"}'
  site_undefine REG_BUFFER_REST_TRUSTED_PROXIES
  site_undefine REG_BUFFER_INTAKE_RATE_LIMIT
  if intake_php client-ip; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  flush_until_empty || INTAKE_FAILED=$((INTAKE_FAILED + 1))
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  intake_done
}

a_set_aside_intake_registration_is_stored_under_its_own_id_on_retry() {
  # An intake registration the site's reg_buffer_intake_registration filter refused at flush is set aside with its
  # marker. A retry stores it as the flush would (marker gone, strings sanitised) under its own id: through the
  # registrar it was refused again (the reserved marker field) or a duplicate (its key's marker in Redis names it).
  INTAKE_PASSED=0 INTAKE_FAILED=0
  intake_link || return 1
  local event token id out
  event=$(php -r 'echo json_decode($argv[1], true)["a"];' "$(intake_php setup)")
  token=$(intake_php mint "$event" 1)
  intake_post "$event" "$token" '{"registration":{"ref":"set-aside-retry","name":"<b>Ann</b> Lee"},"unique_key":"set-aside-retry@example.test"}'
  intake_check "intake: accepted" 201 "$INTAKE_CODE"
  id=$(json_get id)
  intake_check "the filter refuses it at flush: set aside" '{"rejected":1,"outcome":"empty"}' "$(intake_php flush-refusing set-aside-retry)"
  out=$(intake_php retry-set-aside "$id")
  intake_check "retry: ok" true "$(php -r 'var_export(json_decode($argv[1], true)["ok"]);' "$out")"
  intake_check "retry: stored under its own id, as the flush stores an intake registration" '{"ref":"set-aside-retry","name":"Ann Lee"}' \
    "$(php -r 'echo json_encode(json_decode($argv[1], true)["stored"]);' "$out")"
  intake_check "retry again: gone" false "$(php -r 'var_export(json_decode($argv[1], true)["ok"]);' "$(intake_php retry-set-aside "$id")")"
  intake_ledger "$event" set-aside-retry@example.test '{"ref":"set-aside-retry","name":"Ann Lee"}'
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  intake_done
}

the_intake_finds_its_config_through_a_symlinked_plugin_and_never_serves_it() {
  # Issue 13 item 13. wp-content served under the document root (a symlink to it), with the plugin's folder a
  # symlink to a copy elsewhere: PHP resolves __DIR__ through the symlink, yet the intake finds the site's config.
  INTAKE_PASSED=0 INTAKE_FAILED=0
  local served="$STACK_WP_ROOT/rb-wp-content-$ID" elsewhere="$WORK/elsewhere/reg-buffer" linked="$PLUGIN-linked" event token cfg secret temp
  mkdir -p "$WORK/elsewhere" && cp -r "$STACK_WP_CONTENT/plugins/$PLUGIN" "$elsewhere" && chmod -R a+rX "$WORK/elsewhere" && chmod o+x "$WORK"
  ln -sfn "$elsewhere" "$STACK_WP_CONTENT/plugins/$linked"
  ln -sfn "$STACK_WP_CONTENT" "$served"
  site_define REG_BUFFER_INTAKE_RATE_LIMIT 100000
  event=$(php -r 'echo json_decode($argv[1], true)["a"];' "$(intake_php setup)")
  token=$(intake_php mint "$event" 1)
  INTAKE_URL="http://127.0.0.1:$STACK_WEB_PORT/rb-wp-content-$ID/plugins/$linked/intake.php"
  intake_post "$event" "$token" '{"registration":{"ref":"symlinked-plugin"}}'
  intake_check "POST to a symlinked plugin folder's intake.php" 201 "$INTAKE_CODE"
  [ "$INTAKE_CODE" = 201 ] && intake_ledger "$event" - '{"ref":"symlinked-plugin"}'

  # Whatever the plugin writes there, fetched from a web server that serves the directory, shows no secret: the
  # config (PHP that exits), a temp file a crash left (named *.tmp.php: run, not shown), the guards.
  cfg=$(intake_php config)
  secret=$(php -r 'echo json_decode($argv[1], true)["secret"];' "$cfg")
  temp=$(intake_php crash-temp)
  local base="http://127.0.0.1:$STACK_WEB_PORT/rb-wp-content-$ID/reg-buffer-intake" f leaked=0 listed
  listed=$(ls -A "$(php -r 'echo json_decode($argv[1], true)["dir"];' "$cfg")")
  for f in $listed; do
    curl -s -H "Host: $HOST" "$base/$f" > "$WORK/served"
    if grep -qF "$secret" "$WORK/served"; then leaked=$((leaked + 1)); echo "  served with the secret: $f" >&2; fi
  done
  intake_check "the config dir holds the site's config, the crash's temp file, the guards" "1 1 1 1" \
    "$(for f in "$(php -r 'echo json_decode($argv[1], true)["site"];' "$cfg").php" "$(basename "$temp")" index.php .htaccess; do grep -cxF "$f" <<< "$listed"; done | tr '\n' ' ' | sed 's/ $//')"
  intake_check "files served with the secret" 0 "$leaked"
  intake_check "the crash's temp file ends in .php" 1 "$(grep -c '\.php$' <<< "$temp")"
  rm -f "$temp" "$served" "$STACK_WP_CONTENT/plugins/$linked"
  site_undefine REG_BUFFER_INTAKE_RATE_LIMIT
  flush_until_empty || INTAKE_FAILED=$((INTAKE_FAILED + 1))
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  INTAKE_LINK=/nonexistent
  intake_done
}

closing_the_intake_never_fails_open_when_its_config_cannot_be_written() {
  # Review of issue 13, finding 3: deactivation or REG_BUFFER_DISABLED must not leave `accepting:true` behind.
  INTAKE_PASSED=0 INTAKE_FAILED=0
  intake_link || return 1
  site_define REG_BUFFER_INTAKE_RATE_LIMIT 100000
  local event token cfg file out cli=/work/shared/tools/wp-cli/vendor/wp-cli/wp-cli/php/boot-fs.php
  event=$(php -r 'echo json_decode($argv[1], true)["a"];' "$(intake_php setup)")
  token=$(intake_php mint "$event" 10)
  cfg=$(intake_php config)
  file=$(php -r 'echo json_decode($argv[1], true)["file"];' "$cfg")

  # 1. The closed config cannot be written (no file may grow: ulimit -f 0, SIGXFSZ ignored), the file can be
  # removed: it is, and the intake refuses every token of the site (403) instead of answering 201.
  ( trap '' XFSZ; ulimit -f 0; intake_php deactivate )
  intake_check "closed config not writable: the config file removed" no "$([ -e "$file" ] && echo yes || echo no)"
  intake_post "$event" "$token" '{"registration":{"ref":"closed-unwritable"}}'
  intake_check "closed config not writable: intake" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  intake_php activate
  intake_post "$event" "$token" '{"registration":{"ref":"reopened-after-removal"}}'
  intake_check "reactivated: the config written again, intake" 201 "$INTAKE_CODE"
  intake_ledger "$event" - '{"ref":"reopened-after-removal"}'

  # 2. The config dir was made by root (0750); deactivation run as www-data can neither rewrite nor remove the file:
  # WP-CLI warns and the error log says so (the file still accepts: someone must act).
  intake_check "the config dir belongs to root, not writable by www-data" "root no" \
    "$(stat -c %U "$(dirname "$file")") $(runuser -u www-data -- test -w "$(dirname "$file")" && echo yes || echo no)"
  mkdir -p "$WORK/wp-cli-www" && chown www-data "$WORK/wp-cli-www" && chmod o+x "$WORK"
  local logged
  logged=$(grep -c 'fast intake could not be closed' "$WORK/debug.log")
  if [ -f "$cli" ]; then
    out=$(runuser -u www-data -- env HOME="$WORK/wp-cli-www" WP_CLI_CACHE_DIR="$WORK/wp-cli-www" php -d error_reporting=24575 "$cli" \
      --path="$STACK_WP_ROOT" --url="http://$HOST/" plugin deactivate "$PLUGIN" 2>&1)
    intake_check "WP-CLI as www-data: warns that the intake could not be closed" 1 "$(grep -c 'Warning: The fast intake could not be closed' <<< "$out")"
  else
    echo "  (no WP-CLI in /work/shared/tools: deactivating through WordPress as www-data)"
    runuser -u www-data -- env STACK_WP_HOST="$HOST" STACK_WP_LOAD="$(stack_wp_loader)" STACK_WP_ROOT="$STACK_WP_ROOT" E2E_PLUGIN="$PLUGIN" \
      php "$E2E_PHP/intake.php" deactivate
  fi
  intake_check "the error log says the intake could not be closed" 1 "$(( $(grep -c 'fast intake could not be closed' "$WORK/debug.log") > logged ))"
  intake_php activate

  # 3. REG_BUFFER_DISABLED seen first by php-fpm (www-data): the admin shows an error notice while the file still
  # accepts.
  echo "define( 'REG_BUFFER_DISABLED', true ); // intake-test" >> "$STACK_WP_ETC/config-$HOST.php"
  sleep 2.1 # php-fpm's opcache revalidates wp-config
  local jar="$WORK/cookies-stuck" base="http://127.0.0.1:$STACK_WEB_PORT" page
  curl -s -o /dev/null -c "$jar" -b 'wordpress_test_cookie=WP%20Cookie%20check' -H "Host: $HOST" \
    --data-urlencode log=admin --data-urlencode "pwd=$E2E_ADMIN_PASSWORD" --data testcookie=1 "$base/wp-login.php"
  page=$(curl -s -b "$jar" -H "Host: $HOST" "$base/wp-admin/index.php")
  intake_check "REG_BUFFER_DISABLED, config not writable by php-fpm: admin error notice" 1 "$(grep -c 'reg_buffer: the fast intake could not be closed' <<< "$page")"
  site_undefine REG_BUFFER_DISABLED
  site_undefine REG_BUFFER_INTAKE_RATE_LIMIT
  flush_until_empty || INTAKE_FAILED=$((INTAKE_FAILED + 1))
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  intake_done
}

the_intake_config_leaves_the_default_directory_once_one_is_configured() {
  # Review of issue 13, finding 5: with REG_BUFFER_INTAKE_CONFIG_DIR set, the old file (secret, Redis URL,
  # accepting:true) must not stay where an intake without the fastcgi_param still finds it.
  INTAKE_PASSED=0 INTAKE_FAILED=0
  intake_link || return 1
  local event token cfg old temp elsewhere="$WORK/intake-config-elsewhere"
  event=$(php -r 'echo json_decode($argv[1], true)["a"];' "$(intake_php setup)")
  token=$(intake_php mint "$event" 5)
  cfg=$(intake_php config)
  old=$(php -r 'echo json_decode($argv[1], true)["file"];' "$cfg")
  temp=$(intake_php crash-temp)
  intake_check "before: the config and a crash's temp file in the default directory" "yes yes" \
    "$([ -e "$old" ] && echo yes || echo no) $([ -e "$temp" ] && echo yes || echo no)"
  mkdir -p "$elsewhere"
  site_define REG_BUFFER_INTAKE_CONFIG_DIR "'$elsewhere'"
  intake_check "configured: the file in the configured directory, none left in the default one" "yes no no" \
    "$([ -e "$elsewhere/$(basename "$old")" ] && echo yes || echo no) $([ -e "$old" ] && echo yes || echo no) $([ -e "$temp" ] && echo yes || echo no)"
  intake_post "$event" "$token" '{"registration":{"ref":"old-config-dir"}}'
  intake_check "an intake without the fastcgi_param finds no config" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  site_undefine REG_BUFFER_INTAKE_CONFIG_DIR
  rm -rf "$elsewhere"
  intake_post "$event" "$token" '{"registration":{"ref":"default-config-dir-again"}}'
  intake_check "back in the default directory: intake" 201 "$INTAKE_CODE"
  intake_ledger "$event" - '{"ref":"default-config-dir-again"}'
  flush_until_empty || INTAKE_FAILED=$((INTAKE_FAILED + 1))
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi
  intake_done
}

a_network_site_archived_spammed_deactivated_or_deleted_takes_no_intake_registrations() {
  # Review of issue 13, finding 4, on the network of each_site_of_a_network_has_its_own_table_and_buffer (run it
  # first): a new site's intake, over HTTP, through each status change and its deletion.
  INTAKE_PASSED=0 INTAKE_FAILED=0
  [ -n "${MS_HOST:-}" ] || { echo "  FAIL: run each_site_of_a_network_has_its_own_table_and_buffer first" >&2; return 1; }
  intake_link || return 1
  local site blog event token file step want n=0
  net_php() { stack_wp_php "$MS_HOST" "$E2E_PHP/intake-network.php" "$@"; }
  site=$(net_php site "/intake-$ID/") || return 1
  blog=$(php -r 'echo json_decode($argv[1], true)["blog"];' "$site")
  event=$(php -r 'echo json_decode($argv[1], true)["event"];' "$site")
  token=$(php -r 'echo json_decode($argv[1], true)["token"];' "$site")
  file=$(php -r 'echo json_decode($argv[1], true)["file"];' "$site")
  for step in "-:201" "archive:503" "unarchive:201" "spam:503" "ham:201" "deactivate:503" "activate:201"; do
    IFS=: read -r change want <<< "$step"
    [ "$change" = - ] || net_php "$change" "$blog"
    n=$((n + 1))
    intake_post "$event" "$token" "{\"registration\":{\"ref\":\"network-$n\"}}"
    intake_check "network site, after ${change/-/nothing}: intake" "$want" "$INTAKE_CODE"
  done
  net_php delete "$blog"
  intake_check "deleted site: its config file removed" no "$([ -e "$file" ] && echo yes || echo no)"
  intake_post "$event" "$token" '{"registration":{"ref":"network-deleted"}}'
  intake_check "deleted site: intake" "403 reg_buffer_token_invalid" "$INTAKE_CODE $(json_get code)"
  intake_done
}

the_public_rest_route_is_rate_limited_by_default() {
  # Review of issue 13, finding 7: REG_BUFFER_REST_PUBLIC without REG_BUFFER_REST_RATE_LIMIT (the network of
  # each_site_of_a_network_has_its_own_table_and_buffer) limits each client to 60 requests a minute, as the intake.
  INTAKE_PASSED=0 INTAKE_FAILED=0
  [ -n "${MS_HOST:-}" ] || { echo "  FAIL: run each_site_of_a_network_has_its_own_table_and_buffer first" >&2; return 1; }
  local n codes="" limited=0
  while [ $(( $(date +%s) % 60 )) -ge 30 ]; do sleep 1; done # all in one fixed window
  for n in $(seq 1 61); do
    # An event that does not exist: counted, then 404; nothing is stored.
    codes=$(curl -s -o "$WORK/rest-rate.body" -D "$WORK/rest-rate.headers" -w '%{http_code}' -H "Host: $MS_HOST" -H 'Content-Type: application/json' \
      --data '{"registration":{"ref":"rest-rate"}}' "http://127.0.0.1:$STACK_WEB_PORT/wp-json/reg-buffer/v1/events/999999/registrations")
    [ "$codes" = 429 ] && limited=$n && break
  done
  # The window may hold a request of an earlier test: a 429 at the 61st at the latest, with the limit 60.
  intake_check "a 429 within 61 anonymous requests on the public route" yes "$([ "$limited" -gt 1 ] && [ "$limited" -le 61 ] && echo yes || echo "no ($limited)")"
  intake_check "429: Retry-After, X-RateLimit-Limit 60" "1 1" \
    "$(grep -ci '^Retry-After: [0-9]' "$WORK/rest-rate.headers") $(grep -ciE '^X-RateLimit-Limit: 60\s*$' "$WORK/rest-rate.headers")"
  INTAKE_LINK=/nonexistent
  intake_done
}
