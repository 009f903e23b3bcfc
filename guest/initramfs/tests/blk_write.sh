# virtio-blk, first boot: ext2 on the first 60 MiB of /dev/vda with an 8 MiB
# random file, plus a raw 1 MiB random pattern at MiB 62 (outside the
# filesystem), so the host can check both in the image afterwards.
# Prints: MMVM-BLK size_sectors=<n> serial=<id> ro=<0|1>
#           discard_max=<bytes> write_zeroes_max=<bytes>
#         MMVM-BLK file_sha256=<hex> raw_sha256=<hex>
set -e
dev=/dev/vda
[ -b "$dev" ] || { echo "MMVM-BLK no $dev"; ls /sys/block; exit 1; }
echo "MMVM-BLK size_sectors=$(cat /sys/block/vda/size)" \
	"serial=$(cat /sys/block/vda/serial 2>/dev/null)" \
	"ro=$(cat /sys/block/vda/ro)" \
	"discard_max=$(cat /sys/block/vda/queue/discard_max_bytes)" \
	"write_zeroes_max=$(cat /sys/block/vda/queue/write_zeroes_max_bytes)"

mke2fs -F -q "$dev" 61440 >/dev/null
mount -t ext2 "$dev" /mnt
head -c 8388608 /dev/urandom >/mnt/data.bin
file_sum=$(sha256sum /mnt/data.bin | cut -d' ' -f1)
sync
umount /mnt

head -c 1048576 /dev/urandom >/tmp/raw.bin
raw_sum=$(sha256sum /tmp/raw.bin | cut -d' ' -f1)
dd if=/tmp/raw.bin of="$dev" bs=1M seek=62 conv=fsync 2>/dev/null
# Read it back through the device, bypassing the page cache.
back_sum=$(dd if="$dev" bs=1M skip=62 count=1 iflag=direct 2>/dev/null |
	sha256sum | cut -d' ' -f1)
[ "$back_sum" = "$raw_sum" ] || { echo "MMVM-BLK raw readback differs"; exit 1; }
echo "MMVM-BLK file_sha256=$file_sum raw_sha256=$raw_sum"
