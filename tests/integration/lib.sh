# Helpers for integration tests. Source it from a test script:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Paths (each overridable from the environment):
#   MMVM_REPO    the repo root
#   MMVM         the VMM binary          (build/mmvm)
#   MMVM_KERNEL  the guest kernel        (build/guest/bzImage)
#   MMVM_INITRD  the guest initramfs     (build/guest/initramfs.cpio.gz)
#   MMVM_WORK    a scratch dir, removed at exit (under $TMPDIR or /tmp)
#
# Functions:
#   require_kvm / require_root / require_files FILE...   exit 77 (skipped)
#                                   or 1 with a clear line when unmet
#   run_guest LOG TEST [MMVM-OPTION...]
#       boots the guest with mmvm.test=TEST (guest/initramfs/tests/TEST.sh),
#       the kernel and initrd above and the options given; the console goes
#       to LOG. Kernel command line: "console=ttyS0 mmvm.test=TEST" plus
#       $GUEST_CMDLINE_EXTRA. Bounded by $RUN_GUEST_TIMEOUT seconds (120).
#       Returns mmvm's exit status (124 on timeout); also sets RUN_GUEST_RC
#       and RUN_GUEST_SECONDS.
#   check_exit NAME LOG WANT_RC PATTERN
#                           pass if the last run_guest exited WANT_RC and LOG
#                           has a line "mmvm: PATTERN...", else fail and show
#                           the log
#   initrd_with_helpers NAME...
#                           builds guest/initramfs/helpers/NAME.c (static)
#                           into $MMVM_WORK/NAME and an initramfs with each
#                           at /bin/NAME; MMVM_INITRD points at it. Returns
#                           1 after a FAIL line if a build failed
#   guest_field LOG KEY     a field of the guest's "MMVM-GUEST k=v ..." line
#   guest_test_rc LOG       the guest test's status (MMVM-TEST-END rc=N)
#   show_log LOG [N]        the last N (30) lines of LOG, indented
#   pass MSG / fail MSG     print "PASS <test>: MSG" / "FAIL <test>: MSG" and
#                           count; say MSG prints "<test>: MSG"
#   finish                  prints "<test>: N passed, N failed" and exits 0
#                           only if something passed and nothing failed
# A test script exits 0 (pass), 77 (skipped) or anything else (failed);
# tests/integration/run-all.sh runs them all and sums up.

MMVM_REPO=${MMVM_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MMVM=${MMVM:-$MMVM_REPO/build/mmvm}
MMVM_KERNEL=${MMVM_KERNEL:-$MMVM_REPO/build/guest/bzImage}
MMVM_INITRD=${MMVM_INITRD:-$MMVM_REPO/build/guest/initramfs.cpio.gz}
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT:-120}
GUEST_CMDLINE_EXTRA=${GUEST_CMDLINE_EXTRA:-}

lib_test=$(basename "${0%.sh}")
lib_passed=0
lib_failed=0
MMVM_WORK=$(mktemp -d "${TMPDIR:-/tmp}/mmvm-$lib_test.XXXXXX")
trap 'rm -rf "$MMVM_WORK"' EXIT

say() { echo "$lib_test: $*"; }
pass() { echo "PASS $lib_test: $*"; lib_passed=$((lib_passed + 1)); }
fail() { echo "FAIL $lib_test: $*"; lib_failed=$((lib_failed + 1)); }

skip() { echo "SKIP $lib_test: $*"; exit 77; }

# mmvm's own judgement of /dev/kvm (capabilities and a probe guest), so a
# KVM that opens but cannot run the guest (kvm_pvm) is not mistaken for one.
require_kvm() {
	local why
	why=$("$MMVM" --check-kvm 2>&1) ||
		skip "${why%%; *} (run it under scripts/mmvm-host)"
}

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

require_files() {
	local f
	for f in "$@"; do
		[ -r "$f" ] || { echo "FAIL $lib_test: missing $f (build it first)"; exit 1; }
	done
}

