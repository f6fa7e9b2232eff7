#!/usr/bin/env bash
# The archive PIE's pre-packaged-binary download method looks for among a release's assets, for one PHP build:
#   php_reg_buffer-<version>_php<X.Y>-x86_64-linux-glibc-nts.zip   holding reg_buffer.so (and the licence) at its root
# (PIE's Platform/PrePackagedBinaryAssetName: php_{ext}-{version}_php{X.Y}-{arch}-{os family}-{libc}[-debug]-{nts|zts},
# lower case, .zip or .tgz).
#
#   packaging/pie.sh PHP_VERSION SO OUTDIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=$1 SO=$2 OUT=$3
VERSION=$(awk -F'"' '/^version = / { print $2; exit }' "$ROOT/Cargo.toml")
PHP=$(command -v "php$V" || command -v php)
# The build the .so is for must be the one PIE will see: NTS, not debug (the extension is tested NTS only).
mode=$("$PHP" -n -r 'echo (PHP_ZTS ? "zts" : "nts"), PHP_DEBUG ? "-debug" : "";')
[ "$mode" = nts ] || { echo "PHP $V here is $mode: this packages NTS builds only" >&2; exit 1; }
case "$(uname -m)" in x86_64 | amd64) arch=x86_64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=x86 ;; esac
name="php_reg_buffer-${VERSION}_php${V}-${arch}-linux-glibc-nts.zip"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
install -m 0644 "$SO" "$work/reg_buffer.so"
strip --strip-unneeded "$work/reg_buffer.so"
install -m 0644 "$ROOT/LICENSE" "$work/LICENSE"
mkdir -p "$OUT"
out=$(cd "$OUT" && pwd)/$name
rm -f "$out"
(cd "$work" && zip -q -X "$out" reg_buffer.so LICENSE)
echo "$out"
