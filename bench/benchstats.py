#!/usr/bin/env python3
"""Statistics and host-load bookkeeping for the benchmark (standard
library only). Imported by bench/report.py; also a small command:

    benchstats.py sample --out FILE --phase FILE --root PID [--interval S]
        Runs on the machine that started the benchmark (bench/run, outside
        the nested outer VM) until PID exits: every S seconds (0.5) one
        line "s <monotonic s> <run id> <tag> <busy> <total> <steal>
        <tree> <load1>" with this machine's /proc/stat totals (jiffies:
        busy = user+nice+system+irq+softirq, total = all fields), the CPU
        time (utime+stime+cutime+cstime, same unit) of PID and all its
        descendants (the benchmark itself: under the nested harness the
        whole outer VM), and the 1-minute load average. <run id> <tag> is
        the content of the phase file (bench/rr/kvm_snapshot.c and
        bench/inner.sh keep it current), "- -" when there is none.

    benchstats.py verdict --samples FILE --run ID [--max-others F]
                          [--max-steal F]
        Prints "high|ok|unknown others=<share> steal=<share> load1=<max>"
        for one run: "high" when other processes used at least F (0.25)
        of the machine's CPU capacity during the run, or at least
        --max-steal (0.10) of it was stolen (the machine is itself a VM).

Intervals: percentile bootstrap over the repetitions, resampled as whole
repetitions (paired), with a fixed seed so a report is reproducible.
"""
import argparse
import math
import os
import random
import signal
import sys
import time

BOOTSTRAP_N = 4000
SEED = 20261202
HIGH_OTHERS = 0.25
HIGH_STEAL = 0.10


# --- statistics ------------------------------------------------------------

def percentile(sorted_v, q):
    """q in [0, 1] of an ascending list, linear interpolation."""
    if not sorted_v:
        return None
    pos = q * (len(sorted_v) - 1)
    i = int(math.floor(pos))
    j = min(i + 1, len(sorted_v) - 1)
    return sorted_v[i] + (sorted_v[j] - sorted_v[i]) * (pos - i)


def geomean(v):
    return math.exp(sum(math.log(x) for x in v) / len(v))


def paired_ratio(pairs, seed=SEED, n_boot=BOOTSTRAP_N, level=0.95):
    """Ratio A/B from per-repetition pairs [(a, b), ...] measured side by
    side: the geometric mean of the per-repetition ratios a/b, with a
    percentile bootstrap interval (resampling repetitions with
    replacement). Returns (ratio, lo, hi, n); lo/hi are None below three
    pairs. Pairs with a missing or non-positive side are dropped."""
    r = [a / b for a, b in pairs
         if a is not None and b is not None and a > 0 and b > 0]
    if not r:
        return None
    point = geomean(r)
    if len(r) < 3:
        return (point, None, None, len(r))
    rng = random.Random(seed)
    logs = [math.log(x) for x in r]
    n = len(logs)
    boots = []
    for _ in range(n_boot):
        s = 0.0
        for _ in range(n):
            s += logs[rng.randrange(n)]
        boots.append(math.exp(s / n))
    boots.sort()
    a = (1 - level) / 2
    return (point, percentile(boots, a), percentile(boots, 1 - a), n)


def significant(ci):
    """True when the interval excludes 1.0, None when there is none."""
    if not ci or ci[1] is None:
        return None
    return ci[1] > 1.0 or ci[2] < 1.0


def half_width(ci):
    """Relative half-width of an interval around its point (0.1 = ±10 %):
    the larger of the two sides."""
    if not ci or ci[1] is None:
        return None
    p, lo, hi = ci[0], ci[1], ci[2]
    return max(hi / p - 1, 1 - lo / p)


# --- host load -------------------------------------------------------------

def read_samples(path):
    """Lines of a sample file as dicts; a missing file gives []."""
    out = []
    try:
        f = open(path)
    except (FileNotFoundError, PermissionError):
        return out
    with f:
        for line in f:
            p = line.split()
            if len(p) != 9 or p[0] != "s":
                continue
            try:
                out.append({"t": float(p[1]), "run": p[2], "tag": p[3],
                            "busy": int(p[4]), "total": int(p[5]),
                            "steal": int(p[6]), "tree": int(p[7]),
                            "load1": float(p[8])})
            except ValueError:
                continue
    return out


