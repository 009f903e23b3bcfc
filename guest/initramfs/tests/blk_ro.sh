# virtio-blk with ,ro: the disk is read-only to the guest and reads work.
# Prints: MMVM-BLK ro=<0|1> read_sha256=<hex> write=<refused|accepted>
#           discard_max=<bytes> write_zeroes_max=<bytes> (0: a read-only
#           disk is offered neither discard nor write zeroes)
dev=/dev/vda
[ -b "$dev" ] || { echo "MMVM-BLK no $dev"; exit 1; }
ro=$(cat /sys/block/vda/ro)
sum=$(dd if="$dev" bs=1M count=1 iflag=direct 2>/dev/null | sha256sum |
	cut -d' ' -f1)
if dd if=/dev/zero of="$dev" bs=4096 count=1 oflag=direct 2>/dev/null; then
	write=accepted
else
	write=refused
fi
q=/sys/block/vda/queue
echo "MMVM-BLK ro=$ro read_sha256=$sum write=$write" \
	"discard_max=$(cat $q/discard_max_bytes)" \
	"write_zeroes_max=$(cat $q/write_zeroes_max_bytes)"
[ "$ro" = 1 ] && [ "$write" = refused ]
