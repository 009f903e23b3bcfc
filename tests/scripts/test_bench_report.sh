#!/usr/bin/env bash
# The benchmark's tables on synthetic run data (bench/test_tables.py: fio
# and sockperf figures, per-op KVM counters, paired ratios and their
# intervals, loaded and failed runs replaced, goals met or not with the
# counters that differ, boot pairs by outer VM, every run in the CSV), the
# vmlinux extractor, the host-side sampler on a short-lived process, and
# bench/run's argument and plan checks.
# Needs neither KVM nor root; a few seconds.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

if python3 "$repo/bench/test_tables.py" >"$work/unit.log" 2>&1; then
	pass "bench/test_tables.py: $(grep -E '^Ran [0-9]+ tests' "$work/unit.log")"
else
	fail "bench/test_tables.py:"
	sed 's/^/    /' "$work/unit.log"
fi

# The PVH kernel for QEMU microvm: the ELF inside a gzip bzImage.
python3 - "$work" <<'PY'
import gzip, sys
d = sys.argv[1]
elf = b"\x7fELF" + bytes(range(256)) * 64
with open(d + "/bz", "wb") as f:
    f.write(b"MZ setup \x1f\x8b\x08 not gzip " + gzip.compress(elf) + b"tail")
with open(d + "/elf", "wb") as f:
    f.write(elf)
PY
if python3 "$repo/bench/extract_vmlinux.py" "$work/bz" "$work/out" &&
   cmp -s "$work/out" "$work/elf"; then
	pass "extract_vmlinux: the ELF past a false gzip magic"
else
	fail "extract_vmlinux did not find the ELF"
fi
if python3 "$repo/bench/extract_vmlinux.py" "$work/elf" "$work/out2" 2>/dev/null; then
	fail "extract_vmlinux accepted a file with no gzip stream"
else
	pass "extract_vmlinux refuses a file with no gzip stream"
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
if "$repo/bench/run" --help | grep -q -- '--plan FILE'; then
	pass "bench/run --help names --plan"
else
	fail "bench/run --help"
fi
# The committed plan declares three tables and its repetitions.
(
	table1= table2= table3= reps= secs=
	. "$repo/bench/plan"
	[ -n "$table1" ] && [ -n "$table2" ] && [ -n "$table3" ] &&
		[ "$reps" -ge 3 ] && [ "$secs" -ge 1 ]
) && pass "bench/plan: three tables, at least 3 repetitions" ||
	fail "bench/plan is incomplete"
if out=$("$repo/bench/run" --plan "$work/none" 2>&1); then
	fail "bench/run --plan of a missing file accepted"
else
	case "$out" in
	*"no such file"*) pass "bench/run refuses a missing plan" ;;
	*) fail "bench/run --plan missing: $out" ;;
	esac
fi
printf 'table1="t1-mmvm-msi"\nreps=three\nsecs=5\n' >"$work/plan.bad"
if out=$("$repo/bench/run" --plan "$work/plan.bad" 2>&1); then
	fail "bench/run accepted reps=three"
else
	case "$out" in
	*"must be numbers"*) pass "bench/run refuses a plan with reps=three" ;;
	*) fail "bench/run --plan bad: $out" ;;
	esac
fi
finish
