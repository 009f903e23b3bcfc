#!/usr/bin/env python3
"""The benchmark's report: the tables bench/plan declares, from the raw
results of one bench/run (standard library only).

    tables.py RESULTS [--md FILE] [--csv FILE] [--command CMD]

RESULTS is build/bench/results/<date>/ (bench/inner.sh's output). Writes
the report (markdown) and one CSV row per run and workload, every
repetition, including runs that failed or were made again (column
"used": the run the tables take for its configuration and repetition).

Figures per run and workload:
  rate       sockperf: transactions/s over its valid duration (warm-up
             and cool-down left out); fio: IOPS
  p50, p99   sockperf: round-trip time; fio: completion latency (us)
  exits/op   KVM's own exit counter (debugfs, the statistics
             KVM_GET_STATS_FD exposes, summed over vCPUs) between the
             guest's marks, divided by the operations in that span
             (sockperf's total messages, fio's reads); so are the other
             per-op counters (interrupts injected, HLT exits, exits to
             the VMM for port I/O and MMIO, interrupt-window exits)
  vmm us/op  the VMM process's CPU time in the span, per operation
The tables give, per configuration, the median over repetitions with the
range; ratios are geometric means of per-repetition ratios with a 95 %
paired bootstrap interval over repetitions (benchstats.paired_ratio,
seeded: the same data gives the same report). Boot ratios resample whole
repetitions (an outer VM's boot pairs are one cluster).
"""
import argparse
import csv
import os
import random
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchstats  # noqa: E402

SEED = benchstats.SEED

LABEL = {
    "t1-mmvm-msi": "mmvm MSI + doorbells (default layout)",
    "t1-mmvm-v3": "mmvm v3 (the 2019 layout)",
    "t1-mmvm-v2": "mmvm plain virtio-mmio (v2, one line)",
    "t1-qemu-pci": "QEMU q35 virtio-pci",
    "t1-qemu-mmio": "QEMU microvm virtio-mmio",
    "t2-mmvm": "mmvm defaults",
    "t2-mmvm-notxirq": "mmvm defaults, tx-irq-delay=0",
    "t2-qemu-pci": "QEMU q35, IOThreads polling, io_uring, vhost poll-us",
    "t2-mmvm-1q": "mmvm defaults, 1 queue per disk",
    "t2-qemu-pci-1q": "QEMU q35 as above, 1 queue per disk",
    "t3-mmvm-vhost": "mmvm, vhost-net",
    "x-mmvm-uring": "mmvm defaults (io_uring engine)",
    "x-mmvm-sync": "mmvm defaults, engine=sync",
    "x-mmvm-poll0": "mmvm defaults, poll=0",
    "x-mmvm-1q": "mmvm defaults, 1 queue per disk",
    "t3-qemu-pci-vhost": "QEMU q35, vhost-net",
    "boot-mmvm": "mmvm default",
    "boot-qemu-microvm": "QEMU microvm (PVH, no firmware, no legacy devices)",
}

# Per-operation counters: (column, KVM debugfs counter).
COUNTERS = [("exits", "exits"), ("inj", "irq_injections"),
            ("hlt", "halt_exits"), ("io", "io_exits"),
            ("mmio", "mmio_exits"), ("irqwin", "irq_window_exits"),
            ("emul", "insn_emulation"), ("hostirq", "irq_exits")]
COUNTER_TEXT = {
    "exits": "all exits", "inj": "interrupts injected",
    "hlt": "HLT exits (the vCPU idles waiting for the reply)",
    "io": "port I/O exits to the VMM",
    "mmio": "MMIO exits to the VMM (register reads and writes KVM does "
            "not handle itself: InterruptStatus, InterruptACK, a "
            "QueueNotify without ioeventfd)",
    "irqwin": "interrupt-window exits",
    "emul": "instructions KVM emulated (MMIO: doorbells on ioeventfd, "
            "LAPIC accesses)",
    "hostirq": "host interrupts while the guest ran",
}

# KVM exit codes (the kvm_exit tracepoint's exit_reason), traced runs.
SVM_EXITS = {
    0x060: "INTR", 0x061: "NMI", 0x064: "VINTR", 0x072: "CPUID",
    0x077: "PAUSE", 0x078: "HLT", 0x07b: "IOIO", 0x07c: "MSR",
    0x081: "VMMCALL", 0x400: "NPF", 0x401: "AVIC_IPI",
    0x402: "AVIC_NOACCEL",
}
VMX_EXITS = {
    1: "EXTERNAL_INTERRUPT", 7: "INTERRUPT_WINDOW", 10: "CPUID", 12: "HLT",
    30: "IO_INSTRUCTION", 31: "MSR_READ", 32: "MSR_WRITE", 44: "APIC_ACCESS",
    45: "EOI_INDUCED", 48: "EPT_VIOLATION", 49: "EPT_MISCONFIG",
    56: "APIC_WRITE",
}

TIMER_VECTOR = 0xec  # Linux's LOCAL_TIMER_VECTOR
HIST_LINE = re.compile(r"\{(.*)\}\s*hitcount:\s*(\d+)")
KEY_VAL = re.compile(r"(\w+):\s*(0x[0-9a-fA-F]+|-?\d+)")
STAMP = re.compile(r"\[\s*([\d.]+)\]\s?(.*)")


