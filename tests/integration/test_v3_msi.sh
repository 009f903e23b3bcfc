#!/usr/bin/env bash
# virtio-mmio version 3 interrupts and notifications, end to end, with the
# guest kernel carrying the v3 patch series (guest test v3_msi.sh: N 4 KiB
# O_DIRECT reads of /dev/vda, 4 KiB from /dev/hwrng, /proc/interrupts
# before and after).
#
#   v3 (MSI):  <dev>-config and per-queue MSI lines exist, the queue ones
#              rise with I/O, no legacy line fires; mmvm --stats shows 0
#              isr_reads, 0 isr_acks, 0 queue_notify_exits for blk0/rng0
#              (doorbells and QueueNotify go through ioeventfds)
#   v3 --no-msi: legacy line + doorbells work
#   v3 with guest virtio_mmio.msi=0 (if the guest driver has that knob):
#              legacy path
#   v2 device, patched guest: legacy path works
#   Exits per 4 KiB read, v2 and v3: two runs (0 and N reads), the KVM exit
#   counters' difference divided by N. Printed, not asserted.
#
# Needs KVM: tests/integration/run-all.sh test_v3_msi.sh
# Env: MMVM_KERNEL, MMVM_INITRD, MMVM_READS (default 2000).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT_V3:-300}
reads=${MMVM_READS:-2000}
work=$MMVM_WORK

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm

img=$work/disk.img
truncate -s 64M "$img"

# boot NAME N_READS EXTRA_CMDLINE [mmvm options]: log in $work/NAME.log
# (and without CRs in NAME.txt), stats in $work/NAME.stats; non-zero if
# mmvm or the guest test failed.
boot() {
	local name=$1 n=$2 extra=$3
	shift 3
	GUEST_CMDLINE_EXTRA="mmvm.reads=$n${extra:+ $extra}" \
		run_guest "$work/$name.log" v3_msi --disk "$img" --rng \
		--stats "$work/$name.stats" "$@"
	tr -d '\r' <"$work/$name.log" >"$work/$name.txt"
	say "  $name: mmvm exit $RUN_GUEST_RC, $RUN_GUEST_SECONDS s"
	if [ "$RUN_GUEST_RC" != 0 ] || [ "$(guest_test_rc "$work/$name.txt")" != 0 ]; then
		show_log "$work/$name.txt" 40
		return 1
	fi
}

# irq NAME TAG LABEL: total count (all CPUs) of the /proc/interrupts line
# whose last field is LABEL in section TAG (before|after); "none" if absent.
irq() {
	awk -v tag="$2" -v label="$3" '
		$0 == "MMVM-IRQ-BEGIN " tag { on = 1; next }
		$0 == "MMVM-IRQ-END " tag { on = 0 }
		on && $NF == label && $1 ~ /^[0-9]+:$/ {
			n = 0
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
			print n; found = 1; exit
		}
		END { if (!found) print "none" }' "$work/$1.txt"
}

# kstat NAME KEY: value of KEY in the --stats file (0 if absent).
kstat() {
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' \
		"$work/$1.stats"
}

show_irqs() {
	awk '/^MMVM-IRQ-BEGIN after/ { on = 1; next } /^MMVM-IRQ-END/ { on = 0 }
	     on && /virtio/' "$work/$1.txt" | sed 's/^/    irq: /'
}

# The guest numbers devices in probe order: blk (attached first) then rng.
blk=virtio0 rng=virtio1
v2_ok=0 v3_ok=0	# exits per read are only worked out from runs that passed

say "v3 with MSI"
if boot v3 "$reads" ""  --virtio-version 3; then
	v3_ok=1
	show_irqs v3
	for l in $blk-config $blk-req.0 $rng-config $rng-input; do
		[ "$(irq v3 after "$l")" != none ] || fail "v3: no MSI line $l"
	done
	b=$(irq v3 before "$blk-req.0") a=$(irq v3 after "$blk-req.0")
	[ "$b" != none ] && [ "$a" != none ] && [ "$a" -gt "$b" ] &&
		pass "v3: $blk-req.0 rose $b -> $a over $reads reads" ||
		fail "v3: $blk-req.0 did not rise ($b -> $a)"
	b=$(irq v3 before "$rng-input") a=$(irq v3 after "$rng-input")
	[ "$b" != none ] && [ "$a" != none ] && [ "$a" -gt "$b" ] &&
		pass "v3: $rng-input rose $b -> $a" ||
		fail "v3: $rng-input did not rise ($b -> $a)"
	for d in $blk $rng; do
		c=$(irq v3 after "$d")
		[ "$c" = none ] || [ "$c" = 0 ] ||
			fail "v3: legacy line $d fired $c times"
	done
	zero=1
	for d in blk0 rng0; do
		for k in isr_reads isr_acks queue_notify_exits irqs_legacy; do
			[ "$(kstat v3 "$d.$k")" = 0 ] ||
				{ zero=0; fail "v3: $d.$k = $(kstat v3 "$d.$k"), want 0"; }
		done
	done
	[ "$zero" = 1 ] && pass "v3: 0 isr_reads/isr_acks/queue_notify_exits/irqs_legacy on blk0 and rng0"
	say "  stats: blk0 irqs_msi_1=$(kstat v3 blk0.irqs_msi_1)" \
		"msi_fires_1=$(kstat v3 blk0.msi_fires_1)" \
		"doorbells_kvm_0=$(kstat v3 blk0.doorbells_kvm_0)" \
		"notifies_0=$(kstat v3 blk0.notifies_0)" \
		"isr_reads=$(kstat v3 blk0.isr_reads)" \
		"queue_notify_exits=$(kstat v3 blk0.queue_notify_exits)"
	[ "$(kstat v3 blk0.doorbells_kvm_0)" -gt 0 ] ||
		fail "v3: no doorbell reached the ioeventfd"
