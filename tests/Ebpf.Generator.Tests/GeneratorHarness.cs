using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Ebpf.Generator.Tests;

/// <summary>A BpfObject item as the build hands it to the generator.</summary>
public sealed record BpfItem(string Path, string? ClassName = null, string? Namespace = null, string? Types = null, string? ResourceName = null, byte[]? Bytes = null,
    string? Architecture = null)
{
    public byte[] Content => Bytes ?? File.ReadAllBytes(Path);

    /// <summary>obj/ebpf/[&lt;architecture&gt;/]&lt;file&gt;.b64, as the targets name the encoded copy.</summary>
    public string EncodedPath => "/project/obj/ebpf/" + (Architecture is null ? "" : Architecture.ToLowerInvariant() + "/") + System.IO.Path.GetFileName(Path) + ".b64";
}

/// <summary>An AdditionalText with fixed content.</summary>
public sealed class TestAdditionalText : AdditionalText
{
    private readonly SourceText _text;

    public TestAdditionalText(string path, string text)
    {
        Path = path;
        _text = SourceText.From(text);
    }

    public override string Path { get; }

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

public sealed class TestOptions : AnalyzerConfigOptions
{
    private readonly Dictionary<string, string> _values;

    public TestOptions(Dictionary<string, string> values) => _values = values;

    public static readonly TestOptions Empty = new TestOptions(new Dictionary<string, string>());

    public override bool TryGetValue(string key, out string value) => _values.TryGetValue(key, out value!);
}

public sealed class TestOptionsProvider : AnalyzerConfigOptionsProvider
{
    private readonly Dictionary<string, TestOptions> _byPath;

    public TestOptionsProvider(Dictionary<string, TestOptions> byPath) => _byPath = byPath;

    public override AnalyzerConfigOptions GlobalOptions => TestOptions.Empty;

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => TestOptions.Empty;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
        _byPath.TryGetValue(textFile.Path, out var o) ? o : TestOptions.Empty;
}

/// <summary>Runs the generator like the build does: encoded objects as additional files with item metadata.</summary>
public sealed class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new CSharpParseOptions(LanguageVersion.CSharp12);

    public List<BpfItem> Objects { get; } = new List<BpfItem>();
    /// <summary>BpfKernelBtf items: the file, its bytes and its Architecture metadata (null: not known to the build).</summary>
    public List<(string Path, byte[] Bytes, string? Architecture)> KernelBtfs { get; } = new List<(string, byte[], string?)>();
    public List<string> Sources { get; } = new List<string>();

    public GeneratorHarness Add(BpfItem item)
    {
        Objects.Add(item);
        return this;
    }

    public GeneratorHarness AddSource(string source)
    {
        Sources.Add(source);
        return this;
    }

    public static TestAdditionalText Encode(BpfItem item) => new TestAdditionalText(item.EncodedPath, Convert.ToBase64String(item.Content));

    public static TestOptions OptionsFor(BpfItem item)
    {
        var d = new Dictionary<string, string>
        {
            ["build_metadata.AdditionalFiles.EbpfKind"] = "Object",
            ["build_metadata.AdditionalFiles.EbpfSourcePath"] = item.Path,
        };
        if (item.ClassName != null) d["build_metadata.AdditionalFiles.EbpfClassName"] = item.ClassName;
        if (item.Namespace != null) d["build_metadata.AdditionalFiles.EbpfNamespace"] = item.Namespace;
        if (item.Types != null) d["build_metadata.AdditionalFiles.EbpfTypes"] = item.Types;
        if (item.ResourceName != null) d["build_metadata.AdditionalFiles.EbpfResourceName"] = item.ResourceName;
        if (item.Architecture != null) d["build_metadata.AdditionalFiles.EbpfArchitecture"] = item.Architecture;
        return new TestOptions(d);
    }

