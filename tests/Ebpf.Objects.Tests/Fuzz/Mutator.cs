using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using Ebpf.Btf;
using Ebpf.Elf;

namespace Ebpf.Objects.Tests.Fuzz;

/// <summary>
/// Deterministic structure-aware mutations (a fixed seed gives the same mutants on every machine): bit flips,
/// interesting values in random words, truncations, chunk copies, and targeted corruption of ELF header and
/// section-header fields, BTF header fields and type records, and BTF.ext headers and record counts.
/// </summary>
internal sealed class Mutator
{
    private static readonly ulong[] Interesting =
    {
        0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
        0x100000000, 0x7fffffffffffffff, 0xffffffffffffffff,
    };

    private readonly Random _rng;
    private readonly byte[] _original;
    private readonly Kind _kind;
    private readonly List<(int Offset, int Size)> _fields = new List<(int, int)>();

    public enum Kind { Elf, Btf, BtfExt }

    public Mutator(byte[] original, Kind kind, int seed)
    {
        _original = original;
        _kind = kind;
        _rng = new Random(seed);
        try
        {
            CollectFields();
        }
        catch (BpfFormatException)
        {
            // A deliberately broken input: only the blind mutations apply.
        }
    }

    /// <summary>Offsets and sizes of the structure fields worth corrupting.</summary>
    private void CollectFields()
    {
        switch (_kind)
        {
            case Kind.Elf:
            {
                foreach (int o in new[] { 40, 48 }) _fields.Add((o, 8));
                foreach (int o in new[] { 52, 58, 60, 62 }) _fields.Add((o, 2));
                var elf = ElfFile.Parse(_original);
                ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(_original.AsSpan(40));
                ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(_original.AsSpan(58));
                if (!elf.IsLittleEndian) break;
                foreach (var s in elf.Sections)
                {
                    int h = (int)shoff + s.Index * shentsize;
                    _fields.Add((h, 4));        // sh_name
                    _fields.Add((h + 4, 4));    // sh_type
                    _fields.Add((h + 24, 8));   // sh_offset
                    _fields.Add((h + 32, 8));   // sh_size
                    _fields.Add((h + 40, 4));   // sh_link
                    _fields.Add((h + 44, 4));   // sh_info
                    _fields.Add((h + 56, 8));   // sh_entsize
                    if (s.Type == ElfSectionType.SymTab || s.Type == ElfSectionType.Rel)
                    {
                        // A few entries' words (symbol name/shndx/value, relocation offset/info).
                        int entry = s.Type == ElfSectionType.SymTab ? 24 : 16;
                        long count = (long)s.Size / entry;
                        for (int k = 0; k < Math.Min(count, 8); k++)
                        {
                            long e = (long)s.Offset + _rng.Next((int)count) * entry;
                            _fields.Add(((int)e, 4));
                            _fields.Add(((int)e + 4, 4));
                            _fields.Add(((int)e + 8, 8));
                        }
                    }
                }
                break;
            }
            case Kind.Btf:
            {
                for (int o = 4; o < 24; o += 4) _fields.Add((o, 4));
                var spec = BtfSpec.Parse(_original);
                int hdr = (int)BinaryPrimitives.ReadUInt32LittleEndian(_original.AsSpan(4));
                int typeOff = (int)BinaryPrimitives.ReadUInt32LittleEndian(_original.AsSpan(8));
                int pos = hdr + typeOff;
                for (int id = 1; id < spec.TypeCount; id++)
                {
                    int len = spec.GetRecord(id).Length;
                    for (int w = 0; w < len; w += 4) _fields.Add((pos + w, 4));
                    pos += len;
                }
                break;
            }
            case Kind.BtfExt:
            {
                for (int o = 4; o < Math.Min(32, _original.Length); o += 4) _fields.Add((o, 4));
                // Every word of the sub-sections: record sizes, section name offsets, record counts, record fields.
                int hdr = (int)BinaryPrimitives.ReadUInt32LittleEndian(_original.AsSpan(4));
                for (int o = hdr; o + 4 <= _original.Length; o += 4) _fields.Add((o, 4));
                break;
            }
        }
    }

    public byte[] Next(out string description)
    {
        var d = (byte[])_original.Clone();
        int ops = 1 + _rng.Next(3);
        var what = new List<string>();
        for (int i = 0; i < ops; i++)
            d = MutateOnce(d, what);
        description = string.Join("; ", what);
        return d;
    }

    private byte[] MutateOnce(byte[] d, List<string> what)
    {
        if (d.Length == 0)
            return d;
        int op = _rng.Next(_fields.Count > 0 ? 8 : 5);
        switch (op)
        {
            case 0:
            {
                int bit = _rng.Next(d.Length * 8);
                d[bit / 8] ^= (byte)(1 << (bit % 8));
                what.Add($"flip bit {bit}");
                return d;
            }
            case 1:
            {
                int o = _rng.Next(d.Length);
                d[o] = (byte)Interesting[_rng.Next(Interesting.Length)];
                what.Add($"byte {o} = 0x{d[o]:x}");
                return d;
            }
            case 2:
            {
                if (d.Length < 4) return d;
                int o = _rng.Next(d.Length - 3) & ~3;
                ulong v = Value(d.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(o), (uint)v);
                what.Add($"u32 at {o} = 0x{(uint)v:x}");
                return d;
            }
            case 3:
            {
                int len = _rng.Next(d.Length);
                what.Add($"truncate to {len}");
                return d.AsSpan(0, len).ToArray();
            }
            case 4:
            {
                int n = 1 + _rng.Next(Math.Min(64, d.Length));
                int from = _rng.Next(d.Length - n + 1), to = _rng.Next(d.Length - n + 1);
                Buffer.BlockCopy(d, from, d, to, n);
                what.Add($"copy {n} bytes {from} -> {to}");
                return d;
            }
            default:
            {
                // A structure field: an interesting value, or one off from the field's current value.
                var (o, size) = _fields[_rng.Next(_fields.Count)];
                if (o < 0 || o + size > d.Length) return d;
                ulong cur = size switch
                {
                    2 => BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(o)),
                    4 => BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(o)),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(o)),
                };
                ulong v = _rng.Next(3) switch
                {
                    0 => cur + 1,
                    1 => cur - 1,
                    _ => Value(d.Length),
                };
                switch (size)
                {
                    case 2: BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(o), (ushort)v); break;
                    case 4: BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(o), (uint)v); break;
                    default: BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(o), v); break;
                }
                what.Add($"field@{o}/{size} 0x{cur:x} -> 0x{v:x}");
                return d;
            }
        }
    }

    private ulong Value(int length) => _rng.Next(4) switch
    {
        0 => (ulong)length,
        1 => (ulong)length + 1,
        2 => (ulong)_rng.Next(length + 1),
        _ => Interesting[_rng.Next(Interesting.Length)],
    };
}
