using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Ebpf.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Ebpf.Benchmarks.Generator;

/// <summary>
/// The source generator on a large object (bpf/large.bpf.o, 723 KB with DWARF), through Roslyn's generator
/// driver exactly as the build runs it: the object as a base64 additional file with its item metadata.
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private static readonly CSharpParseOptions s_parse = new(LanguageVersion.CSharp12);
    private ImmutableArray<AdditionalText> _texts;
    private OptionsProvider _options = null!;
    private CSharpCompilation _compilation = null!, _edited = null!;
    private GeneratorDriver _warm = null!;
    private bool _flip;

    /// <summary>Characters of C# the first run generated (all files), for the summary.</summary>
    public int GeneratedChars { get; private set; }

    public static string LargeObject => Path.Combine(RepoRoot(), "bpf", "large.bpf.o");

    [GlobalSetup]
    public void Setup()
    {
        var bytes = File.ReadAllBytes(LargeObject);
        var text = new Text("/project/obj/ebpf/large.bpf.o.b64", Convert.ToBase64String(bytes));
        _texts = ImmutableArray.Create<AdditionalText>(text);
        _options = new OptionsProvider(new Dictionary<string, string>
        {
            ["build_metadata.AdditionalFiles.EbpfKind"] = "Object",
            ["build_metadata.AdditionalFiles.EbpfSourcePath"] = "/project/large.bpf.o",
        });
        _compilation = Compilation("class UserCode { int A() => 1; }");
        _edited = Compilation("class UserCode { int A() => 2; } // an unrelated edit");
        _warm = NewDriver().RunGenerators(_compilation);
        var result = _warm.GetRunResult();
        if (result.GeneratedTrees.Length < 2 || result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            throw new InvalidOperationException("the generator produced no skeleton for large.bpf.o: " + string.Join("; ", result.Diagnostics));
        GeneratedChars = result.GeneratedTrees.Sum(t => t.Length);
    }

    private static CSharpCompilation Compilation(string source) =>
        CSharpCompilation.Create("Bench", new[] { CSharpSyntaxTree.ParseText(source, s_parse, path: "/project/User.cs") },
            new[] { MetadataReference.CreateFromFile(typeof(object).Assembly.Location) },
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

    private GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create(new[] { new SkeletonGenerator().AsSourceGenerator() }, _texts, s_parse, _options,
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: false));

    /// <summary>A first run: decode, parse ELF/BTF/DWARF-bearing object, build the model, emit the skeleton.</summary>
    [Benchmark(Description = "generate large.bpf.o (first run)")]
    public int Generate() => NewDriver().RunGenerators(_compilation).GetRunResult().GeneratedTrees.Length;

    /// <summary>A run after an edit of unrelated user code: every step of ours is cached.</summary>
    [Benchmark(Description = "rerun after an unrelated edit")]
    public int UnrelatedEdit()
    {
        _flip = !_flip;
        _warm = _warm.RunGenerators(_flip ? _edited : _compilation);
        return _warm.GetRunResult().GeneratedTrees.Length;
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "bpf", "large.bpf.o")) && File.Exists(Path.Combine(dir.FullName, "Skeletons.sln")))
                return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    private sealed class Text : AdditionalText
    {
        private readonly SourceText _text;
        public Text(string path, string text) { Path = path; _text = SourceText.From(text); }
        public override string Path { get; }
        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class Options : AnalyzerConfigOptions
    {
        private readonly Dictionary<string, string> _values;
        public Options(Dictionary<string, string> values) => _values = values;
        public override bool TryGetValue(string key, out string value) => _values.TryGetValue(key, out value!);
    }

    private sealed class OptionsProvider : AnalyzerConfigOptionsProvider
    {
        private readonly Options _file;
        private static readonly Options s_empty = new(new Dictionary<string, string>());
        public OptionsProvider(Dictionary<string, string> file) => _file = new Options(file);
        public override AnalyzerConfigOptions GlobalOptions => s_empty;
        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => s_empty;
        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _file;
    }
}

public static class Program
{
    /// <summary>
    /// No arguments or BenchmarkDotNet arguments: the usual switcher. <c>--summary FILE</c>: run the generator
    /// benchmarks in-process and write "generate_ms=… edit_ms=… object_kb=…" for the comparison table.
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "--summary")
        {
            // The first run in a fresh process (JIT of the generator and of Roslyn's driver included), as a
            // command-line build without a warm compiler server pays it.
            var cold = new GeneratorBenchmarks();
            long c0 = System.Diagnostics.Stopwatch.GetTimestamp();
            cold.Setup();
            double coldMs = System.Diagnostics.Stopwatch.GetElapsedTime(c0).TotalMilliseconds;
            var config = ManualConfig.CreateMinimumViable()
                .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15))
                .WithOptions(ConfigOptions.DisableLogFile);
            Summary s = BenchmarkRunner.Run<GeneratorBenchmarks>(config);
            double Median(string name) => s.Reports.First(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == name).ResultStatistics!.Median / 1e6;
            long Alloc(string name) => s.Reports.First(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == name).GcStats.GetBytesAllocatedPerOperation(s.Reports.First(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == name).BenchmarkCase) ?? -1;
            long kb = new FileInfo(GeneratorBenchmarks.LargeObject).Length / 1024;
            File.WriteAllText(args[1], string.Create(CultureInfo.InvariantCulture,
                $"generated_kb={cold.GeneratedChars / 1024} cold_ms={coldMs:F0} generate_ms={Median(nameof(GeneratorBenchmarks.Generate)):F2} edit_ms={Median(nameof(GeneratorBenchmarks.UnrelatedEdit)):F3} object_kb={kb} generate_alloc={Alloc(nameof(GeneratorBenchmarks.Generate))} edit_alloc={Alloc(nameof(GeneratorBenchmarks.UnrelatedEdit))}\n"));
            return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
