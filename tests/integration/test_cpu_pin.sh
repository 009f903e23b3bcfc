#!/usr/bin/env bash
# --cpus N,pin (issue 13): vCPU threads pinned, the guest told so.
#   - bad spellings (2,pinn; 0,pin): one named line, exit 1 (no KVM needed);
#   - --cpus 2,pin: the one "mmvm: pinned vcpu0 to host CPU a, vcpu1 to
#     host CPU b (allowed: ...)" line, with vCPU i on the (i mod M)th of the
#     M CPUs this test may use; while the guest runs, each vCPU thread's
#     Cpus_allowed_list (/proc/PID/task/TID/status; taskset -pc TID shown) is
#     exactly that CPU and the other threads keep the whole set; in the
#     guest (guest test cpuidle.sh) the cpuidle driver and governor are
#     haltpoll (CPUID KVM_HINTS_REALTIME), and the kernel is tickless when
#     idle (CONFIG_NO_HZ_IDLE=y in /proc/config.gz);
#   - --cpus 2: no pinned line, vCPU threads on the whole set, no cpuidle
#     driver ("none"), the same guest /proc/cmdline as with pin;
#   - under taskset -c C: --cpus 2,pin puts both vCPUs on C (mmvm's own
#     allowed set at start, not the machine's), and the line says they
#     share it.
#
# Needs KVM: tests/integration/run-all.sh test_cpu_pin.sh
# Env: lib.sh's.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set -uo pipefail

require_files "$MMVM" "$MMVM_KERNEL" "$MMVM_INITRD"

bad() {
	local val=$1 out rc=0
	out=$("$MMVM" --kernel "$MMVM_KERNEL" --cpus "$val" 2>&1) || rc=$?
	if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$out" | grep -c .)" = 1 ] &&
	   [ "$out" = "mmvm: --cpus '$val': want N or N,pin with N 1..64" ]; then
		pass "--cpus $val: exit 1, '$out'"
	else
		fail "--cpus $val: exit $rc, '$out'"
	fi
}
bad 2,pinn
bad 0,pin
bad 2,

require_kvm
RUN_GUEST_TIMEOUT=${RUN_GUEST_TIMEOUT:-300}

# expand LIST: "0-2,5" -> "0 1 2 5"
expand() {
	local part out=()
	IFS=, read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		if [[ "$part" == *-* ]]; then
			out+=($(seq "${part%-*}" "${part#*-}"))
		else
			out+=("$part")
		fi
	done
	echo "${out[@]}"
}
own_list=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
read -ra own <<<"$(expand "$own_list")"
say "this test may use host CPUs $own_list (${#own[@]})"

# run_watched NAME [PREFIX...] -- MMVM-OPTION...: boots the guest test
# cpuidle in the background (under PREFIX, e.g. taskset -c 1); once it
# says MMVM-CPUIDLE-UP, writes "comm tid cpus_allowed_list" for each of
# mmvm's threads to NAME.threads and `taskset -pc` of the vCPU threads to
# NAME.taskset; waits for the end.
run_watched() {
	local name=$1 log=$MMVM_WORK/$1.log pre=() pid mpid="" i t
	shift
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	timeout -k 5 "$RUN_GUEST_TIMEOUT" "${pre[@]}" "$MMVM" \
		--kernel "$MMVM_KERNEL" --initrd "$MMVM_INITRD" \
		--cmdline "console=ttyS0 mmvm.test=cpuidle mmvm.idle=3" \
		"$@" </dev/null >"$log" 2>&1 &
	pid=$!
	for i in $(seq 1 $((RUN_GUEST_TIMEOUT * 5))); do
		[ -n "$mpid" ] || mpid=$(pgrep -P "$pid" | head -n 1)
		grep -a -q 'MMVM-CPUIDLE-UP' "$log" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	: >"$MMVM_WORK/$name.threads"
	: >"$MMVM_WORK/$name.taskset"
	if [ -n "$mpid" ]; then
		for t in /proc/"$mpid"/task/*; do
			echo "$(cat "$t/comm") ${t##*/} $(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status")"
		done >>"$MMVM_WORK/$name.threads" 2>/dev/null
		while read -r comm tid _; do
			case "$comm" in vcpu*)
				echo "$comm: $(taskset -pc "$tid" 2>&1)" ;;
			esac
		done <"$MMVM_WORK/$name.threads" >>"$MMVM_WORK/$name.taskset"
	fi
	wait "$pid"
	RUN_GUEST_RC=$?
	tr -d '\r' <"$log" >"$MMVM_WORK/$name.txt"
}

# field NAME KEY: KEY= of the guest's MMVM-CPUIDLE line.
field() {
	grep -a -m1 '^MMVM-CPUIDLE ' "$MMVM_WORK/$1.txt" | tr ' ' '\n' |
		sed -n "s/^$2=//p"
}
# thread_cpus NAME COMM: the Cpus_allowed_list of the thread called COMM.
thread_cpus() {
	awk -v c="$2" '$1 == c { print $3; exit }' "$MMVM_WORK/$1.threads"
}
guest_cmdline() {
	sed -n 's/^.*MMVM-CPUIDLE-CMDLINE //p' "$MMVM_WORK/$1.txt" | head -n 1
}
# booted NAME: the run ended by itself (exit 0) and the guest test passed.
booted() {
	if [ "$RUN_GUEST_RC" = 0 ] && [ "$(guest_test_rc "$MMVM_WORK/$1.txt")" = 0 ]; then
		return 0
	fi
	fail "$1: mmvm exit $RUN_GUEST_RC, guest test rc '$(guest_test_rc "$MMVM_WORK/$1.txt")'"
	show_log "$MMVM_WORK/$1.txt" 40
	return 1
}
# others_whole NAME LIST: every thread but the vCPUs' keeps LIST.
others_whole() {
	awk -v l="$2" '$1 !~ /^vcpu/ && $3 != l { bad = 1 } END { exit bad }' \
		"$MMVM_WORK/$1.threads"
}
show_states() {
	grep -a '^MMVM-CPUIDLE-STATE' "$MMVM_WORK/$1.txt" | sed 's/^/    /'
}

