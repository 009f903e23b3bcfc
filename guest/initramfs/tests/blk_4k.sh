# virtio-blk ,direct over a host device with 4 KiB logical blocks (issue
# 26): mmvm must advertise blk_size 4096, so the guest's block layer
# sends only 4 KiB-aligned I/O, and 512-byte-granular I/O from a program
# still works (the guest's page cache does the read-modify-write).
#   7 sectors of 512 bytes written at sector 3 (bs=512, page cache,
#   fsync), caches dropped, read back with bs=512: the same bytes.
# Also reads 4 KiB of /dev/vdb and /dev/vdc if they exist (the host's
# lock checks: a ,ro disk read-locked by another process, a lock=off
# disk write-locked by another).
# Prints: MMVM-BLK4K lbs=<bytes> written_sha256=<hex> read_sha256=<hex>
#           vdb=<sha256 of its first 4 KiB|none> vdc=<...|none>
dev=/dev/vda
[ -b "$dev" ] || { echo "MMVM-BLK4K no $dev"; exit 1; }
lbs=$(cat /sys/block/vda/queue/logical_block_size)
head -c 3584 /dev/urandom >/tmp/p
dd if=/tmp/p of="$dev" bs=512 seek=3 count=7 conv=fsync,notrunc 2>/dev/null ||
	echo "MMVM-BLK4K write failed"
echo 3 >/proc/sys/vm/drop_caches
want=$(sha256sum </tmp/p | cut -d' ' -f1)
got=$(dd if="$dev" bs=512 skip=3 count=7 2>/dev/null | sha256sum | cut -d' ' -f1)
first4k() {
	[ -b "$1" ] || { echo none; return; }
	dd if="$1" bs=4096 count=1 2>/dev/null | sha256sum | cut -d' ' -f1
}
echo "MMVM-BLK4K lbs=$lbs written_sha256=$want read_sha256=$got" \
	"vdb=$(first4k /dev/vdb) vdc=$(first4k /dev/vdc)"
[ "$lbs" = 4096 ] && [ "$want" = "$got" ]
