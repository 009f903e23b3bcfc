#!/usr/bin/env bash
# Least privilege (docs/security.md): mmvm opens everything, then gives up
# what it no longer needs before the guest runs.
#   - --user 65534:65534 --chroot EMPTYDIR: a guest with a disk (one
#     read-write, one ,ro), an rng and --stats boots and powers off (exit
#     0, stats written); while it runs, /proc/PID shows uid/gid 65534, no
#     capability in any set (CapEff, CapPrm, CapBnd all 0), the chroot as
#     its root, and the ,ro image's descriptor open O_RDONLY;
#   - without --user: still root, but with no capability left;
#   - bad values: one named line, exit 1.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"

# Option checking needs no KVM.
bad() {
	local what=$1 want=$2 out rc=0
	shift 2
	out=$("$MMVM" --kernel "$MMVM_KERNEL" "$@" 2>&1) || rc=$?
	if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] &&
	   [[ "$out" == *"$want"* ]]; then
		pass "$what: exit 1, '$out'"
	else
		fail "$what: exit $rc, '$out' (want '$want')"
	fi
}
bad "--user root" "that is root" --user 0
bad "--user nosuchuser" "no such user" --user nosuchuser-mmvm
bad "--user 1:nosuchgroup" "no such group" --user 1:nosuchgroup-mmvm
bad "--chroot missing" "--chroot $MMVM_WORK/nope: No such file or directory" \
	--chroot "$MMVM_WORK/nope"
touch "$MMVM_WORK/file"
bad "--chroot a file" "not a directory" --chroot "$MMVM_WORK/file"

require_kvm
require_root
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT:-300}
empty=$MMVM_WORK/empty
mkdir -p "$empty"
rw=$MMVM_WORK/rw.img ro=$MMVM_WORK/ro.img
truncate -s 16M "$rw"
head -c 1M /dev/urandom >"$ro"
ro_sum=$(sha256sum <"$ro")

# watch_proc OUT PID LOG: once the guest idles (LOG says so), /proc facts
# about the running mmvm PID, into OUT.
watch_proc() {
	local pid=$2 fd
	wait_idle "$3" "$pid" 100 || true
	{
		grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' \
			"/proc/$pid/status"
		echo "root $(readlink "/proc/$pid/root")"
		for fd in /proc/"$pid"/fd/*; do
			if [ "$(readlink "$fd")" = "$ro" ]; then
				echo "ro_flags $(awk '/^flags:/ { print $2 }' \
					"/proc/$pid/fdinfo/${fd##*/}")"
			fi
		done
	} >"$1" 2>&1
}

# run_watched NAME [options]: boots the idle test (4 s) in the background,
# samples /proc while the guest idles, waits.
run_watched() {
	local name=$1 log=$MMVM_WORK/$1.log pid
	shift
	timeout -k 5 "$RUN_GUEST_TIMEOUT" "$MMVM" --kernel "$MMVM_KERNEL" \
		--initrd "$MMVM_INITRD" --cmdline "console=ttyS0 mmvm.test=idle mmvm.idle=4" \
		--disk "$rw" --disk "$ro,ro" --rng --stats "$MMVM_WORK/$name.stats" \
		"$@" </dev/null >"$log" 2>&1 &
	pid=$!
	sleep 0.5
	# timeout's child is mmvm.
	watch_proc "$MMVM_WORK/$name.proc" "$(pgrep -P "$pid" | head -n 1)" "$log"
	wait "$pid"
	RUN_GUEST_RC=$?
	sed 's/^/    /' "$MMVM_WORK/$name.proc"
}

field() { awk -v k="$2:" '$1 == k { print $2; exit }' "$1"; }

run_watched jail --user 65534:65534 --chroot "$empty"
p=$MMVM_WORK/jail.proc
if [ "$RUN_GUEST_RC" = 0 ] && grep -q '^mmvm: guest powered off' "$MMVM_WORK/jail.log"; then
	pass "--user 65534:65534 --chroot: the guest ran and powered off, exit 0"
else
	fail "--user/--chroot run: exit $RUN_GUEST_RC"
	show_log "$MMVM_WORK/jail.log" 20
fi
[ "$(field "$p" Uid)" = 65534 ] && [ "$(field "$p" Gid)" = 65534 ] &&
	pass "running as uid 65534, gid 65534" ||
	fail "uid '$(field "$p" Uid)' gid '$(field "$p" Gid)'"
[ "$(field "$p" CapEff)" = 0000000000000000 ] &&
	[ "$(field "$p" CapPrm)" = 0000000000000000 ] &&
	[ "$(field "$p" CapBnd)" = 0000000000000000 ] &&
	pass "no capability: CapEff, CapPrm, CapBnd all 0" ||
	fail "capabilities left: $(grep Cap "$p" | tr '\n' ' ')"
[ "$(awk '$1 == "root" { print $2 }' "$p")" = "$empty" ] &&
	pass "root directory is the chroot ($empty)" ||
	fail "root is '$(awk '$1 == "root" { print $2 }' "$p")'"
fl=$(awk '$1 == "ro_flags" { print $2 }' "$p")
[ -n "$fl" ] && [ $((8#$fl & 3)) = 0 ] &&
	pass "the ,ro image is open O_RDONLY (flags 0$fl)" ||
	fail "the ,ro image's flags: '$fl'"
[ "$(sha256sum <"$ro")" = "$ro_sum" ] || fail "the ,ro image changed"
grep -q '^vcpu.exits ' "$MMVM_WORK/jail.stats" &&
	pass "--stats written after the drop (opened before it)" ||
	fail "--stats: nothing in $MMVM_WORK/jail.stats"

run_watched root
p=$MMVM_WORK/root.proc
[ "$RUN_GUEST_RC" = 0 ] && [ "$(field "$p" Uid)" = 0 ] &&
	[ "$(field "$p" CapEff)" = 0000000000000000 ] &&
	[ "$(field "$p" CapBnd)" = 0000000000000000 ] &&
	pass "without --user: exit 0, uid 0 but no capability left" ||
	fail "without --user: exit $RUN_GUEST_RC, $(grep -E 'Uid|CapEff' "$p" | tr '\n' ' ')"
finish
