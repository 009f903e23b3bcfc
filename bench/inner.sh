#!/bin/sh
# The benchmark proper, run on the machine that has KVM (through
# scripts/mmvm-host: inside the nested outer VM here). bench/run prepares
# everything and calls this; it is not meant to be run by hand, but can be:
#
#   bench/inner.sh --out DIR --kernel BZIMAGE --vmlinux VMLINUX
#                  --initrd INITRAMFS [--mmvm BIN] [--qemu BIN]
#                  [--tools DIR] [--configs LIST] [--rep K] [--secs N]
#                  [--boot-pairs N] [--disk-mb N] [--load-max SHARE]
#                  [--trace]
#
# Makes repetition K (1): boots every configuration once, with the same
# kernel, initramfs and 512M, in an order rotated by K - 1 (A B C, B C A,
# C A B, ...), so that a drift of the machine's speed hits every
# configuration alike and none is always first, and adds what it measured
# to DIR. bench/run calls it once per repetition, each in its own outer VM
# (one that stops responding then costs one repetition, not the run).
#
# Host load: bench/run samples this machine's CPU use outside the nested
# VM (bench/benchstats.py sample, into DIR/host-samples); after each run
# "benchstats.py verdict" says whether other processes took at least
# SHARE (0.25) of the machine's CPU meanwhile. Such a run is marked in
# DIR/load and made once more (id <run>-again), as is a run that failed
# (up to twice); every run stays in DIR/runs, and the report says which
# one it used.
# The guest (mmvm.test=bench, guest/initramfs/tests/bench.sh) runs the
# workloads its configuration's table asks for; "rr server" here
# snapshots the KVM counters at the guest's marks (bench/rr/kvm_snapshot.c:
# debugfs /sys/kernel/debug/kvm/<pid>-*, the statistics KVM_GET_STATS_FD
# exposes, vCPUs summed, the same for every VMM, and free to read), and
# "sockperf server" answers its request/response workload. Per run DIR
# gets <id>.log (timestamped console), <id>.<mark> (counters at each
# mark), for mmvm <id>.mmvm-stats. DIR/runs lists "<id> <config> <rep>
# <exit status>", DIR/load "<id> <verdict> ...", DIR/phase the run and
# workload under way (for the host-side sampler).
#
# Configurations (bench/plan declares which run, in which table):
#  Table 1, the transport alone: every device-side policy off on both
#  sides, 1 vCPU, a RAM-backed disk read through the host page cache.
#   t1-mmvm-msi   mmvm, virtio-mmio version 2 with the MSI and doorbell
#                 feature bits (the default layout), --disk ...,poll=0,
#                 --net ...,poll=0,tx-irq-delay=0
#   t1-mmvm-v3    the same on the 2019 layout (--virtio-version 3)
#   t1-mmvm-v2    plain virtio-mmio 1.2: --no-msi --no-doorbells, one
#                 level interrupt per device, QueueNotify
#   t1-qemu-pci   QEMU -M q35, virtio-blk-pci + virtio-net-pci (MSI-X), no
#                 IOThread (the main loop does not poll), vhost off,
#                 aio=threads, cache=writeback
#   t1-qemu-mmio  QEMU -M microvm, virtio-mmio version 2, legacy interrupt
#  Table 2, policies matched: 2 vCPUs, 2 queues per disk, the RAM disk
#  (vda) and the slow disk (vdb: a device-mapper delay target, O_DIRECT).
#   t2-mmvm       mmvm's defaults: block and net poll=auto (up to 1000 us,
#                 at most 20 % of a CPU), tx-irq-delay=auto; vdb ,direct
#   t2-mmvm-notxirq  the same with --net ...,tx-irq-delay=0: QEMU has no
#                 counterpart of the deferred tx interrupt, so this row is
#                 the like-for-like one for the network (net only)
#   t2-qemu-pci   q35 with one IOThread per queue (iothread-vq-mapping),
#                 poll-max-ns=1000000 (QEMU's adaptive polling, mmvm's
#                 bound), aio=io_uring, vdb cache=none; -netdev
#                 tap,vhost=on,poll-us=1000 (QEMU's only net polling)
#   t2-mmvm-1q, t2-qemu-pci-1q   the same with one queue per disk (the
#                 block rows only)
#  Table 3, the kernel data path: vhost-net on both, 1 vCPU, net only.
#   t3-mmvm-vhost      mmvm default layout, --net ...,vhost=on
#   t3-qemu-pci-vhost  q35, -netdev tap,vhost=on
#  Boot (bench/plan's boot_pairs, short boots in pairs, which first
#  alternating): mmvm's default (boot-mmvm) against QEMU microvm at the
#  fastest settings its documentation gives (boot-qemu-microvm: PVH entry
#  of the uncompressed vmlinux, x-option-roms=off, pit=off, pic=off,
#  isa-serial=off, rtc=off, console on virtio-console).
# --trace: the tracefs histograms (exit reasons, MMIO addresses, MSRs,
# port I/O, injected vectors) are set for this repetition; they cost exits
# of their own, so bench/run measures with them off and makes one traced
# repetition apart, for the per-reason breakdowns only.
# Needs: ip (iproute2) or busybox tunctl, dd, dmsetup and the dm-delay
# module (slow disk), sockperf, and qemu-system-x86_64 for the QEMU
# configurations (the harness's outer VM sees the host's /).
set -u
# One compound command, read whole before it runs: editing this file
# while it runs (a benchmark takes tens of minutes) cannot change what the
# running copy does, nor make it read a half-written line.
{

rep=1 out= kernel= vmlinux= initrd= mmvm=build/mmvm qemu=qemu-system-x86_64
tools=build/bench configs= secs=5 disk_mb=256 load_max=0.25 trace=0
boot_pairs=8
tap=mmvmbench0 host_ip=10.0.3.1 guest_ip=10.0.3.15 port=5201
mem=512M

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--trace) trace=1; shift; continue ;;
	esac
	[ $# -ge 2 ] || die "option $1 needs a value"
	case "$1" in
	--out) out=$2 ;;
	--kernel) kernel=$2 ;;
	--vmlinux) vmlinux=$2 ;;
	--initrd) initrd=$2 ;;
	--mmvm) mmvm=$2 ;;
	--qemu) qemu=$2 ;;
	--tools) tools=$2 ;;
	--configs) configs=$2 ;;
	--load-max) load_max=$2 ;;
	--secs) secs=$2 ;;
	--boot-pairs) boot_pairs=$2 ;;
	--disk-mb) disk_mb=$2 ;;
	--rep) rep=$2 ;;
	*) die "unknown option $1" ;;
	esac
	shift 2
