#!/usr/bin/env bash
# Debian's own kernels, unmodified, under mmvm's default platform (ACPI):
# bookworm's 6.1 and bookworm-backports' 6.12 (guest/stock/stock-kernel.sh;
# 6.12 is fetched into the cache on the host by scripts/test). Run through
# test_stock_6.1.sh and test_stock_6.12.sh, one kernel each (so each gets
# its own outer VM and time limit). A stock
# kernel finds virtio-mmio devices only through ACPI (LNRO0005), so this is
# the test that the DSDT describes them. With an initramfs that loads the
# kernel's own virtio and pvpanic modules, for each kernel:
#   - the device tests, on mmvm's default devices (version 2 offering the
#     MSI and doorbell feature bits, which a stock driver does not accept,
#     so it drives them on the legacy line: checked): test_virtio_blk.sh (disk
#     written and re-read, checksums on the host), test_virtio_net.sh
#     (10 MiB each way over the tap), test_virtio_rng.sh, and
#     test_virtio_console.sh (a shell on hvc0);
#   - a guest process printing "Kernel panic - not syncing" and
#     "reboot: Power down" on the console does not end the VM, and its
#     poweroff then gives exit 0 "guest powered off (ACPI S5)";
#   - SysRq c -> exit 2 "guest panicked (pvpanic)";
#   - the API's SendCtrlAltDel reboots the guest: exit 0 "guest rebooted".
# Env: MMVM_STOCK_KERNELS (default "6.1 6.12").
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
require_files "$MMVM"
require_kvm
require_root
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT:-300}
# ext4 wants a crc32c (a soft dependency, which modinfo's "depends" does
# not list): the generic one works on any CPU.
modules=virtio_mmio,virtio_blk,virtio_net,virtio_console,virtio_rng,pvpanic_mmio,ext4,crc32c_generic

# check_line_path LOG: the default devices offer MSI and doorbells as
# feature bits a stock driver does not know; it must drive them on the
# legacy line (its rng stats: ISR reads, no MSI, no doorbells).
check_line_path() {
	local stats isr msi db
	stats=$(grep -a 'stats: rng0' "$1" | tail -n 1)
	isr=$(sed -n 's/.*rng0.isr_reads \([0-9]*\).*/\1/p' <<<"$stats")
	msi=$(sed -n 's/.*rng0.irqs_msi_1 \([0-9]*\).*/\1/p' <<<"$stats")
	db=$(sed -n 's/.*rng0.doorbells_kvm_0 \([0-9]*\).*/\1/p' <<<"$stats")
	if [ "${isr:-0}" -gt 0 ] && [ "${msi:-x}" = 0 ] && [ "${db:-x}" = 0 ]; then
		pass "$kver: default devices (MSI feature bits offered) driven on the legacy line: isr_reads $isr, MSI 0, doorbells 0"
	else
		fail "$kver: default devices: isr_reads '${isr}', irqs_msi_1 '${msi}', doorbells '${db}' (want >0, 0, 0)"
	fi
}

for v in ${MMVM_STOCK_KERNELS:-6.1 6.12}; do
	if ! info=$("$MMVM_REPO/guest/stock/stock-kernel.sh" "$v" 2>"$MMVM_WORK/err"); then
		fail "kernel $v: $(cat "$MMVM_WORK/err") (on the host: guest/stock/stock-kernel.sh $v)"
		continue
	fi
	kernel=$(sed -n 's/^kernel=//p' <<<"$info")
	root=$(sed -n 's/^root=//p' <<<"$info")
	kver=$(sed -n 's/^kver=//p' <<<"$info")
	initrd=$MMVM_WORK/initramfs-$kver.cpio.gz
	if ! "$MMVM_REPO/guest/initramfs/build-initramfs.sh" -o "$initrd" \
		--modules "$root:$kver:$modules" >/dev/null 2>"$MMVM_WORK/err"; then
		fail "kernel $v: initramfs: $(tail -n 1 "$MMVM_WORK/err")"
		continue
	fi
	say "kernel $kver"
	export MMVM_KERNEL=$kernel MMVM_INITRD=$initrd

	# The device tests, as they run for the project's kernel, on the
	# default layout.
	for t in test_virtio_blk test_virtio_net test_virtio_rng test_virtio_console; do
		out=$MMVM_WORK/$t-$kver.log
		rc=0
		MMVM_VERSIONS=2 MMVM_BLK_VERSIONS=2 MMVM_RNG_VERSIONS=2 MMVM_NET_MIB=10 \
			bash "$here/$t.sh" >"$out" 2>&1 || rc=$?
		if [ "$rc" = 0 ]; then
			pass "$kver: $t ($(grep -c '^PASS\|ok:' "$out") checks)"
			[ "$t" = test_virtio_rng ] && check_line_path "$out"
		else
			fail "$kver: $t exited $rc:"
			grep -E '^(FAIL|PASS)|FAIL' "$out" | head -n 10 | sed 's/^/    | /'
			show_log "$out" 15
		fi
	done

	log=$MMVM_WORK/sysrq-$kver.log
	run_guest "$log" sysrq_crash --virtio-version 2
	check_exit "$kver: SysRq c" "$log" 2 "guest panicked (pvpanic)"

	# Firecracker's SendCtrlAltDel: the i8042's keyboard (PNP0303),
	# Debian's built-in atkbd and VT keyboard, the kernel's restart.
	ctrl_alt_del_run "$kver: Ctrl+Alt+Del" "$MMVM_WORK/cad-$kver.log" \
		--virtio-version 2

	log=$MMVM_WORK/fake-$kver.log
	run_guest "$log" fake_console --virtio-version 2
	check_exit "$kver: fake panic and power-down lines, then poweroff" "$log" 0 "guest powered off (ACPI S5)"
	if grep -q "MMVM-FAKE done=1" "$log"; then
		pass "$kver: the VM outlived the fake lines"
	else
		fail "$kver: the VM ended at the fake lines"
	fi
done
finish
