#!/usr/bin/env bash
# Shell checks the test run relies on: a `… | grep -q` under `set -o pipefail` fails when grep exits at its first
# match and the writer then dies of SIGPIPE (`php -m | grep -q x` said "not loaded" while it was). Use
# `grep … >/dev/null` instead, which reads to the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
bad=$(git ls-files -z -- '*.sh' build.sh .ci/run ':!tests/lint/shell.sh' | xargs -0 grep -nE '\|[[:space:]]*grep[[:space:]]+(-[A-Za-z]*q|--quiet)' \
  | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#' || true)
if [ -n "$bad" ]; then
  printf 'grep -q after a pipe (fails under pipefail when the writer outlives grep):\n%s\n' "$bad" >&2
  exit 1
fi
echo "shell lint: no '| grep -q' in the project's scripts"