run_guest() {
	local log=$1 test=$2 t0 t1
	shift 2
	t0=$(date +%s.%N)
	RUN_GUEST_RC=0
	timeout -k 5 "$RUN_GUEST_TIMEOUT" "$MMVM" \
		--kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
		--cmdline "console=ttyS0 mmvm.test=$test${GUEST_CMDLINE_EXTRA:+ $GUEST_CMDLINE_EXTRA}" \
		"$@" </dev/null >"$log" 2>&1 || RUN_GUEST_RC=$?
	t1=$(date +%s.%N)
	RUN_GUEST_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	[ "$RUN_GUEST_RC" = 124 ] &&
		echo "$lib_test: guest '$test' timed out after $RUN_GUEST_TIMEOUT s" >>"$log"
	return "$RUN_GUEST_RC"
}

check_exit() {
	local name=$1 log=$2 want=$3 pattern=$4
	if [ "$RUN_GUEST_RC" = "$want" ] && grep -q "^mmvm: $pattern" "$log"; then
		pass "$name: exit $want, '$(grep -m1 "^mmvm: $pattern" "$log" | tr -d '\r')' ($RUN_GUEST_SECONDS s)"
	else
		fail "$name: exit $RUN_GUEST_RC (want $want), no 'mmvm: $pattern' line"
		show_log "$log"
	fi
}

# Fields end at a space or CR: mmvm's own stderr lines may land right
# after the guest's CR, before its LF.
guest_field() {
	awk -v key="$2" '/MMVM-GUEST / {
		n = split($0, f, /[ \r]+/)
		for (i = 1; i <= n; i++)
			if (index(f[i], key "=") == 1) {
				print substr(f[i], length(key) + 2); exit
			}
	}' "$1"
}

guest_test_rc() {
	sed -n 's/^.*MMVM-TEST-END name=[^ ]* rc=\([0-9][0-9]*\).*$/\1/p' "$1" | head -n 1
}

# transport_opts MODE: the mmvm options of one virtio-mmio mode, in the
# array TRANSPORT_OPTS; false for an unknown mode. Modes: 2 (the default:
# Version 2 offering the MSI and doorbell feature bits, docs/virtio-mmio-
# msi.md; a stock kernel uses the line, the patched one MSI), 2plain
# (neither bit: virtio 1.2 exactly), 2nomsi, 2nodb, 3 (the 2019 layout,
# docs/virtio-mmio-v3.md), 3nomsi, 3nodb.
transport_opts() {
	case "$1" in
	2) TRANSPORT_OPTS=(--virtio-version 2) ;;
	2plain) TRANSPORT_OPTS=(--virtio-version 2 --no-msi --no-doorbells) ;;
	2nomsi|3nomsi) TRANSPORT_OPTS=(--virtio-version "${1:0:1}" --no-msi) ;;
	2nodb|3nodb) TRANSPORT_OPTS=(--virtio-version "${1:0:1}" --no-doorbells) ;;
	3) TRANSPORT_OPTS=(--virtio-version 3) ;;
	*) TRANSPORT_OPTS=(); return 1 ;;
	esac
}

# A guest that stops printing (seen under the nested harness: a kernel
# wedged early in boot, the emulated SVM below, docs/nested-kvm.md) would
# otherwise hold a test until its full --timeout.
# watch_progress PID LOG SECS DONE: waits for the background job PID; if LOG
# does not grow for SECS seconds while the file DONE does not exist yet, or
# shows the guest kernel's RCU stall report (a vCPU that stopped running:
# seen under the nested harness with a vCPU whose CR3 pointed past guest
# memory), stops the job's processes (SIGTERM: mmvm prints its vCPU dump
# and exits) and returns 1; returns 0 when the job ended by itself.
watch_progress() {
	local pid=$1 log=$2 secs=$3 done=$4 size last=-1 quiet=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if [ ! -e "$done" ] &&
		   grep -a -q 'rcu_preempt detected stalls on CPUs' "$log" 2>/dev/null; then
			sleep 5	# let the report finish
			pkill -TERM -P "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 1
		fi
		size=$(stat -c %s "$log" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ] || [ -e "$done" ]; then
			last=$size quiet=0
			continue
		fi
		quiet=$((quiet + 5))
		if [ "$quiet" -ge "$secs" ]; then
			pkill -TERM -P "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 1
		fi
	done
	wait "$pid" 2>/dev/null
	return 0
}