else
	grep -q "Version 3 not supported" "$work/v3.txt" &&
		skip "the guest kernel lacks the virtio-mmio v3 patch series"
	fail "v3 with MSI: guest test failed"
fi

say "v3 --no-msi (legacy IRQ + doorbells)"
if boot v3nomsi "$reads" "" --virtio-version 3 --no-msi; then
	show_irqs v3nomsi
	c=$(irq v3nomsi after $blk)
	[ "$c" != none ] && [ "$c" -gt 0 ] && pass "v3 --no-msi: legacy $blk fired $c" ||
		fail "v3 --no-msi: legacy line $blk count $c"
	[ "$(kstat v3nomsi blk0.doorbells_kvm_0)" -gt 0 ] &&
		[ "$(kstat v3nomsi blk0.queue_notify_exits)" = 0 ] &&
		pass "v3 --no-msi: doorbells $(kstat v3nomsi blk0.doorbells_kvm_0)," \
			"resamples $(kstat v3nomsi blk0.irq_resamples)" ||
		fail "v3 --no-msi: doorbells not used"
else
	fail "v3 --no-msi: guest test failed"
fi

say "v3 --no-doorbells (MSI + QueueNotify)"
if boot v3nodb "$reads" "" --virtio-version 3 --no-doorbells; then
	b=$(irq v3nodb before "$blk-req.0") a=$(irq v3nodb after "$blk-req.0")
	[ "$b" != none ] && [ "$a" != none ] && [ "$a" -gt "$b" ] &&
		pass "v3 --no-doorbells: $blk-req.0 (MSI) rose $b -> $a" ||
		fail "v3 --no-doorbells: $blk-req.0 did not rise ($b -> $a)"
	# The driver read doorbell layout 0 and notified through QueueNotify,
	# which the datamatch ioeventfd takes in the kernel.
	[ "$(kstat v3nodb blk0.doorbells_kvm_0)" = 0 ] &&
		[ "$(kstat v3nodb blk0.doorbells_0)" = 0 ] &&
		[ "$(kstat v3nodb blk0.notifies_0)" -gt 0 ] &&
		[ "$(kstat v3nodb blk0.queue_notify_exits)" = 0 ] &&
		pass "v3 --no-doorbells: QueueNotify $(kstat v3nodb blk0.notifies_0), no doorbells" ||
		fail "v3 --no-doorbells: notifies_0=$(kstat v3nodb blk0.notifies_0)" \
			"doorbells_kvm_0=$(kstat v3nodb blk0.doorbells_kvm_0)"
else
	fail "v3 --no-doorbells: guest test failed"
fi

say "v3 device, guest virtio_mmio.msi=0"
if boot v3gmsi0 "$reads" "virtio_mmio.msi=0" --virtio-version 3; then
	param=$(grep -o "msi_param=[^ ]*" "$work/v3gmsi0.txt" | cut -d= -f2)
	if [ "$param" = none ]; then
		say "  skipped: guest driver has no virtio_mmio.msi parameter"
	else
		c=$(irq v3gmsi0 after $blk)
		[ "$c" != none ] && [ "$c" -gt 0 ] &&
			pass "v3, guest msi=$param, legacy $blk fired $c" ||
			fail "guest msi=0: legacy line $blk count $c"
	fi
else
	fail "v3 with guest msi=0: guest test failed"
fi

say "v2 device, patched guest"
if boot v2 "$reads" "" --virtio-version 2; then
	v2_ok=1
	show_irqs v2
	c=$(irq v2 after $blk)
	[ "$c" != none ] && [ "$c" -gt 0 ] && pass "v2: legacy $blk fired $c" ||
		fail "v2: legacy line $blk count $c"
else
	fail "v2: guest test failed"
fi

# Exits per 4 KiB read: the same boot with 0 reads is the baseline.
say "KVM exits per 4 KiB O_DIRECT read ($reads reads, minus a 0-read boot)"
for v in 2 3; do
	ok=v${v}_ok
	[ "${!ok}" = 1 ] || continue
	boot "v${v}zero" 0 "" --virtio-version "$v" || { fail "v$v zero-read boot"; continue; }
	line="v$v:"
	# mmio_exits: exits to userspace for MMIO (register accesses);
	# insn_emulation: MMIO handled in the kernel (ioeventfds) is emulated.
	for k in vcpu.exits vcpu.mmio_exits vcpu.insn_emulation \
		 vcpu.halt_exits vcpu.irq_exits vcpu.irq_injections blk0.isr_reads \
		 blk0.notifies_0 blk0.doorbells_kvm_0 blk0.irqs_legacy \
		 blk0.irqs_msi_1; do
		d=$(( $(kstat "v$v" "$k") - $(kstat "v${v}zero" "$k") ))
		line+=" $k=$(echo "scale=2; $d / $reads" | bc)"
	done
	say "  $line"
done

finish
