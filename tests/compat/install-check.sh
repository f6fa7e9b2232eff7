#!/usr/bin/env bash
# Inside a clean Debian root (run by tests/compat/packages.sh): installs dist/'s .deb for this root's PHP with apt,
# checks php -m and php --ri, installs dist/'s plugin zip into WordPress with WP-CLI, runs the demo on that plugin,
# then removes and purges the package and checks PHP no longer loads it.
#   tests/compat/install-check.sh PHP_VERSION DIST_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
V=$1 DIST=$2
# shellcheck source=../lib/stack.sh
. "$ROOT/tests/lib/stack.sh"
step() { printf '\n==> %s\n' "$*"; }
fail() { echo "  FAIL: $*" >&2; exit 1; }
loaded() { php -m | grep -x reg_buffer >/dev/null; }

debs=("$DIST"/php"$V"-reg-buffer_*_amd64.deb)
zips=("$DIST"/reg-buffer-*.zip)
[ -f "${debs[0]}" ] || fail "no php$V-reg-buffer .deb in $DIST"
[ -f "${zips[0]}" ] || fail "no plugin zip in $DIST"
. /etc/os-release
! loaded || fail "reg_buffer is loaded before the package is installed"

# PIE's pre-packaged-binary name for this PHP (lower case; PIE also accepts the name without -nts), and the .so in
# it loads into this PHP: PIE only unpacks it into the extension dir.
pie_name="php_reg_buffer-$(dpkg-deb -f "${debs[0]}" Version)_php$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')-x86_64-linux-glibc-nts.zip"
step "$PRETTY_NAME: PIE archive $pie_name"
[ -f "$DIST/$pie_name" ] || fail "no $pie_name in $DIST (PIE would not find it)"
pie_dir=$(mktemp -d /tmp/reg-buffer-pie.XXXXXX)
(cd "$pie_dir" && unzip -q "$DIST/$pie_name")
[ -f "$pie_dir/reg_buffer.so" ] || fail "$pie_name holds no reg_buffer.so at its root"
pie_loaded=$(php -n -d "extension=$pie_dir/reg_buffer.so" -r 'echo phpversion("reg_buffer");') \
  || fail "this PHP does not load the reg_buffer.so of $pie_name"
rm -rf "$pie_dir"
echo "  $pie_name: reg_buffer.so $pie_loaded loads into PHP $(php -r 'echo PHP_VERSION;')"

step "$PRETTY_NAME, PHP $(php -r 'echo PHP_VERSION;'): apt install $(basename "${debs[0]}")"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[0]}" >/dev/null
loaded || fail "php -m does not list reg_buffer after the install"
echo "  php -m lists reg_buffer $(php -r 'echo phpversion("reg_buffer");')"
ri=$(php --ri reg_buffer)
for setting in reg_buffer.redis_url reg_buffer.key_prefix reg_buffer.max_pending; do
  grep -F "$setting" >/dev/null <<< "$ri" || { echo "$ri"; fail "php --ri reg_buffer does not show $setting"; }
done
echo "  php --ri reg_buffer shows its settings ($(grep -c '=>' <<< "$ri") lines)"

step "WordPress $(php -r 'include "/usr/share/wordpress/wp-includes/version.php"; echo $wp_version;'): the plugin zip through WP-CLI"
ID=$$ HOST="rb-pkg-$$.test" DB="rb_pkg_$$"
WORK=$(mktemp -d /tmp/reg-buffer-pkg.XXXXXX)
cleanup() { set +e; stack_redis_stop "$WORK"; stack_wp_remove_config "$HOST"; stack_db_drop "$DB" "$DB"; rm -rf "$WORK"; }
trap cleanup EXIT
stack_mariadb_ensure
STACK_REDIS_ARGS="--appendonly no" stack_redis_start "$WORK"
stack_db_create "$DB" "$DB" "pkg-$ID-pass"
stack_wp_config "$HOST" "$DB" "$DB" "pkg-$ID-pass" "define( 'REG_BUFFER_REDIS_URL', '$STACK_REDIS_URL' );
define( 'FS_METHOD', 'direct' );"
stack_wp_install "$HOST" "http://$HOST" >/dev/null
boot="$ROOT/../shared/tools/wp-cli/vendor/wp-cli/wp-cli/php/boot-fs.php"
wp() { WP_CLI_CACHE_DIR="$WORK/wp-cli-cache" php -d error_reporting=24575 "$boot" --allow-root --path="$STACK_WP_ROOT" --url="http://$HOST/" "$@"; }
plugin_dir="$STACK_WP_CONTENT/plugins/reg-buffer"
rm -rf "$plugin_dir"
if [ -f "$boot" ]; then
  wp plugin install "${zips[0]}" --activate
  line=$(wp plugin list --name=reg-buffer --fields=name,status,version --format=csv | tail -n1)
  [ "$line" = "reg-buffer,active,$(sed -n 's/^ \* Version: *//p' "$plugin_dir/reg-buffer.php")" ] || fail "wp plugin list: $line"
  echo "  wp plugin list: $line"
  status=$(wp reg-buffer status --format=json)
  [ "$(php -r 'echo json_encode(json_decode($argv[1], true)["extension_loaded"] ?? null);' "$status")" = true ] \
    || { echo "$status"; fail "wp reg-buffer status does not say the extension is loaded"; }
  echo "  wp reg-buffer status: the extension is loaded"
else
  # No WP-CLI on this machine (../shared/tools absent): unpack as WordPress's uploader would.
  echo "  WP-CLI not found at $boot: unpacking the zip into wp-content/plugins instead"
  (cd "$STACK_WP_CONTENT/plugins" && unzip -q "${zips[0]}")
fi

step "the demo on the plugin that came from the zip, buffering through the packaged extension"
demo_out="$WORK/demo.out"
DEMO_PLUGIN_SRC="$plugin_dir" "$ROOT/demo/run.sh" 2000 2 | tee "$demo_out"
# Without the extension the demo passes too (every registration written directly): here all must be buffered.
grep -E '^accepted [0-9]+ \(buffered [1-9][0-9]*, written directly 0\)' "$demo_out" >/dev/null \
  || fail "the demo did not buffer every registration through reg_buffer (line: $(grep '^accepted' "$demo_out"))"

step "apt remove, then purge"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "php$V-reg-buffer" >/dev/null
! loaded || fail "php -m still lists reg_buffer after apt remove"
left=$(find "/etc/php/$V" -name '*reg_buffer.ini' -type l)
[ -z "$left" ] || fail "conf.d links left after remove: $left"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "php$V-reg-buffer" >/dev/null
[ ! -e "/etc/php/$V/mods-available/reg_buffer.ini" ] || fail "the ini is left after purge"
echo "  removed: php -m no longer lists reg_buffer, no conf.d link left; purged: the ini is gone"
