#!/usr/bin/env bash
# virtio-net end to end over a tap, for the modes 2plain, 2 and 3 (lib.sh
# transport_opts). The host owns tap mmvmtap0 (10.0.2.1/24); the guest test "net"
# (guest/initramfs/tests/net.sh) gives eth0 10.0.2.15/24, then:
#   guest -> host: N MiB (default 50) of random data over TCP (busybox nc
#                  to tools/tcpxfer recv); the MD5 sums must match;
#   host -> guest: N MiB over TCP (tcpxfer send to busybox nc); same check;
#   host pings the guest (3 echo replies wanted);
#   then the guest idles 5 s (mmvm.net_idle), over which the CPU time of
#   mmvm's device-side threads (utime + stime of all but the vCPUs,
#   /proc/PID/task/*/stat at the guest's idle markers: where a worker
#   polls) is taken, and the whole process's beside it.
# Bounded polling (issue 13): mode 2nopoll is mode 2 with --net
# ...,poll=0, the baseline; mode 2 runs the default --net ...,poll=auto
# (the window learnt from the tx doorbells, up to 1000 us) and mode 2poll
# a fixed --net ...,poll=500. In both, the same transfers and checks, plus
# poll windows opened (--stats net0.net_polls_0 > 0; hits, time spent and
# tx doorbells printed beside 2nopoll's) and, against 2nopoll of the same
# run, at most 5 clock ticks more of mmvm's device-side CPU over the idle
# window (a window opens only after work; auto's shrinks to none).
# Mode 2 runs the default --net ...,tx-irq-delay=auto and mode 2txirq a
# fixed --net ...,tx-irq-delay=1000; in both, the same transfers and
# checks, plus tx interrupt checks put off (--stats
# net0.net_tx_irq_deferred > 0), every one of them made, when its timer
# ran or (auto) at once when the driver's backlog grew (late + saved +
# early = deferred, at most one still armed at exit), and some found
# the driver had reclaimed the frame already (saved > 0: the guest's
# receive poll for the host's data reclaims the ACKs it sent); auto's
# early checks and the tx vector's interrupts are printed.
# Plus: a tap that cannot be opened is refused with the exact one-line error.
#
# Runs where KVM works:  scripts/mmvm-host tests/integration/test_virtio_net.sh
# Needs root (tap, addresses). Only addresses on the tap are used.
# Env: MMVM_KERNEL (default build/guest/bzImage), MMVM_INITRD (default
# build/guest/initramfs.cpio.gz), MMVM_VERSIONS (default "2plain 2nopoll 2
# 3 2poll 2txirq": lib.sh transport_opts, and 2nopoll, 2poll, 2txirq;
# 2notxirq, mode 2 with --net ...,tx-irq-delay=0, is there to compare by
# hand),
# MMVM_NET_MIB (default 50).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mmvm=$MMVM kernel=$MMVM_KERNEL initrd=$MMVM_INITRD
versions=${MMVM_VERSIONS:-2plain 2nopoll 2 3 2poll 2txirq}
mib=${MMVM_NET_MIB:-50}
tap=mmvmtap0
host_ip=10.0.2.1
guest_ip=10.0.2.15
work=$MMVM_WORK
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	ip link del "$tap" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

require_files "$mmvm" "$kernel" "$initrd"
require_kvm
require_root
PATH=$PATH:/sbin:/usr/sbin
if command -v ping >/dev/null; then ping=(ping); else ping=(busybox ping); fi

# The host end of the transfers, static so it runs anywhere.
tcpxfer=$work/tcpxfer
cc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o "$tcpxfer" \
	"$here/tools/tcpxfer.c" || { say "cannot build tcpxfer"; exit 1; }

# Refused taps: one clear line, exit 1, before any guest runs. "lo" exists
# and is no tap, so TUNSETIFF fails even for root.
rc=0
out=$("$mmvm" --kernel "$kernel" --net tap=lo 2>&1) || rc=$?
if [ "$rc" = 1 ] && [ "$(echo "$out" | grep -c .)" = 1 ] &&
   echo "$out" | grep -qx "mmvm: --net tap=lo: cannot open tap: Invalid argument"; then
	say "ok: bad tap refused: $out"
else
	fail "bad tap: rc=$rc output: $out"
fi

ip link del "$tap" 2>/dev/null || true
ip tuntap add dev "$tap" mode tap
ip addr add "$host_ip/24" dev "$tap"
ip link set "$tap" up

head -c "${mib}M" /dev/urandom >"$work/host_tx"
host_tx_md5=$(md5sum <"$work/host_tx" | cut -d' ' -f1)

# field LOG KEY: value of KEY=... on the guest's last MMVM-NET line with it.
field() {
	grep -o "MMVM-NET .*" "$1" | tr ' \r' '\n\n' | sed -n "s/^$2=//p" |
		tail -n 1
}

