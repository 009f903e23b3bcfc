# Devices that report Version 3 with the virtio specification's meaning
# (mmvm --virtio-version 3-oasis: version 2's layout, reset completes at
# once, Version reads 3). The project's kernel must refuse them cleanly
# (mainline's "Version 3 not supported!") or drive them as standard, and
# never as the 2019 layout, which it uses only with
# virtio_mmio.layout_2019=1 (not given here).
# Prints: MMVM-OV3 dmesg: <each virtio/virtio-mmio kernel line>
#         MMVM-OV3 virtio_devices=<n> refused=<n> layout2019=<0|1> msi=<n>
dmesg | grep -iE 'virtio|LNRO0005' | sed 's/^/MMVM-OV3 dmesg: /'
n=$(ls /sys/bus/virtio/devices 2>/dev/null | wc -l)
refused=$(dmesg | grep -c 'Version 3 not supported')
l2019=$(cat /sys/module/virtio_mmio/parameters/layout_2019 2>/dev/null || echo -)
msi=$(grep -c vmMSI /proc/interrupts)
echo "MMVM-OV3 virtio_devices=$n refused=$refused layout2019=$l2019 msi=$msi"
# Refused: no virtio device, no MSI; driven as standard would show
# devices (the host checks that nothing touched the 2019 registers).
[ "$n" = 0 ] && [ "$refused" -ge 1 ] && [ "$msi" = 0 ]
