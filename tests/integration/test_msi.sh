#!/usr/bin/env bash
# MSI and doorbells on virtio-mmio, end to end, with the guest kernel
# carrying the project's series (guest test v3_msi.sh: N 4 KiB O_DIRECT
# reads of /dev/vda, 4 KiB from /dev/hwrng, /proc/interrupts before and
# after), in both layouts (lib.sh transport_opts):
#
#   2 (the default: Version 2, MSI and doorbells as feature bits) and 3
#   (the 2019 layout): <dev>-config and per-queue MSI lines exist, the
#              queue ones rise with I/O, no legacy line fires; mmvm --stats
#              shows 0 isr_reads, 0 isr_acks, 0 queue_notify_exits,
#              0 irqs_legacy for blk0/rng0, doorbells used
#   2nomsi, 3nomsi: legacy line + doorbells
#   2nodb, 3nodb: MSI + QueueNotify (an in-kernel ioeventfd too)
#   2 with guest virtio_mmio.msi=0: legacy path
#   2plain (no feature bits), patched guest: legacy path
#   Exits per 4 KiB read, 2plain, 2 and 3: two runs (0 and N reads), the
#   KVM exit counters' difference divided by N. Printed, not asserted.
#
# Needs KVM: tests/integration/run-all.sh test_msi.sh
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
declare -A ok=()	# exits per read only from runs that passed

# boot_mode NAME MODE [EXTRA_CMDLINE]: boot() with MODE's options.
boot_mode() {
	transport_opts "$2" || { fail "$1: unknown mode $2"; return 1; }
	boot "$1" "$reads" "${3:-}" "${TRANSPORT_OPTS[@]}"
}

# rose NAME LABEL: the /proc/interrupts line LABEL grew during the reads.
rose() {
	local b a
	b=$(irq "$1" before "$2") a=$(irq "$1" after "$2")
	[ "$b" != none ] && [ "$a" != none ] && [ "$a" -gt "$b" ] &&
		pass "$1: $2 rose $b -> $a" || fail "$1: $2 did not rise ($b -> $a)"
}

# legacy_fired NAME: the blk device's legacy line fired.
legacy_fired() {
	local c
	c=$(irq "$1" after $blk)
	[ "$c" != none ] && [ "$c" -gt 0 ] && pass "$1: legacy $blk fired $c" ||
		fail "$1: legacy line $blk count $c"
}

# msi_path NAME: everything MSI with doorbells promises.
msi_path() {
	local n=$1 l d k c zero=1
	show_irqs "$n"
	for l in $blk-config $blk-req.0 $rng-config $rng-input; do
		[ "$(irq "$n" after "$l")" != none ] || fail "$n: no MSI line $l"
	done
	rose "$n" "$blk-req.0"
	rose "$n" "$rng-input"
	for d in $blk $rng; do
		c=$(irq "$n" after "$d")
		[ "$c" = none ] || [ "$c" = 0 ] ||
			fail "$n: legacy line $d fired $c times"
	done
	for d in blk0 rng0; do
		for k in isr_reads isr_acks queue_notify_exits irqs_legacy; do
			[ "$(kstat "$n" "$d.$k")" = 0 ] ||
				{ zero=0; fail "$n: $d.$k = $(kstat "$n" "$d.$k"), want 0"; }
		done
	done
	[ "$zero" = 1 ] && pass "$n: 0 isr_reads/isr_acks/queue_notify_exits/irqs_legacy on blk0 and rng0"
	say "  stats: blk0 irqs_msi_1=$(kstat "$n" blk0.irqs_msi_1)" \
		"doorbells_kvm_0=$(kstat "$n" blk0.doorbells_kvm_0)" \
		"notifies_0=$(kstat "$n" blk0.notifies_0)" \
		"isr_reads=$(kstat "$n" blk0.isr_reads)"
	[ "$(kstat "$n" blk0.doorbells_kvm_0)" -gt 0 ] &&
		pass "$n: doorbells $(kstat "$n" blk0.doorbells_kvm_0) through the ioeventfd" ||
		fail "$n: no doorbell reached the ioeventfd"
}

