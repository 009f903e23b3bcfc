#!/usr/bin/env python3
"""Writes the seed corpora for the virtio fuzz targets:
tests/fuzz/corpus/fuzz_mmio_registers/*, .../fuzz_virtq_chain/*,
.../fuzz_console/*, .../fuzz_rng/*, .../fuzz_net_ctrl/* (control
queue commands), .../fuzz_blk_request/* (discard and write-zeroes
requests) and .../fuzz_logwrites/* (device-mapper log-writes logs;
fuzz_msi and fuzz_devices keep corpora
libFuzzer grew and merged).
Run from the repository root; the output is committed, so this only needs
re-running when the input formats (documented in each fuzz_*.c) change."""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# ---- fuzz_mmio_registers: 7-byte records -----------------------------------
W = {1: 0, 2: 1, 4: 2, 8: 3}


def acc(off, val=0, write=True, width=4):
    return struct.pack("<BHI", W[width] | (4 if write else 0), off, val)


def act(action, val=0):
    return struct.pack("<BHI", action << 4, 0, val)


RAM = 0x1000


def good_init(nq=3, msi=False, features=False):
    """features: the v2 feature-bit layout (VIRTIO_F_MMIO_MSI = 44,
    VIRTIO_F_MMIO_DOORBELLS = 45, page-1 MSI block, 32-bit registers)."""
    s = acc(0x70, 0) + acc(0x70, 1) + acc(0x70, 3)
    s += acc(0x14, 0) + acc(0x10, write=False) + acc(0x14, 1)
    s += acc(0x10, write=False)
    s += acc(0x24, 0) + acc(0x20, (1 << 28) | (1 << 29) | 2)
    hi = 1 | ((1 << 12) | (1 << 13) if features else 0)
    s += acc(0x24, 1) + acc(0x20, hi) + acc(0x70, 0xb)
    s += acc(0x70, write=False)
    for q in range(nq):
        base = RAM + q * 0x1000
        s += acc(0x30, q) + acc(0x34, write=False) + acc(0x38, 16)
        s += acc(0x80, base) + acc(0x84, 0)
        s += acc(0x90, base + 0x400) + acc(0x94, 0)
        s += acc(0xa0, base + 0x800) + acc(0xa4, 0) + acc(0x44, 1)
    if features:
        s += acc(0x1000, write=False) + acc(0x1018, write=False)
        for v in range(nq + 1):
            s += acc(0x1008, 0xfee00000) + acc(0x100c, 0)
            s += acc(0x1010, 0x40 + v) + acc(0x1004, (1 << 12) | v)
            s += acc(0x1014, write=False)
        s += acc(0x1000, 0x8000)
    if msi:
        s += acc(0xc0, write=False, width=2)
        for v in range(nq + 1):
            s += acc(0xc4, 0xfee00000) + acc(0xc8, 0) + acc(0xcc, 0x40 + v)
            s += acc(0xc2, (1 << 12) | v, width=2)
        s += acc(0xc0, 0x8000, width=2)
    s += acc(0x70, 0xf)
    return s


def traffic():
    s = acc(0x50, 0) + acc(0x1004, 0) + act(12, 1) + act(12, 0)
    s += acc(0x60, write=False) + acc(0x64, 1) + act(13) + act(15)
    s += acc(0xc2, (2 << 12) | 1, width=2) + act(12, 0)
    s += acc(0xc2, (3 << 12) | 1, width=2)
    s += acc(0x100, write=False, width=1) + acc(0x102, write=False, width=2)
    s += acc(0x100, write=False, width=8) + acc(0x104, 7)
    s += acc(0x50, write=False) + acc(0xfc, write=False)
    return s


def feature_traffic():
    s = acc(0x1100, 0) + acc(0x1108, 0) + act(12, 1) + act(13)
    s += acc(0x1004, (2 << 12) | 1) + act(12, 0) + acc(0x1004, (4 << 12) | 1)
    s += acc(0x1014, write=False) + acc(0x1000, 0) + act(12, 2)
    s += acc(0x60, write=False) + acc(0x64, 3) + acc(0x1000, 0x8000)
    return s


