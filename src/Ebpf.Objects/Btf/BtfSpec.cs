using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Ebpf.Btf;

/// <summary>
/// A parsed BTF blob: the .BTF section of an object, or raw kernel BTF such as /sys/kernel/btf/vmlinux,
/// optionally split on a base (kernel module BTF).
/// </summary>
/// <remarks>
/// Parsing validates every record and builds only an offset index (one int per type), so that loading the
/// kernel's 5 MB of BTF costs one pass over the bytes. Types are materialised on first access
/// (<see cref="this[int]"/>), and the name index is built on the first lookup by name.
/// Type ids are global: in split BTF, ids below <see cref="FirstTypeId"/> belong to <see cref="Base"/>.
/// </remarks>
public sealed partial class BtfSpec
{
    /// <summary>BTF magic as stored by a little-endian producer.</summary>
    public const ushort Magic = 0xeB9F;
    private const int MinHeaderSize = 24;

    private readonly ReadOnlyMemory<byte> _mem;   // little-endian header + types + strings
    private readonly int _typeStart;
    private readonly int _typeLen;
    private readonly int _strStart;
    private readonly int _strLen;
    private readonly int[] _offsets;    // offset in _mem of each own type record; index = id - _firstId
    private readonly int _firstId;
    private readonly int _strBase;      // first string offset owned by this spec (0 unless split)
    private BtfType?[]? _cache;

    private BtfSpec(ReadOnlyMemory<byte> mem, int typeStart, int typeLen, int strStart, int strLen, int[] offsets, BtfSpec? baseSpec, bool littleEndian, byte flags, int headerLength)
    {
        _mem = mem;
        _typeStart = typeStart;
        _typeLen = typeLen;
        _strStart = strStart;
        _strLen = strLen;
        _offsets = offsets;
        Base = baseSpec;
        _firstId = baseSpec?.TypeCount ?? 1;
        _strBase = baseSpec?.StringsLength ?? 0;
        IsLittleEndian = littleEndian;
        Flags = flags;
        HeaderLength = headerLength;
    }

    /// <summary>The base BTF of a split BTF (kernel module BTF on vmlinux), or null.</summary>
    public BtfSpec? Base { get; }

    /// <summary>Byte order of the input (the model itself is byte-order neutral).</summary>
    public bool IsLittleEndian { get; }

    /// <summary>The flags byte of the BTF header (0 in every BTF the kernel and compilers emit today).</summary>
    public byte Flags { get; }
    /// <summary>Length in bytes of the BTF header (<c>hdr_len</c>; 24 for the current layout).</summary>
    public int HeaderLength { get; }

    /// <summary>Number of type ids, including id 0 (void) and any base types; valid ids are 0 .. TypeCount-1.</summary>
    public int TypeCount => _firstId + _offsets.Length;

    /// <summary>First type id defined by this spec: 1, or the base's TypeCount for split BTF.</summary>
    public int FirstTypeId => _firstId;

    /// <summary>Number of types defined by this spec itself (excluding void and base types).</summary>
    public int OwnTypeCount => _offsets.Length;

    /// <summary>Total size of the visible string space (base strings included).</summary>
    public int StringsLength => _strBase + _strLen;

    /// <summary>First string offset that belongs to this spec (0 unless split).</summary>
    public int FirstStringOffset => _strBase;

    /// <summary>Raw bytes of this spec's own string section.</summary>
    public ReadOnlySpan<byte> OwnStrings => _mem.Span.Slice(_strStart, _strLen);

    /// <summary>Raw little-endian bytes of this spec's own type section.</summary>
    public ReadOnlySpan<byte> OwnTypeSection => _mem.Span.Slice(_typeStart, _typeLen);

    // ------------------------------------------------------------------ parsing

    /// <summary>Parses a BTF blob. The array is referenced, not copied, when it is little-endian: do not modify it afterwards.</summary>
    public static BtfSpec Parse(byte[] data, BtfSpec? baseSpec = null) => Parse(new ReadOnlyMemory<byte>(data ?? throw new ArgumentNullException(nameof(data))), baseSpec);

