# Debian roots for the compatibility and package tests: made once with debootstrap, cached, run with chroot.
#
# Source it from bash (`. tests/compat/root.sh`). No container runtime: a root is a directory made by debootstrap
# from the Debian archive the host's apt already uses (read from its sources at run time), kept under
# $COMPAT_CACHE (default <project>/.cache/roots, named in .gitignore) and made again when its package list changes.
#
#   compat_root SUITE NAME PACKAGES...   -> makes (or reuses) the root NAME of Debian SUITE with PACKAGES
#                                           installed; prints its directory. Takes the heavy lock while it builds.
#   compat_exec ROOTDIR CMD...           -> runs CMD as root inside ROOTDIR: own mount and pid namespaces (every
#                                           mount and every daemon it started are gone when it returns), /proc,
#                                           /dev, /sys, a fresh /run, the project (and ../shared when present)
#                                           at the same path, the host's Rust toolchain (CARGO_HOME, RUSTUP_HOME
#                                           or ~/.cargo, ~/.rustup; the toolchain read-only) bound in.
#                                           Extra binds: COMPAT_BINDS="SRC[:DST] ..."; environment: COMPAT_ENV
#                                           ("NAME=value ..."), plus CI, E2E_TESTS, E2E_KEEP when set.
#                                           COMPAT_OVERLAY=DIR: ROOTDIR stays untouched, changes go to DIR (a
#                                           clean root for each install test; remove DIR afterwards).
#   compat_locked CMD...                 -> runs CMD under flock /tmp/regbuf-heavy.lock, unless a parent already
#                                           holds it (then taking it again would wait for ourselves)

COMPAT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COMPAT_PROJECT=$(cd "$COMPAT_LIB_DIR/../.." && pwd)
COMPAT_CACHE=${COMPAT_CACHE:-$COMPAT_PROJECT/.cache/roots}
COMPAT_LOCK=/tmp/regbuf-heavy.lock
# Bumped when the way a root is made changes (the key then differs and the roots are made again).
COMPAT_ROOT_FORMAT=1

compat_log() { printf '[compat] %s\n' "$*" >&2; }

# The first Debian archive URI of the host's apt sources (deb822 .sources files, then sources.list).
compat_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
  [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\// && $i ~ /\/debian\/?$/) { print $i; exit } }')
  [ -n "$uri" ] || { compat_log "no Debian archive found in the host's apt sources"; return 1; }
  echo "$uri"
}

# True when one of our ancestors holds the heavy lock (flock(1) keeps it in the process that ran us).
compat_lock_held_above() {
  [ -e "$COMPAT_LOCK" ] || return 1
  local inode holders p
  inode=$(stat -c %i "$COMPAT_LOCK")
  holders=$(awk -v ino=":$inode" '$2 == "FLOCK" && substr($6, length($6) - length(ino) + 1) == ino { print $5 }' /proc/locks)
  [ -n "$holders" ] || return 1
  p=$$
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    if grep -qx "$p" <<< "$holders"; then return 0; fi
    p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)
  done
  return 1
}

compat_locked() {
  if [ -n "${REGBUF_HEAVY_LOCKED:-}" ] || compat_lock_held_above; then "$@"; return; fi
  (
    exec 9>>"$COMPAT_LOCK"
    flock 9
    export REGBUF_HEAVY_LOCKED=1
    "$@"
  )
}

compat_root_key() {
  local suite=$1; shift
  printf '%s\n' "format=$COMPAT_ROOT_FORMAT" "suite=$suite" "$(printf '%s\n' "$@" | sort -u)" | sha256sum | cut -c1-16
}

# Refuses to delete a directory anything is mounted under (a bind of the project would go with it).
compat_safe_remove() {
  local dir=$1
  [ -e "$dir" ] || return 0
  if findmnt -rn -o TARGET | awk -v d="$(realpath "$dir")" 'index($0, d "/") == 1 || $0 == d { found = 1 } END { exit !found }'; then
    compat_log "refusing to remove $dir: something is mounted under it (findmnt)"
    return 1
  fi
  rm -rf --one-file-system "$dir"
}

compat_root() {
  local suite=$1 name=$2; shift 2
  local dir="$COMPAT_CACHE/$name" key
  key=$(compat_root_key "$suite" "$@")
  if [ -f "$dir/.reg-buffer-root" ] && [ "$(cat "$dir/.reg-buffer-root")" = "$key" ]; then
    echo "$dir"; return 0
  fi
  compat_locked compat_root_build "$suite" "$dir" "$key" "$@" || return 1
  echo "$dir"
}