# one_mode V: boots the guest for transport mode V (vopt, log set), moves
# the data both ways and checks it; sets ok=0 on any failure.
one_mode() {
	# Listeners first: the guest connects as soon as it is up.
	"$tcpxfer" recv "$host_ip" 5001 200 >"$work/rx-$v.bin" \
		2>"$work/recv-$v.err" &
	recv_pid=$!
	"$tcpxfer" send "$host_ip" 5002 200 <"$work/host_tx" \
		2>"$work/send-$v.err" &
	send_pid=$!
	pids=("$recv_pid" "$send_pid")

	t0=$(date +%s.%N)
	"$mmvm" --kernel "$kernel" --initrd "$initrd" --mem 512M \
		--cmdline "console=ttyS0 quiet mmvm.test=net mmvm.net_mib=$mib mmvm.net_idle=5" \
		--net "tap=$tap$netopt" --timeout 260 --stats "$work/$v.stats" \
		"${vopt[@]}" >"$log" 2>&1 &
	mmvm_pid=$!
	pids+=("$mmvm_pid")

	# If mmvm dies first, the listeners would wait out their timeouts.
	while kill -0 "$recv_pid" 2>/dev/null ||
	      kill -0 "$send_pid" 2>/dev/null; do
		if ! kill -0 "$mmvm_pid" 2>/dev/null; then
			sleep 2
			kill "$recv_pid" "$send_pid" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	wait "$recv_pid" || { fail "$v: guest -> host transfer"; ok=0; }
	cat "$work/recv-$v.err"
	wait "$send_pid" || { fail "$v: host -> guest transfer"; ok=0; }
	cat "$work/send-$v.err"

	# The guest waits for GO on port 5003 until we have pinged it.
	if "${ping[@]}" -c 3 -W 5 "$guest_ip" >"$work/ping-$v.out" 2>&1; then
		say "  ok: host pings guest: $(grep -E 'packets|round-trip|rtt' \
			"$work/ping-$v.out" | tr '\n' ' ')"
	else
		fail "$v: ping $guest_ip"; ok=0
		sed 's/^/    | /' "$work/ping-$v.out"
	fi
	if kill -0 "$mmvm_pid" 2>/dev/null; then
		echo GO | "$tcpxfer" send "$host_ip" 5003 60 2>/dev/null ||
			{ fail "$v: guest did not take GO"; ok=0; }
	fi

	# mmvm's CPU time over the guest's idle window: its device-side
	# threads, and the whole process.
	idle_window_ticks "$log" "$mmvm_pid" "MMVM-NET idle-begin" \
		"MMVM-NET idle-end"
	idle_ticks=$IDLE_TICKS idle_all=$IDLE_ALL
	rc=0
	wait "$mmvm_pid" || rc=$?
	pids=()
	t1=$(date +%s.%N)
	say "  mmvm exit $rc, $(echo "$t1 - $t0" | bc) s in all"
	grep -o "MMVM-NET .*" "$log" | sed 's/^/    /'
	if [ "$rc" != 0 ] || ! grep -q "MMVM-TEST-END name=net rc=0" "$log"; then
		fail "$v: guest test"; ok=0
		grep -q "Version 3 not supported" "$log" &&
			say "  (the guest kernel lacks the virtio-mmio v3 patches)"
		sed 's/^/    | /' "$log" | tail -n 40
	fi

	guest_tx_md5=$(field "$log" tx_md5)
	host_rx_md5=$(md5sum <"$work/rx-$v.bin" | cut -d' ' -f1)
	rm -f "$work/rx-$v.bin"
	if [ -n "$guest_tx_md5" ] && [ "$guest_tx_md5" = "$host_rx_md5" ]; then
		say "  ok: guest -> host $mib MiB, md5 $host_rx_md5"
	else
		fail "$v: guest -> host md5: guest $guest_tx_md5 host $host_rx_md5"
		ok=0
	fi
	guest_rx_md5=$(field "$log" rx_md5)
	if [ "$guest_rx_md5" = "$host_tx_md5" ] &&
	   [ "$(field "$log" rx_bytes)" = $((mib << 20)) ]; then
		say "  ok: host -> guest $mib MiB, md5 $guest_rx_md5"
	else
		fail "$v: host -> guest md5: host $host_tx_md5 guest $guest_rx_md5"
		ok=0
	fi
	grep -E "^net0\.(queue_notify_exits|irqs_legacy|irqs_msi_[0-9]+|doorbells_kvm_[01]|notifies_[01]|isr_reads|irq_resamples|net_[a-z_]+|net_poll[a-z_]*_[0-9]+) " \
		"$work/$v.stats" 2>/dev/null | sed 's/^/    stats: /' || true
	# The device's own byte counts cover the payload plus headers.
	for k in net_tx_bytes net_rx_bytes; do
		n=$(awk -v k="net0.$k" '$1 == k { print $2 }' "$work/$v.stats" 2>/dev/null)
		if [ -z "$n" ] || [ "$n" -lt $((mib << 20)) ]; then
			fail "$v: --stats net0.$k = '${n}', want >= $((mib << 20))"
			ok=0
		fi
	done
}