done
[ -n "$out" ] && [ -n "$kernel" ] && [ -n "$initrd" ] && [ -n "$configs" ] ||
	die "--out, --kernel, --initrd and --configs are required"
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

# --- host plumbing: debugfs, tracefs, tap, disks, servers ------------------
[ -d /sys/kernel/debug/kvm ] ||
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -d /sys/kernel/debug/kvm ] || die "no /sys/kernel/debug/kvm (debugfs)"
tracing=
if [ "$trace" = 1 ]; then
	for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		[ -d "$t/events" ] || mount -t tracefs tracefs "$t" 2>/dev/null
		if [ -f "$t/events/kvm/kvm_exit/trigger" ]; then
			tracing=$t
			break
		fi
	done
fi

state=$(mktemp -d /tmp/mmvm-bench.XXXXXX) || die "mktemp"
server_pid= sockperf_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	[ -n "$sockperf_pid" ] && kill "$sockperf_pid" 2>/dev/null
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

# Histograms rr server reads at each mark (bench/rr/kvm_snapshot.c), in
# the traced repetition only: exit reasons, MSR accesses (x2APIC EOI, TSC
# deadline), MMIO addresses (LAPIC, device registers, doorbells), port
# I/O, exits to userspace, injected interrupt vectors, and EOIs by vector.
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
elif [ "$trace" = 1 ]; then
	log "no tracefs kvm events: the traced repetition has no breakdowns"
fi

[ -c /dev/net/tun ] || modprobe tun 2>/dev/null
[ -c /dev/net/tun ] || { mkdir -p /dev/net; mknod /dev/net/tun c 10 200; }
ip link del "$tap" 2>/dev/null
if ! ip tuntap add dev "$tap" mode tap 2>/dev/null; then
	tunctl -t "$tap" >/dev/null || die "cannot create tap $tap"
