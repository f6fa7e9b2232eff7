#!/usr/bin/env bash
# The WordPress plugin as reg-buffer-<version>.zip: one top folder reg-buffer/ holding the plugin's files, the layout
# WordPress's "Upload Plugin" and `wp plugin install <zip>` accept. The version is the plugin header's.
#
#   packaging/plugin-zip.sh OUTDIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/wordpress-plugin/reg-buffer"
VERSION=$(sed -n 's/^ \* Version: *//p' "$SRC/reg-buffer.php" | head -n1)
[ -n "$VERSION" ] || { echo "no Version: line in the plugin header" >&2; exit 1; }
OUT=$1
mkdir -p "$OUT"
out=$(cd "$OUT" && pwd)/reg-buffer-$VERSION.zip
rm -f "$out"
# Every file of the plugin's folder but hidden ones (editor and VCS leftovers), under reg-buffer/.
(cd "$ROOT/wordpress-plugin" && zip -q -X -r "$out" reg-buffer -x '*/.*')
echo "$out"
