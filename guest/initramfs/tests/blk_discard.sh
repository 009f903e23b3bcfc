# virtio-blk discard (VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES
# offered): the queue limits the kernel took from config space, then 8 MiB
# of random data at MiB 8 and at MiB 24 of /dev/vda (O_DIRECT), then a
# discard of the first 8 MiB (busybox blkdiscard: BLKDISCARD ->
# VIRTIO_BLK_T_DISCARD). The host checks the image: the first range is a
# hole (reads zeroes, no blocks), the second holds the data.
# Prints: MMVM-BLKD discard_max=<bytes> write_zeroes_max=<bytes> gran=<bytes>
#         MMVM-BLKD kept_sha256=<of the data at MiB 24>
#         MMVM-BLKD discarded
set -e
q=/sys/block/vda/queue
echo "MMVM-BLKD discard_max=$(cat $q/discard_max_bytes)" \
	"write_zeroes_max=$(cat $q/write_zeroes_max_bytes)" \
	"gran=$(cat $q/discard_granularity)"
head -c 8388608 /dev/urandom >/a
head -c 8388608 /dev/urandom >/b
dd if=/a of=/dev/vda bs=1M seek=8 oflag=direct conv=fsync 2>/dev/null
dd if=/b of=/dev/vda bs=1M seek=24 oflag=direct conv=fsync 2>/dev/null
echo "MMVM-BLKD kept_sha256=$(sha256sum </b | cut -d' ' -f1)"
blkdiscard -o 8388608 -l 8388608 /dev/vda
echo "MMVM-BLKD discarded"