compat_root_build() {
  local suite=$1 dir=$2 key=$3; shift 3
  # Another run may have made it while we waited for the lock.
  if [ -f "$dir/.reg-buffer-root" ] && [ "$(cat "$dir/.reg-buffer-root")" = "$key" ]; then return 0; fi
  command -v debootstrap >/dev/null || {
    compat_log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  }
  local mirror tmp="$dir.new" started=$SECONDS
  mirror=$(compat_mirror) || return 1
  compat_log "making the Debian $suite root $(basename "$dir") (debootstrap, then $# packages)"
  compat_safe_remove "$tmp" || return 1
  mkdir -p "$(dirname "$dir")"
  # In its own mount namespace: the /proc and /sys it mounts in the root go with it, even if it is killed.
  unshare --mount --propagation private debootstrap --variant=minbase --include=ca-certificates "$suite" "$tmp" "$mirror" \
    > "$tmp.log" 2>&1 \
    || { tail -n 30 "$tmp.log" >&2; compat_log "debootstrap failed (log: $tmp.log)"; return 1; }
  # Packages' maintainer scripts must not start services (the host runs its own on the standard ports).
  printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
  chmod 0755 "$tmp/usr/sbin/policy-rc.d"
  # The root's MariaDB listens on its socket only: the host's MariaDB has port 3306.
  mkdir -p "$tmp/etc/mysql/mariadb.conf.d"
  printf '[mysqld]\nskip-networking\n' > "$tmp/etc/mysql/mariadb.conf.d/99-reg-buffer-tests.cnf"
  # PACKAGE installs; unpack:PACKAGE is only unpacked under /opt/unpacked (a server that conflicts with an
  # installed one, e.g. valkey-server beside redis-server).
  local pkg install=() unpack=()
  for pkg in "$@"; do
    case "$pkg" in unpack:*) unpack+=("${pkg#unpack:}") ;; *) install+=("$pkg") ;; esac
  done
  COMPAT_ENV="UNPACK=$(IFS=,; echo "${unpack[*]}")" compat_exec "$tmp" bash -c 'set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -qq
      apt-get install -y -qq --no-install-recommends "$@"
      if [ -n "$UNPACK" ]; then mkdir -p /opt/unpacked /tmp/unpack; cd /tmp/unpack
        apt-get download ${UNPACK//,/ }; for d in *.deb; do dpkg-deb -x "$d" /opt/unpacked; done; cd /; rm -rf /tmp/unpack; fi
      apt-get clean' apt "${install[@]}" >> "$tmp.log" 2>&1 \
    || { tail -n 30 "$tmp.log" >&2; compat_log "installing packages into the $suite root failed (log: $tmp.log)"; return 1; }
  echo "$key" > "$tmp/.reg-buffer-root"
  compat_safe_remove "$dir" || return 1
  mv "$tmp" "$dir"
  rm -f "$tmp.log"
  compat_log "root $dir ready in $((SECONDS - started)) s ($(du -sh "$dir" | cut -f1))"
}


compat_exec() {
  local root=$1; shift
  root=$(realpath "$root")
  [ -x "$root/bin/bash" ] || { compat_log "$root is not a Debian root"; return 1; }
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  # debootstrap writes no /etc/hosts: without it "localhost" does not resolve (the TLS tests connect by that name).
  [ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
  local binds=("$COMPAT_PROJECT")
  [ -d "$COMPAT_PROJECT/../shared" ] && binds+=("$(cd "$COMPAT_PROJECT/../shared" && pwd)")
  # The host's Rust toolchain (rustup's, wherever CARGO_HOME and RUSTUP_HOME put it), at the same paths.
  local cargo_home=${CARGO_HOME:-$HOME/.cargo} rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
  [ -d "$cargo_home" ] && binds+=("$cargo_home")
  [ -d "$rustup_home" ] && binds+=("$rustup_home")
  # shellcheck disable=SC2206 # a space-separated list on purpose
  binds+=(${COMPAT_BINDS:-})
  local envs=(HOME=/root LANG=C.UTF-8 TERM=dumb "CARGO_HOME=$cargo_home" "RUSTUP_HOME=$rustup_home" RUSTUP_AUTO_INSTALL=0
    "PATH=$cargo_home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  local v
  for v in CI E2E_TESTS E2E_KEEP; do [ -n "${!v:-}" ] && envs+=("$v=${!v}"); done
  # shellcheck disable=SC2206
  envs+=(${COMPAT_ENV:-})
  COMPAT_READONLY_BIND=$rustup_home unshare --mount --pid --fork --propagation private bash "$COMPAT_LIB_DIR/enter.sh" "$root" "${#binds[@]}" "${binds[@]}" \
    "${envs[@]}" -- "$@"
}
