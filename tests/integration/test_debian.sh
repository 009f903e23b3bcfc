#!/usr/bin/env bash
# A whole Debian 12 boots under mmvm: the image guest/debian/build-rootfs.sh
# makes (systemd, udev, Debian's 6.1 kernel and its initramfs-tools initrd),
# its root file system on a virtio-blk disk (virtio-mmio version 2, found by
# the stock kernel through ACPI), 1 vCPU (MMVM_DEBIAN_CPUS), 1 GiB. Checks: the boot reaches
# multi-user.target and the image's mmvm-debian-report.service prints
# "MMVM-DEBIAN state=running" (or degraded: then the failed units are
# listed). The VM is configured and started through the API as an
# orchestrator would (machine-config, boot-source, the root drive,
# InstanceStart: mmvm adds root=/dev/vda rw); once the state line is out,
# Firecracker's SendCtrlAltDel makes systemd shut down and reboot, and
# mmvm exits 0 ("guest rebooted"). The PASS line gives the time from
# mmvm's start to that state line (boot to multi-user.target).
#
# The image is never built here (inside the outer VM there is no network):
# scripts/test builds it on the host; by hand: guest/debian/build-rootfs.sh.
# Without it in the cache the test is skipped. The guest boots a sparse copy,
# so the cached image stays pristine.
#
# Env: MMVM_DEBIAN_TIMEOUT (mmvm --timeout, 600 s), MMVM_DEBIAN_STALL (a
# boot whose console stays silent this long before the state line is
# stopped: 240 s; the test then exits $STALLED_RC, which run-all.sh retries
# once), MMVM_DEBIAN_CONSOLE_LOG (keep the guest's console log there).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

boot_timeout=${MMVM_DEBIAN_TIMEOUT:-600}
stall_s=${MMVM_DEBIAN_STALL:-240}
# 1 vCPU: with 2 the nested harness wedged a vCPU (RCU stalls, its CR3
# past guest memory) in 2 of the last few suite runs.
cpus=${MMVM_DEBIAN_CPUS:-1}

require_files "$MMVM"
require_root
if ! env_lines=$("$MMVM_REPO/guest/debian/build-rootfs.sh" --cached 2>"$MMVM_WORK/cached.err"); then
	skip "no Debian image in the cache: $(tail -n 1 "$MMVM_WORK/cached.err")"
fi
rootfs=$(sed -n 's/^MMVM_DEBIAN_ROOTFS=//p' <<<"$env_lines")
kernel=$(sed -n 's/^MMVM_DEBIAN_KERNEL=//p' <<<"$env_lines")
initrd=$(sed -n 's/^MMVM_DEBIAN_INITRD=//p' <<<"$env_lines")
require_files "$rootfs" "$kernel" "$initrd"
require_kvm

# The guest's console through this filter: the time the state line came.
stamp_state() {
	local line seen=0
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line"
		if [ "$seen" = 0 ] && [[ "$line" == *"MMVM-DEBIAN state="* ]]; then
			echo "$EPOCHREALTIME" >"$MMVM_WORK/state.time"
			seen=1
		fi
	done
}

# copy_image SRC DST: a sparse copy. Over 9p (the outer VM's view of the
# cache) SEEK_DATA finds no holes, so cp would read and scan all of the
# image: copy only the data extents the build listed, when the list is
# of this very image (size and mtime).
copy_image() {
	local src=$1 dst=$2 map=${1%.ext4}.extents off len
	if [ -r "$map" ] &&
	   [ "$(head -n 1 "$map")" = "$(stat -c 'size=%s mtime=%Y' "$src")" ]; then
		copy_how="by its extent list"
		truncate -s "$(stat -c %s "$src")" "$dst" || return 1
		# (no process substitution: the outer VM has no /dev/fd)
		{
			read -r _
			while read -r off len; do
				dd if="$src" of="$dst" bs=4M conv=notrunc status=none \
					iflag=skip_bytes,count_bytes oflag=seek_bytes \
					skip="$off" seek="$off" count="$len" || return 1
			done
		} <"$map"
	else
		copy_how="with cp --sparse=always"
		cp --sparse=always "$src" "$dst"
	fi
}

disk=$MMVM_WORK/rootfs.ext4
t0=$EPOCHREALTIME
if ! copy_image "$rootfs" "$disk"; then
	fail "cannot copy $rootfs to $disk"
	finish
fi
copy_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
say "image $(du -h --apparent-size "$rootfs" | cut -f1) ($(du -h "$rootfs" | cut -f1) used)," \
    "copied $copy_how in $copy_s s; kernel $(basename "$(dirname "$kernel")")/$(basename "$kernel")"

log=$MMVM_WORK/console.log
sock=$MMVM_WORK/api.sock
cmdline="console=ttyS0"
say "booting through the API (--api-sock): machine-config $cpus vCPU(s)," \
    "1024 MiB; boot-source $kernel, $initrd, \"$cmdline\"; drive rootfs" \
    "(root device, read-write) <copy>; InstanceStart (--timeout $boot_timeout)"
