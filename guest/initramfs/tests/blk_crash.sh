# The guest half of the crash-consistency test
# (tests/integration/test_blk_crash.sh): /dev/vda holds an ext4 the host
# made, under a device-mapper log-writes target that records every write
# and flush mmvm sends to it. Mounts it and, for k = 1..N (mmvm.crash_n=N,
# default 16), appends record k to /mnt/records with crashrec (a 4 KiB
# block, write + fsync; it prints "MMVM-CRASH acked k" only after fsync
# returned 0, i.e. after the flush that made k durable completed) and
# writes 8 KiB to /mnt/noise without fsync, so that the log also holds
# writes no flush covered yet. Then unmounts. crashrec is
# guest/initramfs/helpers/crashrec.c, which the host test adds to its
# initramfs.
# Prints: MMVM-CRASH start n=<N>
#         MMVM-CRASH acked <k>            (N times)
#         MMVM-CRASH done n=<N>
set -e
dev=/dev/vda
n=16
for a in $(cat /proc/cmdline); do
	case "$a" in mmvm.crash_n=*) n=${a#mmvm.crash_n=} ;; esac
done
[ -b "$dev" ] || { echo "MMVM-CRASH no $dev"; exit 1; }
command -v crashrec >/dev/null ||
	{ echo "MMVM-CRASH no crashrec in this initramfs"; exit 1; }

mount -t ext4 "$dev" /mnt
echo "MMVM-CRASH start n=$n"
k=1
while [ "$k" -le "$n" ]; do
	crashrec append /mnt/records "$k"
	dd if=/dev/urandom of=/mnt/noise bs=4k count=2 seek=$((2 * k)) \
		conv=notrunc 2>/dev/null
	k=$((k + 1))
done
umount /mnt
echo "MMVM-CRASH done n=$n"
