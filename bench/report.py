#!/usr/bin/env python3
"""Turn one bench/inner.sh results directory into docs/benchmarks.md (and
the data file gnuplot draws docs/benchmarks.png from).

    bench/report.py RESULTS_DIR --md OUT.md --dat OUT.dat --command "..."

Per run (RESULTS_DIR/runs: "<id> <config> <rep> <status>") it reads:
  <id>.log            "[seconds] line" console, with BENCH-RESULT lines
  <id>.<mark>         counters at the guest's marks (bench/rr/kvm_snapshot.c):
                      "kvm <name> <value>", "mem VmHWM <kB>",
                      "hist <event>" + "  { key: v, ... } hitcount: n"
  <id>.mmvm-stats     mmvm --stats (cross-check of the totals)
  host-samples        this machine's load and the harness's CPU time,
                      sampled outside the nested VM (bench/benchstats.py)
  load                inner.sh's load verdict per run
Figures per configuration are medians over the repetitions with the
min-max spread; ratios between configurations are geometric means of the
per-repetition ratios with a 95 % paired bootstrap interval
(bench/benchstats.py). Standard library only.

    bench/report.py RESULTS_DIR --ci-check PERCENT

exits 0 when every headline ratio's interval is within ±PERCENT, 1 when
one is wider or has too few repetitions (bench/inner.sh's adaptive
repetitions), printing the intervals.
"""
import argparse
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchstats  # noqa: E402

CONFIGS = [
    ("qemu-pci", "QEMU q35, virtio-pci (MSI-X)"),
    ("qemu-mmio", "QEMU microvm, virtio-mmio (legacy IRQ)"),
    ("mmvm-v2", "mmvm, plain virtio-mmio 1.2 (legacy IRQ)"),
    ("mmvm-msi-nodb", "mmvm, MSI only (default layout, --no-doorbells)"),
    ("mmvm-msi", "mmvm, MSI + doorbells (default: feature bits, block and net poll=auto, tx-irq-delay=auto)"),
    ("mmvm-msi-nopoll", "mmvm, MSI + doorbells, no block polling (--disk ...,poll=0)"),
    ("mmvm-v3", "mmvm, v3 (2019 layout) MSI + doorbells"),
    ("mmvm-v3-msi", "mmvm, v3 MSI only"),
    ("mmvm-v3-nomsi", "mmvm, v3 doorbells, legacy IRQ (--no-msi)"),
    ("mmvm-msi-pin", "mmvm, MSI + doorbells, pinned vCPU (--cpus 1,pin)"),
    ("mmvm-msi-poll", "mmvm, MSI + doorbells, block polling (--disk ...,poll=1000)"),
    ("mmvm-msi-pin-poll",
     "mmvm, MSI + doorbells, pinned vCPU and block polling"),
    ("mmvm-msi-netpoll",
     "mmvm, MSI + doorbells, block and net polling (poll=1000 both)"),
    ("mmvm-msi-nonetpoll",
     "mmvm, MSI + doorbells, no net polling (--net ...,poll=0)"),
    ("mmvm-msi-notxirq",
     "mmvm, MSI + doorbells, tx interrupt at once (--net ...,tx-irq-delay=0)"),
    ("mmvm-msi-txirq",
     "mmvm, MSI + doorbells, tx interrupt put off (--net ...,tx-irq-delay=5000)"),
    ("qemu-pci-pin", "QEMU q35, virtio-pci, pinned vCPU, kvm-hint-dedicated=on"),
    ("qemu-pci-vhost", "QEMU q35, virtio-pci, vhost=on"),
    ("mmvm-v3-vhost", "mmvm, v3 MSI + doorbells, vhost=on"),
    ("mmvm-v2-blk1q", "mmvm plain, 2 vCPUs, 1 blk queue"),
    ("mmvm-v2-blk2q", "mmvm plain, 2 vCPUs, 2 blk queues"),
    ("mmvm-msi-blk1q", "mmvm MSI + doorbells, 2 vCPUs, 1 blk queue"),
    ("mmvm-msi-blk2q", "mmvm MSI + doorbells, 2 vCPUs, 2 blk queues"),
    ("qemu-pci-blk1q", "QEMU q35 virtio-pci, 2 vCPUs, 1 blk queue"),
    ("qemu-pci-blk2q", "QEMU q35 virtio-pci, 2 vCPUs, 2 blk queues"),
    ("mmvm-msi-blk1q-poll",
     "mmvm MSI + doorbells, poll, 2 vCPUs, 1 blk queue"),
    ("mmvm-msi-blk2q-poll",
     "mmvm MSI + doorbells, poll, 2 vCPUs, 2 blk queues"),
    ("qemu-mmio-blk1q", "QEMU microvm virtio-mmio, 2 vCPUs, 1 blk queue"),
    ("qemu-mmio-blk2q", "QEMU microvm virtio-mmio, 2 vCPUs, 2 blk queues"),
    ("mmvm-v2-blk1q-slow", "mmvm plain, 2 vCPUs, 1 blk queue, slow disk"),
    ("mmvm-v2-blk2q-slow", "mmvm plain, 2 vCPUs, 2 blk queues, slow disk"),
    ("mmvm-msi-blk1q-slow",
     "mmvm MSI + doorbells, 2 vCPUs, 1 blk queue, slow disk"),
    ("mmvm-msi-blk2q-slow",
     "mmvm MSI + doorbells, 2 vCPUs, 2 blk queues, slow disk"),
    ("qemu-pci-blk1q-slow",
     "QEMU q35 virtio-pci, 2 vCPUs, 1 blk queue, slow disk"),
    ("qemu-pci-blk2q-slow",
     "QEMU q35 virtio-pci, 2 vCPUs, 2 blk queues, slow disk"),
]
LABEL = dict(CONFIGS)

SEED = {  # netperf TCP_RR trans/s claimed by the 2019 series
    "virtio-pci": 9720, "virtio-mmio legacy": 7020, "virtio-mmio MSI": 9520}

# KVM exit codes (the kvm_exit tracepoint's exit_reason).
SVM_EXITS = {
    0x060: "INTR", 0x061: "NMI", 0x062: "SMI", 0x063: "INIT",
    0x064: "VINTR", 0x06e: "RDTSC", 0x072: "CPUID", 0x077: "PAUSE",
    0x078: "HLT", 0x079: "INVLPG", 0x07b: "IOIO", 0x07c: "MSR",
    0x07f: "SHUTDOWN", 0x081: "VMMCALL", 0x08d: "XSETBV", 0x400: "NPF",
    0x401: "AVIC_IPI", 0x402: "AVIC_NOACCEL", 0x018: "WRITE_CR8",
}
VMX_EXITS = {
    0: "EXCEPTION_NMI", 1: "EXTERNAL_INTERRUPT", 7: "INTERRUPT_WINDOW",
    10: "CPUID", 12: "HLT", 18: "VMCALL", 28: "CR_ACCESS",
    30: "IO_INSTRUCTION", 31: "MSR_READ", 32: "MSR_WRITE", 40: "PAUSE",
    44: "APIC_ACCESS", 45: "EOI_INDUCED", 48: "EPT_VIOLATION",
    49: "EPT_MISCONFIG", 52: "PREEMPTION_TIMER", 56: "APIC_WRITE",
}
# Why each kind of exit happens in a request/response loop and what would
# remove it (for the closing note).
WHY = {
    "HLT": ("the vCPU idles between sending a request and the response's "
            "interrupt", "guest halt polling (cpuidle-haltpoll) or "
            "idle=poll keeps the vCPU in the guest; host halt_poll_ns "
            "only shortens the wake-up, the exit stays"),
    "NPF": ("MMIO: virtqueue notifications (doorbell / QueueNotify "
            "writes, ioeventfd), xAPIC EOI and timer register writes",
            "notification suppression (EVENT_IDX, already on) removes "
            "redundant kicks; device-side polling (mmvm's default "
            "--net ...,poll=auto, vhost's busyloop_timeout) removes most "
            "of the rest; x2APIC + PV EOI removes the EOI write for edge "
            "(MSI) interrupts"),
    "EPT_VIOLATION": ("MMIO: notifications, LAPIC", "as NPF"),
    "EPT_MISCONFIG": ("MMIO: notifications (fast MMIO path)", "as NPF"),
    "MSR": ("TSC-deadline timer reprogramming around idle, x2APIC EOI",
            "a timer that does not re-arm on every idle entry "
            "(nohz tuning), PV EOI, APICv/AVIC"),
    "MSR_WRITE": ("TSC-deadline timer, x2APIC EOI", "as MSR"),
    "INTR": ("host interrupts while the guest runs (host timer, tap and "
             "I/O thread wake-ups)", "isolating the vCPU's host CPU; "
             "posted interrupts"),
    "EXTERNAL_INTERRUPT": ("host interrupts", "as INTR"),
    "VINTR": ("interrupt window: an interrupt became pending while the "
              "guest had interrupts off", "AVIC/APICv posted delivery"),
    "INTERRUPT_WINDOW": ("interrupt window", "APICv posted delivery"),
    "IOIO": ("port I/O: legacy PIC/PIT/serial accesses", "not expected "
             "in the loop; serial output would show up here"),
    "IO_INSTRUCTION": ("port I/O", "as IOIO"),
    "CPUID": ("CPUID instructions in the guest (always intercepted)",
              "nothing on the device side; only fewer CPUID calls"),
}

