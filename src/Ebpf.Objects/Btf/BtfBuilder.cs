using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace Ebpf.Btf;

/// <summary>
/// Writes BTF: types are appended in id order (the first gets id 1, or the base's TypeCount for split BTF),
/// strings are de-duplicated. Used to load an object's BTF into the kernel (after sanitising it for what the kernel
/// lacks) and by tests to build synthetic kernels.
/// </summary>
internal sealed class BtfBuilder
{
    private readonly BtfSpec? _base;
    private readonly Dictionary<string, int> _strings = new Dictionary<string, int>(StringComparer.Ordinal);
    private byte[] _strBuf = new byte[256];
    private int _strLen;
    private byte[] _typeBuf = new byte[1024];
    private int _typeLen;
    private int _count;

    public BtfBuilder(BtfSpec? baseSpec = null)
    {
        _base = baseSpec;
        if (baseSpec == null)
        {
            _strBuf[0] = 0;
            _strLen = 1;
        }
        _strings[string.Empty] = 0;
    }

    /// <summary>
    /// Starts from a copy of an existing string section, so that every string keeps its offset (needed when
    /// rewriting a spec type by type: .BTF.ext line and CO-RE records refer to string offsets). New strings are
    /// appended; existing ones are reused by <see cref="AddString"/>.
    /// </summary>
    public BtfBuilder(BtfSpec? baseSpec, ReadOnlySpan<byte> strings)
    {
        _base = baseSpec;
        if (baseSpec == null && (strings.IsEmpty || strings[0] != 0))
            throw new ArgumentException("a BTF string section must start with an empty string", nameof(strings));
        if (!strings.IsEmpty && strings[strings.Length - 1] != 0)
            throw new ArgumentException("a BTF string section must be NUL-terminated", nameof(strings));
        _strBuf = new byte[Math.Max(256, strings.Length + 64)];
        strings.CopyTo(_strBuf);
        _strLen = strings.Length;
        _strings[string.Empty] = 0;
        int strBase = baseSpec?.StringsLength ?? 0;
        for (int pos = 0; pos < strings.Length;)
        {
            int end = strings.Slice(pos).IndexOf((byte)0);
            if (end > 0)
            {
                string s = Utf8.Decode(strings.Slice(pos, end));
                if (!_strings.ContainsKey(s))
                    _strings[s] = strBase + pos;
            }
            pos += end + 1;
        }
    }

    /// <summary>Id the next added type will get.</summary>
    public int NextTypeId => (_base?.TypeCount ?? 1) + _count;

    /// <summary>Number of types added so far.</summary>
    public int Count => _count;

    /// <summary>Adds (or finds) a string and returns its offset in the string section of the output.</summary>
    public int AddString(string s)
    {
        if (s is null || s.Length == 0)
            return 0;
        if (_strings.TryGetValue(s, out int off))
            return off;
        var bytes = Utf8.Encode(s);
        if (Array.IndexOf(bytes, (byte)0) >= 0)
            throw new ArgumentException("BTF strings cannot contain NUL", nameof(s));
        Ensure(ref _strBuf, _strLen + bytes.Length + 1);
        off = (_base?.StringsLength ?? 0) + _strLen;
        Buffer.BlockCopy(bytes, 0, _strBuf, _strLen, bytes.Length);
        _strLen += bytes.Length;
        _strBuf[_strLen++] = 0;
        _strings[s] = off;
        return off;
    }

    private static void Ensure(ref byte[] buf, int size)
    {
        if (buf.Length >= size) return;
        int n = buf.Length * 2;
        while (n < size) n *= 2;
        Array.Resize(ref buf, n);
    }

    private void U32(uint v)
    {
        Ensure(ref _typeBuf, _typeLen + 4);
        BinaryPrimitives.WriteUInt32LittleEndian(_typeBuf.AsSpan(_typeLen), v);
        _typeLen += 4;
    }

    private int Header(int nameOff, BtfKind kind, int vlen, bool kindFlag, uint sizeOrType)
    {
        if ((uint)vlen > 0xffff)
            throw new ArgumentOutOfRangeException(nameof(vlen), $"vlen {vlen} does not fit in 16 bits");
        U32((uint)nameOff);
        U32((uint)vlen | ((uint)kind << 24) | (kindFlag ? 0x80000000u : 0));
        U32(sizeOrType);
        return (_base?.TypeCount ?? 1) + _count++;
    }

