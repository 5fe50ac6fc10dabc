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
    /// <summary>The type id (0 is void; ids of split BTF continue after its base's).</summary>
    public int Id { get; }
    /// <summary>The BTF kind of the record (<c>BTF_KIND_*</c>); tells which subclass this is.</summary>
    public BtfKind Kind { get; }
    /// <summary>Name, or empty for anonymous types.</summary>
    public string Name { get; }
    /// <summary>Offset of the name in the BTF string section (0 for anonymous types).</summary>
    public int NameOffset { get; }
    /// <summary>The record's kind_flag bit, whose meaning depends on the kind (bitfield members, signed enum, forward union, ...).</summary>
    public bool KindFlag { get; }
    /// <summary>Raw vlen bits of the record.</summary>
    public int Vlen { get; }

    /// <summary>True when the type has no name (anonymous struct, union or enum; pointers, arrays, modifiers).</summary>
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
    /// <summary>The one void type, shared by every spec.</summary>
    public static readonly BtfVoid Instance = new BtfVoid();
    private BtfVoid() : base(null, 0, BtfKind.Unknown, string.Empty, 0, false, 0) { }
}

/// <summary>An integer type (INT): <c>int</c>, <c>unsigned long</c>, <c>char</c>, <c>_Bool</c>, <c>__int128</c>, ...</summary>
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

    /// <summary>Storage size in bytes (1, 2, 4, 8 or 16).</summary>
    public int Size { get; }
    /// <summary>Signed, char or bool (flags; none for an unsigned integer).</summary>
    public BtfIntEncoding Encoding { get; }
    /// <summary>Bit offset of the value within its storage (0 in what compilers emit).</summary>
    public int BitOffset { get; }
    /// <summary>Number of value bits (at most <see cref="Size"/> × 8).</summary>
    public int Bits { get; }
    /// <summary>The 32-bit word after the record that encodes encoding, offset and bits.</summary>
    public uint RawData { get; }
    /// <summary>True for a signed integer.</summary>
    public bool IsSigned => (Encoding & BtfIntEncoding.Signed) != 0;
    /// <summary>True for a character type (<c>char</c>, printed as such).</summary>
    public bool IsChar => (Encoding & BtfIntEncoding.Char) != 0;
    /// <summary>True for <c>_Bool</c>.</summary>
    public bool IsBool => (Encoding & BtfIntEncoding.Bool) != 0;
}

/// <summary>A pointer (PTR) to another type.</summary>
public sealed class BtfPointer : BtfType
{
    internal BtfPointer(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int target)
        : base(spec, id, BtfKind.Ptr, name, nameOff, kflag, vlen) => TargetId = target;

    /// <summary>Id of the pointed-to type (0 for <c>void *</c>).</summary>
    public int TargetId { get; }
    /// <summary>The pointed-to type.</summary>
    public BtfType Target => Spec!.TypeById(TargetId);
}

/// <summary>A fixed-size array (ARRAY): element type, index type and element count.</summary>
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

    /// <summary>Id of the element type.</summary>
    public int ElementTypeId { get; }
    /// <summary>Id of the index type (an integer type; compilers emit <c>__ARRAY_SIZE_TYPE__</c> or <c>int</c>).</summary>
    public int IndexTypeId { get; }
    /// <summary>Number of elements (0 for a flexible array member).</summary>
    public uint Count { get; }
    /// <summary>The (unused, normally zero) size word of the record.</summary>
    public uint SizeField { get; }
    /// <summary>The element type.</summary>
    public BtfType Element => Spec!.TypeById(ElementTypeId);
}

/// <summary>One member of a struct or union.</summary>
public readonly struct BtfMember
{
    internal BtfMember(string name, int nameOffset, int typeId, uint bitOffset, uint bitfieldSize)
    {
        Name = name;
        NameOffset = nameOffset;
        TypeId = typeId;
        BitOffset = bitOffset;
        BitfieldSize = bitfieldSize;
    }

    /// <summary>The member's name; empty for an anonymous struct or union member.</summary>
    public string Name { get; }
    /// <summary>Offset of the name in the BTF string section.</summary>
    public int NameOffset { get; }
    /// <summary>Id of the member's type.</summary>
    public int TypeId { get; }
    /// <summary>Offset in bits from the start of the struct.</summary>
    public uint BitOffset { get; }
    /// <summary>Bitfield width in bits; 0 when the member is not a bitfield (kind_flag set) or unknown (kind_flag clear).</summary>
    public uint BitfieldSize { get; }
    /// <summary>True for an anonymous (unnamed) struct or union member, whose members belong to the enclosing type.</summary>
    public bool IsAnonymous => Name.Length == 0;

    /// <summary>The member as bpftool's raw dump prints it: name, type id, bit offset and bitfield size.</summary>
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

    /// <summary>Size in bytes (<c>sizeof</c>).</summary>
    public int Size { get; }
    /// <summary>The members in declaration order, with their bit offsets.</summary>
    public IReadOnlyList<BtfMember> Members { get; }
    /// <summary>True for a union, false for a struct.</summary>
    public bool IsUnion => Kind == BtfKind.Union;
}

