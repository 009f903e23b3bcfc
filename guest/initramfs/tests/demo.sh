# Default guest test: show what the guest sees.
echo "== uname -a"; uname -a
echo "== nproc"; nproc
echo "== /proc/cmdline"; cat /proc/cmdline
echo "== /proc/interrupts"; cat /proc/interrupts
echo "== free"; free
echo "== virtio devices"
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d" ] || { echo "(none)"; break; }
	echo "$(basename "$d") device=$(cat "$d/device") vendor=$(cat "$d/vendor")"
done