    public int AddInt(string name, int size, BtfIntEncoding encoding = BtfIntEncoding.None, int bits = -1, int bitOffset = 0)
    {
        int id = Header(AddString(name), BtfKind.Int, 0, false, (uint)size);
        U32(((uint)encoding << 24) | ((uint)bitOffset << 16) | (uint)(bits < 0 ? size * 8 : bits));
        return id;
    }

    public int AddPointer(int target, string name = "") => Ref(BtfKind.Ptr, name, target);
    public int AddTypedef(string name, int target) => Ref(BtfKind.Typedef, name, target);
    public int AddConst(int target) => Ref(BtfKind.Const, "", target);
    public int AddVolatile(int target) => Ref(BtfKind.Volatile, "", target);
    public int AddRestrict(int target) => Ref(BtfKind.Restrict, "", target);
    public int AddTypeTag(string name, int target) => Ref(BtfKind.TypeTag, name, target);

    private int Ref(BtfKind kind, string name, int target) => Header(AddString(name), kind, 0, false, (uint)target);

    public int AddFunc(string name, int proto, BtfFuncLinkage linkage = BtfFuncLinkage.Global) =>
        Header(AddString(name), BtfKind.Func, (int)linkage, false, (uint)proto);

    public int AddArray(int elementType, int indexType, uint count)
    {
        int id = Header(0, BtfKind.Array, 0, false, 0);
        U32((uint)elementType);
        U32((uint)indexType);
        U32(count);
        return id;
    }

    /// <summary>A struct member: name, type, offset in bits, bitfield size (0 = not a bitfield).</summary>
    public readonly struct Member
    {
        public Member(string name, int type, uint bitOffset, uint bitfieldSize = 0)
        {
            Name = name;
            Type = type;
            BitOffset = bitOffset;
            BitfieldSize = bitfieldSize;
        }

        public string Name { get; }
        public int Type { get; }
        public uint BitOffset { get; }
        public uint BitfieldSize { get; }
    }

    public int AddStruct(string name, int size, params Member[] members) => AddComposite(BtfKind.Struct, name, size, members, null);
    public int AddUnion(string name, int size, params Member[] members) => AddComposite(BtfKind.Union, name, size, members, null);

    /// <summary>Adds a struct or union; kind_flag is set when any member is a bitfield unless <paramref name="kindFlag"/> says otherwise.</summary>
    public int AddComposite(BtfKind kind, string name, int size, IReadOnlyList<Member> members, bool? kindFlag)
    {
        if (kind != BtfKind.Struct && kind != BtfKind.Union)
            throw new ArgumentException("kind must be Struct or Union", nameof(kind));
        bool kf = kindFlag ?? HasBitfield(members);
        var nameOffs = new int[members.Count];
        for (int i = 0; i < members.Count; i++)
            nameOffs[i] = AddString(members[i].Name);
        int id = Header(AddString(name), kind, members.Count, kf, (uint)size);
        for (int i = 0; i < members.Count; i++)
        {
            var m = members[i];
            U32((uint)nameOffs[i]);
            U32((uint)m.Type);
            if (kf)
            {
                if (m.BitOffset > 0xffffff || m.BitfieldSize > 0xff)
                    throw new ArgumentOutOfRangeException(nameof(members), $"member '{m.Name}' offset/bitfield size does not fit kind_flag encoding");
                U32((m.BitfieldSize << 24) | m.BitOffset);
            }
            else
            {
                if (m.BitfieldSize != 0)
                    throw new ArgumentException($"member '{m.Name}' is a bitfield but kind_flag is clear", nameof(members));
                U32(m.BitOffset);
            }
        }
        return id;
    }

    private static bool HasBitfield(IReadOnlyList<Member> members)
    {
        foreach (var m in members)
            if (m.BitfieldSize != 0) return true;
        return false;
    }

    public int AddEnum(string name, int size, bool signed, params (string Name, long Value)[] values)
    {
        var offs = new int[values.Length];
        for (int i = 0; i < values.Length; i++) offs[i] = AddString(values[i].Name);
        int id = Header(AddString(name), BtfKind.Enum, values.Length, signed, (uint)size);
        for (int i = 0; i < values.Length; i++)
        {
            U32((uint)offs[i]);
            U32((uint)values[i].Value);
        }
        return id;
    }