# --- raw results -------------------------------------------------------------

def read_mark(path):
    """Counters, memory, CPU and histograms of one mark file, or None."""
    m = {"kvm": {}, "mem": {}, "cpu": {}, "hist": {}, "time": None}
    cur = None
    try:
        f = open(path)
    except FileNotFoundError:
        return None
    with f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "time" and len(p) == 2:
                m["time"] = float(p[1])
            elif p[0] in ("kvm", "mem") and len(p) == 3 and \
                    p[2].lstrip("-").isdigit():
                m[p[0]][p[1]] = int(p[2])
            elif p[0] == "cpu" and len(p) >= 3 and p[1] == "vmm":
                m["cpu"]["vmm"] = [float(x) for x in p[2:]]
            elif p[0] == "hist" and len(p) == 2:
                cur = m["hist"].setdefault(p[1], [])
            else:
                h = HIST_LINE.search(line)
                if h and cur is not None:
                    keys = tuple((k, int(v, 0))
                                 for k, v in KEY_VAL.findall(h.group(1)))
                    cur.append((keys, int(h.group(2))))
    return m


def parse_fio(line):
    """fio --minimal (terse v3): reads, IOPS, clat p50/p99 (us)."""
    f = line.split(";")
    if len(f) < 40 or f[0] != "3":
        return None
    pct = {}
    for x in f[17:37]:
        if "%=" in x:
            k, v = x.split("%=")
            pct[float(k)] = float(v)
    return {"ops": int(f[5]) // 4, "rate": float(f[7]),
            "p50": pct.get(50.0), "p99": pct.get(99.0)}


def parse_log(path):
    """Workload results and boot times from a run's timestamped console."""
    res = {"work": {}, "errors": [], "init_s": None, "uptime": None,
           "uptime_at": None}
    try:
        f = open(path, errors="replace")
    except FileNotFoundError:
        return res
    with f:
        for line in f:
            m = STAMP.match(line.rstrip("\n"))
            if not m:
                continue
            t, text = float(m.group(1)), m.group(2)
            if "MMVM-GUEST uname" in text and res["init_s"] is None:
                res["init_s"] = t
            elif text.startswith("BENCH-UPTIME "):
                try:
                    res["uptime"] = float(text.split()[1])
                    res["uptime_at"] = t
                except (IndexError, ValueError):
                    pass
            elif text.startswith("BENCH-RESULT what=net "):
                kv = dict(re.findall(r"(\w+)=(\S+)", text))
                try:
                    res["work"]["net"] = {
                        "ops": int(kv["ops"]),
                        "rate": int(kv["valid_ops"]) / float(kv["valid_secs"]),
                        "p50": float(kv["p50_us"]),
                        "p99": float(kv["p99_us"])}
                except (KeyError, ValueError, ZeroDivisionError):
                    res["errors"].append("net: unreadable result")
            elif text.startswith("BENCH-FIO what="):
                what, _, terse = text[len("BENCH-FIO what="):].partition(" ")
                r = parse_fio(terse)
                if r:
                    res["work"][what] = r
                else:
                    res["errors"].append(what + ": unreadable fio line")
            elif text.startswith("BENCH-ERROR"):
                res["errors"].append(text[len("BENCH-ERROR "):])
    return res


class Run:
    def __init__(self, d, rid, config, rep, status, load):
        self.d, self.id, self.config = d, rid, config
        self.rep, self.status = int(rep), int(status)
        self.load = load            # "ok", "high ...", "unknown"
        self.log = parse_log(os.path.join(d, rid + ".log"))
        self._marks = {}
        self.traced = rid.startswith("x")
        self.lost = False

    def ok(self):
        return self.status == 0 and not self.log["errors"]

    def mark(self, tag):
        if tag not in self._marks:
            self._marks[tag] = read_mark(os.path.join(self.d,
                                                      self.id + "." + tag))
        return self._marks[tag]

    def figures(self, what):
        """The workload's figures, with per-op counters, or None."""
        w = self.log["work"].get(what)
        if not w:
            return None
        out = dict(w)
        b, e = self.mark(what + "-begin"), self.mark(what + "-end")
        if not b or not e or not w["ops"]:
            return out
        for col, name in COUNTERS:
            if name in b["kvm"] and name in e["kvm"]:
                out[col] = (e["kvm"][name] - b["kvm"][name]) / w["ops"]
        if "emul" in out:
            # Emulated MMIO accesses, to the VMM or not: the transport's
            # notifications and register accesses (x2APIC timer and EOI
            # writes are MSRs, not MMIO, so the guest's timer is not in
            # it).
            out["mmio_all"] = out["emul"]
        cb, ce = b["cpu"].get("vmm"), e["cpu"].get("vmm")
        if cb and ce and len(cb) >= 3 and ce[2] > 0:
            out["vmm_us"] = ((ce[0] + ce[1]) - (cb[0] + cb[1])) / ce[2] \
                * 1e6 / w["ops"]
        return out

    def exit_reasons(self, what, vendor):
        """Traced runs: exits per op by reason (the window's histogram)."""
        w = self.log["work"].get(what)
        e = self.mark(what + "-end")
        if not w or not e or "kvm_exit" not in e["hist"]:
            return None
        names = SVM_EXITS if vendor == "AuthenticAMD" else VMX_EXITS
        out = {}
        for keys, n in e["hist"]["kvm_exit"]:
            code = dict(keys).get("exit_reason")
            name = names.get(code, "0x%x" % code if code is not None else "?")
            out[name] = out.get(name, 0) + n / w["ops"]
        # Interrupts injected, the guest's timer (Linux's local APIC timer
        # vector) apart from the rest (the devices', IPIs).
        for keys, n in e["hist"].get("kvm_inj_virq", []):
            vec = dict(keys).get("vector")
            k = "irq: timer" if vec == TIMER_VECTOR else "irq: other"
            out[k] = out.get(k, 0) + n / w["ops"]
        return out


