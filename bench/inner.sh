#!/bin/sh
# The benchmark proper, run on the machine that has KVM (through
# scripts/mmvm-host: inside the nested outer VM here). bench/run prepares
# everything and calls this; it is not meant to be run by hand, but can be:
#
#   bench/inner.sh --out DIR --kernel BZIMAGE --initrd INITRAMFS
#                  [--mmvm BIN] [--qemu BIN] [--tools DIR]
#                  [--configs LIST] [--rep K] [--secs N] [--disk-mb N]
#                  [--reps N] [--max-reps N] [--ci PERCENT] [--load-max SHARE]
#
# Makes repetition K (1): boots every configuration once, with the same
# kernel, initramfs, 1 vCPU (2 for the block multi-queue ones) and 512M,
# in an order rotated by K - 1 (A B C, B C A, C A B, ...), so that a
# drift of the machine's speed hits every configuration alike and none is
# always first, and adds what it measured to DIR. bench/run calls it once
# per repetition, each in its own outer VM (one that stops responding
# then costs one repetition, not the run), and decides how many are
# enough; --reps, --max-reps and --ci are only recorded in DIR/meta.
#
# Host load: bench/run samples this machine's CPU use outside the nested
# VM (bench/benchstats.py sample, into DIR/host-samples); after each run
# "benchstats.py verdict" says whether other processes took at least
# SHARE (0.25) of the machine's CPU meanwhile. Such a run is marked in
# DIR/load and made once more (id r<rep>-<config>-again), as is a run
# that failed (see measure); the report prefers the run that finished and
# was not loaded.
# The guest (mmvm.test=bench, guest/initramfs/tests/bench.sh) runs the
# TCP request/response and the 4K random read workloads; "rr server" here
# answers it and snapshots the KVM counters at the guest's marks
# (bench/rr/kvm_snapshot.c). Per run DIR gets <id>.log (timestamped console),
# <id>.idle-begin, <id>.idle-end, <id>.net-begin, ... (counters), for mmvm
# <id>.mmvm-stats. DIR/runs lists "<id> <config> <rep> <exit status>",
# DIR/load "<id> <verdict> others=.. steal=.. load1=..", DIR/phase the run
# and workload under way (for the host-side sampler).
#
# Configurations:
#   qemu-pci     QEMU -M q35, virtio-net-pci + virtio-blk-pci (MSI-X)
#   qemu-mmio    QEMU -M microvm, virtio-mmio (legacy interrupt line)
#   mmvm-v2      mmvm plain virtio 1.2 (--virtio-version 2 --no-msi
#                --no-doorbells: legacy interrupt, QueueNotify)
#   mmvm-msi     mmvm's default: version 2 with the MSI and doorbell feature
#                bits (docs/virtio-mmio-msi.md), MSI + per-queue doorbells,
#                adaptive block and net polling (--disk ...,poll=auto,
#                --net ...,poll=auto; every mmvm configuration without its
#                own poll= has it, but vhost=on) and the adaptive tx
#                interrupt (--net ...,tx-irq-delay=auto; every mmvm
#                configuration without its own tx-irq-delay= has it)
#   mmvm-msi-nopoll  the default with --disk ...,poll=0: no block polling
#                (the default before poll=auto)
#   mmvm-msi-nodb  the default with --no-doorbells: MSI, QueueNotify
#   mmvm-v3-msi  mmvm v3 --no-doorbells: MSI, notifications through
#                QueueNotify (the device offers no doorbell page)
#   mmvm-v3      mmvm v3 (the 2019 layout), MSI + per-queue doorbells
#   mmvm-v3-nomsi mmvm v3 --no-msi: doorbells, legacy interrupt (extra)
#   mmvm-msi-pin the default with --cpus 1,pin: the vCPU thread on one host
#                CPU and KVM_HINTS_REALTIME, so the guest polls before it
#                halts (cpuidle-haltpoll; extra: it burns the CPU it idles on)
#   mmvm-msi-poll  the default with --disk ...,poll=1000: the block queue's
#                worker watches its ring for 1 ms after serving it
#   mmvm-msi-pin-poll  both: --cpus 1,pin and --disk ...,poll=1000
#   mmvm-msi-netpoll  mmvm-msi-poll with --net ...,poll=1000 too: each
#                queue pair's worker watches its tx ring and tap queue for
#                1 ms after moving frames (extra)
#   boot-pairs   boot time only (extra): $boot_pairs pairs of short boots
#                per repetition, mmvm-msi-boot and qemu-mmio-boot (mmvm's
#                default and QEMU microvm as above, the guest powering off
#                once it is up: bench.what= empty), the two one right after
#                the other, which of them first alternating from pair to
#                pair; run ids r<rep>-boot<k>-<vmm>
#   mmvm-msi-nonetpoll  the default with --net ...,poll=0: no net polling
#                (the default before net poll=auto)
#   mmvm-msi-notxirq  the default with --net ...,tx-irq-delay=0: every tx
#                interrupt at once (the default before tx-irq-delay=auto)
#   mmvm-msi-txirq  the default with --net ...,tx-irq-delay=5000: a sent
#                frame's interrupt check waits 5 ms (a TCP_RR transaction
#                takes 2-3 ms under the nested harness), and is not sent
#                when the guest's receive poll has reclaimed the frame
#                (extra)
#   qemu-pci-pin qemu-pci with the same knobs: -cpu host,kvm-hint-dedicated=on
#                and its vCPU thread ("CPU 0/KVM") pinned with taskset to
#                the first CPU this script may use, as mmvm's ,pin does
# Optional, not in the default list (issue 11):
#   qemu-pci-vhost  qemu-pci with vhost=on on the tap netdev (the kernel's
#                vhost-net moves the packets); both vhost configurations
#                run only the idle and TCP_RR workloads
#   mmvm-v3-vhost  mmvm v3 with --net ...,vhost=on (/dev/vhost-net; loaded
#                with modprobe vhost_net, skipped if still missing)
#   Block multi-queue, 2 vCPUs, only the idle and blk workloads, blkread
#   with 2 jobs (one pinned per vCPU) at depth 16 each (BLK_MQ_ARGS):
#   mmvm-v2-blk1q, mmvm-v2-blk2q    mmvm-v2 with --disk ...,queues=1 / 2
#   mmvm-msi-blk1q, mmvm-msi-blk2q  mmvm-msi (MSI + doorbells), queues=1 / 2
#   qemu-pci-blk1q, qemu-pci-blk2q  qemu-pci, virtio-blk-pci num-queues=1 / 2
#   qemu-mmio-blk1q, qemu-mmio-blk2q  qemu-mmio (microvm, one legacy line per
#                                   device), virtio-blk-device num-queues=1 / 2
#   mmvm-msi-blk1q-poll, mmvm-msi-blk2q-poll  mmvm-msi-blk*q with
#                                   --disk ...,poll=$blk_poll_us
#   mmvm-v2-blk1q-slow, mmvm-v2-blk2q-slow, mmvm-msi-blk1q-slow,
#   mmvm-msi-blk2q-slow, qemu-pci-blk1q-slow, qemu-pci-blk2q-slow
#                the same on a slow disk: the image behind a device-mapper
#                delay target ($blk_slow_ms ms per read), read with O_DIRECT
#                (mmvm ,direct; QEMU cache=none): the backend's latency,
#                not the VM exits, bounds the IOPS (needs dmsetup and the
#                outer kernel's dm-delay module; skipped without them)
# Needs: ip (iproute2) or busybox tunctl, mount, dd, and qemu-system-x86_64
# for the QEMU configurations (the harness's outer VM sees the host's /).
set -u
# One compound command, read whole before it runs: editing this file
# while it runs (a benchmark takes tens of minutes) cannot change what the
# running copy does, nor make it read a half-written line.
{

rep=1 out= kernel= initrd= mmvm=build/mmvm qemu=qemu-system-x86_64 tools=build/bench
configs=qemu-pci,qemu-mmio,mmvm-v2,mmvm-msi-nodb,mmvm-msi,mmvm-v3
reps=7 max_reps= ci=10 load_max=0.25 secs=10 disk_mb=256
tap=mmvmbench0 host_ip=10.0.3.1 guest_ip=10.0.3.15 port=5201
mem=512M

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die "option $1 needs a value"
	case "$1" in
	--out) out=$2 ;;
	--kernel) kernel=$2 ;;
	--initrd) initrd=$2 ;;
	--mmvm) mmvm=$2 ;;
	--qemu) qemu=$2 ;;
	--tools) tools=$2 ;;
	--configs) configs=$2 ;;
	--reps) reps=$2 ;;
	--max-reps) max_reps=$2 ;;
	--ci) ci=$2 ;;
	--load-max) load_max=$2 ;;
	--secs) secs=$2 ;;
	--disk-mb) disk_mb=$2 ;;
	--rep) rep=$2 ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done
