# Helpers for the harness's own tests (tests/scripts/test_*.sh, run by
# scripts/test on the host; they need no KVM). Source it:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets repo (the repo root) and name (the test's name, from its file);
# pass MSG / fail MSG print "PASS <name>: MSG" / "FAIL <name>: MSG" and
# count; skip MSG prints "SKIP <name>: MSG" and exits 77; finish prints
# "<name>: N passed, N failed" and exits 0 only if something passed and
# nothing failed.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
name=$(basename "${0%.sh}")
passed=0 failed=0
pass() { echo "PASS $name: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $name: $*"; failed=$((failed + 1)); }
skip() { echo "SKIP $name: $*"; exit 77; }
finish() {
	echo "$name: $passed passed, $failed failed"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
	exit
}
