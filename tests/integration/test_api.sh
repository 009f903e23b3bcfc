#!/usr/bin/env bash
# The Firecracker-compatible API (docs/api.md) and --config-file, in one
# test (one outer VM under the nested harness):
#   no KVM needed: --config-file errors (unknown field, wrong type,
#          malformed JSON) are one line and exit 1;
#   boot 1 (--api-sock): Firecracker's getting-started sequence with curl
#          --unix-socket: logger, metrics, machine-config, boot-source, a
#          root drive, a network interface when a tap can be made,
#          InstanceStart; bad requests before and after the start (each a
#          400 with a fault_message, mmvm still serving); GET / says
#          Running, then Paused while the guest's once-a-second ticks stop
#          and Running again when they resume; PATCH /drives/rootfs to a
#          larger image the guest then sees (size and first bytes);
#          FlushMetrics writes a JSON line with blk0's counters;
#          SendCtrlAltDel reboots the guest and mmvm exits 0;
#   boot 2 (--config-file FILE --no-api): the same guest from a file, with
#          its root drive;
#   boot 3 (--api-sock --user 65534:65534, MMVM_SECCOMP_SELFTEST=api): the
#          API thread's filter is installed once the VM runs (exit 4);
#   boot 4: the getting-started sequence, a 400's fault_message, pause,
#          resume and SendCtrlAltDel from Python (tests/integration/
#          fc_client.py: requests over the socket), exit 0.
# Needs KVM: tests/integration/run-all.sh test_api.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail
PATH=$PATH:/sbin:/usr/sbin

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"
command -v curl >/dev/null || skip "curl missing (scripts/install-deps)"
/usr/bin/python3 -c 'import requests_unixsocket' 2>/dev/null ||
	skip "python3-requests-unixsocket missing (scripts/install-deps)"
W=$MMVM_WORK
tap=mmvmapi0
mmvm_pid=

cleanup() {
	[ -n "$mmvm_pid" ] && kill "$mmvm_pid" 2>/dev/null
	ip link del "$tap" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

# --- config file errors: no guest ---------------------------------------
cfg_err() {
	local name=$1 json=$2 want=$3 out rc=0
	printf '%s\n' "$json" >"$W/bad.json"
	out=$("$MMVM" --config-file "$W/bad.json" --no-api 2>&1) || rc=$?
	if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] &&
	   printf '%s' "$out" | grep -qF -- "$want"; then
		pass "config file, $name: $out"
	else
		fail "config file, $name: exit $rc, output: $out (want '$want')"
	fi
}
cfg_err "unknown field" '{"boot-source": {"kernel_image_path": "k", "kernal": 1}}' \
	"boot-source.kernal: unknown field"
cfg_err "wrong type" '{"machine-config": {"vcpu_count": "2"}}' \
	"machine-config.vcpu_count: want an integer"
cfg_err "malformed" '{"drives": [' "malformed JSON"
cfg_err "vsock" '{"vsock": {"guest_cid": 3, "uds_path": "/tmp/v"}}' \
	"vsock: the vsock device is not implemented"

require_kvm

# --- boot 1: the API ----------------------------------------------------
S=$W/api.sock
LOG=$W/api.log
truncate -s 1M "$W/disk1.img"
printf 'FIRSTIMG' | dd of="$W/disk1.img" conv=notrunc 2>/dev/null
truncate -s 2M "$W/disk2.img"
printf 'SECONDIM' | dd of="$W/disk2.img" conv=notrunc 2>/dev/null