    /// <summary>
    /// Parses a BTF blob (split on <paramref name="baseSpec"/> when given). Little-endian input is referenced, not
    /// copied: the memory may be a mapping of /sys/kernel/btf/vmlinux and must stay valid and unchanged while the spec is used.
    /// </summary>
    public static BtfSpec Parse(ReadOnlyMemory<byte> data, BtfSpec? baseSpec = null)
    {
        int length = data.Length;
        if (length < MinHeaderSize)
            throw new BtfFormatException(0, $"input is {length} bytes, too short for a BTF header ({MinHeaderSize})");
        var span = data.Span;
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(span);
        bool le;
        if (magic == Magic) le = true;
        else if (magic == 0x9FEB) le = false;
        else throw new BtfFormatException(0, $"bad magic 0x{magic:x4} (expected 0xeb9f)");
        if (!le)
        {
            // Convert the whole blob to little-endian once; every accessor then reads one byte order.
            data = ByteSwap(span);
            span = data.Span;
        }

        byte version = span[2];
        if (version != 1)
            throw new BtfFormatException(2, $"unsupported BTF version {version}");
        byte flags = span[3];
        uint hdrLen = ReadU32(span, 4);
        if (hdrLen < MinHeaderSize)
            throw new BtfFormatException(4, $"header length {hdrLen} is smaller than {MinHeaderSize}");
        if (hdrLen > (uint)length)
            throw new BtfFormatException(4, $"header length {hdrLen} exceeds the input ({length} bytes)");
        // A longer header than we know must be zero-filled (as the kernel requires).
        for (uint i = MinHeaderSize; i < hdrLen; i++)
        {
            if (span[(int)i] != 0)
                throw new BtfFormatException(i, "unknown non-zero bytes in an extended BTF header");
        }
        uint typeOff = ReadU32(span, 8), typeLen = ReadU32(span, 12), strOff = ReadU32(span, 16), strLen = ReadU32(span, 20);
        ulong dataLen = (ulong)length - hdrLen;
        if ((ulong)typeOff + typeLen > dataLen)
            throw new BtfFormatException(8, $"type section (offset {typeOff}, length {typeLen}) runs past the end of the data ({dataLen} bytes after the header)");
        if ((ulong)strOff + strLen > dataLen)
            throw new BtfFormatException(16, $"string section (offset {strOff}, length {strLen}) runs past the end of the data ({dataLen} bytes after the header)");
        if (typeOff % 4 != 0)
            throw new BtfFormatException(8, $"type section offset {typeOff} is not 4-byte aligned");
        if (typeLen % 4 != 0)
            throw new BtfFormatException(12, $"type section length {typeLen} is not a multiple of 4");
        if (typeLen != 0 && strLen != 0 && (typeOff < strOff ? (ulong)typeOff + typeLen > strOff : (ulong)strOff + strLen > typeOff))
            throw new BtfFormatException(8, "type and string sections overlap");
        if (strLen > int.MaxValue / 2)
            throw new BtfFormatException(20, $"string section length {strLen} is too large");
        int tStart = (int)hdrLen + (int)typeOff;
        int sStart = (int)hdrLen + (int)strOff;
        var strings = span.Slice(sStart, (int)strLen);
        if (baseSpec == null)
        {
            if (strLen == 0 || strings[0] != 0)
                throw new BtfFormatException(hdrLen + strOff, "string section must start with an empty string");
        }
        if (strLen > 0 && strings[(int)strLen - 1] != 0)
            throw new BtfFormatException(hdrLen + strOff + strLen - 1, "string section is not NUL-terminated");

        int firstId = baseSpec?.TypeCount ?? 1;
        int strBase = baseSpec?.StringsLength ?? 0;
        if ((long)strBase + strLen > int.MaxValue)
            throw new BtfFormatException(20, "string sections of base and split BTF together are too large");
        int[] offsets = ScanTypes(span, tStart, (int)typeLen, firstId, strBase + (int)strLen, out uint maxRef, out int maxRefAt);
        int typeCount = firstId + offsets.Length;
        if (maxRef >= (uint)typeCount)
        {
            int idx = Array.BinarySearch(offsets, maxRefAt);
            if (idx < 0) idx = ~idx - 1;
            throw new BtfFormatException(maxRefAt, $"type [{firstId + Math.Max(idx, 0)}] refers to type id {maxRef}, but only {typeCount} types exist (ids 0..{typeCount - 1})");
        }

        return new BtfSpec(data, tStart, (int)typeLen, sStart, (int)strLen, offsets, baseSpec, le, flags, (int)hdrLen);
    }

