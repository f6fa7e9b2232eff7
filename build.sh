#!/usr/bin/env bash
# The one entry point: install what is missing, build the extension, test, demo, bench.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

# Debian packages the project needs on a fresh Debian 12 (one list: build, tests, demo, bench).
APT_PACKAGES="php8.2-dev php8.2-cli php8.2-mysql php8.2-redis php8.2-mbstring php8.2-xml php8.2-curl php8.2-fpm phpunit libclang-dev clang redis-server mariadb-server wordpress nginx wrk php-nrk-predis chromium"

step() { printf '\n==> %s\n' "$*"; }

deps() {
  local missing=()
  for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
}

ext_dir() { php -r 'echo ini_get("extension_dir");'; }

build() {
  deps
  step "building reg_buffer.so (release)"
  cargo build --release --quiet
  local dir; dir=$(ext_dir)
  install -m 0644 target/release/libreg_buffer.so "$dir/reg_buffer.so"
  printf '; priority=20\nextension=reg_buffer.so\n' > /etc/php/8.2/mods-available/reg_buffer.ini
  phpenmod -v 8.2 -s ALL reg_buffer 2>/dev/null || phpenmod reg_buffer
  php -m | grep -x reg_buffer >/dev/null || { echo "reg_buffer is not listed by php -m" >&2; exit 1; }
  step "installed $dir/reg_buffer.so ($(php -r 'echo phpversion("reg_buffer");'))"
}

lint() {
  step "lint: shell scripts"
  tests/lint/shell.sh
  step "lint: cargo fmt --check (rustfmt.toml)"
  cargo fmt --check
  step "lint: cargo clippy --release --all-targets -- -D warnings"
  cargo clippy --release --all-targets --quiet -- -D warnings
  step "lint: the plugin's PHP with phpcs.xml.dist (WordPress-Extra + security sniffs; skipped without ../shared/tools/phpcs)"
  tests/lint/php.sh
}

run_tests() {
  lint
  build
  step "cargo test (pure-Rust core)"
  cargo test --release --quiet
  step "PHPUnit against the loaded extension (private redis-server)"
  phpunit --colors=never -c tests/php/phpunit.xml
  step "PHPUnit again, against a private Redis Cluster (3 masters, 3 replicas): the same suite, failover, resharding"
  phpunit --colors=never -c tests/php/phpunit-cluster.xml
  step "upgrade: what the previous layout's build buffered (before the inbox) is flushed by this one, once"
  tests/upgrade/run.sh
  step "PHPUnit: the plugin's classes with WordPress and a real database"
  tests/plugin/run.sh --colors=never
  if [ -x tests/e2e/run.sh ]; then
    step "end-to-end: WordPress + MariaDB + Redis"
    tests/e2e/run.sh
    step "end-to-end again, the plugin unchanged on a private Redis Cluster (3 masters, 3 replicas)"
    E2E_REDIS=cluster tests/e2e/run.sh
  fi
  if [ -x tests/faults/run.sh ]; then
    step "fault and hostile-input suite (short)"
    tests/faults/run.sh --short
  fi
  if [ -x bench/run.sh ]; then
    step "bench smoke run (--quick), so the benchmark never rots"
    bench/run.sh --quick
  fi
  step "Debian 13 (PHP 8.4, WordPress 6.8, MariaDB 11.8, Redis 8, Valkey 8) and the packages in clean Debian roots"
  tests/compat/run.sh
}

demo() {
  build
  if [ -x demo/run.sh ]; then demo/run.sh "$@"; else php demo/core.php "$@"; fi
}

bench() {
  build
  [ -x bench/run.sh ] || { echo "bench/run.sh is missing" >&2; exit 1; }
  bench/run.sh "$@"
}

# dist/: a .deb and a PIE archive per PHP version built for (8.2 here, 8.4 in the Debian 13 root), the plugin zip.
package() {
  build
  packaging/dist.sh
}

# The Debian 13 leg (PHP 8.4, WordPress 6.8, MariaDB 11.8, Redis 8, Valkey 8) and the packages installed in clean
# Debian roots: the last leg of `test`, runnable alone.
compat() {
  build
  step "Debian 13 (PHP 8.4, WordPress 6.8, MariaDB 11.8, Redis 8, Valkey 8) and the packages in clean Debian roots"
  tests/compat/run.sh
}

soak() {
  build
  [ -x tests/faults/run.sh ] || { echo "tests/faults/run.sh is missing" >&2; exit 1; }
  tests/faults/run.sh --soak "$@"
}

cmd=${1:-build}; shift || true
case "$cmd" in
  deps) deps ;;
  build) build ;;
  lint) lint ;;
  test) run_tests ;;
  demo) demo "$@" ;;
  bench) bench "$@" ;;
  soak) soak "$@" ;;
  package) package ;;
  compat) compat ;;
  *) echo "usage: ./build.sh [deps|build|lint|test|demo|bench [--quick]|soak|package|compat]" >&2; exit 2 ;;
esac
