#!/usr/bin/env bash
# Bounded polling of virtio-blk queues (--disk IMG,poll=US, issue 13): the
# guest test blk_poll.sh reads (two readers at once, O_DIRECT) and then
# idles, once with poll=1000 and once without. Checks:
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
#   - without poll= no polling counters appear.
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
	local name=$1 opts=$2 log=$MMVM_WORK/$1.log pid a= b= a2= b2= m t=0
	timeout -k 5 "$RUN_GUEST_TIMEOUT" "$MMVM" --kernel "$MMVM_KERNEL" \
		--initrd "$MMVM_INITRD" --cpus 1 \
		--cmdline "console=ttyS0 mmvm.test=blk_poll" \
		--disk "$img$opts" --stats "$MMVM_WORK/$name.stats" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	# timeout's child is mmvm.
	while [ $t -lt $((RUN_GUEST_TIMEOUT * 10)) ] && kill -0 "$pid" 2>/dev/null; do
		if [ -z "$a" ] && grep -a -q "MMVM-POLL idle-begin" "$log"; then
			m=$(pgrep -P "$pid" | head -n 1)
			a=$(device_ticks "$m") a2=$(cpu_ticks "$m")
		fi
		if [ -z "$b" ] && grep -a -q "MMVM-POLL idle-end" "$log"; then
			m=$(pgrep -P "$pid" | head -n 1)
			b=$(device_ticks "$m") b2=$(cpu_ticks "$m")
		fi
		sleep 0.1
		t=$((t + 1))
	done
	wait "$pid"
	BOOT_RC=$?
	IDLE_TICKS= IDLE_ALL=
	[ -n "$a" ] && [ -n "$b" ] && IDLE_TICKS=$((b - a))
	[ -n "$a2" ] && [ -n "$b2" ] && IDLE_ALL=$((b2 - a2))
	tr -d '\r' <"$log" >"$MMVM_WORK/$name.txt"
}
stat_of() { awk -v k="blk0.$2" '$1 == k { print $2 }' "$MMVM_WORK/$1.stats"; }

boot nopoll ""
nopoll_ticks=$IDLE_TICKS nopoll_all=$IDLE_ALL
[ "$BOOT_RC" = 0 ] && [ -n "$nopoll_ticks" ] &&
	pass "without polling: exit 0, $nopoll_ticks ticks of mmvm's device-side CPU over the idle window ($nopoll_all with the vCPU)" ||
	{ fail "without polling: exit $BOOT_RC, idle ticks '$nopoll_ticks'"; show_log "$MMVM_WORK/nopoll.txt"; }
[ -z "$(stat_of nopoll blk_polls_0)" ] &&
	pass "without polling: no polling counters" ||
	fail "without polling: blk_polls_0 is '$(stat_of nopoll blk_polls_0)'"

boot poll ",poll=1000"
txt=$MMVM_WORK/poll.txt
[ "$BOOT_RC" = 0 ] && grep -a -q "^MMVM-POLL io rc=0 md5=$want" "$txt" &&
	pass "poll=1000: exit 0, the guest read the image's data (md5 $want)" ||
	{ fail "poll=1000: exit $BOOT_RC, $(grep -a '^MMVM-POLL io' "$txt"), want md5 $want"; show_log "$txt"; }
polls=$(stat_of poll blk_polls_0) hits=$(stat_of poll blk_poll_hits_0)
us=$(stat_of poll blk_poll_us_0) reqs=$(stat_of poll blk_reads)
[ "${polls:-0}" -gt 0 ] &&
	pass "poll=1000: $polls poll windows for $reqs reads, $hits requests found without a doorbell, $us us spent polling" ||
	fail "poll=1000: blk_polls_0 '$polls', want > 0"
[ -n "$IDLE_TICKS" ] && [ -n "$nopoll_ticks" ] &&
	[ "$IDLE_TICKS" -le $((nopoll_ticks + 5)) ] &&
	pass "poll=1000 is bounded: $IDLE_TICKS ticks of mmvm's device-side CPU over the idle window, without polling $nopoll_ticks (with the vCPU: $IDLE_ALL and $nopoll_all)" ||
	fail "poll=1000: $IDLE_TICKS ticks of mmvm's device-side CPU over the idle window, without polling $nopoll_ticks (want at most 5 more; with the vCPU: $IDLE_ALL and $nopoll_all)"
finish