/// <summary>A struct (STRUCT).</summary>
public sealed class BtfStruct : BtfComposite
{
    internal BtfStruct(BtfSpec spec, int id, string name, int nameOff, bool kflag, int size, BtfMember[] members)
        : base(spec, id, BtfKind.Struct, name, nameOff, kflag, size, members) { }
}

/// <summary>A union (UNION): every member at bit offset 0.</summary>
public sealed class BtfUnion : BtfComposite
{
    internal BtfUnion(BtfSpec spec, int id, string name, int nameOff, bool kflag, int size, BtfMember[] members)
        : base(spec, id, BtfKind.Union, name, nameOff, kflag, size, members) { }
}

/// <summary>One enumerator of an ENUM or ENUM64.</summary>
public readonly struct BtfEnumValue
{
    internal BtfEnumValue(string name, int nameOffset, ulong raw)
    {
        Name = name;
        NameOffset = nameOffset;
        RawValue = raw;
    }

    /// <summary>The enumerator's name (<c>TASK_RUNNING</c>).</summary>
    public string Name { get; }
    /// <summary>Offset of the name in the BTF string section.</summary>
    public int NameOffset { get; }
    /// <summary>The value's bits, sign-extended to 64 bits for signed 32-bit enums.</summary>
    public ulong RawValue { get; }
    /// <summary>The value read as signed (meaningful when the enum is signed, <see cref="BtfEnum.IsSigned"/>).</summary>
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

    /// <summary>Size in bytes of the enum's storage (1, 2, 4 or 8).</summary>
    public int Size { get; }
    /// <summary>The enumerators in declaration order.</summary>
    public IReadOnlyList<BtfEnumValue> Values { get; }
    /// <summary>True when the values are signed (the record's kind_flag).</summary>
    public bool IsSigned => KindFlag;
    /// <summary>True for ENUM64 (64-bit values, Linux 6.0 and clang 15), false for ENUM.</summary>
    public bool Is64 => Kind == BtfKind.Enum64;
}

/// <summary>Forward declaration; kind_flag set means union.</summary>
public sealed class BtfFwd : BtfType
{
    internal BtfFwd(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, uint sizeField)
        : base(spec, id, BtfKind.Fwd, name, nameOff, kflag, vlen) => SizeField = sizeField;

    /// <summary>True for <c>union x;</c>, false for <c>struct x;</c>.</summary>
    public bool IsUnion => KindFlag;
    /// <summary>The (unused, normally zero) size word of the record.</summary>
    public uint SizeField { get; }
}

/// <summary>A typedef (TYPEDEF): a name for another type (<c>pid_t</c>, <c>u32</c>).</summary>
public sealed class BtfTypedef : BtfType
{
    internal BtfTypedef(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int target)
        : base(spec, id, BtfKind.Typedef, name, nameOff, kflag, vlen) => TargetId = target;

    /// <summary>Id of the type the typedef names.</summary>
    public int TargetId { get; }
    /// <summary>The type the typedef names.</summary>
    public BtfType Target => Spec!.TypeById(TargetId);
}

/// <summary>VOLATILE, CONST, RESTRICT or TYPE_TAG (which also has a name).</summary>
public sealed class BtfModifier : BtfType
{
    internal BtfModifier(BtfSpec spec, int id, BtfKind kind, string name, int nameOff, bool kflag, int vlen, int target)
        : base(spec, id, kind, name, nameOff, kflag, vlen) => TargetId = target;

    /// <summary>Id of the modified type.</summary>
    public int TargetId { get; }
    /// <summary>The modified type.</summary>
    public BtfType Target => Spec!.TypeById(TargetId);
}

/// <summary>A function (FUNC): its name, linkage and prototype; BPF programs and subprograms, kernel functions and kfuncs.</summary>
public sealed class BtfFunc : BtfType
{
    internal BtfFunc(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int proto)
        : base(spec, id, BtfKind.Func, name, nameOff, kflag, vlen) => ProtoId = proto;

    /// <summary>Id of the function's FUNC_PROTO.</summary>
    public int ProtoId { get; }
    /// <summary>Static, global or extern (kept in the record's vlen).</summary>
    public BtfFuncLinkage Linkage => (BtfFuncLinkage)Vlen;
    /// <summary>The function's prototype (a <see cref="BtfFuncProto"/>).</summary>
    public BtfType Proto => Spec!.TypeById(ProtoId);
}

