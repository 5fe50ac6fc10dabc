using System;
using System.Collections.Generic;

namespace Ebpf.Btf;

/// <summary>A materialised BTF type. Obtain instances from <see cref="BtfSpec.TypeById"/>; they are cached per spec.</summary>
public abstract class BtfType
{
    private protected BtfType(BtfSpec? spec, int id, BtfKind kind, string name, int nameOffset, bool kindFlag, int vlen)
    {
        Spec = spec;
        Id = id;
        Kind = kind;
        Name = name;
        NameOffset = nameOffset;
        KindFlag = kindFlag;
        Vlen = vlen;
    }

    /// <summary>The spec this type belongs to (null only for void).</summary>
    public BtfSpec? Spec { get; }
    public int Id { get; }
    public BtfKind Kind { get; }
    /// <summary>Name, or empty for anonymous types.</summary>
    public string Name { get; }
    public int NameOffset { get; }
    public bool KindFlag { get; }
    /// <summary>Raw vlen bits of the record.</summary>
    public int Vlen { get; }

    public bool IsAnonymous => Name.Length == 0;

    /// <summary>Display like libbpf's messages: "struct task_struct", "int", "typedef u32", "[12] anon struct".</summary>
    public override string ToString() => Kind switch
    {
        BtfKind.Unknown => "void",
        _ => Name.Length == 0 ? $"[{Id}] anon {Kind.ToLowerName()}" : $"{Kind.ToLowerName()} {Name}",
    };
}

/// <summary>Type id 0.</summary>
public sealed class BtfVoid : BtfType
{
    public static readonly BtfVoid Instance = new BtfVoid();
    private BtfVoid() : base(null, 0, BtfKind.Unknown, string.Empty, 0, false, 0) { }
}

public sealed class BtfInt : BtfType
{
    internal BtfInt(BtfSpec spec, int id, string name, int nameOff, bool kflag, int size, BtfIntEncoding encoding, int bitOffset, int bits, uint raw)
        : base(spec, id, BtfKind.Int, name, nameOff, kflag, 0)
    {
        Size = size;
        Encoding = encoding;
        BitOffset = bitOffset;
        Bits = bits;
        RawData = raw;
    }

    public int Size { get; }
    public BtfIntEncoding Encoding { get; }
    public int BitOffset { get; }
    public int Bits { get; }
    public uint RawData { get; }
    public bool IsSigned => (Encoding & BtfIntEncoding.Signed) != 0;
    public bool IsChar => (Encoding & BtfIntEncoding.Char) != 0;
    public bool IsBool => (Encoding & BtfIntEncoding.Bool) != 0;
}

public sealed class BtfPointer : BtfType
{
    internal BtfPointer(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int target)
        : base(spec, id, BtfKind.Ptr, name, nameOff, kflag, vlen) => TargetId = target;

    public int TargetId { get; }
    public BtfType Target => Spec!.TypeById(TargetId);
}

public sealed class BtfArray : BtfType
{
    internal BtfArray(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, uint sizeField, int elem, int index, uint count)
        : base(spec, id, BtfKind.Array, name, nameOff, kflag, vlen)
    {
        ElementTypeId = elem;
        IndexTypeId = index;
        Count = count;
        SizeField = sizeField;
    }

    public int ElementTypeId { get; }
    public int IndexTypeId { get; }
    public uint Count { get; }
    /// <summary>The (unused, normally zero) size word of the record.</summary>
    public uint SizeField { get; }
    public BtfType Element => Spec!.TypeById(ElementTypeId);
}

/// <summary>One member of a struct or union.</summary>
public readonly struct BtfMember
{
    public BtfMember(string name, int nameOffset, int typeId, uint bitOffset, uint bitfieldSize)
    {
        Name = name;
        NameOffset = nameOffset;
        TypeId = typeId;
        BitOffset = bitOffset;
        BitfieldSize = bitfieldSize;
    }

    public string Name { get; }
    public int NameOffset { get; }
    public int TypeId { get; }
    /// <summary>Offset in bits from the start of the struct.</summary>
    public uint BitOffset { get; }
    /// <summary>Bitfield width in bits; 0 when the member is not a bitfield (kind_flag set) or unknown (kind_flag clear).</summary>
    public uint BitfieldSize { get; }
    public bool IsAnonymous => Name.Length == 0;

    public override string ToString() => $"{(Name.Length == 0 ? "(anon)" : Name)} type_id={TypeId} bits_offset={BitOffset}{(BitfieldSize != 0 ? $" bitfield_size={BitfieldSize}" : "")}";
}

/// <summary>A struct or a union.</summary>
public abstract class BtfComposite : BtfType
{
    private protected BtfComposite(BtfSpec spec, int id, BtfKind kind, string name, int nameOff, bool kflag, int size, BtfMember[] members)
        : base(spec, id, kind, name, nameOff, kflag, members.Length)
    {
        Size = size;
        Members = members;
    }

    public int Size { get; }
    public IReadOnlyList<BtfMember> Members { get; }
    public bool IsUnion => Kind == BtfKind.Union;
}

public sealed class BtfStruct : BtfComposite
{
    internal BtfStruct(BtfSpec spec, int id, string name, int nameOff, bool kflag, int size, BtfMember[] members)
        : base(spec, id, BtfKind.Struct, name, nameOff, kflag, size, members) { }
}

public sealed class BtfUnion : BtfComposite
{
    internal BtfUnion(BtfSpec spec, int id, string name, int nameOff, bool kflag, int size, BtfMember[] members)
        : base(spec, id, BtfKind.Union, name, nameOff, kflag, size, members) { }
}