# api METHOD PATH [BODY]: sets CODE and BODY_OUT.
api() {
	local out
	out=$(curl -s --max-time 20 --unix-socket "$S" -X "$1" \
		${3:+-H 'Content-Type: application/json' --data-binary "$3"} \
		-w '\n%{http_code}' "http://localhost$2")
	CODE=${out##*$'\n'}
	BODY_OUT=${out%$'\n'*}
	[ "$BODY_OUT" = "$CODE" ] && BODY_OUT=
}
# expect WHAT CODE [GREP]: the last api call answered CODE (and its body
# has GREP).
expect() {
	if [ "$CODE" = "$2" ] && { [ -z "${3:-}" ] || printf '%s' "$BODY_OUT" | grep -qF -- "$3"; }; then
		pass "$1: $CODE ${BODY_OUT:-(no body)}"
	else
		fail "$1: $CODE ${BODY_OUT:-(no body)} (want $2${3:+ with '$3'})"
	fi
}
# wait_log PATTERN SECS
wait_log() {
	local i
	for ((i = 0; i < $2 * 2; i++)); do
		grep -aq -- "$1" "$LOG" && return 0
		kill -0 "$mmvm_pid" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

"$MMVM" --api-sock "$S" --id api-test --timeout 400 </dev/null >"$LOG" 2>&1 &
mmvm_pid=$!
for ((i = 0; i < 50; i++)); do [ -S "$S" ] && break; sleep 0.1; done
perm=$(stat -c %a "$S" 2>/dev/null)
[ "$perm" = 600 ] && pass "socket $S is 0600" || fail "socket mode '$perm' (want 600)"

api GET /
expect "GET / before the start" 200 '"state":"Not started"'
printf '%s' "$BODY_OUT" | grep -qF '"id":"api-test"' && pass "GET / has the --id" ||
	fail "GET / id: $BODY_OUT"
api GET /version
expect "GET /version" 200 '"firecracker_version"'
api PUT /logger "{\"log_path\": \"$W/api-log.txt\", \"level\": \"Info\", \"show_level\": true}"
expect "PUT /logger" 204
api PUT /metrics "{\"metrics_path\": \"$W/metrics.json\"}"
expect "PUT /metrics" 204
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128}'
expect "PUT /machine-config" 204
api GET /machine-config
expect "GET /machine-config" 200 '"mem_size_mib":128'
api PUT /boot-source "{\"kernel_image_path\": \"$MMVM_KERNEL\", \"initrd_path\": \"$MMVM_INITRD\", \"boot_args\": \"console=ttyS0 mmvm.test=api mmvm.api=cad\"}"
expect "PUT /boot-source" 204
api PUT /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$W/disk1.img\", \"is_root_device\": true, \"is_read_only\": false}"
expect "PUT /drives/rootfs" 204
if ip tuntap add dev "$tap" mode tap 2>/dev/null; then
	api PUT /network-interfaces/eth0 "{\"iface_id\": \"eth0\", \"host_dev_name\": \"$tap\", \"guest_mac\": \"06:00:AC:10:00:02\"}"
	expect "PUT /network-interfaces/eth0" 204
else
	say "no tap (ip tuntap add failed): no network interface"
fi

# Bad requests: each a 400 with a fault message, and mmvm goes on.
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": '
expect "malformed JSON" 400 '"fault_message":"malformed JSON'
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128, "cpus": 2}'
expect "unknown field" 400 'machine-config.cpus: unknown field'
api PUT /machine-config '{"vcpu_count": "one", "mem_size_mib": 128}'
expect "wrong type" 400 'machine-config.vcpu_count: want an integer'
api PUT /drives/other "{\"drive_id\": \"other\", \"path_on_host\": \"$W/disk2.img\", \"is_root_device\": true}"
expect "second root device" 400 'a root device is already given'
head -c 60000 /dev/zero | tr '\0' ' ' >"$W/big.json"
api PUT /machine-config "@$W/big.json"
expect "oversize body" 400 'request body too large'
api PATCH /vm '{"state": "Paused"}'
expect "pause before the start" 400 'not started'
api PUT /vsock '{"guest_cid": 3, "uds_path": "/tmp/v.sock"}'
expect "PUT /vsock" 400 'vsock device is not implemented'
api GET /nowhere
expect "unknown path" 400 'Invalid request method and/or path'
# A malformed request line ("GET /x / HTTP/1.1"): 400, the connection
# closed, mmvm still serving.
raw=$(curl -s --max-time 10 --unix-socket "$S" -X 'GET /x' -w '%{http_code}' http://localhost/)
case "$raw" in
*'"fault_message"'*400) pass "malformed request line: $raw" ;;
*) fail "malformed request line: '$raw'" ;;
esac
api GET /
expect "still serving after bad input" 200 '"state":"Not started"'

