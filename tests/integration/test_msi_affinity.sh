#!/usr/bin/env bash
# Managed affinity on virtio-mmio MSI (the project's patched kernel, the
# default layout): a 2-vCPU guest with a 2-queue disk (guest test
# affinity.sh). Checks:
#   - each queue vector is a managed interrupt and its effective affinity
#     is the managed spread (queue 0 on CPU 0, queue 1 on CPU 1); the
#     config vector is not managed (a pre-vector);
#   - reads pinned to CPU c complete on queue c's vector, on CPU c;
#   - CPU 1 taken offline: reads on CPU 0 still complete (queue 0's vector
#     fires); CPU 1 back: reads on CPU 1 complete on queue 1's vector again;
#   - two concurrent writers, one on each CPU: both complete, what each
#     wrote is in the image on the host, and both queues' workers served
#     requests (--stats blk0.blk_requests_0/1).
#
# Needs KVM: tests/integration/run-all.sh test_msi_affinity.sh
# Env: MMVM_KERNEL, MMVM_INITRD, MMVM_AFFINITY_MODE (default 2).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail
mode=${MMVM_AFFINITY_MODE:-2}

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm

img=$MMVM_WORK/disk.img
truncate -s 64M "$img"
transport_opts "$mode" || { fail "unknown mode $mode"; finish; }
log=$MMVM_WORK/aff.log
run_guest "$log" affinity --cpus 2 --disk "$img,queues=2" \
	"${TRANSPORT_OPTS[@]}" --stats "$MMVM_WORK/aff.stats"
tr -d '\r' <"$log" >"$MMVM_WORK/aff.txt"
txt=$MMVM_WORK/aff.txt
if [ "$RUN_GUEST_RC" != 0 ] || [ "$(guest_test_rc "$txt")" != 0 ]; then
	fail "mode $mode: mmvm exit $RUN_GUEST_RC, guest test rc '$(guest_test_rc "$txt")'"
	show_log "$txt" 40
	finish
fi
grep -a '^MMVM-AFF' "$txt" | sed 's/^/    /'

# vecfield LABEL KEY: KEY of the first "MMVM-AFF vec" line for LABEL.
vecfield() {
	grep -a -m1 "^MMVM-AFF vec label=$1 " "$txt" | tr ' ' '\n' |
		sed -n "s/^$2=//p"
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
io_ok() {
	grep -a -q "^MMVM-AFF io phase=$1 cpu=$2 rc=0" "$txt"
}

dev=$(sed -n 's/^MMVM-AFF device=\([^ ]*\).*/\1/p' "$txt" | head -n 1)
queues=$(sed -n 's/^MMVM-AFF device=[^ ]* queues=\([0-9]*\).*/\1/p' "$txt" | head -n 1)
[ "$queues" = 2 ] && pass "the guest sees 2 blk-mq hardware queues on $dev" ||
	fail "the guest sees '$queues' hardware queues, want 2"

for q in 0 1; do
	l=$dev-req.$q
	m=$(vecfield "$l" managed) eff=$(vecfield "$l" eff) smp=$(vecfield "$l" smp)
	[ "$m" = 1 ] && [ "$eff" = "$q" ] && [ "$smp" = "$q" ] &&
		pass "$l: managed, affinity $smp, effective $eff (the spread: queue $q on CPU $q)" ||
		fail "$l: managed '$m', affinity '$smp', effective '$eff' (want 1, $q, $q)"
done
m=$(vecfield "$dev-config" managed)
[ "$m" = 0 ] && pass "$dev-config: not managed (the pre-vector)" ||
	fail "$dev-config: managed '$m', want 0"

io_ok io0 0 && rose start io0 "$dev-req.0" 0 && ! rose start io0 "$dev-req.1" 1 &&
	pass "reads on CPU 0 complete on $dev-req.0, on CPU 0" ||
	fail "reads on CPU 0: $dev-req.0 cpu0 $(cnt start "$dev-req.0" 0) -> $(cnt io0 "$dev-req.0" 0)"
io_ok io1 1 && rose io0 io1 "$dev-req.1" 1 && ! rose io0 io1 "$dev-req.0" 0 &&
	pass "reads on CPU 1 complete on $dev-req.1, on CPU 1" ||
	fail "reads on CPU 1: $dev-req.1 cpu1 $(cnt io0 "$dev-req.1" 1) -> $(cnt io1 "$dev-req.1" 1)"
grep -a -q '^MMVM-AFF cpu1 online=0' "$txt" && io_ok offline 0 &&
	rose io1 offline "$dev-req.0" 0 &&
	pass "CPU 1 offline: reads on CPU 0 complete, $dev-req.0 fires" ||
	fail "CPU 1 offline: reads or interrupts stopped"
grep -a -q '^MMVM-AFF cpu1 online=1' "$txt" && io_ok online 1 &&
	rose io1 online "$dev-req.1" 1 &&
	pass "CPU 1 back: reads on CPU 1 complete on $dev-req.1 again" ||
	fail "CPU 1 back online: $dev-req.1 cpu1 $(cnt offline "$dev-req.1" 1) -> $(cnt online "$dev-req.1" 1)"

# The concurrent writers: the image holds what each wrote.
for c in 0 1; do
	line=$(grep -a -m1 "^MMVM-AFF write cpu=$c " "$txt")
	want=$(echo "$line" | tr ' ' '\n' | sed -n 's/^md5=//p')
	got=$(dd if="$img" bs=1M skip=$((16 + 16 * c)) count=4 2>/dev/null |
		md5sum | cut -d' ' -f1)
	echo "$line" | grep -q " rc=0 " && [ -n "$want" ] && [ "$got" = "$want" ] &&
		pass "concurrent writer on CPU $c: 4 MiB at MiB $((16 + 16 * c)) of the image on the host, md5 $got" ||
		fail "concurrent writer on CPU $c: '$line', image md5 $got"
done
blkstat() { awk -v k="blk0.$1" '$1 == k { print $2 }' "$MMVM_WORK/aff.stats"; }
r0=$(blkstat blk_requests_0) r1=$(blkstat blk_requests_1)
[ "${r0:-0}" -gt 0 ] && [ "${r1:-0}" -gt 0 ] &&
	pass "both queues' workers served requests (queue 0: $r0, queue 1: $r1)" ||
	fail "requests per queue: '$r0' '$r1', want both > 0"
finish
