#!/usr/bin/env bash
# Bounded polling of virtio-blk queues (--disk IMG,poll=US, issue 13): the
# guest test blk_poll.sh reads (two readers at once, O_DIRECT) and then
# idles, with poll=0 (off), poll=1000 (a fixed window) and the default
# (poll=auto, the window learnt from the gaps between requests). Checks:
#   - the data read with polling is the image's (md5 of the first 4 MiB);
#   - with polling, windows were opened (--stats blk0.blk_polls_0 > 0;
#     the requests they found without a doorbell, blk_poll_hits_0, and
#     the time spent, blk_poll_us_0, are printed);
#   - bounded: over the idle window the CPU time of mmvm's device-side
#     threads (utime + stime of every thread but the vCPUs, which is where
#     a worker polls; /proc/PID/task/*/stat, read when the guest prints
#     idle-begin and idle-end) with polling is at most that without it
#     plus 5 ticks (50 ms over 6 s of idle): a window opens only after
#     work. The whole process's ticks are printed beside it; they also
#     hold the idle guest's own timer work in its vCPU thread, which
#     under the nested harness varied from 10 to 24 ticks between two
#     runs of the same configuration;
#   - poll=0: no polling counters appear; poll=1000: no adaptive ones;
#   - poll=auto: the window grew (blk_poll_grows_0 > 0) and is at most
#     1000 us (blk_poll_window_us_0).
#
# Needs KVM: tests/integration/run-all.sh test_blk_poll.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm

img=$MMVM_WORK/disk.img
dd if=/dev/urandom of="$img" bs=1M count=16 2>/dev/null
want=$(dd if="$img" bs=1M count=4 2>/dev/null | md5sum | cut -d' ' -f1)

# boot NAME DISKOPTS: runs the guest in the background and samples mmvm's
# CPU time at the idle markers. Sets IDLE_TICKS (device-side threads),
# IDLE_ALL (the whole process), BOOT_RC.
boot() {
	local name=$1 opts=$2 log=$MMVM_WORK/$1.log pid
	timeout -k 5 "$RUN_GUEST_TIMEOUT" "$MMVM" --kernel "$MMVM_KERNEL" \
		--initrd "$MMVM_INITRD" --cpus 1 \
		--cmdline "console=ttyS0 mmvm.test=blk_poll" \
		--disk "$img$opts" --stats "$MMVM_WORK/$name.stats" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	idle_window_ticks "$log" "$pid" "MMVM-POLL idle-begin" \
		"MMVM-POLL idle-end" timeout
	wait "$pid"
	BOOT_RC=$?
	tr -d '\r' <"$log" >"$MMVM_WORK/$name.txt"
}
stat_of() { awk -v k="blk0.$2" '$1 == k { print $2 }' "$MMVM_WORK/$1.stats"; }

boot nopoll ",poll=0"
nopoll_ticks=$IDLE_TICKS nopoll_all=$IDLE_ALL
[ "$BOOT_RC" = 0 ] && [ -n "$nopoll_ticks" ] &&
	pass "poll=0: exit 0, $nopoll_ticks ticks of mmvm's device-side CPU over the idle window ($nopoll_all with the vCPU)" ||
	{ fail "poll=0: exit $BOOT_RC, idle ticks '$nopoll_ticks'"; show_log "$MMVM_WORK/nopoll.txt"; }
[ -z "$(stat_of nopoll blk_polls_0)" ] &&
	pass "poll=0: no polling counters" ||
	fail "poll=0: blk_polls_0 is '$(stat_of nopoll blk_polls_0)'"

# check_polled NAME LABEL: the guest read the image's data, windows were
# opened, and the idle window cost at most 5 ticks more than poll=0.
check_polled() {
	local name=$1 label=$2 txt=$MMVM_WORK/$1.txt polls hits us reqs
	[ "$BOOT_RC" = 0 ] && grep -a -q "^MMVM-POLL io rc=0 md5=$want" "$txt" &&
		pass "$label: exit 0, the guest read the image's data (md5 $want)" ||
		{ fail "$label: exit $BOOT_RC, $(grep -a '^MMVM-POLL io' "$txt"), want md5 $want"; show_log "$txt"; }
	polls=$(stat_of "$name" blk_polls_0) hits=$(stat_of "$name" blk_poll_hits_0)
	us=$(stat_of "$name" blk_poll_us_0) reqs=$(stat_of "$name" blk_reads)
	[ "${polls:-0}" -gt 0 ] &&
		pass "$label: $polls poll windows for $reqs reads, $hits requests found without a doorbell, $us us spent polling" ||
		fail "$label: blk_polls_0 '$polls', want > 0"
	[ -n "$IDLE_TICKS" ] && [ -n "$nopoll_ticks" ] &&
		[ "$IDLE_TICKS" -le $((nopoll_ticks + 5)) ] &&
		pass "$label is bounded: $IDLE_TICKS ticks of mmvm's device-side CPU over the idle window, poll=0 $nopoll_ticks (with the vCPU: $IDLE_ALL and $nopoll_all)" ||
		fail "$label: $IDLE_TICKS ticks of mmvm's device-side CPU over the idle window, poll=0 $nopoll_ticks (want at most 5 more; with the vCPU: $IDLE_ALL and $nopoll_all)"
}

boot poll ",poll=1000"
check_polled poll "poll=1000"
[ -z "$(stat_of poll blk_poll_window_us_0)" ] &&
	pass "poll=1000: a fixed window (no adaptive counters)" ||
	fail "poll=1000: blk_poll_window_us_0 is '$(stat_of poll blk_poll_window_us_0)'"

# The default, poll=auto: the window is learnt from the gaps between the
# readers' requests.
boot auto ""
check_polled auto "default (poll=auto)"
grows=$(stat_of auto blk_poll_grows_0) shrinks=$(stat_of auto blk_poll_shrinks_0)
win=$(stat_of auto blk_poll_window_us_0)
[ "${grows:-0}" -gt 0 ] && [ -n "$win" ] && [ "$win" -le 1000 ] &&
	pass "default (poll=auto): the window grew $grows times and shrank $shrinks times, ${win} us at the end (at most 1000)" ||
	fail "default (poll=auto): grows '$grows', shrinks '$shrinks', window '$win' us"
finish