api PUT /actions '{"action_type": "InstanceStart"}'
expect "InstanceStart" 204
api GET /
expect "GET / after the start" 200 '"state":"Running"'
api PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 128}'
expect "pre-boot call after the start" 400 \
	'The requested operation is not supported after starting the microVM.'
api PUT /actions '{"action_type": "InstanceStart"}'
expect "second InstanceStart" 400 'not supported after starting'
api GET /vm/config
expect "GET /vm/config" 200 '"drive_id":"rootfs"'

if wait_log "MMVM-API tick=2" 240; then
	pass "guest runs: $(grep -a -m1 'MMVM-API ready' "$LOG" | tr -d '\r')"
	grep -aq 'MMVM-API ready sectors=2048 head=FIRSTIMG' "$LOG" &&
		pass "guest sees the root drive (1 MiB, FIRSTIMG)" ||
		fail "root drive: $(grep -a -m1 'MMVM-API ready' "$LOG")"
	api PATCH /vm '{"state": "Paused"}'
	expect "PATCH /vm Paused" 204
	api GET /
	expect "GET / while paused" 200 '"state":"Paused"'
	a=$(grep -ac 'MMVM-API tick=' "$LOG")
	sleep 3
	b=$(grep -ac 'MMVM-API tick=' "$LOG")
	[ "$a" = "$b" ] && pass "no guest ticks while paused ($a)" ||
		fail "guest ticked while paused ($a -> $b)"
	api PATCH /vm '{"state": "Resumed"}'
	expect "PATCH /vm Resumed" 204
	api GET /
	expect "GET / after resume" 200 '"state":"Running"'
	wait_log "MMVM-API tick=$((b + 1))" 60 && pass "guest ticks again after resume" ||
		fail "no tick after resume"
	api PUT /actions '{"action_type": "FlushMetrics"}'
	expect "FlushMetrics" 204
	grep -q '"blk0":{' "$W/metrics.json" 2>/dev/null &&
		pass "metrics line with blk0: $(tail -n1 "$W/metrics.json" | cut -c1-120)..." ||
		fail "metrics: $(cat "$W/metrics.json" 2>&1 | head -c 300)"
	api PATCH /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$W/disk2.img\"}"
	expect "PATCH /drives/rootfs" 204
	if wait_log "MMVM-API resized" 60; then
		grep -aq 'MMVM-API resized sectors=4096 head=SECONDIM' "$LOG" &&
			pass "guest sees the new drive: $(grep -a -m1 'MMVM-API resized' "$LOG" | tr -d '\r')" ||
			fail "new drive: $(grep -a -m1 'MMVM-API resized' "$LOG")"
		wait_log "MMVM-API waiting for Ctrl+Alt+Del" 30
		api PUT /actions '{"action_type": "SendCtrlAltDel"}'
		expect "SendCtrlAltDel" 204
	else
		fail "guest did not see the PATCHed drive"
	fi
else
	fail "guest did not start ticking"
	show_log "$LOG" 40
fi
rc=0
wait "$mmvm_pid" || rc=$?
mmvm_pid=
if [ "$rc" = 0 ] && grep -aq '^mmvm: guest rebooted' "$LOG" &&
   ! grep -aq 'MMVM-API no Ctrl+Alt+Del' "$LOG"; then
	pass "API boot: Ctrl+Alt+Del rebooted the guest, exit 0: '$(grep -a -m1 '^mmvm: guest rebooted' "$LOG" | tr -d '\r')'"
else
	fail "API boot: exit $rc"
	show_log "$LOG" 30
fi
grep -q 'InstanceStart' "$W/api-log.txt" 2>/dev/null &&
	pass "logger: $(grep -c . "$W/api-log.txt") lines, e.g. '$(grep -m1 InstanceStart "$W/api-log.txt")'" ||
	fail "logger file: $(head -c 300 "$W/api-log.txt" 2>&1)"

