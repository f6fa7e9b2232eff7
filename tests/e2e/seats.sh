#!/usr/bin/env bash
# Per-event capacity (issue 16) as the operator and the site see it: `wp reg-buffer seats` and `wp reg-buffer
# cancel` through the real WP-CLI (cli.sh's cli), the admin page's Seats form, and the [reg_buffer_seats_left]
# shortcode on a page served by nginx + php-fpm.
#
#   tests/e2e/seats.sh           runs tests/e2e/run.sh with only these tests (the stack is set up as for all)
#   sourced by tests/e2e/run.sh  adds SEATS_TESTS before the uninstall test
#
# Uses run.sh's helpers (wp_php, expect, flush_until_empty, stack_sql, $DB, $HOST, $E2E_PHP, $STACK_*), ops.sh's
# ops_json and cli.sh's cli, cli_expect. Events 1500-1599 are these tests'.

SEATS_TESTS="wp_cli_sets_lists_and_recounts_seats_and_a_cancel_frees_one
the_seats_left_shortcode_says_places_left_sold_out_or_waitlist_open
the_admin_page_lists_the_seats_and_its_form_sets_recounts_and_removes_a_capacity"

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  E2E_TESTS=$(echo $SEATS_TESTS) exec "$(cd "$(dirname "$0")" && pwd)/run.sh"
fi

ALL_TESTS="${ALL_TESTS/uninstalling_removes_the_table_options_and_schedule/$SEATS_TESTS
uninstalling_removes_the_table_options_and_schedule}"

# seats_book EVENT COUNT FIRST_N: books through reg_buffer_register(); SEATS_OUT gets one line per registration
# (`accepted <id> <seat>` or `error <code>`).
seats_book() { SEATS_OUT=$(wp_php "$E2E_PHP/seats.php" book "$@"); }
seats_count() { grep -c "^$1" <<< "$SEATS_OUT" || true; }
# seats_of EVENT FIELD: the field of EVENT in the last `cli reg-buffer seats --format=json`.
seats_of() { php -r 'foreach (json_decode($argv[1], true) ?? [] as $s) { if ($s["event_id"] == $argv[2]) { echo json_encode($s[$argv[3]] ?? null); exit; } } echo "absent";' "$CLI_OUT" "$1" "$2"; }

