#!/usr/bin/env bash
# virtio-blk end to end, for --virtio-version 2 and 3 (and 3 with --no-msi):
#   boot 1 (guest test blk_write): mke2fs on /dev/vda, an 8 MiB random file,
#          a raw 1 MiB random pattern at MiB 62; the guest prints both sums;
#   host:  the file (debugfs dump) and the raw region (dd) read out of the
#          image must have the same sums;
#   boot 2 (blk_verify): the guest re-reads both and gets the same sums;
#   boot 3 (blk_ro, --disk IMG,ro): the guest sees a read-only disk whose
#          writes fail, and the image is unchanged.
# Plus: a missing image is refused with the exact one-line error.
#
# Runs where KVM works:  scripts/mmvm-host tests/integration/test_virtio_blk.sh
# Env: MMVM_KERNEL (default build/guest/bzImage), MMVM_INITRD (default
# build/guest/initramfs.cpio.gz), MMVM_VERSIONS (default "2 3 3nomsi").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
mmvm=${MMVM:-$repo/build/mmvm}
kernel=${MMVM_KERNEL:-$repo/build/guest/bzImage}
initrd=${MMVM_INITRD:-$repo/build/guest/initramfs.cpio.gz}
versions=${MMVM_VERSIONS:-2 3 3nomsi}
work=$(mktemp -d "${TMPDIR:-/tmp}/mmvm-blk.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

say() { echo "test_virtio_blk: $*"; }
fail() { say "FAIL: $*"; failures=$((failures + 1)); }

for f in "$mmvm" "$kernel" "$initrd"; do
	[ -r "$f" ] || { say "missing $f (build it first)"; exit 1; }
done
[ -c /dev/kvm ] || { say "no /dev/kvm (run under scripts/mmvm-host)"; exit 1; }
command -v debugfs >/dev/null || PATH=$PATH:/sbin:/usr/sbin

# run_guest LOG TEST [mmvm options...]: boots and checks the guest test's
# exit line; returns non-zero if the guest test or mmvm failed.
run_guest() {
	local log=$1 test=$2 rc=0
	shift 2
	local t0=$(date +%s.%N)
	"$mmvm" --kernel "$kernel" --initrd "$initrd" --mem 256M \
		--cmdline "console=ttyS0 quiet mmvm.test=$test" \
		--timeout 300 "$@" >"$log" 2>&1 || rc=$?
	local t1=$(date +%s.%N)
	say "  $test: mmvm exit $rc, $(echo "$t1 - $t0" | bc) s"
	if [ "$rc" != 0 ] || ! grep -q "MMVM-TEST-END name=$test rc=0" "$log"; then
		sed 's/^/    | /' "$log" | tail -n 40
		return 1
	fi
}

# sum_of LOG KEY: value of KEY=... on the guest's MMVM-BLK line.
sum_of() {
	grep -o "MMVM-BLK .*" "$1" | tr ' \r' '\n\n' | sed -n "s/^$2=//p" | tail -n 1
}

# Missing image: one clear line, exit 1, before any guest runs.
rc=0
out=$("$mmvm" --kernel "$kernel" --disk "$work/nope.img" 2>&1) || rc=$?
if [ "$rc" = 1 ] && [ "$(echo "$out" | grep -c .)" = 1 ] &&
   echo "$out" | grep -qx "mmvm: --disk $work/nope.img: No such file or directory"; then
	say "ok: missing image refused: $out"
else
	fail "missing image: rc=$rc output: $out"
fi

for v in $versions; do
	case "$v" in
	3nomsi) vopt=(--virtio-version 3 --no-msi) ;;
	*) vopt=(--virtio-version "$v") ;;
	esac
	say "virtio-mmio $v"
	img=$work/disk-$v.img
	rm -f "$img"
	truncate -s 64M "$img"
	ok=1

	if ! run_guest "$work/w-$v.log" blk_write "${vopt[@]}" --disk "$img" \
		--stats "$work/w-$v.stats"; then
		fail "$v: first boot (blk_write)"
		continue
	fi
	file_sum=$(sum_of "$work/w-$v.log" file_sha256)
	raw_sum=$(sum_of "$work/w-$v.log" raw_sha256)
	grep -o "MMVM-BLK size.*" "$work/w-$v.log" | sed 's/^/    /'
	grep -q "serial=mmvm-blk0" "$work/w-$v.log" || { fail "$v: serial"; ok=0; }
	grep -q "size_sectors=131072" "$work/w-$v.log" || { fail "$v: capacity"; ok=0; }

	# The host reads the guest's data straight out of the image.
	debugfs -R "dump /data.bin $work/data-$v.bin" "$img" >/dev/null 2>&1 || true
	host_file=$(sha256sum "$work/data-$v.bin" 2>/dev/null | cut -d' ' -f1)
	host_raw=$(dd if="$img" bs=1M skip=62 count=1 2>/dev/null | sha256sum |
		cut -d' ' -f1)
	if [ -n "$file_sum" ] && [ "$host_file" = "$file_sum" ]; then
		say "  ok: host debugfs dump of /data.bin matches ($file_sum)"
	else
		fail "$v: file in image: guest $file_sum host $host_file"; ok=0
	fi
	if [ -n "$raw_sum" ] && [ "$host_raw" = "$raw_sum" ]; then
		say "  ok: raw 1 MiB at MiB 62 matches"
	else
		fail "$v: raw region: guest $raw_sum host $host_raw"; ok=0
	fi

	if run_guest "$work/v-$v.log" blk_verify "${vopt[@]}" --disk "$img"; then
		[ "$(sum_of "$work/v-$v.log" file_sha256)" = "$file_sum" ] &&
		[ "$(sum_of "$work/v-$v.log" raw_sha256)" = "$raw_sum" ] &&
			say "  ok: second boot reads the same data" ||
			{ fail "$v: second boot sums differ"; ok=0; }
	else
		fail "$v: second boot (blk_verify)"; ok=0
	fi

	before=$(sha256sum "$img" | cut -d' ' -f1)
	if run_guest "$work/r-$v.log" blk_ro "${vopt[@]}" --disk "$img,ro"; then
		say "  ok: ,ro disk is read-only in the guest"
	else
		fail "$v: read-only boot (blk_ro)"; ok=0
	fi
	[ "$(sha256sum "$img" | cut -d' ' -f1)" = "$before" ] ||
		{ fail "$v: read-only image changed"; ok=0; }

	grep -E "^blk0\.(isr_reads|queue_notify_exits|irqs_legacy|irqs_msi_[01]|doorbells_kvm_0|notifies_0|irq_resamples) " \
		"$work/w-$v.stats" 2>/dev/null | sed 's/^/    stats: /' || true
	[ "$ok" = 1 ] && say "  PASS virtio-mmio $v"
done

if [ "$failures" = 0 ]; then
	say "PASS"
else
	say "FAILED ($failures)"
	exit 1
fi