# Exit status of a test whose guest stopped making progress under the
# nested KVM: run-all.sh runs such a test again (and says so).
STALLED_RC=75

# Under the nested harness a vCPU is now and then handed its host's own
# registers (docs/nested-kvm.md, "A guest running its host's code"): it
# never exits to mmvm again, while the KVM below emulates its instruction
# and injects a page fault some 25,000 times a second. KVM's count of
# page faults it injected (debugfs kvm/pf_guest, summed over the guests of
# this outer VM, which runs one test) stays near zero with nested paging
# otherwise, so it names the wedge within seconds instead of at the
# guest's --timeout. wedge_watch runs in the background for the whole
# test (one per test, shared by its child tests through
# MMVM_WEDGE_MARK): on such a rise it says so, stops every mmvm (SIGTERM:
# each prints its vCPU dump) and creates the file $MMVM_WEDGE_MARK, after
# which finish() reports a failing test as stalled ($STALLED_RC).
WEDGE_PF_PER_5S=${WEDGE_PF_PER_5S:-20000}
wedge_watch() {
	local owner=$1 f=/sys/kernel/debug/kvm/pf_guest last now rise most=0
	last=$(cat "$f") || return 0
	echo 0 >"$MMVM_WEDGE_MARK.most"
	while kill -0 "$owner" 2>/dev/null; do
		sleep 5
		now=$(cat "$f" 2>/dev/null) || return 0
		rise=$((now - last)) last=$now
		# The largest rise so far, for finish() to report: what a
		# healthy guest does is the threshold's margin.
		[ "$rise" -gt "$most" ] && most=$rise &&
			echo "$most" >"$MMVM_WEDGE_MARK.most"
		if [ "$rise" -gt "$WEDGE_PF_PER_5S" ]; then
			echo "$lib_test: KVM injected $rise guest page faults in 5 s: a vCPU wedged under the nested KVM (docs/nested-kvm.md); stopping mmvm"
			: >"$MMVM_WEDGE_MARK"
			pkill -TERM -x mmvm 2>/dev/null
		fi
	done
}
if [ "${MMVM_HOST_NESTED:-}" = 1 ] && [ -z "${MMVM_WEDGE_MARK:-}" ]; then
	export MMVM_WEDGE_MARK=$MMVM_WORK/nested-wedge
	[ -r /sys/kernel/debug/kvm/pf_guest ] ||
		mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
	if [ -r /sys/kernel/debug/kvm/pf_guest ]; then
		wedge_owner=1
		wedge_watch $$ &
	fi
fi

# cpu_ticks PID: utime + stime of the process, in clock ticks ("" once
# it is gone).
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || true
}

# device_ticks PID: utime + stime of mmvm's threads other than its vCPUs
# (the main thread, "io", the device workers "blk0-w0", ...), in clock
# ticks ("" once it is gone). What a device's polling costs lands here;
# the guest's own execution (its timer ticks while it idles, which vary
# a lot under the nested harness) is in the "vcpuN" threads. Only live
# threads count: take it while mmvm runs (the guest scripts wait 2 s
# after their last marker), not while it exits.
device_ticks() {
	[ -d "/proc/$1/task" ] || return 0
	cat /proc/"$1"/task/*/stat 2>/dev/null | awk '
		{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*$/, "", c)
		  s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
		  if (c !~ /^vcpu[0-9]+$/) t += f[12] + f[13] }
		END { print t + 0 }'
}

# thread_ticks PID NAME: utime + stime of mmvm's threads named NAME (e.g.
# "blk0-w0", a device worker), in clock ticks ("" once it is gone).
thread_ticks() {
	[ -d "/proc/$1/task" ] || return 0
	cat /proc/"$1"/task/*/stat 2>/dev/null | awk -v n="$2" '
		{ c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*$/, "", c)
		  s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
		  if (c == n) t += f[12] + f[13] }
		END { print t + 0 }'
}

