using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Threading;
using Ebpf.Generator.Emitter;
using Ebpf.Generator.Model;
using Ebpf.Generator.Parser;
using Ebpf.Generator.UserTypes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Ebpf.Generator;

/// <summary>
/// <c>&lt;BpfObject Include="tracer.bpf.o"/&gt;</c> → <c>TracerSkeleton</c>.
/// </summary>
/// <remarks>
/// Pipeline (tracking names in brackets, for the incremental tests):
/// <code>
/// AdditionalTexts + item metadata ─[ObjectInput]─▶ decode base64, options ─[Model]─▶ parse, build SkeletonModel
///        (per-architecture objects of one class: ─Collect─[Variants]─▶ one model)
///        │                                                        │
///        ├─[KernelBtf]─▶ parse kernel BTF once ─Collect─┐         │
///        │                                              ▼         │
///        └──────────────────────────────────[CorePreflight]▶ warnings
/// [MapTypeUsages] ForAttributeWithMetadataName ─Collect─┐         │
/// [UserStructs]  partial structs in partial classes ─Collect─┐    ▼
///                                                      [Check] join per object ─[Emit]─▶ source + diagnostics
/// </code>
/// The object path never touches the Compilation; only the two user-type branches use the semantic model, and they
/// reduce what they see to equatable layouts in their transforms.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class SkeletonGenerator : IIncrementalGenerator
{
    public const string MetadataPrefix = "build_metadata.AdditionalFiles.";
    public const string KindMetadata = MetadataPrefix + "EbpfKind";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        context.RegisterPostInitializationOutput(ctx => ctx.AddSource(SkeletonAttributes.HintName, SourceText.From(SkeletonAttributes.Source, System.Text.Encoding.UTF8)));

        // One step reads every additional file: ours are decoded here, so no AdditionalText goes further.
        var files = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, ct) => ReadFile(pair.Left, pair.Right.GetOptions(pair.Left), ct))
            .Where(static f => f.Kind != FileKind.None)
            .WithTrackingName(TrackingNames.Files);

        // Objects.
        var objects = files
            .Where(static f => f.Kind == FileKind.Object)
            .Select(static (f, _) => f.Object!)
            .WithTrackingName(TrackingNames.ObjectInput);

        var perObject = objects
            .Select(static (input, ct) => BuildModel(input, ct))
            .WithTrackingName(TrackingNames.Model);

        // Per-architecture objects of one class become one skeleton (each unchanged model passes through as it was).
        var models = perObject
            .Collect()
            .SelectMany(static (all, ct) => ArchitectureVariants.Merge(all, ct))
            .WithTrackingName(TrackingNames.Variants);

        // Kernel BTF for the CO-RE pre-flight: each file parsed once, then shared by every object.
        var kernels = files
            .Where(static f => f.Kind == FileKind.KernelBtf)
            .Select(static (f, ct) => KernelBtfInput.Parse(f.KernelLabel!, f.KernelArchitecture, f.KernelContent!, ct))
            .WithTrackingName(TrackingNames.KernelBtf)
            .Collect()
            .Select(static (arr, ct) => Sort(arr))
            .WithTrackingName(TrackingNames.KernelBtfList);

        var preflight = objects
            .Combine(kernels)
            .Select(static (pair, ct) => pair.Left.Bytes is null || pair.Right.Count == 0
                ? ImmutableEquatableArray<DiagnosticInfo>.Empty
                : CorePreflight.Check(pair.Left.ItemPath, pair.Left.ObjectName, pair.Left.Architecture, pair.Left.Bytes.Memory, pair.Right, ct))
            .WithTrackingName(TrackingNames.CorePreflight);

        context.RegisterSourceOutput(preflight, static (spc, diagnostics) => Report(spc, diagnostics));

        // What the user declares in C#.
        var mapTypes = context.SyntaxProvider.ForAttributeWithMetadataName(SkeletonAttributes.MapTypesMetadataName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => UserTypeReader.ReadAttributes(ctx, UserTypeUse.MapValue, ct))
            .WithTrackingName(TrackingNames.MapTypeUsages);
        var ringEvents = context.SyntaxProvider.ForAttributeWithMetadataName(SkeletonAttributes.RingBufferEventMetadataName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => UserTypeReader.ReadAttributes(ctx, UserTypeUse.RingBufferEvent, ct))
            .WithTrackingName(TrackingNames.RingBufferEventUsages);
        var usages = mapTypes.Collect()
            .Combine(ringEvents.Collect())
            .Select(static (pair, ct) => Flatten(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.AllUsages);
        var structs = context.SyntaxProvider.CreateSyntaxProvider(UserTypeReader.IsCandidateStruct, static (ctx, ct) => UserTypeReader.ReadStruct(ctx, ct))
            .Where(static s => s is not null)
            .Select(static (s, _) => s!)
            .WithTrackingName(TrackingNames.UserStructs)
            .Collect()
            .Select(static (arr, _) => arr.ToImmutableEquatableArray())
            .WithTrackingName(TrackingNames.AllUserStructs);

        var checkedModels = models
            .Combine(usages)
            .Combine(structs)
            .Select(static (pair, ct) => UserTypeChecker.Check(pair.Left.Left, pair.Left.Right, pair.Right, ct))
            .WithTrackingName(TrackingNames.Check);

        var outputs = checkedModels
            .Select(static (input, ct) => Emit(input, ct))
            .WithTrackingName(TrackingNames.Emit);

        // Sources are added together so that two items generating the same class (EBPF018) cannot add the same
        // hint name twice: the first by item path wins. Each skeleton's text is computed (and cached) per object above.
        context.RegisterSourceOutput(outputs.Collect(), static (spc, all) =>
        {
            var sorted = new List<GeneratedSkeleton>(all);
            sorted.Sort(static (a, b) => string.CompareOrdinal(a.ItemPath, b.ItemPath));
            var added = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var output in sorted)
            {
                Report(spc, output.Diagnostics);
                if (output.HintName is not null && output.Source is not null && added.Add(output.HintName))
                    spc.AddSource(output.HintName, SourceText.From(output.Source, System.Text.Encoding.UTF8));
            }
        });

        // Two items that would generate the same class.
        var duplicates = models
            .Select(static (r, _) => r.Model is null ? null : new ClassIdentity(r.Model.MetadataName, r.Model.ItemPath))
            .Where(static c => c is not null)
            .Select(static (c, _) => c!)
            .Collect()
            .Select(static (arr, _) => FindDuplicates(arr))
            .WithTrackingName(TrackingNames.Duplicates);
        context.RegisterSourceOutput(duplicates, static (spc, diagnostics) => Report(spc, diagnostics));
    }

    // ------------------------------------------------------------------ steps

    internal enum FileKind
    {
        None,
        Object,
        KernelBtf,
    }

    /// <summary>An additional file as the pipeline keeps it: decoded, with its metadata; no AdditionalText.</summary>
    internal sealed record FileInput(FileKind Kind, ObjectInput? Object, string? KernelLabel, EquatableBytes? KernelContent)
    {
        public static readonly FileInput None = new FileInput(FileKind.None, null, null, null);

        /// <summary>A kernel BTF's architecture (x64, arm64) when the build knows it; null: any.</summary>
        public string? KernelArchitecture { get; init; }
    }

    private static string? Get(AnalyzerConfigOptions options, string name) =>
        options.TryGetValue(MetadataPrefix + name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;

    internal static FileInput ReadFile(AdditionalText text, AnalyzerConfigOptions options, CancellationToken ct)
    {
        options.TryGetValue(KindMetadata, out var kind);
        switch (kind)
        {
            case "Object":
                return new FileInput(FileKind.Object, ReadObject(text, options, ct), null, null);
            case "KernelBtf":
            {
                string? architecture = CpuArchitecture.Normalize(Get(options, "EbpfArchitecture"));
                string label = Path.GetFileName(Get(options, "EbpfSourcePath") ?? text.Path) + (architecture is null ? string.Empty : $" ({architecture})");
                var bytes = Decode(text, ct, out _);
                return new FileInput(FileKind.KernelBtf, null, label, new EquatableBytes(bytes ?? Array.Empty<byte>())) { KernelArchitecture = architecture };
            }
            default:
                return FileInput.None;
        }
    }

    private static byte[]? Decode(AdditionalText text, CancellationToken ct, out string? error)
    {
        error = null;
        var source = text.GetText(ct);
        if (source is null)
        {
            error = "the build's encoded copy of the file cannot be read (" + text.Path + ")";
            return null;
        }
        try
        {
            return Convert.FromBase64String(source.ToString());
        }
        catch (FormatException)
        {
            error = "the build's encoded copy of the file is not base64 (" + text.Path + ")";
            return null;
        }
    }

    internal static ObjectInput ReadObject(AdditionalText text, AnalyzerConfigOptions options, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        string sourcePath = Get(options, "EbpfSourcePath") ?? text.Path;
        string file = Path.GetFileName(sourcePath);
        string objectName = Get(options, "EbpfObjectName") ?? Ebpf.Objects.BpfObjectSpec.ObjectNameFromPath(file);
        string className = Get(options, "EbpfClassName") ?? CSharpNames.SkeletonClassName(objectName);
        string? typesText = Get(options, "EbpfTypes");
        var types = new List<string>();
        if (typesText is not null)
        {
            foreach (var t in typesText.Split(';', ','))
                if (t.Trim().Length > 0) types.Add(t.Trim());
        }
        var bytes = Decode(text, ct, out var error);
        return new ObjectInput(sourcePath, objectName, className, Get(options, "EbpfNamespace"), Get(options, "EbpfResourceName") ?? SkeletonOptions.DefaultResourceName(file),
            types.ToImmutableEquatableArray(), bytes is null ? null : new EquatableBytes(bytes), error)
        {
            Architecture = Get(options, "EbpfArchitecture"),
        };
    }
    internal static SkeletonResult BuildModel(ObjectInput input, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (input.Bytes is null)
        {
            return new SkeletonResult(null, ImmutableEquatableArray.Create(
                DiagnosticInfo.Create(DiagnosticKind.InternalError, input.ItemPath, input.ItemPath, input.DecodeError ?? "no content")));
        }
        if (!CSharpNames.IsValidIdentifier(input.ClassName) || CSharpNames.IsKeyword(input.ClassName))
        {
            return new SkeletonResult(null, ImmutableEquatableArray.Create(
                DiagnosticInfo.Create(DiagnosticKind.BadOption, input.ItemPath, input.ItemPath, $"ClassName '{input.ClassName}' is not a C# identifier")));
        }
        string? ns = null;
        if (input.Namespace is not null)
        {
            ns = CSharpNames.NormalizeNamespace(input.Namespace);
            if (ns is null)
            {
                return new SkeletonResult(null, ImmutableEquatableArray.Create(
                    DiagnosticInfo.Create(DiagnosticKind.BadOption, input.ItemPath, input.ItemPath, $"Namespace '{input.Namespace}' is not a C# namespace")));
            }
        }
        if (!ArchitectureVariants.TryNormalize(input.Architecture, out var architecture))
        {
            return new SkeletonResult(null, ImmutableEquatableArray.Create(
                DiagnosticInfo.Create(DiagnosticKind.BadOption, input.ItemPath, input.ItemPath, $"Architecture '{input.Architecture}' is not an architecture the runtime supports (x64 or arm64)")));
        }
        var options = new SkeletonOptions(input.ItemPath, input.ObjectName, input.ClassName.TrimStart('@'), ns, input.ResourceName, input.ExtraTypes);
        var result = SkeletonModelBuilder.Build(options, input.Bytes.Memory, ct);
        if (architecture is null || result.Model is null)
            return result;
        return result with { Model = result.Model with { Variants = ImmutableEquatableArray.Create(new ArchitectureVariant(architecture, input.ResourceName)) } };
    }

    private static ImmutableEquatableArray<KernelBtfInput> Sort(ImmutableArray<KernelBtfInput> kernels)
    {
        var list = new List<KernelBtfInput>(kernels);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Label, b.Label));
        return list.ToImmutableEquatableArray();
    }

    private static ImmutableEquatableArray<MapTypeUsage> Flatten(ImmutableArray<ImmutableEquatableArray<MapTypeUsage>> a, ImmutableArray<ImmutableEquatableArray<MapTypeUsage>> b)
    {
        var all = new List<MapTypeUsage>();
        foreach (var x in a) all.AddRange(x);
        foreach (var x in b) all.AddRange(x);
        return all.ToImmutableEquatableArray();
    }

    internal sealed record ClassIdentity(string MetadataName, string ItemPath);

    private static ImmutableEquatableArray<DiagnosticInfo> FindDuplicates(ImmutableArray<ClassIdentity> classes)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var result = new List<DiagnosticInfo>();
        var sorted = new List<ClassIdentity>(classes);
        sorted.Sort(static (a, b) => string.CompareOrdinal(a.ItemPath, b.ItemPath));
        foreach (var c in sorted)
        {
            if (seen.TryGetValue(c.MetadataName, out var first))
                result.Add(DiagnosticInfo.Create(DiagnosticKind.DuplicateClass, c.ItemPath, first, c.ItemPath, c.MetadataName));
            else
                seen.Add(c.MetadataName, c.ItemPath);
        }
        return result.ToImmutableEquatableArray();
    }

    /// <summary>The generated file (or none) and the diagnostics of one object.</summary>
    internal sealed record GeneratedSkeleton(string ItemPath, string? HintName, string? Source, ImmutableEquatableArray<DiagnosticInfo> Diagnostics);

    internal static GeneratedSkeleton Emit(EmitInput input, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        bool hasError = false;
        foreach (var d in input.Diagnostics)
            if (d.Kind.Level == DiagnosticLevel.Error && d.Id != DiagnosticKind.TypeMismatch.Id && d.Id != DiagnosticKind.WrongMapKind.Id && d.Id != DiagnosticKind.UnknownMap.Id)
                hasError = true;
        string itemPath = input.Model?.ItemPath ?? (input.Diagnostics.Count > 0 ? input.Diagnostics[0].FilePath : string.Empty);
        if (input.Model is null || hasError)
            return new GeneratedSkeleton(itemPath, null, null, input.Diagnostics);
        try
        {
            return new GeneratedSkeleton(itemPath, input.Model.HintName, SkeletonEmitter.Emit(input.Model, input.Overrides), input.Diagnostics);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var list = new List<DiagnosticInfo>(input.Diagnostics)
            {
                DiagnosticInfo.Create(DiagnosticKind.InternalError, input.Model.ItemPath, input.Model.ItemPath, e.GetType().Name + ": " + e.Message),
            };
            return new GeneratedSkeleton(itemPath, null, null, list.ToImmutableEquatableArray());
        }
    }

    private static void Report(SourceProductionContext spc, ImmutableEquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (var d in diagnostics)
            spc.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(d));
    }
}

/// <summary>Names of the tracked pipeline steps (<c>WithTrackingName</c>), asserted by the incremental tests.</summary>
internal static class TrackingNames
{
    public const string Files = nameof(Files);
    public const string ObjectInput = nameof(ObjectInput);
    public const string Model = nameof(Model);
    public const string Variants = nameof(Variants);
    public const string KernelBtf = nameof(KernelBtf);
    public const string KernelBtfList = nameof(KernelBtfList);
    public const string CorePreflight = nameof(CorePreflight);
    public const string MapTypeUsages = nameof(MapTypeUsages);
    public const string RingBufferEventUsages = nameof(RingBufferEventUsages);
    public const string AllUsages = nameof(AllUsages);
    public const string UserStructs = nameof(UserStructs);
    public const string AllUserStructs = nameof(AllUserStructs);
    public const string Check = nameof(Check);
    public const string Emit = nameof(Emit);
    public const string Duplicates = nameof(Duplicates);
}
