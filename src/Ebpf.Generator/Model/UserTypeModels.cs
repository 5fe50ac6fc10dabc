namespace Ebpf.Generator.Model;

// Models of what the user wrote in C# (attributes on the partial skeleton class, partial structs declared in it),
// reduced to layouts: names, sizes, offsets and kinds computed from the semantic model, no symbols kept.

internal enum UserTypeUse
{
    MapKey,
    MapValue,
    RingBufferEvent,
}

/// <summary>The layout of a C# type as far as a comparison with BTF needs it.</summary>
internal sealed record UserTypeLayout(
    string Display,
    string CSharp,
    int Size,
    ValueKind Kind,
    ImmutableEquatableArray<UserFieldLayout> Fields,
    bool IsUnresolved,
    string? UnresolvedName);

/// <summary>One instance field of a user struct: offset, size and kind (and array length).</summary>
internal sealed record UserFieldLayout(string Name, int Offset, int Size, ValueKind Kind, string TypeDisplay, int ElementCount);

/// <summary><c>[BpfMapTypes("map", Key = typeof(K), Value = typeof(V))]</c> or <c>[BpfRingBufferEvent("map", typeof(E))]</c>.</summary>
internal sealed record MapTypeUsage(
    string ClassMetadataName,
    string FilePath,
    LineSpan? Span,
    UserTypeUse Use,
    string MapName,
    bool PerCpu,
    UserTypeLayout Type);

/// <summary>A partial struct with instance fields declared inside a partial skeleton class.</summary>
internal sealed record UserStructDeclaration(
    string ClassMetadataName,
    string StructName,
    string FilePath,
    LineSpan? Span,
    UserTypeLayout Layout);

/// <summary>What the user's C# changes in the emitted skeleton.</summary>
internal sealed record EmitOverrides(
    ImmutableEquatableArray<MapTypeOverride> Maps,
    ImmutableEquatableArray<string> UserOwnedTypes,
    ImmutableEquatableArray<RingBufferEventModel> RingBufferEvents)
{
    public static EmitOverrides None { get; } = new EmitOverrides(ImmutableEquatableArray<MapTypeOverride>.Empty,
        ImmutableEquatableArray<string>.Empty, ImmutableEquatableArray<RingBufferEventModel>.Empty);
}

internal sealed record MapTypeOverride(string MapName, string? Key, string? Value);

internal sealed record RingBufferEventModel(string MapName, string MapPropertyName, string EventType);

/// <summary>The input of the emitter: the skeleton, the user's overrides, and every diagnostic for this object.</summary>
internal sealed record EmitInput(SkeletonModel? Model, EmitOverrides Overrides, ImmutableEquatableArray<DiagnosticInfo> Diagnostics);
