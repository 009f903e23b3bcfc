#!/usr/bin/env python3
"""Tests of bench/tables.py on synthetic results (no KVM, a second)."""
import csv
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tables  # noqa: E402

FIO = ("3;fio-3.33;randread;0;0;{kb};{bw};{iops};5000;1;2;1.5;0.1;10;900;"
       "200.0;50.0;1.000000%=100;5.000000%=110;10.000000%=120;"
       "20.000000%=130;30.000000%=140;40.000000%=150;50.000000%={p50};"
       "60.000000%=170;70.000000%=180;80.000000%=190;90.000000%=200;"
       "95.000000%=210;99.000000%={p99};99.500000%=300;99.900000%=400;"
       "99.950000%=500;99.990000%=600;0%=0;0%=0;0%=0;11;901;201.0;51.0;"
       "0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0;0")


class Results:
    """A results directory as bench/inner.sh leaves it."""

    def __init__(self):
        self.d = tempfile.mkdtemp()
        self.runs = []
        with open(os.path.join(self.d, "plan"), "w") as f:
            f.write('table1="t1-mmvm-msi t1-mmvm-v2 t1-qemu-pci '
                    't1-qemu-mmio"\ntable2="t2-mmvm t2-qemu-pci"\n'
                    'table3=""\nreps=3\nsecs=5\ntraced=0\n')
        with open(os.path.join(self.d, "meta"), "w") as f:
            f.write("vendor AuthenticAMD\nplan bench/plan sha256:abc\n")

    def mark(self, rid, tag, t, exits, emul=0, inj=0, cpu=0, hist=None,
             mem=None):
        with open(os.path.join(self.d, "%s.%s" % (rid, tag)), "w") as f:
            f.write("time %f\n" % t)
            f.write("kvm exits %d\nkvm insn_emulation %d\n"
                    "kvm irq_injections %d\nkvm halt_exits 0\n" %
                    (exits, emul, inj))
            f.write("cpu vmm %d 0 100\n" % cpu)
            for k, v in (mem or {}).items():
                f.write("mem %s %d\n" % (k, v))
            if hist:
                f.write("hist kvm_exit\n")
                for code, n in hist:
                    f.write("{ exit_reason: %d } hitcount: %d\n" % (code, n))

    def run(self, rid, config, rep, status=0, load="ok", net=None, fio=None,
            boot=None, errors=()):
        """net=(ops, rate, exits/op, emul/op); fio={what: (ops, iops,
        exits/op)}; boot=(init_s, uptime_s)."""
        lines = ["[    0.500] MMVM-GUEST uname=6.12 cpus=1 mem_kb=1",
                 "[    0.600] BENCH-UPTIME 0.300"]
        if boot:
            lines = ["[%10.3f] MMVM-GUEST uname=6.12 cpus=1 mem_kb=1" %
                     boot[0],
                     "[%10.3f] BENCH-UPTIME %.3f" % (boot[0], boot[1])]
        if net:
            ops, rate, epo, emul = net
            lines.append("[    5.000] BENCH-RESULT what=net ops=%d "
                         "valid_secs=1.0 valid_ops=%d avg_us=1 p50_us=100 "
                         "p99_us=900" % (ops, rate))
            self.mark(rid, "net-begin", 10, 1000, 0, 0, 0,
                      mem={"VmRSS": 70000, "GuestRss": 60000})
            self.mark(rid, "net-end", 15, 1000 + ops * epo, ops * emul,
                      ops, ops, mem={"VmRSS": 70000, "GuestRss": 60000,
                                     "Pss": 69000, "GuestPss": 60000,
                                     "Anonymous": 65000},
                      hist=[(0x78, ops), (0x400, 2 * ops)])
        for what, (ops, iops, epo) in (fio or {}).items():
            lines.append("[    9.000] BENCH-FIO what=%s %s" % (
                what, FIO.format(kb=ops * 4, bw=iops * 4, iops=iops,
                                 p50=150, p99=250)))
            self.mark(rid, what + "-begin", 20, 0)
            self.mark(rid, what + "-end", 25, ops * epo)
        for e in errors:
            lines.append("[    9.500] BENCH-ERROR %s" % e)
        lines.append("[   10.000] BENCH-DONE")
        with open(os.path.join(self.d, rid + ".log"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(self.d, "runs"), "a") as f:
            f.write("%s %s %d %d\n" % (rid, config, rep, status))
        with open(os.path.join(self.d, "load"), "a") as f:
            f.write("%s %s others=0.1\n" % (rid, load))

    def close(self):
        shutil.rmtree(self.d)


class TablesTest(unittest.TestCase):
    def setUp(self):
        self.r = Results()

    def tearDown(self):
        self.r.close()

    def three_reps(self):
        for rep, scale in ((1, 1.0), (2, 1.1), (3, 0.9)):
            self.r.run("r%d-t1-mmvm-msi" % rep, "t1-mmvm-msi", rep,
                       net=(1000, int(200 * scale), 4.0, 1.0),
                       fio={"fio-vda-qd1-j1": (2000, 400 * scale, 3.0)})
            self.r.run("r%d-t1-qemu-pci" % rep, "t1-qemu-pci", rep,
                       net=(1000, int(100 * scale), 5.0, 1.0),
                       fio={"fio-vda-qd1-j1": (2000, 200 * scale, 3.5)})
            self.r.run("r%d-t1-mmvm-v2" % rep, "t1-mmvm-v2", rep,
                       net=(1000, int(150 * scale), 9.0, 3.0),
                       fio={"fio-vda-qd1-j1": (2000, 300 * scale, 7.0)})

    def test_fio_terse(self):
        f = tables.parse_fio(FIO.format(kb=400, bw=80, iops=20, p50=150,
                                        p99=250))
        self.assertEqual(f["ops"], 100)
        self.assertEqual(f["rate"], 20.0)
        self.assertEqual((f["p50"], f["p99"]), (150.0, 250.0))
        self.assertIsNone(tables.parse_fio("garbage;1;2"))

    def test_per_op_counters_and_ratio(self):
        self.three_reps()
        t = tables.Tables(self.r.d)
        self.assertEqual(t.reps, [1, 2, 3])
        f = t.fig("t1-mmvm-msi", 1, "net")
        self.assertAlmostEqual(f["exits"], 4.0)
        self.assertAlmostEqual(f["mmio_all"], 1.0)
        self.assertAlmostEqual(f["inj"], 1.0)
        self.assertAlmostEqual(f["rate"], 200.0)
        ci = t.ratio("t1-mmvm-msi", "t1-qemu-pci", "net", "rate")
        self.assertAlmostEqual(ci[0], 2.0, places=1)
        self.assertIsNotNone(ci[1])
        self.assertEqual(ci[3], 3)

    def test_loaded_and_failed_runs_replaced(self):
        self.three_reps()
        self.r.run("r1-t2-mmvm", "t2-mmvm", 1, load="high others=0.5",
                   net=(100, 10, 4.0, 1.0))
        self.r.run("r1-t2-mmvm-again", "t2-mmvm", 1, net=(100, 20, 4.0, 1.0))
        self.r.run("r2-t2-mmvm", "t2-mmvm", 2, status=1,
                   net=(100, 30, 4.0, 1.0))
        self.r.run("r2-t2-mmvm-again", "t2-mmvm", 2,
                   errors=["fio-vdb-qd1-j1: failed"])
        t = tables.Tables(self.r.d)
        self.assertEqual(t.used[("t2-mmvm", 1)].id, "r1-t2-mmvm-again")
        # Neither finished cleanly: the one that finished more workloads
        # is used, and its finished workload counts.
        self.assertEqual(t.used[("t2-mmvm", 2)].id, "r2-t2-mmvm")
        self.assertAlmostEqual(t.fig("t2-mmvm", 2, "net")["rate"], 30.0)
        self.assertIsNone(t.fig("t2-mmvm", 2, "fio-vdb-qd1-j1"))

    def test_report_and_csv(self):
        self.three_reps()
        self.r.run("r1-t1-qemu-mmio", "t1-qemu-mmio", 1, status=1)
        md = os.path.join(self.r.d, "b.md")
        cp = os.path.join(self.r.d, "b.csv")
        tables.main([self.r.d, "--md", md, "--csv", cp])
        with open(md) as f:
            text = f.read()
        self.assertIn("## Table 1: the transport alone", text)
        # 4.0 vs 5.0 exits/op: met; against v2's 9.0 at most half: met.
        self.assertIn("makes 4.0 exits/op against QEMU q35 virtio-pci's "
                      "5.0", text)
        self.assertNotIn("not met", text.split("## Table 2")[0]
                         .split("microvm")[0])
        with open(cp) as f:
            rows = list(csv.DictReader(f))
        # Every run, the failed one too.
        self.assertEqual(len({r["run"] for r in rows}), 10)
        failed = [r for r in rows if r["run"] == "r1-t1-qemu-mmio"]
        self.assertEqual(failed[0]["exit_status"], "1")
        self.assertEqual(failed[0]["used"], "1")

    def test_goal_not_met_names_counters(self):
        for rep in (1, 2, 3):
            self.r.run("r%d-t1-mmvm-msi" % rep, "t1-mmvm-msi", rep,
                       net=(1000, 100, 8.0, 3.0))
            self.r.run("r%d-t1-qemu-pci" % rep, "t1-qemu-pci", rep,
                       net=(1000, 100, 5.0, 1.0))
        md = os.path.join(self.r.d, "b.md")
        tables.main([self.r.d, "--md", md,
                     "--csv", os.path.join(self.r.d, "b.csv")])
        with open(md) as f:
            text = f.read()
        self.assertIn("**not met**", text)
        self.assertIn("instructions KVM emulated 3.00 vs 1.00", text)

    def test_boot_pairs_clustered(self):
        for rep in (1, 2, 3):
            for k in (1, 2):
                self.r.run("r%d-b%d-boot-mmvm" % (rep, k), "boot-mmvm", rep,
                           boot=(0.5, 0.3))
                self.r.run("r%d-b%d-boot-qemu-microvm" % (rep, k),
                           "boot-qemu-microvm", rep, boot=(1.0, 0.4))
        md = os.path.join(self.r.d, "b.md")
        tables.main([self.r.d, "--md", md,
                     "--csv", os.path.join(self.r.d, "b.csv")])
        with open(md) as f:
            text = f.read()
        self.assertIn("mmvm / QEMU microvm, to /init: 0.50x [0.50–0.50]",
                      text)
        self.assertIn("| mmvm default | 500 | 200 | 300 | 6 |", text)

    def test_traced_breakdown(self):
        self.three_reps()
        self.r.run("x1-t1-mmvm-msi", "t1-mmvm-msi", 1,
                   net=(1000, 150, 3.0, 1.0))
        t = tables.Tables(self.r.d)
        # The traced run is never a measured one.
        self.assertEqual(t.used[("t1-mmvm-msi", 1)].id, "r1-t1-mmvm-msi")
        x = [r for r in t.runs if r.traced][0]
        reasons = x.exit_reasons("net", "AuthenticAMD")
        self.assertAlmostEqual(reasons["HLT"], 1.0)
        self.assertAlmostEqual(reasons["NPF"], 2.0)


if __name__ == "__main__":
    unittest.main()
