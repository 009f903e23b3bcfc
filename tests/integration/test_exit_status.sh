#!/usr/bin/env bash
# How a run ends, as mmvm --help documents it: guest power-off and reboot
# exit 0, a guest panic 2, a triple fault 3, --timeout 124, SIGTERM 130,
# each with its one stderr line; and --stats writes KVM's exit counters.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
require_kvm
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT:-300}

log=$MMVM_WORK/poweroff.log
run_guest "$log" demo --stats "$MMVM_WORK/stats"
check_exit "power off" "$log" 0 "guest powered off (ACPI S5)"
if grep -q "^mmvm: boot-to-init [0-9]* ms" "$log" && grep -q "^mmvm: ran " "$log"; then
	pass "timing lines: $(grep -m1 '^mmvm: boot-to-init' "$log")"
else
	fail "no 'mmvm: boot-to-init N ms' / 'mmvm: ran N s' lines"
fi
exits=$(awk '$1 == "vcpu.exits" { print $2 }' "$MMVM_WORK/stats" 2>/dev/null)
io=$(awk '$1 == "vcpu.io_exits" { print $2 }' "$MMVM_WORK/stats" 2>/dev/null)
if [ "${exits:-0}" -gt 0 ] && [ "${io:-0}" -gt 0 ]; then
	pass "--stats: vcpu.exits=$exits vcpu.io_exits=$io"
else
	fail "--stats: no vcpu.exits / vcpu.io_exits in $MMVM_WORK/stats"
fi

# The kernel runs init's argv after "--": busybox reboot -f as PID 1.
log=$MMVM_WORK/reboot.log
GUEST_CMDLINE_EXTRA="rdinit=/bin/reboot -- -f" run_guest "$log" reboot
check_exit "reboot" "$log" 0 "guest rebooted (ACPI reset register)"

log=$MMVM_WORK/panic.log
GUEST_CMDLINE_EXTRA="rdinit=/nonexistent init=/nonexistent" run_guest "$log" panic
check_exit "panic" "$log" 2 "guest panicked (pvpanic)"

# panic=-1: the kernel reboots at once after the panic; still a panic.
log=$MMVM_WORK/panic-reboot.log
GUEST_CMDLINE_EXTRA="rdinit=/nonexistent init=/nonexistent panic=-1" run_guest "$log" panic
check_exit "panic, then reboot" "$log" 2 "guest panicked"

# Console text is the guest's to write: a process printing the kernel's
# panic and power-down lines does not end the run.
log=$MMVM_WORK/fake.log
run_guest "$log" fake_console
check_exit "fake panic and power-down lines" "$log" 0 "guest powered off (ACPI S5)"
if grep -q "MMVM-FAKE done=1" "$log"; then
	pass "the VM outlived the fake console lines"
else
	fail "the VM ended at the fake console lines"
	show_log "$log"
fi

# Without ACPI: devices from the command line, reboot through the i8042.
log=$MMVM_WORK/noacpi.log
GUEST_CMDLINE_EXTRA="mmvm.end=reboot" run_guest "$log" demo --no-acpi --rng
check_exit "--no-acpi, reboot" "$log" 0 "guest rebooted (i8042)"
if grep -q 'device=0x0004' "$log" && grep -q 'virtio_mmio.device=' "$log"; then
	pass "--no-acpi: the rng found through virtio_mmio.device="
else
	fail "--no-acpi: no virtio device, or no virtio_mmio.device= entry"
fi

log=$MMVM_WORK/timeout.log
GUEST_CMDLINE_EXTRA="rdinit=/bin/sleep -- 1000" run_guest "$log" timeout --timeout 10
check_exit "timeout" "$log" 124 "timeout"
if grep -q "^mmvm: vcpu 0: RIP 0x" "$log"; then
	pass "timeout: vCPU state dumped ($(grep -m1 '^mmvm: vcpu 0: RIP' "$log" | cut -c1-60)...)"
else
	fail "timeout: no 'mmvm: vcpu 0: RIP ...' line"
fi

# Console output into a pipe nobody reads (4 KiB, so the boot log fills
# it and the vCPU blocks in write()): --timeout must still end the run.
log=$MMVM_WORK/stuck-stdout.log
t0=$(date +%s.%N)
RUN_GUEST_RC=$(python3 - "$MMVM" --kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
	--cmdline "console=ttyS0 rdinit=/bin/sleep -- 1000" --timeout 10 \
	2>"$log" <<'PY'
import fcntl, os, subprocess, sys
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=w)
os.close(w)
try:
    print(p.wait(timeout=120))
except subprocess.TimeoutExpired:
    p.kill()
    print("hung")
PY
)
RUN_GUEST_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check_exit "timeout, stdout a full pipe" "$log" 124 "timeout"

# A minimal "bzImage" whose 64-bit entry is ud2: with no IDT the #UD
# becomes a triple fault.
bz=$MMVM_WORK/ud2.bz
put() { # offset hex-bytes...
	local off=$1; shift
	printf "$(printf '\\x%s' "$@")" |
		dd of="$bz" bs=1 seek=$((off)) conv=notrunc status=none
}
head -c $((5 * 512)) /dev/zero >"$bz"
for _ in $(seq 2048); do printf '\x0f\x0b'; done >>"$bz"
put 0x1f1 04; put 0x1f4 00 01 00 00; put 0x1fe 55 aa; put 0x200 eb 6a
put 0x202 48 64 72 53; put 0x206 0f 02; put 0x211 01
put 0x214 00 00 10 00; put 0x22c ff ff ff 7f; put 0x230 00 00 20 00
put 0x236 01 00; put 0x238 ff 07 00 00; put 0x258 00 00 00 01 00 00 00 00
put 0x260 00 00 10 00
log=$MMVM_WORK/ud2.log
RUN_GUEST_RC=0
timeout 60 "$MMVM" --kernel "$bz" </dev/null >"$log" 2>&1 || RUN_GUEST_RC=$?
RUN_GUEST_SECONDS=-
check_exit "triple fault" "$log" 3 "vcpu 0: triple fault"

log=$MMVM_WORK/sigterm.log
"$MMVM" --kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
	--cmdline "console=ttyS0 rdinit=/bin/sleep -- 1000" </dev/null >"$log" 2>&1 &
pid=$!
sleep 5
kill -TERM "$pid"
RUN_GUEST_RC=0
wait "$pid" || RUN_GUEST_RC=$?
check_exit "SIGTERM" "$log" 130 "interrupted by signal 15"
finish