def lines_of(path):
    """The lines of a file, [] when it does not exist."""
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def load_results(d):
    loads = {}
    for line in lines_of(os.path.join(d, "load")):
        p = line.split(None, 1)
        if len(p) == 2:
            loads[p[0]] = p[1].strip()
    runs = []
    for line in lines_of(os.path.join(d, "runs")):
        p = line.split()
        if len(p) == 4:
            runs.append(Run(d, p[0], p[1], p[2], p[3],
                            loads.get(p[0], "unknown")))
    # Runs of a repetition whose outer VM stopped before it finished
    # (bench/run made it again and set them aside): in the CSV, never in
    # the tables.
    lost = os.path.join(d, "lost")
    for line in lines_of(os.path.join(lost, "runs")):
        p = line.split()
        if len(p) == 4:
            r = Run(lost, p[0], p[1], p[2], p[3], "lost")
            r.lost = True
            runs.append(r)
    meta = {}
    for line in lines_of(os.path.join(d, "meta")):
        k, _, v = line.partition(" ")
        meta.setdefault(k, v)
    skipped = {}
    for line in lines_of(os.path.join(d, "skipped")):
        k, _, v = line.partition(" ")
        skipped[k] = v
    return runs, meta, skipped


def read_plan(d):
    plan = {}
    for line in lines_of(os.path.join(d, "plan")):
        m = re.match(r'^(\w+)="?([^"#]*)"?', line.strip())
        if m:
            plan[m.group(1)] = m.group(2).strip()
    return plan


def select(runs):
    """One run per configuration and repetition (measured repetitions,
    not the traced one): the one that finished and was not loaded, else
    the finished one, else the last made."""
    groups = {}
    for r in runs:
        if r.traced or r.lost or r.config.startswith("boot-"):
            continue
        groups.setdefault((r.config, r.rep), []).append(r)
    used = {}
    for key, g in groups.items():
        def rank(r):
            return (not r.ok(), r.load.startswith("high"),
                    -len(r.log["work"]), -g.index(r))
        used[key] = min(g, key=rank)
    return used


# --- statistics and formatting ----------------------------------------------

def fmt(v, digits=0):
    if v is None:
        return "n/a"
    if digits == 0 and abs(v) >= 100:
        return "{:,.0f}".format(v)
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.*f" % (max(digits, 1 if abs(v) < 10 else 0), v) \
        if abs(v) >= 1 else "%.2f" % v


def med_range(values, digits=0):
    v = [x for x in values if x is not None]
    if not v:
        return "n/a"
    m = statistics.median(v)
    if len(v) == 1 or min(v) == max(v):
        return fmt(m, digits)
    return "%s (%s–%s)" % (fmt(m, digits), fmt(min(v), digits),
                           fmt(max(v), digits))


def median(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def fmt_ratio(ci):
    if not ci:
        return "n/a"
    if ci[1] is None:
        return "%.2fx (n=%d, no interval)" % (ci[0], ci[3])
    return "%.2fx [%.2f–%.2f]" % (ci[0], ci[1], ci[2])


class Tables:
    def __init__(self, d):
        self.d = d
        self.runs, self.meta, self.skipped = load_results(d)
        self.plan = read_plan(d)
        self.used = select(self.runs)
        self.reps = sorted({r for (_, r) in self.used})
        self.vendor = self.meta.get("vendor", "")

    def fig(self, config, rep, what):
        """A workload's figures from the run used for config and rep.
        Each workload is framed by its own marks, so one that finished
        counts even when the guest failed later in the run (a nested
        wedge or reset during a later workload): the CSV shows which."""
        r = self.used.get((config, rep))
        return r.figures(what) if r else None

    def values(self, config, what, key):
        out = []
        for rep in self.reps:
            f = self.fig(config, rep, what)
            out.append(f.get(key) if f else None)
        return out

    def ratio(self, a, b, what, key, wa=None):
        pairs = []
        for rep in self.reps:
            fa = self.fig(a, rep, wa or what)
            fb = self.fig(b, rep, what)
            pairs.append((fa.get(key) if fa else None,
                          fb.get(key) if fb else None))
        return benchstats.paired_ratio(pairs, seed=SEED)

    def have(self, config):
        return any(c == config for (c, _) in self.used)


def workload_text(what):
    if what == "net":
        return "TCP request/response (sockperf ping-pong)"
    m = re.match(r"fio-(vd\w)-qd(\d+)-j(\d+)", what)
    if m:
        disk = "RAM disk" if m.group(1) == "vda" else "slow disk"
        return "4 KiB random reads, %s, depth %s, %s job%s" % (
            disk, m.group(2), m.group(3), "" if m.group(3) == "1" else "s")
    return what


def unit(what):
    return "trans/s" if what == "net" else "IOPS"


# --- the report --------------------------------------------------------------

def perf_table(w, t, configs, workloads, ref):
    """One row per configuration and workload: rate, p50/p99, exits and
    interrupts per op, the ratio to ref."""
    for what in workloads:
        rows = [c for c in configs if t.have(c) and
                any(t.fig(c, r, what) for r in t.reps)]
        if not rows:
            continue
        w("\n**%s** (ratio: %s to %s's)\n" % (workload_text(what),
                                              unit(what), LABEL.get(ref, ref)))
        w("| configuration | %s | p50 µs | p99 µs | exits/op | MMIO/op | "
          "interrupts/op | HLT/op | VMM CPU µs/op | ratio |" % unit(what))
        w("|---|---|---|---|---|---|---|---|---|---|")
        for c in rows:
            r = "—" if c == ref else fmt_ratio(t.ratio(c, ref, what, "rate"))
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                LABEL.get(c, c), med_range(t.values(c, what, "rate")),
                med_range(t.values(c, what, "p50")),
                med_range(t.values(c, what, "p99")),
                med_range(t.values(c, what, "exits"), 1),
                med_range(t.values(c, what, "mmio_all"), 2),
                med_range(t.values(c, what, "inj"), 2),
                med_range(t.values(c, what, "hlt"), 2),
                med_range(t.values(c, what, "vmm_us")), r))