mmio = {
    "v2_features_init": good_init(features=True) + feature_traffic()
    + acc(0x70, 0) + feature_traffic(),
    "v2_init": good_init(),
    "v3_msi_init": good_init(msi=True) + traffic(),
    "v3_reset_mid_flight": good_init(msi=True) + traffic() + acc(0x70, 0)
    + traffic(),
    "needs_reset": good_init() + act(14) + acc(0x70, 0x4f | 0x80),
    "bad_widths": acc(0x0, write=False, width=2) + acc(0x2, write=False)
    + acc(0xc0, 0x8000) + acc(0x1ffe, 1, width=8) + acc(0xfffc, 1),
}

# ---- fuzz_virtq_chain: 16-byte header + guest RAM image ---------------------
DESC, AVAIL, USED, TABLE, BUF = 0x0, 0x1000, 0x2000, 0x3000, 0x8000
RAMGPA = 0x10000


def header(log2size, flags, raw=0):
    return struct.pack("<BBHHHQ", log2size, flags, DESC, AVAIL, USED, raw)


class Image:
    def __init__(self, size):
        self.mem = bytearray(0x9000)
        self.size = size
        self.avail = 0

    def desc(self, table, i, addr, length, flags, nxt):
        struct.pack_into("<QIHH", self.mem, table + 16 * i, addr, length,
                         flags, nxt)

    def offer(self, head):
        struct.pack_into("<H", self.mem, AVAIL + 4 + 2 * (self.avail %
                                                         self.size), head)
        self.avail += 1
        struct.pack_into("<H", self.mem, AVAIL + 2, self.avail)


def simple():
    im = Image(8)
    im.desc(DESC, 0, RAMGPA + BUF, 16, 1, 1)
    im.desc(DESC, 1, RAMGPA + BUF + 0x100, 64, 2, 0)
    im.offer(0)
    im.desc(DESC, 2, RAMGPA + BUF + 0x200, 8, 0, 0)
    im.offer(2)
    return header(3, 0) + bytes(im.mem)


def indirect():
    im = Image(8)
    im.desc(TABLE, 0, RAMGPA + BUF, 16, 1, 1)
    im.desc(TABLE, 1, RAMGPA + BUF + 0x40, 16, 1, 2)
    im.desc(TABLE, 2, RAMGPA + BUF + 0x80, 128, 2, 0)
    im.desc(DESC, 3, RAMGPA + TABLE, 48, 4, 0)
    im.offer(3)
    im.desc(DESC, 4, RAMGPA + BUF, 4, 1, 3)
    im.offer(4)
    return header(3, 3) + bytes(im.mem)


def loops():
    im = Image(4)
    im.desc(DESC, 0, RAMGPA + BUF, 16, 1, 1)
    im.desc(DESC, 1, RAMGPA + BUF, 16, 1, 0)
    im.offer(0)
    im.desc(DESC, 2, RAMGPA + BUF, 16, 1, 9)
    im.offer(2)
    im.offer(3)
    return header(2, 1) + bytes(im.mem)


virtq = {
    "simple": simple(),
    "indirect": indirect(),
    "loops": loops(),
    "hostile_ring": header(3, 4 | 8, 0xfffffffffffffffe) + bytes(0x3000),
}

# ---- fuzz_console, fuzz_rng: fuzz_device_harness.h's layout ---------------
# 8 bytes of features, a queue-size shift, then 64 KiB of guest RAM with
# queue q's rings at q*0x400 (desc), +0x100 (avail), +0x200 (used).
def device_ram(queues):
    """queues: {q: [(addr, len, flags), ...]}, each descriptor its own
    chain, all offered."""
    mem = bytearray(0x10000)
    for q, descs in queues.items():
        base = q * 0x400
        for i, (addr, length, flags) in enumerate(descs):
            struct.pack_into("<QIHH", mem, base + 16 * i, addr, length,
                             flags, 0)
            struct.pack_into("<H", mem, base + 0x104 + 2 * i, i)
        struct.pack_into("<H", mem, base + 0x102, len(descs))
    return mem


