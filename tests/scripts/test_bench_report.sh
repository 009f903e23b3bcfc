#!/usr/bin/env bash
# The benchmark's statistics and report on synthetic run data
# (bench/test_report.py: bootstrap intervals, significance, load verdicts,
# loaded runs replaced, CPU per operation, --ci-check), the host-side
# sampler on a short-lived process, and bench/run's argument checks.
# Needs neither KVM nor root; a few seconds.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

if python3 "$repo/bench/test_report.py" >"$work/unit.log" 2>&1; then
	pass "bench/test_report.py: $(grep -E '^Ran [0-9]+ tests' "$work/unit.log")"
else
	fail "bench/test_report.py:"
	sed 's/^/    /' "$work/unit.log"
fi

# The sampler: attributes samples to the phase file's run, stops when its
# root process is gone.
echo "r1-x net-begin" >"$work/phase"
sleep 1.3 &
root=$!
if timeout 10 python3 "$repo/bench/benchstats.py" sample --out "$work/samples" \
	--phase "$work/phase" --root "$root" --interval 0.2; then
	n=$(grep -c '^s [0-9.]* r1-x net-begin ' "$work/samples")
	if [ "$n" -ge 3 ]; then
		pass "sampler: $n samples of r1-x, stopped with its root"
	else
		fail "sampler: $n samples of r1-x"; cat "$work/samples"
	fi
	v=$(python3 "$repo/bench/benchstats.py" verdict --samples "$work/samples" --run r1-x)
	case "$v" in
	ok\ others=*|high\ others=*) pass "verdict: $v" ;;
	*) fail "verdict: '$v'" ;;
	esac
else
	fail "sampler did not stop with its root (or failed)"
fi
wait "$root" 2>/dev/null

bash -n "$repo/bench/run" && sh -n "$repo/bench/inner.sh" &&
	pass "bench/run and bench/inner.sh parse" || fail "syntax"
if "$repo/bench/run" --help | grep -q -- '--max-reps'; then
	pass "bench/run --help names --max-reps"
else
	fail "bench/run --help"
fi
if out=$("$repo/bench/run" --reps 5 --max-reps 3 2>&1); then
	fail "bench/run --reps 5 --max-reps 3 accepted"
else
	case "$out" in
	*"--max-reps must be >= --reps"*) pass "bench/run rejects --max-reps < --reps" ;;
	*) fail "bench/run --reps 5 --max-reps 3: $out" ;;
	esac
fi
finish
