# virtio-blk, second boot: re-read what blk_write.sh left on /dev/vda.
# Prints: MMVM-BLK file_sha256=<hex> raw_sha256=<hex>
set -e
dev=/dev/vda
[ -b "$dev" ] || { echo "MMVM-BLK no $dev"; exit 1; }
mount -t ext2 -o ro "$dev" /mnt
file_sum=$(sha256sum /mnt/data.bin | cut -d' ' -f1)
umount /mnt
raw_sum=$(dd if="$dev" bs=1M skip=62 count=1 iflag=direct 2>/dev/null |
	sha256sum | cut -d' ' -f1)
echo "MMVM-BLK file_sha256=$file_sum raw_sha256=$raw_sum"
