#!/usr/bin/env bash
# Builds php<V>-reg-buffer_<version>_amd64.deb for the PHP it finds (php-config<V>), with Debian's own tools:
# dpkg-shlibdeps for the library dependencies, dpkg-deb for the archive. The package installs the .so into that
# PHP's extension dir and ini/reg_buffer.ini into /etc/php/<V>/mods-available, enabled for every SAPI on install
# and disabled on remove through php-common's php_invoke (phpenmod / phpdismod), as Debian's own PHP modules are.
#
#   packaging/deb.sh PHP_VERSION SO OUTDIR      e.g. packaging/deb.sh 8.2 target/release/libreg_buffer.so dist
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$1 SO=$2 OUT=$3
VERSION=$(awk -F'"' '/^version = / { print $2; exit }' "$ROOT/Cargo.toml")
PKG="php$V-reg-buffer"
PHP_CONFIG=$(command -v "php-config$V" || true)
[ -n "$PHP_CONFIG" ] || { echo "php-config$V not found (php$V-dev)" >&2; exit 1; }
EXT_DIR=$("$PHP_CONFIG" --extension-dir)
API=$("$PHP_CONFIG" --phpapi)
ARCH=$(dpkg --print-architecture)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/$PKG"
install -D -m 0644 "$SO" "$stage$EXT_DIR/reg_buffer.so"
strip --strip-unneeded "$stage$EXT_DIR/reg_buffer.so"
install -D -m 0644 "$ROOT/ini/reg_buffer.ini" "$stage/etc/php/$V/mods-available/reg_buffer.ini"
install -D -m 0644 "$ROOT/LICENSE" "$stage/usr/share/doc/$PKG/copyright"
install -D -m 0644 "$ROOT/php-stubs/reg_buffer.stub.php" "$stage/usr/share/doc/$PKG/reg_buffer.stub.php"

# The libraries the .so links (libc, libgcc_s), as Debian words them; PHP's own symbols come from the binary.
mkdir -p "$work/debian"
printf 'Source: reg-buffer\n\nPackage: %s\nArchitecture: %s\n' "$PKG" "$ARCH" > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O --warnings=0 "-e$stage$EXT_DIR/reg_buffer.so" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf "$work/debian"

mkdir -p "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: $PKG
Version: $VERSION
Architecture: $ARCH
Maintainer: reg_buffer authors <reg-buffer@example.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: php$V-common, phpapi-$API${shlibs:+, $shlibs}
Section: php
Priority: optional
Description: reg_buffer: buffers event registrations in Redis (PHP $V extension)
 Takes each registration with one Redis round trip and hands it to a flusher
 that stores batches in MySQL exactly once (the reg-buffer WordPress plugin).
 Works with Redis and Valkey. Settings: /etc/php/$V/mods-available/reg_buffer.ini.
CONTROL
echo "/etc/php/$V/mods-available/reg_buffer.ini" > "$stage/DEBIAN/conffiles"
# A maintainer script that enables or disables the module for every SAPI through php-common's helper, as Debian's
# own PHP modules do (phpenmod / phpdismod where the helper is missing).
#   mod_script FILE CONDITION enmod|dismod
mod_script() {
  cat > "$1" <<SCRIPT
#!/bin/sh
set -e
if $2; then
    if [ -e /usr/lib/php/php-maintscript-helper ]; then
        . /usr/lib/php/php-maintscript-helper
        php_invoke $3 $V ALL reg_buffer || exit 1
    else
        php$3 -v $V -s ALL reg_buffer
    fi
fi
SCRIPT
}
mod_script "$stage/DEBIAN/postinst" '[ "$1" = configure ]' enmod
# Disabled on remove only: an upgrade keeps it as it is (the new postinst's enmod leaves one an admin disabled off).
mod_script "$stage/DEBIAN/prerm" '[ "$1" = remove ]' dismod
cat > "$stage/DEBIAN/postrm" <<SCRIPT
#!/bin/sh
set -e
# Purge: symlinks to the removed ini that an administrator made by hand.
if [ "\$1" = purge ]; then
    find /etc/php/$V -xtype l -name '*reg_buffer.ini' -delete 2>/dev/null || true
fi
SCRIPT
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
mkdir -p "$OUT"
deb="$OUT/${PKG}_${VERSION}_$ARCH.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
