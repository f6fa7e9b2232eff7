#!/usr/bin/env bash
# Inside a fresh mount + pid namespace (see compat_exec in root.sh): mounts what the root needs, runs the command
# chrooted, then stops the root's MariaDB cleanly if the command started it. Everything else dies with the namespace.
#   enter.sh ROOT N BIND... ENV... -- CMD...      (BIND: SRC[:DST]; the one named by COMPAT_READONLY_BIND read-only)
#   COMPAT_OVERLAY=DIR: the root is only read; every change goes to DIR/upper (a clean root per run, thrown away).
set -euo pipefail
root=$1 n=$2
shift 2
if [ -n "${COMPAT_OVERLAY:-}" ]; then
  mkdir -p "$COMPAT_OVERLAY/upper" "$COMPAT_OVERLAY/work" "$COMPAT_OVERLAY/merged"
  mount -t overlay overlay -o "lowerdir=$root,upperdir=$COMPAT_OVERLAY/upper,workdir=$COMPAT_OVERLAY/work" "$COMPAT_OVERLAY/merged"
  root=$COMPAT_OVERLAY/merged
fi
for ((i = 0; i < n; i++)); do
  spec=$1; shift
  src=${spec%%:*} dst=${spec#*:}
  [ "$dst" != "$spec" ] || dst=$src
  # A file is bound over a file (the mount point must exist as one), a directory over a directory.
  if [ -d "$src" ]; then mkdir -p "$root$dst"; elif [ ! -e "$root$dst" ]; then mkdir -p "$(dirname "$root$dst")"; touch "$root$dst"; fi
  mount --bind "$src" "$root$dst"
  if [ "$src" = "${COMPAT_READONLY_BIND:-}" ]; then mount -o remount,bind,ro "$root$dst"; fi
done
envs=()
while [ "$1" != -- ]; do envs+=("$1"); shift; done
shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mkdir -p "$root/run/lock"
set +e
chroot "$root" /usr/bin/env -i "${envs[@]}" "$@"
rc=$?
if [ -S "$root/run/mysqld/mysqld.sock" ]; then chroot "$root" mysqladmin -uroot shutdown >/dev/null 2>&1; fi
exit "$rc"
