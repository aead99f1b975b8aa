#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Wraps the test guest ELF into a minimal bzImage (Linux boot protocol 2.15):
a setup area holding only the header, then the flat image that the loader
copies to 1 MiB and enters at +0x200 in 64-bit mode.

usage: mkbzimage.py GUEST.elf OUT.bzImage"""
import struct
import sys

LOAD_ADDR = 0x100000
SETUP_SECTS = 1


def load_segments(elf):
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        sys.exit("mkbzimage: not an ELF64 file")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    segs = []
    for i in range(phnum):
        p_type, _flags, off, _vaddr, paddr, filesz, memsz, _align = \
            struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type == 1 and memsz > 0:
            segs.append((paddr, elf[off:off + filesz], memsz))
    return segs


def main():
    elf = open(sys.argv[1], "rb").read()
    segs = load_segments(elf)
    if not segs or min(s[0] for s in segs) != LOAD_ADDR:
        sys.exit("mkbzimage: the image must start at 1 MiB")
    end_file = max(p + len(d) for p, d, _ in segs)
    end_mem = max(p + m for p, _, m in segs)
    flat = bytearray(end_file - LOAD_ADDR)
    for paddr, data, _ in segs:
        flat[paddr - LOAD_ADDR:paddr - LOAD_ADDR + len(data)] = data
    flat += bytes(-len(flat) % 16)       # whole 16-byte paragraphs, as syssize counts
    init_size = (end_mem - LOAD_ADDR + 4095) & ~4095

    setup = bytearray(512 * (SETUP_SECTS + 1))
    struct.pack_into("<B", setup, 0x1f1, SETUP_SECTS)
    struct.pack_into("<H", setup, 0x1fe, 0xAA55)           # boot_flag
    setup[0x200:0x202] = bytes([0xEB, 0x66])               # jmp over the header
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x020F)           # protocol 2.15
    struct.pack_into("<B", setup, 0x211, 0x01)             # loadflags: LOADED_HIGH
    struct.pack_into("<I", setup, 0x214, LOAD_ADDR)        # code32_start
    struct.pack_into("<I", setup, 0x22C, 0x7FFFFFFF)       # initrd_addr_max
    struct.pack_into("<I", setup, 0x230, 0x1000)           # kernel_alignment
    struct.pack_into("<B", setup, 0x234, 0)                # not relocatable
    struct.pack_into("<H", setup, 0x236, 0x0001)           # xloadflags: XLF_KERNEL_64
    struct.pack_into("<I", setup, 0x238, 2047)             # cmdline_size
    struct.pack_into("<Q", setup, 0x258, LOAD_ADDR)        # pref_address
    struct.pack_into("<I", setup, 0x260, init_size)        # init_size
    struct.pack_into("<I", setup, 0x1f4, (len(flat) + 15) // 16)  # syssize
    with open(sys.argv[2], "wb") as f:
        f.write(setup)
        f.write(flat)


if __name__ == "__main__":
    main()
