#!/usr/bin/env bash
# Run the integration tests (every tests/integration/test_*.sh, or the ones
# named) one after another, each bounded by $MMVM_TEST_TIMEOUT seconds
# (default 900), and sum up. A test passes with exit status 0, is skipped
# with 77, and fails otherwise. The last line is "N passed, N failed"; the
# exit status is non-zero if any test failed or none passed.
#
#   tests/integration/run-all.sh [test_NAME.sh ...]
#
# The tests need KVM: where scripts/mmvm-host finds no KVM that mmvm can
# use, each test runs in its own nested-KVM outer VM, bounded from the host side:
# a test that wedges its outer VM (seen with QEMU 7.2's emulated SVM, see
# docs/nested-kvm.md) then fails alone instead of taking the suite's time.
# Such a test, and only such a test, is run again (at most twice more),
# and the summary says so; so is a test whose guest was reset at 0xfff0 by
# the nested KVM, and one that exits 75 because its guest stopped printing
# or a vCPU wedged (lib.sh watch_progress, wedge_watch).
set -uo pipefail
# One compound command, read whole before it runs: editing this file
# while it runs cannot change what the running copy does.
{

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
per_test=${MMVM_TEST_TIMEOUT:-900}

# Where the tests run is scripts/mmvm-host's decision (it prints it, and
# why, on one line): native on a KVM mmvm can use, else each test in its
# own outer VM.
mode=$("$repo/scripts/mmvm-host" --mode) || {
	echo "run-all: scripts/mmvm-host --mode failed"
	echo "0 passed, 1 failed"
	exit 1
}
nested=0
if [ "$mode" = nested ]; then
	[ -n "${MMVM_HOST_NESTED:-}" ] && {
		echo "run-all: no usable /dev/kvm even inside scripts/mmvm-host"
		echo "0 passed, 1 failed"
		exit 1
	}
	nested=1
fi
# Decided once for the whole run; each test's mmvm-host call takes it as
# given and stays quiet.
export MMVM_HOST_MODE=$mode MMVM_HOST_QUIET=1
log=$(mktemp "${TMPDIR:-/tmp}/run-all.XXXXXX")
trap 'rm -f "$log"' EXIT

# run_test FILE: its exit status; 200 when its outer VM had to be killed
# or stopped by itself before the test finished.
run_test() {
	local rc=0
	if [ "$nested" = 0 ]; then
		timeout -k 10 "$per_test" bash "$1" </dev/null 2>&1 || rc=$?
		return "$rc"
	fi
	# The test's own limit runs inside; the outer VM gets a minute more.
	"$repo/scripts/mmvm-host" --timeout $((per_test + 60)) \
		timeout -k 10 "$per_test" bash "$1" </dev/null 2>&1 |
		tee "$log"
	rc=${PIPESTATUS[0]}	# no "|| true" above: it would reset PIPESTATUS
	grep -q '^mmvm-host: timeout:' "$log" && rc=200
	# The outer VM itself went away mid-test (its kernel or QEMU): the
	# same class of failure, not the test's.
	[ "$rc" = 125 ] &&
		grep -q '^mmvm-host: outer VM stopped before the command finished' "$log" &&
		rc=200
	return "$rc"
}

# harness_failure RC: true, printing what happened, when the last run
# failed because of the nested harness rather than the test: its outer VM
# stopped responding (200), its guest stalled or a vCPU wedged (75, lib.sh
# watch_progress and wedge_watch), or a guest was reset at 0xfff0 by the
# emulated SVM below (docs/nested-kvm.md: seen under legacy-interrupt load,
# never on a real KVM). Such a test is run again, at most $max_reruns
# more times.
max_reruns=2
harness_failure() {
	case "$1" in
	0|77) return 1 ;;
	200) echo "its outer VM stopped responding or went away" ;;
	75) [ "$nested" = 1 ] || return 1
	    echo "its guest stalled or wedged under the nested KVM" ;;
	*) [ "$nested" = 1 ] &&
	   grep -q 'triple fault (KVM_EXIT_SHUTDOWN) at RIP 0xfff0' "$log" ||
		return 1
	   echo "a guest was reset at 0xfff0 by the nested KVM" ;;
	esac
}

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do
		case "$t" in */*) tests+=("$t") ;; *) tests+=("$here/$t") ;; esac
	done
else
	tests=("$here"/test_*.sh)
fi

passed=0 failed=0 skipped=0
results=() retried=()
suite_t0=$(date +%s)
for t in "${tests[@]}"; do
	name=$(basename "$t")
	echo "=== $name"
	t0=$(date +%s) runs=1
	if [ ! -f "$t" ]; then
		echo "run-all: no such test $t"; rc=127
	else
		rc=0
		run_test "$t" || rc=$?
		while [ "$runs" -le "$max_reruns" ] && why=$(harness_failure "$rc"); do
			echo "=== $name: $why; running it again"
			[ "$runs" = 1 ] && retried+=("$name")
			runs=$((runs + 1))
			rc=0
			run_test "$t" || rc=$?
		done
	fi
	secs=$(($(date +%s) - t0))
	case "$rc" in
	0) passed=$((passed + 1)); verdict=PASS ;;
	77) skipped=$((skipped + 1)); verdict=SKIP ;;
	124) failed=$((failed + 1)); verdict="FAIL (timeout after $per_test s)" ;;
	200) failed=$((failed + 1)); verdict="FAIL (outer VM stopped responding, $runs times)" ;;
	75) failed=$((failed + 1)); verdict="FAIL (guest stalled or wedged, $runs times)" ;;
	*) failed=$((failed + 1)); verdict="FAIL (exit $rc)" ;;
	esac
	results+=("$(printf '%-28s %s, %d s' "$name" "$verdict" "$secs")")
	echo "=== $name: $verdict, $secs s"
done

echo "=== summary ($(($(date +%s) - suite_t0)) s)"
printf '  %s\n' "${results[@]}"
[ "$skipped" = 0 ] || echo "$skipped skipped"
[ "${#retried[@]}" = 0 ] ||
	echo "run again after their outer VM stopped responding, a nested reset at 0xfff0 or a stalled or wedged guest: ${retried[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
exit
}
