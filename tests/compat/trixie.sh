#!/usr/bin/env bash
# The second, current stack: Debian 13 (trixie) in a cached debootstrap root — PHP 8.4, WordPress 6.8, MariaDB 11.8,
# redis-server 8 and valkey-server 8. Builds the extension against the root's PHP 8.4 headers with the host's Rust
# toolchain, then runs there: cargo test, PHPUnit (PHPUnit 11) against that .so, and the e2e WordPress test once
# on redis-server and once on valkey-server.
#
#   tests/compat/trixie.sh [root|build|cargo|phpunit|e2e-redis|e2e-valkey|package ...]
#                                 default: all but package, in order (package: dist/'s 8.4 .deb and PIE archive)
#   E2E_TESTS="name ..." tests/compat/trixie.sh e2e-valkey                         one e2e case (names as printed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=root.sh
. "$ROOT/tests/compat/root.sh"

# What the root holds: build (PHP 8.4 headers, clang for bindgen), PHPUnit, the e2e stack, the browser test.
TRIXIE_PACKAGES="php8.4-dev php8.4-cli php8.4-fpm php8.4-mysql php8.4-mbstring php8.4-xml php8.4-curl php8.4-redis
phpunit gcc libc6-dev libclang-dev clang pkg-config redis-server mariadb-server wordpress nginx
curl procps openssl dpkg-dev zip unzip chromium nodejs unpack:valkey-server unpack:valkey-tools"
PHP_VERSION=8.4
TARGET_DIR=target/php$PHP_VERSION

step() { printf '\n==> %s\n' "$*"; }
leg_times=()
failed_legs=()
# Runs a leg, times it; a failed leg is noted and the next one still runs (root and build: the rest needs them).
timed() {
  local name=$1 started=$SECONDS rc=0; shift
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    leg_times+=("$name $((SECONDS - started)) s")
  else
    leg_times+=("$name FAILED after $((SECONDS - started)) s")
    failed_legs+=("$name")
  fi
  echo "  ($name: $((SECONDS - started)) s$([ "$rc" -eq 0 ] || echo ", FAILED"))"
  if [ "$rc" -ne 0 ] && { [ "$name" = root ] || [ "$name" = build ]; }; then exit 1; fi
  return 0
}

in_root() { compat_exec "$TRIXIE_ROOT" bash -c "cd '$ROOT' && $1"; }

make_root() {
  step "Debian 13 root (cached under ${COMPAT_CACHE#"$ROOT"/}; made again when its package list changes)"
  # shellcheck disable=SC2086 # a list of package names
  TRIXIE_ROOT=$(compat_root trixie trixie-test $TRIXIE_PACKAGES) || return 1
  in_root 'echo "  $(php -r "echo PHP_VERSION;") / $(redis-server --version | cut -d" " -f1-3) / $(/opt/unpacked/usr/bin/valkey-server --version | cut -d" " -f1-3) / MariaDB $(mariadbd --version | awk "{ print \$3 }" | cut -d- -f1) / WordPress $(php -r "include \"/usr/share/wordpress/wp-includes/version.php\"; echo \$wp_version;")"'
}

build_so() {
  step "building reg_buffer.so for PHP $PHP_VERSION inside the root ($TARGET_DIR), installing it there"
  compat_locked in_root "cargo build --release --quiet --target-dir $TARGET_DIR \
    && install -m 0644 $TARGET_DIR/release/libreg_buffer.so \"\$(php-config --extension-dir)/reg_buffer.so\" \
    && printf '; priority=20\nextension=reg_buffer.so\n' > /etc/php/$PHP_VERSION/mods-available/reg_buffer.ini \
    && phpenmod -v $PHP_VERSION -s ALL reg_buffer \
    && php -m | grep -x reg_buffer >/dev/null \
    && echo \"  reg_buffer \$(php -r 'echo phpversion(\"reg_buffer\");') loaded by PHP \$(php -r 'echo PHP_VERSION;')\""
}

cargo_test() {
  step "cargo test inside the root (PHP $PHP_VERSION headers, redis-server 8)"
  compat_locked in_root "cargo test --release --quiet --target-dir $TARGET_DIR"
}

phpunit_run() {
  step "PHPUnit $(in_root 'phpunit --version' | awk '/^PHPUnit/ { print $2 }') against the PHP $PHP_VERSION .so (private redis-server 8)"
  compat_locked in_root "phpunit --colors=never -c tests/compat/phpunit-11.xml"
}

e2e_run() {
  local server=$1 path_prefix=
  if [ "$server" = valkey ]; then
    # valkey-server and valkey-cli under the names the stack starts (redis-server, redis-cli).
    path_prefix="mkdir -p /opt/valkey-as-redis && ln -sf /opt/unpacked/usr/bin/valkey-server /opt/valkey-as-redis/redis-server \
      && ln -sf /opt/unpacked/usr/bin/valkey-cli /opt/valkey-as-redis/redis-cli && export PATH=/opt/valkey-as-redis:\$PATH &&"
  fi
  step "end-to-end on Debian 13: WordPress, MariaDB, php-fpm $PHP_VERSION, nginx, $server"
  compat_locked in_root "$path_prefix echo \"  \$(redis-server --version | cut -d' ' -f1-3)\" \
    && STACK_PHP_FPM=/usr/sbin/php-fpm$PHP_VERSION tests/e2e/run.sh"
}

package_here() {
  step "dist/: the PHP $PHP_VERSION .deb (Debian's tools in the root) and PIE archive of $TARGET_DIR"
  in_root "packaging/deb.sh $PHP_VERSION $TARGET_DIR/release/libreg_buffer.so dist && packaging/pie.sh $PHP_VERSION $TARGET_DIR/release/libreg_buffer.so dist"
}

legs=("$@")
[ ${#legs[@]} -gt 0 ] || legs=(root build cargo phpunit e2e-redis e2e-valkey)
for leg in "${legs[@]}"; do
  case "$leg" in
    root) timed root make_root ;;
    build) [ -n "${TRIXIE_ROOT:-}" ] || make_root; timed build build_so ;;
    cargo) [ -n "${TRIXIE_ROOT:-}" ] || make_root; timed cargo cargo_test ;;
    phpunit) [ -n "${TRIXIE_ROOT:-}" ] || make_root; timed phpunit phpunit_run ;;
    e2e-redis) [ -n "${TRIXIE_ROOT:-}" ] || make_root; timed e2e-redis e2e_run redis ;;
    e2e-valkey) [ -n "${TRIXIE_ROOT:-}" ] || make_root; timed e2e-valkey e2e_run valkey ;;
    package) [ -n "${TRIXIE_ROOT:-}" ] || make_root; timed package package_here ;;
    *) echo "unknown leg $leg" >&2; exit 2 ;;
  esac
done
step "Debian 13 legs: $(IFS=,; echo "${leg_times[*]}")"
[ ${#failed_legs[@]} -eq 0 ] || { echo "Debian 13: FAILED: ${failed_legs[*]}" >&2; exit 1; }
