#!/bin/sh
# Snapshot of the running VM's KVM counters, called by "rr server" when the
# guest sends "rr mark ... TAG" (see guest/initramfs/tests/bench.sh): the
# guest waits for the reply, so the snapshot sits exactly at the edge of its
# workload.
#
#   bench/hook.sh TAG        (environment: BENCH_STATE=<dir>)
#
# $BENCH_STATE/pid is the VMM's pid (written by bench/stamp -p),
# $BENCH_STATE/run the current run's output prefix. Writes <prefix>.<TAG>:
#   kvm <name> <value>     the VM's KVM statistics from debugfs
#                          (/sys/kernel/debug/kvm/<pid>-<fd>/: the same
#                          counters KVM_GET_STATS_FD gives, vCPUs summed),
#                          for any VMM alike
#   time <epoch seconds>   when the snapshot was taken
#   mem VmHWM|VmRSS <kB>   the VMM's resident memory
#   hist <event> ...       tracefs histograms (exit reasons, MSRs, MMIO
#                          addresses, port I/O, injected vectors) since the
#                          previous mark; cleared at every *-begin mark
# POSIX sh + busybox only: it runs in the nested harness's initramfs.
tag=$1
state=${BENCH_STATE:?BENCH_STATE not set}
pid=$(cat "$state/pid" 2>/dev/null)
prefix=$(cat "$state/run" 2>/dev/null)
[ -n "$pid" ] && [ -n "$prefix" ] || { echo "hook: no current run" >&2; exit 1; }
out=$prefix.$tag
tracing=$(cat "$state/tracing" 2>/dev/null)

hists() {
	[ -n "$tracing" ] || return 0
	while read -r event spec; do
		echo "hist $event"
		sed -n 's/^{/  {/p' "$tracing/events/kvm/$event/hist"
	done <"$state/hists"
}

clear_hists() {
	[ -n "$tracing" ] || return 0
	while read -r event spec; do
		echo "$spec:clear" >>"$tracing/events/kvm/$event/trigger"
	done <"$state/hists"
}

counters() {
	# Wall clock of the snapshot: the report turns the idle window into
	# a background rate per second (GNU date; busybox prints no %N).
	echo "time $(date +%s.%N)"
	for d in /sys/kernel/debug/kvm/"$pid"-*; do
		[ -d "$d" ] || continue
		# One grep for all files: forks are slow under an emulated CPU.
		grep -H '' "$d"/* 2>/dev/null |
			sed -n 's|^.*/\([a-z0-9_]*\):\([0-9]*\)$|kvm \1 \2|p'
	done
	grep -E '^Vm(HWM|RSS):' "/proc/$pid/status" 2>/dev/null |
		awk '{ sub(":", "", $1); print "mem", $1, $2 }'
}

case "$tag" in
*-begin)
	clear_hists
	counters >"$out"
	;;
*)
	counters >"$out.tmp"
	hists >>"$out.tmp"
	mv "$out.tmp" "$out"
	;;
esac
