# The API test's guest (tests/integration/test_api.sh). Prints vda's size
# and first 8 bytes, then (unless mmvm.api=static: a --config-file boot
# that only checks what it got) ticks once a second (the host pauses and
# resumes it) until vda changes size (the host's PATCH /drives), prints
# the new size and first bytes, and ends; with mmvm.api=cad it then
# waits for the host's SendCtrlAltDel instead, which reboots it.
#   MMVM-API ready sectors=<N> head=<8 bytes as text>
#   MMVM-API tick=<n>
#   MMVM-API resized sectors=<N> head=<8 bytes>
dev=/dev/vda
[ -b "$dev" ] || { echo "MMVM-API no $dev"; exit 1; }
head8() { dd if="$dev" bs=512 count=1 iflag=direct 2>/dev/null | head -c 8 | tr -c 'A-Za-z0-9' '.'; }
size=$(cat /sys/block/vda/size)
echo "MMVM-API ready sectors=$size head=$(head8)"
grep -q 'mmvm.api=static' /proc/cmdline && exit 0
n=0
while [ "$n" -lt 240 ]; do
	n=$((n + 1))
	now=$(cat /sys/block/vda/size)
	if [ "$now" != "$size" ]; then
		echo "MMVM-API resized sectors=$now head=$(head8)"
		grep -q 'mmvm.api=cad' /proc/cmdline || exit 0
		echo "MMVM-API waiting for Ctrl+Alt+Del"
		sleep 120
		echo "MMVM-API no Ctrl+Alt+Del seen"
		exit 1
	fi
	echo "MMVM-API tick=$n"
	sleep 1
done
echo "MMVM-API no resize seen"
exit 1
