using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>
/// Generated code compiles, with warnings as errors and nullable on, against the reference assemblies of net8.0 and
/// net10.0 (Basic.Reference.Assemblies) and the runtime (see <see cref="RuntimeContract"/>).
/// </summary>
public class CompileTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in GoldenTests.BaselineObjects())
            foreach (var tfm in new[] { "net8.0", "net10.0" })
                data.Add(file, tfm);
        return data;
    }

    internal static IReadOnlyList<Diagnostic> Compile(GeneratorHarness harness, string tfm) => Problems(CompileWithGenerated(harness, tfm));

    /// <summary>The user's sources and the generated ones, compiled as a project with warnings as errors compiles them.</summary>
    private static Compilation CompileWithGenerated(GeneratorHarness harness, string tfm)
    {
        var references = RuntimeContract.ReferencesFor(tfm).ToList();
        var compilation = harness.CreateCompilation(references)
            .WithOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error,
                warningLevel: 9999,
                // What the SDK suppresses by default (NoWarn CS1701;CS1702): the net8.0 runtime under net10.0 references.
                specificDiagnosticOptions: new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress }));
        harness.CreateDriver(track: false).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return output;
    }

    private static List<Diagnostic> Problems(Compilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError).ToList();

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net10.0")]
    public void RuntimeDefinesEveryTypeTheEmitterUses(string tfm)
    {
        var probe = CSharpCompilation.Create("probe", references: RuntimeContract.ReferencesFor(tfm));
        var missing = RuntimeContract.TypesTheEmitterUses.Where(t => probe.GetTypeByMetadataName(t) is null).ToList();
        Assert.True(missing.Count == 0, "the runtime lacks: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GeneratedCodeCompiles(string file, string tfm)
    {
        var harness = new GeneratorHarness().Add(GoldenTests.ItemFor(file));
        var diagnostics = Compile(harness, tfm);
        Assert.True(diagnostics.Count == 0, string.Join("\n", diagnostics.Take(20)));
    }

    /// <summary>
    /// A user project with GenerateDocumentationFile (the compiler then checks documentation comments) and warnings as
    /// errors builds with the skeleton in it: no CS1591 for a generated member, no cref the compiler cannot resolve, no
    /// param tag for a parameter that does not exist. The compiler reports CS1591 in auto-generated files too, so this
    /// is the emitter's business.
    /// </summary>
    [Theory]
    [MemberData(nameof(GoldenTests.Objects), MemberType = typeof(GoldenTests))]
    public void GeneratedCodeHasNoDocumentationWarnings(string file)
    {
        var harness = new GeneratorHarness { Parse = GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose) }
            .Add(GoldenTests.ItemFor(file));
        var output = CompileWithGenerated(harness, "net10.0");
        var diagnostics = Problems(output);
        Assert.True(diagnostics.Count == 0, string.Join("\n", diagnostics.Take(20)));

        // The emitted file disables CS1591 as a safety net for what no baseline covers; every member the baselines
        // emit is documented all the same (IntelliSense shows the C declaration each one stands for).
        const string Pragma = "#pragma warning disable CS1591";
        var withoutPragma = output.SyntaxTrees.Select(t => t.WithChangedText(SourceText.From(t.GetText().ToString().Replace(Pragma, "//"))));
        var undocumented = Problems(output.RemoveAllSyntaxTrees().AddSyntaxTrees(withoutPragma));
        Assert.True(undocumented.Count == 0, string.Join("\n", undocumented.Take(20)));
    }

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net10.0")]
    public void SkeletonApiIsUsableAsDocumented(string tfm)
    {
        var harness = new GeneratorHarness()
            .Add(GoldenTests.ItemFor("exec_snoop.bpf.o"))
            .Add(GoldenTests.ItemFor("globals.bpf.o"))
            .Add(GoldenTests.ItemFor("maps.bpf.o"))
            .AddSource(Usage);
        var diagnostics = Compile(harness, tfm);
        Assert.True(diagnostics.Count == 0, string.Join("\n", diagnostics.Take(20)));
    }

    private const string Usage = """
        using System;
        using Ebpf.Tests.Generated;

        internal static class Usage
        {
            public static void Run()
            {
                // Static Load(options) next to the instance Load(): both resolve as documented.
                using var skel = ExecSnoopSkeleton.Load();
                skel.Attach();
                Ebpf.TracepointLink? link = skel.Links.HandleExec;
                Ebpf.TracepointProgram program = skel.Programs.HandleExec;
                Ebpf.BpfHashMap<int, ulong> starts = skel.Maps.ExecStart;
                Ebpf.BpfRingBufferMap rb = skel.Maps.Rb;
                skel.Detach();

                using var staged = ExecSnoopSkeleton.Open();
                staged.Rodata.TargetPid = 42;
                staged.Rodata.MinDurationNs = 1_000_000;
                staged.Load();
                ref ulong unused = ref staged.Bss.UnusedEvent;
                unused = 0;

                var e = default(ExecSnoopSkeleton.Event);
                e.Comm[0] = (byte)'s';
                string comm = e.GetCommString();
                Span<byte> name = e.Filename;
                ReadOnlySpan<byte> record = stackalloc byte[176];
                e = System.Runtime.InteropServices.MemoryMarshal.Read<ExecSnoopSkeleton.Event>(record);
                Console.WriteLine($"{e.Pid} {e.Ppid} {e.ExitCode} {e.DurationNs} {comm} {name.Length} {e.ExitEvent}");

                using var g = GlobalsSkeleton.Open(new ReadOnlyMemory<byte>(new byte[1]), null);
                var cfg = g.Rodata.Cfg;
                cfg.Step = 3;
                g.Rodata.Cfg = cfg;
                var weights = g.Rodata.Weights;
                weights[2] = 7;
                g.Rodata.Weights = weights;
                g.Bss.BssStats.Calls++;
                g.Bss.BssHist[3] = 1;
                g.DataCustom.CustomCounter += 1;
                uint step = g.RodataCustom.CustomStep;
                Console.WriteLine(g.RodataCustom.CustomName.ToString() + step);

                // The README's opensnoop/runqlat-style program: no .Program., no .Entries.
                bool execOnly = false;
                using var top = ExecSnoopSkeleton.Open();
                top.Maps.ExecStart.MaxEntries = 16384;
                top.Programs.HandleExit.Autoload = !execOnly;
                top.Load();
                Ebpf.TracepointLink exec = top.Programs.HandleExec.Attach();
                if (top.Programs.HandleExit.IsLoaded) top.Programs.HandleExit.Attach();
                using var events = top.Maps.Rb.CreateReader();
                using var stop = new System.Threading.CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    while (true)
                        events.Poll((ref readonly ExecSnoopSkeleton.Event ev) => Console.WriteLine($"{ev.Pid,7} {ev.GetCommString()}"),
                                    TimeSpan.FromMilliseconds(500), stop.Token);
                }
                catch (OperationCanceledException) { }
                Console.WriteLine($"{top.Maps.ExecStart.Count} traced processes still running (program id {top.Programs.HandleExec.Id}):");
                foreach (var (pid, startNs) in top.Maps.ExecStart)
                    Console.WriteLine($"{pid,7} started at {startNs} ns");
                Console.WriteLine(exec.Target);

                using var m = MapsSkeleton.Load(new byte[1], new Ebpf.BpfObjectOptions());
                Ebpf.BpfLpmTrieMap<MapsSkeleton.LpmV4Key, uint> lpm = m.Maps.LpmMap;
                Ebpf.BpfHashMap<uint, MapsSkeleton.Stats> stats = m.Maps.StatsMap;
                Ebpf.BpfPerCpuArrayMap<ulong> percpu = m.Maps.PercpuArrayMap;
                Ebpf.BpfStackTraceMap traces = m.Maps.StackTraceMap;
                Console.WriteLine($"{lpm} {stats} {percpu} {traces}");
            }
        }
        """;
}