# Linux's local APIC timer vector and legacy IRQ 0 (PIT): timer ticks.
TIMER_VECTORS = (0xec, 0x30)

# kvm_mmio tracepoint types: a read KVM could not satisfy in the kernel is
# traced twice (before and after the VMM answers it).
MMIO_TYPE = {0: " read (to VMM)", 1: " read", 2: ""}

HIST_LINE = re.compile(r"\{(.*)\}\s*hitcount:\s*(\d+)")
KEY_VAL = re.compile(r"(\w+):\s*(0x[0-9a-fA-F]+|-?\d+)")


def read_stats(path):
    """kvm counters, mem figures and histograms of one mark file."""
    kvm, mem, hists, cpu = {}, {}, {}, {}
    when = None
    cur = None
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                if parts[0] == "time" and len(parts) == 2:
                    try:
                        when = float(parts[1])
                    except ValueError:
                        pass
                elif parts[0] == "kvm" and len(parts) == 3:
                    kvm[parts[1]] = int(parts[2])
                elif parts[0] == "mem" and len(parts) == 3:
                    mem[parts[1]] = int(parts[2])
                elif parts[0] == "cpu" and len(parts) >= 3 and \
                        all(re.match(r"^\d+(\.\d+)?$", x)
                            for x in parts[2:]):
                    cpu[parts[1]] = [float(x) for x in parts[2:]]
                elif parts[0] == "load" and len(parts) >= 2:
                    try:
                        cpu["load"] = [float(x) for x in parts[1:]]
                    except ValueError:
                        pass
                elif parts[0] == "hist" and len(parts) == 2:
                    cur = hists.setdefault(parts[1], [])
                else:
                    m = HIST_LINE.search(line)
                    if m and cur is not None:
                        keys = tuple((k, int(v, 0)) for k, v in
                                     KEY_VAL.findall(m.group(1)))
                        cur.append((keys, int(m.group(2))))
    except FileNotFoundError:
        return None
    return {"kvm": kvm, "mem": mem, "hist": hists, "time": when, "cpu": cpu}


def parse_log(path):
    res = {"boot_ms": None, "mmvm_boot_ms": None, "net": None, "blk": None,
           "errors": [], "interrupts": []}
    in_irq = False
    try:
        f = open(path, errors="replace")
    except FileNotFoundError:
        return res
    with f:
        for line in f:
            m = re.match(r"\[\s*([\d.]+)\]\s?(.*)", line.rstrip("\n"))
            if not m:
                continue
            t, text = float(m.group(1)), m.group(2)
            if "MMVM-GUEST" in text and res["boot_ms"] is None:
                res["boot_ms"] = t * 1000
            mb = re.search(r"mmvm: boot-to-init (\d+(?:\.\d+)?) ms", text)
            if mb:
                res["mmvm_boot_ms"] = float(mb.group(1))
            if text.startswith("BENCH-RESULT"):
                kv = dict(re.findall(r"(\w+)=(\S+)", text))
                what = kv.get("what")
                if what in ("net", "blk"):
                    res[what] = kv
            if text.startswith("BENCH-ERROR"):
                res["errors"].append(text)
            if text.startswith("BENCH-INTERRUPTS"):
                in_irq = True
                continue
            if text.startswith("BENCH-DONE") or text.startswith("MMVM-TEST"):
                in_irq = False
            if in_irq:
                res["interrupts"].append(" ".join(text.split()))
    return res


def delta(begin, end, name):
    if not begin or not end:
        return None
    if name not in begin["kvm"] or name not in end["kvm"]:
        return None
    return end["kvm"][name] - begin["kvm"][name]


def exit_name(code, vendor):
    table = VMX_EXITS if vendor == "GenuineIntel" else SVM_EXITS
    return table.get(code, "0x%x" % code)


def gpa_label(gpa):
    if 0xfee00000 <= gpa < 0xfee01000:
        off = gpa - 0xfee00000
        return {0xb0: "LAPIC EOI", 0x380: "LAPIC timer TMICT",
                0x300: "LAPIC ICR"}.get(off, "LAPIC +0x%x" % off)
    if 0xfec00000 <= gpa < 0xfec01000:
        return "IOAPIC +0x%x" % (gpa - 0xfec00000)
    if 0xd0000000 <= gpa < 0xd0000000 + 16 * 0x2000:   # mmvm windows
        slot, off = divmod(gpa - 0xd0000000, 0x2000)
        return "mmvm dev%d %s" % (slot, mmio_reg(off))
    if 0xfeb00000 <= gpa < 0xfeb00000 + 24 * 0x200:     # QEMU microvm
        slot, off = divmod(gpa - 0xfeb00000, 0x200)
        return "microvm dev%d %s" % (slot, mmio_reg(off))
    return "MMIO 0x%x" % gpa


def mmio_reg(off):
    if off >= 0x1000:
        return "doorbell +0x%x" % (off - 0x1000)
    return {0x50: "QueueNotify", 0x60: "InterruptStatus",
            0x64: "InterruptACK", 0x70: "Status",
            0xc2: "MSICommand"}.get(off, "+0x%x" % off)


class Run:
    def __init__(self, d, rid, config, rep, status, vendor, samples=(),
                 verdict=None):
        self.id, self.config, self.rep, self.status = rid, config, rep, status
        base = os.path.join(d, rid)
        self.samples = samples
        self.load = benchstats.run_load(samples, rid) if samples else None
        # inner.sh's verdict, taken while it ran; else from the samples.
        self.verdict = verdict or benchstats.verdict(self.load)
        self.hz = 100
        self.log = parse_log(base + ".log")
        self.marks = {m: read_stats("%s.%s" % (base, m)) for m in
                      ("idle-begin", "idle-end", "net-begin", "net-end",
                       "blk-begin", "blk-end", "done")}
        self.vendor = vendor
        self.mmvm_stats = {}
        try:
            with open(base + ".mmvm-stats") as f:
                for line in f:
                    p = line.split()
                    if len(p) == 2 and re.match(r"^-?\d+$", p[1]):
                        self.mmvm_stats[p[0]] = int(p[1])
        except FileNotFoundError:
            pass

    def count(self, what):
        r = self.log[what]
        if not r:
            return None
        n = r.get("trans") or r.get("reads")
        return int(n) if n else None

    def rate(self, what):
        r = self.log[what]
        if not r:
            return None
        v = r.get("rate") or r.get("iops")
        return float(v) if v else None

    def window(self, what):
        b, e = self.marks[what + "-begin"], self.marks[what + "-end"]
        if not b or not e or b["time"] is None or e["time"] is None:
            return None
        return e["time"] - b["time"]

    def idle_rate(self, counter):
        """Background rate (per second) of a counter while the guest only
        sleeps: timer ticks and what they bring (HLT wake-ups, EOIs)."""
        t = self.window("idle")
        d = delta(self.marks["idle-begin"], self.marks["idle-end"], counter)
        if not t or d is None:
            return None
        return d / t

    def per_op(self, what, counter, net_of_idle=False):
        n = self.count(what)
        d = delta(self.marks[what + "-begin"], self.marks[what + "-end"],
                  counter)
        if not n or d is None:
            return None
        if net_of_idle:
            rate, t = self.idle_rate(counter), self.window(what)
            if rate is None or t is None:
                return None
            d -= rate * t
        return d / n

    def hist_per_op(self, what, event, net_of_idle=False):
        """{key tuple: count per operation} of one histogram."""
        n = self.count(what)
        end = self.marks[what + "-end"]
        if not n or not end or event not in end["hist"]:
            return None
        h = {k: c / n for k, c in end["hist"][event]}
        if net_of_idle:
            idle = self.marks["idle-end"]
            ti, tw = self.window("idle"), self.window(what)
            if not idle or not ti or tw is None or \
                    event not in idle["hist"]:
                return None
            for k, c in idle["hist"][event]:
                h[k] = h.get(k, 0) - c / ti * tw / n
        return h

    def cpu_per_op(self, what, kind):
        """CPU µs per operation: "vmm" the VMM process (utime + stime, all
        threads), "host" the whole KVM host machine's busy time (under the
        nested harness: the outer VM seen from inside), "outer" the
        benchmark's process tree seen from outside (the outer VM process),
        from the host-side samples taken inside the workload's window."""
        n = self.count(what)
        b, e = self.marks[what + "-begin"], self.marks[what + "-end"]
        if not n or not b or not e:
            return None
        hz = (e["cpu"].get("vmm") or [0, 0, 100])[2] or 100
        if kind == "vmm":
            if "vmm" not in b["cpu"] or "vmm" not in e["cpu"]:
                return None
            d = sum(e["cpu"]["vmm"][:2]) - sum(b["cpu"]["vmm"][:2])
            return d / hz * 1e6 / n
        if kind == "host":
            if "host" not in b["cpu"] or "host" not in e["cpu"]:
                return None

            def busy(v):
                v = v + [0] * (8 - len(v))
                return v[0] + v[1] + v[2] + v[5] + v[6]
            d = busy(e["cpu"]["host"]) - busy(b["cpu"]["host"])
            return d / hz * 1e6 / n
        if kind == "outer":
            t = self.window(what)
            rate = benchstats.tree_rate(self.samples, self.id,
                                        what + "-begin", self.samples_hz)
            if rate is None or not t:
                return None
            return rate * t * 1e6 / n
        raise ValueError(kind)

    samples_hz = 100

    def ok(self):
        return self.status == 0 and (self.log["net"] is not None or
                                     self.log["blk"] is not None)

    def mem_kb(self, field):
        for m in ("done", "blk-end", "net-end"):
            s = self.marks[m]
            if s and field in s["mem"]:
                return s["mem"][field]
        return None

    def own_kb(self):
        """VmRSS less the guest RAM mapping's Rss, from one snapshot."""
        for m in ("done", "blk-end", "net-end"):
            s = self.marks[m]
            if s and "VmRSS" in s["mem"] and "GuestRss" in s["mem"]:
                return s["mem"]["VmRSS"] - s["mem"]["GuestRss"]
        return None


