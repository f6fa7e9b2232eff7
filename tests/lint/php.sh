#!/usr/bin/env bash
# The plugin's PHP under phpcs.xml.dist (WordPress-Extra + the security sniffs), with PHP_CodeSniffer 3.10, WPCS 3.1,
# PHPCSUtils and PHPCSExtra from ../shared/tools/phpcs (REG_BUFFER_PHPCS_TOOLS overrides). Where they are absent
# (a fresh machine), says so and skips: Debian's own php-codesniffer is too old for WPCS 3.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools=${REG_BUFFER_PHPCS_TOOLS:-../shared/tools/phpcs}
if [ ! -f "$tools/PHP_CodeSniffer/bin/phpcs" ]; then
  echo "php lint: SKIPPED: no PHP_CodeSniffer at $tools (PHP_CodeSniffer 3.10 + WPCS 3.1 + PHPCSUtils + PHPCSExtra are needed; set REG_BUFFER_PHPCS_TOOLS to where they are)"
  exit 0
fi
for standard in WPCS PHPCSUtils PHPCSExtra; do
  [ -d "$tools/$standard" ] || { echo "php lint: SKIPPED: $tools has PHP_CodeSniffer but not $standard" ; exit 0; }
done
# installed_paths are resolved against PHP_CodeSniffer's own folder unless absolute: realpath them.
tools=$(realpath "$tools")
php "$tools/PHP_CodeSniffer/bin/phpcs" --runtime-set installed_paths "$tools/WPCS,$tools/PHPCSUtils,$tools/PHPCSExtra" \
  --standard=phpcs.xml.dist --no-colors "$@"
echo "php lint: phpcs.xml.dist clean"