[ -n "$out" ] && [ -n "$kernel" ] && [ -n "$initrd" ] ||
	die "--out, --kernel and --initrd are required"
[ -n "$max_reps" ] || max_reps=$reps
[ "$max_reps" -ge "$reps" ] 2>/dev/null || die "--max-reps below --reps"
[ "$rep" -ge 1 ] 2>/dev/null || die "--rep takes a repetition number (1, 2, ...)"
bench_dir=$(cd "$(dirname "$0")" && pwd)
[ -r "$kernel" ] || die "$kernel not readable"
[ -r "$initrd" ] || die "$initrd not readable"
for t in rr stamp; do
	[ -x "$tools/$t" ] || die "$tools/$t missing (bench/run builds it)"
done
[ -c /dev/kvm ] || die "no /dev/kvm here"
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)

# --- host plumbing: debugfs, tracefs, tap, scratch disk -----------------
[ -d /sys/kernel/debug/kvm ] ||
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/debug/kvm ] || die "no /sys/kernel/debug/kvm (debugfs)"
tracing=
for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -d "$t/events" ] || mount -t tracefs tracefs "$t" 2>/dev/null
	if [ -f "$t/events/kvm/kvm_exit/trigger" ]; then
		tracing=$t
		break
	fi
done

state=$(mktemp -d /tmp/mmvm-bench.XXXXXX) || die "mktemp"
scratch=$state
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	if [ -n "$tracing" ] && [ -f "$state/hists" ]; then
		while read -r event spec; do
			echo "!$spec" >>"$tracing/events/kvm/$event/trigger"
		done <"$state/hists" 2>/dev/null
	fi
	ip link del "$tap" 2>/dev/null
	slow_disk_remove
	rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Histograms rr server reads at each mark (bench/rr/kvm_snapshot.c):
