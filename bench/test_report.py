#!/usr/bin/env python3
"""Tests of the benchmark's statistics (bench/benchstats.py) and report
(bench/report.py) on synthetic run data: no KVM, a few seconds.

    python3 bench/test_report.py [-v]

tests/scripts/test_bench_report.sh runs it for scripts/test.
"""
import io
import contextlib
import math
import os
import random
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchstats  # noqa: E402
import report  # noqa: E402

HZ = 100


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Synth:
    """A results directory as bench/inner.sh and bench/run leave it.

    rates[config] = trans/s; each repetition multiplies every configuration
    by the same drift factor (the machine's speed) and by a per-run noise
    factor exp(N(0, noise)). Loaded runs (a set of run ids) get a sampled
    share of others' CPU of 0.6 and a halved rate. Reads/s are twice the
    rate. Exits per transaction / per read above the idle background:
    net_exits[config] (5) / blk_exits[config] (2); configurations in
    no_net run no TCP_RR (the block multi-queue ones)."""

    def __init__(self, d, rates, reps, noise=0.0, seed=1, loaded=(),
                 again=True, drift=0.3, cpu_us=None, secs=10, no_net=(),
                 net_exits=None, blk_exits=None):
        self.d = d
        rng = random.Random(seed)
        configs = list(rates)
        write(os.path.join(d, "meta"),
              "date 2026-12-02 12:00 UTC\nkernel_host 6.1\n"
              "cpu_host  Test CPU\nvendor AuthenticAMD\nnproc_host 2\n"
              "nested yes\nsecs %d\nreps %d\nmax_reps %d\nci 10\n"
              "load_max 0.25\nconfigs %s\nmem 512M\ndisk_mb 256\n"
              "reps_done %d\n" % (secs, reps, reps, ",".join(configs), reps))
        self.t = 1000.0          # sampler clock
        self.busy = self.total = self.tree = 0
        runs, loads, samples = [], [], ["hz %d ncpu 2 interval 0.5" % HZ]
        for rep in range(1, reps + 1):
            speed = math.exp(rng.uniform(-drift, drift))
            for c in configs:
                ids = ["r%d-%s" % (rep, c)]
                if ids[0] in loaded and again:
                    ids.append(ids[0] + "-again")
                for rid in ids:
                    high = rid in loaded
                    rate = rates[c] * speed * math.exp(rng.gauss(0, noise))
                    if high:
                        rate /= 2
                    us = (cpu_us or {}).get(c, 500.0)
                    self.run(rid, rate, us, secs, high, samples,
                             net=c not in no_net,
                             net_exits=(net_exits or {}).get(c, 5),
                             blk_exits=(blk_exits or {}).get(c, 2))
                    runs.append("%s %s %d 0" % (rid, c, rep))
                    loads.append("%s %s others=%.3f" % (
                        rid, "high" if high else "ok", 0.6 if high else 0.0))
        write(os.path.join(d, "runs"), "\n".join(runs) + "\n")
        write(os.path.join(d, "load"), "\n".join(loads) + "\n")
        write(os.path.join(d, "skipped"), "")
        write(os.path.join(d, "host-samples"), "\n".join(samples) + "\n")

    def sample(self, samples, rid, tag, dt, ours, others):
        """Advance the sampler clock by dt with our tree using `ours` and
        others `others` CPUs (of 2)."""
        self.t += dt
        self.total += int(2 * dt * HZ)
        self.tree += int(ours * dt * HZ)
        self.busy += int((ours + others) * dt * HZ)
        samples.append("s %.3f %s %s %d %d 0 %d 0.50" % (
            self.t, rid, tag, self.busy, self.total, self.tree))

    def run(self, rid, rate, vmm_us, secs, high, samples, net=True,
            net_exits=5, blk_exits=2):
        base = os.path.join(self.d, rid)
        others = 1.2 if high else 0.0
        n = int(rate * secs)
        reads = int(2 * rate * secs)
        log = ["[    0.500] Linux version 6.1",
               "[    1.800] MMVM-GUEST init",
               "[   20.000] BENCH-RESULT what=idle secs=4"]
        if net:
            log.append("[   31.000] BENCH-RESULT what=net RR trans=%d "
                       "secs=%d rate=%.1f lat_us=%.0f" % (
                           n, secs, rate, 1e6 / rate))
        log += ["[   42.000] BENCH-RESULT what=blk BLK reads=%d secs=%d "
               "iops=%.1f lat_us=%.0f%s" % (
                   reads, secs, 2 * rate, 1e6 / rate / 2,
                   "" if net else " jobs=2 depth=16 engine=psync-threads"),
               "[   42.500] BENCH-DONE"]
        write(base + ".log", "\n".join(log) + "\n")
        clock = [100.0]
        exits = [0]
        vmm = [0]
        hostbusy = [0]

        def mark(tag, dt=0.0, ex=0, vmm_ticks=0):
            clock[0] += dt
            exits[0] += ex
            vmm[0] += vmm_ticks
            hostbusy[0] += vmm_ticks + int(dt * HZ * 0.2)
            write("%s.%s" % (base, tag),
                  "time %.3f\nkvm exits %d\nkvm halt_exits %d\n"
                  "mem VmHWM 40960\nmem VmRSS 30720\n"
                  "mem GuestRss 20480\ncpu vmm %d 0 %d\n"
                  "cpu host %d 0 0 1000 0 0 0 0\nload 0.5 0.5\n" % (
                      clock[0], exits[0], exits[0] // 4, vmm[0], HZ,
                      hostbusy[0]))

        for _ in range(4):
            self.sample(samples, rid, "boot", 0.5, 1.0, others)
        mark("idle-begin")
        mark("idle-end", 4.0, 2000)
        if net:
            mark("net-begin", 1.0, 100)
            # Samples inside the net window: our tree at 1.5 CPUs.
            for _ in range(int(secs / 0.5)):
                self.sample(samples, rid, "net-begin", 0.5, 1.5, others)
            mark("net-end", secs, net_exits * n + 500 * secs,
                 int(round(vmm_us * n / 1e6 * HZ)))
        mark("blk-begin", 1.0)
        for _ in range(int(secs / 0.5)):
            self.sample(samples, rid, "blk-begin", 0.5, 1.0, others)
        mark("blk-end", secs, int(blk_exits * reads) + 500 * secs,
             int(round(vmm_us * reads / 1e6 * HZ)))
        mark("done", 0.5)
        self.sample(samples, rid, "end", 0.5, 0.2, others)


