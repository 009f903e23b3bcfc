#!/usr/bin/env bash
# Device reset under interrupt load, with MSI (the project's kernel;
# guest test reset_load.sh): 2 vCPUs, readers keep O_DIRECT reads of
# /dev/vdb in flight on CPU 1 while vdb's driver is unbound and bound
# again (virtio_blk and virtio-mmio alternately), so the device is reset
# while its queue vector fires. vm_reset() synchronizes the MSI vectors
# (as virtio-pci's vp_reset()); the kernel's test aid
# (CONFIG_VIRTIO_MMIO_DEBUG_RESET, out-of-tree patch 0101) counts queue
# callbacks still running when the reset returned or starting after it,
# before the device is initialised again. Checks: every cycle re-probes
# and reads vdb's first sector back; late_callbacks = 0; no "callback
# after reset", WARNING, BUG or "nobody cared" in the guest; mmvm exits 0.
# With MMVM_RESET_LOAD_CONTROL=1 also a negative control run with
# virtio_mmio.debug_skip_reset_sync=1 (its count is printed, not judged:
# the race it opens is narrow).
#
# Needs KVM: tests/integration/run-all.sh test_msi_reset_load.sh
# Env: MMVM_KERNEL, MMVM_INITRD, MMVM_RESET_LOAD_CYCLES (default 30),
# MMVM_RESET_LOAD_CONTROL.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail
cycles=${MMVM_RESET_LOAD_CYCLES:-30}
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT_RESET_LOAD:-400}

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm

a=$MMVM_WORK/a.img b=$MMVM_WORK/b.img
truncate -s 16M "$a"
truncate -s 16M "$b"
printf 'MMVM-TEARDOWN-PATTERN' | dd of="$b" conv=notrunc status=none

run() {
	local name=$1 extra=$2
	log=$MMVM_WORK/$name.log txt=$MMVM_WORK/$name.txt
	GUEST_CMDLINE_EXTRA="mmvm.cycles=$cycles${extra:+ $extra}" \
		run_guest "$log" reset_load --cpus 2 --disk "$a" --disk "$b" \
		--stats "$MMVM_WORK/$name.stats"
	tr -d '\r' <"$log" >"$txt"
	done_line=$(grep -a -m1 '^MMVM-RL done' "$txt")
	say "$name: mmvm exit $RUN_GUEST_RC after $RUN_GUEST_SECONDS s; $done_line"
	grep -a '^MMVM-RL dmesg' "$txt" | head -n 5 | sed 's/^/    | /'
}

run rl ""
if [ "$RUN_GUEST_RC" = 0 ] && [ "$(guest_test_rc "$txt")" = 0 ]; then
	pass "$cycles unbind/bind cycles under I/O on the same disk, 2 vCPUs: $done_line"
else
	fail "mmvm exit $RUN_GUEST_RC, guest test rc '$(guest_test_rc "$txt")': ${done_line:-no MMVM-RL done line}"
	show_log "$txt" 40
fi
late=$(sed -n 's/.* late=\([0-9]*\).*/\1/p' <<<"$done_line")
reads=$(sed -n 's/.* reads=\([0-9]*\).*/\1/p' <<<"$done_line")
[ "$late" = 0 ] && [ "${reads:-0}" -gt 0 ] &&
	pass "no queue callback across or after a reset (late_callbacks 0, $reads reads in flight during the cycles)" ||
	fail "late_callbacks '${late:-?}', reads '${reads:-?}'"

if [ "${MMVM_RESET_LOAD_CONTROL:-0}" = 1 ]; then
	run rl-control "virtio_mmio.debug_skip_reset_sync=1"
	say "negative control (no synchronization in vm_reset): $done_line"
fi
finish
