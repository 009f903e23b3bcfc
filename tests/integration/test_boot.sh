#!/usr/bin/env bash
# The guest boots under mmvm with 1 and 2 vCPUs and 256 and 512 MiB, its
# /init runs and reports what it sees (MMVM-GUEST line), the default "demo"
# guest test passes, and mmvm exits 0 after the guest powers off.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm

# MemTotal is the RAM minus what the kernel keeps for itself: expect
# between 80% and 100% of what was asked for.
check_boot() {
	local cpus=$1 mem_mib=$2 log=$MMVM_WORK/boot-$1-$2.log
	local name="$cpus vCPU, $mem_mib MiB" got_cpus mem_kb rc
	run_guest "$log" demo --cpus "$cpus" --mem "${mem_mib}M"
	rc=$RUN_GUEST_RC
	got_cpus=$(guest_field "$log" cpus)
	mem_kb=$(guest_field "$log" mem_kb)
	say "$name: mmvm exit $rc in $RUN_GUEST_SECONDS s," \
	    "guest cpus=${got_cpus:-?} mem_kb=${mem_kb:-?}" \
	    "uname=$(guest_field "$log" uname)"
	if ! [[ "$mem_kb" =~ ^[0-9]+$ && "$got_cpus" =~ ^[0-9]+$ ]]; then
		fail "$name: no valid MMVM-GUEST line (guest init did not run)"
		show_log "$log"
		return
	fi
	local ok=1
	[ "$rc" = 0 ] || { fail "$name: mmvm exited $rc, want 0"; ok=0; }
	[ "$got_cpus" = "$cpus" ] ||
		{ fail "$name: guest sees $got_cpus CPUs, want $cpus"; ok=0; }
	local want_kb=$((mem_mib * 1024))
	if [ "$mem_kb" -gt "$want_kb" ] || [ "$mem_kb" -lt $((want_kb * 8 / 10)) ]; then
		fail "$name: MemTotal $mem_kb kB outside $((want_kb * 8 / 10))..$want_kb"
		ok=0
	fi
	[ "$(guest_test_rc "$log")" = 0 ] ||
		{ fail "$name: guest test demo did not end with rc=0"; ok=0; }
	if [ "$ok" = 1 ]; then
		pass "$name"
	else
		show_log "$log"
	fi
}

check_boot 1 256
check_boot 2 512
finish
