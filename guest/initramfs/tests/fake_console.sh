# A guest process writes the lines a kernel prints when it powers off and
# when it panics. They must not end the VM: only the platform devices
# (ACPI S5, pvpanic) do. Prints MMVM-FAKE done=1 afterwards, then returns
# so that /init powers off for real.
for tty in /dev/ttyS0 /dev/console; do
	[ -w "$tty" ] || continue
	echo "[    1.000000] Kernel panic - not syncing: fake, from a guest process" >"$tty"
	echo "---[ end Kernel panic - not syncing: fake ]---" >"$tty"
	echo "[    1.000001] reboot: Power down" >"$tty"
done
sleep 2
echo "MMVM-FAKE done=1"