    /// <summary>One pass over the type section: validate each record, record its offset.</summary>
    private static unsafe int[] ScanTypes(ReadOnlySpan<byte> blob, int tStart, int tLen, int firstId, int totalStrLen, out uint maxRef, out int maxRefAt)
    {
        // A type record is at least 12 bytes, which bounds the count before anything is allocated.
        var offsets = new int[Math.Max(16, Math.Min(tLen / 12, 1 << 17))];
        int count = 0;
        uint max = 0;
        int maxAt = 0;
        uint strLimit = (uint)totalStrLen;
        fixed (byte* basePtr = blob)
        {
            byte* t = basePtr + tStart;
            int pos = 0;
            while (pos < tLen)
            {
                int at = tStart + pos;
                if (tLen - pos < 12)
                    throw new BtfFormatException(at, $"type [{firstId + count}]: truncated header ({tLen - pos} bytes left in the type section)");
                byte* r = t + pos;
                uint nameOff = Le(r);
                uint info = Le(r + 4);
                uint sizeOrType = Le(r + 8);
                var kind = (BtfKind)((info >> 24) & 0x1f);
                int vlen = (int)(info & 0xffff);
                if (nameOff >= strLimit && nameOff != 0)
                    throw new BtfFormatException(at, $"type [{firstId + count}]: name offset {nameOff} is outside the string section ({totalStrLen} bytes)");
                if ((info & 0x60ff0000u) != 0)
                    throw new BtfFormatException(at + 4, $"type [{firstId + count}]: reserved bits set in info 0x{info:x8}");
                int extra;
                int stride = 0;     // bytes per vlen entry
                int nameAt = -1;    // offset of a name word within each entry, or -1
                int typeAt = -1;    // offset of a type word within each entry, or -1
                switch (kind)
                {
                    case BtfKind.Int:
                    case BtfKind.Var:
                    case BtfKind.DeclTag:
                        extra = 4;
                        if (kind != BtfKind.Int && sizeOrType > max) { max = sizeOrType; maxAt = at + 8; }
                        break;
                    case BtfKind.Ptr:
                    case BtfKind.Typedef:
                    case BtfKind.Volatile:
                    case BtfKind.Const:
                    case BtfKind.Restrict:
                    case BtfKind.Func:
                    case BtfKind.TypeTag:
                        extra = 0;
                        if (sizeOrType > max) { max = sizeOrType; maxAt = at + 8; }
                        break;
                    case BtfKind.Fwd:
                    case BtfKind.Float:
                        extra = 0;
                        break;
                    case BtfKind.Array:
                        extra = 12;
                        stride = 12; typeAt = 0;
                        break;
                    case BtfKind.Struct:
                    case BtfKind.Union:
                        extra = vlen * 12; stride = 12; nameAt = 0; typeAt = 4;
                        break;
                    case BtfKind.Enum:
                        extra = vlen * 8; stride = 8; nameAt = 0;
                        break;
                    case BtfKind.Enum64:
                        extra = vlen * 12; stride = 12; nameAt = 0;
                        break;
                    case BtfKind.FuncProto:
                        extra = vlen * 8; stride = 8; nameAt = 0; typeAt = 4;
                        if (sizeOrType > max) { max = sizeOrType; maxAt = at + 8; }
                        break;
                    case BtfKind.Datasec:
                        extra = vlen * 12; stride = 12; typeAt = 0;
                        break;
                    default:
                        throw new BtfFormatException(at + 4, $"type [{firstId + count}]: unknown kind {(int)kind}");
                }
                if (tLen - pos - 12 < extra)
                    throw new BtfFormatException(at, $"type [{firstId + count}] ({kind.ToUpperName()}, vlen {vlen}) needs {12 + extra} bytes but only {tLen - pos} remain in the type section");
                if (stride != 0)
                {
                    byte* e = r + 12;
                    byte* eEnd = e + extra;
                    if (kind == BtfKind.Array)
                    {
                        uint et = Le(e), it = Le(e + 4);
                        if (et > max) { max = et; maxAt = at + 12; }
                        if (it > max) { max = it; maxAt = at + 16; }
                    }
                    else
                    {
                        for (; e < eEnd; e += stride)
                        {
                            if (nameAt >= 0)
                            {
                                uint mn = Le(e + nameAt);
                                if (mn >= strLimit && mn != 0)
                                    throw new BtfFormatException((int)(e - basePtr), $"type [{firstId + count}] entry {(e - r - 12) / stride}: name offset {mn} is outside the string section");
                            }
                            if (typeAt >= 0)
                            {
                                uint mt = Le(e + typeAt);
                                if (mt > max) { max = mt; maxAt = (int)(e - basePtr) + typeAt; }
                            }
                        }
                    }
                }
                if (count == offsets.Length)
                    Array.Resize(ref offsets, offsets.Length * 2);
                offsets[count++] = at;
                pos += 12 + extra;
            }
        }
        if (count != offsets.Length)
            Array.Resize(ref offsets, count);
        maxRef = max;
        maxRefAt = maxAt;
        return offsets;
    }

