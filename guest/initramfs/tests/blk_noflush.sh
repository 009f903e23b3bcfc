# virtio-blk with a driver that does not accept VIRTIO_BLK_F_FLUSH (issue
# 26): the guest's virtio_blk is unbound, feature bit 9 filtered through
# debugfs (CONFIG_VIRTIO_DEBUG: /sys/kernel/debug/virtio/<dev>/
# filter_feature_add) and bound again; the block layer must then see a
# write-through disk, and the host must make every write stable before
# completing it (mmvm counts them: blk_writes_through). Then 8 writes of
# 4 KiB at 1 MiB with O_DIRECT (one request each), and the guest waits
# (sleeps) so that the host can try a second mmvm on the image meanwhile
# and end this one with SIGTERM.
# Prints: MMVM-BLKNF dev=<virtioN> flush_before=<0|1> flush=<0|1>
#           write_cache=<write_back|write_through>
#         MMVM-BLKNF written writes=8 sha256=<hex of the 32 KiB>
#         MMVM-BLKNF waiting
dev=/dev/vda
[ -b "$dev" ] || { echo "MMVM-BLKNF no $dev"; exit 1; }
mount -t debugfs none /sys/kernel/debug 2>/dev/null
vd=$(basename "$(readlink -f /sys/block/vda/device)")
dbg=/sys/kernel/debug/virtio/$vd
drv=/sys/bus/virtio/drivers/virtio_blk
[ -e "$dbg/filter_feature_add" ] ||
	{ echo "MMVM-BLKNF no $dbg/filter_feature_add (CONFIG_VIRTIO_DEBUG?)"; exit 1; }
before=$(cut -c10 "/sys/bus/virtio/devices/$vd/features")
echo "$vd" >"$drv/unbind" || { echo "MMVM-BLKNF unbind failed"; exit 1; }
echo 9 >"$dbg/filter_feature_add" ||
	{ echo "MMVM-BLKNF filter failed"; exit 1; }
echo "$vd" >"$drv/bind" || { echo "MMVM-BLKNF bind failed"; exit 1; }
i=0
while [ ! -b "$dev" ] && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
after=$(cut -c10 "/sys/bus/virtio/devices/$vd/features")
wc=$(cat /sys/block/vda/queue/write_cache | tr ' ' _)
echo "MMVM-BLKNF dev=$vd flush_before=$before flush=$after write_cache=$wc"
[ "$after" = 0 ] && [ "$wc" = write_through ] || exit 1
head -c 32768 /dev/urandom >/tmp/w
for i in 0 1 2 3 4 5 6 7; do
	dd if=/tmp/w of="$dev" bs=4096 count=1 skip="$i" seek=$((256 + i)) \
		oflag=direct 2>/dev/null || { echo "MMVM-BLKNF write $i failed"; exit 1; }
done
echo "MMVM-BLKNF written writes=8 sha256=$(sha256sum </tmp/w | cut -d' ' -f1)"
echo "MMVM-BLKNF waiting"
sleep 120
