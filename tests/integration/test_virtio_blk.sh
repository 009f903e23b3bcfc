#!/usr/bin/env bash
# virtio-blk end to end, for the modes 2plain, 2 (MSI feature bits) and 3:
#   boot 1 (guest test blk_write): mke2fs on /dev/vda, an 8 MiB random file,
#          a raw 1 MiB random pattern at MiB 62; the guest prints both sums
#          and checks serial (GET_ID) and capacity;
#   host:  the file (debugfs dump) and the raw region (dd) read straight out
#          of the image must have the guest's sums;
#   boot 2 (blk_verify): the guest re-reads both and gets the same sums;
#   boot 3 (blk_ro, --disk IMG,ro): the guest sees a read-only disk whose
#          writes fail, and the image is unchanged.
#   Discard and write zeroes: boot 1 sees non-zero limits for both, boot
#          3 none (not offered on a read-only disk); test_blk_discard.sh
#          does the requests.
# Plus: a missing image is refused with one exact line and exit status 1.
# Engines (issue 29): the image is written with one engine and read back
# with the other: 2plain writes with engine=sync and verifies with
# io_uring, 2 the other way round, 3 uses io_uring (the default) for
# both; the first boot's --stats must name the engine asked for.
# MMVM_BLK_ENGINE=sync|io_uring runs every boot with that one instead.
# The read-only boot runs with io_uring made to fail
# (MMVM_TEST_NO_IO_URING=1): one line on stderr, then sync.
#
# Needs KVM: tests/integration/run-all.sh test_virtio_blk.sh
# Env: MMVM_BLK_VERSIONS (default "2plain 2 3": lib.sh transport_opts), and lib.sh's.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT_BLK:-300}
versions=${MMVM_BLK_VERSIONS:-2plain 2 3}
# engines V: the write boot's and the verify boot's engine for mode V.
engines() {
	if [ -n "${MMVM_BLK_ENGINE:-}" ]; then
		echo "$MMVM_BLK_ENGINE $MMVM_BLK_ENGINE"
		return
	fi
	case $1 in
	2plain) echo "sync io_uring" ;;
	2) echo "io_uring sync" ;;
	*) echo "io_uring io_uring" ;;
	esac
}
PATH=$PATH:/sbin:/usr/sbin

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"

# Missing image: refused before any guest runs (needs no KVM).
rc=0
out=$("$MMVM" --kernel "$MMVM_KERNEL" --disk "$MMVM_WORK/nope.img" 2>&1) || rc=$?
if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] &&
   [ "$out" = "mmvm: --disk $MMVM_WORK/nope.img: No such file or directory" ]; then
	pass "missing image refused: $out"
else
	fail "missing image: exit $rc, output: $out"
fi

require_kvm
command -v debugfs >/dev/null || skip "debugfs (e2fsprogs) missing"

# boot LOG TEST [options]: true if mmvm and the guest test both succeed.
boot() {
	local log=$1 test=$2
	shift 2
	run_guest "$log" "$test" "$@"
	say "  $test: mmvm exit $RUN_GUEST_RC, $RUN_GUEST_SECONDS s"
	if [ "$RUN_GUEST_RC" != 0 ] || [ "$(guest_test_rc "$log")" != 0 ]; then
		show_log "$log" 40
		return 1
	fi
}

# field LOG KEY: KEY=value from the guest's last "MMVM-BLK" line.
field() {
	grep -a "MMVM-BLK " "$1" | grep -a "$2=" | tail -n 1 |
		tr ' \r' '\n\n' | sed -n "s/^$2=//p"
}