    private static unsafe uint Le(byte* p)
    {
        uint v = *(uint*)p; // x86/arm64 allow unaligned loads; the format is 4-byte aligned anyway
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    // ------------------------------------------------------------------ raw accessors

    internal static uint ReadU32(ReadOnlySpan<byte> d, int o) => BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(o, 4));

    private uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_mem.Span.Slice(offset, 4));

    /// <summary>Throws unless <paramref name="id"/> is a valid type id (0 is void).</summary>
    public void CheckId(int id)
    {
        if ((uint)id >= (uint)TypeCount)
            throw new ArgumentOutOfRangeException(nameof(id), $"type id {id} is out of range (0..{TypeCount - 1})");
    }

    /// <summary>True for a type id that exists in this spec or its base.</summary>
    public bool IsValidId(int id) => (uint)id < (uint)TypeCount;

    private int RecordOffset(int id) => _offsets[id - _firstId];

    /// <summary>Kind of a type; void (id 0) is <see cref="BtfKind.Unknown"/>.</summary>
    public BtfKind GetKind(int id)
    {
        if (id == 0) return BtfKind.Unknown;
        if (id < _firstId) return Base!.GetKind(id);
        CheckId(id);
        return (BtfKind)((U32(RecordOffset(id) + 4) >> 24) & 0x1f);
    }

    /// <summary>vlen of a type (member count, enumerator count, parameter count, linkage for FUNC).</summary>
    public int GetVlen(int id)
    {
        if (id == 0) return 0;
        if (id < _firstId) return Base!.GetVlen(id);
        CheckId(id);
        return (int)(U32(RecordOffset(id) + 4) & 0xffff);
    }

    /// <summary>The kind_flag bit of a type's record (bitfield members, signed enum, forward union, ...); false for void.</summary>
    public bool GetKindFlag(int id)
    {
        if (id == 0) return false;
        if (id < _firstId) return Base!.GetKindFlag(id);
        CheckId(id);
        return (U32(RecordOffset(id) + 4) >> 31) != 0;
    }

    /// <summary>The size/type word of the record (size for INT, STRUCT, UNION, ENUM, DATASEC, FLOAT; type id otherwise).</summary>
    public uint GetSizeOrType(int id)
    {
        if (id == 0) return 0;
        if (id < _firstId) return Base!.GetSizeOrType(id);
        CheckId(id);
        return U32(RecordOffset(id) + 8);
    }

    /// <summary>The type id referenced by PTR, TYPEDEF, modifiers, FUNC, FUNC_PROTO (return), VAR, DECL_TAG, TYPE_TAG.</summary>
    public int GetRefType(int id) => (int)GetSizeOrType(id);

    /// <summary>Offset of a type's name in the (global) string section; 0 for anonymous types and void.</summary>
    public int GetNameOffset(int id)
    {
        if (id == 0) return 0;
        if (id < _firstId) return Base!.GetNameOffset(id);
        CheckId(id);
        return (int)U32(RecordOffset(id));
    }

    /// <summary>UTF-8 bytes of the string at a (global) string offset, without the terminator.</summary>
    public ReadOnlySpan<byte> GetStringBytes(int offset)
    {
        if (offset < _strBase)
        {
            if (Base == null || offset < 0) throw new ArgumentOutOfRangeException(nameof(offset));
            return Base.GetStringBytes(offset);
        }
        int local = offset - _strBase;
        if ((uint)local >= (uint)_strLen)
            throw new ArgumentOutOfRangeException(nameof(offset), $"string offset {offset} is outside the string section");
        var rest = _mem.Span.Slice(_strStart + local, _strLen - local);
        int end = rest.IndexOf((byte)0);
        return rest.Slice(0, end < 0 ? rest.Length : end);
    }

    /// <summary>The string at a (global) string offset.</summary>
    public string GetString(int offset) => offset == 0 && _strBase == 0 ? string.Empty : Utf8.Decode(GetStringBytes(offset));

    /// <summary>True when the offset points at a string of this spec or its base.</summary>
    public bool IsValidStringOffset(int offset) => offset >= 0 && offset < StringsLength;

    /// <summary>UTF-8 bytes of a type's name, without allocating; empty for anonymous types and void.</summary>
    public ReadOnlySpan<byte> GetNameBytes(int id) => id == 0 ? default : GetStringBytes(GetNameOffset(id));

    /// <summary>A type's name; empty for anonymous types and void.</summary>
    public string GetName(int id) => id == 0 ? string.Empty : GetString(GetNameOffset(id));

    /// <summary>Raw record bytes of a type (header + kind-specific data), little-endian.</summary>
    public ReadOnlySpan<byte> GetRecord(int id)
    {
        if (id < _firstId) return Base!.GetRecord(id);
        CheckId(id);
        int o = RecordOffset(id);
        int next = id - _firstId + 1 < _offsets.Length ? _offsets[id - _firstId + 1] : _typeStart + _typeLen;
        return _mem.Span.Slice(o, next - o);
    }

    /// <summary>Raw kind-specific data following the 12-byte header.</summary>
    internal ReadOnlySpan<byte> GetExtra(int id) => GetRecord(id).Slice(12);

    /// <summary>For STRUCT/UNION: member i's name offset, type id and raw offset word.</summary>
    public void GetMemberRaw(int id, int index, out int nameOff, out int type, out uint offset)
    {
        var e = GetExtra(id);
        int p = index * 12;
        if ((uint)index >= (uint)(e.Length / 12)) throw new ArgumentOutOfRangeException(nameof(index));
        nameOff = (int)ReadU32(e, p);
        type = (int)ReadU32(e, p + 4);
        offset = ReadU32(e, p + 8);
    }

    /// <summary>Bit offset of member <paramref name="index"/> of a STRUCT/UNION, honouring kind_flag.</summary>
    public uint GetMemberBitOffset(int id, int index)
    {
        GetMemberRaw(id, index, out _, out _, out uint off);
        return GetKindFlag(id) ? off & 0xffffff : off;
    }

    /// <summary>Bitfield size of member <paramref name="index"/> (0 when not a bitfield or kind_flag is clear).</summary>
    public uint GetMemberBitfieldSize(int id, int index)
    {
        GetMemberRaw(id, index, out _, out _, out uint off);
        return GetKindFlag(id) ? off >> 24 : 0;
    }

    // ------------------------------------------------------------------ materialised model

    /// <summary>The type with the given id, materialised on first access and cached.</summary>
    public BtfType this[int id] => TypeById(id);

    /// <summary>The type with the given id, materialised on first access and cached.</summary>
    public BtfType TypeById(int id)
    {
        if (id == 0) return BtfVoid.Instance;
        if (id < _firstId) return Base!.TypeById(id);
        CheckId(id);
        var cache = _cache ??= new BtfType?[_offsets.Length];
        int i = id - _firstId;
        return cache[i] ??= Materialize(id);
    }

    /// <summary>Every type id of this spec (own types only, not the base), in order.</summary>
    public IEnumerable<int> OwnTypeIds
    {
        get
        {
            for (int i = 0; i < _offsets.Length; i++)
                yield return _firstId + i;
        }
    }

    /// <summary>Every type of this spec and its base, id 1 onwards.</summary>
    public IEnumerable<BtfType> Types
    {
        get
        {
            for (int id = 1; id < TypeCount; id++)
                yield return TypeById(id);
        }
    }

    private BtfType Materialize(int id)
    {
        int o = RecordOffset(id);
        uint info = U32(o + 4);
        var kind = (BtfKind)((info >> 24) & 0x1f);
        int vlen = (int)(info & 0xffff);
        bool kflag = (info >> 31) != 0;
        uint st = U32(o + 8);
        int nameOff = (int)U32(o);
        string name = GetString(nameOff);
        var e = _mem.Span.Slice(o + 12);
        switch (kind)
        {
            case BtfKind.Int:
            {
                uint data = ReadU32(e, 0);
                return new BtfInt(this, id, name, nameOff, kflag, (int)st, (BtfIntEncoding)((data >> 24) & 0xf), (int)((data >> 16) & 0xff), (int)(data & 0xff), data);
            }
            case BtfKind.Ptr:
                return new BtfPointer(this, id, name, nameOff, kflag, vlen, (int)st);
            case BtfKind.Array:
                return new BtfArray(this, id, name, nameOff, kflag, vlen, st, (int)ReadU32(e, 0), (int)ReadU32(e, 4), ReadU32(e, 8));
            case BtfKind.Struct:
            case BtfKind.Union:
            {
                var members = new BtfMember[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    int p = i * 12;
                    int mn = (int)ReadU32(e, p);
                    int mt = (int)ReadU32(e, p + 4);
                    uint mo = ReadU32(e, p + 8);
                    members[i] = kflag
                        ? new BtfMember(GetString(mn), mn, mt, mo & 0xffffff, mo >> 24)
                        : new BtfMember(GetString(mn), mn, mt, mo, 0);
                }
                return kind == BtfKind.Struct
                    ? new BtfStruct(this, id, name, nameOff, kflag, (int)st, members)
                    : new BtfUnion(this, id, name, nameOff, kflag, (int)st, members);
            }
            case BtfKind.Enum:
            {
                var values = new BtfEnumValue[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    int mn = (int)ReadU32(e, i * 8);
                    uint v = ReadU32(e, i * 8 + 4);
                    ulong raw = kflag ? (ulong)(long)(int)v : v;
                    values[i] = new BtfEnumValue(GetString(mn), mn, raw);
                }
                return new BtfEnum(this, id, name, nameOff, kflag, (int)st, values, is64: false);
            }
            case BtfKind.Enum64:
            {
                var values = new BtfEnumValue[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    int mn = (int)ReadU32(e, i * 12);
                    ulong lo = ReadU32(e, i * 12 + 4);
                    ulong hi = ReadU32(e, i * 12 + 8);
                    values[i] = new BtfEnumValue(GetString(mn), mn, (hi << 32) | lo);
                }
                return new BtfEnum(this, id, name, nameOff, kflag, (int)st, values, is64: true);
            }
            case BtfKind.Fwd:
                return new BtfFwd(this, id, name, nameOff, kflag, vlen, st);
            case BtfKind.Typedef:
                return new BtfTypedef(this, id, name, nameOff, kflag, vlen, (int)st);
            case BtfKind.Volatile:
            case BtfKind.Const:
            case BtfKind.Restrict:
            case BtfKind.TypeTag:
                return new BtfModifier(this, id, kind, name, nameOff, kflag, vlen, (int)st);
            case BtfKind.Func:
                return new BtfFunc(this, id, name, nameOff, kflag, vlen, (int)st);
            case BtfKind.FuncProto:
            {
                var ps = new BtfParam[vlen];
                for (int i = 0; i < vlen; i++)
                {
                    int pn = (int)ReadU32(e, i * 8);
                    ps[i] = new BtfParam(GetString(pn), pn, (int)ReadU32(e, i * 8 + 4));
                }
                return new BtfFuncProto(this, id, name, nameOff, kflag, (int)st, ps);
            }
            case BtfKind.Var:
                return new BtfVar(this, id, name, nameOff, kflag, vlen, (int)st, (BtfVarLinkage)ReadU32(e, 0));
            case BtfKind.Datasec:
            {
                var vars = new BtfVarSecInfo[vlen];
                for (int i = 0; i < vlen; i++)
                    vars[i] = new BtfVarSecInfo((int)ReadU32(e, i * 12), ReadU32(e, i * 12 + 4), ReadU32(e, i * 12 + 8));
                return new BtfDatasec(this, id, name, nameOff, kflag, (int)st, vars);
            }
            case BtfKind.Float:
                return new BtfFloat(this, id, name, nameOff, kflag, vlen, (int)st);
            case BtfKind.DeclTag:
                return new BtfDeclTag(this, id, name, nameOff, kflag, vlen, (int)st, (int)ReadU32(e, 0));
            default:
                throw new BtfFormatException(o + 4, $"type [{id}]: unknown kind {(int)kind}");
        }
    }

    // ------------------------------------------------------------------ byte order

    private static ReadOnlyMemory<byte> ByteSwap(ReadOnlySpan<byte> src)
    {
        var dst = src.ToArray();
        if (dst.Length < MinHeaderSize)
            throw new BtfFormatException(0, "input too short for a BTF header");
        Swap16(dst, 0);
        for (int i = 4; i < MinHeaderSize; i += 4) Swap32(dst, i);
        uint hdrLen = ReadU32(dst, 4);
        if (hdrLen < MinHeaderSize || hdrLen > (uint)dst.Length)
            throw new BtfFormatException(4, $"header length {hdrLen} is invalid for a {dst.Length}-byte input");
        uint typeOff = ReadU32(dst, 8), typeLen = ReadU32(dst, 12);
        if ((ulong)hdrLen + typeOff + typeLen > (ulong)dst.Length)
            throw new BtfFormatException(8, $"type section (offset {typeOff}, length {typeLen}) runs past the end of the input");
        int pos = (int)(hdrLen + typeOff);
        int end = pos + (int)typeLen;
        while (pos < end)
        {
            if (end - pos < 12)
                throw new BtfFormatException(pos, "truncated type header");
            Swap32(dst, pos); Swap32(dst, pos + 4); Swap32(dst, pos + 8);
            uint info = ReadU32(dst, pos + 4);
            var kind = (BtfKind)((info >> 24) & 0x1f);
            int vlen = (int)(info & 0xffff);
            int words = kind switch
            {
                BtfKind.Int or BtfKind.Var or BtfKind.DeclTag => 1,
                BtfKind.Array => 3,
                BtfKind.Struct or BtfKind.Union or BtfKind.Datasec or BtfKind.Enum64 => 3 * vlen,
                BtfKind.Enum or BtfKind.FuncProto => 2 * vlen,
                BtfKind.Ptr or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const or BtfKind.Restrict or BtfKind.Func
                    or BtfKind.TypeTag or BtfKind.Fwd or BtfKind.Float => 0,
                _ => throw new BtfFormatException(pos + 4, $"unknown kind {(int)kind}"),
            };
            pos += 12;
            if ((long)words * 4 > end - pos)
                throw new BtfFormatException(pos - 12, $"{kind.ToUpperName()} record with vlen {vlen} runs past the end of the type section");
            for (int i = 0; i < words; i++, pos += 4)
                Swap32(dst, pos);
        }
        return dst;
    }

    private static void Swap16(byte[] b, int o) { (b[o], b[o + 1]) = (b[o + 1], b[o]); }

    private static void Swap32(byte[] b, int o)
    {
        (b[o], b[o + 3]) = (b[o + 3], b[o]);
        (b[o + 1], b[o + 2]) = (b[o + 2], b[o + 1]);
    }
}