    public (ImmutableArray<AdditionalText> Texts, TestOptionsProvider Options) BuildAdditionalFiles()
    {
        var texts = new List<AdditionalText>();
        var options = new Dictionary<string, TestOptions>();
        foreach (var o in Objects)
        {
            var t = Encode(o);
            texts.Add(t);
            options[t.Path] = OptionsFor(o);
        }
        foreach (var (path, bytes, architecture) in KernelBtfs)
        {
            var t = new TestAdditionalText("/project/obj/ebpf/" + (architecture is null ? "" : architecture.ToLowerInvariant() + "/") + Path.GetFileName(path) + ".b64",
                Convert.ToBase64String(bytes));
            texts.Add(t);
            var metadata = new Dictionary<string, string>
            {
                ["build_metadata.AdditionalFiles.EbpfKind"] = "KernelBtf",
                ["build_metadata.AdditionalFiles.EbpfSourcePath"] = path,
            };
            if (architecture != null) metadata["build_metadata.AdditionalFiles.EbpfArchitecture"] = architecture;
            options[t.Path] = new TestOptions(metadata);
        }
        return (texts.ToImmutableArray(), new TestOptionsProvider(options));
    }

    /// <summary>
    /// How user sources and generated code are parsed: C# 12 with documentation comments parsed but not checked, unless
    /// a test sets <see cref="DocumentationMode.Diagnose"/> (what the SDK's GenerateDocumentationFile turns on).
    /// </summary>
    public CSharpParseOptions Parse { get; set; } = ParseOptions;

    public CSharpCompilation CreateCompilation(IEnumerable<MetadataReference>? references = null) =>
        CSharpCompilation.Create("TestAssembly",
            Sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, Parse, path: $"/project/User{i}.cs")),
            references ?? References.Net100WithRuntime,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                allowUnsafe: false));

    /// <summary>The additional texts of the last <see cref="CreateDriver"/> (to replace one in incremental tests).</summary>
    public ImmutableArray<AdditionalText> Texts { get; private set; }

    public GeneratorDriver CreateDriver(bool track = true)
    {
        var (texts, options) = BuildAdditionalFiles();
        Texts = texts;
        return CSharpGeneratorDriver.Create(
            new[] { new SkeletonGenerator().AsSourceGenerator() },
            texts,
            Parse,
            options,
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));
    }

    public GeneratorRun Run(IEnumerable<MetadataReference>? references = null, CancellationToken cancellationToken = default)
    {
        var compilation = CreateCompilation(references);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics, cancellationToken);
        return new GeneratorRun(driver, compilation, output, diagnostics);
    }
}

public sealed record GeneratorRun(GeneratorDriver Driver, Compilation Input, Compilation Output, ImmutableArray<Diagnostic> Diagnostics)
{
    public GeneratorDriverRunResult Result => Driver.GetRunResult();

    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    /// <summary>The generated sources except the attributes file, by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources =>
        Result.Results.SelectMany(r => r.GeneratedSources)
            .Where(s => s.HintName != "Ebpf.Skeletons.Attributes.g.cs")
            .ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    public string SingleSource => Sources.Values.Single();
}

/// <summary>Reference sets for compiling generated code.</summary>
public static class References
{
    private static string Metadata(string key) =>
        typeof(References).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string RuntimePath => Metadata("EbpfRuntimePath");

    public static string LoggingAbstractionsPath => Metadata("LoggingAbstractionsPath");

    private static readonly Lazy<MetadataReference> s_runtime = new Lazy<MetadataReference>(() => MetadataReference.CreateFromFile(RuntimePath));
    private static readonly Lazy<MetadataReference> s_logging = new Lazy<MetadataReference>(() => MetadataReference.CreateFromFile(LoggingAbstractionsPath));

    /// <summary>The real runtime (Ebpf.Runtime built for net8.0) and what its public API needs.</summary>
    public static IEnumerable<MetadataReference> Runtime => new[] { s_runtime.Value, s_logging.Value };

    public static IEnumerable<MetadataReference> Net80WithRuntime => Basic.Reference.Assemblies.Net80.References.All.Concat(Runtime);

    public static IEnumerable<MetadataReference> Net100WithRuntime => Basic.Reference.Assemblies.Net100.References.All.Concat(Runtime);
}