/// <summary>One enumerator of an ENUM or ENUM64.</summary>
public readonly struct BtfEnumValue
{
    public BtfEnumValue(string name, int nameOffset, ulong raw)
    {
        Name = name;
        NameOffset = nameOffset;
        RawValue = raw;
    }

    public string Name { get; }
    public int NameOffset { get; }
    /// <summary>The value's bits, sign-extended to 64 bits for signed 32-bit enums.</summary>
    public ulong RawValue { get; }
    public long SignedValue => (long)RawValue;
}

/// <summary>An ENUM (32-bit values) or ENUM64. kind_flag set means signed.</summary>
public sealed class BtfEnum : BtfType
{
    internal BtfEnum(BtfSpec spec, int id, string name, int nameOff, bool kflag, int size, BtfEnumValue[] values, bool is64)
        : base(spec, id, is64 ? BtfKind.Enum64 : BtfKind.Enum, name, nameOff, kflag, values.Length)
    {
        Size = size;
        Values = values;
    }

    public int Size { get; }
    public IReadOnlyList<BtfEnumValue> Values { get; }
    public bool IsSigned => KindFlag;
    public bool Is64 => Kind == BtfKind.Enum64;
}

/// <summary>Forward declaration; kind_flag set means union.</summary>
public sealed class BtfFwd : BtfType
{
    internal BtfFwd(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, uint sizeField)
        : base(spec, id, BtfKind.Fwd, name, nameOff, kflag, vlen) => SizeField = sizeField;

    public bool IsUnion => KindFlag;
    public uint SizeField { get; }
}

public sealed class BtfTypedef : BtfType
{
    internal BtfTypedef(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int target)
        : base(spec, id, BtfKind.Typedef, name, nameOff, kflag, vlen) => TargetId = target;

    public int TargetId { get; }
    public BtfType Target => Spec!.TypeById(TargetId);
}

/// <summary>VOLATILE, CONST, RESTRICT or TYPE_TAG (which also has a name).</summary>
public sealed class BtfModifier : BtfType
{
    internal BtfModifier(BtfSpec spec, int id, BtfKind kind, string name, int nameOff, bool kflag, int vlen, int target)
        : base(spec, id, kind, name, nameOff, kflag, vlen) => TargetId = target;

    public int TargetId { get; }
    public BtfType Target => Spec!.TypeById(TargetId);
}

public sealed class BtfFunc : BtfType
{
    internal BtfFunc(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int proto)
        : base(spec, id, BtfKind.Func, name, nameOff, kflag, vlen) => ProtoId = proto;

    public int ProtoId { get; }
    public BtfFuncLinkage Linkage => (BtfFuncLinkage)Vlen;
    public BtfType Proto => Spec!.TypeById(ProtoId);
}

public readonly struct BtfParam
{
    public BtfParam(string name, int nameOffset, int typeId)
    {
        Name = name;
        NameOffset = nameOffset;
        TypeId = typeId;
    }

    public string Name { get; }
    public int NameOffset { get; }
    public int TypeId { get; }
}

public sealed class BtfFuncProto : BtfType
{
    internal BtfFuncProto(BtfSpec spec, int id, string name, int nameOff, bool kflag, int returnType, BtfParam[] ps)
        : base(spec, id, BtfKind.FuncProto, name, nameOff, kflag, ps.Length)
    {
        ReturnTypeId = returnType;
        Parameters = ps;
    }

    public int ReturnTypeId { get; }
    public IReadOnlyList<BtfParam> Parameters { get; }
    /// <summary>True when the last parameter is the "..." marker (name 0, type 0).</summary>
    public bool IsVariadic => Parameters.Count > 0 && Parameters[Parameters.Count - 1].TypeId == 0 && Parameters[Parameters.Count - 1].NameOffset == 0;
}

public sealed class BtfVar : BtfType
{
    internal BtfVar(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int type, BtfVarLinkage linkage)
        : base(spec, id, BtfKind.Var, name, nameOff, kflag, vlen)
    {
        TypeId = type;
        Linkage = linkage;
    }

    public int TypeId { get; }
    public BtfVarLinkage Linkage { get; }
    public BtfType Type => Spec!.TypeById(TypeId);
}

public readonly struct BtfVarSecInfo
{
    public BtfVarSecInfo(int typeId, uint offset, uint size)
    {
        TypeId = typeId;
        Offset = offset;
        Size = size;
    }

    /// <summary>The VAR (or FUNC for .ksyms) this entry describes.</summary>
    public int TypeId { get; }
    public uint Offset { get; }
    public uint Size { get; }
}

public sealed class BtfDatasec : BtfType
{
    internal BtfDatasec(BtfSpec spec, int id, string name, int nameOff, bool kflag, int size, BtfVarSecInfo[] vars)
        : base(spec, id, BtfKind.Datasec, name, nameOff, kflag, vars.Length)
    {
        Size = size;
        Variables = vars;
    }

    public int Size { get; }
    public IReadOnlyList<BtfVarSecInfo> Variables { get; }
}

public sealed class BtfFloat : BtfType
{
    internal BtfFloat(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int size)
        : base(spec, id, BtfKind.Float, name, nameOff, kflag, vlen) => Size = size;

    public int Size { get; }
}

public sealed class BtfDeclTag : BtfType
{
    internal BtfDeclTag(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int target, int componentIndex)
        : base(spec, id, BtfKind.DeclTag, name, nameOff, kflag, vlen)
    {
        TargetId = target;
        ComponentIndex = componentIndex;
    }

    public int TargetId { get; }
    /// <summary>-1 for the type itself, else the member or parameter index.</summary>
    public int ComponentIndex { get; }
}
