using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace Ebpf.Btf;

/// <summary>CO-RE relocation kinds (enum bpf_core_relo_kind).</summary>
public enum CoreReloKind : uint
{
    /// <summary><c>bpf_core_field_offset</c>, and every CO-RE field access: the byte offset of a field.</summary>
    FieldByteOffset = 0,
    /// <summary><c>bpf_core_field_size</c>: the byte size of a field.</summary>
    FieldByteSize = 1,
    /// <summary><c>bpf_core_field_exists</c>: 1 when the field exists in the target, else 0.</summary>
    FieldExists = 2,
    /// <summary><c>BPF_FIELD_SIGNED</c>: 1 when the field is a signed integer or enum.</summary>
    FieldSigned = 3,
    /// <summary><c>BPF_FIELD_LSHIFT_U64</c>: left shift that isolates a bitfield read as a 64-bit value.</summary>
    FieldLShiftU64 = 4,
    /// <summary><c>BPF_FIELD_RSHIFT_U64</c>: right shift that isolates a bitfield read as a 64-bit value.</summary>
    FieldRShiftU64 = 5,
    /// <summary><c>bpf_core_type_id_local</c>: the type's id in the object's own BTF.</summary>
    TypeIdLocal = 6,
    /// <summary><c>bpf_core_type_id_kernel</c>: the matching type's id in the target (kernel) BTF.</summary>
    TypeIdTarget = 7,
    /// <summary><c>bpf_core_type_exists</c>: 1 when a compatible type exists in the target, else 0.</summary>
    TypeExists = 8,
    /// <summary><c>bpf_core_type_size</c>: the byte size of the target type.</summary>
    TypeSize = 9,
    /// <summary><c>bpf_core_enum_value_exists</c>: 1 when the enumerator exists in the target, else 0.</summary>
    EnumValueExists = 10,
    /// <summary><c>bpf_core_enum_value</c>: the enumerator's value in the target.</summary>
    EnumValueValue = 11,
    /// <summary><c>bpf_core_type_matches</c>: 1 when the target type matches the local one member by member (clang 17, libbpf 1.2).</summary>
    TypeMatches = 12,
}

internal static class CoreReloKindNames
{
    /// <summary>The short name used in reports: byte_off, byte_sz, field_exists, ...</summary>
    public static string ToShortName(this CoreReloKind kind) => kind switch
    {
        CoreReloKind.FieldByteOffset => "byte_off",
        CoreReloKind.FieldByteSize => "byte_sz",
        CoreReloKind.FieldExists => "field_exists",
        CoreReloKind.FieldSigned => "signed",
        CoreReloKind.FieldLShiftU64 => "lshift_u64",
        CoreReloKind.FieldRShiftU64 => "rshift_u64",
        CoreReloKind.TypeIdLocal => "local_type_id",
        CoreReloKind.TypeIdTarget => "target_type_id",
        CoreReloKind.TypeExists => "type_exists",
        CoreReloKind.TypeMatches => "type_matches",
        CoreReloKind.TypeSize => "type_size",
        CoreReloKind.EnumValueExists => "enumval_exists",
        CoreReloKind.EnumValueValue => "enumval_value",
        _ => "unknown",
    };

    public static bool TryParse(string name, out CoreReloKind kind)
    {
        for (uint k = 0; k <= (uint)CoreReloKind.TypeMatches; k++)
        {
            if (((CoreReloKind)k).ToShortName() == name)
            {
                kind = (CoreReloKind)k;
                return true;
            }
        }
        kind = default;
        return false;
    }

    public static bool IsFieldBased(this CoreReloKind k) => k <= CoreReloKind.FieldRShiftU64;
    public static bool IsTypeBased(this CoreReloKind k) => k is CoreReloKind.TypeIdLocal or CoreReloKind.TypeIdTarget or CoreReloKind.TypeExists or CoreReloKind.TypeSize or CoreReloKind.TypeMatches;
    public static bool IsEnumValueBased(this CoreReloKind k) => k is CoreReloKind.EnumValueExists or CoreReloKind.EnumValueValue;
}

/// <summary>bpf_func_info: the BTF FUNC describing the function that starts at an instruction.</summary>
internal readonly struct BtfFuncInfo
{
    public BtfFuncInfo(uint instructionOffset, int typeId)
    {
        InstructionOffset = instructionOffset;
        TypeId = typeId;
    }

    /// <summary>Byte offset of the instruction within its ELF section (the kernel wants instruction indices: divide by 8).</summary>
    public uint InstructionOffset { get; }
    public int TypeId { get; }
    public int InstructionIndex => (int)(InstructionOffset / 8);
}

/// <summary>bpf_line_info: source line of an instruction.</summary>
internal readonly struct BtfLineInfo
{
    public BtfLineInfo(uint instructionOffset, uint fileNameOffset, uint lineOffset, uint lineCol)
    {
        InstructionOffset = instructionOffset;
        FileNameOffset = fileNameOffset;
        LineOffset = lineOffset;
        LineCol = lineCol;
    }

    public uint InstructionOffset { get; }
    public uint FileNameOffset { get; }
    public uint LineOffset { get; }
    public uint LineCol { get; }
    public int Line => (int)(LineCol >> 10);
    public int Column => (int)(LineCol & 0x3ff);
    public int InstructionIndex => (int)(InstructionOffset / 8);
}