fi
ip addr add "$host_ip/24" dev "$tap" || die "cannot address $tap"
ip link set "$tap" up || die "cannot bring $tap up"

# The RAM disk (vda) lives in the outer VM's RAM (its /tmp) so that the
# figure is the virtio path, not the harness's shared file system. Both
# VMMs read it through the host page cache (mmvm without ,direct; QEMU
# cache=writeback).
disk=$state/disk.img
dd if=/dev/zero of="$disk" bs=1M count="$disk_mb" 2>/dev/null ||
	die "cannot create a $disk_mb MiB disk in $state"

# The slow disk (vdb): each read of a second RAM image waits this long in
# the host kernel (device-mapper delay over a loop device), as a real
# disk's would, so that what bounds the IOPS is how many reads the device
# keeps outstanding at its backend, not the VM exits. Both VMMs open it
# with O_DIRECT (mmvm ,direct; QEMU cache=none).
blk_slow_ms=2
slow_dm=mmvmbenchslow slow_loop= slow_disk=
slow_img=$state/slow.img
slow_disk_setup() {
	command -v dmsetup >/dev/null 2>&1 || { echo "no dmsetup"; return 1; }
	modprobe dm-delay 2>/dev/null
	dd if=/dev/zero of="$slow_img" bs=1M count="$disk_mb" 2>/dev/null ||
		{ echo "cannot create $slow_img"; return 1; }
	slow_loop=$(losetup -f --show "$slow_img" 2>/dev/null) ||
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
slow_disk_remove() {
	[ -n "$slow_loop" ] || return 0
	dmsetup remove "$slow_dm" 2>/dev/null
	losetup -d "$slow_loop" 2>/dev/null
	slow_loop= slow_disk=
}
case ",$configs," in
*,t2-*) slow_disk_setup >"$state/slow-why" ||
	log "no slow disk: $(cat "$state/slow-why"); table 2 is skipped" ;;
esac

"$tools/rr" server "$port" "$state" 2>>"$out/rr-server.log" &
server_pid=$!
# A new sockperf server for every run: it serves one connection at a
# time, so a guest that died mid-run (a nested wedge or reset) would leave
# it blocked on that connection and every later run's request/response
# would find nobody answering.
sockperf_restart() {
	command -v sockperf >/dev/null 2>&1 || return 0
	if [ -n "$sockperf_pid" ]; then
		kill "$sockperf_pid" 2>/dev/null
		wait "$sockperf_pid" 2>/dev/null
	fi
	sockperf server --tcp -i "$host_ip" -p "$((port + 1))" \
		>>"$out/sockperf-server.log" 2>&1 &
	sockperf_pid=$!
}

cmdline="console=ttyS0 quiet mmvm.test=bench bench.secs=$secs"
cmdline="$cmdline bench.host=$host_ip bench.ip=$guest_ip/24 bench.port=$port"
mac=52:54:00:12:34:56
boot_timeout=$((180 + 12 * secs))

# What each table's guest runs (bench.what=): the idle window first (the
# background rate of exits), then request/response, then the reads.
what_t1=idle,net,fio-vda-qd1-j1
what_t2=idle,net
for d in vda vdb; do
	for q in 1 32; do
		for j in 1 2; do what_t2=$what_t2,fio-$d-qd$q-j$j; done
	done
done
what_t2_net=idle,net
what_t2_1q=idle,fio-vda-qd32-j2,fio-vdb-qd32-j2
# Investigations outside bench/plan (bench/plan-engines): mmvm's block
# engines and policies against each other, block only.
what_x=idle,fio-vda-qd1-j1,fio-vda-qd32-j2,fio-vdb-qd32-j1,fio-vdb-qd32-j2
what_t3=idle,net
what_boot=

# QEMU's options shared by every QEMU configuration: $1 the vCPUs.
qemu_common() {
	echo -accel kvm -cpu host -m "$mem" -smp "${1:-1}" \
		-nodefaults -no-reboot -name bench,debug-threads=on \
		-no-user-config -display none
}
qemu_console() {
	echo -serial stdio -kernel "$kernel" -initrd "$initrd"
}

