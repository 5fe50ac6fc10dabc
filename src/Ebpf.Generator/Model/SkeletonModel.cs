namespace Ebpf.Generator.Model;

// The generator's models: sealed records of strings, numbers, enums and ImmutableEquatableArray, so that an
// incremental step whose output equals the previous one stops the pipeline there. No Roslyn symbol, syntax node,
// Location, Compilation or SourceText, and nothing from the object layer (BtfSpec, BpfObjectSpec): a test walks
// the object graph of every model to enforce that.

/// <summary>What one BpfObject item asks for (decoded AdditionalFile plus its metadata).</summary>
internal sealed record ObjectInput(
    string ItemPath,
    string ObjectName,
    string ClassName,
    string? Namespace,
    string ResourceName,
    ImmutableEquatableArray<string> ExtraTypes,
    EquatableBytes? Bytes,
    string? DecodeError)
{
    /// <summary>The Architecture metadata as written (null: the object serves every architecture).</summary>
    public string? Architecture { get; init; }
}

/// <summary>One architecture's object of a skeleton: chosen at run time by the process's architecture.</summary>
internal sealed record ArchitectureVariant(string Architecture, string ResourceName);

/// <summary>Generation options that do not come from the object itself (CLI flags or item metadata).</summary>
internal sealed record SkeletonOptions(
    string ItemPath,
    string ObjectName,
    string ClassName,
    string? Namespace,
    string ResourceName,
    ImmutableEquatableArray<string> ExtraTypes)
{
    /// <summary>The manifest resource name the build gives an object by default (Ebpf.Skeletons.targets does the same).</summary>
    public static string DefaultResourceName(string fileName) => "ebpf/" + fileName;
}

/// <summary>The model of one skeleton, or the diagnostics that prevent it.</summary>
internal sealed record SkeletonResult(SkeletonModel? Model, ImmutableEquatableArray<DiagnosticInfo> Diagnostics);

internal sealed record SkeletonModel(
    string ItemPath,
    string? Namespace,
    string ClassName,
    string ObjectName,
    string ResourceName,
    string? License,
    bool IsBigEndian,
    ImmutableEquatableArray<MapModel> Maps,
    ImmutableEquatableArray<ProgramModel> Programs,
    ImmutableEquatableArray<DataSectionModel> Sections,
    ImmutableEquatableArray<TypeModel> Types,
    ImmutableEquatableArray<int> InlineArrayLengths,
    ImmutableEquatableArray<StructOpsModel> StructOps)
{
    /// <summary>"global::Ns.ClassName" (or "global::ClassName").</summary>
    public string FullyQualifiedName => "global::" + (Namespace is null ? ClassName : Namespace + "." + ClassName);

    public string MetadataName => Namespace is null ? ClassName : Namespace + "." + ClassName;

    /// <summary>Hint names allow no '@': keyword escapes are dropped.</summary>
    public string HintName => MetadataName.Replace("@", string.Empty) + ".g.cs";

    /// <summary>
    /// Empty for an object that serves every architecture; otherwise the per-architecture objects (BpfObject items
    /// with Architecture metadata), one resource each, of which <c>Open()</c> takes the process's.
    /// </summary>
    public ImmutableEquatableArray<ArchitectureVariant> Variants { get; init; } = ImmutableEquatableArray<ArchitectureVariant>.Empty;
}

/// <summary>What a C# type stands for, in terms a layout comparison understands.</summary>
internal enum ValueKind
{
    /// <summary>Unknown or opaque bytes.</summary>
    Opaque,
    SignedInteger,
    UnsignedInteger,
    Bool,
    /// <summary>C char (a byte).</summary>
    Char,
    Float,
    Enum,
    /// <summary>A pointer: a 64-bit address, as ulong.</summary>
    Pointer,
    Struct,
    Union,
    Array,
}

/// <summary>
/// A reference to a type from C#: the expression to write (<c>int</c>, <c>global::Ns.Skel.Event</c>,
/// <c>global::Ns.Skel.InlineArray16&lt;byte&gt;</c>), its size, what kind of value it is, and its C spelling.
/// For arrays, <see cref="ElementCount"/> and <see cref="Element"/>; for generated types, <see cref="TypeName"/>
/// (the nested type's simple name).
/// </summary>
internal sealed record TypeRef(
    string CSharp,
    int Size,
    ValueKind Kind,
    string CName,
    string? TypeName,
    int ElementCount,
    TypeRef? Element)
{
    public bool IsCharArray => Kind == ValueKind.Array && Element is { Kind: ValueKind.Char };
}