# exit reasons, MSR accesses (x2APIC EOI, TSC deadline), MMIO addresses
# (LAPIC, device registers, doorbells), port I/O, exits to userspace,
# injected interrupt vectors, and EOIs by vector: every EOI (kvm_eoi) and
# those the guest made through PV EOI without an exit (kvm_pv_eoi).
: >"$state/hists"
if [ -n "$tracing" ]; then
	for h in "kvm_exit hist:keys=exit_reason" \
		 "kvm_msr hist:keys=ecx,write" \
		 "kvm_mmio hist:keys=type,gpa" \
		 "kvm_pio hist:keys=rw,port" \
		 "kvm_userspace_exit hist:keys=reason" \
		 "kvm_inj_virq hist:keys=vector" \
		 "kvm_eoi hist:keys=vector" \
		 "kvm_pv_eoi hist:keys=vector"; do
		event=${h%% *} spec=${h#* }
		[ -f "$tracing/events/kvm/$event/trigger" ] || continue
		echo "$spec" >>"$tracing/events/kvm/$event/trigger" 2>/dev/null &&
			echo "$event $spec" >>"$state/hists"
	done
	echo "$tracing" >"$state/tracing"
	log "tracefs histograms: $(wc -l <"$state/hists") at $tracing"
else
	log "no tracefs kvm events: exit reasons will be missing"
fi

[ -c /dev/net/tun ] || modprobe tun 2>/dev/null
[ -c /dev/net/tun ] || { mkdir -p /dev/net; mknod /dev/net/tun c 10 200; }
ip link del "$tap" 2>/dev/null
if ! ip tuntap add dev "$tap" mode tap 2>/dev/null; then
	tunctl -t "$tap" >/dev/null || die "cannot create tap $tap"
fi
ip addr add "$host_ip/24" dev "$tap" || die "cannot address $tap"
ip link set "$tap" up || die "cannot bring $tap up"

# The disk lives in RAM (tmpfs or the initramfs) so that the figure is the
# virtio path, not the harness's shared filesystem. Both VMMs read it
# through the host page cache (mmvm without ,direct; QEMU cache=writeback).
disk=$scratch/disk.img
dd if=/dev/zero of="$disk" bs=1M count="$disk_mb" 2>/dev/null ||
	die "cannot create a $disk_mb MiB disk in $scratch"

"$tools/rr" server "$port" "$state" 2>>"$out/rr-server.log" &
server_pid=$!

cmdline="console=ttyS0 quiet mmvm.test=bench bench.secs=$secs"
cmdline="$cmdline bench.host=$host_ip bench.ip=$guest_ip/24 bench.port=$port"
mac=52:54:00:12:34:56
boot_timeout=$((180 + 3 * secs))

# The block multi-queue configurations: 2 vCPUs, no TCP_RR (the guest
# still needs the network for its marks), 2 blkread jobs, each pinned to
# its vCPU and keeping 16 reads in flight (fio's iodepth=16 numjobs=2).
blk_mq_cpus=2
blk_mq_cmdline="$cmdline bench.what=idle,blk bench.blkjobs=2 bench.blkdepth=16"
# The polling rows' bound (--disk ...,poll=US): long enough to span the
# guest's turn-around from a completion to its next request here.
blk_poll_us=200

# The slow-disk rows: each read of the image waits this long in the host
# kernel (device-mapper delay over a loop device on the RAM disk), as a
# real disk's would, so that what bounds the IOPS is how many reads the
# device has outstanding at its backend, not the VM exits.
blk_slow_ms=2
slow_dm=mmvmbenchslow slow_loop= slow_disk=
# Sets slow_disk (call it in this shell, not in $(...)), or prints why it
# cannot and fails.
slow_disk_setup() {
	[ -n "$slow_disk" ] && return 0
	command -v dmsetup >/dev/null 2>&1 || { echo "no dmsetup"; return 1; }
	modprobe dm-delay 2>/dev/null
	slow_loop=$(losetup -f --show "$disk" 2>/dev/null) ||
		{ echo "losetup failed"; return 1; }
	if ! echo "0 $(blockdev --getsz "$slow_loop") delay $slow_loop 0 $blk_slow_ms" |
	     dmsetup create "$slow_dm" 2>/dev/null; then
		losetup -d "$slow_loop"
		slow_loop=
		echo "dmsetup create failed (no dm-delay?)"
		return 1
	fi
	dmsetup mknodes "$slow_dm" 2>/dev/null
	[ -b "/dev/mapper/$slow_dm" ] ||
		{ slow_disk_remove; echo "no /dev/mapper/$slow_dm"; return 1; }
	slow_disk=/dev/mapper/$slow_dm
}
# For a *-slow configuration: the slow disk, set up in this shell, or the
# configuration skipped with the reason (then fails: the caller returns).
slow_disk_or_skip() {
	slow_disk_setup >"$state/slow-why" && return 0
	skip "$1" "$(cat "$state/slow-why")"
	return 1
}
slow_disk_remove() {
	[ -n "$slow_loop" ] || return 0
	dmsetup remove "$slow_dm" 2>/dev/null
	losetup -d "$slow_loop" 2>/dev/null
	slow_loop= slow_disk=
}

# The vhost-net pair measures TCP_RR only (issue 11 asks for trans/s and
# exits per transaction; the reads would be the configurations without
# vhost again, and cost a minute per run under the nested harness).
vhost_cmdline="$cmdline bench.what=idle,net"
# boot-pairs: the guest does no workload, so a boot costs seconds and
# many can be paired closely in time (the machine's speed drifts over
# minutes); boot to /init is the same MMVM-GUEST mark as in every run.
# Under the nested harness one VMM's boots spread over 1.9-4.9 s, so 28
# pairs (4 per repetition) left the ratio's interval at about +-10 % and
# two runs of the same code disagreed (0.82 [0.73-0.91] and 0.95
# [0.85-1.05], 2026-12-06 and 12-07): 8 per repetition.
boot_cmdline="$cmdline bench.what="
boot_pairs=8

# QEMU's options shared by every QEMU configuration: $1 vhost=off|on on
# the tap (off by default: QEMU's userspace backend, like mmvm's), $2 the
# vCPUs (1).
qemu_common() {
	echo -accel kvm -cpu "${qemu_cpu:-host}" -m "$mem" -smp "${2:-1}" \
		-nodefaults -no-reboot -name bench,debug-threads=on \
		-no-user-config -display none -serial stdio \
		-kernel "$kernel" -initrd "$initrd" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=${1:-off}"
}

# /dev/vhost-net for the vhost configurations: the outer VM's kernel has
# vhost_net as a module; "" when it is there, else why not.
vhost_missing() {
	[ -c /dev/vhost-net ] || modprobe vhost_net 2>/dev/null
	[ -c /dev/vhost-net ] && return 1
	echo "no /dev/vhost-net (modprobe vhost_net failed)"
}

# qemu-pci-pin: once QEMU runs (stamp writes its pid), pins each vCPU
# thread i to the i-th CPU of our affinity, as mmvm's --cpus N,pin plans
# it; says what it did in $1.pin.
pin_qemu_vcpus() {
	log=$1 pid= tid= i= cpu=
	# Our affinity as a list of CPU numbers ("0-1,3" -> "0 1 3").
	cpus=$(taskset -pc $$ | sed 's/.*: //' | tr , '\n' |
		awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }')
	ncpus=$(echo "$cpus" | wc -l)
	for _ in $(seq 600); do
		[ -s "$state/pid" ] && pid=$(cat "$state/pid") &&
			grep -qs "^CPU 0/KVM" /proc/"$pid"/task/*/comm && break
		pid=
		sleep 0.1
	done
	[ -n "$pid" ] || { echo "no QEMU vCPU thread found" >"$log"; return; }
	: >"$log"
	for t in /proc/"$pid"/task/*; do
		case "$(cat "$t/comm" 2>/dev/null)" in
		"CPU "*"/KVM")
			i=$(sed 's/CPU \([0-9]*\).*/\1/' "$t/comm")
			cpu=$(echo "$cpus" | sed -n "$((i % ncpus + 1))p")
			tid=${t##*/}
			taskset -pc "$cpu" "$tid" >>"$log" 2>&1 ;;
		esac
	done
}

# A guest vCPU wedged under the nested KVM (docs/nested-kvm.md, "A guest
# running its host's code") never exits to its VMM again and makes the
# outer KVM inject tens of thousands of page faults a second (a healthy
# run: none). Watching KVM's own count (debugfs kvm/pf_guest, summed over
# every VM, and only one runs at a time) stops such a run within seconds
# instead of at its boot timeout: SIGTERM to the VMM (mmvm prints its vCPU
# dump), $out/$id.wedged gets the rise, and measure() makes the run again
# as any failed one. Same rule and threshold as tests/integration/lib.sh.
wedge_pf_per_5s=20000
wedge_watch() {
	w_id=$1 w_f=/sys/kernel/debug/kvm/pf_guest
	w_last=$(cat "$w_f" 2>/dev/null) || return 0
	while :; do
		sleep 5
		w_now=$(cat "$w_f" 2>/dev/null) || return 0
		w_rise=$((w_now - w_last)) w_last=$w_now
		[ "$w_rise" -gt "$wedge_pf_per_5s" ] || continue
		echo "$w_rise" >"$out/$w_id.wedged"
		log "run $w_id: KVM injected $w_rise guest page faults in 5 s: a vCPU wedged under the nested KVM; stopping the VM"
		[ -s "$state/pid" ] && kill -TERM "$(cat "$state/pid")" 2>/dev/null
		return 0
	done
}

# Runs one configuration once. The VM's argv is built in "$@".
run_one() {
	id=$1 config=$2 rep=$3
	shift 3
	echo "$out/$id" >"$state/run"
	echo "$id boot" >"$out/phase"
	rm -f "$state/pid"
	log "run $id: $*"
	wedge_watch "$id" &
	watcher=$!
	case "$config" in
	qemu-*)
		"$tools/stamp" -t "$boot_timeout" -p "$state/pid" \
			-k "reboot: Power down" -k "System halted" \
			-f "Kernel panic" -- "$@" \
			>"$out/$id.log" 2>&1 ;;
	*)
		"$tools/stamp" -t "$boot_timeout" -p "$state/pid" \
			-f "Kernel panic" -- "$@" >"$out/$id.log" 2>&1 ;;
	esac
	rc=$?
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	# A run that exited cleanly without finishing the guest script
	# (no BENCH-DONE) is a failure too.
	if [ "$rc" = 0 ] && ! grep -q BENCH-DONE "$out/$id.log"; then
		rc=1
	fi
	echo "$id end" >"$out/phase"
	echo "$id $config $rep $rc" >>"$out/runs"
	log "run $id: exit $rc, $(grep -c BENCH-RESULT "$out/$id.log") result(s)"
	grep -E 'BENCH-(RESULT|ERROR)' "$out/$id.log" | sed 's/^/bench:   /' >&2
}