# --- boot 2: --config-file ----------------------------------------------
cat >"$W/vm.json" <<JSON
{
  "boot-source": {
    "kernel_image_path": "$MMVM_KERNEL",
    "initrd_path": "$MMVM_INITRD",
    "boot_args": "console=ttyS0 mmvm.test=api mmvm.api=static"
  },
  "drives": [
    { "drive_id": "rootfs", "path_on_host": "$W/disk2.img",
      "is_root_device": true, "is_read_only": true,
      "mmvm": { "queues": 1 } }
  ],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 128, "smt": false },
  "metrics": { "metrics_path": "$W/metrics2.json" }
}
JSON
LOG=$W/cfg.log
rc=0
timeout -k 5 300 "$MMVM" --config-file "$W/vm.json" --no-api </dev/null >"$LOG" 2>&1 || rc=$?
if [ "$rc" = 0 ] && grep -aq 'MMVM-API ready sectors=4096 head=SECONDIM' "$LOG"; then
	pass "--config-file boot: exit 0, $(grep -a -m1 'MMVM-API ready' "$LOG" | tr -d '\r')"
else
	fail "--config-file boot: exit $rc"
	show_log "$LOG" 30
fi
grep -q '"state":"Exited"' "$W/metrics2.json" 2>/dev/null &&
	pass "--config-file metrics: a last line at exit" ||
	fail "--config-file metrics: $(head -c 300 "$W/metrics2.json" 2>&1)"

# --- the API thread's seccomp filter is on once the VM runs --------------
# (the selftest hook: the thread makes a forbidden call right after
# installing its filter), here with --user: the API thread exists while
# the main thread switches user (glibc's setxid broadcast) and drops its
# own capabilities before its filter.
S=$W/api2.sock
LOG=$W/selftest.log
MMVM_SECCOMP_SELFTEST=api "$MMVM" --api-sock "$S" --user 65534:65534 \
	--timeout 120 </dev/null >"$LOG" 2>&1 &
mmvm_pid=$!
for ((i = 0; i < 50; i++)); do [ -S "$S" ] && break; sleep 0.1; done
api PUT /boot-source "{\"kernel_image_path\": \"$MMVM_KERNEL\", \"initrd_path\": \"$MMVM_INITRD\", \"boot_args\": \"console=ttyS0 mmvm.test=idle\"}"
expect "selftest run: PUT /boot-source" 204
# (No answer to check: the thread installs its filter, and so makes the
# forbidden call, before it answers.)
api PUT /actions '{"action_type": "InstanceStart"}'
rc=0
wait "$mmvm_pid" || rc=$?
mmvm_pid=
if [ "$rc" = 4 ] && grep -aq '^mmvm: seccomp: thread api made syscall [0-9]* (getppid)' "$LOG"; then
	pass "API thread sandboxed after InstanceStart (--user): exit 4, $(grep -a -m1 'seccomp: thread api' "$LOG" | tr -d '\r')"
else
	fail "API thread selftest: exit $rc"
	show_log "$LOG" 10
fi

# --- boot 4: a Python client (requests over the Unix socket) -------------
S=$W/api3.sock
LOG=$W/pyclient.log
truncate -s 1M "$W/disk3.img"
"$MMVM" --api-sock "$S" --id py-client --timeout 300 </dev/null >"$LOG" 2>&1 &
mmvm_pid=$!
if /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/fc_client.py" "$S" \
	"$MMVM_KERNEL" "$MMVM_INITRD" "$W/disk3.img" "$LOG" >"$W/pyclient.out" 2>&1; then
	pass "Python client (python3-requests-unixsocket): $(grep -c '^ok' "$W/pyclient.out") calls as expected, e.g. '$(grep -m1 'fault_message' "$W/pyclient.out")'"
else
	fail "Python client: $(grep -m1 -E '^FAIL|Error' "$W/pyclient.out" || tail -n 3 "$W/pyclient.out")"
	show_log "$W/pyclient.out" 15
fi
rc=0
wait "$mmvm_pid" || rc=$?
mmvm_pid=
if [ "$rc" = 0 ] && grep -aq '^mmvm: guest rebooted' "$LOG"; then
	pass "Python client's SendCtrlAltDel: the guest rebooted, exit 0"
else
	fail "Python client boot: exit $rc"
	show_log "$LOG" 20
fi
finish
