#!/usr/bin/env bash
# Build the mmvm guest initramfs: busybox-static, /init, /tests/*.sh.
#
#   guest/initramfs/build-initramfs.sh [-o OUT] [--add HOST_FILE:GUEST_PATH]...
#       [--modules ROOT:KVER:MOD[,MOD...]]
#
# OUT defaults to build/guest/initramfs.cpio.gz (gzip, cpio newc). --add puts
# extra files in (e.g. --add build/bench/rr:/bin/rr), for variants such as
# the benchmark's. Guest tests are every guest/initramfs/tests/*.sh, installed
# as /tests/<name>.sh and selected with mmvm.test=<name> on the kernel
# command line; guest/initramfs/lib/*.sh, the shell functions they share,
# go to /lib/mmvm/<name>.sh. --modules adds kernel modules, with their dependencies, for
# a stock kernel (ROOT holds lib/modules/KVER: / for the installed one, or
# an unpacked kernel package); /init loads them first, in order. The
# output is only replaced when its content changes, and
# atomically, so a VM booting from it meanwhile never sees half a file.
# Last line on stdout: the path of the initramfs.
set -euo pipefail
# One compound command, read whole before it runs: editing this file
# while it runs cannot change what the running copy does.
{

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$repo/build/guest/initramfs.cpio.gz
busybox=${MMVM_BUSYBOX:-/bin/busybox}
adds=()
modules=

die() { echo "build-initramfs: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	-o) [ $# -ge 2 ] || die "-o needs a file"; out=$2; shift 2 ;;
	--add) [ $# -ge 2 ] || die "--add needs HOST_FILE:GUEST_PATH"
	       adds+=("$2"); shift 2 ;;
	--modules) [ $# -ge 2 ] || die "--modules needs ROOT:KVER:MOD[,MOD...]"
	       modules=$2; shift 2 ;;
	-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done

[ -x "$busybox" ] || die "$busybox missing (apt-get install busybox-static)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	die "$busybox is not statically linked (install busybox-static)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/mmvm-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,root,tests,mnt}
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
install -m 0755 "$here/init" "$stage/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

# Shell functions the guest tests share: /lib/mmvm/NAME.sh.
mkdir -p "$stage/lib/mmvm"
for l in "$here"/lib/*.sh; do
	[ -e "$l" ] || continue
	install -m 0644 "$l" "$stage/lib/mmvm/$(basename "$l")"
done

ntests=0
for t in "$here"/tests/*.sh; do
	[ -e "$t" ] || continue
	install -m 0755 "$t" "$stage/tests/$(basename "$t")"
	ntests=$((ntests + 1))
done

for a in "${adds[@]}"; do
	src=${a%%:*} dst=${a#*:}
	[ "$src" != "$a" ] && [ -n "$dst" ] && [ "${dst#/}" != "$dst" ] ||
		die "--add $a: want HOST_FILE:/GUEST/PATH"
	[ -f "$src" ] || die "--add $a: $src is not a file"
	mkdir -p "$stage$(dirname "$dst")"
	cp -L "$src" "$stage$dst"
done

nmods=0
if [ -n "$modules" ]; then
	IFS=: read -r mroot mkver mlist <<<"$modules"
	[ -n "$mroot" ] && [ -n "$mkver" ] && [ -n "$mlist" ] ||
		die "--modules $modules: want ROOT:KVER:MOD[,MOD...]"
	. "$repo/scripts/lib/kmodules.sh"
	kmod_install "$mroot" "$mkver" "$stage/lib/modules" ${mlist//,/ } ||
		die "--modules $modules: see above"
	nmods=$(grep -c . "$stage/lib/modules/modules.order" || true)
fi

# Fixed timestamps: the same inputs give the same bytes.
find "$stage" -exec touch -h -d @0 {} +

mkdir -p "$(dirname "$out")"
tmp_out=$(mktemp "$(dirname "$out")/.initramfs.XXXXXX")
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc --reproducible --owner=0:0 --quiet) | gzip -n -6 >"$tmp_out"
chmod 0644 "$tmp_out"
if [ -f "$out" ] && cmp -s "$tmp_out" "$out"; then
	rm -f "$tmp_out"
else
	mv -f "$tmp_out" "$out"
fi
echo "build-initramfs: $(stat -c %s "$out") bytes, $ntests guest test(s)," \
	"${#adds[@]} extra file(s), $nmods module(s)" >&2
echo "$out"
exit
}
