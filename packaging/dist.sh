#!/usr/bin/env bash
# ./build.sh package: writes dist/ — per PHP version built for, a Debian package and PIE's pre-packaged-binary
# archive (PHP 8.2 from this Debian 12 host's build, PHP 8.4 built in the Debian 13 root of tests/compat/trixie.sh),
# and the WordPress plugin's zip. tests/compat/packages.sh installs them into clean roots.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
step() { printf '\n==> %s\n' "$*"; }
# Debian's packaging tools and zip on this host (debootstrap comes with the first root).
missing=()
for p in zip dpkg-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi
rm -rf dist
mkdir -p dist
host_php=$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')
step "PHP $host_php (this host, $(. /etc/os-release && echo "$PRETTY_NAME")): .deb and PIE archive of target/release"
packaging/deb.sh "$host_php" target/release/libreg_buffer.so dist
packaging/pie.sh "$host_php" target/release/libreg_buffer.so dist
step "PHP 8.4 (Debian 13 root): build there, then its .deb and PIE archive"
tests/compat/trixie.sh build package
step "the WordPress plugin's zip"
packaging/plugin-zip.sh dist
step "dist/"
ls -l dist
