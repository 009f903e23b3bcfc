#!/usr/bin/env bash
# Where each queue's interrupt lands (the project's patched kernel): a
# 2-vCPU guest with a 2-queue disk and a 2-pair virtio-net device on a
# multi-queue tap (guest test affinity.sh), in each mode of
# MMVM_AFFINITY_MODES (lib.sh transport_opts; default "2 3 2nomsi").
# With MSI (2: the default layout, 3: the 2019 layout):
#   - each disk queue vector is a managed interrupt whose effective
#     affinity is the managed spread (queue 0 on CPU 0, queue 1 on CPU 1);
#     the config vector is not managed (a pre-vector);
#   - each net pair's vectors (input.Q, output.Q) are on CPU Q, placed by
#     virtio_net through set_vq_affinity (patch 0009), not managed;
#   - reads pinned to CPU c complete on queue c's vector, on CPU c;
#     connection attempts pinned to CPU c send on pair c, whose tx vector
#     fires on CPU c;
#   - no disk queue vector ever fires on the other CPU; a net vector at
#     most once: x86 moves a vector that is not remapped at its next
#     interrupt, which still arrives where the vector was (the driver
#     moves them after request_irq());
# With the legacy line (2nomsi): no queue vector; every queue of each
# device signals its one line, which rises for the I/O of both CPUs.
# In every mode:
#   - CPU 1 taken offline: reads on CPU 0 still complete; CPU 1 back:
#     reads on CPU 1 complete (on queue 1's vector with MSI);
#   - two concurrent writers, one on each CPU: both complete, what each
#     wrote is in the image on the host, both queues' workers served
#     requests (--stats blk0.blk_requests_0/1), and a second boot on the
#     same image (the reboot) reads both back.
#
# Needs KVM and root (the tap): tests/integration/run-all.sh test_msi_affinity.sh
# Env: MMVM_KERNEL, MMVM_INITRD, MMVM_AFFINITY_MODES.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail
modes=${MMVM_AFFINITY_MODES:-2 3 2nomsi}
tap=mmvmaff0

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm
require_root
PATH=$PATH:/sbin:/usr/sbin

cleanup() {
	ip link del "$tap" 2>/dev/null
	rm -rf "$MMVM_WORK"
}
trap cleanup EXIT
ip link del "$tap" 2>/dev/null
ip tuntap add dev "$tap" mode tap multi_queue &&
	ip addr add 10.0.6.1/24 dev "$tap" && ip link set "$tap" up ||
	{ fail "cannot set up the multi-queue tap $tap"; finish; }

txt=
# vecfield AT LABEL KEY: KEY of the "MMVM-AFF vec" line for LABEL at AT.
vecfield() {
	grep -a -m1 "^MMVM-AFF vec at=$1 label=$2 " "$txt" | tr ' ' '\n' |
		sed -n "s/^$3=//p"
}
# cnt PHASE LABEL CPU: that CPU's count of LABEL after PHASE.
cnt() {
	grep -a "^MMVM-AFF count phase=$1 label=$2 " "$txt" | tr ' ' '\n' |
		sed -n "s/^cpu$3=//p"
}
# rose FROM TO LABEL CPU: did LABEL's count on CPU grow between phases?
rose() {
	local a b
	a=$(cnt "$1" "$3" "$4") b=$(cnt "$2" "$3" "$4")
	[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]
}
# rose_any FROM TO LABEL: on either CPU.
rose_any() {
	rose "$1" "$2" "$3" 0 || rose "$1" "$2" "$3" 1
}
io_ok() {
	grep -a -q "^MMVM-AFF io phase=$1 cpu=$2 rc=0" "$txt"
}
devfield() {
	sed -n "s/^MMVM-AFF device=\([^ ]*\) kind=$1 queues=\([0-9]*\).*/\\$2/p" "$txt" |
		head -n 1
}

# check_spread AT LABEL Q MANAGED HOW PHASE MAX: queue Q's vector LABEL is
# on CPU Q at point AT, and fired at most MAX times on the other CPU up to
# PHASE.
check_spread() {
	local at=$1 l=$2 q=$3 want_managed=$4 how=$5 phase=$6 max=$7 m eff smp n
	m=$(vecfield "$at" "$l" managed) eff=$(vecfield "$at" "$l" eff)
	smp=$(vecfield "$at" "$l" smp)
	[ "$m" = "$want_managed" ] && [ "$eff" = "$q" ] && [ "$smp" = "$q" ] &&
		pass "mode $mode: $l: $how, affinity $smp, effective $eff (queue $q on CPU $q)" ||
		fail "mode $mode: $l at $at: managed '$m', affinity '$smp', effective '$eff' (want $want_managed, $q, $q)"
	n=$(cnt "$phase" "$l" $((1 - q)))
	[ -n "$n" ] && [ "$n" -le "$max" ] &&
		pass "mode $mode: $l fired $n times on CPU $((1 - q)) (at most $max), $(cnt "$phase" "$l" $q) on CPU $q" ||
		fail "mode $mode: $l fired '$n' times on CPU $((1 - q)), want at most $max"
}

