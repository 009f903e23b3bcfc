# virtio-mmio v3 (or v2 for comparison): interrupts and notifications
# around some disk and rng I/O.
#   /proc/interrupts before and after, between MMVM-IRQ-BEGIN/END markers
#   N 4 KiB O_DIRECT reads of /dev/vda (N from mmvm.reads=N, default 2000)
# Prints: MMVM-V3 reads=<N> rng_bytes=<n> msi_param=<value|none> pci=<0|1>
reads=2000
for arg in $(cat /proc/cmdline); do
	case "$arg" in mmvm.reads=*) reads=${arg#mmvm.reads=} ;; esac
done
echo "MMVM-IRQ-BEGIN before"; cat /proc/interrupts; echo "MMVM-IRQ-END before"
echo "MMVM-V3-IO-START"
dd if=/dev/vda of=/dev/null bs=4k count="$reads" iflag=direct 2>/dev/null ||
	{ echo "MMVM-V3 dd failed"; exit 1; }
echo "MMVM-V3-IO-END"
rng=$(head -c 4096 /dev/hwrng 2>/dev/null | wc -c)
echo "MMVM-IRQ-BEGIN after"; cat /proc/interrupts; echo "MMVM-IRQ-END after"
msi_param=none
[ -r /sys/module/virtio_mmio/parameters/msi ] &&
	msi_param=$(cat /sys/module/virtio_mmio/parameters/msi)
pci=0
[ -d /sys/bus/pci ] && pci=1
echo "MMVM-V3 reads=$reads rng_bytes=$rng msi_param=$msi_param pci=$pci"
