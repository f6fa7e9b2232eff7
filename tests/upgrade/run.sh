#!/usr/bin/env bash
# Upgrade: registrations buffered by the previous layout's build (before the inbox, issue 17) are flushed by this
# build like any other, exactly once. The previous build is compiled from git (commit BASE, cached in
# target/upgrade-base); it pushes (plain, with unique keys, to an event with seats) and claims a batch it never
# acknowledges, then this build pushes more and drains: every id once, each with its data, and the old build's
# in-flight batch comes back after its lease. Then the previous release (BESIDE: the inbox, without the held list)
# flushes beside this build, as in a rolling upgrade or a rollback: what this build pushed (with unique keys too) is
# flushed exactly once between them. Usage: tests/upgrade/run.sh
set -euo pipefail
BASE=537a38f     # the last commit whose pushes wrote the events' queues themselves
BESIDE=1e28059   # the last commit before a marker held its registration (stop 23's release)
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
for commit in "$BASE" "$BESIDE"; do
  if ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "upgrade: skipped — commit $commit is not in this checkout (a shallow clone); the test needs the previous builds' source" >&2
    exit 0
  fi
done
tmp=$(mktemp -d); pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

build() { # commit, target dir name
  echo "upgrade: building $1"
  mkdir "$tmp/src-$2"
  git archive "$1" | tar -x -C "$tmp/src-$2"
  CARGO_TARGET_DIR="$root/target/$2" cargo build --release --quiet --manifest-path "$tmp/src-$2/Cargo.toml"
}
build "$BASE" upgrade-base
build "$BESIDE" upgrade-beside

# Each build from a private ini dir: php.ini's settings without the installed reg_buffer.
for v in old beside new; do
  mkdir "$tmp/$v"
  cp /etc/php/*/cli/conf.d/*.ini "$tmp/$v/" 2>/dev/null || true
  rm -f "$tmp/$v/"*reg_buffer*
done
echo "extension=$root/target/upgrade-base/release/libreg_buffer.so" > "$tmp/old/99-reg_buffer.ini"
echo "extension=$root/target/upgrade-beside/release/libreg_buffer.so" > "$tmp/beside/99-reg_buffer.ini"
echo "extension=$root/target/release/libreg_buffer.so" > "$tmp/new/99-reg_buffer.ini"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" > "$tmp/redis.log" 2>&1 &
pid=$!
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

run() { PHP_INI_SCAN_DIR=$tmp/$1 php "$root/tests/upgrade/$2.php" "$3" "$port" "$tmp/$2.json"; }
run old upgrade push
run new upgrade check
run new beside push
run beside beside flush
run new beside check
