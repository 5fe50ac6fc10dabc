#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""List the CO-RE relocation records in BPF ELF objects.

Parses .BTF (types and strings) and the core_relo part of .BTF.ext directly
(no libbpf), for little- and big-endian objects, and prints one line per
record:

    <section> insn=<n> kind=<k>:<name> type=[<id>] <kind> <name> access="<spec>"

    tools/core-relo-kinds.py X.bpf.o ...           every record
    tools/core-relo-kinds.py --summary X.bpf.o ...  per-object kind counts and
                                                    a coverage table over all
                                                    objects; exit status 1 if
                                                    any of the 13 kinds is
                                                    missing

Relocation kinds (enum bpf_core_relo_kind):
  0 field_byte_offset  1 field_byte_size  2 field_exists  3 field_signed
  4 field_lshift_u64   5 field_rshift_u64 6 type_id_local 7 type_id_target
  8 type_exists        9 type_size        10 enumval_exists
  11 enumval_value     12 type_matches
"""
import struct
import sys

KINDS = [
    "field_byte_offset", "field_byte_size", "field_exists", "field_signed",
    "field_lshift_u64", "field_rshift_u64", "type_id_local", "type_id_target",
    "type_exists", "type_size", "enumval_exists", "enumval_value",
    "type_matches",
]

BTF_KINDS = [
    "unkn", "int", "ptr", "array", "struct", "union", "enum", "fwd",
    "typedef", "volatile", "const", "restrict", "func", "func_proto", "var",
    "datasec", "float", "decl_tag", "type_tag", "enum64",
]


class ElfError(Exception):
    pass


def read_sections(data):
    """Return ({name: bytes}, endian prefix) for an ELF64 object."""
    if data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file")
    if data[4] != 2:
        raise ElfError("not ELF64")
    e = "<" if data[5] == 1 else ">"
    if len(data) < 64:
        raise ElfError("truncated ELF header")
    (e_shoff,) = struct.unpack_from(e + "Q", data, 0x28)
    e_shentsize, e_shnum, e_shstrndx = struct.unpack_from(e + "HHH", data, 0x3A)
    if e_shoff + e_shnum * e_shentsize > len(data):
        raise ElfError("truncated section header table")
    hdrs = []
    for i in range(e_shnum):
        off = e_shoff + i * e_shentsize
        name, stype, _flags, _addr, soff, size = struct.unpack_from(e + "IIQQQQ", data, off)
        hdrs.append((name, stype, soff, size))
    _, _, stroff, strsize = hdrs[e_shstrndx]
    shstr = data[stroff:stroff + strsize]
    out = {}
    for name, stype, soff, size in hdrs:
        n = shstr[name:shstr.index(b"\0", name)].decode()
        if stype == 8:  # SHT_NOBITS
            continue
        if soff + size > len(data):
            raise ElfError("section %s runs past the end of the file" % n)
        out[n] = data[soff:soff + size]
    return out, e


class Btf:
    def __init__(self, raw, e):
        magic, _ver, _flags, hdr_len, type_off, type_len, str_off, str_len = \
            struct.unpack_from(e + "HBBIIIII", raw, 0)
        if magic != 0xEB9F:
            raise ElfError("bad .BTF magic %#x" % magic)
        self.e = e
        self.strs = raw[hdr_len + str_off:hdr_len + str_off + str_len]
        self.types = [(0, "void", 0)]  # id 0
        t = raw[hdr_len + type_off:hdr_len + type_off + type_len]
        p = 0
        while p < len(t):
            name_off, info, size_type = struct.unpack_from(e + "III", t, p)
            kind = (info >> 24) & 0x1F
            vlen = info & 0xFFFF
            p += 12
            if kind == 1:        # int
                p += 4
            elif kind == 3:      # array
                p += 12
            elif kind in (4, 5):  # struct, union
                p += 12 * vlen
            elif kind == 6:      # enum
                p += 8 * vlen
            elif kind == 13:     # func_proto
                p += 8 * vlen
            elif kind == 14:     # var
                p += 4
            elif kind == 15:     # datasec
                p += 12 * vlen
            elif kind == 17:     # decl_tag
                p += 4
            elif kind == 19:     # enum64
                p += 12 * vlen
            self.types.append((kind, self.str(name_off), size_type))

    def str(self, off):
        end = self.strs.index(b"\0", off)
        return self.strs[off:end].decode()

    def describe(self, type_id):
        if type_id >= len(self.types):
            return "[%d] ?" % type_id
        kind, name, _ = self.types[type_id]
        kname = BTF_KINDS[kind] if kind < len(BTF_KINDS) else str(kind)
        return "[%d] %s %s" % (type_id, kname, name or "(anon)")


def core_relos(path):
    """Yield (section, insn_index, kind, type_desc, access_str) records."""
    with open(path, "rb") as f:
        data = f.read()
    secs, e = read_sections(data)
    if ".BTF" not in secs:
        return
    btf = Btf(secs[".BTF"], e)
    ext = secs.get(".BTF.ext")
    if not ext:
        return
    magic, _ver, _flags, hdr_len = struct.unpack_from(e + "HBBI", ext, 0)
    if magic != 0xEB9F:
        raise ElfError("bad .BTF.ext magic %#x" % magic)
    if hdr_len < 32:
        return  # no core_relo section in this (old) format
    core_off, core_len = struct.unpack_from(e + "II", ext, 24)
    if core_len == 0:
        return
    p = hdr_len + core_off
    end = p + core_len
    (rec_size,) = struct.unpack_from(e + "I", ext, p)
    p += 4
    while p < end:
        sec_off, num = struct.unpack_from(e + "II", ext, p)
        p += 8
        sec = btf.str(sec_off)
        for _ in range(num):
            insn_off, type_id, access_off, kind = struct.unpack_from(e + "IIII", ext, p)
            p += rec_size
            yield sec, insn_off // 8, kind, btf.describe(type_id), btf.str(access_off)


def main(argv):
    summary = False
    paths = []
    for a in argv[1:]:
        if a == "--summary":
            summary = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            paths.append(a)
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2

    coverage = {k: [] for k in range(len(KINDS))}
    status = 0
    for path in paths:
        try:
            recs = list(core_relos(path))
        except (ElfError, struct.error, ValueError, IndexError) as exc:
            print("%s: error: %s" % (path, exc), file=sys.stderr)
            status = 1
            continue
        counts = {}
        for sec, insn, kind, tdesc, access in recs:
            counts[kind] = counts.get(kind, 0) + 1
            if not summary:
                kname = KINDS[kind] if kind < len(KINDS) else "?"
                print('%s: %s insn=%d kind=%d:%s type=%s access="%s"'
                      % (path, sec, insn, kind, kname, tdesc, access))
        for k in counts:
            if k in coverage:
                coverage[k].append(path)
        if summary:
            desc = ", ".join("%s=%d" % (KINDS[k] if k < len(KINDS) else str(k), counts[k])
                             for k in sorted(counts)) or "no CO-RE relocations"
            print("%-26s %s" % (path, desc))

    if summary:
        print()
        print("%-3s %-18s %s" % ("#", "kind", "objects"))
        missing = 0
        for k, name in enumerate(KINDS):
            objs = coverage[k]
            if not objs:
                missing += 1
            print("%-3d %-18s %s" % (k, name, " ".join(objs) if objs else "MISSING"))
        if missing:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
