#!/usr/bin/env bash
# The plugin's classes with WordPress loaded, against a real database and a private Redis (bootstrap.php makes
# and removes both): tests/plugin/run.sh [phpunit arguments, e.g. --filter Quarantine]
set -euo pipefail
cd "$(dirname "$0")"
command -v phpunit >/dev/null || { echo "phpunit not found (Debian: apt-get install phpunit)" >&2; exit 1; }
exec phpunit -c phpunit.xml "$@"
