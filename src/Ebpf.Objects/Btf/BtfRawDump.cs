using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;

namespace Ebpf.Btf;

/// <summary>
/// The "raw" BTF listing, line for line what <c>bpftool btf dump file FILE format raw</c> prints
/// (bpftool 7.x): one <c>[id] KIND 'name' ...</c> line per type, followed by one tab-indented line per
/// member, enumerator, parameter or section variable.
/// </summary>
/// <remarks>
/// The dump streams straight from the type section (no type objects are materialised), so dumping the
/// kernel's BTF costs about as much as bpftool does. For split BTF only the spec's own types are listed,
/// as <c>bpftool -B BASE</c> does; names and kinds of referenced base types are still resolved.
/// </remarks>
internal static class BtfRawDump
{
    /// <summary>Writes every own type of <paramref name="spec"/> (ids <see cref="BtfSpec.FirstTypeId"/> onwards).</summary>
    public static void WriteRaw(BtfSpec spec, TextWriter writer)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        var sink = new BtfTextSink(writer);
        for (int id = spec.FirstTypeId; id < spec.TypeCount; id++)
            WriteType(spec, id, sink);
        sink.Flush();
    }

    /// <summary>Writes the given types only, in the order given (bpftool's <c>root_id</c>).</summary>
    public static void WriteRaw(BtfSpec spec, IEnumerable<int> typeIds, TextWriter writer)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        if (typeIds is null) throw new ArgumentNullException(nameof(typeIds));
        var sink = new BtfTextSink(writer);
        foreach (int id in typeIds)
        {
            if (id <= 0 || id >= spec.TypeCount)
                throw new ArgumentOutOfRangeException(nameof(typeIds), $"type id {id} is out of range (1..{spec.TypeCount - 1})");
            WriteType(spec, id, sink);
        }
        sink.Flush();
    }

    /// <summary>The raw listing of one type, with its member lines, without the final newline.</summary>
    public static string FormatType(BtfSpec spec, int id)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        if (id <= 0 || id >= spec.TypeCount)
            throw new ArgumentOutOfRangeException(nameof(id), $"type id {id} is out of range (1..{spec.TypeCount - 1})");
        var sw = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        var sink = new BtfTextSink(sw);
        WriteType(spec, id, sink);
        sink.Flush();
        var s = sw.ToString();
        return s.EndsWith("\n", StringComparison.Ordinal) ? s.Substring(0, s.Length - 1) : s;
    }

    private static uint U32(ReadOnlySpan<byte> r, int o) => BinaryPrimitives.ReadUInt32LittleEndian(r.Slice(o, 4));

    /// <summary>bpftool's btf_str(): "(anon)" for offset 0, else the string.</summary>
    private static void Name(BtfSpec spec, BtfTextSink o, uint nameOff)
    {
        if (nameOff == 0)
            o.Append("(anon)");
        else
            o.AppendUtf8(spec.GetStringBytes((int)nameOff));
    }

    private static void QuotedName(BtfSpec spec, BtfTextSink o, uint nameOff)
    {
        o.Append('\'');
        Name(spec, o, nameOff);
        o.Append('\'');
    }

    private static string IntEncoding(uint enc) => enc switch
    {
        0 => "(none)",
        1 => "SIGNED",
        2 => "CHAR",
        4 => "BOOL",
        _ => "UNKN",
    };

    private static string VarLinkage(uint l) => l switch
    {
        0 => "static",
        1 => "global",
        2 => "extern",
        _ => "(unknown)",
    };

    private static string FuncLinkage(int l) => l switch
    {
        0 => "static",
        1 => "global",
        2 => "extern",
        _ => "(unknown)",
    };

    internal static void WriteType(BtfSpec spec, int id, BtfTextSink o)
    {
        var r = spec.GetRecord(id);
        uint nameOff = U32(r, 0);
        uint info = U32(r, 4);
        uint st = U32(r, 8);
        var kind = (BtfKind)((info >> 24) & 0x1f);
        int vlen = (int)(info & 0xffff);
        bool kflag = (info >> 31) != 0;

        o.Append('[');
        o.AppendUInt((uint)id);
        o.Append("] ");
        o.Append(kind.ToUpperName());
        o.Append(' ');
        QuotedName(spec, o, nameOff);

        switch (kind)
        {
            case BtfKind.Int:
            {
                uint v = U32(r, 12);
                o.Append(" size=");
                o.AppendUInt(st);
                o.Append(" bits_offset=");
                o.AppendUInt((v >> 16) & 0xff);
                o.Append(" nr_bits=");
                o.AppendUInt(v & 0xff);
                o.Append(" encoding=");
                o.Append(IntEncoding((v >> 24) & 0x0f));
                break;
            }
            case BtfKind.Ptr:
            case BtfKind.Const:
            case BtfKind.Volatile:
            case BtfKind.Restrict:
            case BtfKind.Typedef:
            case BtfKind.TypeTag:
                o.Append(" type_id=");
                o.AppendUInt(st);
                break;
            case BtfKind.Array:
                o.Append(" type_id=");
                o.AppendUInt(U32(r, 12));
                o.Append(" index_type_id=");
                o.AppendUInt(U32(r, 16));
                o.Append(" nr_elems=");
                o.AppendUInt(U32(r, 20));
                break;
            case BtfKind.Struct:
            case BtfKind.Union:
                o.Append(" size=");
                o.AppendUInt(st);
                o.Append(" vlen=");
                o.AppendUInt((uint)vlen);
                for (int i = 0; i < vlen; i++)
                {
                    int p = 12 + i * 12;
                    uint off = U32(r, p + 8);
                    uint bitOff = kflag ? off & 0xffffff : off;
                    uint bitSz = kflag ? off >> 24 : 0;
                    o.Append("\n\t");
                    QuotedName(spec, o, U32(r, p));
                    o.Append(" type_id=");
                    o.AppendUInt(U32(r, p + 4));
                    o.Append(" bits_offset=");
                    o.AppendUInt(bitOff);
                    if (bitSz != 0)
                    {
                        o.Append(" bitfield_size=");
                        o.AppendUInt(bitSz);
                    }
                }
                break;
            case BtfKind.Enum:
                o.Append(kflag ? " encoding=SIGNED size=" : " encoding=UNSIGNED size=");
                o.AppendUInt(st);
                o.Append(" vlen=");
                o.AppendUInt((uint)vlen);
                for (int i = 0; i < vlen; i++)
                {
                    int p = 12 + i * 8;
                    uint val = U32(r, p + 4);
                    o.Append("\n\t");
                    QuotedName(spec, o, U32(r, p));
                    o.Append(" val=");
                    if (kflag) o.AppendInt(unchecked((int)val));
                    else o.AppendUInt(val);
                }
                break;
            case BtfKind.Enum64:
                o.Append(kflag ? " encoding=SIGNED size=" : " encoding=UNSIGNED size=");
                o.AppendUInt(st);
                o.Append(" vlen=");
                o.AppendUInt((uint)vlen);
                for (int i = 0; i < vlen; i++)
                {
                    int p = 12 + i * 12;
                    ulong val = ((ulong)U32(r, p + 8) << 32) | U32(r, p + 4);
                    o.Append("\n\t");
                    QuotedName(spec, o, U32(r, p));
                    o.Append(" val=");
                    if (kflag)
                    {
                        o.AppendInt(unchecked((long)val));
                        o.Append("LL");
                    }
                    else
                    {
                        o.AppendUInt(val);
                        o.Append("ULL");
                    }
                }
                break;
            case BtfKind.Fwd:
                o.Append(kflag ? " fwd_kind=union" : " fwd_kind=struct");
                break;
            case BtfKind.Func:
                o.Append(" type_id=");
                o.AppendUInt(st);
                o.Append(" linkage=");
                o.Append(FuncLinkage(vlen));
                break;
            case BtfKind.FuncProto:
                o.Append(" ret_type_id=");
                o.AppendUInt(st);
                o.Append(" vlen=");
                o.AppendUInt((uint)vlen);
                for (int i = 0; i < vlen; i++)
                {
                    int p = 12 + i * 8;
                    o.Append("\n\t");
                    QuotedName(spec, o, U32(r, p));
                    o.Append(" type_id=");
                    o.AppendUInt(U32(r, p + 4));
                }
                break;
            case BtfKind.Var:
                // bpftool prints a comma here, unlike everywhere else.
                o.Append(" type_id=");
                o.AppendUInt(st);
                o.Append(", linkage=");
                o.Append(VarLinkage(U32(r, 12)));
                break;
            case BtfKind.Datasec:
                o.Append(" size=");
                o.AppendUInt(st);
                o.Append(" vlen=");
                o.AppendUInt((uint)vlen);
                for (int i = 0; i < vlen; i++)
                {
                    int p = 12 + i * 12;
                    uint vt = U32(r, p);
                    o.Append("\n\ttype_id=");
                    o.AppendUInt(vt);
                    o.Append(" offset=");
                    o.AppendUInt(U32(r, p + 4));
                    o.Append(" size=");
                    o.AppendUInt(U32(r, p + 8));
                    if (vt < (uint)spec.TypeCount)
                    {
                        o.Append(" (");
                        o.Append(vt == 0 ? "UNKNOWN" : spec.GetKind((int)vt).ToUpperName());
                        o.Append(' ');
                        QuotedName(spec, o, vt == 0 ? 0u : (uint)spec.GetNameOffset((int)vt));
                        o.Append(')');
                    }
                }
                break;
            case BtfKind.Float:
                o.Append(" size=");
                o.AppendUInt(st);
                break;
            case BtfKind.DeclTag:
                o.Append(" type_id=");
                o.AppendUInt(st);
                o.Append(" component_idx=");
                o.AppendInt(unchecked((int)U32(r, 12)));
                break;
        }
        o.Append('\n');
    }
}
