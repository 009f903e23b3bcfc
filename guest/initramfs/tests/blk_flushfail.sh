# virtio-blk write-error latch (issue 26): the host test puts the image on
# a device-mapper device whose MiB 16..24 is an "error" target, so the
# host's write-back of what lands there fails.
#   1. 1 MiB written at MiB 16 through the page cache, fsync: the writes
#      complete (host page cache), the flush fails (host fdatasync: EIO);
#   2. then N times a 4 KiB write at the start of the disk (good storage)
#      and fsync: every one of these flushes must fail too, since the
#      host's page cache has already dropped the data of step 1 (Linux
#      reports a write-back error once). Before the latch they said OK.
# Prints: MMVM-BLKFF first rc=<dd status>
#         MMVM-BLKFF later i=<n> rc=<dd status>      (N lines)
#         MMVM-BLKFF done first_rc=<rc> later_failed=<k> of=<N>
dev=/dev/vda
n=6
[ -b "$dev" ] || { echo "MMVM-BLKFF no $dev"; exit 1; }
dd if=/dev/urandom of="$dev" bs=1M count=1 seek=16 conv=fsync 2>/dev/null
first=$?
echo "MMVM-BLKFF first rc=$first"
failed=0
for i in $(seq 1 $n); do
	dd if=/dev/urandom of="$dev" bs=4096 count=1 seek="$i" conv=fsync \
		2>/dev/null
	rc=$?
	echo "MMVM-BLKFF later i=$i rc=$rc"
	[ "$rc" != 0 ] && failed=$((failed + 1))
done
echo "MMVM-BLKFF done first_rc=$first later_failed=$failed of=$n"
[ "$first" != 0 ] && [ "$failed" = "$n" ]