def device_seed(queues, tail=b""):
    return struct.pack("<QB", 1 << 29, 4) + bytes(device_ram(queues)) + tail


console = {
    "rx_tx": device_seed({0: [(0x8000, 64, 2), (0x8100, 64, 2)],
                          1: [(0x9000, 16, 0)]},
                         struct.pack("<H", 5) + b"input" + b"\x05\x00\x03\x00"),
    "tx_only": device_seed({1: [(0x9000, 4096, 0), (0xfff0, 64, 0)]}),
}
rng = {
    "two_buffers": device_seed({0: [(0x8000, 256, 2), (0x9000, 4096, 2)]}),
    "read_only_buffer": device_seed({0: [(0x8000, 64, 0)]}),
}

# ---- fuzz_blk_request: flags, segment counts, 16-bit lengths, bytes ----
# (layout in fuzz_blk_request.c). Discard (11) and write zeroes (13): the
# header, then 16-byte segments {le64 sector; le32 num_sectors; le32
# flags}, then a 1-byte status segment; the image is 64 sectors.
def blk_req(rtype, segs, flags=0, split=False, raw=None):
    data = raw if raw is not None else b"".join(
        struct.pack("<QII", *sg) for sg in segs)
    hdr = struct.pack("<IIQ", rtype, 0, 0)
    if split:
        # Header and half a segment in one descriptor, the rest in another.
        out = [hdr + data[:8], data[8:]]
    else:
        out = [hdr, data]
    s = struct.pack("<BBB", flags, len(out), 1)
    s += b"".join(struct.pack("<H", len(o)) for o in out)
    return s + struct.pack("<H", 1) + b"".join(out)


DISCARD, WRITE_ZEROES = 11, 13
blk = {
    "discard": blk_req(DISCARD, [(4, 8, 0)]),
    "write_zeroes_unmap": blk_req(WRITE_ZEROES, [(4, 8, 1)]),
    "discard_3_segs_split": blk_req(DISCARD, [(0, 8, 0), (16, 8, 0),
                                              (56, 8, 0)], split=True),
    "write_zeroes_8_segs": blk_req(WRITE_ZEROES,
                                   [(8 * i, 4, i & 1) for i in range(8)]),
    "write_zeroes_9_segs": blk_req(WRITE_ZEROES,
                                   [(i, 1, 0) for i in range(9)]),
    "write_zeroes_direct": blk_req(WRITE_ZEROES, [(1, 62, 0)], flags=2),
    "discard_read_only": blk_req(DISCARD, [(0, 8, 0)], flags=1),
    "write_zeroes_reserved_flag": blk_req(WRITE_ZEROES, [(0, 8, 1 << 7)]),
    "discard_unmap": blk_req(DISCARD, [(0, 8, 1)]),
    "discard_past_end": blk_req(DISCARD, [(60, 8, 0)]),
    "write_zeroes_wrap": blk_req(WRITE_ZEROES,
                                 [((1 << 64) - 1, 0xffffffff, 0)]),
    "discard_torn": blk_req(DISCARD, [], raw=struct.pack("<QI", 0, 8)),
}

# ---- fuzz_net_ctrl: two pairs, the control queue is queue 4 ----
# Each command is a chain {header + data, out} -> {ack, in}; features
# VERSION_1 | MQ (22) | CTRL_VQ (17); the tail moves the avail indexes.
NET_MQ_FEATURES = (1 << 32) | (1 << 22) | (1 << 17)