/// <summary>bpf_core_relo: one CO-RE relocation record.</summary>
internal readonly struct BtfCoreRelo
{
    public BtfCoreRelo(uint instructionOffset, int typeId, uint accessStringOffset, CoreReloKind kind)
    {
        InstructionOffset = instructionOffset;
        TypeId = typeId;
        AccessStringOffset = accessStringOffset;
        Kind = kind;
    }

    public uint InstructionOffset { get; }
    /// <summary>Local (object) type id the access string starts from.</summary>
    public int TypeId { get; }
    public uint AccessStringOffset { get; }
    public CoreReloKind Kind { get; }
    public int InstructionIndex => (int)(InstructionOffset / 8);
}

/// <summary>The records of one ELF section in one .BTF.ext subsection.</summary>
internal sealed class BtfExtSection<T>
{
    internal BtfExtSection(string sectionName, int sectionNameOffset, IReadOnlyList<T> records)
    {
        SectionName = sectionName;
        SectionNameOffset = sectionNameOffset;
        Records = records;
    }

    public string SectionName { get; }
    public int SectionNameOffset { get; }
    public IReadOnlyList<T> Records { get; }
}

/// <summary>
/// A parsed .BTF.ext section: func_info, line_info and CO-RE relocations, grouped by ELF section.
/// String offsets (section names, access strings, file names) refer to the object's .BTF string section.
/// </summary>
internal sealed class BtfExt
{
    private const int MinHeaderSize = 24;

    private BtfExt(int funcInfoRecordSize, int lineInfoRecordSize, int coreReloRecordSize,
        IReadOnlyList<BtfExtSection<BtfFuncInfo>> funcInfos, IReadOnlyList<BtfExtSection<BtfLineInfo>> lineInfos, IReadOnlyList<BtfExtSection<BtfCoreRelo>> coreRelos)
    {
        FuncInfoRecordSize = funcInfoRecordSize;
        LineInfoRecordSize = lineInfoRecordSize;
        CoreReloRecordSize = coreReloRecordSize;
        FuncInfos = funcInfos;
        LineInfos = lineInfos;
        CoreRelos = coreRelos;
    }

    /// <summary>Record size as stored (at least 8); records may carry trailing fields we do not know.</summary>
    public int FuncInfoRecordSize { get; }
    public int LineInfoRecordSize { get; }
    public int CoreReloRecordSize { get; }
    public IReadOnlyList<BtfExtSection<BtfFuncInfo>> FuncInfos { get; }
    public IReadOnlyList<BtfExtSection<BtfLineInfo>> LineInfos { get; }
    public IReadOnlyList<BtfExtSection<BtfCoreRelo>> CoreRelos { get; }

    public static BtfExtSection<T>? Find<T>(IReadOnlyList<BtfExtSection<T>> sections, string name)
    {
        foreach (var s in sections)
        {
            if (s.SectionName == name)
                return s;
        }
        return null;
    }