run_config() {
	config=$1 rep=$2 id=${3:-r$2-$1}
	case "$config" in
	qemu-pci|qemu-pci-pin)
		[ -n "$qemu" ] || { skip "$config" "no QEMU"; return; }
		qcpu=host pinner=
		if [ "$config" = qemu-pci-pin ]; then
			qcpu=host,kvm-hint-dedicated=on
			rm -f "$state/pid"
			pin_qemu_vcpus "$out/$id.pin" &
			pinner=$!
		fi
		run_one "$id" "$config" "$rep" $qemu \
			$(qemu_cpu=$qcpu qemu_common) -M q35 \
			-append "$cmdline" \
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" \
			-drive "file=$disk,format=raw,if=none,id=d0,cache=writeback" \
			-device virtio-blk-pci,drive=d0
		[ -z "$pinner" ] || wait "$pinner" ;;
	qemu-pci-vhost)
		[ -n "$qemu" ] || { skip "$config" "no QEMU"; return; }
		why=$(vhost_missing) && { skip "$config" "$why"; return; }
		run_one "$id" "$config" "$rep" $qemu $(qemu_common on) -M q35 \
			-append "$vhost_cmdline" \
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" \
			-drive "file=$disk,format=raw,if=none,id=d0,cache=writeback" \
			-device virtio-blk-pci,drive=d0 ;;
	qemu-pci-blk[12]q|qemu-pci-blk[12]q-slow)
		[ -n "$qemu" ] || { skip "$config" "no QEMU"; return; }
		nq=${config#qemu-pci-blk} nq=${nq%%q*} drive=$disk,cache=writeback
		case "$config" in
		*-slow)
			slow_disk_or_skip "$config" || return
			drive=$slow_disk,cache=none ;;
		esac
		run_one "$id" "$config" "$rep" $qemu \
			$(qemu_common off "$blk_mq_cpus") -M q35 \
			-append "$blk_mq_cmdline" \
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" \
			-drive "file=$drive,format=raw,if=none,id=d0" \
			-device "virtio-blk-pci,drive=d0,num-queues=$nq" ;;
	qemu-mmio-blk[12]q)
		[ -n "$qemu" ] || { skip "$config" "no QEMU"; return; }
		nq=${config#qemu-mmio-blk} nq=${nq%q}
		run_one "$id" "$config" "$rep" $qemu \
			$(qemu_common off "$blk_mq_cpus") \
			-M microvm,acpi=off,x-option-roms=off,rtc=off \
			-global virtio-mmio.force-legacy=false \
			-append "$blk_mq_cmdline" \
			-device "virtio-net-device,netdev=n0,mac=$mac" \
			-drive "file=$disk,format=raw,if=none,id=d0,cache=writeback" \
			-device "virtio-blk-device,drive=d0,num-queues=$nq" ;;
	boot-pairs)
		k=1
		while [ "$k" -le "$boot_pairs" ]; do
			if [ $(( (rep + k) % 2 )) = 0 ]; then
				order="mmvm-msi-boot qemu-mmio-boot"
			else
				order="qemu-mmio-boot mmvm-msi-boot"
			fi
			for bc in $order; do
				run_config "$bc" "$rep" "r$rep-boot$k-${bc%-boot}"
			done
			k=$((k + 1))
		done ;;
	qemu-mmio|qemu-mmio-boot)
		[ -n "$qemu" ] || { skip "$config" "no QEMU"; return; }
		cl=$cmdline
		[ "$config" = qemu-mmio-boot ] && cl=$boot_cmdline
		# acpi=off: QEMU appends virtio_mmio.device= to the command
		# line itself. force-legacy=false: virtio-mmio version 2,
		# like mmvm's v2.
		run_one "$id" "$config" "$rep" $qemu $(qemu_common) \
			-M microvm,acpi=off,x-option-roms=off,rtc=off \
			-global virtio-mmio.force-legacy=false \
			-append "$cl" \
			-device "virtio-net-device,netdev=n0,mac=$mac" \
			-drive "file=$disk,format=raw,if=none,id=d0,cache=writeback" \
			-device virtio-blk-device,drive=d0 ;;
	mmvm-*)
		[ -x "$mmvm" ] || { skip "$config" "no $mmvm"; return; }
		pin= cpus=1 netopt= diskopt= cl=$cmdline d=$disk
		case "$config" in
		mmvm-v2) vflags="--virtio-version 2 --no-msi --no-doorbells" ;;
		mmvm-msi) vflags="--virtio-version 2" ;;
		mmvm-msi-boot) vflags="--virtio-version 2" cl=$boot_cmdline ;;
		mmvm-msi-nodb) vflags="--virtio-version 2 --no-doorbells" ;;
		mmvm-v3) vflags="--virtio-version 3" ;;
		mmvm-v3-nomsi) vflags="--virtio-version 3 --no-msi" ;;
		mmvm-v3-msi) vflags="--virtio-version 3 --no-doorbells" ;;
		mmvm-msi-pin) vflags="--virtio-version 2" pin=,pin ;;
		mmvm-msi-poll) vflags="--virtio-version 2" diskopt=,poll=1000 ;;
		mmvm-msi-nopoll) vflags="--virtio-version 2" diskopt=,poll=0 ;;
		mmvm-msi-pin-poll)
			vflags="--virtio-version 2" pin=,pin diskopt=,poll=1000 ;;
		mmvm-msi-txirq)
			vflags="--virtio-version 2" netopt=,tx-irq-delay=5000 ;;
		mmvm-msi-notxirq)
			vflags="--virtio-version 2" netopt=,tx-irq-delay=0 ;;
		mmvm-msi-netpoll)
			vflags="--virtio-version 2" diskopt=,poll=1000 \
				netopt=,poll=1000 ;;
		mmvm-msi-nonetpoll)
			vflags="--virtio-version 2" netopt=,poll=0 ;;
		mmvm-v3-vhost)
			why=$(vhost_missing) && { skip "$config" "$why"; return; }
			vflags="--virtio-version 3" netopt=,vhost=on \
				cl=$vhost_cmdline ;;
		mmvm-v2-blk[12]q|mmvm-msi-blk[12]q|mmvm-msi-blk[12]q-poll|\
		mmvm-v2-blk[12]q-slow|mmvm-msi-blk[12]q-slow)
			case "$config" in
			mmvm-v2-*) vflags="--virtio-version 2 --no-msi --no-doorbells" ;;
			*) vflags="--virtio-version 2" ;;
			esac
			nq=${config##*-blk} nq=${nq%%q*}
			diskopt=,queues=$nq
			case "$config" in
			*-poll) diskopt=$diskopt,poll=$blk_poll_us ;;
			*-slow)
				slow_disk_or_skip "$config" || return
				d=$slow_disk diskopt=$diskopt,direct ;;
			esac
			cpus=$blk_mq_cpus cl=$blk_mq_cmdline ;;
		*) skip "$config" "unknown configuration"; return ;;
		esac
		run_one "$id" "$config" "$rep" "$mmvm" --kernel "$kernel" \
			--initrd "$initrd" --mem "$mem" --cpus "$cpus$pin" $vflags \
			--net "tap=$tap,mac=$mac$netopt" --disk "$d$diskopt" \
			--stats "$out/$id.mmvm-stats" --cmdline "$cl" ;;
	*) skip "$config" "unknown configuration" ;;
	esac
}

