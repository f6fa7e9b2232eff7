#!/usr/bin/env bash
# The WP-CLI commands as a WP-CLI user meets them (issue 14): run through the real WP-CLI 2.12 where
# ../shared/tools/wp-cli exists, else the stand-in (ops.sh's ops_wp), with standard input empty as under cron.
#
#   tests/e2e/cli.sh             runs tests/e2e/run.sh with only these tests (the stack is set up as for all)
#   sourced by tests/e2e/run.sh  adds CLI_TESTS before the uninstall test
#
# Uses run.sh's helpers (wp_php, status_of, expect, flush_until_empty, $WORK, $E2E_PHP, $STACK_*) and ops.sh's
# ops_wp and ops_json.

CLI_TESTS="the_wp_cli_help_gives_each_command_a_whole_sentence_as_its_summary
wp_cli_with_nothing_to_do_succeeds_and_a_wrong_argument_is_an_error
a_wp_cli_flush_counts_in_words_and_says_what_it_quarantined
wp_cli_status_has_one_shape_in_json_and_yaml_and_rows_in_table_and_csv
with_redis_down_wp_cli_says_redis_cannot_be_reached_and_why"

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  E2E_TESTS=$(echo $CLI_TESTS) exec "$(cd "$(dirname "$0")" && pwd)/run.sh"
fi

ALL_TESTS="${ALL_TESTS/uninstalling_removes_the_table_options_and_schedule/$CLI_TESTS
uninstalling_removes_the_table_options_and_schedule}"

# cli ARGS...: runs `wp ARGS...`; sets CLI_OUT (stdout), CLI_ERR (stderr) and CLI_RC (exit code).
cli() {
  CLI_RC=0
  ops_wp "$@" > "$WORK/cli.out" 2> "$WORK/cli.err" || CLI_RC=$?
  CLI_OUT=$(cat "$WORK/cli.out"); CLI_ERR=$(cat "$WORK/cli.err")
}
# cli_expect WHAT RC PATTERN: the last cli call exited RC and its output (stdout and stderr) has PATTERN (grep -E).
cli_expect() {
  if [ "$CLI_RC" != "$2" ] || ! grep -qE -- "$3" <<< "$CLI_OUT"$'\n'"$CLI_ERR"; then
    echo "  FAIL: $1: expected exit $2 and /$3/, got exit $CLI_RC:" >&2
    printf '%s\n%s\n' "$CLI_OUT" "$CLI_ERR" | sed 's/^/    /' | head -20 >&2
    return 1
  fi
}
# cli_refute WHAT PATTERN: the last cli call's output does not have PATTERN.
cli_refute() {
  if grep -qE -- "$2" <<< "$CLI_OUT"$'\n'"$CLI_ERR"; then
    echo "  FAIL: $1: /$2/ in:" >&2
    printf '%s\n%s\n' "$CLI_OUT" "$CLI_ERR" | sed 's/^/    /' | head -20 >&2
    return 1
  fi
}