    public int AddEnum64(string name, int size, bool signed, params (string Name, ulong Value)[] values)
    {
        var offs = new int[values.Length];
        for (int i = 0; i < values.Length; i++) offs[i] = AddString(values[i].Name);
        int id = Header(AddString(name), BtfKind.Enum64, values.Length, signed, (uint)size);
        for (int i = 0; i < values.Length; i++)
        {
            U32((uint)offs[i]);
            U32((uint)values[i].Value);
            U32((uint)(values[i].Value >> 32));
        }
        return id;
    }

    public int AddFwd(string name, bool isUnion = false) => Header(AddString(name), BtfKind.Fwd, 0, isUnion, 0);

    public int AddFuncProto(int returnType, params (string Name, int Type)[] parameters)
    {
        var offs = new int[parameters.Length];
        for (int i = 0; i < parameters.Length; i++) offs[i] = AddString(parameters[i].Name);
        int id = Header(0, BtfKind.FuncProto, parameters.Length, false, (uint)returnType);
        for (int i = 0; i < parameters.Length; i++)
        {
            U32((uint)offs[i]);
            U32((uint)parameters[i].Type);
        }
        return id;
    }

    public int AddVar(string name, int type, BtfVarLinkage linkage = BtfVarLinkage.GlobalAllocated)
    {
        int id = Header(AddString(name), BtfKind.Var, 0, false, (uint)type);
        U32((uint)linkage);
        return id;
    }

    public int AddDatasec(string name, int size, params (int Type, uint Offset, uint Size)[] vars)
    {
        int id = Header(AddString(name), BtfKind.Datasec, vars.Length, false, (uint)size);
        foreach (var v in vars)
        {
            U32((uint)v.Type);
            U32(v.Offset);
            U32(v.Size);
        }
        return id;
    }

    public int AddFloat(string name, int size) => Header(AddString(name), BtfKind.Float, 0, false, (uint)size);

    public int AddDeclTag(string name, int target, int componentIndex = -1)
    {
        int id = Header(AddString(name), BtfKind.DeclTag, 0, false, (uint)target);
        U32((uint)componentIndex);
        return id;
    }

    /// <summary>Appends a raw record: header fields and the kind-specific words, written as given.</summary>
    public int AddRaw(int nameOffset, BtfKind kind, int vlen, bool kindFlag, uint sizeOrType, ReadOnlySpan<uint> extraWords)
    {
        int id = Header(nameOffset, kind, vlen, kindFlag, sizeOrType);
        foreach (var w in extraWords)
            U32(w);
        return id;
    }

    /// <summary>Serialises header, types and strings as a BTF blob.</summary>
    public byte[] Build(bool littleEndian = true)
    {
        const int hdrLen = 24;
        var result = new byte[hdrLen + _typeLen + _strLen];
        var s = result.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(s, BtfSpec.Magic);
        s[2] = 1;
        s[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(4), hdrLen);
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(8), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(12), (uint)_typeLen);
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(16), (uint)_typeLen);
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(20), (uint)_strLen);
        Buffer.BlockCopy(_typeBuf, 0, result, hdrLen, _typeLen);
        Buffer.BlockCopy(_strBuf, 0, result, hdrLen + _typeLen, _strLen);
        if (!littleEndian)
            SwapToBigEndian(result, hdrLen);
        return result;
    }

    private void SwapToBigEndian(byte[] b, int hdrLen)
    {
        // Header: magic is written so that a reader sees 0xeb9f in big-endian order.
        (b[0], b[1]) = (b[1], b[0]);
        for (int i = 4; i < hdrLen; i += 4) Array.Reverse(b, i, 4);
        int pos = hdrLen;
        int end = hdrLen + _typeLen;
        while (pos < end)
        {
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos + 4));
            var kind = (BtfKind)((info >> 24) & 0x1f);
            int vlen = (int)(info & 0xffff);
            int words = 3 + kind switch
            {
                BtfKind.Int or BtfKind.Var or BtfKind.DeclTag => 1,
                BtfKind.Array => 3,
                BtfKind.Struct or BtfKind.Union or BtfKind.Datasec or BtfKind.Enum64 => 3 * vlen,
                BtfKind.Enum or BtfKind.FuncProto => 2 * vlen,
                _ => 0,
            };
            for (int i = 0; i < words; i++, pos += 4)
                Array.Reverse(b, pos, 4);
        }
    }
}
