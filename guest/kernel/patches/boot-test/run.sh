#!/usr/bin/env bash
# Boot-test a guest kernel built with the virtio-mmio MSI series under mmvm.
#
#   guest/kernel/patches/boot-test/run.sh BZIMAGE [WORKDIR]
#
# Builds an initramfs variant with kp.sh/kp2.sh in WORKDIR (default
# ./kp-boot-test; it must be a directory mmvm-host shares read-write, i.e.
# the current directory or below), then runs under scripts/mmvm-host:
#   v2      default layout, feature bits 44/45: vmMSI-* vectors, doorbells
#   v3      the 2019 layout (--virtio-version 3): the same
#   noacpi  --no-acpi (virtio_mmio.device= devices): the same
#   msi0    virtio_mmio.msi=0: the line + doorbells
#   nomsi   --no-msi: the line + doorbells, no warning
#   v3nomsi --virtio-version 3 --no-msi: the line + doorbells
#   plain   --no-msi --no-doorbells: plain virtio 1.2 (the stock path)
#   smp2    2 vCPUs, queue vectors moved between CPUs during I/O
# Each run leaves WORKDIR/run-<name>.log and stats-<name>.txt and prints
# one PASS/FAIL line.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
kernel=$(readlink -f "${1:?usage: run.sh BZIMAGE [WORKDIR]}")
work=${2:-kp-boot-test}
mkdir -p "$work"
cd "$work"
cp "$kernel" bzImage
truncate -s 16M disk.img
"$repo/guest/initramfs/build-initramfs.sh" -o initramfs.cpio.gz \
	--add "$here/kp.sh:/tests/kp.sh" --add "$here/kp2.sh:/tests/kp2.sh" >/dev/null

run() {	# name test expect-regex [mmvm options...] -- [cmdline...]
	local name=$1 test=$2 expect=$3; shift 3
	local opts=() cl=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ $# -gt 0 ] && shift && cl="$*"
	"$repo/scripts/mmvm-host" --timeout 300 -- "$repo/build/mmvm" \
		--kernel bzImage --initrd initramfs.cpio.gz --rng --disk disk.img \
		--timeout 200 --stats "stats-$name.txt" "${opts[@]}" \
		--cmdline "console=ttyS0 mmvm.test=$test $cl" >"run-$name.log" 2>&1 || true
	if grep -q "KP.*DONE" "run-$name.log" && grep -Eq "$expect" "run-$name.log" &&
	   ! grep -Eq "BUG:|Oops|WARNING: .*(msi|virtio|irq)" "run-$name.log"; then
		echo "PASS $name"
	else
		echo "FAIL $name (see $work/run-$name.log)"
	fi
}
run v2 kp "vmMSI-LNRO0005:00 +1-edge +virtio0-req.0"
run v3 kp "vmMSI-LNRO0005:00 +1-edge +virtio0-req.0" --virtio-version 3
run noacpi kp "vmMSI-virtio-mmio.0 +1-edge +virtio0-req.0" --no-acpi
run msi0 kp "IO-APIC +5-fasteoi +virtio0" -- virtio_mmio.msi=0
run nomsi kp "IO-APIC +5-fasteoi +virtio0" --no-msi
run v3nomsi kp "IO-APIC +5-fasteoi +virtio0" --virtio-version 3 --no-msi
run plain kp "IO-APIC +5-fasteoi +virtio0" --no-msi --no-doorbells
run smp2 kp2 "KP2-RNG 8192" --cpus 2