COLUMNS_TEXT = (
    "Columns: medians over repetitions (range). *exits/op*: every VM exit "
    "KVM counted in the workload's span, per transaction or read; "
    "*MMIO/op*: MMIO accesses KVM emulated (virtqueue notifications, "
    "device register reads and writes: the transport's own exits; the "
    "guest's x2APIC timer and EOI writes are MSR exits and not in it); "
    "*interrupts/op*: interrupts injected, the guest's timer included; "
    "*HLT/op*: the vCPU went idle; *VMM CPU*: the VMM process's CPU "
    "time. Exits/op include the guest's timer ticks (250 Hz), whose "
    "number per op grows with the time an op takes: a slower "
    "configuration pays more of them here than it would on hardware "
    "(the traced breakdown below separates the timer's interrupts).")


def counter_diff(t, a, b, what):
    """The per-op counters where a and b differ most: text."""
    parts = []
    for col, _ in COUNTERS[1:]:
        va = median(t.values(a, what, col))
        vb = median(t.values(b, what, col))
        if va is None or vb is None:
            continue
        if abs(va - vb) >= 0.2:
            parts.append((abs(va - vb), "%s %s vs %s" % (
                COUNTER_TEXT[col].split(" (")[0], fmt(va, 2), fmt(vb, 2))))
    parts.sort(reverse=True)
    return "; ".join(p for _, p in parts[:4]) or "no counter differs by 0.2/op or more"


def exit_goal(w, t, a, b, what, factor=1.0):
    """Goal: a makes no more than factor x b's exits per op."""
    ea = median(t.values(a, what, "exits"))
    eb = median(t.values(b, what, "exits"))
    if ea is None or eb is None:
        w("- %s vs %s, %s: not measured." % (LABEL[a], LABEL[b],
                                              workload_text(what)))
        return
    ok = ea <= factor * eb
    ci = t.ratio(a, b, what, "exits")
    need = "no more than" if factor == 1.0 else "at most %.1fx" % factor
    ma = median(t.values(a, what, "mmio_all"))
    mb = median(t.values(b, what, "mmio_all"))
    w("- %s: %s makes %s exits/op against %s's %s (ratio %s; goal: %s): "
      "**%s**; MMIO accesses/op %s vs %s.%s" % (
          workload_text(what), LABEL[a], fmt(ea, 1), LABEL[b], fmt(eb, 1),
          fmt_ratio(ci), need, "met" if ok else "not met",
          fmt(ma, 2), fmt(mb, 2),
          "" if ok else " Where they differ, per op: " +
          counter_diff(t, a, b, what) + "."))


def rate_goal(w, t, a, b, what):
    ci = t.ratio(a, b, what, "rate")
    if not ci:
        w("- %s: %s vs %s not measured." % (workload_text(what), LABEL[a],
                                             LABEL[b]))
        return
    if ci[1] is None:
        verdict = "at or above" if ci[0] >= 1 else "below"
        note = " (too few repetitions for an interval)"
    elif ci[1] > 1:
        verdict, note = "above", ""
    elif ci[2] < 1:
        verdict, note = "below", ""
    else:
        verdict, note = "level with (the interval holds 1.0)", ""
    w("- %s: %s / %s = %s: mmvm is **%s** QEMU%s." % (
        workload_text(what), LABEL[a], LABEL[b], fmt_ratio(ci), verdict,
        note))