wp_cli_sets_lists_and_recounts_seats_and_a_cancel_frees_one() {
  flush_until_empty || return 1
  # What the command refuses, before anything is set.
  cli reg-buffer seats set 1500; cli_expect "seats set without --capacity" 1 '^Error: Say how many may register: wp reg-buffer seats set 1500 --capacity=<number>' || return 1
  cli reg-buffer seats set abc --capacity=2; cli_expect "seats set of no event" 1 "^Error: The event must be a whole number of 1 or more, not 'abc'\.$" || return 1
  cli reg-buffer seats set 1500 --capacity=-1; cli_expect "seats set --capacity=-1" 1 "^Error: --capacity must be a whole number of 0 or more, not '-1'\.$" || return 1
  cli reg-buffer seats recount 1500; cli_expect "recount of an event without a capacity" 1 '^Error: Event 1500 has no capacity: there is no count to redo\.' || return 1
  cli reg-buffer seats --format=json
  expect "seats --format=json: event 1500 before set" absent "$(seats_of 1500 capacity)" || return 1

  cli reg-buffer seats set 1500 --capacity=2; cli_expect "seats set 1500 --capacity=2" 0 '^Success: Event 1500 takes 2 registrations, no more \(no waitlist\)\. ' || return 1
  echo "    $CLI_OUT"
  seats_book 1500 3 1500000 || return 1
  expect "of 3 bookings for 2 seats: accepted" 2 "$(seats_count accepted)" || return 1
  expect "of 3 bookings for 2 seats: sold out" 1 "$(seats_count 'error reg_buffer_sold_out')" || return 1
  cli reg-buffer seats --format=json; expect "seats --format=json: exit code" 0 "$CLI_RC" || return 1
  echo "    $CLI_OUT"
  local field want
  for want in capacity:2 waitlist:false taken:2 waiting:0 remaining:0 known:true; do
    field=${want%%:*}
    expect "seats --format=json: 1500's $field" "${want#*:}" "$(seats_of 1500 "$field")" || return 1
  done
  cli reg-buffer seats; cli_expect "seats (table): the row of 1500" 0 $'^1500\t2\tno\t2\t0\t0\tyes\t' || return 1
  cli reg-buffer seats list --format=csv; cli_expect "seats list --format=csv: header" 0 '^event_id,capacity,waitlist,taken,waiting,remaining,known,stored,stored_waiting$' || return 1

  # Cancelling a stored registration frees its seat, which the next booking takes.
  flush_until_empty || return 1
  local id
  id=$(stack_sql "$DB" "SELECT registration_id FROM wp_reg_buffer_registrations WHERE event_id = 1500 ORDER BY registration_id LIMIT 1")
  cli reg-buffer cancel "$id"; cli_expect "cancel $id" 0 "^Success: Registration $id of event 1500 cancelled: its seat is free again \(1 place left\)\.$" || return 1
  echo "    $CLI_OUT"
  cli reg-buffer cancel "$id"; cli_expect "cancel $id again" 1 '^Error: ' || return 1
  cli reg-buffer cancel 01JD3Z7W3M6Y8QK2T5V9XN4B1C; cli_expect "cancel of no registration" 1 '^Error: ' || return 1
  cli reg-buffer seats --format=json
  expect "seats after the cancel: taken" 1 "$(seats_of 1500 taken)" || return 1
  expect "seats after the cancel: remaining" 1 "$(seats_of 1500 remaining)" || return 1
  seats_book 1500 2 1500010 || return 1
  expect "of 2 bookings for the freed seat: accepted" 1 "$(seats_count accepted)" || return 1
  expect "of 2 bookings for the freed seat: sold out" 1 "$(seats_count 'error reg_buffer_sold_out')" || return 1

  # Recount: from MySQL (1 registered row, 1 cancelled) and what Redis still buffers (the new one).
  cli reg-buffer seats recount 1500; cli_expect "seats recount 1500" 0 '^Success: Event 1500 recounted: 2 taken, 0 waiting, 0 places left\.$' || return 1
  cli reg-buffer status --format=json
  expect "status --format=json: the seats of 1500 (taken)" 2 "$(ops_json "$(php -r 'echo json_encode(array_column(json_decode($argv[1], true)["seats"], null, "event_id"));' "$CLI_OUT")" 1500.taken)" || return 1
  cli reg-buffer status --format=csv; cli_expect "status --format=csv: a row per figure of 1500" "$CLI_RC" '^seats\.1500\.remaining,0$' || return 1

  # Redis forgets the count (as when it restarts without its data): the status warns, the list says so, until a
  # recount counts it again (1 stored row + 1 buffered).
  cat > "$WORK/seats-forget.php" <<'PHP'
<?php
require getenv( 'STACK_WP_LOAD' );
Reg_Buffer_Bridge::seats_forget( (int) $argv[1] ); // Under the site's key prefix, as the plugin talks to Redis.
PHP
  wp_php "$WORK/seats-forget.php" 1500 || return 1
  cli reg-buffer status; cli_expect "status with 1500's count forgotten" 1 '^Warning: Redis does not know how many seats of event 1500 are taken' || return 1
  cli reg-buffer seats; cli_expect "seats (table) with 1500's count forgotten" 0 $'^1500\t2\tno\t2\t0\t0\tno\t1\t0$' || return 1
  cli_expect "seats (table) with 1500's count forgotten: a warning" 0 '^Warning: Redis does not know the count of event 1500 yet' || return 1
  cli reg-buffer seats recount 1500; cli_expect "seats recount 1500 after the count was forgotten" 0 '^Success: Event 1500 recounted: 2 taken, 0 waiting, 0 places left\.$' || return 1
  cli reg-buffer status --format=json
  cli_refute "status after the recount: seats_unknown" 'seats_unknown' || return 1

  # A waitlist: the one past the capacity waits, and gets the seat a cancel frees.
  cli reg-buffer seats set 1501 --capacity=1 --waitlist; cli_expect "seats set 1501 --capacity=1 --waitlist" 0 '^Success: Event 1501 takes 1 registration, then a waitlist\.' || return 1
  seats_book 1501 2 1500100 || return 1
  expect "of 2 bookings for 1 seat with a waitlist: accepted" 2 "$(seats_count accepted)" || return 1
  local first second
  expect "the seats given" "registered waitlisted" "$(awk '{print $3}' <<< "$SEATS_OUT" | xargs)" || return 1
  first=$(awk 'NR == 1 {print $2}' <<< "$SEATS_OUT"); second=$(awk 'NR == 2 {print $2}' <<< "$SEATS_OUT")
  cli reg-buffer seats --format=json
  expect "seats of 1501: taken" 1 "$(seats_of 1501 taken)" || return 1
  expect "seats of 1501: waiting" 1 "$(seats_of 1501 waiting)" || return 1
  flush_until_empty || return 1
  cli reg-buffer cancel "$first"; cli_expect "cancel of 1501's registered one" 0 "^Success: Registration $first of event 1501 cancelled: its seat went to $second from the waitlist \(0 places left\)\.$" || return 1
  echo "    $CLI_OUT"
  expect "status of the promoted one" registered "$(stack_sql "$DB" "SELECT status FROM wp_reg_buffer_registrations WHERE registration_id = '$second'")" || return 1

  # Unset: unlimited again; a second unset has nothing to do.
  cli reg-buffer seats unset 1500; cli_expect "seats unset 1500" 0 '^Success: Event 1500 has no capacity any more' || return 1
  cli reg-buffer seats unset 1500; cli_expect "seats unset 1500 again" 0 '^Success: Event 1500 has no capacity: nothing to remove\.$' || return 1
  cli reg-buffer seats unset 1501; cli_expect "seats unset 1501" 0 '^Success: ' || return 1
  cli reg-buffer seats --format=json
  expect "seats --format=json: 1500 after unset" absent "$(seats_of 1500 capacity)" || return 1
  flush_until_empty || return 1
  wp_php "$E2E_PHP/verify.php"
}

