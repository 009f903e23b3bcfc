# Device reset under interrupt load: readers keep O_DIRECT reads of
# /dev/vdb in flight (on CPU 1 where there is one) while vdb's driver is
# unbound and bound again N times (mmvm.cycles=N, default 30),
# alternating virtio_blk and the virtio-mmio platform driver; each unbind
# resets the device while its queue vector fires. The kernel's test aid
# (CONFIG_VIRTIO_MMIO_DEBUG_RESET, patch 0101) counts queue callbacks
# still running when the transport's reset returned or starting after it
# (/sys/module/virtio_mmio/parameters/late_callbacks): there must be none.
# mmvm: --cpus 2 --disk A.img --disk B.img (B prepared by the host).
# Prints: MMVM-RL cycle=<i> how=<mmio|blk> ok=<0|1>
#         MMVM-RL done cycles=<n> failed=<n> late=<n> skip_sync=<Y|N> reads=<n> warns=<n>
cycles=30
for arg in $(cat /proc/cmdline); do
	case "$arg" in mmvm.cycles=*) cycles=${arg#mmvm.cycles=} ;; esac
done
param=/sys/module/virtio_mmio/parameters
[ -r "$param/late_callbacks" ] || { echo "MMVM-RL no late_callbacks counter (CONFIG_VIRTIO_MMIO_DEBUG_RESET)"; exit 1; }
pin=
[ "$(grep -c ^processor /proc/cpuinfo)" -gt 1 ] && command -v taskset >/dev/null && pin="taskset -c 1"

reader() {
	n=0
	while [ ! -e /tmp/stop ]; do
		dd if=/dev/vdb of=/dev/null bs=4k count=64 iflag=direct 2>/dev/null &&
			n=$((n + 1))
	done
	echo "$n" >"/tmp/r.$1"
}
for r in 1 2; do
	if [ -n "$pin" ]; then
		taskset -c 1 sh -c 'n=0; while [ ! -e /tmp/stop ]; do dd if=/dev/vdb of=/dev/null bs=4k count=64 iflag=direct 2>/dev/null && n=$((n + 1)); done; echo $n >/tmp/r.'"$r" &
	else
		reader "$r" &
	fi
done

# devs (vdev, pdev) and wait_disk
. /lib/mmvm/disk.sh

failed=0
i=1
while [ "$i" -le "$cycles" ]; do
	ok=1
	devs vdb
	sleep 0.2	# let the readers get requests in flight
	if [ $((i % 2)) = 1 ]; then
		how=blk
		echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/unbind || ok=0
		echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/bind || ok=0
	else
		how=mmio
		echo "$pdev" >/sys/bus/platform/drivers/virtio-mmio/unbind || ok=0
		echo "$pdev" >/sys/bus/platform/drivers/virtio-mmio/bind || ok=0
	fi
	wait_disk vdb || ok=0
	got=$(dd if=/dev/vdb bs=512 count=1 iflag=direct 2>/dev/null | head -c 21)
	[ "$got" = MMVM-TEARDOWN-PATTERN ] || ok=0
	[ "$ok" = 1 ] || failed=$((failed + 1))
	echo "MMVM-RL cycle=$i how=$how ok=$ok"
	i=$((i + 1))
done
touch /tmp/stop
wait
reads=$(cat /tmp/r.* 2>/dev/null | awk '{ n += $1 } END { print n + 0 }')
late=$(cat "$param/late_callbacks")
skip=$(cat "$param/debug_skip_reset_sync")
warns=$(dmesg | grep -cE 'callback (after|running across) reset|WARNING|BUG:|nobody cared')
dmesg | grep -E 'callback (after|running across) reset|WARNING|BUG:|nobody cared' | head -n 5 | sed 's/^/MMVM-RL dmesg: /'
grep -E 'virtio' /proc/interrupts
echo "MMVM-RL done cycles=$cycles failed=$failed late=$late skip_sync=$skip reads=$reads warns=$warns"
[ "$failed" = 0 ] && [ "$late" = 0 ] && [ "$warns" = 0 ]
