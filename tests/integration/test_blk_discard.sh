#!/usr/bin/env bash
# virtio-blk discard and write zeroes (issue 11), the default transport,
# on a sparse 64 MiB image, in two boots of the guest test blk_discard.sh
# with an initramfs that has guest/initramfs/helpers/blkzero.c:
#   boot 1 (mmvm.blkd=fill): 8 MiB of random data at MiB 8, 24, 40, 48;
#   host:  the image allocates about 32 MiB;
#   boot 2 (mmvm.blkd=trim): the guest sees non-zero discard and write
#          zeroes limits, discards MiB 8, writes zeroes at 40 (BLKZEROOUT:
#          no unmap) and at 48 (unmap allowed), and reads zeroes back;
#   host:  8 and 40 and 48 read zeroes, 8 and 48 are holes (SEEK_HOLE via
#          python3, else the block count), the image allocates about
#          16 MiB (24 and 40), 24 holds the guest's data, and --stats
#          counts 1 discard and 2 write zeroes.
# The image lives in $MMVM_WORK: under the nested harness a tmpfs in the
# outer VM (hole punching, no zero range: write zeroes without unmap is
# written by hand); a file system without hole punching skips the
# block checks (a discard is a hint) but not the zeroes.
#
# Needs KVM: tests/integration/run-all.sh test_blk_discard.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm
command -v cc >/dev/null || skip "no C compiler for the blkzero helper"

initrd_with_helpers blkzero || finish

img=$MMVM_WORK/disk.img
truncate -s 64M "$img"
mib=1048576

# boot NAME PHASE: the guest test in one phase; its log in $MMVM_WORK/NAME.txt.
boot() {
	local log=$MMVM_WORK/$1.log
	GUEST_CMDLINE_EXTRA="mmvm.blkd=$2" run_guest "$log" blk_discard \
		--disk "$img" --stats "$MMVM_WORK/$1.stats"
	tr -d '\r' <"$log" >"$MMVM_WORK/$1.txt"
	grep -a '^MMVM-BLKD' "$MMVM_WORK/$1.txt" | sed 's/^/    /'
	if [ "$RUN_GUEST_RC" != 0 ] ||
	   [ "$(guest_test_rc "$MMVM_WORK/$1.txt")" != 0 ]; then
		fail "$2: mmvm exit $RUN_GUEST_RC, guest test rc" \
			"'$(guest_test_rc "$MMVM_WORK/$1.txt")'"
		show_log "$MMVM_WORK/$1.txt" 30
		return 1
	fi
}
# field NAME KEY: KEY=value from NAME's MMVM-BLKD lines.
field() {
	grep -a -o "MMVM-BLKD .*" "$MMVM_WORK/$1.txt" | tr ' ' '\n' |
		sed -n "s/^$2=//p" | head -n 1
}
alloc_kib() { echo $(( $(stat -c %b "$img") * $(stat -c %B "$img") / 1024 )); }
nonzero() {
	dd if="$img" bs=1M skip="$1" count=8 2>/dev/null | tr -d '\0' | wc -c
}
# hole MIB: is the 8 MiB at MIB a hole in the image? (python3's
# os.lseek knows SEEK_HOLE and SEEK_DATA; "unknown" without python3.)
hole() {
	command -v python3 >/dev/null || { echo unknown; return; }
	python3 - "$img" "$(($1 * mib))" "$((($1 + 8) * mib))" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
start, end = int(sys.argv[2]), int(sys.argv[3])
try:
    data = os.lseek(fd, start, os.SEEK_DATA)
except OSError as e:
    data = end if e.errno == errno.ENXIO else -1
print("yes" if os.lseek(fd, start, os.SEEK_HOLE) == start and data >= end
      else "no")
PY
}

boot fill fill || finish
before=$(alloc_kib)
[ "$before" -ge $((32 * 1024)) ] &&
	pass "filled: the image allocates $before KiB (4 x 8 MiB written)" ||
	fail "filled: the image allocates $before KiB, want >= 32768"

boot trim trim || finish
after=$(alloc_kib)
dmax=$(field trim discard_max) wzmax=$(field trim write_zeroes_max)
gran=$(field trim gran)
[ "${dmax:-0}" -gt 0 ] && [ "${wzmax:-0}" -gt 0 ] && [ "$gran" = 4096 ] &&
	pass "the guest takes the limits: discard_max_bytes $dmax, write_zeroes_max_bytes $wzmax, discard_granularity $gran" ||
	fail "guest limits: discard_max '$dmax' write_zeroes_max '$wzmax' granularity '$gran' (want > 0, > 0, 4096)"

z8=$(nonzero 8) z40=$(nonzero 40) z48=$(nonzero 48)
[ "$z8" = 0 ] && [ "$z40" = 0 ] && [ "$z48" = 0 ] &&
	pass "on the host the discarded (MiB 8) and zeroed (40, 48) ranges read zeroes" ||
	fail "non-zero bytes on the host: discarded $z8, zeroed $z40, zeroed with unmap $z48"

# Can this file system punch holes at all? (If not, discards keep the
# data, which is allowed; the zeroes above are what must hold.)
probe=$MMVM_WORK/punch.probe
head -c 65536 /dev/zero >"$probe"
if fallocate -p -o 0 -l 65536 "$probe" 2>/dev/null; then
	h8=$(hole 8) h48=$(hole 48)
	[ "$h8" != no ] && [ "$h48" != no ] &&
		pass "the discarded range and the range zeroed with unmap are holes (SEEK_HOLE: $h8, $h48)" ||
		fail "holes: MiB 8 '$h8', MiB 48 '$h48' (want yes)"
	# Discard and unmap free 16 MiB: ~16 MiB left (24 and 40).
	[ "$after" -ge $((16 * 1024)) ] && [ "$after" -lt $((20 * 1024)) ] &&
		pass "blocks freed: the image allocated $before KiB before, $after KiB after (16 MiB kept)" ||
		fail "blocks: $before KiB before, $after KiB after (want 16384..20479 after)"
else
	say "  $(df -T "$img" | awk 'NR == 2 { print $2 }') cannot punch holes: block checks skipped ($before KiB before, $after KiB after)"
fi
rm -f "$probe"

want=$(field fill kept_sha256)
got=$(dd if="$img" bs=1M skip=24 count=8 2>/dev/null | sha256sum | cut -d' ' -f1)
[ -n "$want" ] && [ "$got" = "$want" ] &&
	pass "the range kept holds what the guest wrote (sha256 $got)" ||
	fail "kept range: guest '$want', host '$got'"

st=$MMVM_WORK/trim.stats
nd=$(awk '$1 == "blk0.blk_discards" { print $2 }' "$st")
nz=$(awk '$1 == "blk0.blk_write_zeroes" { print $2 }' "$st")
ne=$(awk '$1 == "blk0.blk_io_errors" { print $2 }' "$st")
[ "${nd:-0}" -ge 1 ] && [ "${nz:-0}" -ge 2 ] && [ "${ne:-1}" = 0 ] &&
	pass "--stats: blk0.blk_discards $nd, blk0.blk_write_zeroes $nz, blk0.blk_io_errors $ne" ||
	fail "--stats: blk_discards '$nd' (>= 1), blk_write_zeroes '$nz' (>= 2), blk_io_errors '$ne' (0)"
finish
