# Guest side of the benchmark (bench/run): mmvm.test=bench.
#
# Kernel command line parameters (all optional):
#   bench.secs=N        seconds per workload (10)
#   bench.what=idle,net,blk  workloads to run, in this order
#   bench.idle=N        seconds of the idle window (4): the guest only
#                       sleeps, so the host sees the background exit rate
#                       (timer ticks) to subtract from the workloads' counts
#   bench.host=IP       host end of the tap, runs "rr server" (10.0.3.1)
#   bench.ip=IP/LEN     this guest's address (10.0.3.15/24)
#   bench.port=N        rr server port (5201)
#   bench.blkjobs=N     blkread jobs (1): N threads, job j pinned to CPU j
#   bench.blkdepth=N    reads each job keeps in flight (1; per job, as
#                       fio's iodepth: jobs=2 depth=16 is 32 outstanding)
#
# Every workload is framed by "rr mark ... <what>-begin/-end": the host's
# rr server snapshots the KVM counters while the guest waits, so the
# counters cover exactly the workload. Nothing is printed to the console
# inside a frame (console output costs exits of its own); the results are
# printed afterwards as "BENCH-RESULT what=<what> <tool's line>".
# Needs /bin/rr and /bin/blkread (bench/run adds them to the initramfs).

secs=10 idle=4 what=idle,net,blk host=10.0.3.1 ip=10.0.3.15/24 port=5201
blkjobs=1 blkdepth=1
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	bench.secs=*) secs=${arg#*=} ;;
	bench.what=*) what=${arg#*=} ;;
	bench.idle=*) idle=${arg#*=} ;;
	bench.host=*) host=${arg#*=} ;;
	bench.ip=*) ip=${arg#*=} ;;
	bench.port=*) port=${arg#*=} ;;
	bench.blkjobs=*) blkjobs=${arg#*=} ;;
	bench.blkdepth=*) blkdepth=${arg#*=} ;;
	esac
done

fail() { echo "BENCH-ERROR $*"; exit 1; }

for tool in rr blkread; do
	[ -x /bin/$tool ] || fail "/bin/$tool missing (initramfs not built by bench/run?)"
done

ip link set lo up
ip addr add "$ip" dev eth0 || fail "no eth0"
ip link set eth0 up || fail "eth0 does not come up"

# The host end answers marks only once the tap is up and ARP resolved:
# retry for up to 10 s.
tries=0
until rr mark "$host" "$port" ready 2>/dev/null; do
	tries=$((tries + 1))
	[ "$tries" -lt 50 ] || fail "rr server at $host:$port unreachable"
	sleep 0.2
done

run_framed() {
	name=$1; shift
	# One second untimed first: page faults, ARP, device warm-up.
	"$@" 1 >/tmp/bench.$name 2>&1 ||
		fail "$name warm-up failed: $(cat /tmp/bench.$name)"
	rr mark "$host" "$port" "$name-begin" || fail "mark $name-begin"
	"$@" "$secs" >/tmp/bench.$name 2>&1
	rc=$?
	rr mark "$host" "$port" "$name-end" || fail "mark $name-end"
	[ "$rc" = 0 ] || fail "$name: $(cat /tmp/bench.$name)"
	echo "BENCH-RESULT what=$name $(cat /tmp/bench.$name)"
}

for w in $(echo "$what" | tr , ' '); do
	case "$w" in
	idle)
		rr mark "$host" "$port" idle-begin || fail "mark idle-begin"
		sleep "$idle"
		rr mark "$host" "$port" idle-end || fail "mark idle-end"
		echo "BENCH-RESULT what=idle secs=$idle" ;;
	net) run_framed net rr client "$host" "$port" ;;
	blk)
		[ -b /dev/vda ] || fail "no /dev/vda"
		run_framed blk blkread -j "$blkjobs" -d "$blkdepth" /dev/vda ;;
	*) fail "unknown workload $w" ;;
	esac
done

# Which interrupt each device ended up with (MSI vectors or one line).
echo "BENCH-INTERRUPTS"
grep -i -E 'virtio|msi' /proc/interrupts
rr mark "$host" "$port" done
echo "BENCH-DONE"