/// <summary>One parameter of a function prototype.</summary>
public readonly struct BtfParam
{
    internal BtfParam(string name, int nameOffset, int typeId)
    {
        Name = name;
        NameOffset = nameOffset;
        TypeId = typeId;
    }

    /// <summary>The parameter's name; empty in prototypes of function pointers and for the "..." marker.</summary>
    public string Name { get; }
    /// <summary>Offset of the name in the BTF string section (0 when unnamed).</summary>
    public int NameOffset { get; }
    /// <summary>Id of the parameter's type (0 with no name marks "...").</summary>
    public int TypeId { get; }
}

/// <summary>A function prototype (FUNC_PROTO): return type and parameters; the type of a FUNC or of a function pointer.</summary>
public sealed class BtfFuncProto : BtfType
{
    internal BtfFuncProto(BtfSpec spec, int id, string name, int nameOff, bool kflag, int returnType, BtfParam[] ps)
        : base(spec, id, BtfKind.FuncProto, name, nameOff, kflag, ps.Length)
    {
        ReturnTypeId = returnType;
        Parameters = ps;
    }

    /// <summary>Id of the return type (0 for <c>void</c>).</summary>
    public int ReturnTypeId { get; }
    /// <summary>The parameters in order, the "..." marker of a variadic function included.</summary>
    public IReadOnlyList<BtfParam> Parameters { get; }
    /// <summary>True when the last parameter is the "..." marker (name 0, type 0).</summary>
    public bool IsVariadic => Parameters.Count > 0 && Parameters[Parameters.Count - 1].TypeId == 0 && Parameters[Parameters.Count - 1].NameOffset == 0;
}

/// <summary>A global variable (VAR), described inside a <see cref="BtfDatasec"/>.</summary>
public sealed class BtfVar : BtfType
{
    internal BtfVar(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int type, BtfVarLinkage linkage)
        : base(spec, id, BtfKind.Var, name, nameOff, kflag, vlen)
    {
        TypeId = type;
        Linkage = linkage;
    }

    /// <summary>Id of the variable's type.</summary>
    public int TypeId { get; }
    /// <summary>Static, global or extern.</summary>
    public BtfVarLinkage Linkage { get; }
    /// <summary>The variable's type.</summary>
    public BtfType Type => Spec!.TypeById(TypeId);
}

/// <summary>Where one variable of a data section lies: its VAR and its place in the section.</summary>
public readonly struct BtfVarSecInfo
{
    internal BtfVarSecInfo(int typeId, uint offset, uint size)
    {
        TypeId = typeId;
        Offset = offset;
        Size = size;
    }

    /// <summary>The VAR (or FUNC for .ksyms) this entry describes.</summary>
    public int TypeId { get; }
    /// <summary>Byte offset of the variable within the section.</summary>
    public uint Offset { get; }
    /// <summary>Size of the variable in bytes.</summary>
    public uint Size { get; }
}

/// <summary>A data section (DATASEC: <c>.data</c>, <c>.rodata</c>, <c>.bss</c>, <c>.kconfig</c>, <c>.ksyms</c>, ...) and its variables.</summary>
public sealed class BtfDatasec : BtfType
{
    internal BtfDatasec(BtfSpec spec, int id, string name, int nameOff, bool kflag, int size, BtfVarSecInfo[] vars)
        : base(spec, id, BtfKind.Datasec, name, nameOff, kflag, vars.Length)
    {
        Size = size;
        Variables = vars;
    }

    /// <summary>Size of the section in bytes, as the record says.</summary>
    public int Size { get; }
    /// <summary>The section's variables, by offset.</summary>
    public IReadOnlyList<BtfVarSecInfo> Variables { get; }
}

/// <summary>A floating-point type (FLOAT, Linux 5.13): <c>float</c>, <c>double</c>, <c>long double</c>.</summary>
public sealed class BtfFloat : BtfType
{
    internal BtfFloat(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int size)
        : base(spec, id, BtfKind.Float, name, nameOff, kflag, vlen) => Size = size;

    /// <summary>Size in bytes (2, 4, 8, 12 or 16).</summary>
    public int Size { get; }
}

/// <summary>
/// A declaration tag (DECL_TAG, Linux 5.16): <c>__attribute__((btf_decl_tag("...")))</c> on a type, a variable, a
/// function, or one of their members or parameters; <see cref="BtfType.Name"/> is the tag's text.
/// </summary>
public sealed class BtfDeclTag : BtfType
{
    internal BtfDeclTag(BtfSpec spec, int id, string name, int nameOff, bool kflag, int vlen, int target, int componentIndex)
        : base(spec, id, BtfKind.DeclTag, name, nameOff, kflag, vlen)
    {
        TargetId = target;
        ComponentIndex = componentIndex;
    }

    /// <summary>Id of the tagged type, variable or function.</summary>
    public int TargetId { get; }
    /// <summary>-1 for the type itself, else the member or parameter index.</summary>
    public int ComponentIndex { get; }
}