def med(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return statistics.median(v), min(v), max(v), len(v)


def fmt(m, digits=0, spread=True):
    if m is None:
        return "n/a"
    mid, lo, hi, n = m
    f = "%%.%df" % digits
    s = f % mid
    if spread and n > 1:
        s += " (" + f % lo + "–" + f % hi + ")"
    return s


def select(runs):
    """One run per configuration and repetition: of the runs made (a run
    taken on a loaded machine is made once more), the one that finished
    and was not loaded, else the finished one with the least load from
    other processes, else the last. Returns (chosen, set aside)."""
    groups = {}
    for r in runs:
        groups.setdefault((r.config, r.rep), []).append(r)
    chosen, aside = [], []
    for key in sorted(groups, key=lambda k: (k[0], k[1])):
        g = groups[key]

        def rank(r):
            others = r.load["others"] if r.load else 1.0
            return (not r.ok(), r.verdict == "high", others,
                    -g.index(r))
        best = min(g, key=rank)
        chosen.append(best)
        aside += [r for r in g if r is not best]
    return chosen, aside


# The optional vhost-net pair (issue 11): TCP_RR with the kernel's vhost-net
# moving the packets, mmvm over QEMU; with the userspace-backend configs of
# the same families beside them when they were run too.
VHOST = ("mmvm-v3-vhost", "qemu-pci-vhost")
VHOST_REF = ("mmvm-v3", "qemu-pci")
# The block multi-queue configurations: 2 vCPUs, only the idle and blk
# workloads (no TCP_RR), per family the 1-queue and the 2-queue device.
BLK_MQ = [("mmvm plain (v2)", "mmvm-v2-blk1q", "mmvm-v2-blk2q"),
          ("mmvm MSI + doorbells", "mmvm-msi-blk1q", "mmvm-msi-blk2q"),
          ("mmvm MSI + doorbells, --disk poll=US", "mmvm-msi-blk1q-poll",
           "mmvm-msi-blk2q-poll"),
          ("QEMU q35 virtio-pci", "qemu-pci-blk1q", "qemu-pci-blk2q"),
          ("QEMU microvm virtio-mmio", "qemu-mmio-blk1q", "qemu-mmio-blk2q"),
          ("mmvm plain (v2), slow disk", "mmvm-v2-blk1q-slow",
           "mmvm-v2-blk2q-slow"),
          ("mmvm MSI + doorbells, slow disk", "mmvm-msi-blk1q-slow",
           "mmvm-msi-blk2q-slow"),
          ("QEMU q35 virtio-pci, slow disk", "qemu-pci-blk1q-slow",
           "qemu-pci-blk2q-slow")]
NO_NET = {c for _, c1, c2 in BLK_MQ for c in (c1, c2)}

# Headline ratios: the default mmvm against the QEMU peer and against plain
# virtio-mmio, in TCP_RR and 4 KiB reads (higher is better).
HEADLINE = [("mmvm-msi", "qemu-pci"), ("mmvm-msi", "mmvm-v2")]
METRICS = {
    "rr": ("TCP_RR trans/s", lambda r: r.rate("net"), True),
    "iops": ("4K read IOPS", lambda r: r.rate("blk"), True),
    "vmm_rr": ("VMM CPU per transaction", lambda r: r.cpu_per_op(
        "net", "vmm"), False),
    "vmm_blk": ("VMM CPU per read", lambda r: r.cpu_per_op(
        "blk", "vmm"), False),
    # Exits per operation with the idle background removed, as the tables
    # give them (a repetition whose removal leaves nothing above zero
    # drops out of the ratio).
    "x_rr": ("exits / transaction", lambda r: r.per_op(
        "net", "exits", True), False),
    "x_blk": ("exits / read", lambda r: r.per_op(
        "blk", "exits", True), False),
    "boot": ("boot to /init", lambda r: r.log["boot_ms"], False),
    "own": ("VMM own memory (RSS less guest RAM)", lambda r: r.own_kb(),
            False),
}


def ratio_ci(by, a_, b_, metric, seed):
    get = METRICS[metric][1]
    ra = {r.rep: get(r) for r in by.get(a_) or []}
    rb = {r.rep: get(r) for r in by.get(b_) or []}
    pairs = [(ra[k], rb[k]) for k in sorted(ra) if k in rb]
    return benchstats.paired_ratio(pairs, seed=seed)


def fmt_ci(ci, digits=2):
    if ci is None:
        return "n/a"
    f = "%%.%df" % digits
    if ci[1] is None:
        return (f % ci[0]) + " (n=%d)" % ci[3]
    return (f + " [" + f + "–" + f + "]") % ci[:3]


def verdict_text(ci, higher_better=True):
    sig = benchstats.significant(ci)
    if sig is None:
        return "n/a (fewer than 3 pairs)" if ci else "n/a"
    if not sig:
        return "no"
    up = ci[1] > 1.0
    return "yes, %s" % ("higher" if up else "lower") + (
        "" if higher_better is None else
        " (better)" if up == higher_better else " (worse)")


def load_results(d):
    meta = {}
    try:
        with open(os.path.join(d, "meta")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                meta[k] = v.strip()
    except FileNotFoundError:
        pass
    vendor = meta.get("vendor", "AuthenticAMD")
    samples = benchstats.read_samples(os.path.join(d, "host-samples"))
    hz = 100
    try:
        with open(os.path.join(d, "host-samples")) as f:
            m = re.match(r"hz (\d+)", f.readline())
            hz = int(m.group(1)) if m else 100
    except (FileNotFoundError, ValueError):
        pass
    verdicts = {}
    try:
        with open(os.path.join(d, "load")) as f:
            for line in f:
                p = line.split()
                if len(p) >= 2:
                    verdicts[p[0]] = p[1]
    except FileNotFoundError:
        pass
    runs = []
    try:
        with open(os.path.join(d, "runs")) as f:
            for line in f:
                p = line.split()
                if len(p) == 4:
                    r = Run(d, p[0], p[1], int(p[2]), int(p[3]), vendor,
                            samples, verdicts.get(p[0]))
                    r.samples_hz = hz
                    runs.append(r)
    except FileNotFoundError:
        pass
    return meta, runs, samples


def ci_check(d, percent, seed):
    meta, runs, _ = load_results(d)
    chosen, _ = select(runs)
    by = {}
    for r in chosen:
        by.setdefault(r.config, []).append(r)
    ok, seen = True, 0
    for a_, b_ in HEADLINE:
        if a_ not in by or b_ not in by:
            continue
        for m in ("rr", "iops"):
            ci = ratio_ci(by, a_, b_, m, seed)
            hw = benchstats.half_width(ci)
            seen += 1
            print("ci-check: %s / %s %s: %s, ±%s" % (
                a_, b_, METRICS[m][0], fmt_ci(ci),
                "%.1f %%" % (hw * 100) if hw is not None else "?"))
            if hw is None or hw > percent / 100:
                ok = False
    if not seen:
        print("ci-check: no headline pair among the configurations run: "
              "nothing to wait for")
    return 0 if ok else 1


def method_text(load_max="0.25", seed=None):
    """The "## Method" section: what is measured, how the intervals are
    made, what "significant" and "loaded" mean. Also pasted into
    docs/benchmarks.md by hand when its figures predate it."""
    return [
        "## Method",
        "",
        "- **Repetitions**: every configuration boots once per repetition, "
        "all with the same guest kernel, initramfs, 1 vCPU and memory; the "
        "order rotates from one repetition to the next (A B C, B C A, "
        "C A B, …), so that a slow stretch of the machine hits every "
        "configuration alike and none is always first. At least `--reps` "
        "(7) repetitions; then more, up to `--max-reps` (12), while the "
        "95 % interval of a headline ratio (mmvm MSI + doorbells against "
        "QEMU virtio-pci and against mmvm plain, in TCP_RR trans/s and "
        "4 KiB read IOPS) is wider than ±`--ci` % (10).",
        "- **Per-configuration figures** are medians over the repetitions "
        "with the min–max spread.",
        "- **Ratios** A/B are the geometric mean of the per-repetition "
        "ratios A_r/B_r (A and B measured minutes apart in the same "
        "repetition: the machine's drift between repetitions cancels). "
        "The 95 %% interval is a percentile bootstrap over the repetitions: "
        "%d resamples of the repetitions with replacement, the interval "
        "between the 2.5th and 97.5th percentile of the resampled ratios; "
        "the random generator is seeded (%s) so the same data gives the "
        "same report (`bench/benchstats.py`, Python standard library)."
        % (benchstats.BOOTSTRAP_N, seed if seed is not None
           else benchstats.SEED),
        "- **Significant** means the 95 % interval excludes 1.0. With few "
        "repetitions the percentile bootstrap is too narrow: on simulated "
        "log-normal ratios it holds the true ratio 86 % of the time with 7 "
        "repetitions, 91 % with 10, so a ratio whose interval ends just "
        "past 1.0 is weak evidence. Fewer than 3 pairs give no interval "
        "(n/a).",
        "- **Host load**: `bench/run` samples, outside the nested VM, this "
        "machine's `/proc/stat` and `/proc/loadavg` and the CPU time of "
        "the process tree it started (under the nested harness, the outer "
        "VM) every 0.5 s; each sample belongs to the run and workload "
        "under way. *Others* is the share of the machine's CPU capacity "
        "busy outside that tree, *steal* the share the machine's own "
        "hypervisor took. A run with others ≥ %s or steal ≥ %.2f is "
        "*loaded*: it is made once more straight away, and the report uses "
        "the run that was not loaded (or the less loaded of the two)."
        % (load_max, benchstats.HIGH_STEAL),
        "- **CPU per operation**: user + system time of the VMM process "
        "(all threads, the guest's execution in its vCPU threads "
        "included: `/proc/PID/stat` at the guest's marks), of the whole "
        "KVM host (busy time of its `/proc/stat`: under the nested harness "
        "the outer VM seen from inside, which adds `rr server`, the tap "
        "and the host kernel), and of the outer VM's process seen from "
        "outside (its CPU rate over the samples inside the workload "
        "times the workload's duration), each divided by the transactions "
        "or reads. Clock-tick resolution (10 ms) over a 10 s workload. "
        "Under the nested harness the first two are counted by the outer "
        "VM's kernel on its own clock: while the real machine deschedules "
        "the outer VM's vCPU threads (a loaded machine), that time is "
        "counted as busy too, so on a loaded machine they exceed the outer "
        "VM column, which is the real cost.",
        "- **Exits per operation** come from KVM's counters at the same "
        "marks; they depend on the code path, not on the machine's speed, "
        "and need no interval (their spread is shown).",
        "",
    ]


# boot-pairs (inner.sh): short boots of mmvm's default and QEMU microvm,
# one right after the other, run ids r<rep>-boot<k>-<vmm>.
BOOT_PAIR = ("mmvm-msi-boot", "qemu-mmio-boot")


def boot_pairs(runs):
    """[(mmvm ms, microvm ms), ...] of the boot pairs whose two boots both
    finished, in run order."""
    got = {}
    for r in runs:
        m = re.match(r"r(\d+)-boot(\d+)-", r.id)
        if m and r.status == 0 and r.log["boot_ms"]:
            got.setdefault((int(m.group(1)), int(m.group(2))),
                           {})[r.config] = r.log["boot_ms"]
    return [(v[BOOT_PAIR[0]], v[BOOT_PAIR[1]]) for _, v in sorted(got.items())
            if len(v) == 2]


def boot_pairs_section(w, runs, seed, per_rep):
    if not runs:
        return
    pairs = boot_pairs(runs)
    w("## Boot to /init, paired short boots")
    w("")
    w("`boot-pairs`: per repetition %s pairs of boots in which the guest "
      "does no workload (`bench.what=` empty) and powers off once it is up, "
      "mmvm's default (MSI + doorbells) and QEMU microvm one right after "
      "the other, which of them first alternating from pair to pair; the "
      "same kernel, initramfs, devices and command line as every run, "
      "boot to /init from the VMM's start to the guest /init's first line. "
      "The ratio is the geometric mean of the per-pair ratios with a 95 %% "
      "bootstrap interval over the pairs (seed %s). Pairs in which either "
      "boot failed are left out: %d of %d boots failed." % (
          per_rep, seed, sum(1 for r in runs if r.status != 0), len(runs)))
    w("")
    if not pairs:
        w("No pair with both boots finished.")
        w("")
        return
    ci = benchstats.paired_ratio(pairs, seed=seed)
    w("| pairs | mmvm boot to /init ms | QEMU microvm ms | mmvm / microvm "
      "[95 % interval] | significant |")
    w("| ---: | ---: | ---: | ---: | --- |")
    w("| %d | %s | %s | %s | %s |" % (
        len(pairs), fmt(med([a for a, _ in pairs])),
        fmt(med([b for _, b in pairs])),
        fmt_ci(ci), verdict_text(ci, False)))
    w("")


def ratio_row(w, by, a_, b_, m, seed, label):
    ci = ratio_ci(by, a_, b_, m, seed)
    w("| %s | %s | %s | %s |" % (label, METRICS[m][0], fmt_ci(ci),
                                 verdict_text(ci, METRICS[m][2])))


def vhost_section(w, wanted, rows, by, seed, why_missing):
    """TCP_RR with vhost=on: QEMU q35 virtio-pci against mmvm v3, only
    when at least one of the two was run."""
    if not any(c in wanted for c in VHOST):
        return
    w("## TCP_RR with vhost-net (vhost=on)")
    w("")
    w("The tap's packets moved by the host kernel's vhost-net instead of "
      "the VMM's userspace backend: QEMU `-netdev tap,vhost=on` with "
      "virtio-net-pci on q35, and mmvm `--virtio-version 3 --net "
      "tap=...,vhost=on` (MSI + doorbells: KVM's ioeventfd kicks vhost "
      "and vhost signals the MSI's irqfd, neither reaches the VMM). "
      "1 vCPU, like the other TCP_RR figures; the userspace-backend "
      "configurations of the same two families are listed when they ran "
      "too.")
    w("")
    w("| configuration | TCP_RR trans/s | mean latency µs | exits / trans "
      "| exits / trans, background removed | VMM µs / trans |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for c in VHOST + VHOST_REF:
        if c not in wanted:
            continue
        r = rows[c]
        if r["rr"] is None:
            if c in VHOST:
                w("| %s | n/a: %s | | | | |" % (LABEL.get(c, c),
                                               why_missing(c)))
            continue
        w("| %s | %s | %s | %s | %s | %s |" % (
            LABEL.get(c, c), fmt(r["rr"]), fmt(r["lat"], 0, False),
            fmt(r["x_rr_raw"], 1), fmt(r["x_rr"], 1),
            fmt(r["cpu"][("net", "vmm")])))
    w("")
    if all(c in wanted for c in VHOST):
        w("| ratio | metric | this run [95 % interval] | significant |")
        w("| --- | --- | ---: | --- |")
        for m in ("rr", "x_rr"):
            ratio_row(w, by, VHOST[0], VHOST[1], m, seed,
                      "mmvm v3 vhost / QEMU virtio-pci vhost")
        for c_v, c_u, name in (("mmvm-v3-vhost", "mmvm-v3", "mmvm v3"),
                               ("qemu-pci-vhost", "qemu-pci",
                                "QEMU virtio-pci")):
            if c_u in wanted:
                ratio_row(w, by, c_v, c_u, "rr", seed,
                          "%s: vhost / userspace backend" % name)
        w("")
        w("Ratios as above: geometric mean of the per-repetition ratios, "
          "95 % paired bootstrap interval; exits per transaction with the "
          "idle background removed (lower is better).")
        w("")


def blk_mq_section(w, wanted, rows, by, seed, why_missing, slow_ms="?"):
    """4 KiB random reads from 2 vCPUs through 1 or 2 virtio-blk queues,
    per family; only the families of which a configuration was run."""
    fams = [f for f in BLK_MQ if f[1] in wanted or f[2] in wanted]
    if not fams:
        return
    w("## Block multi-queue: 4 KiB random reads from 2 vCPUs, 1 vs 2 queues")
    w("")
    # How blkread kept the reads in flight (its engine= field): native
    # AIO, or threads where the guest kernel has no CONFIG_AIO.
    engines = sorted({r.log["blk"].get("engine", "?")
                      for f in fams for c in f[1:] for r in by.get(c) or []
                      if r.log["blk"]})
    how = {"aio": "Linux native AIO",
           "psync-threads": "16 threads per job on the job's vCPU, each "
           "with one pread outstanding (the guest kernel has no "
           "CONFIG_AIO; fio's psync engine)"}
    w("2 vCPUs, idle and 4 KiB random read workloads only (no TCP_RR); "
      "`blkread -j 2 -d 16`: two jobs, job j pinned to vCPU j, each "
      "keeping 16 O_DIRECT reads in flight (fio's randread with "
      "numjobs=2, iodepth=16: iodepth is per job, so up to 32 reads are "
      "outstanding), in this run through %s. The device has 1 or 2 "
      "request queues (mmvm `--disk ...,queues=N`, QEMU "
      "`virtio-blk-pci,num-queues=N`); with 2, each vCPU submits through "
      "its own queue. Exits per read with the idle background (both "
      "vCPUs' ticks) removed; 2q/1q: geometric mean of the per-repetition "
      "ratios with a 95 %% paired bootstrap interval." % (
          " / ".join(how.get(e, e) for e in engines) or "n/a"))
    w("")
    if any("slow" in f[0] for f in fams):
        w("*Slow disk*: the same image behind a device-mapper `delay` "
          "target (each read waits at least %s ms in the host kernel, "
          "as on a disk rather than a page cache; the target's timer "
          "counts in jiffies, so a read alone takes longer), read with "
          "O_DIRECT by both VMMs (mmvm `--disk ...,direct`, QEMU "
          "`cache=none` with its thread pool). Here the backend's "
          "latency, not the VM exits, bounds the IOPS: a device with R "
          "reads outstanding at its backend does at most R / latency "
          "reads a second." % slow_ms)
        w("")
    w("| device | IOPS, 1 queue | IOPS, 2 queues | IOPS 2q/1q [95 % "
      "interval] | significant | exits / read, 1 queue | exits / read, "
      "2 queues | exits / read 2q/1q [95 % interval] |")
    w("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for name, c1, c2 in fams:
        def cell(c, key, digits):
            if c not in wanted:
                return "not run"
            if rows[c][key] is None:
                return "n/a: %s" % why_missing(c)
            return fmt(rows[c][key], digits)
        ci = ratio_ci(by, c2, c1, "iops", seed)
        cx = ratio_ci(by, c2, c1, "x_blk", seed)
        w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, cell(c1, "iops", 0), cell(c2, "iops", 0), fmt_ci(ci),
            verdict_text(ci, True), cell(c1, "x_blk", 2),
            cell(c2, "x_blk", 2), fmt_ci(cx)))
    w("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--md")
    ap.add_argument("--dat")
    ap.add_argument("--command", default="bench/run")
    ap.add_argument("--png", default="benchmarks.png")
    ap.add_argument("--seed", type=int, default=benchstats.SEED,
                    help="bootstrap seed (fixed: the report is reproducible)")
    ap.add_argument("--ci-check", type=float, metavar="PERCENT")
    a = ap.parse_args()
    if a.ci_check is not None:
        return ci_check(a.results, a.ci_check, a.seed)
    if not a.md or not a.dat:
        ap.error("--md and --dat are required")

    meta, all_runs, samples = load_results(a.results)
    vendor = meta.get("vendor", "AuthenticAMD")
    # The boot-pairs runs are many per repetition and have a section of
    # their own; every other table takes one run per configuration.
    boot_runs = [r for r in all_runs if r.config in BOOT_PAIR]
    all_runs = [r for r in all_runs if r.config not in BOOT_PAIR]
    runs, aside = select(all_runs)
    skipped = {}
    try:
        with open(os.path.join(a.results, "skipped")) as f:
            for line in f:
                k, _, why = line.rstrip("\n").partition(" ")
                skipped[k] = why
    except FileNotFoundError:
        pass

    wanted = [c for c in meta.get("configs", ",".join(
        c for c, _ in CONFIGS)).split(",") if c != "boot-pairs"]
    by = {c: [r for r in runs if r.config == c] for c in wanted}
    all_by = {c: [r for r in all_runs if r.config == c] for c in wanted}

    def why_missing(c):
        if c in skipped:
            return skipped[c]
        rs = all_by.get(c) or []
        if not rs:
            return "not run"
        errs = [e for r in rs for e in r.log["errors"]]
        if errs:
            return errs[0].replace("BENCH-ERROR ", "")
        return "runs failed (exit %s)" % ",".join(str(r.status) for r in rs)

    rows = {}
    for c in wanted:
        rs = by.get(c) or []
        rows[c] = {
            "rr": med([r.rate("net") for r in rs]),
            "lat": med([float(r.log["net"]["lat_us"]) if r.log["net"]
                        else None for r in rs]),
            "x_rr_raw": med([r.per_op("net", "exits") for r in rs]),
            "x_rr": med([r.per_op("net", "exits", True) for r in rs]),
            "iops": med([r.rate("blk") for r in rs]),
            "x_blk_raw": med([r.per_op("blk", "exits") for r in rs]),
            "x_blk": med([r.per_op("blk", "exits", True) for r in rs]),
            "idle": med([r.idle_rate("exits") for r in rs]),
            "boot": med([r.log["boot_ms"] for r in rs]),
            "mmvm_boot": med([r.log["mmvm_boot_ms"] for r in rs]),
            "hwm": med([r.mem_kb("VmHWM") / 1024 if r.mem_kb("VmHWM")
                        else None for r in rs]),
            "own": med([r.own_kb() / 1024 if r.own_kb() is not None
                        else None for r in rs]),
            "cpu": {(w_, k): med([r.cpu_per_op(w_, k) for r in rs])
                    for w_ in ("net", "blk")
                    for k in ("vmm", "host", "outer")},
            "kinds": {k: med([r.per_op("net", k, True) for r in rs]) for k in
                      ("halt_exits", "irq_exits", "mmio_exits",
                       "io_exits", "irq_window_exits", "insn_emulation",
                       "irq_injections", "signal_exits")},
            "blk_kinds": {k: med([r.per_op("blk", k, True) for r in rs])
                          for k in
                          ("halt_exits", "irq_exits", "mmio_exits",
                           "io_exits", "insn_emulation")},
        }

    nreps = meta.get("reps_done", meta.get("reps", "?"))
    if meta.get("reps_done") and meta.get("reps_done") != meta.get("reps"):
        nreps = "%s (at least %s, up to %s until the headline intervals " \
            "were within ±%s %%)" % (meta["reps_done"], meta.get("reps"),
                                     meta.get("max_reps"), meta.get("ci"))
    out = []
    w = out.append
    w("# Benchmarks: TCP request/response, 4 KiB random reads, exits")
    w("")
    w("Generated by `%s` (bench/run; raw data in `%s`) on %s." %
      (a.command, os.path.relpath(a.results), meta.get("date", "?")))
    w("")
    w("Machine: %s; KVM host kernel %s, %s CPU(s)%s. Every configuration "
      "boots the same guest kernel and initramfs with %s and %s, "
      "workloads %s s each, %s interleaved repetitions (A B C, B C A, "
      "C A B …: the order rotates); figures are medians with the min–max "
      "spread in brackets, ratios come with a 95 %% bootstrap interval "
      "(see Ratios)." %
      (meta.get("cpu_host", "?").strip(), meta.get("kernel_host", "?"),
       meta.get("nproc_host", "?"),
       ", nested: KVM runs inside a QEMU TCG (emulated CPU) virtual machine"
       if meta.get("nested") == "yes" else "",
       "1 vCPU (2 for the block multi-queue configurations)"
       if any(c in NO_NET for c in wanted) else "1 vCPU",
       meta.get("mem", "512M"),
       meta.get("secs", "?"), nreps))
    w("")
    if meta.get("qemu"):
        w("QEMU: %s (the peer%s)." % (
            meta["qemu"].strip(),
            ", and the emulator the KVM host runs on"
            if meta.get("nested") == "yes" else ""))
        w("")
    if "commit" in meta:
        w("Source tree: commit %s; guest kernel `%s` (%s); benchmark "
          "initramfs %s." % (meta["commit"],
                             meta.get("guest_kernel", "?").split()[0],
                             (meta.get("guest_kernel", "?").split() +
                              ["?"])[1], meta.get("guest_initrd", "?")))
        w("")
    if meta.get("nested") == "yes":
        w("**Absolute numbers are not bare-metal numbers.** The KVM host "
          "here is itself a guest of QEMU's software CPU emulator, so every "
          "instruction, and above all every VM exit (a world switch that "
          "TCG emulates instruction by instruction), costs tens to hundreds "
          "of times more than on hardware: trans/s are orders of magnitude "
          "below the seed's, and only ratios measured side by side in this "
          "one run mean anything; even those move by tens of percent from "
          "run to run (see the min–max spreads), because the emulating "
          "machine is shared and its load varies. **Exits per transaction do not depend on "
          "the CPU's speed** as far as they are caused by the transaction: "
          "the notifications, interrupts, EOIs, status reads and halts a "
          "request/response needs are the same on an emulated and a real "
          "CPU. What does scale with time is the background of timer ticks "
          "(the guest kernel ticks periodically; every tick is an "
          "interrupt, an EOI, often a timer reprogramming and a HLT): a "
          "transaction that lasts tens of milliseconds here collects "
          "dozens of ticks, one that lasts ~100 µs on hardware almost none. "
          "So the guest also sleeps through an idle window, the host "
          "measures that background rate, and the tables give exits per "
          "operation both raw and with background × duration removed. "
          "That removal is approximate (ticks that arrive while the vCPU is "
          "busy cause no HLT, so HLT goes below zero once the idle rate is "
          "subtracted); the exact, machine-independent figures are the I/O "
          "path counts (notifications, device interrupts, ISR reads and "
          "ACKs, EOIs, exits to the VMM), which timer ticks do not touch.")
        w("")
    for line in method_text(meta.get("load_max", "0.25"), a.seed):
        w(line)
    w("## Results")
    w("")
    w("| configuration | TCP_RR trans/s | mean latency µs | exits / trans "
      "| exits / trans, background removed | 4K randread IOPS "
      "| exits / read | exits / read, background removed "
      "| idle exits / s | boot to /init ms | VMM peak RSS MiB |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
      "| ---: |")
    for c in wanted:
        r = rows[c]
        if r["rr"] is None and r["iops"] is None and r["boot"] is None:
            w("| %s | n/a: %s | | | | | | | | | |" % (LABEL.get(c, c),
                                                     why_missing(c)))
            continue
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            LABEL.get(c, c), fmt(r["rr"]), fmt(r["lat"], 0, False),
            fmt(r["x_rr_raw"], 1), fmt(r["x_rr"], 1), fmt(r["iops"]),
            fmt(r["x_blk_raw"], 1), fmt(r["x_blk"], 1), fmt(r["idle"], 0),
            fmt(r["boot"]), fmt(r["hwm"], 1)))
    w("")
    own = [(c, rows[c].get("own")) for c in wanted
           if rows[c].get("own") is not None]
    if own:
        w("VMM's own resident memory at the end of a run (VmRSS less the "
          "Rss of its largest mapping, the guest RAM, from "
          "/proc/PID/smaps), MiB: " +
          ", ".join("%s %s" % (LABEL.get(c, c), fmt(v, 1)) for c, v in own)
          + ".")
        w("")
    w("TCP_RR: `rr client` in the guest (bench/rr/rr.c: 32-byte request, "
      "1024-byte response, one transaction outstanding, TCP_NODELAY; "
      "netperf is not in Debian) against `rr server` on the KVM host over "
      "a tap device (10.0.3.1 ↔ 10.0.3.15); QEMU uses its userspace tap "
      "backend (vhost=off), like mmvm, except in the vhost-net "
      "configurations. Random reads: bench/blkread/blkread.c"
      " (4 KiB O_DIRECT preads at random offsets, iodepth 1: fio's "
      "randread without its libraries; the block multi-queue "
      "configurations: 2 jobs at iodepth 16 each, native AIO) on a %s MiB "
      "raw image held in the "
      "host's RAM. Exits: the VM's KVM statistics (the counters "
      "KVM_GET_STATS_FD exposes, read from debugfs for every VMM alike) "
      "snapshotted by the host when the guest marks the start and end of "
      "each workload, divided by the transactions or reads done; \"background removed\" "
      "subtracts the idle window's exit rate times the workload's "
      "duration. Boot: "
      "VMM start to the guest /init's first line, on the same clock for "
      "every VMM." % meta.get("disk_mb", "?"))
    w("")

    # The block multi-queue configurations do not run TCP_RR at all.
    missing = [c for c in wanted if rows[c]["rr"] is None and
               not (c in NO_NET and rows[c]["iops"] is not None)]
    if missing:
        w("Missing figures: " + "; ".join(
            "%s: %s" % (LABEL.get(c, c), why_missing(c)) for c in missing)
          + ".")
        w("")

    w("## Ratios, with 95 % intervals")
    w("")
    w("Each ratio is the geometric mean over the repetitions of A/B, A and "
      "B measured in the same repetition (so that drift of the machine "
      "between repetitions cancels), with a 95 %% percentile bootstrap "
      "interval: the repetitions are resampled with replacement %d times "
      "(seed %d, so the report is reproducible) and the interval is the "
      "2.5th–97.5th percentile of the resampled ratios. **Significant** "
      "means the interval excludes 1.0. With few repetitions the "
      "percentile bootstrap is too narrow (see Method); read a ratio whose "
      "interval ends close to 1.0 as undecided." % (
          benchstats.BOOTSTRAP_N, a.seed))
    w("")
    w("| ratio | metric | this run [95 % interval] | significant | seed "
      "(2019 series) |")
    w("| --- | --- | ---: | --- | ---: |")
    seed_of = {("mmvm-msi", "qemu-pci", "rr"): SEED["virtio-mmio MSI"] /
               SEED["virtio-pci"],
               ("mmvm-msi", "mmvm-v2", "rr"): SEED["virtio-mmio MSI"] /
               SEED["virtio-mmio legacy"],
               ("qemu-mmio", "qemu-pci", "rr"): SEED["virtio-mmio legacy"] /
               SEED["virtio-pci"]}
    name = {"mmvm-msi": "mmvm MSI + doorbells", "qemu-pci": "QEMU virtio-pci",
            "mmvm-v2": "mmvm plain", "qemu-mmio": "QEMU virtio-mmio",
            "mmvm-msi-notxirq": "mmvm, tx-irq-delay=0",
            "mmvm-msi-nonetpoll": "mmvm, net poll=0"}
    for a_, b_, ms in [("mmvm-msi", "qemu-pci", ("rr", "iops", "vmm_rr",
                                                 "vmm_blk", "x_rr", "x_blk",
                                                 "boot", "own")),
                       ("mmvm-msi", "qemu-mmio", ("boot", "own")),
                       ("mmvm-msi", "mmvm-v2", ("rr", "iops", "vmm_rr",
                                                "vmm_blk")),
                       # What the default's put-off tx interrupt costs or
                       # saves against sending it at once.
                       ("mmvm-msi", "mmvm-msi-notxirq", ("rr", "x_rr",
                                                         "vmm_rr")),
                       # What the default's adaptive net polling saves or
                       # costs against none.
                       ("mmvm-msi", "mmvm-msi-nonetpoll", ("rr", "x_rr",
                                                           "vmm_rr")),
                       ("qemu-mmio", "qemu-pci", ("rr",))]:
        if a_ not in wanted or b_ not in wanted:
            continue
        for m in ms:
            ci = ratio_ci(by, a_, b_, m, a.seed)
            sd = seed_of.get((a_, b_, m))
            w("| %s / %s | %s | %s | %s | %s |" % (
                name.get(a_, a_), name.get(b_, b_), METRICS[m][0],
                fmt_ci(ci), verdict_text(ci, METRICS[m][2]),
                "%.2f" % sd if sd else ""))
    w("")
    w("Higher is better for trans/s and IOPS, lower for CPU and exits per "
      "operation, boot time and memory. "
      "The seed measured netperf TCP_RR on bare metal: virtio-pci %d, "
      "legacy virtio-mmio %d, virtio-mmio with MSI %d trans/s." %
      (SEED["virtio-pci"], SEED["virtio-mmio legacy"],
       SEED["virtio-mmio MSI"]))
    w("")

    boot_pairs_section(w, boot_runs, a.seed, meta.get("boot_pairs", "?"))
    vhost_section(w, wanted, rows, by, a.seed, why_missing)
    blk_mq_section(w, wanted, rows, by, a.seed, why_missing,
                   meta.get("blk_slow_ms", "?"))

    w("## CPU cost per operation")
    w("")
    w("CPU time (user + system) per TCP_RR transaction and per 4 KiB read, "
      "in µs, beside the exits per operation (background removed). VMM: "
      "the VMM process, all its threads (`/proc/PID/stat` at the guest's "
      "marks). KVM host: every CPU of the machine that runs KVM, busy time "
      "from its `/proc/stat` at the marks (%s). Outer VM: %s. The guest's "
      "own execution is part of the VMM's time (its vCPU threads); "
      "`rr server`, the tap and the kernel's share are in the KVM host "
      "column." % (
          "under the nested harness that is the outer VM, seen from inside"
          if meta.get("nested") == "yes" else "this machine, other "
          "processes' load included",
          "the CPU time of the whole process tree bench/run started "
          "(under the nested harness, the outer VM's QEMU process), sampled "
          "from outside every 0.5 s; its rate over the samples inside the "
          "workload times the workload's duration" if samples else
          "not sampled in this run"))
    w("")
    w("| configuration | VMM µs / trans | KVM host µs / trans | outer VM µs "
      "/ trans | exits / trans | VMM µs / read | KVM host µs / read "
      "| outer VM µs / read | exits / read |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in wanted:
        r = rows[c]
        if all(v is None for v in r["cpu"].values()):
            continue
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            LABEL.get(c, c), fmt(r["cpu"][("net", "vmm")]),
            fmt(r["cpu"][("net", "host")]), fmt(r["cpu"][("net", "outer")]),
            fmt(r["x_rr"], 1, False), fmt(r["cpu"][("blk", "vmm")]),
            fmt(r["cpu"][("blk", "host")]), fmt(r["cpu"][("blk", "outer")]),
            fmt(r["x_blk"], 1, False)))
    w("")

    w("## Host load")
    w("")
    loads = [r for r in all_runs if r.load]
    if not loads:
        w("Not sampled in this run (no `host-samples`): no run could be "
          "marked as taken on a loaded machine.")
    else:
        high = [r for r in all_runs if r.verdict == "high"]
        others = sorted(r.load["others"] for r in loads)
        steal = sorted(r.load["steal"] for r in loads)
        w("Sampled outside the nested VM every 0.5 s (`/proc/stat`, "
          "`/proc/loadavg`): the share of the machine's CPU capacity that "
          "other processes used during a run (busy time minus the "
          "benchmark's own process tree), the share stolen by the "
          "machine's own hypervisor, the highest 1-minute load average. A "
          "run with others ≥ %s or steal ≥ %.2f is *loaded*; it is made "
          "once more and the report uses the run that was not loaded (or "
          "the less loaded one)." % (meta.get("load_max", "0.25"),
                                     benchstats.HIGH_STEAL))
        w("")
        w("Over %d runs: others median %.2f (%.2f–%.2f), steal median "
          "%.2f (max %.2f); %d loaded, %d made again; %d of the runs used "
          "were loaded." % (
              len(loads), statistics.median(others), others[0], others[-1],
              statistics.median(steal), steal[-1], len(high), len(aside),
              sum(1 for r in runs if r.verdict == "high")))
        w("")
        chosen_ids = {r.id for r in runs}
        listed = [r for r in all_runs if r.load and (
            r.verdict == "high" or "-again" in r.id)]
        if listed:
            w("Loaded runs and the runs made in their place:")
            w("")
            w("| run | configuration | others | steal | ours | load1 | "
              "verdict | used |")
            w("| --- | --- | ---: | ---: | ---: | ---: | --- | --- |")
        for r in listed:
            w("| %s | %s | %.2f | %.2f | %.2f | %.2f | %s | %s |" % (
                r.id, r.config, r.load["others"], r.load["steal"],
                r.load["ours"], r.load["load1"] or 0, r.verdict,
                "yes" if r.id in chosen_ids else "no"))
    w("")
    w("## Exits per transaction by kind (TCP_RR)")
    w("")
    w("Background removed. From KVM's counters: `halt_exits` (HLT), `irq_exits` (host "
      "interrupts), `mmio_exits`/`io_exits` (exits all the way to the "
      "VMM's userspace), `irq_window_exits`; `insn_emulation` counts MMIO "
      "accesses KVM emulated in the kernel (ioeventfd notifications, "
      "LAPIC) and `irq_injections` interrupts injected into the guest.")
    w("")
    kinds = ["halt_exits", "irq_exits", "mmio_exits", "io_exits",
             "irq_window_exits", "insn_emulation", "irq_injections"]
    w("| configuration | exits | " + " | ".join(kinds) + " |")
    w("| --- | ---: | " + " | ".join("---:" for _ in kinds) + " |")
    for c in wanted:
        r = rows[c]
        if r["x_rr"] is None:
            continue
        w("| %s | %s | %s |" % (LABEL.get(c, c), fmt(r["x_rr"], 2, False),
                                " | ".join(fmt(r["kinds"][k], 2, False)
                                           for k in kinds)))
    w("")

    # Exit reasons from the tracefs histograms, medians over repetitions.
    def reasons(c, what):
        per = {}
        for r in by.get(c) or []:
            h = r.hist_per_op(what, "kvm_exit", True)
            if not h:
                continue
            for keys, v in h.items():
                name = exit_name(dict(keys).get("exit_reason", -1), vendor)
                per.setdefault(name, []).append(v)
        return {k: statistics.median(v) for k, v in per.items()}

    def top_hist(c, what, event, label):
        per = {}
        for r in by.get(c) or []:
            h = r.hist_per_op(what, event, True)
            if not h:
                continue
            for keys, v in h.items():
                per.setdefault(label(dict(keys)), []).append(v)
        items = sorted(((statistics.median(v), k) for k, v in per.items()),
                       reverse=True)
        return [(k, v) for v, k in items if v >= 0.05]

    have_hist = any(reasons(c, "net") for c in wanted)
    if have_hist:
        w("### By exit reason (kvm_exit tracepoint), per transaction, "
          "background removed")
        w("")
        names = sorted({n for c in wanted for n in reasons(c, "net")},
                       key=lambda n: -max(reasons(c, "net").get(n, 0)
                                          for c in wanted))
        names = [n for n in names
                 if max(reasons(c, "net").get(n, 0) for c in wanted) >= 0.05]
        w("| configuration | " + " | ".join(names) + " |")
        w("| --- | " + " | ".join("---:" for _ in names) + " |")
        for c in wanted:
            rc = reasons(c, "net")
            if not rc:
                continue
            w("| %s | %s |" % (LABEL.get(c, c), " | ".join(
                "%.2f" % rc.get(n, 0) for n in names)))
        w("")
        w("MMIO and MSR accesses and injected interrupts per transaction, "
          "background removed (kvm_mmio / kvm_msr / kvm_inj_virq "
          "tracepoints; writes unless marked):")
        w("")
        for c in wanted:
            mm = top_hist(c, "net", "kvm_mmio", lambda k: gpa_label(
                k.get("gpa", 0)) + MMIO_TYPE.get(k.get("type"), ""))
            ms = top_hist(c, "net", "kvm_msr", lambda k: "MSR 0x%x%s" % (
                k.get("ecx", 0), "" if k.get("write") else " read"))
            iv = top_hist(c, "net", "kvm_inj_virq", lambda k: "vector %d" %
                          k.get("vector", 0))
            if mm or ms:
                w("- %s: %s" % (LABEL.get(c, c), ", ".join(
                    "%s %.2f" % (k, v) for k, v in mm + ms)))
            if iv:
                w("  - interrupts injected: %s" % ", ".join(
                    "%s %.2f" % (k, v) for k, v in iv))
        w("")

    # The I/O path's own events per operation: precise, because timer
    # ticks do not touch device registers (timer vectors are left out).
    def io_path(c, what):
        cols = {"notify": [], "isr_read": [], "isr_ack": [], "dev_irq": [],
                "eoi": [], "to_vmm": []}
        for r in by.get(c) or []:
            mm = r.hist_per_op(what, "kvm_mmio")
            iv = r.hist_per_op(what, "kvm_inj_virq")
            to_vmm = r.per_op(what, "mmio_exits")
            pio = r.per_op(what, "io_exits")
            if mm is None or iv is None or to_vmm is None:
                continue
            v = dict.fromkeys(cols, 0.0)
            for keys, n in mm.items():
                k = dict(keys)
                label, typ = gpa_label(k.get("gpa", 0)), k.get("type")
                if typ == 2 and ("QueueNotify" in label or
                                 "doorbell" in label or
                                 label.startswith("MMIO ")):
                    v["notify"] += n
                elif typ == 1 and "InterruptStatus" in label:
                    v["isr_read"] += n
                elif typ == 2 and "InterruptACK" in label:
                    v["isr_ack"] += n
                elif typ == 2 and label == "LAPIC EOI":
                    v["eoi"] += n
            for keys, n in iv.items():
                if dict(keys).get("vector") not in TIMER_VECTORS:
                    v["dev_irq"] += n
            v["to_vmm"] = to_vmm + (pio or 0)
            for k in cols:
                cols[k].append(v[k])
        return {k: med(v) for k, v in cols.items()}

    if have_hist:
        w("### The I/O path per transaction / per read")
        w("")
        w("Counted from the tracepoints, background removed; these events "
          "do not happen while the guest idles, so they are exact and "
          "machine independent. Notifications: MMIO writes to QueueNotify, "
          "the v3 doorbells or (virtio-pci) the notify BAR. Device "
          "interrupts: injected vectors other than the timer's. EOI: "
          "xAPIC EOI writes (all vectors; a guest with PV EOI skips them "
          "for edge interrupts). To VMM: exits that reached the VMM's "
          "userspace (`mmio_exits` + `io_exits`).")
        w("")
        w("| configuration | workload | notifications | device interrupts "
          "| ISR reads | ISR ACKs | EOI writes | exits to VMM |")
        w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for c in wanted:
            for what, name in (("net", "TCP_RR"), ("blk", "4K read")):
                p = io_path(c, what)
                if p["notify"] is None:
                    continue
                w("| %s | %s | %s |" % (LABEL.get(c, c), name, " | ".join(
                    fmt(p[k], 2, False) for k in
                    ("notify", "dev_irq", "isr_read", "isr_ack", "eoi",
                     "to_vmm"))))
        w("")

    w("## Exits per 4 KiB read by kind (background removed)")
    w("")
    bk = ["halt_exits", "irq_exits", "mmio_exits", "io_exits",
          "insn_emulation"]
    w("| configuration | exits | " + " | ".join(bk) + " |")
    w("| --- | ---: | " + " | ".join("---:" for _ in bk) + " |")
    for c in wanted:
        r = rows[c]
        if r["x_blk"] is None:
            continue
        w("| %s | %s | %s |" % (LABEL.get(c, c), fmt(r["x_blk"], 2, False),
                                " | ".join(fmt(r["blk_kinds"][k], 2, False)
                                           for k in bk)))
    w("")

    checks = []
    for c in wanted:
        for r in by.get(c) or []:
            total = r.mmvm_stats.get("vcpu.exits")
            done = r.marks["done"]
            if total is None or not done or "exits" not in done["kvm"]:
                continue
            checks.append("%s: %d at exit, %d at the last mark" % (
                r.id, total, done["kvm"]["exits"]))
            break
    if checks:
        w("Cross-check of the two ways to read the counters (`mmvm --stats` "
          "through KVM_GET_STATS_FD at exit, debugfs at the guest's last "
          "mark, shortly before poweroff), vCPU exits: " +
          "; ".join(checks) + ".")
        w("")

    irq = {}
    for c in wanted:
        for r in by.get(c) or []:
            if r.log["interrupts"]:
                irq[c] = r.log["interrupts"]
                break
    if irq:
        w("## Guest interrupts (end of one run, /proc/interrupts)")
        w("")
        for c, lines in irq.items():
            w("- %s: %s" % (LABEL.get(c, c), "; ".join(
                "`%s`" % l for l in lines[:8])))
        w("")

    def eoi_split(c, what="net"):
        """Per vector: EOIs per operation, and how many went by PV EOI
        (no exit), medians over the runs; "" without the histograms."""
        per = {}
        for r in by.get(c) or []:
            al = r.hist_per_op(what, "kvm_eoi")
            pv = r.hist_per_op(what, "kvm_pv_eoi")
            if al is None or pv is None:
                continue
            pvv = {dict(k).get("vector"): n for k, n in pv.items()}
            for k, n in al.items():
                vec = dict(k).get("vector")
                per.setdefault(vec, []).append((n, pvv.get(vec, 0.0)))
        if not per:
            return ""
        parts = []
        def mid(v):
            return statistics.median(v)

        for vec in sorted(per, key=lambda v: -mid([a for a, _ in per[v]])):
            a = mid([x for x, _ in per[vec]])
            p = mid([y for _, y in per[vec]])
            if a < 0.05:
                continue
            name = "timer" if vec in TIMER_VECTORS else "device"
            parts.append("vector %d (%s) %.2f EOIs, %.2f by PV EOI" %
                         (vec, name, a, p))
        return ("Per %s (kvm_eoi, kvm_pv_eoi): %s." %
                ("transaction" if what == "net" else "read",
                 "; ".join(parts))) if parts else ""

    w("## What still exits per transaction with MSI + doorbells")
    w("")
    io = io_path("mmvm-msi", "net") if have_hist else None
    rc = reasons("mmvm-msi", "net") if have_hist else {}
    if io and io["notify"] is not None:
        def g(k):
            return fmt(io[k], 2, False)
        w("Measured on mmvm MSI + doorbells (the default layout), TCP_RR, per transaction:")
        w("")
        w("- **Notifications, %s** (doorbell writes): each is an MMIO "
          "exit that KVM completes in the kernel (ioeventfd), so it never "
          "reaches mmvm, but it is still a world switch. The default "
          "`--net ...,poll=auto` keeps tx kicks off for a learnt window "
          "(at most 1000 us) after each frame the pair moves, so a "
          "request that follows the reply within it rings no doorbell; "
          "what is left are requests that came after the window had "
          "closed. Would remove the rest: a longer window, paid for in "
          "host CPU." % g("notify"))
        w("- **Device interrupts, %s**: MSI, injected by KVM straight "
          "from the irqfd, no exit to deliver them; what each one still "
          "costs is its EOI (below) and the halt it ends. Would remove "
          "them: NAPI/interrupt coalescing or busy polling in the guest "
          "(`net.core.busy_poll`)." % g("dev_irq"))
        w("- **EOI writes, %s** (xAPIC EOI register, all vectors incl. "
          "the timer's): an MMIO exit each. The guest has PV EOI "
          "(KVM_FEATURE_PV_EOI), but KVM arms it for an interrupt only "
          "when no other interrupt is pending at injection "
          "(`apic_sync_pv_eoi_to_guest()`): of two interrupts pending "
          "together the first costs an EOI exit and the second an "
          "interrupt-window exit. %s" % (g("eoi"), eoi_split("mmvm-msi")))
        w("- **ISR reads %s, ISR ACKs %s, exits to mmvm %s**: the legacy "
          "path's exits (status read and acknowledge, both handled in "
          "mmvm's userspace) that MSI removed; compare mmvm plain (mmvm-v2) in "
          "the I/O path table." % (g("isr_read"), g("isr_ack"),
                                   g("to_vmm")))
        hlt = med([r.per_op("net", "halt_exits") for r in
                   by.get("mmvm-msi") or []])
        w("- **HLT**: the vCPU halts while it waits for each response "
          "(raw %s per transaction here: about one is the wait for the "
          "response itself, the rest timer ticks waking the idle vCPU). "
          "Would remove it: guest halt polling (cpuidle-haltpoll) or "
          "`idle=poll`, trading CPU time for latency." % fmt(hlt, 2, False))
        other = [(n, v) for n, v in sorted(rc.items(), key=lambda x: -x[1])
                 if v >= 0.05 and n not in ("NPF", "HLT")]
        for n, v in other:
            cause, fix = WHY.get(n, ("not classified", "unknown"))
            w("- **%s exits, %.2f** (exit reason, background removed): "
              "%s. Would remove it: %s." % (n, v, cause, fix))
        w("- **Timer ticks** (background, %s exits/s while idle): the "
          "guest kernel is tickless while idle (NO_HZ_IDLE), so what "
          "remains are the timers it arms itself." %
          fmt(rows["mmvm-msi"]["idle"], 0, False))
    elif rows.get("mmvm-msi", {}).get("x_rr"):
        k = rows["mmvm-msi"]["kinds"]
        w("- %s exits per transaction: HLT %s, host interrupts %s, to "
          "userspace MMIO %s / PIO %s (no exit-reason histogram in this "
          "run)." % (fmt(rows["mmvm-msi"]["x_rr"], 2, False),
                     fmt(k["halt_exits"], 2, False),
                     fmt(k["irq_exits"], 2, False),
                     fmt(k["mmio_exits"], 2, False),
                     fmt(k["io_exits"], 2, False)))
    else:
        w("- n/a: mmvm MSI did not produce figures in this run (%s)." %
          why_missing("mmvm-msi"))
    w("")
    w("![trans/s and exits per transaction](%s)" % a.png)
    w("")
    with open(a.md, "w") as f:
        f.write("\n".join(out))

    # gnuplot data: config, trans/s median/min/max, then raw exits per
    # transaction split into the I/O path's exact parts and the rest
    # (which holds the timer background: removing it is approximate).
    with open(a.dat, "w") as f:
        f.write("# label rr rr_lo rr_hi notify eoi to_vmm other\n")
        for c in wanted:
            r = rows[c]
            if r["rr"] is None:
                continue
            io = io_path(c, "net") if have_hist else None
            parts = [0.0, 0.0, 0.0]
            if io and io["notify"] is not None:
                parts = [io["notify"][0], io["eoi"][0], io["to_vmm"][0]]
            total = r["x_rr_raw"][0] if r["x_rr_raw"] else 0.0
            other = max(0.0, total - sum(parts))
            f.write('"%s" %.1f %.1f %.1f %s %.3f\n' % (
                c, r["rr"][0], r["rr"][1], r["rr"][2],
                " ".join("%.3f" % p for p in parts), other))
    return 0


if __name__ == "__main__":
    sys.exit(main())
