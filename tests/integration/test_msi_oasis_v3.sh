#!/usr/bin/env bash
# A virtio-mmio device that reports Version 3 with the virtio
# specification's meaning (virtio-spec issue #246: Version 2 plus reset
# completion polling; QueueReset at 0x0c0, QueueNotify write-only), i.e.
# mmvm --virtio-version 3-oasis, under the project's kernel, which
# carries the out-of-tree 2019 "Version 3" layout (0100-*, built in) but
# engages it only with virtio_mmio.layout_2019=1. Not given here, so the
# kernel must refuse the devices cleanly (or drive them as standard),
# never as the 2019 layout (guest test oasis_v3.sh). Checks:
#   - the guest boots, refuses every virtio-mmio device ("Version 3 not
#     supported!"), has no virtio device and no vmMSI interrupt;
#   - layout_2019 reads N in the guest (the opt-in is off);
#   - mmvm counts no invalid access on either device: a driver taking
#     them for the 2019 layout would read the 16-bit MSIStatus at 0x0c0
#     and QueueNotify, which this device does not answer;
#   - mmvm exits 0 (the guest powered off).
#
# Needs KVM: tests/integration/run-all.sh test_msi_oasis_v3.sh
# Env: MMVM_KERNEL, MMVM_INITRD.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm

img=$MMVM_WORK/disk.img
truncate -s 16M "$img"
log=$MMVM_WORK/ov3.log
run_guest "$log" oasis_v3 --disk "$img" --rng --virtio-version 3-oasis \
	--stats "$MMVM_WORK/s"
txt=$MMVM_WORK/ov3.txt
tr -d '\r' <"$log" >"$txt"
st() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$MMVM_WORK/s"; }
line=$(grep -a -m1 '^MMVM-OV3 virtio_devices=' "$txt")
if [ "$RUN_GUEST_RC" = 0 ] && [ "$(guest_test_rc "$txt")" = 0 ]; then
	pass "Version 3 (spec meaning) refused cleanly: $line ($RUN_GUEST_SECONDS s)"
else
	fail "mmvm exit $RUN_GUEST_RC, guest test rc '$(guest_test_rc "$txt")': ${line:-no MMVM-OV3 line}"
	show_log "$txt" 40
fi
grep -a '^MMVM-OV3 dmesg:.*Version 3' "$txt" | head -n 2 | sed 's/^/    | /'
case "$line" in
*layout2019=N*) pass "virtio_mmio.layout_2019 is off (N): the 2019 layout is opt-in" ;;
*) fail "layout_2019 not N in the guest: $line" ;;
esac
bad=0
for d in blk0 rng0; do
	inv=$(st "$d.invalid")
	msi=$(awk -v d="$d" '$1 ~ "^" d "\\.irqs_msi_" { n += $2 } END { print n + 0 }' "$MMVM_WORK/s")
	[ "$inv" = 0 ] && [ "$msi" = 0 ] || bad=1
	say "  $d: invalid accesses $inv, MSIs $msi, reads $(st "$d.reads"), writes $(st "$d.writes")"
done
[ "$bad" = 0 ] &&
	pass "no access to the 2019 registers: 0 invalid accesses, 0 MSIs on blk0 and rng0" ||
	fail "a device saw invalid accesses or MSIs (driven as the 2019 layout?)"
finish