    /// <summary>Parses .BTF.ext; <paramref name="btf"/> is the object's BTF, used to resolve section names and check offsets.</summary>
    public static BtfExt Parse(ReadOnlySpan<byte> data, BtfSpec btf)
    {
        if (data.Length < 4)
            throw new BtfExtFormatException(0, $"input is {data.Length} bytes, too short for a header");
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        bool le;
        if (magic == BtfSpec.Magic) le = true;
        else if (magic == 0x9FEB) le = false;
        else throw new BtfExtFormatException(0, $"bad magic 0x{magic:x4} (expected 0xeb9f)");
        var r = new Reader(data, le);
        if (data[2] != 1)
            throw new BtfExtFormatException(2, $"unsupported version {data[2]}");
        if (data.Length < MinHeaderSize)
            throw new BtfExtFormatException(0, $"input is {data.Length} bytes, too short for a header ({MinHeaderSize})");
        uint hdrLen = r.U32(4);
        if (hdrLen < MinHeaderSize || hdrLen > (uint)data.Length)
            throw new BtfExtFormatException(4, $"header length {hdrLen} is invalid for a {data.Length}-byte section");
        uint fiOff = r.U32(8), fiLen = r.U32(12), liOff = r.U32(16), liLen = r.U32(20);
        uint crOff = 0, crLen = 0;
        if (hdrLen >= 32)
        {
            crOff = r.U32(24);
            crLen = r.U32(28);
        }
        int fiSize = 0, liSize = 0, crSize = 0;
        var fi = ParseSub(data, r, hdrLen, fiOff, fiLen, 8, "func_info", btf, ref fiSize,
            (rr, o) => new BtfFuncInfo(rr.U32(o), (int)rr.U32(o + 4)), (rec, o) =>
            {
                if (!btf.IsValidId(rec.TypeId) || btf.GetKind(rec.TypeId) != BtfKind.Func)
                    throw new BtfExtFormatException(o + 4, $"func_info refers to type [{rec.TypeId}], which is not a FUNC");
                if (rec.InstructionOffset % 8 != 0)
                    throw new BtfExtFormatException(o, $"func_info instruction offset {rec.InstructionOffset} is not a multiple of 8");
            });
        var li = ParseSub(data, r, hdrLen, liOff, liLen, 16, "line_info", btf, ref liSize,
            (rr, o) => new BtfLineInfo(rr.U32(o), rr.U32(o + 4), rr.U32(o + 8), rr.U32(o + 12)), (rec, o) =>
            {
                if (!btf.IsValidStringOffset((int)Math.Min(rec.FileNameOffset, int.MaxValue)) || !btf.IsValidStringOffset((int)Math.Min(rec.LineOffset, int.MaxValue)))
                    throw new BtfExtFormatException(o, "line_info string offset is outside the BTF string section");
                if (rec.InstructionOffset % 8 != 0)
                    throw new BtfExtFormatException(o, $"line_info instruction offset {rec.InstructionOffset} is not a multiple of 8");
            });
        var cr = ParseSub(data, r, hdrLen, crOff, crLen, 16, "core_relo", btf, ref crSize,
            (rr, o) => new BtfCoreRelo(rr.U32(o), (int)rr.U32(o + 4), rr.U32(o + 8), (CoreReloKind)rr.U32(o + 12)), (rec, o) =>
            {
                if (!btf.IsValidId(rec.TypeId))
                    throw new BtfExtFormatException(o + 4, $"CO-RE relocation refers to type [{rec.TypeId}], which does not exist");
                if (!btf.IsValidStringOffset((int)Math.Min(rec.AccessStringOffset, int.MaxValue)))
                    throw new BtfExtFormatException(o + 8, $"CO-RE relocation access string offset {rec.AccessStringOffset} is outside the BTF string section");
                if ((uint)rec.Kind > (uint)CoreReloKind.TypeMatches)
                    throw new BtfExtFormatException(o + 12, $"unknown CO-RE relocation kind {(uint)rec.Kind}");
                if (rec.InstructionOffset % 8 != 0)
                    throw new BtfExtFormatException(o, $"CO-RE relocation instruction offset {rec.InstructionOffset} is not a multiple of 8");
            });
        return new BtfExt(fiSize, liSize, crSize, fi, li, cr);
    }

    private delegate T ReadRecord<T>(Reader r, int offset);

    private static IReadOnlyList<BtfExtSection<T>> ParseSub<T>(ReadOnlySpan<byte> data, Reader r, uint hdrLen, uint off, uint len, int minRecord,
        string what, BtfSpec btf, ref int recordSize, ReadRecord<T> read, Action<T, int> validate)
    {
        var result = new List<BtfExtSection<T>>();
        if (len == 0)
            return result;
        ulong start = (ulong)hdrLen + off;
        if (start + len > (ulong)data.Length)
            throw new BtfExtFormatException(hdrLen, $"{what} subsection (offset {off}, length {len}) runs past the end of the section ({data.Length} bytes)");
        if (len < 4)
            throw new BtfExtFormatException((long)start, $"{what} subsection is too short for its record size");
        int pos = (int)start;
        int end = pos + (int)len;
        uint recSize = r.U32(pos);
        if (recSize < minRecord || recSize % 4 != 0 || recSize > 1024)
            throw new BtfExtFormatException(pos, $"{what} record size {recSize} is invalid (at least {minRecord}, a multiple of 4)");
        recordSize = (int)recSize;
        pos += 4;
        while (pos < end)
        {
            if (end - pos < 8)
                throw new BtfExtFormatException(pos, $"{what}: truncated section header");
            uint secNameOff = r.U32(pos);
            uint num = r.U32(pos + 4);
            if (!btf.IsValidStringOffset((int)Math.Min(secNameOff, int.MaxValue)))
                throw new BtfExtFormatException(pos, $"{what}: section name offset {secNameOff} is outside the BTF string section");
            string secName = btf.GetString((int)secNameOff);
            if (num == 0)
                throw new BtfExtFormatException(pos + 4, $"{what}: section '{secName}' has no records");
            pos += 8;
            if ((ulong)num * recSize > (ulong)(end - pos))
                throw new BtfExtFormatException(pos - 4, $"{what}: section '{secName}' claims {num} records of {recSize} bytes, more than the {end - pos} bytes left");
            var records = new T[num];
            for (int i = 0; i < num; i++, pos += (int)recSize)
            {
                var rec = read(r, pos);
                validate(rec, pos);
                records[i] = rec;
            }
            result.Add(new BtfExtSection<T>(secName, (int)secNameOff, records));
        }
        return result;
    }

    private readonly struct Reader
    {
        private readonly byte[] _d;
        private readonly bool _le;

        public Reader(ReadOnlySpan<byte> d, bool le)
        {
            _d = d.ToArray();
            _le = le;
        }

        public uint U32(int o)
        {
            if (o < 0 || o > _d.Length - 4)
                throw new BtfExtFormatException(o, $"read runs past the end of the section ({_d.Length} bytes)");
            var s = new ReadOnlySpan<byte>(_d, o, 4);
            return _le ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
        }
    }
}
