# virtio-mmio MSI/doorbell guest patch checks (mmvm kpatch engineer)
echo "KP-IRQ-BEFORE"; cat /proc/interrupts
echo "KP-DD"; dd if=/dev/vda of=/dev/null bs=4k count=500 iflag=direct 2>&1 | tail -1
echo "KP-RNG $(head -c 4096 /dev/hwrng | wc -c)"
echo "KP-IRQ-AFTER"; cat /proc/interrupts
echo "KP-WRITE"; dd if=/dev/urandom of=/tmp/x bs=4k count=64 2>/dev/null
dd if=/tmp/x of=/dev/vda bs=4k count=64 oflag=direct 2>&1 | tail -1
dd if=/dev/vda of=/tmp/y bs=4k count=64 iflag=direct 2>/dev/null
cmp /tmp/x /tmp/y && echo "KP-VERIFY ok"
# teardown + re-setup: virtio driver rebind, then platform driver rebind
for d in /sys/bus/virtio/devices/*; do
	n=$(basename $d); drv=$(basename $(readlink $d/driver))
	echo $n > /sys/bus/virtio/drivers/$drv/unbind
	echo $n > /sys/bus/virtio/drivers/$drv/bind
	echo "KP-REBIND $n $drv rc=$?"
done
for p in /sys/bus/platform/drivers/virtio-mmio/virtio-mmio.* /sys/bus/platform/drivers/virtio-mmio/LNRO0005:*; do
	[ -e "$p" ] || continue
	n=$(basename $p)
	echo $n > /sys/bus/platform/drivers/virtio-mmio/unbind
	echo $n > /sys/bus/platform/drivers/virtio-mmio/bind
	echo "KP-PREBIND $n rc=$?"
done
sleep 1
echo "KP-RNG2 $(head -c 4096 /dev/hwrng | wc -c)"
dd if=/dev/vda of=/dev/null bs=4k count=100 iflag=direct 2>&1 | tail -1
echo "KP-IRQ-END"; cat /proc/interrupts
echo "KP-DMESG"; dmesg | grep -i -E "virtio|msi|irq|warn|bug" | grep -v "Command line"
echo "KP-DONE"
sync; reboot -f