# window_thread_ticks LOG PID BEGIN END NAME [timeout]: as
# idle_window_ticks, for the one thread NAME: sets WIN_TICKS to its CPU
# time between the markers (thread_ticks) and WIN_MS to the wall time
# between the two samples, or both to "" if a marker never came.
window_thread_ticks() {
	local m= a= b= ta= tb=
	[ "${6:-}" = timeout ] || m=$2
	while kill -0 "$2" 2>/dev/null; do
		[ -n "$m" ] || m=$(pgrep -P "$2" | head -n 1)
		if [ -z "$a" ] && grep -a -q "$3" "$1"; then
			a=$(thread_ticks "$m" "$5") ta=$(date +%s%N)
		fi
		if [ -z "$b" ] && grep -a -q "$4" "$1"; then
			b=$(thread_ticks "$m" "$5") tb=$(date +%s%N)
		fi
		sleep 0.1
	done
	WIN_TICKS= WIN_MS=
	[ -n "$a" ] && [ -n "$b" ] &&
		WIN_TICKS=$((b - a)) WIN_MS=$(((tb - ta) / 1000000))
	return 0
}

# idle_window_ticks LOG PID BEGIN END [timeout]: while PID runs, takes
# mmvm's CPU time when LOG first shows BEGIN and when it first shows END
# (the guest's idle window), in steps of 0.1 s. With "timeout", PID is
# timeout(1)'s and mmvm its child. Sets IDLE_TICKS (device_ticks: the
# device-side threads) and IDLE_ALL (cpu_ticks: the whole process) to
# the difference, or to "" if a marker never came.
idle_window_ticks() {
	local m= a= b= a2= b2=
	[ "${5:-}" = timeout ] || m=$2
	while kill -0 "$2" 2>/dev/null; do
		# mmvm's PID does not change: look it up until it is found.
		[ -n "$m" ] || m=$(pgrep -P "$2" | head -n 1)
		if [ -z "$a" ] && grep -a -q "$3" "$1"; then
			a=$(device_ticks "$m") a2=$(cpu_ticks "$m")
		fi
		if [ -z "$b" ] && grep -a -q "$4" "$1"; then
			b=$(device_ticks "$m") b2=$(cpu_ticks "$m")
		fi
		sleep 0.1
	done
	IDLE_TICKS= IDLE_ALL=
	[ -n "$a" ] && [ -n "$b" ] && IDLE_TICKS=$((b - a))
	[ -n "$a2" ] && [ -n "$b2" ] && IDLE_ALL=$((b2 - a2))
	return 0
}