the_wp_cli_help_gives_each_command_a_whole_sentence_as_its_summary() {
  # WP-CLI takes a docblock's first line as the short description: a summary wrapped over two lines is cut in
  # half ("… import the seed snippet's"). Each summary must be a whole sentence, ending with its full stop.
  local entry command count summaries cut
  echo "  with $OPS_WP_CLI"
  for entry in "reg-buffer:9" "reg-buffer quarantine:3" "reg-buffer set-aside:3"; do
    command=${entry%:*}; count=${entry##*:}
    # shellcheck disable=SC2086 # the command's words, as WP-CLI takes them
    cli help $command
    expect "wp help $command: exit code" 0 "$CLI_RC" || return 1
    [ -n "$CLI_OUT" ] || { echo "  FAIL: wp help $command printed nothing (stderr: $CLI_ERR)" >&2; return 1; }
    # The DESCRIPTION paragraph, then each SUBCOMMANDS entry (its wrapped lines joined), one per line.
    summaries=$(php -r '
      $sections = preg_split("/^([A-Z]+)$/m", $argv[1], -1, PREG_SPLIT_DELIM_CAPTURE);
      $out = [];
      for ($i = 1; $i < count($sections); $i += 2) {
        $body = explode("\n\n", trim($sections[$i + 1], "\n"))[0];
        if ("DESCRIPTION" === $sections[$i]) {
          $out[] = "(description) " . preg_replace("/\s+/", " ", trim($body));
        } elseif ("SUBCOMMANDS" === $sections[$i]) {
          foreach (preg_split("/\n(?=  \S)/", $body) as $entry) {
            $out[] = preg_replace("/\s+/", " ", trim($entry));
          }
        }
      }
      echo implode("\n", $out);' "$CLI_OUT")
    echo "$summaries" | sed "s/^/    wp help $command: /"
    expect "wp help $command: subcommands listed" "$count" "$(grep -vc '^(description)' <<< "$summaries")" || return 1
    cut=$(grep -v '\.$' <<< "$summaries" || true)
    [ -z "$cut" ] || { echo "  FAIL: wp help $command: summaries cut mid-sentence (no full stop):" >&2; echo "$cut" | sed 's/^/    /' >&2; return 1; }
  done
}

wp_cli_with_nothing_to_do_succeeds_and_a_wrong_argument_is_an_error() {
  flush_until_empty || return 1
  # Nothing quarantined, nothing set aside: --all has nothing to do, which is success.
  cli reg-buffer quarantine purge --all --yes; cli_expect "quarantine purge --all --yes (whatever is there)" 0 '^Success: ' || return 1
  cli reg-buffer set-aside purge --all --yes; cli_expect "set-aside purge --all --yes (whatever is there)" 0 '^Success: ' || return 1
  expect "quarantined" 0 "$(status_of buffer.quarantined)" || return 1
  expect "set aside" 0 "$(status_of set_aside)" || return 1
  cli reg-buffer quarantine purge --all --yes; cli_expect "quarantine purge --all --yes, empty" 0 '^Success: Nothing to purge: the quarantine is empty\.$' || return 1
  cli reg-buffer quarantine purge --all; cli_expect "quarantine purge --all, empty (nothing to ask)" 0 '^Success: Nothing to purge' || return 1
  cli reg-buffer quarantine retry --all; cli_expect "quarantine retry --all, empty" 0 '^Success: Nothing to retry' || return 1
  cli reg-buffer set-aside purge --all --yes; cli_expect "set-aside purge --all --yes, empty" 0 '^Success: Nothing to purge: the set-aside table is empty\.$' || return 1
  cli reg-buffer set-aside retry --all; cli_expect "set-aside retry --all, empty" 0 '^Success: Nothing to retry' || return 1
  # Naming nothing without --all is still a mistake.
  cli reg-buffer quarantine retry; cli_expect "quarantine retry without entries or --all" 1 '^Error: Name quarantined entries \(see `wp reg-buffer quarantine list`\) or use --all\.' || return 1

  # An unknown loss is an error whether or not there are losses to acknowledge.
  cli reg-buffer acknowledge-loss; cli_expect "acknowledge-loss (all, whatever is there)" 0 '^Success: ' || return 1
  expect "Redis losses" '[]' "$(status_of redis_losses)" || return 1
  cli reg-buffer acknowledge-loss; cli_expect "acknowledge-loss with none" 0 '^Success: No Redis data loss to acknowledge\.$' || return 1
  cli reg-buffer acknowledge-loss no-such-loss; cli_expect "acknowledge-loss of an unknown key with none" 1 '^Error: No such Redis data loss: no-such-loss\.' || return 1

  # Numbers are checked as --limit always was: not silently made 1.
  wp_php "$E2E_PHP/push.php" function 5 0 1400000 buffered > /dev/null || return 1
  local option name
  for option in "flush --batch-size=0" "flush --batch-size=abc" "flush --batch-size=-3" "flush --batch-size=1.5" "flush --limit=abc" \
    "flush --limit=0" "drain --timeout=abc" "drain --timeout=0"; do
    # shellcheck disable=SC2086 # the command and its option, as two words
    cli reg-buffer $option
    name=${option#*--}; name=${name%%=*}
    cli_expect "wp reg-buffer $option" 1 "^Error: --$name must be" || return 1
    cli_expect "wp reg-buffer $option: says what it takes" 1 'must be a whole number of 1 or more' || return 1
  done
  echo "    e.g. $CLI_ERR"
  expect "pending after the refused commands (nothing flushed)" 5 "$(status_of buffer.pending)" || return 1
  cli reg-buffer flush --batch-size=2 --limit=3
  cli_expect "flush --batch-size=2 --limit=3" 0 '^Success: 3 registrations in 2 batches: 3 stored' || return 1
  cli reg-buffer drain --timeout=30
  cli_expect "drain --timeout=30" 0 '^Success: Drained' || return 1
  expect "pending after drain" 0 "$(status_of buffer.pending)" || return 1
  wp_php "$E2E_PHP/verify.php"
}

a_wp_cli_flush_counts_in_words_and_says_what_it_quarantined() {
  flush_until_empty || return 1
  # One registration that flushes, and one whose stored bytes are then overwritten: the flush quarantines it.
  wp_php "$E2E_PHP/push.php" function 1 0 1410000 buffered > /dev/null || return 1
  cat > "$WORK/cli-garbage.php" <<'PHP'
<?php
require getenv( 'STACK_WP_LOAD' );
$outcome = reg_buffer_register( 38, array( 'ref' => 'cli-garbage' ) );
echo Reg_Buffer_Settings::site_key_prefix(), ' ', $outcome->status, ' ', $outcome->registration_id, "\n";
PHP
  local prefix status id
  read -r prefix status id <<< "$(wp_php "$WORK/cli-garbage.php")"
  expect "the registration to damage" buffered "$status" || return 1
  expect "its stored bytes overwritten" 0 "$(redis-cli -p "$STACK_REDIS_PORT" HSET "${prefix}ev:{38}:d" "$id" 'garbage that is no stored registration')" || return 1

  cli reg-buffer flush
  cli_expect "flush with one to quarantine" 0 '^Success: 1 registration in 1 batch: 1 stored, 0 already stored \(duplicates\), 0 set aside, 1 quarantined, 1 acknowledged; outcome empty$' || return 1
  cli_expect "flush: the warning names the quarantine and its list" 0 '^Warning: 1 buffered registration could not be decoded and was quarantined in Redis: see `wp reg-buffer quarantine list`' || return 1
  echo "    $CLI_ERR"
  expect "quarantined" 1 "$(status_of buffer.quarantined)" || return 1
  cli reg-buffer quarantine list --format=count; cli_expect "quarantine list --format=count" 0 '^1$' || return 1
  cli reg-buffer quarantine retry "38:$id"; cli_expect "retry of the undecodable entry" 1 '^Error: 1 of 1 quarantined entry could not be retried\.$' || return 1
  cli reg-buffer quarantine retry --all; cli_expect "retry --all with nothing retryable" 0 '^Success: Nothing to retry' || return 1
  cli reg-buffer quarantine purge "38:$id"; cli_expect "purge of one entry" 0 '^Success: 1 quarantined entry purged\.$' || return 1
  cli_refute "no plural for one" '(^|[^0-9])1 (registrations|batches|entries|set-aside registrations)|\(es\)' || return 1
  wp_php "$E2E_PHP/verify.php"
}

wp_cli_status_has_one_shape_in_json_and_yaml_and_rows_in_table_and_csv() {
  flush_until_empty || return 1
  wp_php "$E2E_PHP/push.php" function 4 0 1420000 buffered > /dev/null || return 1
  local json yaml_keys json_keys
  cli reg-buffer status --format=json; json=$CLI_OUT
  expect "status --format=json: pending" 4 "$(ops_json "$json" buffer.pending)" || return 1
  json_keys=$(php -r 'echo implode(" ", array_keys(json_decode($argv[1], true)));' "$json")
  # YAML: the same object (a mapping of the same top-level keys), not a list of one.
  cli reg-buffer status --format=yaml
  cli_refute "status --format=yaml: a list" '^- *$' || return 1
  cli_refute "status --format=yaml: deprecations in the output" 'Deprecated' || return 1
  cli_expect "status --format=yaml: mode" "$CLI_RC" '^mode: "?buffer"?$' || return 1
  cli_expect "status --format=yaml: pending, nested under buffer" "$CLI_RC" '^  pending: 4$' || return 1
  yaml_keys=$(grep -oE '^[a-z_]+:' <<< "$CLI_OUT" | tr -d : | xargs)
  expect "status --format=yaml: the top-level keys of --format=json" "$json_keys" "$yaml_keys" || return 1
  # Table and CSV: one row per value, under the same header.
  cli reg-buffer status --format=csv
  cli_expect "status --format=csv: header" "$CLI_RC" '^field,value$' || return 1
  cli_expect "status --format=csv: pending row" "$CLI_RC" '^buffer\.pending,4$' || return 1
  cli_refute "status --format=csv: a Success line in the CSV" '^Success' || return 1
  cli reg-buffer status
  cli_expect "status (table): header" "$CLI_RC" $'^field\tvalue$' || return 1
  cli_expect "status (table): pending row" "$CLI_RC" $'^buffer\\.pending\t4$' || return 1
  cli reg-buffer status --format=xml; cli_expect "status --format=xml (refused)" 1 "Invalid (value specified for 'format'|format)" || return 1
  flush_until_empty || return 1
  wp_php "$E2E_PHP/verify.php"
}

with_redis_down_wp_cli_says_redis_cannot_be_reached_and_why() {
  flush_until_empty || return 1
  stack_redis_stop "$WORK"
  local failed=0
  cli_redis_down || failed=1
  stack_redis_restart "$WORK"
  [ "$failed" -eq 0 ] || return 1
  flush_until_empty || return 1
  cli reg-buffer status --format=json
  cli_refute "status after Redis returned: unreachable" 'cannot be reached' || return 1
}

cli_redis_down() {
  local command
  for command in flush drain; do
    cli reg-buffer $command
    cli_expect "$command with Redis down" 1 '^Error: Redis could not be reached \(.*Connection refused.*\): nothing was flushed, and nothing is lost\.' || return 1
    cli_refute "$command with Redis down: a batch that failed, or 0 batches" 'batch that failed|0 batches|PHP error log' || return 1
  done
  echo "    $CLI_ERR"
  cli reg-buffer status --format=json
  expect "status with Redis down: exit code" 1 "$CLI_RC" || return 1
  expect "status with Redis down: message" '"Redis cannot be reached: registrations are written directly to MySQL until it returns (the fallback)."' "$(ops_json "$CLI_OUT" message)" || return 1
  cli reg-buffer status
  cli_refute "status (table) with Redis down" 'buffered in Redis|^Success' || return 1
  cli_expect "status (table) with Redis down: warns" 1 '^Warning: Redis is unreachable' || return 1
}