stat_of() { awk -v k="net0.$2" '$1 == k { print $2 }' "$work/$1.stats" 2>/dev/null || true; }

# check_poll: modes 2 (poll=auto) and 2poll (poll=500): the polling
# counters, and the idle cost against mode 2nopoll's (idle_0, when it ran
# before).
check_poll() {
	local polls hits us window
	polls=$(stat_of "$v" net_polls_0) hits=$(stat_of "$v" net_poll_hits_0)
	us=$(stat_of "$v" net_poll_us_0)
	window=$(stat_of "$v" net_poll_window_us_0)	# auto only
	if [ "${polls:-0}" -gt 0 ]; then
		say "  ok: $polls poll windows, $hits rounds found frames, $us us spent polling;" \
			"tx doorbells $(stat_of "$v" doorbells_kvm_1) (2nopoll: ${doorbells_0:-?})${window:+; window now $window us}"
	else
		fail "$v: --stats net0.net_polls_0 '$polls', want > 0"; ok=0
	fi
	if [ -z "${idle_0:-}" ]; then
		say "  (no mode 2nopoll run before it: idle cost not compared)"
	elif [ -n "$idle_ticks" ] && [ "$idle_ticks" -le $((idle_0 + 5)) ]; then
		say "  ok: bounded: $idle_ticks ticks of mmvm's device-side CPU over the 5 s idle window, 2nopoll $idle_0 (with the vCPU: $idle_all and $idle_all_0)"
	else
		fail "$v: '$idle_ticks' ticks of mmvm's device-side CPU over the idle window, 2nopoll $idle_0 (want at most 5 more; with the vCPU: $idle_all and $idle_all_0)"
		ok=0
	fi
}

# check_txirq: modes 2 (auto) and 2txirq: the put-off tx interrupt checks.
check_txirq() {
	local d late saved early open
	d=$(stat_of "$v" net_tx_irq_deferred) late=$(stat_of "$v" net_tx_irq_late)
	saved=$(stat_of "$v" net_tx_irq_saved) early=$(stat_of "$v" net_tx_irq_early)
	open=$(( ${d:-0} - ${late:-0} - ${saved:-0} - ${early:-0} ))
	if [ "${d:-0}" -gt 0 ] && [ "${saved:-0}" -gt 0 ] &&
	   [ "$open" -ge 0 ] && [ "$open" -le 1 ]; then
		say "  ok: $d tx interrupt checks put off: $saved found the frames reclaimed (no interrupt), $late sent late, $early made early (backlog grew);" \
			"tx vector interrupts $(stat_of "$v" irqs_msi_2), tx frames $(stat_of "$v" net_tx_packets)"
	else
		fail "$v: tx-irq-delay: deferred '$d', late '$late', saved '$saved', early '$early' (want deferred > 0, saved > 0, late + saved + early = deferred or one less)"
		ok=0
	fi
}

for v in $versions; do
	netopt=
	case "$v" in
	2nopoll) netopt=,poll=0; transport_opts 2 ;;
	2poll) netopt=,poll=500; transport_opts 2 ;;
	2txirq) netopt=,tx-irq-delay=1000; transport_opts 2 ;;
	2notxirq) netopt=,tx-irq-delay=0; transport_opts 2 ;;	# by hand
	*) transport_opts "$v" ;;
	esac || { fail "unknown mode $v"; continue; }
	vopt=("${TRANSPORT_OPTS[@]}")
	say "virtio-mmio $v"
	log=$work/$v.log
	ok=1
	failed_before=$lib_failed
	one_mode
	# Under the nested harness a guest sometimes stops making progress
	# (docs/nested-kvm.md: seen in mode 2plain under load, the listeners
	# then time out): a mode whose guest never ended its test is run once
	# more, and said; its first failures are then not counted.
	if [ "$ok" = 0 ] && [ -n "${MMVM_HOST_NESTED:-}" ] &&
	   ! grep -q "MMVM-TEST-END name=net" "$log"; then
		say "  $v: the guest never ended its test (nested KVM stall?): running mode $v once more"
		lib_failed=$failed_before
		ok=1
		one_mode
	fi
	if [ "$v" = 2nopoll ]; then
		idle_0=$idle_ticks idle_all_0=$idle_all
		doorbells_0=$(stat_of 2nopoll doorbells_kvm_1)
		say "  idle: $idle_ticks ticks of mmvm's device-side CPU over the 5 s window ($idle_all with the vCPU)"
	fi
	case "$v" in 2 | 2poll) check_poll ;; esac
	case "$v" in 2 | 2txirq) check_txirq ;; esac
	[ "$ok" = 1 ] && pass "virtio-mmio $v"
done

finish
