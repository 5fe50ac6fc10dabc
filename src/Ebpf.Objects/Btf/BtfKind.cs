namespace Ebpf.Btf;

/// <summary>BTF type kinds (BTF_KIND_*), numbered as in the kernel's include/uapi/linux/btf.h.</summary>
public enum BtfKind : byte
{
    /// <summary>Void (type id 0); no record has this kind.</summary>
    Unknown = 0,
    /// <summary>An integer type (<see cref="BtfInt"/>).</summary>
    Int = 1,
    /// <summary>A pointer (<see cref="BtfPointer"/>).</summary>
    Ptr = 2,
    /// <summary>An array (<see cref="BtfArray"/>).</summary>
    Array = 3,
    /// <summary>A struct (<see cref="BtfStruct"/>).</summary>
    Struct = 4,
    /// <summary>A union (<see cref="BtfUnion"/>).</summary>
    Union = 5,
    /// <summary>An enum with 32-bit values (<see cref="BtfEnum"/>).</summary>
    Enum = 6,
    /// <summary>A forward declaration of a struct or union (<see cref="BtfFwd"/>).</summary>
    Fwd = 7,
    /// <summary>A typedef (<see cref="BtfTypedef"/>).</summary>
    Typedef = 8,
    /// <summary>The <c>volatile</c> qualifier (<see cref="BtfModifier"/>).</summary>
    Volatile = 9,
    /// <summary>The <c>const</c> qualifier (<see cref="BtfModifier"/>).</summary>
    Const = 10,
    /// <summary>The <c>restrict</c> qualifier (<see cref="BtfModifier"/>).</summary>
    Restrict = 11,
    /// <summary>A function (<see cref="BtfFunc"/>).</summary>
    Func = 12,
    /// <summary>A function prototype (<see cref="BtfFuncProto"/>).</summary>
    FuncProto = 13,
    /// <summary>A global variable (<see cref="BtfVar"/>, Linux 5.2).</summary>
    Var = 14,
    /// <summary>A data section of variables (<see cref="BtfDatasec"/>, Linux 5.2).</summary>
    Datasec = 15,
    /// <summary>A floating-point type (<see cref="BtfFloat"/>, Linux 5.13).</summary>
    Float = 16,
    /// <summary>A declaration tag (<see cref="BtfDeclTag"/>, Linux 5.16).</summary>
    DeclTag = 17,
    /// <summary>A type tag such as <c>__user</c> or <c>__rcu</c> (<see cref="BtfModifier"/>, Linux 5.17).</summary>
    TypeTag = 18,
    /// <summary>An enum with 64-bit values (<see cref="BtfEnum"/>, Linux 6.0).</summary>
    Enum64 = 19,
}

/// <summary>BTF_INT_* encoding bits.</summary>
[System.Flags]
public enum BtfIntEncoding : byte
{
    /// <summary>Unsigned integer.</summary>
    None = 0,
    /// <summary><c>BTF_INT_SIGNED</c>: a signed integer.</summary>
    Signed = 1,
    /// <summary><c>BTF_INT_CHAR</c>: a character type (used for printing only).</summary>
    Char = 2,
    /// <summary><c>BTF_INT_BOOL</c>: <c>_Bool</c> (used for printing only).</summary>
    Bool = 4,
}

/// <summary>Linkage of a BTF FUNC (stored in vlen).</summary>
public enum BtfFuncLinkage : ushort
{
    /// <summary>A static function, private to its object (<c>BTF_FUNC_STATIC</c>).</summary>
    Static = 0,
    /// <summary>A global function (<c>BTF_FUNC_GLOBAL</c>): the verifier checks it on its own, against its prototype.</summary>
    Global = 1,
    /// <summary>An extern function (<c>BTF_FUNC_EXTERN</c>): a kfunc or a function another object defines.</summary>
    Extern = 2,
}

/// <summary>Linkage of a BTF VAR.</summary>
public enum BtfVarLinkage : uint
{
    /// <summary>A static variable (<c>BTF_VAR_STATIC</c>), private to its object.</summary>
    Static = 0,
    /// <summary>A global variable the object defines (<c>BTF_VAR_GLOBAL_ALLOCATED</c>).</summary>
    GlobalAllocated = 1,
    /// <summary>An extern variable (<c>BTF_VAR_GLOBAL_EXTERN</c>): a kconfig value or ksym the loader fills in.</summary>
    GlobalExtern = 2,
}

internal static class BtfKindNames
{
    /// <summary>The upper-case name bpftool prints (INT, PTR, STRUCT, ...).</summary>
    public static string ToUpperName(this BtfKind kind) => kind switch
    {
        BtfKind.Unknown => "UNKNOWN",
        BtfKind.Int => "INT",
        BtfKind.Ptr => "PTR",
        BtfKind.Array => "ARRAY",
        BtfKind.Struct => "STRUCT",
        BtfKind.Union => "UNION",
        BtfKind.Enum => "ENUM",
        BtfKind.Fwd => "FWD",
        BtfKind.Typedef => "TYPEDEF",
        BtfKind.Volatile => "VOLATILE",
        BtfKind.Const => "CONST",
        BtfKind.Restrict => "RESTRICT",
        BtfKind.Func => "FUNC",
        BtfKind.FuncProto => "FUNC_PROTO",
        BtfKind.Var => "VAR",
        BtfKind.Datasec => "DATASEC",
        BtfKind.Float => "FLOAT",
        BtfKind.DeclTag => "DECL_TAG",
        BtfKind.TypeTag => "TYPE_TAG",
        BtfKind.Enum64 => "ENUM64",
        _ => "UNKNOWN",
    };

    /// <summary>The lower-case name libbpf uses in messages (int, ptr, struct, ...).</summary>
    public static string ToLowerName(this BtfKind kind) => kind switch
    {
        BtfKind.Unknown => "void",
        BtfKind.FuncProto => "func_proto",
        BtfKind.DeclTag => "decl_tag",
        BtfKind.TypeTag => "type_tag",
        _ => kind.ToUpperName().ToLowerInvariant(),
    };
}
