#!/usr/bin/env bash
# The seccomp sandbox (docs/security.md): a guest with every kind of device
# boots and powers off with --seccomp=on, a timeout's vCPU
# dump and --stats still work under the main thread's filter, and a thread
# that makes a forbidden system call (the MMVM_SECCOMP_SELFTEST test hook)
# ends the run with status 4 and the line naming the call.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"

# No KVM needed: option syntax.
out=$("$MMVM" --kernel "$MMVM_KERNEL" --seccomp=maybe 2>&1); rc=$?
if [ "$rc" = 1 ] && [ "$out" = "mmvm: --seccomp 'maybe': want on or off" ]; then
	pass "--seccomp=maybe: exit 1, '$out'"
else
	fail "--seccomp=maybe: exit $rc, '$out'"
fi
if "$MMVM" --help | grep -q -- '--seccomp on|off' &&
   "$MMVM" --help | grep -q '^  4    mmvm internal error: sandbox violation'; then
	pass "--help documents --seccomp and exit status 4"
else
	fail "--help lacks --seccomp or exit status 4"
fi

require_kvm
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT:-300}
disk=$MMVM_WORK/disk.img
truncate -s 64M "$disk"

# (1) Default (on): 2 vCPUs, blk + rng + console, --stats at exit.
log=$MMVM_WORK/on.log
run_guest "$log" demo --seccomp=on --cpus 2 --rng --disk "$disk" --console virtio \
	--stats "$MMVM_WORK/stats"
check_exit "seccomp on, 2 vCPUs, blk+rng+console" "$log" 0 \
	"guest powered off (ACPI S5)"
if grep -q 'mmvm: seccomp:' "$log"; then
	fail "a seccomp report in a normal run"
	show_log "$log"
elif [ "$(awk '$1 == "vcpu.exits" { print $2 }' "$MMVM_WORK/stats")" -gt 0 ] 2>/dev/null; then
	pass "--stats written under the main thread's filter"
else
	fail "--stats: no vcpu.exits in $MMVM_WORK/stats"
fi

# A run ended from outside: teardown dumps each vCPU's state (KVM_GET_REGS,
# ... on the main thread).
log=$MMVM_WORK/timeout.log
GUEST_CMDLINE_EXTRA="rdinit=/bin/sleep -- 1000" run_guest "$log" sleep \
	--seccomp=on --cpus 2 --timeout 5
check_exit "seccomp on, --timeout" "$log" 124 "timeout"
if grep -q '^mmvm: vcpu 1: RIP ' "$log" && ! grep -q 'mmvm: seccomp:' "$log"; then
	pass "vCPU state dump under the main thread's filter"
else
	fail "no vCPU state dump after the timeout"
	show_log "$log"
fi

# stdin a terminal (script(1) gives mmvm a pty): raw mode at start, and
# the main thread restores it (tcsetattr) under its filter.
if command -v script >/dev/null; then
	log=$MMVM_WORK/tty.log
	t0=$(date +%s.%N)
	RUN_GUEST_RC=0
	timeout -k 5 "$RUN_GUEST_TIMEOUT" script -qefc "$(printf '%q ' "$MMVM" \
		--seccomp=on --kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
		--cmdline "console=ttyS0 mmvm.test=demo")" /dev/null \
		</dev/null >"$log" 2>&1 || RUN_GUEST_RC=$?
	RUN_GUEST_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	check_exit "seccomp on, stdin a terminal" "$log" 0 \
		"guest powered off (ACPI S5)"
else
	say "no script(1): terminal case not run"
fi

# (2) The test hook: the named thread calls getppid() right after entering
# its sandbox.
for kind in vcpu io main; do
	log=$MMVM_WORK/selftest-$kind.log
	MMVM_SECCOMP_SELFTEST=$kind run_guest "$log" demo --seccomp=on --rng
	check_exit "forbidden syscall on the $kind thread" "$log" 4 \
		"seccomp: thread $kind made syscall 110 (getppid), which its filter does not allow"
done

# The hook does nothing with the sandbox off.
log=$MMVM_WORK/off.log
MMVM_SECCOMP_SELFTEST=vcpu run_guest "$log" demo --seccomp=off
check_exit "--seccomp=off ignores the hook" "$log" 0 \
	"guest powered off (ACPI S5)"

finish