def breakdown(w, t, configs, workloads):
    traced = {(r.config, r.id): r for r in t.runs if r.traced and r.ok()}
    if not traced:
        w("\nNo traced repetition was made (or none finished).")
        return
    for what in workloads:
        rows = []
        for c in configs:
            rs = [r for (cc, _), r in traced.items() if cc == c]
            if not rs:
                continue
            reasons = rs[-1].exit_reasons(what, t.vendor)
            if reasons:
                rows.append((c, reasons))
        if not rows:
            continue
        names = sorted({n for _, rsn in rows for n, v in rsn.items()
                        if v >= 0.05 and not n.startswith("irq: ")},
                       key=lambda n: -max(rsn.get(n, 0) for _, rsn in rows))
        # Interrupts injected are not exits: last, apart.
        names += ["irq: timer", "irq: other"]
        w("\n*%s*, exits per op by reason, then interrupts injected per "
          "op (the guest's timer and the rest), traced run\n" %
          workload_text(what))
        w("| configuration | " + " | ".join(names) + " |")
        w("|---|" + "---|" * len(names))
        for c, rsn in rows:
            w("| %s | %s |" % (LABEL.get(c, c), " | ".join(
                fmt(rsn.get(n, 0.0), 2) for n in names)))


def boot_section(w, t):
    pairs = {}
    for r in t.runs:
        m = re.match(r"r(\d+)-b(\d+)-(boot-.*)$", r.id)
        if not m or r.lost or not r.ok() or r.log["init_s"] is None:
            continue
        pairs.setdefault((int(m.group(1)), int(m.group(2))), {})[
            m.group(3)] = r
    a, b = "boot-mmvm", "boot-qemu-microvm"
    full = {k: v for k, v in pairs.items() if a in v and b in v}
    w("\n## Boot\n")
    if not full:
        w("No boot pairs were measured.")
        return
    w("Short boots in pairs, one right after the other, which first "
      "alternating; the guest powers off once /init runs. *To /init*: from "
      "the VMM's exec to the guest's first line from /init, on the host's "
      "clock. *Kernel*: the guest's own clock at /init (`/proc/uptime`, "
      "which starts once the kernel is decompressed and running). "
      "*Before the kernel*: the difference — VMM start-up, firmware (none "
      "for either here) and, for a bzImage, decompression; QEMU microvm's "
      "PVH entry takes the uncompressed vmlinux, so it has no "
      "decompression.\n")
    w("| VMM | to /init ms | before the kernel ms | kernel ms | pairs |")
    w("|---|---|---|---|---|")
    for c in (a, b):
        tot = [v[c].log["init_s"] * 1000 for v in full.values()]
        ker = [v[c].log["uptime"] * 1000 for v in full.values()
               if v[c].log["uptime"] is not None]
        pre = [(v[c].log["uptime_at"] - v[c].log["uptime"]) * 1000
               for v in full.values() if v[c].log["uptime"] is not None]
        w("| %s | %s | %s | %s | %d |" % (LABEL[c], med_range(tot),
                                          med_range(pre), med_range(ker),
                                          len(tot)))
    # Clustered bootstrap: resample outer VMs (repetitions), keep their
    # pairs together.
    by_rep = {}
    for (rep, _), v in full.items():
        by_rep.setdefault(rep, []).append(
            (v[a].log["init_s"], v[b].log["init_s"]))
    point = statistics.median([x for ps in by_rep.values() for x, _ in ps]) / \
        statistics.median([y for ps in by_rep.values() for _, y in ps])
    reps = sorted(by_rep)
    if len(reps) >= 3:
        rng = random.Random(SEED)
        boots = []
        for _ in range(benchstats.BOOTSTRAP_N):
            s = [p for _ in reps for p in by_rep[rng.choice(reps)]]
            boots.append(statistics.median([x for x, _ in s]) /
                         statistics.median([y for _, y in s]))
        boots.sort()
        ci = "%.2fx [%.2f–%.2f]" % (point, benchstats.percentile(boots, 0.025),
                                    benchstats.percentile(boots, 0.975))
    else:
        ci = "%.2fx (fewer than 3 outer VMs: no interval)" % point
    w("\nmmvm / QEMU microvm, to /init: %s (medians; interval: bootstrap "
      "over the %d outer VMs, each with its pairs)." % (ci, len(reps)))


def memory_section(w, t):
    w("\n## Memory\n")
    w("From the table 1 runs (1 vCPU, 512 MiB, one disk, one network "
      "device), at the end of the request/response workload. The guest's "
      "RAM is each VMM's largest mapping: *own* figures leave it out "
      "(process minus that mapping). PSS charges pages shared with other "
      "processes (the binary, libraries) in part; private anonymous "
      "memory is what no other process can share. The N-th VM of a kind "
      "costs the host its private memory and the guest RAM it touched, "
      "since its binary and libraries are already resident: the private "
      "anonymous column plus the guest's (computed from smaps, not "
      "measured by starting N VMs).\n")
    w("| configuration | RSS own MiB | PSS own MiB | private anonymous own "
      "MiB | guest RAM touched MiB |")
    w("|---|---|---|---|---|")
    for c in t.plan.get("table1", "").split():
        rss, pss, anon, guest = [], [], [], []
        for rep in t.reps:
            r = t.used.get((c, rep))
            m = r.mark("net-end") if r and "net" in r.log["work"] else None
            if not m or "GuestRss" not in m["mem"]:
                continue
            mem = m["mem"]
            rss.append((mem.get("VmRSS", 0) - mem["GuestRss"]) / 1024)
            if "Pss" in mem and "GuestPss" in mem:
                pss.append((mem["Pss"] - mem["GuestPss"]) / 1024)
            if "Anonymous" in mem:
                anon.append((mem["Anonymous"] - mem["GuestRss"]) / 1024)
            guest.append(mem["GuestRss"] / 1024)
        if rss:
            w("| %s | %s | %s | %s | %s |" % (
                LABEL.get(c, c), med_range(rss, 1), med_range(pss, 1),
                med_range(anon, 1), med_range(guest)))


