# Where each queue's interrupt lands, on a 2-vCPU guest with a 2-queue
# disk (/dev/vda) and, if there is an eth0, a 2-pair virtio-net device
# (mmvm: --cpus 2 --disk IMG,queues=2 --net tap=T,queues=2; the patched
# kernel). Host side: tests/integration/test_msi_affinity.sh.
#
# For each device (DEV = virtioN):
#   MMVM-AFF device=DEV kind=blk|net queues=<blk-mq queues or net pairs>
#   MMVM-AFF vec at=<start|net|end> label=DEV-<config|req.Q|input.Q|...>
#       irq=<n> smp=<list> eff=<list> managed=<0|1>  (one per MSI vector)
#   MMVM-AFF line label=DEV irq=<n>     (the legacy line, without MSI)
# at start, after the net phases (net vectors only) and at the end.
# then per phase and per queue vector (or the line):
#   MMVM-AFF count phase=<p> label=<label> cpu0=<n> cpu1=<n>
# Phases: io0 = 4 MiB of O_DIRECT reads pinned to CPU 0, io1 = pinned to
# CPU 1, offline = CPU 1 taken offline, then reads on CPU 0, online = CPU 1
# back, then reads on CPU 1:
#   MMVM-AFF io phase=<p> cpu=<c> rc=<dd status>
# net0/net1: 20 TCP connection attempts pinned to CPU 0/1: each SYN goes
# out on that CPU's tx queue (virtio_net's XPS map), each RST comes back
# on whichever pair the host's tun picks. Then two concurrent writers, one pinned
# to each CPU (so one on each queue and its worker), 4 MiB of random data
# each at MiB 16 and MiB 32, O_DIRECT:
#   MMVM-AFF write cpu=<c> rc=<dd status> md5=<of the data written>
#
# mmvm.aff=verify (the second boot, on the same image): only reads the
# two regions back: MMVM-AFF readback cpu=<c> md5=<of MiB 16+16c, 4 MiB>
host=10.0.6.1
mode=test
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	mmvm.aff=verify) mode=verify ;;
	esac
done

if [ "$mode" = verify ]; then
	for c in 0 1; do
		md5=$(dd if=/dev/vda bs=1M skip=$((16 + 16 * c)) count=4 \
			iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
		echo "MMVM-AFF readback cpu=$c md5=$md5"
	done
	exit 0
fi

blk=$(basename "$(readlink -f /sys/block/vda/device)")
echo "MMVM-AFF device=$blk kind=blk queues=$(ls /sys/block/vda/mq | wc -l)"
net=
if [ -d /sys/class/net/eth0 ]; then
	net=$(basename "$(readlink -f /sys/class/net/eth0/device)")
	echo "MMVM-AFF device=$net kind=net" \
		"queues=$(ls -d /sys/class/net/eth0/queues/rx-* | wc -l)"
	ip link set eth0 up
	ip addr add 10.0.6.15/24 dev eth0
fi
devs="$blk $net"

# The vectors of device $1 at point $2, or its line.
vec() {
	grep -E " $1-[a-z]+(\.[0-9]+)?\$" /proc/interrupts |
		while read -r irq _; do
			irq=${irq%:}
			label=$(grep -E "^ *$irq:" /proc/interrupts | awk '{ print $NF }')
			smp=$(cat "/proc/irq/$irq/smp_affinity_list")
			eff=$(cat "/proc/irq/$irq/effective_affinity_list")
			mask=$(cat "/proc/irq/$irq/smp_affinity")
			# The kernel refuses to move a managed interrupt; one
			# that moved is put back.
			managed=1
			if echo 1 >"/proc/irq/$irq/smp_affinity" 2>/dev/null; then
				managed=0
				echo "$mask" >"/proc/irq/$irq/smp_affinity"
			fi
			echo "MMVM-AFF vec at=$2 label=$label irq=$irq smp=$smp" \
				"eff=$eff managed=$managed"
		done
	grep -E " $1\$" /proc/interrupts | while read -r irq _; do
		echo "MMVM-AFF line label=$1 irq=${irq%:}"
	done
}

# Per-CPU counts of every queue vector and line of the devices.
count() {
	for d in $devs; do
		grep -E " $d(-(req|input|output)\.[0-9]+)?\$" /proc/interrupts
	done | awk -v p="$1" '{ print "MMVM-AFF count phase=" p " label=" $NF \
		" cpu0=" $2 " cpu1=" ($3 ~ /^[0-9]+$/ ? $3 : 0) }'
}

io() {
	taskset -c "$2" dd if=/dev/vda of=/dev/null bs=4k count=1024 \
		iflag=direct 2>/dev/null
	echo "MMVM-AFF io phase=$1 cpu=$2 rc=$?"
}

# Nothing listens on the port: each attempt is one SYN and one RST.
netio() {
	i=0
	while [ $i -lt 20 ]; do
		taskset -c "$2" nc -w 1 $host 9 </dev/null >/dev/null 2>&1
		i=$((i + 1))
	done
	echo "MMVM-AFF netio phase=$1 cpu=$2"
}

for d in $devs; do
	vec "$d" start
done
count start
io io0 0; count io0
io io1 1; count io1
if [ -n "$net" ]; then
	# One attempt first: ARP for the host, outside the phases.
	nc -w 1 $host 9 </dev/null >/dev/null 2>&1
	count net
	netio net0 0; count net0
	netio net1 1; count net1
	vec "$net" net
fi
echo 0 >/sys/devices/system/cpu/cpu1/online
echo "MMVM-AFF cpu1 online=$(cat /sys/devices/system/cpu/cpu1/online)"
io offline 0; count offline
echo 1 >/sys/devices/system/cpu/cpu1/online
echo "MMVM-AFF cpu1 online=$(cat /sys/devices/system/cpu/cpu1/online)"
io online 1; count online
dd if=/dev/urandom of=/w0 bs=1M count=4 2>/dev/null
dd if=/dev/urandom of=/w1 bs=1M count=4 2>/dev/null
taskset -c 0 dd if=/w0 of=/dev/vda bs=64k seek=256 oflag=direct \
	conv=fsync 2>/dev/null &
p0=$!
taskset -c 1 dd if=/w1 of=/dev/vda bs=64k seek=512 oflag=direct \
	conv=fsync 2>/dev/null &
p1=$!
wait "$p0"; r0=$?
wait "$p1"; r1=$?
count write
echo "MMVM-AFF write cpu=0 rc=$r0 md5=$(md5sum </w0 | cut -d' ' -f1)"
echo "MMVM-AFF write cpu=1 rc=$r1 md5=$(md5sum </w1 | cut -d' ' -f1)"
for d in $devs; do
	vec "$d" end
done