def report_md(d, *extra):
    md, dat = os.path.join(d, "out.md"), os.path.join(d, "out.dat")
    subprocess.run([sys.executable, os.path.join(HERE, "report.py"), d,
                    "--md", md, "--dat", dat, *extra], check=True,
                   stdout=subprocess.DEVNULL)
    with open(md) as f:
        return f.read()


def row(md, prefix):
    for line in md.splitlines():
        if line.startswith(prefix):
            return [c.strip() for c in line.strip("|").split("|")]
    raise AssertionError("no row %r in report" % prefix)


class TestBootstrap(unittest.TestCase):
    def test_constant_ratio(self):
        ci = benchstats.paired_ratio([(2.0 * x, x) for x in (1, 5, 9, 3)])
        self.assertAlmostEqual(ci[0], 2.0)
        self.assertAlmostEqual(ci[1], 2.0)
        self.assertAlmostEqual(ci[2], 2.0)
        self.assertEqual(ci[3], 4)
        self.assertTrue(benchstats.significant(ci))

    def test_pairing_cancels_drift(self):
        # A is 10 % faster than B in every repetition, the machine's speed
        # varies 5x between repetitions: paired, the interval is tight.
        rng = random.Random(3)
        pairs = []
        for _ in range(7):
            s = rng.uniform(100, 500)
            pairs.append((1.1 * s * rng.uniform(0.98, 1.02), s))
        ci = benchstats.paired_ratio(pairs)
        self.assertLess(ci[1], 1.1)
        self.assertGreater(ci[2], 1.1)
        self.assertGreater(ci[1], 1.0)
        self.assertLess(benchstats.half_width(ci), 0.05)
        self.assertEqual(benchstats.significant(ci), True)

    def test_noise_not_significant(self):
        rng = random.Random(5)
        pairs = [(rng.uniform(50, 150), rng.uniform(50, 150))
                 for _ in range(7)]
        ci = benchstats.paired_ratio(pairs)
        self.assertLess(ci[1], 1.0)
        self.assertGreater(ci[2], 1.0)
        self.assertFalse(benchstats.significant(ci))
        self.assertGreater(benchstats.half_width(ci), 0.10)

    def test_coverage(self):
        # The 95 % interval holds the true ratio in most repeated
        # experiments (percentile bootstrap at n=10 under-covers a
        # little: accept 85 %).
        rng = random.Random(11)
        hits = 0
        for k in range(100):
            pairs = [(1.3 * math.exp(rng.gauss(0, 0.2)), 1.0)
                     for _ in range(10)]
            ci = benchstats.paired_ratio(pairs, seed=k, n_boot=500)
            hits += ci[1] <= 1.3 <= ci[2]
        self.assertGreaterEqual(hits, 85)

    def test_reproducible_and_seeded(self):
        pairs = [(1.0 + 0.1 * i, 1.0) for i in range(7)]
        self.assertEqual(benchstats.paired_ratio(pairs),
                         benchstats.paired_ratio(pairs))
        self.assertNotEqual(benchstats.paired_ratio(pairs, seed=1)[1:3],
                            benchstats.paired_ratio(pairs, seed=2)[1:3])

    def test_few_and_missing(self):
        self.assertIsNone(benchstats.paired_ratio([]))
        self.assertIsNone(benchstats.paired_ratio([(None, 1), (1, 0)]))
        ci = benchstats.paired_ratio([(2, 1), (4, 2), (None, 3)])
        self.assertEqual(ci, (2.0, None, None, 2))
        self.assertIsNone(benchstats.significant(ci))
        self.assertIsNone(benchstats.half_width(ci))

    def test_percentile(self):
        self.assertEqual(benchstats.percentile([1, 2, 3, 4, 5], 0.5), 3)
        self.assertAlmostEqual(benchstats.percentile([0, 10], 0.25), 2.5)
        self.assertIsNone(benchstats.percentile([], 0.5))