# /dev/vhost-net for the vhost configurations: the outer VM's kernel has
# vhost_net as a module; "" when it is there, else why not.
vhost_missing() {
	[ -c /dev/vhost-net ] || modprobe vhost_net 2>/dev/null
	[ -c /dev/vhost-net ] && return 1
	echo "no /dev/vhost-net (modprobe vhost_net failed)"
}

# A guest vCPU wedged under the nested KVM (docs/nested-kvm.md, "A guest
# running its host's code") never exits to its VMM again and makes the
# outer KVM inject tens of thousands of page faults a second (a healthy
# run: none). Watching KVM's own count (debugfs kvm/pf_guest, summed over
# every VM, and only one runs at a time) stops such a run within seconds
# instead of at its boot timeout: SIGTERM to the VMM, $out/$id.wedged gets
# the rise, and measure() makes the run again as any failed one. Same
# rule and threshold as tests/integration/lib.sh.
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

# Runs one configuration once. The VM's argv is "$@".
run_one() {
	id=$1 config=$2 rep=$3
	shift 3
	echo "$out/$id" >"$state/run"
	echo "$id boot" >"$out/phase"
	rm -f "$state/pid"
	sockperf_restart
	log "run $id: $*"
	echo "$*" >"$out/$id.argv"
	wedge_watch "$id" &
	watcher=$!
	# QEMU cannot power off a guest without ACPI: stamp stops it on
	# the guest's last words (on virtio-console the kernel's own last
	# line may never be flushed, so /init's end line counts too; mmvm
	# exits by itself, after its --stats).
	case "$config" in
	*qemu*) "$tools/stamp" -t "$boot_timeout" -p "$state/pid" \
			-k "reboot: Power down" -k "System halted" \
			-k "MMVM-TEST-END" \
			-f "Kernel panic" -- "$@" >"$out/$id.log" 2>&1 ;;
	*) "$tools/stamp" -t "$boot_timeout" -p "$state/pid" \
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
	grep -E 'BENCH-ERROR' "$out/$id.log" | sed 's/^/bench:   /' >&2
}

skip() {
	grep -q "^$1 " "$out/skipped" 2>/dev/null ||
		echo "$1 $2" >>"$out/skipped"
	log "skip $1: $2"
}

# The QEMU q35 block device(s) of table 2: $1 queues per disk. One
# IOThread per queue, as mmvm has one worker per queue, polling up to
# mmvm's bound.
qemu_t2_blk() {
	nq=$1 i=0
	for d in 0 1; do
		map=
		q=0
		while [ "$q" -lt "$nq" ]; do
			printf -- '-object iothread,id=io%s,poll-max-ns=1000000\n' "$i"
			map="$map${map:+,}{\"iothread\":\"io$i\"}"
			i=$((i + 1)) q=$((q + 1))
		done
		if [ "$d" = 0 ]; then
			printf -- '-drive file=%s,format=raw,if=none,id=d0,cache=writeback,aio=io_uring\n' "$disk"
		else
			printf -- '-drive file=%s,format=raw,if=none,id=d1,cache=none,aio=io_uring\n' "$slow_disk"
		fi
		printf -- '-device {"driver":"virtio-blk-pci","drive":"d%s","num-queues":%s,"iothread-vq-mapping":[%s]}\n' "$d" "$nq" "$map"
	done
}

