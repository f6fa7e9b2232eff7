#!/usr/bin/env bash
# The packages install like packages: each .deb of dist/ (./build.sh package) goes into a clean root of its Debian
# version — not the one it was built in — through apt; php -m and php --ri see the extension; WP-CLI installs the
# plugin zip into that root's WordPress; the demo runs there on that plugin; apt remove and purge leave nothing
# enabled (tests/compat/install-check.sh, inside the root). Each clean root is a cached debootstrap root seen
# through an overlay, so every run starts from the same clean state.
#
#   tests/compat/packages.sh [8.2] [8.4]      default: both
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=root.sh
. "$ROOT/tests/compat/root.sh"
# A plain PHP site: PHP (CLI and FPM, so phpenmod enables it for both), MariaDB, Redis, Debian's WordPress.
clean_packages() { echo "php$1-cli php$1-fpm php$1-mysql redis-server mariadb-server wordpress curl procps unzip"; }

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(8.2 8.4)
results=()
for v in "${versions[@]}"; do
  case "$v" in
    8.2) suite=bookworm ;;
    8.4) suite=trixie ;;
    *) echo "no Debian release known for PHP $v" >&2; exit 2 ;;
  esac
  started=$SECONDS
  printf '\n==> clean Debian %s root for php%s-reg-buffer\n' "$suite" "$v"
  # shellcheck disable=SC2046 # a list of package names
  root=$(compat_root "$suite" "$suite-clean-php$v" $(clean_packages "$v"))
  overlay=$(mktemp -d /tmp/regbuf-pkg-root.XXXXXX)
  rc=0
  COMPAT_OVERLAY=$overlay COMPAT_BINDS="$ROOT/dist:/dist" compat_locked compat_exec "$root" \
    bash -c "cd '$ROOT' && tests/compat/install-check.sh $v /dist" || rc=$?
  compat_safe_remove "$overlay"
  if [ "$rc" -eq 0 ]; then results+=("php$v-reg-buffer on $suite $((SECONDS - started)) s"); else
    results+=("php$v-reg-buffer on $suite FAILED"); failed=1; fi
done
printf '\n==> install tests: %s\n' "$(IFS=,; echo "${results[*]}")"
[ "${failed:-0}" -eq 0 ]