# wait_idle LOG PID [STEPS]: waits, in steps of 0.2 s (default 600),
# until the guest's idle test has said "MMVM-IDLE start" in LOG; returns
# 1 without it (PID ended or the steps ran out). For what is sampled from
# /proc while the guest idles.
wait_idle() {
	local i
	for i in $(seq 1 "${3:-600}"); do
		grep -q 'MMVM-IDLE start' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

initrd_with_helpers() {
	local h adds=()
	for h in "$@"; do
		cc -std=gnu11 -O2 -static -D_GNU_SOURCE -Wall -Wextra -Werror \
			-o "$MMVM_WORK/$h" "$MMVM_REPO/guest/initramfs/helpers/$h.c" ||
			{ fail "cannot build guest/initramfs/helpers/$h.c"; return 1; }
		adds+=(--add "$MMVM_WORK/$h:/bin/$h")
	done
	MMVM_INITRD=$("$MMVM_REPO/guest/initramfs/build-initramfs.sh" \
		-o "$MMVM_WORK/initramfs.cpio.gz" "${adds[@]}" 2>/dev/null |
		tail -n 1)
	[ -f "$MMVM_INITRD" ] ||
		{ fail "initramfs with $*: build failed"; return 1; }
}

show_log() {
	tail -n "${2:-30}" "$1" | sed 's/^/    | /'
}

# api_put SOCK PATH BODY [OUT]: PUT the JSON BODY to mmvm's API socket;
# prints the HTTP status (000: no answer), the answer's body goes to OUT.
api_put() {
	curl -s --max-time 20 --unix-socket "$1" -X PUT \
		-H 'Content-Type: application/json' --data-binary "$3" \
		-o "${4:-/dev/null}" -w '%{http_code}' "http://localhost$2"
}

# ctrl_alt_del_run NAME LOG [mmvm options]: boots MMVM_KERNEL with the
# idle guest and an API socket (InstanceStart through it), waits for the
# guest's /init, sends
# Firecracker's SendCtrlAltDel (PUT /actions) and checks that the answer
# is 204 and that the guest's reboot ends mmvm with exit 0 (the kernel
# restarts on Ctrl+Alt+Del unless init asked for the signal).
ctrl_alt_del_run() {
	local name=$1 log=$2 sock pid i code rc=0
	shift 2
	sock=$MMVM_WORK/cad-$$.sock
	rm -f "$sock"
	timeout -k 5 "$RUN_GUEST_TIMEOUT" "$MMVM" --api-sock "$sock" \
		--kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
		--cmdline "console=ttyS0 mmvm.test=idle mmvm.idle=200" \
		"$@" </dev/null >"$log" 2>&1 &
	pid=$!
	# With --api-sock the VM waits for InstanceStart, whatever the
	# command line described.
	for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
	api_put "$sock" /actions '{"action_type": "InstanceStart"}' >/dev/null
	for ((i = 0; i < 2 * RUN_GUEST_TIMEOUT; i++)); do
		grep -aq 'MMVM-IDLE start' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	code=$(api_put "$sock" /actions '{"action_type": "SendCtrlAltDel"}' \
		"$MMVM_WORK/cad-body")
	wait "$pid" || rc=$?
	RUN_GUEST_RC=$rc
	if [ "$code" = 204 ] && [ "$rc" = 0 ] &&
	   grep -aq '^mmvm: guest rebooted' "$log" &&
	   ! grep -aq 'MMVM-IDLE end' "$log"; then
		pass "$name: SendCtrlAltDel answered 204, the guest rebooted, exit 0: '$(grep -a -m1 '^mmvm: guest rebooted' "$log" | tr -d '\r')'"
	else
		fail "$name: SendCtrlAltDel answered '$code' $(head -c 300 "$MMVM_WORK/cad-body" 2>/dev/null), mmvm exit $rc (want 204, exit 0 'guest rebooted')"
		show_log "$log"
	fi
	rm -f "$sock"
}

finish() {
	echo "$lib_test: $lib_passed passed, $lib_failed failed"
	[ "${wedge_owner:-0}" = 1 ] && [ -e "$MMVM_WEDGE_MARK.most" ] &&
		say "most guest page faults KVM injected in 5 s: $(cat "$MMVM_WEDGE_MARK.most") (a wedge: over $WEDGE_PF_PER_5S)"
	if [ "$lib_failed" != 0 ] && [ -n "${MMVM_WEDGE_MARK:-}" ] &&
	   [ -e "$MMVM_WEDGE_MARK" ]; then
		echo "$lib_test: a vCPU wedged under the nested KVM during this test"
		exit "$STALLED_RC"
	fi
	[ "$lib_failed" = 0 ] && [ "$lib_passed" -gt 0 ]
	exit $?
}
