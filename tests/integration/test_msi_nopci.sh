#!/usr/bin/env bash
# MSI on virtio-mmio without PCI: the project's kernel built without
# CONFIG_PCI (guest/kernel/build-kernel.sh --variant nopci, as a PCI-less
# microVM kernel would be) on the default devices, with --no-acpi: Linux
# 6.12 built without PCI loads no ACPI tables at all (ACPICA keeps
# PCI_Config among its default address spaces, whose handler only exists
# with CONFIG_PCI: "AE_BAD_PARAMETER, During Region initialization"), so
# such a kernel finds its devices on the command line (and ends with a
# reboot: without ACPI it cannot power off). Checks: the guest has
# no PCI bus, its disk and rng each get a config and per-queue MSI vector,
# the queue vectors rise with I/O and mmvm counts no ISR read, no legacy
# interrupt and doorbells through the ioeventfd (guest test v3_msi.sh).
#
# Needs KVM: tests/integration/run-all.sh test_msi_nopci.sh
# Env: MMVM_KERNEL_NOPCI (default build/guest/bzImage-nopci), MMVM_INITRD.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail
kernel=${MMVM_KERNEL_NOPCI:-$MMVM_REPO/build/guest/bzImage-nopci}

require_files "$MMVM" "$kernel" "$MMVM_INITRD"
require_kvm

img=$MMVM_WORK/disk.img
truncate -s 16M "$img"
log=$MMVM_WORK/nopci.log
MMVM_KERNEL=$kernel GUEST_CMDLINE_EXTRA="mmvm.reads=500 mmvm.end=reboot" \
	run_guest "$log" v3_msi --disk "$img" --rng --no-acpi \
	--stats "$MMVM_WORK/s"
txt=$MMVM_WORK/nopci.txt
tr -d '\r' <"$log" >"$txt"
if [ "$RUN_GUEST_RC" != 0 ] || [ "$(guest_test_rc "$txt")" != 0 ]; then
	fail "mmvm exit $RUN_GUEST_RC, guest test rc '$(guest_test_rc "$txt")'"
	show_log "$txt" 40
	finish
fi
st() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$MMVM_WORK/s"; }
count() {
	awk -v tag="$1" -v label="$2" '
		$0 == "MMVM-IRQ-BEGIN " tag { on = 1; next }
		$0 == "MMVM-IRQ-END " tag { on = 0 }
		on && $NF == label { n = 0
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
			print n; f = 1; exit }
		END { if (!f) print "none" }' "$txt"
}
grep -a -q 'MMVM-V3 .* pci=0' "$txt" &&
	pass "the guest has no PCI bus (no /sys/bus/pci)" ||
	fail "the guest has a PCI bus: $(grep -a -o 'MMVM-V3 .*' "$txt")"
awk '/^MMVM-IRQ-BEGIN after/ { on = 1; next } /^MMVM-IRQ-END/ { on = 0 }
     on && /virtio/' "$txt" | sed 's/^/    irq: /'
ok=1
for l in virtio0-config virtio0-req.0 virtio1-config virtio1-input; do
	[ "$(count after "$l")" != none ] || { ok=0; fail "no MSI vector $l"; }
done
[ "$ok" = 1 ] && pass "MSI vectors without PCI: virtio0-config, virtio0-req.0, virtio1-config, virtio1-input"
b=$(count before virtio0-req.0) a=$(count after virtio0-req.0)
[ "$b" != none ] && [ "$a" != none ] && [ "$a" -gt "$b" ] &&
	pass "virtio0-req.0 rose $b -> $a over 500 reads" ||
	fail "virtio0-req.0 did not rise ($b -> $a)"
[ "$(st blk0.isr_reads)" = 0 ] && [ "$(st blk0.irqs_legacy)" = 0 ] &&
	[ "$(st blk0.doorbells_kvm_0)" -gt 0 ] &&
	pass "mmvm: blk0 isr_reads 0, irqs_legacy 0, doorbells_kvm_0 $(st blk0.doorbells_kvm_0)" ||
	fail "mmvm: blk0 isr_reads $(st blk0.isr_reads), irqs_legacy $(st blk0.irqs_legacy), doorbells $(st blk0.doorbells_kvm_0)"
finish