# --- pinned ---
run_watched pin -- --cpus 2,pin
if booted pin; then
	want="mmvm: pinned vcpu0 to host CPU ${own[0]}, vcpu1 to host CPU ${own[$((1 % ${#own[@]}))]} (allowed: $own_list)"
	[ "${#own[@]}" -lt 2 ] && want="$want; 2 vCPUs share 1 host CPUs"
	got=$(grep -a -m1 '^mmvm: pinned ' "$MMVM_WORK/pin.txt")
	[ "$got" = "$want" ] && pass "the line: '$got'" ||
		fail "pinned line '$got', want '$want'"
	sed 's/^/    /' "$MMVM_WORK/pin.taskset"
	for i in 0 1; do
		c=${own[$((i % ${#own[@]}))]}
		got=$(thread_cpus pin "vcpu$i")
		[ "$got" = "$c" ] &&
			pass "thread vcpu$i: Cpus_allowed_list $got (host CPU $c)" ||
			fail "thread vcpu$i: Cpus_allowed_list '$got', want $c"
	done
	others_whole pin "$own_list" &&
		pass "the other threads ($(awk '$1 !~ /^vcpu/ { printf "%s%s", s, $1; s = " " }' "$MMVM_WORK/pin.threads")) keep $own_list" ||
		fail "a non-vCPU thread was pinned: $(tr '\n' ';' <"$MMVM_WORK/pin.threads")"
	d=$(field pin driver) g=$(field pin governor)
	[ "$d" = haltpoll ] && [ "$g" = haltpoll ] &&
		pass "guest: cpuidle driver $d, governor $g (KVM_HINTS_REALTIME seen)" ||
		fail "guest: cpuidle driver '$d', governor '$g', want haltpoll"
	show_states pin
	grep -a -q '^MMVM-CPUIDLE-STATE cpu=1 state=haltpoll ' "$MMVM_WORK/pin.txt" &&
		pass "guest: CPU 1 has the haltpoll idle state too" ||
		fail "guest: no haltpoll idle state on CPU 1"
	[ "$(field pin nohz_idle)" = 1 ] && [ "$(field pin cpus)" = 0-1 ] &&
		pass "guest: CONFIG_NO_HZ_IDLE=y in /proc/config.gz, CPUs 0-1 online" ||
		fail "guest: nohz_idle '$(field pin nohz_idle)', cpus '$(field pin cpus)'"
fi

# --- not pinned ---
run_watched nopin -- --cpus 2
if booted nopin; then
	grep -a -q '^mmvm: pinned ' "$MMVM_WORK/nopin.txt" &&
		fail "a pinned line without pin" ||
		pass "no pinned line"
	a=$(thread_cpus nopin vcpu0) b=$(thread_cpus nopin vcpu1)
	[ "$a" = "$own_list" ] && [ "$b" = "$own_list" ] &&
		pass "threads vcpu0, vcpu1: Cpus_allowed_list $a, $b (not pinned)" ||
		fail "threads vcpu0, vcpu1: Cpus_allowed_list '$a', '$b', want $own_list"
	d=$(field nopin driver)
	[ "$d" = none ] && pass "guest: cpuidle driver $d (no hint, no polling)" ||
		fail "guest: cpuidle driver '$d', want none"
	show_states nopin
	[ "$(field nopin nohz_idle)" = 1 ] &&
		pass "guest: CONFIG_NO_HZ_IDLE=y in /proc/config.gz" ||
		fail "guest: nohz_idle '$(field nopin nohz_idle)'"
	p=$(guest_cmdline pin) n=$(guest_cmdline nopin)
	[ -n "$n" ] && [ "$p" = "$n" ] &&
		pass "guest /proc/cmdline the same with and without pin: '$n'" ||
		fail "guest /proc/cmdline with pin '$p', without '$n'"
fi

# --- mmvm's own allowed set: one CPU ---
c=${own[$((${#own[@]} - 1))]}
run_watched one taskset -c "$c" -- --cpus 2,pin
if booted one; then
	want="mmvm: pinned vcpu0 to host CPU $c, vcpu1 to host CPU $c (allowed: $c); 2 vCPUs share 1 host CPUs"
	got=$(grep -a -m1 '^mmvm: pinned ' "$MMVM_WORK/one.txt")
	a=$(thread_cpus one vcpu0) b=$(thread_cpus one vcpu1)
	[ "$got" = "$want" ] && [ "$a" = "$c" ] && [ "$b" = "$c" ] &&
		[ "$(field one driver)" = haltpoll ] &&
		pass "under taskset -c $c: '$got', both vCPU threads on $a, haltpoll" ||
		fail "under taskset -c $c: '$got' (want '$want'), vCPU threads on '$a' '$b', driver '$(field one driver)'"
fi

finish
