namespace Ebpf.Btf;

/// <summary>BTF type kinds (BTF_KIND_*), numbered as in the kernel's include/uapi/linux/btf.h.</summary>
public enum BtfKind : byte
{
    Unknown = 0,
    Int = 1,
    Ptr = 2,
    Array = 3,
    Struct = 4,
    Union = 5,
    Enum = 6,
    Fwd = 7,
    Typedef = 8,
    Volatile = 9,
    Const = 10,
    Restrict = 11,
    Func = 12,
    FuncProto = 13,
    Var = 14,
    Datasec = 15,
    Float = 16,
    DeclTag = 17,
    TypeTag = 18,
    Enum64 = 19,
}

/// <summary>BTF_INT_* encoding bits.</summary>
[System.Flags]
public enum BtfIntEncoding : byte
{
    None = 0,
    Signed = 1,
    Char = 2,
    Bool = 4,
}

/// <summary>Linkage of a BTF FUNC (stored in vlen).</summary>
public enum BtfFuncLinkage : ushort
{
    Static = 0,
    Global = 1,
    Extern = 2,
}

/// <summary>Linkage of a BTF VAR.</summary>
public enum BtfVarLinkage : uint
{
    Static = 0,
    GlobalAllocated = 1,
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
