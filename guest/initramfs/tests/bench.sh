# Guest side of the benchmark (bench/run): mmvm.test=bench.
#
# Kernel command line parameters (all optional):
#   bench.secs=N        seconds per measured workload (5)
#   bench.what=LIST     workloads, in this order, comma-separated:
#                         idle     sleep bench.idle seconds: the background
#                                  exit rate (timer ticks)
#                         net      sockperf ping-pong over TCP against the
#                                  host's "sockperf server" (request/response:
#                                  one message outstanding, p50/p99 RTT)
#                         fio-DEV-qdQ-jJ   fio 4 KiB random reads from
#                                  /dev/DEV, O_DIRECT, libaio, iodepth Q per
#                                  job, J jobs (job j on vCPU j)
#   bench.idle=N        seconds of the idle window (4)
#   bench.host=IP       host end of the tap: "rr server" (marks) and
#                       "sockperf server" run there (10.0.3.1)
#   bench.ip=IP/LEN     this guest's address (10.0.3.15/24)
#   bench.port=N        rr server port (5201); sockperf's is N+1
#   bench.msg=N         sockperf message size in bytes, both ways (64)
#
# Every workload is framed by "rr mark ... <what>-begin/-end": the host's
# rr server snapshots the VM's KVM counters while the guest waits, so the
# counters cover exactly the workload (sockperf and fio have no such
# hook: that is what rr adds). Nothing is printed to the console inside a
# frame (console output costs exits of its own); the results follow as
# "BENCH-RESULT what=<what> <tool's figures>".
# Needs /bin/rr, /bin/fio (static) and /bin/sockperf with its libraries
# (bench/run adds them to the initramfs).

secs=5 idle=4 what=idle,net,fio-vda-qd1-j1 host=10.0.3.1 ip=10.0.3.15/24
port=5201 msg=64
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	bench.secs=*) secs=${arg#*=} ;;
	bench.what=*) what=${arg#*=} ;;
	bench.idle=*) idle=${arg#*=} ;;
	bench.host=*) host=${arg#*=} ;;
	bench.ip=*) ip=${arg#*=} ;;
	bench.port=*) port=${arg#*=} ;;
	bench.msg=*) msg=${arg#*=} ;;
	esac
done

fail() { echo "BENCH-ERROR $*"; exit 1; }

for tool in rr fio sockperf; do
	[ -x /bin/$tool ] || fail "/bin/$tool missing (initramfs not built by bench/run?)"
done
# The kernel's own clock at /init: boot time inside the guest, so that
# the host's boot-to-/init can be split into VMM plus firmware and kernel.
echo "BENCH-UPTIME $(cut -d' ' -f1 /proc/uptime)"

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

# run_framed NAME CMD...: CMD once with "1" appended (one second, not
# measured: page faults, ARP, device warm-up), then framed by marks with
# "$secs" appended.
run_framed() {
	name=$1; shift
	"$@" 1 >/tmp/bench.$name 2>&1 ||
		fail "$name warm-up failed: $(tail -n 3 /tmp/bench.$name)"
	rr mark "$host" "$port" "$name-begin" || fail "mark $name-begin"
	"$@" "$secs" >/tmp/bench.$name 2>&1
	rc=$?
	rr mark "$host" "$port" "$name-end" || fail "mark $name-end"
	[ "$rc" = 0 ] || fail "$name: $(tail -n 3 /tmp/bench.$name)"
}

sockperf_rr() {
	sockperf ping-pong --tcp -i "$host" -p "$((port + 1))" -m "$msg" \
		--full-rtt --no-rdtsc -t "$1"
}

# fio_rr DEV DEPTH JOBS SECONDS
fio_read() {
	fio --name=randread --filename="/dev/$1" --rw=randread --bs=4k \
		--direct=1 --ioengine=libaio --iodepth="$2" --numjobs="$3" \
		--cpus_allowed="0-$(($3 - 1))" --cpus_allowed_policy=split \
		--thread --group_reporting --time_based --runtime="$4" \
		--norandommap --randrepeat=0 --minimal
}

for w in $(echo "$what" | tr , ' '); do
	case "$w" in
	idle)
		rr mark "$host" "$port" idle-begin || fail "mark idle-begin"
		sleep "$idle"
		rr mark "$host" "$port" idle-end || fail "mark idle-end"
		echo "BENCH-RESULT what=idle secs=$idle" ;;
	net)
		run_framed net sockperf_rr
		# [Total Run] counts every message of the framed run (the
		# counters' span); [Valid Duration] leaves out sockperf's own
		# warm-up and cool-down (its rate and percentiles).
		total=$(sed -n 's/.*\[Total Run\].*ReceivedMessages=\([0-9]*\).*/\1/p' /tmp/bench.net)
		valid=$(sed -n 's/.*\[Valid Duration\] RunTime=\([0-9.]*\) sec.*ReceivedMessages=\([0-9]*\).*/\1 \2/p' /tmp/bench.net)
		p50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' /tmp/bench.net)
		p99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' /tmp/bench.net)
		avg=$(sed -n 's/.*avg-rtt=\([0-9.]*\).*/\1/p' /tmp/bench.net)
		set -- $valid
		[ -n "$total" ] && [ $# = 2 ] && [ -n "$p99" ] ||
			fail "net: sockperf printed no statistics: $(tail -n 3 /tmp/bench.net)"
		echo "BENCH-RESULT what=net ops=$total valid_secs=$1 valid_ops=$2 avg_us=$avg p50_us=$p50 p99_us=$p99" ;;
	fio-*)
		spec=${w#fio-} dev=${spec%%-*} rest=${spec#*-qd}
		qd=${rest%%-j*} jobs=${rest#*-j}
		[ -b "/dev/$dev" ] || fail "$w: no /dev/$dev"
		run_framed "$w" fio_read "$dev" "$qd" "$jobs"
		# fio --minimal (terse version 3): one line, ';'-separated.
		echo "BENCH-FIO what=$w $(grep '^3;' "/tmp/bench.$w" | head -n 1)"
		echo "BENCH-RESULT what=$w secs=$secs" ;;
	*) fail "unknown workload $w" ;;
	esac
done

# Which interrupt each device ended up with (MSI vectors or one line).
echo "BENCH-INTERRUPTS"
grep -i -E 'virtio|msi' /proc/interrupts
rr mark "$host" "$port" done
echo "BENCH-DONE"