run_config() {
	config=$1 rep=$2 id=${3:-r$2-$1}
	case "$config" in
	t2-*) [ -n "$slow_disk" ] ||
		{ skip "$config" "$(cat "$state/slow-why")"; return; } ;;
	esac
	case "$config" in
	t1-qemu-pci|t2-qemu-pci|t2-qemu-pci-1q|t3-qemu-pci-vhost)
		[ -n "$qemu" ] || { skip "$config" "no QEMU"; return; }
		cpus=1 net=vhost=off blk=
		case "$config" in
		t1-*) cl="$cmdline bench.what=$what_t1"
		      blk="-drive file=$disk,format=raw,if=none,id=d0,cache=writeback
			   -device virtio-blk-pci,drive=d0" ;;
		t2-qemu-pci) cpus=2 net=vhost=on,poll-us=1000
		      cl="$cmdline bench.what=$what_t2" ;;
		t2-qemu-pci-1q) cpus=2 net=vhost=on,poll-us=1000
		      cl="$cmdline bench.what=$what_t2_1q" ;;
		t3-*) net=vhost=on cl="$cmdline bench.what=$what_t3"
		      blk="-drive file=$disk,format=raw,if=none,id=d0,cache=writeback
			   -device virtio-blk-pci,drive=d0" ;;
		esac
		case "$net" in
		vhost=on*) why=$(vhost_missing) && { skip "$config" "$why"; return; } ;;
		esac
		case "$config" in
		t2-qemu-pci) blk=$(qemu_t2_blk 2) ;;
		t2-qemu-pci-1q) blk=$(qemu_t2_blk 1) ;;
		esac
		# One argument per line of $blk (the JSON -device has no
		# spaces; the drive paths are ours).
		set -f
		# shellcheck disable=SC2046
		run_one "$id" "$config" "$rep" $qemu $(qemu_common "$cpus") \
			$(qemu_console) -M q35 -append "$cl" \
			-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,$net" \
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" $blk
		set +f ;;
	t1-qemu-mmio)
		[ -n "$qemu" ] || { skip "$config" "no QEMU"; return; }
		# acpi=off: QEMU appends virtio_mmio.device= to the command
		# line itself. force-legacy=false: virtio-mmio version 2,
		# like mmvm's v2.
		run_one "$id" "$config" "$rep" $qemu $(qemu_common) $(qemu_console) \
			-M microvm,acpi=off,x-option-roms=off,rtc=off \
			-global virtio-mmio.force-legacy=false \
			-append "$cmdline bench.what=$what_t1" \
			-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off" \
			-device "virtio-net-device,netdev=n0,mac=$mac" \
			-drive "file=$disk,format=raw,if=none,id=d0,cache=writeback" \
			-device virtio-blk-device,drive=d0 ;;
	boot-qemu-microvm)
		[ -n "$qemu" ] || { skip "$config" "no QEMU"; return; }
		[ -r "$vmlinux" ] || { skip "$config" "no vmlinux for PVH"; return; }
		run_one "$id" "$config" "$rep" $qemu $(qemu_common) \
			-M microvm,acpi=off,x-option-roms=off,pit=off,pic=off,isa-serial=off,rtc=off \
			-global virtio-mmio.force-legacy=false \
			-kernel "$vmlinux" -initrd "$initrd" \
			-chardev stdio,id=con0 -device virtio-serial-device \
			-device virtconsole,chardev=con0 \
			-append "$(echo "$cmdline" | sed 's/console=ttyS0/console=hvc0/') bench.what=$what_boot" \
			-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off" \
			-device "virtio-net-device,netdev=n0,mac=$mac" \
			-drive "file=$disk,format=raw,if=none,id=d0,cache=writeback" \
			-device virtio-blk-device,drive=d0 ;;
	t1-mmvm-*|t2-mmvm|t2-mmvm-notxirq|t2-mmvm-1q|t3-mmvm-vhost|boot-mmvm|x-mmvm-*)
		[ -x "$mmvm" ] || { skip "$config" "no $mmvm"; return; }
		cpus=1 netopt= vflags="--virtio-version 2"
		disks="--disk $disk"
		case "$config" in
		t1-*)
			cl="$cmdline bench.what=$what_t1"
			netopt=,poll=0,tx-irq-delay=0 disks="--disk $disk,poll=0"
			case "$config" in
			t1-mmvm-v3) vflags="--virtio-version 3" ;;
			t1-mmvm-v2) vflags="--virtio-version 2 --no-msi --no-doorbells" ;;
			esac ;;
		t2-mmvm|t2-mmvm-notxirq|t2-mmvm-1q)
			cpus=2 nq=2
			cl="$cmdline bench.what=$what_t2"
			case "$config" in
			t2-mmvm-notxirq) netopt=,tx-irq-delay=0
				cl="$cmdline bench.what=$what_t2_net" ;;
			t2-mmvm-1q) nq=1 cl="$cmdline bench.what=$what_t2_1q" ;;
			esac
			disks="--disk $disk,queues=$nq --disk $slow_disk,direct,queues=$nq" ;;
		x-mmvm-*)
			# t2's VM (2 vCPUs, 2 queues per disk, the slow disk
			# direct), one thing changed
			cpus=2 nq=2 dopt=
			cl="$cmdline bench.what=$what_x"
			case "$config" in
			x-mmvm-sync) dopt=,engine=sync ;;
			x-mmvm-poll0) dopt=,poll=0 ;;
			x-mmvm-1q) nq=1 ;;
			esac
			disks="--disk $disk,queues=$nq$dopt --disk $slow_disk,direct,queues=$nq$dopt" ;;
		t3-mmvm-vhost)
			why=$(vhost_missing) && { skip "$config" "$why"; return; }
			netopt=,vhost=on cl="$cmdline bench.what=$what_t3" ;;
		boot-mmvm) cl="$cmdline bench.what=$what_boot" ;;
		esac
		run_one "$id" "$config" "$rep" "$mmvm" --kernel "$kernel" \
			--initrd "$initrd" --mem "$mem" --cpus "$cpus" $vflags \
			--net "tap=$tap,mac=$mac$netopt" $disks \
			--stats "$out/$id.mmvm-stats" --cmdline "$cl" ;;
	boot-pairs)
		k=1
		while [ "$k" -le "$boot_pairs" ]; do
			if [ $(( (rep + k) % 2 )) = 0 ]; then
				order="boot-mmvm boot-qemu-microvm"
			else
				order="boot-qemu-microvm boot-mmvm"
			fi
			for bc in $order; do
				run_config "$bc" "$rep" "r$rep-b$k-$bc"
			done
			k=$((k + 1))
		done ;;
	*) skip "$config" "unknown configuration" ;;
	esac
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
	echo "mem $mem"
	echo "disk_mb $disk_mb"
	echo "blk_slow_ms $blk_slow_ms"
	echo "boot_pairs $boot_pairs"
	echo "sockperf $(sockperf --version 2>&1 | sed -n 's/^sockperf, version \([^ ]*\).*/\1/p' | head -n 1)"
} >"$out/meta"