the_seats_left_shortcode_says_places_left_sold_out_or_waitlist_open() {
  flush_until_empty || return 1
  # The shortcode shows the seats of open events only (published posts here): 1510 and 1511 are, 1513 a draft.
  wp_php "$E2E_PHP/seats.php" event 1510 >/dev/null && wp_php "$E2E_PHP/seats.php" event 1511 >/dev/null || return 1
  cli reg-buffer seats set 1510 --capacity=2; cli_expect "seats set 1510 --capacity=2" 0 '^Success: ' || return 1
  cli reg-buffer seats set 1511 --capacity=1 --waitlist; cli_expect "seats set 1511 --capacity=1 --waitlist" 0 '^Success: ' || return 1
  # One page with the shortcode of each event, and of an event without a capacity and of no event at all.
  local page html span
  page=$(wp_php "$E2E_PHP/seats.php" page '<p>[reg_buffer_seats_left event="1510"]</p><p>[reg_buffer_seats_left event="1511"]</p><p>unlimited:[reg_buffer_seats_left event="1512"]:none:[reg_buffer_seats_left event="12abc"]:end</p>') || return 1
  # shows EVENT WORDS REMAINING STATE: the page's content as WordPress renders it for a visitor (the REST API over
  # nginx + php-fpm: the test site has no theme to render a whole page) has EVENT's span saying WORDS.
  shows() {
    html=$(curl -s -H "Host: $HOST" "http://127.0.0.1:$STACK_WEB_PORT/?rest_route=/wp/v2/pages/$page" | php -r 'echo json_decode(stream_get_contents(STDIN), true)["content"]["rendered"] ?? "";')
    span=$(grep -o "<span class=\"reg-buffer-seats-left[^>]*data-event=\"$1\"[^>]*>[^<]*</span>" <<< "$html" || true)
    expect "the page's [reg_buffer_seats_left event=\"$1\"]" \
      "<span class=\"reg-buffer-seats-left reg-buffer-seats-$4\" data-event=\"$1\" data-remaining=\"$3\">$2</span>" "$span"
  }
  shows 1510 "2 places left" 2 open || return 1
  shows 1511 "1 place left" 1 open || return 1
  expect "shortcodes of an event without a capacity and of no event: nothing" 1 "$(grep -c 'unlimited::none::end' <<< "$html")" || return 1
  seats_book 1510 1 1510000 || return 1
  shows 1510 "1 place left" 1 open || return 1
  seats_book 1510 1 1510010 || return 1
  shows 1510 "Sold out" 0 sold-out || return 1
  seats_book 1511 1 1510100 || return 1
  shows 1511 "Waitlist open" 0 waitlist || return 1
  echo "    $span"
  cli reg-buffer seats unset 1510; cli_expect "seats unset 1510" 0 '^Success: ' || return 1
  cli reg-buffer seats unset 1511; cli_expect "seats unset 1511" 0 '^Success: ' || return 1
  flush_until_empty || return 1
  wp_php "$E2E_PHP/verify.php"
}

the_admin_page_lists_the_seats_and_its_form_sets_recounts_and_removes_a_capacity() {
  wp_php "$E2E_PHP/seats-admin.php" 1520
}