internal enum MapWrapper
{
    /// <summary>Plain <c>BpfMap</c>: internal maps, kinds without a typed wrapper, maps without BTF types.</summary>
    Raw,
    Hash,
    PerCpuHash,
    Array,
    PerCpuArray,
    LpmTrie,
    Queue,
    Stack,
    BloomFilter,
    StackTrace,
    ProgramArray,
    ArrayOfMaps,
    HashOfMaps,
    PerfEventArray,
    RingBuffer,
}

internal sealed record MapModel(
    string Name,
    string PropertyName,
    MapWrapper Wrapper,
    string MapType,
    bool IsPerCpu,
    bool IsInternal,
    string? SectionName,
    int KeySize,
    int ValueSize,
    int MaxEntries,
    TypeRef? Key,
    TypeRef? Value);

internal sealed record ProgramModel(
    string Name,
    string PropertyName,
    string WrapperType,
    string LinkType,
    string SectionName,
    string ProgramType,
    string AttachKind,
    bool Autoload,
    bool IsAutoAttachable);

internal enum SectionAccess
{
    /// <summary>.data, .bss, custom .data.*: ref access, live after load.</summary>
    ReadWrite,
    /// <summary>.rodata, .rodata.*: get/set, set only before load.</summary>
    ReadOnlyAfterLoad,
    /// <summary>.kconfig: read only, filled by the loader.</summary>
    ReadOnly,
}

internal sealed record DataSectionModel(
    string SectionName,
    string PropertyName,
    string ClassName,
    SectionAccess Access,
    int Size,
    ImmutableEquatableArray<VariableModel> Variables);

internal sealed record VariableModel(string Name, string PropertyName, int Offset, TypeRef Type);

internal enum TypeModelKind
{
    Struct,
    Union,
    Enum,
}

/// <summary>A C# type generated from a BTF struct, union or enum.</summary>
internal sealed record TypeModel(
    string Name,
    string CName,
    TypeModelKind Kind,
    int Size,
    ImmutableEquatableArray<FieldModel> Fields,
    ImmutableEquatableArray<BitfieldStorageModel> Storage,
    ImmutableEquatableArray<EnumMemberModel> EnumMembers,
    string? EnumUnderlyingType);

/// <summary>
/// A member of a generated struct: a field at <see cref="Offset"/>, or a bitfield property over a storage field
/// (<see cref="StorageIndex"/> ≥ 0) with <see cref="Shift"/> and <see cref="BitSize"/>.
/// </summary>
internal sealed record FieldModel(
    string Name,
    string CName,
    TypeRef Type,
    int Offset,
    int BitSize,
    int StorageIndex,
    int Shift,
    string? StringAccessorName)
{
    public bool IsBitfield => StorageIndex >= 0;
}

/// <summary>Private storage of bitfields: an unsigned integer of <see cref="Size"/> bytes at <see cref="Offset"/>.</summary>
internal sealed record BitfieldStorageModel(string Name, int Offset, int Size);

internal sealed record EnumMemberModel(string Name, string CName, string Value);

internal enum StructOpsMemberModelKind
{
    /// <summary>Get/Set through the runtime with the member's C# type.</summary>
    Value,
    /// <summary>A char array, exposed as a string.</summary>
    String,
    /// <summary>A function pointer: the bound program.</summary>
    Program,
}

/// <summary>A member of a struct_ops value the skeleton exposes (pointers that are not callbacks and bitfields are not).</summary>
internal sealed record StructOpsMemberModel(
    string Name,
    string PropertyName,
    StructOpsMemberModelKind Kind,
    TypeRef? Type,
    string CDeclaration,
    int Offset,
    string? ProgramName);

/// <summary>A struct_ops map: a variable of .struct_ops or .struct_ops.link.</summary>
internal sealed record StructOpsModel(
    string MapName,
    string PropertyName,
    string ClassName,
    string LinkPropertyName,
    string TypeName,
    string SectionName,
    bool IsLink,
    bool Autocreate,
    ImmutableEquatableArray<StructOpsMemberModel> Members)
{
    /// <summary>
    /// The method of the skeleton's ProgramsCollection that maps a bound program to its wrapper property (callbacks
    /// hand out the same StructOpsProgram instances as Programs); reserved among program names.
    /// </summary>
    public const string ProgramLookupMethod = "StructOpsProgramOf";
}