for m in 2 3; do
	say "mode $m: MSI + doorbells"
	if boot_mode "m$m" "$m"; then
		ok[$m]=1
		msi_path "m$m"
	else
		[ "$m" = 3 ] && grep -q "Version 3 not supported" "$work/m3.txt" &&
			skip "the guest kernel lacks the project's virtio-mmio series"
		fail "mode $m: guest test failed"
	fi

	say "mode $m --no-msi (legacy line + doorbells)"
	if boot_mode "m${m}nomsi" "${m}nomsi"; then
		show_irqs "m${m}nomsi"
		legacy_fired "m${m}nomsi"
		[ "$(kstat "m${m}nomsi" blk0.doorbells_kvm_0)" -gt 0 ] &&
			[ "$(kstat "m${m}nomsi" blk0.queue_notify_exits)" = 0 ] &&
			pass "m${m}nomsi: doorbells $(kstat "m${m}nomsi" blk0.doorbells_kvm_0)," \
				"resamples $(kstat "m${m}nomsi" blk0.irq_resamples)" ||
			fail "m${m}nomsi: doorbells not used"
	else
		fail "mode $m --no-msi: guest test failed"
	fi

	say "mode $m --no-doorbells (MSI + QueueNotify)"
	if boot_mode "m${m}nodb" "${m}nodb"; then
		rose "m${m}nodb" "$blk-req.0"
		# The driver notifies through QueueNotify, which the
		# datamatch ioeventfd takes in the kernel.
		[ "$(kstat "m${m}nodb" blk0.doorbells_kvm_0)" = 0 ] &&
			[ "$(kstat "m${m}nodb" blk0.doorbells_0)" = 0 ] &&
			[ "$(kstat "m${m}nodb" blk0.notifies_0)" -gt 0 ] &&
			[ "$(kstat "m${m}nodb" blk0.queue_notify_exits)" = 0 ] &&
			pass "m${m}nodb: QueueNotify $(kstat "m${m}nodb" blk0.notifies_0), no doorbells" ||
			fail "m${m}nodb: notifies_0=$(kstat "m${m}nodb" blk0.notifies_0)" \
				"doorbells_kvm_0=$(kstat "m${m}nodb" blk0.doorbells_kvm_0)"
	else
		fail "mode $m --no-doorbells: guest test failed"
	fi
done

say "mode 2, guest virtio_mmio.msi=0"
if boot_mode m2gmsi0 2 "virtio_mmio.msi=0"; then
	param=$(grep -o "msi_param=[^ ]*" "$work/m2gmsi0.txt" | cut -d= -f2)
	if [ "$param" = none ]; then
		say "  skipped: guest driver has no virtio_mmio.msi parameter"
	else
		legacy_fired m2gmsi0
	fi
else
	fail "mode 2 with guest msi=0: guest test failed"
fi

say "mode 2plain (no feature bits), patched guest"
if boot_mode m2plain 2plain; then
	ok[2plain]=1
	show_irqs m2plain
	legacy_fired m2plain
else
	fail "mode 2plain: guest test failed"
fi

# Exits per 4 KiB read: the same boot with 0 reads is the baseline.
say "KVM exits per 4 KiB O_DIRECT read ($reads reads, minus a 0-read boot)"
for m in 2plain 2 3; do
	[ "${ok[$m]:-0}" = 1 ] || continue
	transport_opts "$m"
	boot "m${m}zero" 0 "" "${TRANSPORT_OPTS[@]}" ||
		{ fail "mode $m zero-read boot"; continue; }
	line="$m:"
	# mmio_exits: exits to userspace for MMIO (register accesses);
	# insn_emulation: MMIO handled in the kernel (ioeventfds) is emulated.
	for k in vcpu.exits vcpu.mmio_exits vcpu.insn_emulation \
		 vcpu.halt_exits vcpu.irq_exits vcpu.irq_injections blk0.isr_reads \
		 blk0.notifies_0 blk0.doorbells_kvm_0 blk0.irqs_legacy \
		 blk0.irqs_msi_1; do
		n=$(kstat "m$m" "$k") z=$(kstat "m${m}zero" "$k")
		line+=" $k=$(echo "scale=2; ($n - $z) / $reads" | bc)"
	done
	say "  $line"
done

finish