class TestLoad(unittest.TestCase):
    def samples(self, others):
        out, busy, total, tree = [], 0, 0, 0
        for i in range(10):
            out.append({"t": i * 0.5, "run": "r1-a", "tag": "net-begin",
                        "busy": busy, "total": total, "steal": 0,
                        "tree": tree, "load1": 1.0 + i / 10})
            total += 100
            tree += 30
            busy += 30 + int(others * 100)
        out.append({"t": 5.0, "run": "r1-b", "tag": "boot", "busy": busy,
                    "total": total, "steal": 0, "tree": tree, "load1": 9})
        return out

    def test_quiet_and_loaded(self):
        q = benchstats.run_load(self.samples(0.0), "r1-a")
        self.assertAlmostEqual(q["others"], 0.0)
        self.assertAlmostEqual(q["ours"], 0.3)
        self.assertEqual(benchstats.verdict(q), "ok")
        h = benchstats.run_load(self.samples(0.5), "r1-a")
        self.assertAlmostEqual(h["others"], 0.5)
        self.assertEqual(benchstats.verdict(h), "high")
        self.assertAlmostEqual(h["load1"], 1.9)   # r1-b's sample not in it
        self.assertEqual(benchstats.verdict(h, max_others=0.6), "ok")
        self.assertEqual(benchstats.verdict(None), "unknown")
        self.assertIsNone(benchstats.run_load(self.samples(0), "r9-x"))

    def test_tree_rate(self):
        # 30 ticks per 0.5 s at HZ 100 = 0.6 CPU.
        r = benchstats.tree_rate(self.samples(0), "r1-a", "net-begin")
        self.assertAlmostEqual(r, 0.6)
        self.assertIsNone(benchstats.tree_rate(self.samples(0), "r1-a",
                                               "blk-begin"))

    def test_read_samples_and_verdict_cli(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "s")
            write(p, "hz 100 ncpu 2 interval 0.5\n"
                  "s 1.0 r1-a boot 100 200 0 10 0.5\n"
                  "garbage line\n"
                  "s 1.5 r1-a boot 180 300 10 30 0.7\n")
            s = benchstats.read_samples(p)
            self.assertEqual(len(s), 2)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                benchstats.main(["verdict", "--samples", p, "--run", "r1-a"])
            # busy 80 - tree 20 = 60 of 100: others 0.6, steal 0.1
            self.assertEqual(out.getvalue().split()[:3],
                             ["high", "others=0.600", "steal=0.100"])
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                benchstats.main(["verdict", "--samples", p + "-none",
                                 "--run", "r1-a"])
            self.assertTrue(out.getvalue().startswith("unknown"))


