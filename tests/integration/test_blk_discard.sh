#!/usr/bin/env bash
# virtio-blk discard and write zeroes (issue 11), the default transport:
# the guest (guest test blk_discard.sh) sees the limits mmvm offers in
# config space, writes 8 MiB at MiB 8 and at MiB 24 of a sparse 64 MiB
# image and discards the first range. On the host: the discarded range
# reads zeroes and its blocks are gone (the image allocates about 8 MiB,
# not 16), the other range holds what the guest wrote, and --stats counts
# the discard. Write zeroes (fallocate zero range / punch hole) has its
# request-level tests in tests/unit/test_blk_req.c.
#
# Needs KVM: tests/integration/run-all.sh test_blk_discard.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm

img=$MMVM_WORK/disk.img
truncate -s 64M "$img"
log=$MMVM_WORK/d.log
run_guest "$log" blk_discard --disk "$img" --stats "$MMVM_WORK/d.stats"
tr -d '\r' <"$log" >"$MMVM_WORK/d.txt"
txt=$MMVM_WORK/d.txt
if [ "$RUN_GUEST_RC" != 0 ] || [ "$(guest_test_rc "$txt")" != 0 ]; then
	fail "mmvm exit $RUN_GUEST_RC, guest test rc '$(guest_test_rc "$txt")'"
	show_log "$txt" 30
	finish
fi
grep -a '^MMVM-BLKD' "$txt" | sed 's/^/    /'

field() { grep -a -o "MMVM-BLKD .*" "$txt" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
dmax=$(field discard_max) wzmax=$(field write_zeroes_max) gran=$(field gran)
[ "${dmax:-0}" -gt 0 ] && [ "${wzmax:-0}" -gt 0 ] && [ "$gran" = 4096 ] &&
	pass "the guest takes the limits: discard_max_bytes $dmax, write_zeroes_max_bytes $wzmax, discard_granularity $gran" ||
	fail "guest limits: discard_max '$dmax' write_zeroes_max '$wzmax' granularity '$gran' (want > 0, > 0, 4096)"

nonzero=$(dd if="$img" bs=1M skip=8 count=8 2>/dev/null | tr -d '\0' | wc -c)
kib=$(( $(stat -c %b "$img") * $(stat -c %B "$img") / 1024 ))
[ "$nonzero" = 0 ] && [ "$kib" -ge 8192 ] && [ "$kib" -lt 12288 ] &&
	pass "discarded range reads zeroes on the host and its blocks are gone: the image allocates $kib KiB (8 MiB kept)" ||
	fail "discarded range: $nonzero non-zero bytes, the image allocates $kib KiB (want 0 and 8192..12287)"
want=$(field kept_sha256)
got=$(dd if="$img" bs=1M skip=24 count=8 2>/dev/null | sha256sum | cut -d' ' -f1)
[ -n "$want" ] && [ "$got" = "$want" ] &&
	pass "the range kept holds what the guest wrote (sha256 $got)" ||
	fail "kept range: guest '$want', host '$got'"
n=$(awk '$1 == "blk0.blk_discards" { print $2 }' "$MMVM_WORK/d.stats")
[ "${n:-0}" -ge 1 ] && pass "--stats: blk0.blk_discards $n" ||
	fail "--stats: blk0.blk_discards '$n', want >= 1"
finish