def csv_rows(t):
    used = {r.id for r in t.used.values()}
    for r in t.runs:
        base = {"run": r.id, "config": r.config, "rep": r.rep,
                "traced": int(r.traced), "exit_status": r.status,
                "load": r.load.split()[0] if r.load else "",
                "used": int(r.id in used),
                "errors": " | ".join(r.log["errors"])}
        if r.config.startswith("boot-"):
            row = dict(base, workload="boot")
            if r.log["init_s"] is not None:
                row["boot_ms"] = round(r.log["init_s"] * 1000, 1)
            if r.log["uptime"] is not None:
                row["kernel_ms"] = round(r.log["uptime"] * 1000, 1)
            yield row
            continue
        works = r.log["work"] or {"": None}
        for what in works:
            row = dict(base, workload=what)
            f = r.figures(what) if what else None
            if f:
                for k in ("ops", "rate", "p50", "p99", "vmm_us") + \
                        tuple(c for c, _ in COUNTERS):
                    if f.get(k) is not None:
                        row[k if k in ("ops", "rate", "p50", "p99")
                            else k + "_per_op" if k != "vmm_us"
                            else "vmm_cpu_us_per_op"] = \
                            round(f[k], 3) if isinstance(f[k], float) \
                            else f[k]
            yield row


CSV_FIELDS = (["run", "config", "rep", "traced", "exit_status", "load",
               "used", "workload", "ops", "rate", "p50", "p99"] +
              [c + "_per_op" for c, _ in COUNTERS] +
              ["vmm_cpu_us_per_op", "boot_ms", "kernel_ms", "errors"])


def write_csv(t, path):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        cw = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
        cw.writeheader()
        for row in csv_rows(t):
            cw.writerow(row)
    os.replace(tmp, path)


