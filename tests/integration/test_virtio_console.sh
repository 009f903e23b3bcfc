#!/usr/bin/env bash
# virtio-console end to end, for the modes 2plain, 2 and 3 (lib.sh
# transport_opts): boots with --console virtio and console=ttyS0 (kernel
# and init output stay on the serial port); the guest test "console"
# (guest/initramfs/tests/console.sh) runs a shell on /dev/hvc0. Through
# mmvm's stdin we send `echo MARKER-$((6*7))`, wait for MARKER-42 on mmvm's
# stdout (the guest's arithmetic, so not our own echo), then a longer
# command whose output must come back whole, then `exit`, after which the
# guest powers off.
#
# Runs where KVM works:  scripts/mmvm-host tests/integration/test_virtio_console.sh
# Env: MMVM_KERNEL, MMVM_INITRD, MMVM_VERSIONS (default "2plain 2 3": lib.sh transport_opts),
# MMVM_CONSOLE_LINES (default 300).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -euo pipefail

mmvm=$MMVM kernel=$MMVM_KERNEL initrd=$MMVM_INITRD
versions=${MMVM_VERSIONS:-2plain 2 3}
lines=${MMVM_CONSOLE_LINES:-300}
work=$MMVM_WORK
mmvm_pid=

cleanup() {
	[ -n "$mmvm_pid" ] && kill "$mmvm_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

require_files "$mmvm" "$kernel" "$initrd"
require_kvm

# send LINE: writes LINE to mmvm's stdin. mmvm may have exited already (the
# guest died): then the write fails with EPIPE instead of killing this
# script, so that what mmvm said is still shown below.
trap '' PIPE
send() {
	printf '%s\n' "$1" >&3 2>/dev/null || say "  mmvm's stdin is closed (mmvm exited?)"
}

# wait_for LOG PATTERN SECONDS: true once LOG has a line matching PATTERN;
# false at the deadline or when mmvm has exited without it.
wait_for() {
	local i=0
	while [ "$i" -lt $(($3 * 5)) ]; do
		grep -qE "$2" "$1" && return 0
		kill -0 "$mmvm_pid" 2>/dev/null || { grep -qE "$2" "$1"; return; }
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

for v in $versions; do
	transport_opts "$v" || { fail "unknown mode $v"; continue; }
	vopt=("${TRANSPORT_OPTS[@]}")
	say "virtio-mmio $v"
	log=$work/$v.log
	ok=1
	rm -f "$work/in"
	mkfifo "$work/in"

	t0=$(date +%s.%N)
	"$mmvm" --kernel "$kernel" --initrd "$initrd" --mem 256M \
		--cmdline "console=ttyS0 quiet mmvm.test=console" \
		--console virtio --timeout 300 --stats "$work/$v.stats" \
		"${vopt[@]}" <"$work/in" >"$log" 2>&1 &
	mmvm_pid=$!
	exec 3>"$work/in"	# mmvm's stdin, held open until we are done

	if wait_for "$log" "MMVM-CONSOLE ready" 240; then
		t1=$(date +%s.%N)
		send 'echo MARKER-$((6*7))'
		if wait_for "$log" "MARKER-42" 60; then
			say "  ok: MARKER-42 came back" \
				"$(echo "$(date +%s.%N) - $t1" | bc) s after the command"
		else
			fail "$v: no MARKER-42"; ok=0
		fi
		# Numbered lines: every line of a longer answer arrives, in
		# order. (Each is a guest write, a kick and an interrupt: under
		# an emulated CPU, a few hundred already take seconds.)
		send "i=0; while [ \$i -lt $lines ]; do echo \"LINE-\$i\"; i=\$((i+1)); done; echo SEQ-DONE"
		if wait_for "$log" "^SEQ-DONE" 120 &&
		   [ "$(grep -oE '^LINE-[0-9]+' "$log" | tr '\n' ' ')" = \
		     "$(seq -f 'LINE-%g' 0 $((lines - 1)) | tr '\n' ' ')" ]; then
			say "  ok: $lines lines of output intact and in order"
		else
			fail "$v: long output: $(grep -cE '^LINE-[0-9]+' "$log") of $lines lines"
			ok=0
		fi
		send 'exit 0'
	else
		fail "$v: guest never said MMVM-CONSOLE ready"; ok=0
	fi
	exec 3>&-

	rc=0
	wait "$mmvm_pid" || rc=$?
	mmvm_pid=
	say "  mmvm exit $rc, $(echo "$(date +%s.%N) - $t0" | bc) s in all"
	if [ "$rc" != 0 ] || ! grep -q "MMVM-TEST-END name=console rc=0" "$log"; then
		fail "$v: guest test"; ok=0
		grep -q "Version 3 not supported" "$log" &&
			say "  (the guest kernel lacks the virtio-mmio v3 patches)"
		sed 's/^/    | /' "$log" | tail -n 40
	fi
	grep -E "^console0\.(queue_notify_exits|irqs_legacy|irqs_msi_[0-9]+|notifies_[01]|console_[a-z_]+) " \
		"$work/$v.stats" 2>/dev/null | sed 's/^/    stats: /' || true
	n=$(awk '$1 == "console0.console_out_bytes" { print $2 }' "$work/$v.stats" 2>/dev/null)
	if [ -z "$n" ] || [ "$n" -le 0 ]; then
		fail "$v: --stats console0.console_out_bytes = '${n}', want > 0"
		ok=0
	fi
	[ "$ok" = 1 ] && pass "virtio-mmio $v"
done

finish