def net_ctrl(cmds, tx=(), tail=b""):
    mem = bytearray(0x10000)
    base = 4 * 0x400
    for i, cmd in enumerate(cmds):
        out, ack = 0x8000 + 0x100 * i, 0xc000 + 0x10 * i
        mem[out:out + len(cmd)] = cmd
        struct.pack_into("<QIHH", mem, base + 32 * i, out, len(cmd), 1,
                         2 * i + 1)
        struct.pack_into("<QIHH", mem, base + 32 * i + 16, ack, 1, 2, 0)
        struct.pack_into("<H", mem, base + 0x104 + 2 * i, 2 * i)
    struct.pack_into("<H", mem, base + 0x102, len(cmds))
    txbase = 3 * 0x400
    for i, length in enumerate(tx):
        struct.pack_into("<QIHH", mem, txbase + 16 * i, 0xa000 + 0x400 * i,
                         length, 0, 0)
        struct.pack_into("<H", mem, txbase + 0x104 + 2 * i, i)
    struct.pack_into("<H", mem, txbase + 0x102, len(tx))
    return struct.pack("<QB", NET_MQ_FEATURES, 4) + bytes(mem) + tail


def mq_set(pairs):
    return struct.pack("<BBH", 4, 0, pairs)


net_ctrl_seeds = {
    "enable_two": net_ctrl([mq_set(2)], tx=[12 + 60]),
    "enable_then_one": net_ctrl([mq_set(2), mq_set(1)], tx=[12 + 60]),
    "too_many": net_ctrl([mq_set(3), mq_set(0)], tx=[12 + 60]),
    "other_classes": net_ctrl([struct.pack("<BBB", 0, 0, 1),
                               struct.pack("<BB", 4, 1), b"\x04"]),
    "short_data": net_ctrl([struct.pack("<BBB", 4, 0, 2)]),
}


# ---- fuzz_logwrites: a whole dm-log-writes log (tools/logwrites.h) ----
LW_MAGIC = 0x6a736677736872


def lw_log(ss, entries, nr=None):
    """entries: (sector, nr_sectors, flags, payload) with payload the mark
    name (flags 8) or the written data, padded to whole blocks."""
    def blk(b):
        return b + bytes(-len(b) % ss)
    out = blk(struct.pack("<QQQI", LW_MAGIC, 1,
                          len(entries) if nr is None else nr, ss))
    for sector, n, flags, payload in entries:
        mark = flags == 8
        out += blk(struct.pack("<QQQQ", sector, n, flags,
                               len(payload) if mark else 0) +
                   (payload if mark else b""))
        if not mark and not flags & 4:
            out += blk(payload)
    return out


def lw_write(sector, n, ss=512, flags=0):
    return (sector, n, flags, bytes((sector + i) & 0xff
                                    for i in range(n * ss)))


logwrites = {
    "mkfs_then_fsync": lw_log(512, [
        (0, 256, 4, b""), lw_write(2, 2), (0, 0, 1, b""),
        (0, 0, 8, b"mkfs"), lw_write(40, 1, flags=16), lw_write(60, 3),
        (0, 0, 1, b""), lw_write(8, 1, flags=2), (0, 0, 8, b"end")]),
    "sector_4k": lw_log(4096, [lw_write(3, 1, 4096), (0, 0, 1, b""),
                               lw_write(1, 2, 4096, flags=1)]),
    "truncated": lw_log(512, [lw_write(2, 4), (0, 0, 1, b"")])[:2500],
    "count_too_big": lw_log(512, [(0, 0, 1, b"")], nr=9),
}

for target, seeds in (("fuzz_mmio_registers", mmio),
                      ("fuzz_net_ctrl", net_ctrl_seeds),
                      ("fuzz_virtq_chain", virtq),
                      ("fuzz_console", console), ("fuzz_rng", rng),
                      ("fuzz_blk_request", blk),
                      ("fuzz_logwrites", logwrites)):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for name, blob in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(blob)
    print(target, len(seeds), "seeds")