def report(t, out, command, csv_name):
    lines = []
    w = lines.append
    p = t.plan
    t1, t2, t3 = (p.get(k, "").split() for k in ("table1", "table2", "table3"))
    m = t.meta
    w("# mmvm against QEMU: the benchmark\n")
    w("Generated by `%s` from one run of the plan in `bench/plan` (sha256 "
      "%s), declared before the run: %s measured repetition(s), each in "
      "its own outer VM, configurations in rotated order, %s s per "
      "workload, then (the plan's) %s traced repetition(s) for the exit "
      "breakdowns. "
      "Every run, failed and remade ones included, is in "
      "[`%s`](%s) (column `used` marks the one the tables take for a "
      "configuration and repetition: finished, and not taken on a loaded "
      "machine where another was made).\n" % (
          command, m.get("plan", "?").rpartition(":")[2],
          len(t.reps), p.get("secs", "?"), p.get("traced", "0"),
          csv_name, csv_name))
    w("Measured: commit %s, %s; guest kernel %s; QEMU: %s; fio %s; %s. "
      "Host: %s CPUs, %s, kernel %s%s.\n" % (
          m.get("commit", "?"), m.get("date", "?"),
          m.get("guest_kernel", "?").split()[-1], m.get("qemu", "?"),
          m.get("fio", "?"), "sockperf " + m.get("sockperf", "?"),
          m.get("nproc_host", "?"), m.get("cpu_host", "?").strip(),
          m.get("kernel_host", "?"),
          " (itself a VM: the nested harness, KVM inside QEMU TCG)"
          if m.get("nested") else ""))
    if m.get("stopped_early"):
        w("**This run is incomplete: %s.** %d repetition(s) reached the "
          "tables (a configuration's figures are over the repetitions that "
          "measured it: see the CSV); ratios over fewer than 3 "
          "repetitions have no interval. Read it as what it is, not as the "
          "plan's result.\n" % (m["stopped_early"], len(t.reps)))
    if t.skipped:
        w("Skipped: " + "; ".join("%s (%s)" % kv for kv in
                                 sorted(t.skipped.items())) + ".\n")
    w("**What transfers to hardware KVM and what does not.** Exits, "
      "interrupts and HLTs per operation are counted by KVM itself and "
      "depend on the transport and the guest driver, not on how fast "
      "an exit is: they transfer. Rates, latencies and CPU per operation "
      "here are measured with KVM running inside an emulated CPU (QEMU "
      "TCG), where an exit costs hundreds of microseconds and user-space "
      "work is magnified many times: they rank configurations measured "
      "side by side in this run and do not predict hardware figures, "
      "least of all across VMMs, whose user-space paths differ (QEMU's "
      "thread hand-offs cost far more under emulation). Anything that "
      "depends on the cost of an exit — how often polling finds work, "
      "what deferring an interrupt saves — does not transfer.\n")

    w("## Table 1: the transport alone\n")
    w("Every device-side policy off on both sides: mmvm `--disk "
      "...,poll=0 --net ...,poll=0,tx-irq-delay=0`; QEMU without "
      "IOThread (its main loop does not poll), without vhost, "
      "`aio=threads`. 1 vCPU, 512 MiB, a RAM-backed disk read through the "
      "host page cache by both.")
    w("\nA workload's figures count when its own span finished, even if the "
      "guest failed in a later workload of the same run (the CSV's "
      "`exit_status` and `errors` say so); a repetition none of whose runs "
      "finished a workload has no figure for it.")
    perf_table(w, t, t1, ["net", "fio-vda-qd1-j1"], "t1-qemu-pci")
    w("\n" + COLUMNS_TEXT)
    w("\n*Verdict.* Goals: mmvm MSI + doorbells makes no more exits per "
      "request than QEMU q35 virtio-pci, and at most half of plain "
      "virtio-mmio's (mmvm v2, QEMU microvm).\n")
    for what in ("net", "fio-vda-qd1-j1"):
        exit_goal(w, t, "t1-mmvm-msi", "t1-qemu-pci", what)
        exit_goal(w, t, "t1-mmvm-msi", "t1-mmvm-v2", what, 0.5)
        exit_goal(w, t, "t1-mmvm-msi", "t1-qemu-mmio", what, 0.5)
    seed = t.ratio("t1-mmvm-v3", "t1-qemu-pci", "net", "rate")
    seed2 = t.ratio("t1-mmvm-v3", "t1-mmvm-v2", "net", "rate")
    w("\nThe seed (2019, bare metal, netperf TCP_RR) had MSI virtio-mmio "
      "at 0.98x virtio-pci and 1.36x legacy virtio-mmio. Here mmvm v3 "
      "(its layout) / QEMU q35 = %s and mmvm v3 / mmvm v2 = %s in "
      "transactions/s, under the nested harness (see above: only the "
      "same-VMM ratio is comparable with the seed's)." % (
          fmt_ratio(seed), fmt_ratio(seed2)))

    w("\n## Table 2: policies matched\n")
    w("mmvm's defaults (block and net polling `poll=auto`, up to 1000 µs "
      "and at most 20 %% of a CPU per queue; the slow disk `,direct`) "
      "against QEMU q35 with the same policies where QEMU has them: one "
      "IOThread per queue (`iothread-vq-mapping`) with adaptive polling "
      "up to 1 ms (`poll-max-ns=1000000`), `aio=io_uring`, `cache=none` "
      "on the slow disk, `-netdev tap,vhost=on,poll-us=1000`. 2 vCPUs, 2 "
      "queues per disk; fio `--direct=1 --ioengine=libaio`, the RAM disk "
      "and the slow disk (device-mapper delay, %s ms per read). mmvm's "
      "deferred tx interrupt (`tx-irq-delay=auto`) has no QEMU "
      "counterpart: the row without it is the like-for-like one for "
      "the network; the default row is a finding, not a result. QEMU's "
      "polling has no CPU budget; mmvm's stops at 20 %%." %
      m.get("blk_slow_ms", "2"))
    fios = [x for x in ["fio-%s-qd%s-j%s" % (d, q, j) for d in ("vda", "vdb")
                        for q in (1, 32) for j in (1, 2)]]
    perf_table(w, t, [c for c in t2 if not c.endswith("-1q")],
               ["net"] + fios, "t2-qemu-pci")
    perf_table(w, t, [c for c in t2 if c.endswith("-1q")],
               ["fio-vda-qd32-j2", "fio-vdb-qd32-j2"], "t2-qemu-pci-1q")
    w("\n*Verdict.* Goal: mmvm at or above QEMU.\n")
    rate_goal(w, t, "t2-mmvm-notxirq", "t2-qemu-pci", "net")
    rate_goal(w, t, "t2-mmvm", "t2-qemu-pci", "net")
    for what in fios:
        rate_goal(w, t, "t2-mmvm", "t2-qemu-pci", what)
    for what in ("fio-vda-qd32-j2", "fio-vdb-qd32-j2"):
        ci = t.ratio("t2-mmvm", "t2-mmvm-1q", what, "rate")
        w("- %s: mmvm 2 queues / 1 queue = %s." % (workload_text(what),
                                                 fmt_ratio(ci)))

    w("\n## Table 3: the kernel data path\n")
    w("vhost-net on both sides (`--net ...,vhost=on`, `-netdev "
      "tap,vhost=on`): the host kernel moves the packets for both, so the "
      "difference is the transport and the guest driver. 1 vCPU.")
    perf_table(w, t, t3, ["net"], "t3-qemu-pci-vhost")
    w("\n*Verdict.* Goal: mmvm at or above QEMU.\n")
    rate_goal(w, t, "t3-mmvm-vhost", "t3-qemu-pci-vhost", "net")
    exit_goal(w, t, "t3-mmvm-vhost", "t3-qemu-pci-vhost", "net")

    w("\n## Exits by reason\n")
    w("From the traced repetition (tracefs histograms of `kvm_exit`), "
      "which is not in the tables above: the tracing itself costs time. "
      "On this machine's emulated AMD CPU: NPF is a guest access to MMIO "
      "(a doorbell or notification handled by ioeventfd, a device "
      "register, the LAPIC), MSR an x2APIC or TSC-deadline write, HLT an "
      "idle vCPU, INTR a host interrupt, VINTR an interrupt window, IOIO "
      "port I/O.")
    breakdown(w, t, t1 + t2 + t3, ["net", "fio-vda-qd1-j1",
                                   "fio-vdb-qd32-j2"])
    boot_section(w, t)
    memory_section(w, t)
    w("\n## Method\n")
    w("- One command, `bench/run`, builds everything (the VMM, the guest "
      "kernel, a static fio from Debian's source package, the benchmark "
      "initramfs with Debian's sockperf) and runs `bench/plan`: each "
      "repetition in its own outer VM, every configuration once, the "
      "order rotated from one repetition to the next.")
    w("- In the guest: `sockperf ping-pong --tcp -m 64` against `sockperf "
      "server` on the host end of a tap (one message outstanding: "
      "request/response); `fio --rw=randread --bs=4k --direct=1 "
      "--ioengine=libaio --iodepth=Q --numjobs=J --thread` (job j on vCPU "
      "j). Each workload runs once for a second unmeasured, then for the "
      "plan's seconds framed by `rr mark`: the host's `rr server` (the "
      "project's own tool, kept for this alone) snapshots KVM's counters "
      "and the VMM's CPU time while the guest waits, so the counters "
      "cover exactly the workload.")
    w("- A run taken while other processes used a quarter or more of the "
      "machine (sampled outside the nested VM) is made once more; a "
      "failed run (under the nested harness guests of either VMM now and "
      "then reset or wedge) up to twice. Medians and ranges are over "
      "repetitions; ratios are geometric means of per-repetition ratios "
      "with 95 % bootstrap intervals over repetitions.")
    w("- Reproducing: `bench/run` again on a quiet machine; "
      "`bench/tables.py build/bench/results/<date>` regenerates this page "
      "from raw results.")
    text = "\n".join(lines) + "\n"
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out)


