# Managed affinity of a multi-queue disk's vectors, and CPU hotplug under
# I/O. mmvm: --cpus 2 --disk IMG,queues=2 (the patched kernel).
# Prints, for the config and each queue vector of /dev/vda's device:
#   MMVM-AFF vec label=<virtioN-...> irq=<n> smp=<list> eff=<list> managed=<0|1>
# then per phase (start, io0, io1, offline, online) and queue vector:
#   MMVM-AFF count phase=<p> label=<virtioN-req.Q> cpu0=<n> cpu1=<n>
# and MMVM-AFF io phase=<p> cpu=<c> rc=<dd status>
# Phases: io0 = 4 MiB of O_DIRECT reads pinned to CPU 0, io1 = pinned to
# CPU 1, offline = CPU 1 taken offline, then reads on CPU 0, online = CPU 1
# back, then reads on CPU 1. Then two concurrent writers, one pinned to
# each CPU (so one on each queue and its worker), 4 MiB of random data
# each at MiB 16 and MiB 32, O_DIRECT:
#   MMVM-AFF write cpu=<c> rc=<dd status> md5=<of the data written>
vdev=$(basename "$(readlink -f /sys/block/vda/device)")
echo "MMVM-AFF device=$vdev queues=$(ls /sys/block/vda/mq | wc -l)"

vec() {
	grep -E " $vdev-(config|req\.[0-9]+)\$" /proc/interrupts |
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
			echo "MMVM-AFF vec label=$label irq=$irq smp=$smp" \
				"eff=$eff managed=$managed"
		done
}

count() {
	grep -E " $vdev-req\.[0-9]+\$" /proc/interrupts |
		awk -v p="$1" '{ print "MMVM-AFF count phase=" p " label=" $NF \
			" cpu0=" $2 " cpu1=" ($3 ~ /^[0-9]+$/ ? $3 : 0) }'
}

io() {
	taskset -c "$2" dd if=/dev/vda of=/dev/null bs=4k count=1024 \
		iflag=direct 2>/dev/null
	echo "MMVM-AFF io phase=$1 cpu=$2 rc=$?"
}

vec
count start
io io0 0; count io0
io io1 1; count io1
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
vec