skip() {
	grep -q "^$1 " "$out/skipped" 2>/dev/null ||
		echo "$1 $2" >>"$out/skipped"
	log "skip $1: $2"
}

# Earlier repetitions' records stay; meta is written by the first call.
touch "$out/runs" "$out/skipped" "$out/load"
[ -s "$out/meta" ] || {
	echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel_host $(uname -r)"
	echo "cpu_host $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	echo "vendor $(grep -m1 vendor_id /proc/cpuinfo | awk '{ print $3 }')"
	echo "nproc_host $(grep -c '^processor' /proc/cpuinfo)"
	grep -q hypervisor /proc/cpuinfo && echo "nested yes"
	echo "secs $secs"
	echo "reps $reps"
	echo "max_reps $max_reps"
	echo "ci $ci"
	echo "load_max $load_max"
	echo "configs $configs"
	echo "mem $mem"
	echo "disk_mb $disk_mb"
	echo "blk_slow_ms $blk_slow_ms"
	echo "boot_pairs $boot_pairs"
} >"$out/meta"

# The load verdict of run $1 from the host-side samples ("unknown"
# without them, e.g. when this script runs by hand).
load_verdict() {
	python3 "$bench_dir/benchstats.py" verdict --samples "$out/host-samples" \
		--run "$1" --max-others "$load_max" 2>/dev/null || echo unknown
}

