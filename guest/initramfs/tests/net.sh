# virtio-net guest side (host side: tests/integration/test_virtio_net.sh).
# eth0 gets 10.0.2.15/24; the host is 10.0.2.1 on the tap. Then:
#   guest -> host: N MiB of random data to host port 5001 (busybox nc)
#   host -> guest: whatever the host sends on port 5002, summed here
#   then waits for the host's "GO" on port 5003 (the host pings us first).
# N is mmvm.net_mib=N on the kernel command line (default 50). With
# mmvm.net_par=1 both transfers run at once: two TCP streams, for the
# multi-queue device to spread over its pairs. With mmvm.net_idle=S the
# guest then sends nothing for S seconds between "MMVM-NET idle-begin"
# and "idle-end" (the host measures what an idle device costs it).
# Lines for the host: MMVM-NET key=value ...
mib=50
par=0
idle=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	mmvm.net_mib=*) mib=${arg#mmvm.net_mib=} ;;
	mmvm.net_par=1) par=1 ;;
	mmvm.net_idle=*) idle=${arg#mmvm.net_idle=} ;;
	esac
done
host=10.0.2.1

fail() { echo "MMVM-NET FAIL $*"; exit 1; }

[ -d /sys/class/net/eth0 ] || fail "no eth0"
ip link set lo up
ip link set eth0 up || fail "eth0 up"
ip addr add 10.0.2.15/24 dev eth0 || fail "eth0 address"
feat=$(cat /sys/class/net/eth0/device/features 2>/dev/null)
echo "MMVM-NET mac=$(cat /sys/class/net/eth0/address)" \
	"mtu=$(cat /sys/class/net/eth0/mtu) features=$feat"

# The link is up at once, but give the host's side a moment too.
i=0
until ping -c 1 -W 1 $host >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 30 ] || fail "host $host does not answer ping"
done
echo "MMVM-NET ping_host=ok tries=$((i + 1))"

dd if=/dev/urandom of=/tmp/tx bs=1M count="$mib" 2>/dev/null ||
	fail "cannot make /tmp/tx"
echo "MMVM-NET tx_md5=$(md5sum </tmp/tx | cut -d' ' -f1)" \
	"tx_bytes=$(wc -c </tmp/tx)"
t0=$(date +%s)
if [ "$par" = 1 ]; then
	nc $host 5002 </dev/null >/tmp/rx &
	rx_pid=$!
fi
nc $host 5001 </tmp/tx || fail "nc to $host:5001"
t1=$(date +%s)
rm -f /tmp/tx
echo "MMVM-NET tx_done s=$((t1 - t0))"

if [ "$par" = 1 ]; then
	wait $rx_pid || fail "nc from $host:5002"
else
	nc $host 5002 </dev/null >/tmp/rx || fail "nc from $host:5002"
fi
t2=$(date +%s)
echo "MMVM-NET rx_md5=$(md5sum </tmp/rx | cut -d' ' -f1)" \
	"rx_bytes=$(wc -c </tmp/rx) s=$((t2 - t1))"
rm -f /tmp/rx

# Stay reachable until the host has pinged us and says GO.
i=0
until nc $host 5003 </dev/null 2>/dev/null | grep -q GO; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "no GO from the host"
	sleep 1
done
grep -E '^ *eth0:' /proc/net/dev | sed 's/^ */MMVM-NET dev /'
if [ "$idle" -gt 0 ]; then
	echo "MMVM-NET idle-begin"
	sleep "$idle"
	echo "MMVM-NET idle-end"
	# Time for the host to read mmvm's CPU time before the VM goes away
	# (its threads end one by one as it exits).
	sleep 2
fi
echo "MMVM-NET done"
