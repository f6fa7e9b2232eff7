#!/usr/bin/env bash
# Side experiment (not run by run.sh): redis-server's instructions per registration for the claims and the acks of a
# drain, counted by callgrind (a deterministic count: this machine's timings swing 1.5-2x within minutes, and it has
# no hardware counters for perf). A private redis-server runs under callgrind with instrumentation switched on only
# while one phase runs: every claim of a backlog (reg_buffer_flush, no ack), then every ack of those batches.
# usage: claim_ack_instructions.sh EXTENSION.so [EVENTS=100] [N=10000] [PORT=6422]
set -euo pipefail
so=$(realpath "$1") events=${2:-100} n=${3:-10000} port=${4:-6422}
tmp=$(mktemp -d)
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
cp /etc/php/8.2/cli/conf.d/*.ini "$tmp/"
rm -f "$tmp/"*reg_buffer*
echo "extension=$so" >"$tmp/99-reg_buffer.ini"
php_() { PHP_INI_SCAN_DIR="$tmp" php -d reg_buffer.redis_url="redis://127.0.0.1:$port" "$@"; }
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg.out" \
  redis-server --port "$port" --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
vpid=$!
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
php_ -r '$e = (int) $argv[1]; $n = (int) $argv[2];
  $reg = ["email" => "someone@example.com", "name" => "Ada Lovelace", "ticket" => "GA", "qty" => 2, "ip" => "203.0.113.7"];
  for ($i = 0; $i < $n; $i++) reg_buffer_push($i % $e + 1, $reg, "p$i." . uniqid() . "@example.com");' "$events" "$n"
# Instructions of redis-server (all of it: event loop, parsing, scripts) while the command runs.
phase() {
  callgrind_control -z "$vpid" >/dev/null 2>&1
  callgrind_control -i on "$vpid" >/dev/null 2>&1
  "$@"
  callgrind_control -i off "$vpid" >/dev/null 2>&1
  callgrind_control -d "$vpid" >/dev/null 2>&1
  local f; f=$(ls -t "$tmp"/cg.out.* | head -1)
  awk '/^totals:/{print $2; exit}' "$f"
  rm -f "$tmp"/cg.out.*
}
claim=$(phase php_ -r '$ids = []; while (($b = reg_buffer_flush(1000, 300, false))["rows"]) $ids[] = $b["batch"];
  file_put_contents($argv[1], implode("\n", $ids));' "$tmp/batches")
ack=$(phase php_ -r 'foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $b) reg_buffer_ack($b);' "$tmp/batches")
echo "$(basename "$so") events=$events n=$n claim_instructions_per_registration=$((claim / n)) ack_instructions_per_registration=$((ack / n))"
