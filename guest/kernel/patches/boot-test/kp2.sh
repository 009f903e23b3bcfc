# 2 vCPUs: move the queue vectors between CPUs while I/O runs. virtio-blk's
# request vectors are managed (spread by the kernel): moving them fails with
# EIO, which KP2-MANAGED reports; virtio-rng's vector is not and does move.
irqs=$(awk '/virtio.-req|virtio.-input/ { sub(":","",$1); print $1 }' /proc/interrupts)
echo "KP2-IRQS $irqs"
for q in $(awk '/virtio.-req/ { sub(":","",$1); print $1 }' /proc/interrupts); do
	if echo 1 > /proc/irq/$q/smp_affinity 2>/dev/null; then m=no; else m=yes; fi
	echo "KP2-MANAGED $q $m aff=$(cat /proc/irq/$q/smp_affinity_list) eff=$(cat /proc/irq/$q/effective_affinity_list)"
done
( i=0; while [ $i -lt 40 ]; do for q in $irqs; do echo $(( (i % 2) + 1 )) > /proc/irq/$q/smp_affinity 2>/dev/null; done; i=$((i+1)); sleep 0.05; done ) &
dd if=/dev/vda of=/dev/null bs=4k count=1000 iflag=direct 2>&1 | tail -1
echo "KP2-RNG $(head -c 8192 /dev/hwrng | wc -c)"
wait
for q in $irqs; do echo "KP2-EFF $q $(cat /proc/irq/$q/effective_affinity_list)"; done
cat /proc/interrupts | grep -E "CPU|virtio"
dmesg | grep -i -E "warn|bug|virtio|msi" | grep -v -E "Command line|fpu__init"
echo KP2-DONE
reboot -f