# One configuration in one repetition; once more if the machine was loaded,
# and up to twice more if the run failed (under the nested harness 2-vCPU
# guests of either VMM reset at 0xfff0 or wedge in a third of their runs
# or more: docs/nested-kvm.md): the report prefers the run that finished
# and was not loaded. The runs made again are r<rep>-<config>-again and
# -again2.
measure() {
	c=$1 rep=$2 id=r$2-$1 tries=0
	# Its boots are many and short: one that fails is left out of the
	# pairs, not made again.
	if [ "$c" = boot-pairs ]; then
		run_config "$c" "$rep"
		return 0
	fi
	run_config "$c" "$rep"
	grep -q "^$id " "$out/runs" || return 0	# skipped
	while :; do
		v=$(load_verdict "$id")
		echo "$id $v" >>"$out/load"
		why=
		case "$v" in
		high*) [ "$tries" = 0 ] && why="machine loaded ($v)" ;;
		esac
		if [ -z "$why" ] && [ "$tries" -lt 2 ] &&
		   ! grep -q "^$id $c $rep 0\$" "$out/runs"; then
			why="failed"
		fi
		[ -n "$why" ] || return 0
		tries=$((tries + 1))
		id=r$rep-$c-again
		[ "$tries" = 1 ] || id=$id$tries
		log "run r$rep-$c: $why: once more ($id)"
		run_config "$c" "$rep" "$id"
	done
}

set -- $(echo "$configs" | tr , ' ')
nconf=$#
# Rotate: repetition r starts with configuration (r - 1) mod n.
i=0
while [ "$i" -lt "$nconf" ]; do
	k=$(( (rep - 1 + i) % nconf + 1 ))
	eval "c=\${$k}"
	measure "$c" "$rep"
	i=$((i + 1))
done
echo "$rep" >"$out/rep-$rep.done"
log "done: repetition $rep, $(wc -l <"$out/runs") run(s) in $out"
exit 0
}
