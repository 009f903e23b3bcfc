#!/usr/bin/env bash
# scripts/mmvm-host's one decision of where guests run, from made-up
# verdicts: a stand-in mmvm (MMVM=...) answers --check-kvm as mmvm would on
# a hardware KVM, on kvm_pvm and without /dev/kvm, or not at all. Checks
# the mode, the one line that says why, MMVM_HOST_MODE, and that a native
# decision runs the command here. Needs neither KVM nor root.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
host=$repo/scripts/mmvm-host
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

# fake NAME STATUS LINE: an mmvm whose --check-kvm prints LINE, exits STATUS.
fake() {
	printf '#!/bin/sh\n[ "$1" = --check-kvm ] || exit 99\necho %q >&%d\nexit %d\n' \
		"$3" "$([ "$2" = 0 ] && echo 1 || echo 2)" "$2" >"$work/$1"
	chmod +x "$work/$1"
}
fake hw 0 "mmvm: /dev/kvm: usable: API 12, 12 capabilities present, a probe guest read back the CPUID mmvm set (loaded: kvm,kvm_intel)"
fake pvm 1 "mmvm: /dev/kvm: ignores the CPUID mmvm sets (mmvm set leaf 1 to no features, a probe guest read ECX 0x76d81203 EDX 0x1f8bfbff), so Linux would use features the vCPU cannot give it: a software KVM such as kvm_pvm (loaded: kvm,kvm_pvm); use a host with hardware virtualization"
fake nokvm 1 "mmvm: /dev/kvm: No such file or directory; use a host with hardware virtualization"
fake crash 139 ""

# expect WHAT MODE WHY-PATTERN [VAR=VALUE...]: mmvm-host --mode says MODE
# on stdout and one stderr line matching WHY-PATTERN.
expect() {
	local what=$1 want=$2 pattern=$3 got rc=0
	shift 3
	got=$(env -u MMVM_HOST_MODE "$@" "$host" --mode 2>"$work/err") || rc=$?
	if [ "$rc" = 0 ] && [ "$got" = "$want" ] && [ "$(grep -c . "$work/err")" = 1 ] &&
	   grep -q -- "$pattern" "$work/err"; then
		pass "$what: $got ($(cat "$work/err"))"
	else
		fail "$what: rc=$rc mode '$got', want $want and /$pattern/:"
		sed 's/^/    | /' "$work/err"
	fi
}

expect "hardware KVM" native "^mmvm-host: native: mmvm: /dev/kvm: usable" MMVM="$work/hw"
expect "kvm_pvm" nested "^mmvm-host: nested: mmvm: /dev/kvm: ignores the CPUID.*kvm_pvm" MMVM="$work/pvm"
expect "no /dev/kvm" nested "^mmvm-host: nested: mmvm: /dev/kvm: No such file" MMVM="$work/nokvm"
expect "mmvm crashes" nested "exited 139" MMVM="$work/crash"
expect "missing mmvm" nested "MMVM=.*/none: no such program" MMVM="$work/none"
expect "forced nested" nested "MMVM_HOST_MODE=nested" MMVM="$work/hw" MMVM_HOST_MODE=nested
expect "forced native" native "MMVM_HOST_MODE=native" MMVM="$work/pvm" MMVM_HOST_MODE=native

# The advice meant for someone running mmvm by hand is not repeated.
if ! MMVM="$work/pvm" "$host" --mode 2>&1 >/dev/null | grep -q '; use'; then
	pass "the harness line leaves out mmvm's advice"
else
	fail "the harness line repeats mmvm's advice"
fi

rc=0
MMVM_HOST_MODE=bogus "$host" --mode >/dev/null 2>"$work/err" || rc=$?
if [ "$rc" = 125 ] && grep -q "MMVM_HOST_MODE must be auto, native or nested" "$work/err"; then
	pass "bad MMVM_HOST_MODE: exit 125, $(cat "$work/err")"
else
	fail "bad MMVM_HOST_MODE: rc=$rc"
fi

# Native: the command runs here, after the one line.
out=$(MMVM="$work/hw" "$host" sh -c 'echo ran-here' 2>&1)
if grep -q '^mmvm-host: running natively: mmvm: /dev/kvm: usable' <<<"$out" &&
   grep -qx ran-here <<<"$out"; then
	pass "native run: the command ran here"
else
	fail "native run:"; sed 's/^/    | /' <<<"$out"
fi
out=$(MMVM="$work/hw" MMVM_HOST_QUIET=1 "$host" true 2>&1)
if [ -z "$out" ]; then
	pass "MMVM_HOST_QUIET=1: no line"
else
	fail "MMVM_HOST_QUIET=1 still printed: $out"
fi

finish