for v in $versions; do
	transport_opts "$v" || { fail "unknown mode $v"; continue; }
	vopt=("${TRANSPORT_OPTS[@]}")
	say "virtio-mmio $v"
	img=$MMVM_WORK/disk-$v.img
	truncate -s 64M "$img"
	eng=$(engines "$v")
	weng=${eng% *} veng=${eng#* }

	if ! boot "$MMVM_WORK/w-$v.log" blk_write "${vopt[@]}" \
		--disk "$img,engine=$weng" --stats "$MMVM_WORK/w-$v.stats"; then
		fail "$v: first boot (blk_write, engine=$weng)"
		continue
	fi
	got=$(sed -n 's/^blk0\.blk_engine //p' "$MMVM_WORK/w-$v.stats")
	subs=$(sed -n 's/^blk0\.blk_submissions_0 //p' "$MMVM_WORK/w-$v.stats")
	if [ "$got" = "$weng" ] && { [ "$weng" = sync ] || [ "${subs:-0}" -gt 0 ]; }; then
		pass "$v: written with engine=$weng (blk_engine $got${subs:+, $subs submissions on queue 0, in flight at most $(sed -n 's/^blk0\.blk_inflight_max_0 //p' "$MMVM_WORK/w-$v.stats")})"
	else
		fail "$v: engine=$weng: --stats says blk_engine '$got', submissions '$subs'"
		grep -a "engine=sync: io_uring" "$MMVM_WORK/w-$v.log"
	fi
	file_sum=$(field "$MMVM_WORK/w-$v.log" file_sha256)
	raw_sum=$(field "$MMVM_WORK/w-$v.log" raw_sha256)
	serial=$(field "$MMVM_WORK/w-$v.log" serial)
	sectors=$(field "$MMVM_WORK/w-$v.log" size_sectors)
	[ "$serial" = mmvm-blk0 ] && [ "$sectors" = 131072 ] &&
		pass "$v: guest sees serial $serial, $sectors sectors" ||
		fail "$v: serial '$serial', sectors '$sectors'"
	dmax=$(field "$MMVM_WORK/w-$v.log" discard_max)
	wzmax=$(field "$MMVM_WORK/w-$v.log" write_zeroes_max)
	[ "${dmax:-0}" -gt 0 ] && [ "${wzmax:-0}" -gt 0 ] &&
		pass "$v: writable disk: discard_max_bytes $dmax, write_zeroes_max_bytes $wzmax" ||
		fail "$v: writable disk: discard_max_bytes '$dmax', write_zeroes_max_bytes '$wzmax' (want > 0)"

	# The host reads the guest's data straight out of the image.
	rm -f "$MMVM_WORK/data.bin"
	debugfs -R "dump /data.bin $MMVM_WORK/data.bin" "$img" >/dev/null 2>&1
	host_file=$(sha256sum "$MMVM_WORK/data.bin" 2>/dev/null | cut -d' ' -f1)
	host_raw=$(dd if="$img" bs=1M skip=62 count=1 2>/dev/null | sha256sum |
		cut -d' ' -f1)
	[ -n "$file_sum" ] && [ "$host_file" = "$file_sum" ] &&
		pass "$v: 8 MiB file dumped from the image on the host matches" ||
		fail "$v: file in image: guest '$file_sum' host '$host_file'"
	[ -n "$raw_sum" ] && [ "$host_raw" = "$raw_sum" ] &&
		pass "$v: raw 1 MiB at MiB 62 of the image matches" ||
		fail "$v: raw region: guest '$raw_sum' host '$host_raw'"

	if boot "$MMVM_WORK/v-$v.log" blk_verify "${vopt[@]}" \
		--disk "$img,engine=$veng"; then
		[ "$(field "$MMVM_WORK/v-$v.log" file_sha256)" = "$file_sum" ] &&
		[ "$(field "$MMVM_WORK/v-$v.log" raw_sha256)" = "$raw_sum" ] &&
			pass "$v: second boot (engine=$veng) reads the same file and raw data" ||
			fail "$v: second boot sums differ"
	else
		fail "$v: second boot (blk_verify)"
	fi

	before=$(sha256sum "$img" | cut -d' ' -f1)
	# The fallback: io_uring made to fail (a test hook): one line says
	# why, and the disk runs sync.
	MMVM_TEST_NO_IO_URING=1 boot "$MMVM_WORK/r-$v.log" blk_ro "${vopt[@]}" \
		--disk "$img,ro" &&
		pass "$v: ,ro disk is read-only in the guest, reads work" ||
		fail "$v: read-only boot (blk_ro)"
	nfb=$(grep -a -c "^mmvm: --disk $img: engine=sync: io_uring unavailable (" "$MMVM_WORK/r-$v.log")
	[ "$nfb" = 1 ] &&
		pass "$v: without io_uring one line: $(grep -a -m1 "engine=sync: io_uring unavailable" "$MMVM_WORK/r-$v.log" | tr -d '\r')" ||
		fail "$v: fallback: $nfb lines saying engine=sync (want 1)"
	dmax=$(field "$MMVM_WORK/r-$v.log" discard_max)
	wzmax=$(field "$MMVM_WORK/r-$v.log" write_zeroes_max)
	[ "$dmax" = 0 ] && [ "$wzmax" = 0 ] &&
		pass "$v: ,ro disk: no discard, no write zeroes offered" ||
		fail "$v: ,ro disk: discard_max_bytes '$dmax', write_zeroes_max_bytes '$wzmax' (want 0)"
	[ "$(sha256sum "$img" | cut -d' ' -f1)" = "$before" ] ||
		fail "$v: read-only image changed"

	grep -E "^blk0\.(blk_reads|blk_writes|blk_flushes|blk_batches_0|blk_inflight_max_0|isr_reads|queue_notify_exits|irqs_legacy|irqs_msi_1|doorbells_kvm_0|notifies_0) " \
		"$MMVM_WORK/w-$v.stats" 2>/dev/null | tr '\n' ' ' |
		sed 's/^/    first boot stats: /'
	echo
	rm -f "$img"
done

finish