def intervals(samples, run, tag=None):
    """Consecutive sample pairs whose both ends were taken during RUN (and,
    with TAG, during that workload: between its -begin and -end marks the
    phase reads "<run> <what>-begin")."""
    for a, b in zip(samples, samples[1:]):
        if a["run"] != run or b["run"] != run:
            continue
        if tag is not None and (a["tag"] != tag or b["tag"] != tag):
            continue
        if b["t"] <= a["t"] or b["total"] < a["total"]:
            continue
        yield a, b


def run_load(samples, run):
    """Load on the machine during one run: the share of its CPU capacity
    other processes used (busy time not ours), the share stolen, the
    highest 1-minute load average. None without two samples in the run."""
    busy = total = steal = tree = 0
    load1 = None
    n = 0
    for a, b in intervals(samples, run):
        busy += b["busy"] - a["busy"]
        total += b["total"] - a["total"]
        steal += b["steal"] - a["steal"]
        tree += b["tree"] - a["tree"]
        load1 = max(load1 or 0.0, a["load1"], b["load1"])
        n += 1
    if not n or total <= 0:
        return None
    return {"others": max(0.0, (busy - tree) / total),
            "steal": max(0.0, steal / total),
            "ours": max(0.0, tree / total), "load1": load1, "intervals": n}


def verdict(load, max_others=HIGH_OTHERS, max_steal=HIGH_STEAL):
    if load is None:
        return "unknown"
    if load["others"] >= max_others or load["steal"] >= max_steal:
        return "high"
    return "ok"


def tree_rate(samples, run, tag, hz=100):
    """CPU seconds per second the benchmark's process tree (the outer VM)
    used while workload TAG of RUN ran, from the sample intervals that lie
    inside it; None without one."""
    dt = cpu = 0.0
    for a, b in intervals(samples, run, tag):
        dt += b["t"] - a["t"]
        cpu += (b["tree"] - a["tree"]) / hz
    if dt <= 0:
        return None
    return cpu / dt


# --- the sampler -------------------------------------------------------------

def proc_stat():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    v += [0] * (8 - len(v))
    # user nice system idle iowait irq softirq steal [guest guest_nice]:
    # guest time is already counted in user.
    busy = v[0] + v[1] + v[2] + v[5] + v[6]
    return busy, sum(v[:8]), v[7]


def tree_cpu(root, exclude):
    """utime+stime+cutime+cstime of ROOT and its descendants."""
    parent, cpu = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        f = s[s.rfind(")") + 2:].split()
        pid = int(d)
        parent[pid] = int(f[1])
        cpu[pid] = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    total = 0
    for pid, c in cpu.items():
        p, seen = pid, 0
        while p and p != root and seen < 64:
            p = parent.get(p, 0)
            seen += 1
        if p == root and pid not in exclude:
            total += c
    return total


def sample(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    me = {os.getpid()}
    with open(a.out, "a") as out:
        out.write("hz %d ncpu %d interval %g\n" % (
            os.sysconf("SC_CLK_TCK"), os.cpu_count() or 1, a.interval))
        while not stop:
            try:
                os.kill(a.root, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
            try:
                with open(a.phase) as f:
                    ph = (f.read().split() + ["-", "-"])[:2]
            except OSError:
                ph = ["-", "-"]
            t = time.monotonic()
            busy, total, steal = proc_stat()
            tree = tree_cpu(a.root, me)
            with open("/proc/loadavg") as f:
                load1 = f.read().split()[0]
            out.write("s %.3f %s %s %d %d %d %d %s\n" % (
                t, ph[0], ph[1], busy, total, steal, tree, load1))
            out.flush()
            time.sleep(max(0.05, a.interval - (time.monotonic() - t)))
    return 0


def main(argv):
    ap = argparse.ArgumentParser(prog="benchstats.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--out", required=True)
    s.add_argument("--phase", required=True)
    s.add_argument("--root", type=int, required=True)
    s.add_argument("--interval", type=float, default=0.5)
    v = sub.add_parser("verdict")
    v.add_argument("--samples", required=True)
    v.add_argument("--run", required=True)
    v.add_argument("--max-others", type=float, default=HIGH_OTHERS)
    v.add_argument("--max-steal", type=float, default=HIGH_STEAL)
    a = ap.parse_args(argv)
    if a.cmd == "sample":
        return sample(a)
    load = run_load(read_samples(a.samples), a.run)
    print("%s others=%s steal=%s load1=%s" % (
        verdict(load, a.max_others, a.max_steal),
        "%.3f" % load["others"] if load else "?",
        "%.3f" % load["steal"] if load else "?",
        "%.2f" % load["load1"] if load else "?"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