class TestReport(unittest.TestCase):
    RATES = {"qemu-pci": 500.0, "mmvm-v2": 400.0, "mmvm-msi": 600.0}

    def test_clear_difference_is_significant(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, self.RATES, 7, noise=0.03, drift=0.0,
                  cpu_us={"qemu-pci": 800, "mmvm-v2": 700, "mmvm-msi": 400})
            md = report_md(d)
            r = row(md, "| mmvm MSI + doorbells / QEMU virtio-pci | TCP_RR")
            self.assertAlmostEqual(float(r[2].split()[0]), 1.2,
                                   delta=0.06, msg=r)   # 600 / 500
            self.assertTrue(r[3].startswith("yes, higher (better)"), r)
            r = row(md, "| mmvm MSI + doorbells / mmvm plain | TCP_RR")
            self.assertAlmostEqual(float(r[2].split()[0]), 1.5,
                                   delta=0.08, msg=r)   # 600 / 400
            r = row(md, "| mmvm MSI + doorbells / QEMU virtio-pci | "
                    "VMM CPU per transaction")
            self.assertTrue(r[3].startswith("yes, lower (better)"), r)
            # VmRSS 30 MiB less 20 MiB of guest RAM mapping.
            self.assertIn("/proc/PID/smaps), MiB: ", md)
            self.assertIn("mmvm, MSI + doorbells (default: feature bits, block and net poll=auto, tx-irq-delay=auto) "
                          "10.0", md)
            # CPU table: 400 µs per transaction for mmvm (ticks rounding).
            cpu = row(md.split("## CPU cost per operation")[1],
                      "| mmvm, MSI + doorbells")
            self.assertAlmostEqual(float(cpu[1].split()[0]), 400, delta=40)
            # Outer VM: 1.5 CPUs × 10 s / (600 × 10) transactions ≈ 2500 µs.
            self.assertAlmostEqual(float(cpu[3].split()[0]), 2500,
                                   delta=300)
            self.assertIn("Over 21 runs", md)
            self.assertIn("0 loaded, 0 made again", md)

    def test_noise_is_not_significant_and_ci_check_fails(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, {"qemu-pci": 500.0, "mmvm-v2": 500.0,
                      "mmvm-msi": 520.0}, 5, noise=0.4, seed=7)
            md = report_md(d)
            r = row(md, "| mmvm MSI + doorbells / QEMU virtio-pci | TCP_RR")
            self.assertEqual(r[3], "no", r)
            rc = subprocess.run([sys.executable,
                                 os.path.join(HERE, "report.py"), d,
                                 "--ci-check", "10"],
                                stdout=subprocess.DEVNULL).returncode
            self.assertEqual(rc, 1)

    def test_ci_check_passes_when_tight(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, self.RATES, 7, noise=0.01, drift=0.5)
            rc = subprocess.run([sys.executable,
                                 os.path.join(HERE, "report.py"), d,
                                 "--ci-check", "10"],
                                stdout=subprocess.DEVNULL).returncode
            self.assertEqual(rc, 0)

    def test_ci_check_without_headline_pair(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, {"qemu-pci": 500.0, "qemu-mmio": 300.0}, 3, noise=0.5)
            rc = subprocess.run([sys.executable,
                                 os.path.join(HERE, "report.py"), d,
                                 "--ci-check", "10"],
                                stdout=subprocess.DEVNULL).returncode
            self.assertEqual(rc, 0)

    def test_loaded_runs_are_replaced(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, self.RATES, 5, noise=0.0, drift=0.0,
                  loaded={"r2-mmvm-msi", "r4-qemu-pci"})
            md = report_md(d)
            # The loaded runs (half rate) are set aside: without noise and
            # drift the ratio is exact.
            r = row(md, "| mmvm MSI + doorbells / QEMU virtio-pci | TCP_RR")
            self.assertEqual(r[2], "1.20 [1.20–1.20]", r)
            self.assertIn("2 loaded, 2 made again", md)
            lr = row(md, "| r2-mmvm-msi |")
            self.assertEqual(lr[6:8], ["high", "no"], lr)
            lr = row(md, "| r2-mmvm-msi-again |")
            self.assertEqual(lr[6:8], ["ok", "yes"], lr)
            # Median trans/s of mmvm-msi is 600, not pulled down.
            res = row(md, "| mmvm, MSI + doorbells (default")
            self.assertTrue(res[1].startswith("600 "), res)

    def test_reproducible(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, self.RATES, 7, noise=0.2, seed=4)
            self.assertEqual(report_md(d), report_md(d))
            self.assertNotEqual(report_md(d), report_md(d, "--seed", "9"))

    def test_vhost_table(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, {"qemu-pci": 500.0, "qemu-pci-vhost": 800.0,
                      "mmvm-v3-vhost": 1000.0}, 5, noise=0.0, drift=0.0,
                  net_exits={"qemu-pci-vhost": 6, "mmvm-v3-vhost": 3})
            md = report_md(d)
            sec = md.split("## TCP_RR with vhost-net")[1].split("\n## ")[0]
            r = row(sec, "| QEMU q35, virtio-pci, vhost=on |")
            self.assertTrue(r[1].startswith("800 "), r)
            self.assertEqual(r[4], "6.0 (6.0–6.0)", r)
            r = row(sec, "| mmvm, v3 MSI + doorbells, vhost=on |")
            self.assertEqual(r[4], "3.0 (3.0–3.0)", r)
            # The userspace-backend reference that was run is listed.
            row(sec, "| QEMU q35, virtio-pci (MSI-X) |")
            self.assertNotIn("| mmvm, v3 (2019 layout)", sec)
            r = row(sec, "| mmvm v3 vhost / QEMU virtio-pci vhost | "
                    "TCP_RR trans/s |")
            self.assertAlmostEqual(float(r[2].split()[0]), 1.25,
                                   delta=0.03, msg=r)
            self.assertTrue(r[3].startswith("yes, higher (better)"), r)
            r = row(sec, "| mmvm v3 vhost / QEMU virtio-pci vhost | "
                    "exits / transaction |")
            self.assertAlmostEqual(float(r[2].split()[0]), 0.5,
                                   delta=0.01, msg=r)
            self.assertTrue(r[3].startswith("yes, lower (better)"), r)
            r = row(sec, "| QEMU virtio-pci: vhost / userspace backend |")
            self.assertAlmostEqual(float(r[2].split()[0]), 1.6,
                                   delta=0.04, msg=r)
            self.assertNotIn("mmvm v3: vhost / userspace", sec)
            self.assertNotIn("## Block multi-queue", md)

    def test_blk_mq_table(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, {"mmvm-msi-blk1q": 500.0, "mmvm-msi-blk2q": 800.0,
                      "mmvm-v2-blk1q": 400.0, "mmvm-v2-blk2q": 400.0,
                      "qemu-pci-blk1q": 300.0}, 5, noise=0.0, drift=0.0,
                  no_net={"mmvm-msi-blk1q", "mmvm-msi-blk2q",
                          "mmvm-v2-blk1q", "mmvm-v2-blk2q",
                          "qemu-pci-blk1q"},
                  blk_exits={"mmvm-msi-blk1q": 3, "mmvm-msi-blk2q": 1.5})
            md = report_md(d)
            sec = md.split("## Block multi-queue")[1].split("\n## ")[0]
            self.assertIn("in this run through 16 threads per job", sec)
            r = row(sec, "| mmvm MSI + doorbells |")
            # IOPS are twice the synthetic rate.
            self.assertTrue(r[1].startswith("1000 "), r)
            self.assertTrue(r[2].startswith("1600 "), r)
            self.assertAlmostEqual(float(r[3].split()[0]), 1.6,
                                   delta=0.04, msg=r)
            self.assertTrue(r[4].startswith("yes, higher (better)"), r)
            self.assertEqual(r[5], "3.00 (3.00–3.00)", r)
            self.assertEqual(r[6], "1.50 (1.50–1.50)", r)
            self.assertEqual(r[7], "0.50 [0.50–0.50]", r)
            r = row(sec, "| mmvm plain (v2) |")
            self.assertEqual(r[4], "no", r)
            # QEMU's 2-queue configuration was not run: no ratio.
            r = row(sec, "| QEMU q35 virtio-pci |")
            self.assertEqual(r[2], "not run", r)
            self.assertEqual(r[3], "n/a", r)
            # No TCP_RR in these configurations is not a missing figure.
            self.assertNotIn("Missing figures", md)
            self.assertNotIn("## TCP_RR with vhost-net", md)

    def test_boot_pairs(self):
        with tempfile.TemporaryDirectory() as d:
            Synth(d, {"qemu-mmio": 300.0, "mmvm-msi": 500.0}, 3,
                  noise=0.0, drift=0.0)
            with open(os.path.join(d, "meta")) as f:
                meta = f.read().replace("configs qemu-mmio,mmvm-msi",
                                        "configs qemu-mmio,mmvm-msi,"
                                        "boot-pairs")
            write(os.path.join(d, "meta"), meta + "boot_pairs 2\n")
            runs = []
            for rep in (1, 2, 3):
                for k in (1, 2):
                    # mmvm 2 s, microvm 4 s, the machine's speed drifting
                    # from pair to pair; pair r3 k2's microvm boot fails.
                    f = 1.0 + 0.2 * (2 * rep + k)
                    for c, ms in (("mmvm-msi-boot", 2000),
                                  ("qemu-mmio-boot", 4000)):
                        rid = "r%d-boot%d-%s" % (rep, k, c[:-5])
                        bad = rep == 3 and k == 2 and c == "qemu-mmio-boot"
                        write(os.path.join(d, rid + ".log"),
                              "[ %8.3f] MMVM-GUEST init\n"
                              "[ %8.3f] BENCH-DONE\n" % (
                                  ms * f / 1000, ms * f / 1000 + 1))
                        runs.append("%s %s %d %d" % (rid, c, rep,
                                                     1 if bad else 0))
            with open(os.path.join(d, "runs"), "a") as f:
                f.write("\n".join(runs) + "\n")
            md = report_md(d)
            sec = md.split("## Boot to /init, paired short boots")[1]
            sec = sec.split("\n## ")[0]
            self.assertIn("per repetition 2 pairs", sec)
            self.assertIn("1 of 12 boots failed", sec)
            r = row(sec, "| 5 |")
            self.assertEqual(r[3], "0.50 [0.50–0.50]", r)
            self.assertTrue(r[4].startswith("yes, lower (better)"), r)
            # The boot runs stay out of every other table.
            self.assertNotIn("boot1", md.split("## Boot to /init")[0])
            self.assertNotIn("Missing figures", md)

    def test_select(self):
        class R:
            def __init__(self, rid, rep, ok, verdict, others):
                self.id, self.config, self.rep = rid, "c", rep
                self._ok, self.verdict = ok, verdict
                self.load = {"others": others}

            def ok(self):
                return self._ok
        a = R("r1-c", 1, True, "high", 0.5)
        b = R("r1-c-again", 1, True, "high", 0.3)
        c = R("r2-c", 2, False, "ok", 0.0)
        e = R("r2-c-again", 2, True, "high", 0.9)
        chosen, aside = report.select([a, b, c, e])
        self.assertEqual([r.id for r in chosen], ["r1-c-again", "r2-c-again"])
        self.assertEqual({r.id for r in aside}, {"r1-c", "r2-c"})


if __name__ == "__main__":
    unittest.main()
