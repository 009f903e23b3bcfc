#!/usr/bin/env bash
# scripts/install-deps on a machine without QEMU, as a user who cannot
# install anything: it must exit non-zero with one line naming QEMU, not
# end silently (under set -e a failing probe of a missing tool used to end
# the script with status 127 and no message). Two machines without a
# usable QEMU: none on PATH, and a qemu-system-x86_64 that fails.
# Runs as root (to become nobody); needs no KVM.
#
# nobody runs a copy of the script in a work directory under /tmp, and
# from there: the clone itself may sit below a directory nobody cannot
# enter (root's 0700 home, a private mktemp -d or $TMPDIR), which has
# nothing to do with what is checked here.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (to run as nobody)"
work=$(mktemp -d /tmp/"$name".XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
# install-deps sources nothing: the one file is the whole script.
install -m 644 "$repo/scripts/install-deps" "$work/install-deps"

# A PATH with every command of this machine except QEMU's.
mkdir "$work/bin"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		b=${f##*/}
		case "$b" in qemu-system-*) continue ;; esac
		[ -x "$f" ] && [ ! -e "$work/bin/$b" ] && ln -s "$f" "$work/bin/$b"
	done
done
# The second machine: the same, plus a QEMU that fails at once.
mkdir "$work/badbin"
printf '#!/bin/sh\nexit 1\n' >"$work/badbin/qemu-system-x86_64"
chmod 755 "$work/badbin/qemu-system-x86_64"

# check WHAT PATH: nobody runs install-deps with PATH.
check() {
	local what=$1 path=$2 rc=0 lines
	(cd "$work" && env -i PATH="$path" HOME=/nonexistent \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		bash "$work/install-deps" >"$work/out" 2>"$work/err" </dev/null) ||
		rc=$?
	lines=$(grep -c . "$work/err")
	if [ "$rc" != 0 ] && [ "$lines" = 1 ] && grep -qi 'qemu' "$work/err"; then
		pass "$what: exit $rc, $(cat "$work/err")"
	else
		fail "$what: exit $rc, $lines stderr lines, want non-zero and one line naming QEMU:"
		sed 's/^/    | /' "$work/err" "$work/out" | head -n 10
	fi
}

check "no QEMU on PATH" "$work/bin"
check "a QEMU that fails" "$work/badbin:$work/bin"

finish