# The load verdict of run $1 from the host-side samples ("unknown"
# without them, e.g. when this script runs by hand).
load_verdict() {
	python3 "$bench_dir/benchstats.py" verdict --samples "$out/host-samples" \
		--run "$1" --max-others "$load_max" 2>/dev/null || echo unknown
}

# One configuration in one repetition; once more if the machine was loaded,
# and up to twice more if the run failed (under the nested harness guests
# of either VMM now and then reset at 0xfff0 or wedge: docs/nested-kvm.md).
# The runs made again are <id>-again and -again2; all stay in runs.
measure() {
	c=$1 rep=$2 base=$3 tries=0
	# Its boots are many and short: one that fails is left out of the
	# pairs, not made again.
	if [ "$c" = boot-pairs ]; then
		run_config "$c" "$rep"
		return 0
	fi
	id=$base
	run_config "$c" "$rep" "$id"
	grep -q "^$id " "$out/runs" || return 0	# skipped
	while :; do
		v=$(load_verdict "$id")
		echo "$id $v" >>"$out/load"
		why=
		# The traced repetition gives counts per operation, not
		# times: a loaded machine does not spoil it.
		case "$v" in
		high*) [ "$tries" = 0 ] && [ "$trace" = 0 ] &&
			why="machine loaded ($v)" ;;
		esac
		if [ -z "$why" ] && [ "$tries" -lt 2 ] &&
		   ! grep -q "^$id $c $rep 0\$" "$out/runs"; then
			why="failed"
		fi
		[ -n "$why" ] || return 0
		tries=$((tries + 1))
		id=$base-again
		[ "$tries" = 1 ] || id=$id$tries
		log "run $base: $why: once more ($id)"
		run_config "$c" "$rep" "$id"
	done
}

set -- $(echo "$configs" | tr , ' ')
nconf=$#
prefix=r
[ "$trace" = 1 ] && prefix=x
# Rotate: repetition r starts with configuration (r - 1) mod n.
i=0
while [ "$i" -lt "$nconf" ]; do
	k=$(( (rep - 1 + i) % nconf + 1 ))
	eval "c=\${$k}"
	measure "$c" "$rep" "$prefix$rep-$c"
	i=$((i + 1))
done
echo "$rep" >"$out/$prefix$rep.done"
log "done: repetition $prefix$rep, $(wc -l <"$out/runs") run(s) in $out"
exit 0
}