msi_checks() {
	local q l m
	for q in 0 1; do
		check_spread start "$blk-req.$q" $q 1 managed write 0
		for l in input output; do
			check_spread net "$net-$l.$q" $q 0 "placed by virtio_net" net1 1
		done
	done
	m=$(vecfield start "$blk-config" managed)
	[ "$m" = 0 ] && pass "mode $mode: $blk-config: not managed (the pre-vector)" ||
		fail "mode $mode: $blk-config: managed '$m', want 0"
	grep -a -q "^MMVM-AFF line " "$txt" &&
		fail "mode $mode: a device still uses its line: $(grep -a -m1 '^MMVM-AFF line ' "$txt")"

	io_ok io0 0 && rose start io0 "$blk-req.0" 0 && ! rose start io0 "$blk-req.1" 1 &&
		pass "mode $mode: reads on CPU 0 complete on $blk-req.0, on CPU 0" ||
		fail "mode $mode: reads on CPU 0: $blk-req.0 cpu0 $(cnt start "$blk-req.0" 0) -> $(cnt io0 "$blk-req.0" 0)"
	io_ok io1 1 && rose io0 io1 "$blk-req.1" 1 && ! rose io0 io1 "$blk-req.0" 0 &&
		pass "mode $mode: reads on CPU 1 complete on $blk-req.1, on CPU 1" ||
		fail "mode $mode: reads on CPU 1: $blk-req.1 cpu1 $(cnt io0 "$blk-req.1" 1) -> $(cnt io1 "$blk-req.1" 1)"
	# The phase before netQ: net for net0, net0 for net1.
	local prev=net
	for q in 0 1; do
		rose "$prev" net$q "$net-output.$q" $q &&
			! rose "$prev" net$q "$net-output.$((1 - q))" $((1 - q)) &&
			pass "mode $mode: connections from CPU $q send on pair $q: output.$q on CPU $q $(cnt "$prev" "$net-output.$q" $q) -> $(cnt net$q "$net-output.$q" $q), output.$((1 - q)) unchanged" ||
			fail "mode $mode: connections from CPU $q: output.$q on CPU $q $(cnt "$prev" "$net-output.$q" $q) -> $(cnt net$q "$net-output.$q" $q), output.$((1 - q)) on CPU $((1 - q)) $(cnt "$prev" "$net-output.$((1 - q))" $((1 - q))) -> $(cnt net$q "$net-output.$((1 - q))" $((1 - q)))"
		prev=net$q
	done
	grep -a -q '^MMVM-AFF cpu1 online=1' "$txt" && io_ok online 1 &&
		rose offline online "$blk-req.1" 1 &&
		pass "mode $mode: CPU 1 back: reads on CPU 1 complete on $blk-req.1 again" ||
		fail "mode $mode: CPU 1 back online: $blk-req.1 cpu1 $(cnt offline "$blk-req.1" 1) -> $(cnt online "$blk-req.1" 1)"
}

line_checks() {
	local d
	grep -a -q "^MMVM-AFF vec at=[a-z]* label=[^ ]*-\(req\|input\|output\)\." "$txt" &&
		fail "mode $mode: queue vectors without MSI: $(grep -a -m1 '^MMVM-AFF vec ' "$txt")"
	for d in "$blk" "$net"; do
		grep -a -q "^MMVM-AFF line label=$d " "$txt" &&
			pass "mode $mode: $d signals its one line, no per-queue vector" ||
			fail "mode $mode: no line for $d"
	done
	io_ok io0 0 && rose_any start io0 "$blk" && io_ok io1 1 && rose_any io0 io1 "$blk" &&
		pass "mode $mode: reads on CPU 0 and on CPU 1 (queues 0 and 1) all complete on $blk's line" ||
		fail "mode $mode: reads: $blk's line $(cnt start "$blk" 0)/$(cnt io1 "$blk" 0) on CPU 0"
	rose_any net net0 "$net" && rose_any net0 net1 "$net" &&
		pass "mode $mode: connections from both CPUs (both pairs) all signal $net's line" ||
		fail "mode $mode: $net's line did not rise for the connection attempts"
	grep -a -q '^MMVM-AFF cpu1 online=1' "$txt" && io_ok online 1 &&
		pass "mode $mode: CPU 1 back: reads on CPU 1 complete" ||
		fail "mode $mode: CPU 1 back online: reads on CPU 1 failed"
}

