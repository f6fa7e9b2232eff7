#!/usr/bin/env bash
# Upgrade: registrations buffered by the previous layout's build (before the inbox, issue 17) are flushed by this
# build like any other, exactly once. The previous build is compiled from git (commit BASE, cached in
# target/upgrade-base); it pushes (plain, with unique keys, to an event with seats) and claims a batch it never
# acknowledges, then this build pushes more and drains: every id once, each with its data, and the old build's
# in-flight batch comes back after its lease. Usage: tests/upgrade/run.sh
set -euo pipefail
BASE=537a38f   # the last commit whose pushes wrote the events' queues themselves
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if ! git cat-file -e "$BASE^{commit}" 2>/dev/null; then
  echo "upgrade: skipped — commit $BASE is not in this checkout (a shallow clone); the test needs the previous build's source" >&2
  exit 0
fi
tmp=$(mktemp -d); pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

echo "upgrade: building the previous layout ($BASE)"
mkdir "$tmp/src"
git archive "$BASE" | tar -x -C "$tmp/src"
CARGO_TARGET_DIR="$root/target/upgrade-base" cargo build --release --quiet --manifest-path "$tmp/src/Cargo.toml"
old_so=$root/target/upgrade-base/release/libreg_buffer.so
new_so=$root/target/release/libreg_buffer.so

# Each build from a private ini dir: php.ini's settings without the installed reg_buffer.
for v in old new; do
  mkdir "$tmp/$v"
  cp /etc/php/*/cli/conf.d/*.ini "$tmp/$v/" 2>/dev/null || true
  rm -f "$tmp/$v/"*reg_buffer*
done
echo "extension=$old_so" > "$tmp/old/99-reg_buffer.ini"
echo "extension=$new_so" > "$tmp/new/99-reg_buffer.ini"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" > "$tmp/redis.log" 2>&1 &
pid=$!
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

run() { PHP_INI_SCAN_DIR=$tmp/$1 php "$root/tests/upgrade/upgrade.php" "$2" "$port" "$tmp/ledger.json"; }
run old push
run new check
