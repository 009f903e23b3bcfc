#!/usr/bin/env python3
"""extract_vmlinux.py BZIMAGE OUT: the uncompressed ELF kernel inside a
gzip-compressed bzImage (the project's kernel: CONFIG_KERNEL_GZIP), for
QEMU microvm's PVH boot, which takes an ELF with a PVH note rather than a
bzImage. The payload is the first gzip stream, after the setup code, that
inflates to an ELF file. Writes OUT only when it changes."""
import os
import sys
import zlib


def extract(data):
    pos = 0
    while True:
        pos = data.find(b"\x1f\x8b\x08", pos)
        if pos < 0:
            return None
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out = d.decompress(data[pos:])
            if out[:4] == b"\x7fELF":
                return out
        except zlib.error:
            pass
        pos += 1


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: extract_vmlinux.py BZIMAGE OUT")
    with open(argv[1], "rb") as f:
        elf = extract(f.read())
    if elf is None:
        sys.exit("extract_vmlinux.py: no gzip-compressed ELF in %s" % argv[1])
    try:
        with open(argv[2], "rb") as f:
            if f.read() == elf:
                return
    except FileNotFoundError:
        pass
    tmp = argv[2] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(elf)
    os.replace(tmp, argv[2])


if __name__ == "__main__":
    main(sys.argv)
