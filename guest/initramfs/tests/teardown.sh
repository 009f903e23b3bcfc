# Driver teardown and re-probe under load: /dev/vdb's driver is unbound
# and bound again N times (mmvm.cycles=N, default 50), alternating the
# transport (virtio-mmio platform driver) and the virtio_blk driver, while
# a writer fills /dev/vda with a known pattern. After each bind, vdb's
# first sector (written by the host: "MMVM-TEARDOWN-PATTERN") must read
# back. At the end the writer's data is read back from vda.
# mmvm: --disk A.img --disk B.img (B prepared by the host).
# Prints: MMVM-TD cycle=<i> how=<mmio|blk> ok=<0|1>   (one per cycle)
#         MMVM-TD writer sha256=<hex> readback=<hex> blocks=<n> rc=<0|1> passes=<n>
#         MMVM-TD done cycles=<n> failed=<n> irqs=<blk1 total interrupts>
cycles=50
for arg in $(cat /proc/cmdline); do
	case "$arg" in mmvm.cycles=*) cycles=${arg#mmvm.cycles=} ;; esac
done
blocks=2048	# 8 MiB in 4 KiB blocks

# The writer: 4 KiB blocks of random data, O_DIRECT, through its own
# queue; its sum is taken before the data goes out.
head -c $((blocks * 4096)) /dev/urandom >/tmp/w.bin
wsum=$(sha256sum </tmp/w.bin | cut -d' ' -f1)
# It rewrites the same data until told to stop, so it runs through every
# cycle; its last pass completes before the check.
(rc=0 passes=0
 while [ ! -e /tmp/stop ]; do
	dd if=/tmp/w.bin of=/dev/vda bs=4k oflag=direct conv=fsync \
		2>/dev/null || rc=1
	passes=$((passes + 1))
 done
 echo "$rc $passes" >/tmp/w.rc) &
writer=$!

# devs (vdev, pdev) and wait_disk
. /lib/mmvm/disk.sh

failed=0
i=1
while [ "$i" -le "$cycles" ]; do
	ok=1
	devs vdb
	if [ $((i % 2)) = 1 ]; then
		how=mmio
		echo "$pdev" >/sys/bus/platform/drivers/virtio-mmio/unbind || ok=0
		echo "$pdev" >/sys/bus/platform/drivers/virtio-mmio/bind || ok=0
	else
		how=blk
		echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/unbind || ok=0
		echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/bind || ok=0
	fi
	wait_disk vdb || ok=0
	got=$(dd if=/dev/vdb bs=512 count=1 iflag=direct 2>/dev/null | head -c 21)
	[ "$got" = MMVM-TEARDOWN-PATTERN ] || ok=0
	[ "$ok" = 1 ] || failed=$((failed + 1))
	echo "MMVM-TD cycle=$i how=$how ok=$ok"
	i=$((i + 1))
done

touch /tmp/stop
wait "$writer"
read -r wrc passes </tmp/w.rc
back=$(dd if=/dev/vda bs=4k count="$blocks" iflag=direct 2>/dev/null |
	sha256sum | cut -d' ' -f1)
echo "MMVM-TD writer sha256=$wsum readback=$back blocks=$blocks rc=$wrc passes=$passes"
devs vdb
irqs=$(grep -E " $vdev-" /proc/interrupts |
	awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }')
grep -E "virtio|nobody cared" /proc/interrupts
echo "MMVM-TD done cycles=$cycles failed=$failed irqs=$irqs"
[ "$failed" = 0 ] && [ "$back" = "$wsum" ] && [ "$wrc" = 0 ]
