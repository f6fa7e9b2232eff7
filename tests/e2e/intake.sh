#!/usr/bin/env bash
# End-to-end test of the fast intake (wordpress-plugin/reg-buffer/intake.php), over real HTTP through the stack's
# nginx + php-fpm, with the stack's Redis and MariaDB; no mocks.
#
#   tests/e2e/intake.sh            runs tests/e2e/run.sh with only this test (the stack is set up as for all)
#   sourced by tests/e2e/run.sh    adds fast_intake_takes_signed_registrations_without_wordpress to its tests
#
# The intake is served at its own file's path: a symlink in the stack's document root points at the installed
# plugin's intake.php (Debian's WordPress keeps wp-content outside the document root), like the readme's
# `location = /reg-buffer-intake` does. Prints "intake: N passed, M failed".

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  E2E_TESTS=fast_intake_takes_signed_registrations_without_wordpress exec "$(cd "$(dirname "$0")" && pwd)/run.sh"
fi

ALL_TESTS="${ALL_TESTS/uninstalling_removes_the_table_options_and_schedule/fast_intake_takes_signed_registrations_without_wordpress
uninstalling_removes_the_table_options_and_schedule}"

intake_php() { wp_php "$E2E_PHP/intake.php" "$@"; }

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
  local link="$STACK_WP_ROOT/reg-buffer-intake-$ID.php" setup a b draft token t2 t3 reg id
  ln -sfn "$STACK_WP_CONTENT/plugins/$PLUGIN/intake.php" "$link" || return 1
  INTAKE_URL="http://127.0.0.1:$STACK_WEB_PORT/reg-buffer-intake-$ID.php"

  setup=$(intake_php setup) || { rm -f "$link"; return 1; }
  a=$(php -r 'echo json_decode($argv[1], true)["a"];' "$setup")
  b=$(php -r 'echo json_decode($argv[1], true)["b"];' "$setup")
  draft=$(php -r 'echo json_decode($argv[1], true)["draft"];' "$setup")
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

  # A valid token for an event WordPress will not take (a draft): accepted now, set aside at flush with its reason.
  intake_post "$draft" "$(intake_php mint "$draft" 1)" '{"registration":{"ref":"intake-draft-event"}}'
  intake_check "registration for a draft event, at the intake" 201 "$INTAKE_CODE"
  local draft_id
  draft_id=$(json_get id)

  # Redis down: 503 with Retry-After; nothing counted, so the same token works once Redis is back.
  token=$(intake_php mint "$a" 1)
  stack_redis_stop "$WORK"
  intake_post "$a" "$token" '{"registration":{"ref":"intake-redis-down"}}'
  intake_check "Redis down" "503 reg_buffer_unavailable" "$INTAKE_CODE $(json_get code)"
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

  # No WordPress on the way: with the site's wp-config gone (every WordPress request fails), the intake still takes one.
  token=$(intake_php mint "$a" 1)
  mv "$STACK_WP_ETC/config-$HOST.php" "$WORK/config-away.php"
  local wp_code
  wp_code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "http://127.0.0.1:$STACK_WEB_PORT/wp-json/")
  intake_post "$a" "$token" '{"registration":{"ref":"intake-without-wordpress"}}'
  mv "$WORK/config-away.php" "$STACK_WP_ETC/config-$HOST.php"
  intake_check "WordPress without its config / the intake" "404 201" "$wp_code $INTAKE_CODE"
  intake_ledger "$a" - '{"ref":"intake-without-wordpress"}'

  # The plugin's flush stores them: sanitised, marker stripped; the draft event's one is set aside with its reason.
  flush_until_empty || { INTAKE_FAILED=$((INTAKE_FAILED + 1)); }
  echo "  flush: $FLUSH_TOTALS"
  local aside
  aside=$(intake_php set-aside "$draft_id")
  intake_check "draft event's registration set aside at flush" "intake: The event is not open for registrations (not a published post)." \
    "$(php -r 'echo json_decode($argv[1], true)["error"] ?? "none";' "$aside")"
  intake_check "draft event's registration not stored" 0 "$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_registrations WHERE registration_id = '$draft_id'")"
  intake_check "intake marker stripped" 0 "$(stack_sql "$DB" "SELECT COUNT(*) FROM wp_reg_buffer_registrations WHERE data LIKE '%_reg_buffer_intake%'")"
  if wp_php "$E2E_PHP/verify.php"; then INTAKE_PASSED=$((INTAKE_PASSED + 1)); else INTAKE_FAILED=$((INTAKE_FAILED + 1)); fi

  rm -f "$link"
  echo "intake: $INTAKE_PASSED passed, $INTAKE_FAILED failed"
  [ "$INTAKE_FAILED" -eq 0 ]
}