t0=$EPOCHREALTIME
: >"$log"
(
	timeout -k 5 $((boot_timeout + 30)) "$MMVM" --api-sock "$sock" \
		--id debian --timeout "$boot_timeout" \
		</dev/null 2>&1 | stamp_state >"$log"
	echo "${PIPESTATUS[0]}" >"$MMVM_WORK/rc"
) &
vm_job=$!
for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
api_ok=1
for call in \
	"/machine-config {\"vcpu_count\": $cpus, \"mem_size_mib\": 1024}" \
	"/boot-source {\"kernel_image_path\": \"$kernel\", \"initrd_path\": \"$initrd\", \"boot_args\": \"$cmdline\"}" \
	"/drives/rootfs {\"drive_id\": \"rootfs\", \"path_on_host\": \"$disk\", \"is_root_device\": true, \"is_read_only\": false}" \
	"/actions {\"action_type\": \"InstanceStart\"}"; do
	read -r path body <<<"$call"
	code=$(api_put "$sock" "$path" "$body" "$MMVM_WORK/api.out")
	if [ "$code" != 204 ]; then
		fail "PUT $path: $code $(head -c 300 "$MMVM_WORK/api.out" 2>/dev/null)"
		api_ok=0
		break
	fi
done
[ "$api_ok" = 1 ] && pass "configured and started through the API (4 requests, each 204)"
# Once the report service has said how the boot went: Firecracker's
# SendCtrlAltDel, which systemd turns into a reboot (ctrl-alt-del.target).
(
	while kill -0 "$vm_job" 2>/dev/null; do
		if [ -s "$MMVM_WORK/state.time" ]; then
			api_put "$sock" /actions \
				'{"action_type": "SendCtrlAltDel"}' >"$MMVM_WORK/cad.code"
			exit 0
		fi
		sleep 0.5
	done
) &
cad_job=$!
stalled=0
watch_progress "$vm_job" "$log" "$stall_s" "$MMVM_WORK/state.time" || stalled=1
rc=$(cat "$MMVM_WORK/rc" 2>/dev/null || echo 143)
t1=$EPOCHREALTIME
kill "$cad_job" 2>/dev/null
wait "$cad_job" 2>/dev/null
[ -n "${MMVM_DEBIAN_CONSOLE_LOG:-}" ] && cp "$log" "$MMVM_DEBIAN_CONSOLE_LOG"
total_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

# "MMVM-DEBIAN state=S uptime=U kernel=K host=H" (CR-terminated on a tty).
state_line=$(grep -a -m1 'MMVM-DEBIAN state=' "$log" | tr -d '\r' |
	sed 's/^.*\(MMVM-DEBIAN state=\)/\1/')
state=$(sed -n 's/^MMVM-DEBIAN state=\([^ ]*\).*/\1/p' <<<"$state_line")
uptime=$(sed -n 's/.* uptime=\([^ ]*\).*/\1/p' <<<"$state_line")
kver=$(sed -n 's/.* kernel=\([^ ]*\).*/\1/p' <<<"$state_line")
startup=$(grep -a -m1 'MMVM-DEBIAN Startup finished' "$log" | tr -d '\r' |
	sed 's/^.*MMVM-DEBIAN Startup finished in //')
failed_units=$(grep -a 'MMVM-DEBIAN failed: ' "$log" | tr -d '\r' |
	sed 's/^.*MMVM-DEBIAN failed: //')
slowest=$(grep -a 'MMVM-DEBIAN slowest: ' "$log" | tr -d '\r' |
	sed 's/^.*MMVM-DEBIAN slowest: //' | paste -sd, - | sed 's/,/, /g')

case "$state" in
running|degraded)
	boot_s=$(awk -v a="$t0" -v b="$(cat "$MMVM_WORK/state.time")" \
		'BEGIN { printf "%.1f", b - a }')
	pass "Debian 12 ($kver) reached multi-user.target: state=$state" \
	     "$boot_s s after mmvm started (guest uptime ${uptime:-?} s;" \
	     "systemd: ${startup:-?})"
	[ -n "$slowest" ] && say "slowest units (systemd-analyze blame): $slowest"
	if [ "$state" = degraded ]; then
		say "degraded: failed units:"
		if [ -n "$failed_units" ]; then
			printf '%s\n' "$failed_units" | sed 's/^/    | /'
		else
			echo "    | (none listed)"
		fi
	fi ;;
"")
	if [ "$stalled" = 1 ]; then
		fail "the boot stalled: no console output for $stall_s s, or an" \
		     "RCU stall report, and no MMVM-DEBIAN state line" \
		     "(stopped after $total_s s)"
		show_log "$log" 40
		echo "$lib_test: $lib_passed passed, $lib_failed failed (stalled)"
		exit "$STALLED_RC"
	fi
	fail "no MMVM-DEBIAN state line on the console (mmvm exit $rc after $total_s s)"
	# Point at the usual suspects.
	grep -a -m3 -E 'Gave up waiting for root|ALERT!|Kernel panic|unable to mount|emergency mode' \
		"$log" | tr -d '\r' | sed 's/^/    ! /'
	show_log "$log" 40 ;;
*)
	fail "boot ended in state=$state, want running or degraded"
	[ -n "$failed_units" ] && printf '%s\n' "$failed_units" | sed 's/^/    | failed: /'
	show_log "$log" 40 ;;
esac

# mmvm's line may follow the guest's CR on the same line.
cad_code=$(cat "$MMVM_WORK/cad.code" 2>/dev/null)
off_line=$(tr -d '\r' <"$log" | grep -a -o -m1 'mmvm: guest rebooted.*')
if [ "$rc" = 0 ] && [ "$cad_code" = 204 ] && [ -n "$off_line" ]; then
	pass "SendCtrlAltDel (204): systemd rebooted the guest, mmvm exit 0, '$off_line', $total_s s in all"
else
	fail "mmvm exited $rc after $total_s s, SendCtrlAltDel answered '${cad_code}': want 204, then exit 0 after 'mmvm: guest rebooted'"
	[ -n "$state" ] && show_log "$log" 30
fi
finish
