# virtio-blk discard and write zeroes (VIRTIO_BLK_F_DISCARD and
# VIRTIO_BLK_F_WRITE_ZEROES offered), in two boots so that the host can
# measure the image in between (tests/integration/test_blk_discard.sh):
#
# mmvm.blkd=fill: 8 MiB of random data at MiB 8, 24, 40 and 48 of /dev/vda
#   (O_DIRECT, fsync), the sha256 of the one at 24 (which stays);
# mmvm.blkd=trim (the default): the queue limits the kernel took from
#   config space (must be non-zero), then
#     MiB 8:  blkdiscard            -> VIRTIO_BLK_T_DISCARD
#     MiB 40: blkzero (BLKZEROOUT)  -> VIRTIO_BLK_T_WRITE_ZEROES, flags 0
#     MiB 48: blkzero ... unmap     -> VIRTIO_BLK_T_WRITE_ZEROES, unmap
#   and reads 40 and 48 back through the device (O_DIRECT): zeroes.
#   blkzero is guest/initramfs/helpers/blkzero.c, which the host test
#   adds to its initramfs.
# Prints: MMVM-BLKD filled kept_sha256=<hex>
#         MMVM-BLKD discard_max=<bytes> write_zeroes_max=<bytes> gran=<bytes>
#         MMVM-BLKD trimmed zeroed_nonzero=<bytes> unmapped_nonzero=<bytes>
set -e
dev=/dev/vda
mib=1048576
[ -b "$dev" ] || { echo "MMVM-BLKD no $dev"; exit 1; }
phase=trim
for a in $(cat /proc/cmdline); do
	case "$a" in mmvm.blkd=*) phase=${a#mmvm.blkd=} ;; esac
done

# nonzero MIB: how many bytes of the 8 MiB at MIB are not zero, read
# through the device past the page cache.
nonzero() {
	dd if="$dev" bs=1M skip="$1" count=8 iflag=direct 2>/dev/null |
		tr -d '\000' | wc -c
}

case "$phase" in
fill)
	for at in 8 24 40 48; do
		head -c $((8 * mib)) /dev/urandom >/tmp/r
		[ "$at" = 24 ] && kept=$(sha256sum </tmp/r | cut -d' ' -f1)
		dd if=/tmp/r of="$dev" bs=1M seek="$at" oflag=direct \
			conv=fsync 2>/dev/null
	done
	rm -f /tmp/r
	echo "MMVM-BLKD filled kept_sha256=$kept"
	;;
trim)
	q=/sys/block/vda/queue
	dmax=$(cat $q/discard_max_bytes)
	wzmax=$(cat $q/write_zeroes_max_bytes)
	echo "MMVM-BLKD discard_max=$dmax write_zeroes_max=$wzmax" \
		"gran=$(cat $q/discard_granularity)"
	[ "$dmax" -gt 0 ] && [ "$wzmax" -gt 0 ] ||
		{ echo "MMVM-BLKD no discard or write zeroes offered"; exit 1; }
	command -v blkzero >/dev/null ||
		{ echo "MMVM-BLKD no blkzero in this initramfs"; exit 1; }
	blkdiscard -o $((8 * mib)) -l $((8 * mib)) "$dev"
	blkzero "$dev" $((40 * mib)) $((8 * mib))
	blkzero "$dev" $((48 * mib)) $((8 * mib)) unmap
	z=$(nonzero 40) u=$(nonzero 48)
	echo "MMVM-BLKD trimmed zeroed_nonzero=$z unmapped_nonzero=$u"
	[ "$z" = 0 ] && [ "$u" = 0 ]
	;;
*)
	echo "MMVM-BLKD unknown mmvm.blkd=$phase"
	exit 1
	;;
esac
