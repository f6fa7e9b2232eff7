#!/usr/bin/env bash
# ./build.sh test's compatibility and package leg: the Debian 13 stack (tests/compat/trixie.sh: PHP 8.4 build,
# cargo test, PHPUnit, e2e on redis-server 8 and valkey-server 8), then dist/ (packaging/dist.sh, as
# ./build.sh package) and the install test of its packages in clean Debian 12 and 13 roots (packages.sh).
# Expects ./build.sh build to have run (dist/'s PHP 8.2 files come from target/release). Every leg runs even when
# one before it failed (the install test needs dist/); the exit status is 1 if any failed. Each leg is timed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
times=()
failed=()
leg() {
  local name=$1 started=$SECONDS rc=0; shift
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then times+=("$name $((SECONDS - started)) s"); else
    times+=("$name FAILED after $((SECONDS - started)) s"); failed+=("$name"); fi
}
leg "Debian 13 stack" "$ROOT/tests/compat/trixie.sh"
leg "dist/" "$ROOT/packaging/dist.sh"
if [ -d "$ROOT/dist" ]; then leg "install test" "$ROOT/tests/compat/packages.sh"; fi
printf '\n==> compat legs: %s\n' "$(IFS=,; echo "${times[*]}")"
[ ${#failed[@]} -eq 0 ] || { echo "compat: FAILED: ${failed[*]}" >&2; exit 1; }
