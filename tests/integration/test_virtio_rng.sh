#!/usr/bin/env bash
# virtio-rng end to end, for --virtio-version 2 and 3: the guest's
# /sys/class/misc/hw_random/rng_current names the virtio device and
# /dev/hwrng gives 4096 bytes that look random (guest test rng.sh).
#
# Runs where KVM works:  scripts/mmvm-host tests/integration/test_virtio_rng.sh
# Env: MMVM_KERNEL, MMVM_INITRD, MMVM_VERSIONS (default "2 3").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
mmvm=${MMVM:-$repo/build/mmvm}
kernel=${MMVM_KERNEL:-$repo/build/guest/bzImage}
initrd=${MMVM_INITRD:-$repo/build/guest/initramfs.cpio.gz}
versions=${MMVM_VERSIONS:-2 3}
work=$(mktemp -d "${TMPDIR:-/tmp}/mmvm-rng.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

say() { echo "test_virtio_rng: $*"; }

for f in "$mmvm" "$kernel" "$initrd"; do
	[ -r "$f" ] || { say "missing $f (build it first)"; exit 1; }
done
[ -c /dev/kvm ] || { say "no /dev/kvm (run under scripts/mmvm-host)"; exit 1; }

for v in $versions; do
	log=$work/rng-$v.log
	rc=0
	t0=$(date +%s.%N)
	"$mmvm" --kernel "$kernel" --initrd "$initrd" --mem 256M \
		--cmdline "console=ttyS0 quiet mmvm.test=rng" --rng \
		--virtio-version "$v" --timeout 300 --stats "$work/rng-$v.stats" \
		>"$log" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	line=$(grep -o "MMVM-RNG .*" "$log" | tr -d '\r' || true)
	if [ "$rc" = 0 ] && grep -q "MMVM-TEST-END name=rng rc=0" "$log"; then
		say "ok: virtio-mmio $v: $line ($(echo "$t1 - $t0" | bc) s)"
		grep -E "^rng0\.(irqs_legacy|irqs_msi_1|isr_reads|queue_notify_exits|notifies_0|doorbells_kvm_0) " \
			"$work/rng-$v.stats" | sed 's/^/    stats: /' || true
	else
		say "FAIL: virtio-mmio $v: mmvm exit $rc: $line"
		sed 's/^/    | /' "$log" | tail -n 40
		failures=$((failures + 1))
	fi
done

if [ "$failures" = 0 ]; then
	say "PASS"
else
	say "FAILED ($failures)"
	exit 1
fi