def investigation_report(t, out, command, csv_name, plan_name):
    """A plan whose configurations are all investigations (x-...): each
    workload's table with ratios to the plan's first configuration."""
    lines = []
    w = lines.append
    p = t.plan
    configs = (p.get("table1", "") + " " + p.get("table2", "") + " " +
               p.get("table3", "")).split()
    base = configs[0]
    m = t.meta
    w("# An investigation: %s\n" % plan_name)
    w("Generated by `%s --plan %s`: %s repetition(s), each in its own "
      "outer VM, configurations in rotated order, %s s per workload. Not "
      "the benchmark (`docs/benchmarks.md`): configurations of one VMM "
      "against each other, every row changing one thing from the first. "
      "Every run is in [`%s`](%s).\n" % (
          command, plan_name, len(t.reps), p.get("secs", "?"), csv_name,
          csv_name))
    w("Measured: commit %s, %s; guest kernel %s; fio %s. Host: %s CPUs, "
      "%s, kernel %s%s. Exits, interrupts and notifications per operation "
      "transfer to hardware KVM; rates only rank the rows of this run.\n"
      % (m.get("commit", "?"), m.get("date", "?"),
         m.get("guest_kernel", "?").split()[-1], m.get("fio", "?"),
         m.get("nproc_host", "?"), m.get("cpu_host", "?").strip(),
         m.get("kernel_host", "?"),
         " (itself a VM: the nested harness)" if m.get("nested") else ""))
    workloads = ["net"] + ["fio-%s-qd%s-j%s" % (d, q, j)
                           for d in ("vda", "vdb") for q in (1, 32)
                           for j in (1, 2)]
    workloads = [x for x in workloads
                 if any(t.fig(c, r, x) for c in configs for r in t.reps)]
    perf_table(w, t, configs, workloads, base)
    w("\n" + COLUMNS_TEXT)
    w("\n*Ratios to %s* (rate):\n" % LABEL.get(base, base))
    for what in workloads:
        for c in configs[1:]:
            w("- %s: %s = %s." % (workload_text(what), LABEL.get(c, c),
                                  fmt_ratio(t.ratio(c, base, what,
                                                    "rate"))))
    text = "\n".join(lines) + "\n"
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--md")
    ap.add_argument("--csv")
    ap.add_argument("--command", default="bench/run")
    a = ap.parse_args(argv)
    t = Tables(a.results)
    if not t.runs:
        sys.exit("tables.py: no runs in %s" % a.results)
    md = a.md or os.path.join(a.results, "benchmarks.md")
    csv_path = a.csv or os.path.join(a.results, "benchmarks-runs.csv")
    write_csv(t, csv_path)
    rel = os.path.relpath(csv_path, os.path.dirname(os.path.abspath(md)))
    configs = " ".join(t.plan.get(k, "") for k in
                       ("table1", "table2", "table3")).split()
    if configs and all(c.startswith("x-") for c in configs):
        investigation_report(t, md, a.command, rel,
                             t.meta.get("plan", "?").split()[0] or
                             "an investigation plan")
    else:
        report(t, md, a.command, rel)


if __name__ == "__main__":
    main(sys.argv[1:])