for mode in $modes; do
	transport_opts "$mode" || { fail "unknown mode $mode"; continue; }
	img=$MMVM_WORK/disk-$mode.img
	truncate -s 64M "$img"
	opts=(--cpus 2 --disk "$img,queues=2" --net "tap=$tap,queues=2"
	      "${TRANSPORT_OPTS[@]}")
	log=$MMVM_WORK/aff-$mode.log txt=$MMVM_WORK/aff-$mode.txt
	stats=$MMVM_WORK/aff-$mode.stats
	run_guest "$log" affinity "${opts[@]}" --stats "$stats"
	tr -d '\r' <"$log" >"$txt"
	if [ "$RUN_GUEST_RC" != 0 ] || [ "$(guest_test_rc "$txt")" != 0 ]; then
		fail "mode $mode: mmvm exit $RUN_GUEST_RC, guest test rc '$(guest_test_rc "$txt")'"
		show_log "$txt" 40
		continue
	fi
	grep -a '^MMVM-AFF \(device\|vec\|line\)' "$txt" | sed 's/^/    /'
	blk=$(devfield blk 1) net=$(devfield net 1)
	[ "$(devfield blk 2)" = 2 ] && [ "$(devfield net 2)" = 2 ] &&
		pass "mode $mode: the guest sees 2 blk-mq queues on $blk and 2 net pairs on $net" ||
		fail "mode $mode: blk queues '$(devfield blk 2)', net pairs '$(devfield net 2)', want 2 and 2"

	case "$mode" in
	*nomsi|2plain) line_checks; q0=$blk ;;
	*) msi_checks; q0=$blk-req.0 ;;
	esac
	grep -a -q '^MMVM-AFF cpu1 online=0' "$txt" && io_ok offline 0 &&
		rose_any io1 offline "$q0" &&
		pass "mode $mode: CPU 1 offline: reads on CPU 0 complete" ||
		fail "mode $mode: CPU 1 offline: reads or interrupts stopped"

	# The concurrent writers: the image holds what each wrote.
	want=()
	for c in 0 1; do
		line=$(grep -a -m1 "^MMVM-AFF write cpu=$c " "$txt")
		want[c]=$(echo "$line" | tr ' ' '\n' | sed -n 's/^md5=//p')
		got=$(dd if="$img" bs=1M skip=$((16 + 16 * c)) count=4 2>/dev/null |
			md5sum | cut -d' ' -f1)
		echo "$line" | grep -q " rc=0 " && [ -n "${want[c]}" ] && [ "$got" = "${want[c]}" ] &&
			pass "mode $mode: concurrent writer on CPU $c: 4 MiB at MiB $((16 + 16 * c)) of the image on the host, md5 $got" ||
			fail "mode $mode: concurrent writer on CPU $c: '$line', image md5 $got"
	done
	blkstat() { awk -v k="blk0.$1" '$1 == k { print $2 }' "$stats"; }
	r0=$(blkstat blk_requests_0) r1=$(blkstat blk_requests_1)
	[ "${r0:-0}" -gt 0 ] && [ "${r1:-0}" -gt 0 ] &&
		pass "mode $mode: both queues' workers served requests (queue 0: $r0, queue 1: $r1)" ||
		fail "mode $mode: requests per queue: '$r0' '$r1', want both > 0"

	# The reboot: a new VM on the same image reads both regions back.
	vlog=$MMVM_WORK/verify-$mode.log
	GUEST_CMDLINE_EXTRA=mmvm.aff=verify run_guest "$vlog" affinity "${opts[@]}"
	for c in 0 1; do
		got=$(tr -d '\r' <"$vlog" | sed -n "s/^MMVM-AFF readback cpu=$c md5=//p")
		[ "$RUN_GUEST_RC" = 0 ] && [ -n "${want[c]}" ] && [ "$got" = "${want[c]}" ] &&
			pass "mode $mode: after the reboot the guest reads back what CPU $c wrote (md5 $got)" ||
			fail "mode $mode: after the reboot: exit $RUN_GUEST_RC, read back '$got', written '${want[c]}'"
	done
	# Why the second VM failed (a nested 0xfff0 reset shows here, where
	# run-all.sh's retry looks for it).
	[ "$RUN_GUEST_RC" = 0 ] || show_log "$vlog" 10
done
finish
