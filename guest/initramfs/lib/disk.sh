# Shell functions for guest tests that unbind and rebind disks
# (teardown.sh, reset_load.sh); installed as /lib/mmvm/disk.sh, sourced.

# devs DISK: the virtio device (vdev) and the platform device (pdev)
# behind /dev/DISK, as they are named now.
devs() {
	local p
	p=$(readlink -f "/sys/block/$1/device")
	vdev=$(basename "$p")
	pdev=$(basename "$(dirname "$p")")
}

# wait_disk DISK: until /dev/DISK is back with its device (10 s at most;
# status 1 if not).
wait_disk() {
	local i=0
	while [ ! -b "/dev/$1" ] || [ ! -e "/sys/block/$1/device" ]; do
		i=$((i + 1))
		[ "$i" -gt 100 ] && return 1
		sleep 0.1
	done
}
