using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Ebpf.Generator.Emitter;
using Ebpf.Generator.Model;
using Ebpf.Generator.Parser;
using Ebpf.Tests;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>The cookbook's pitfalls: equatable models, no Roslyn objects in them, determinism, cancellation.</summary>
public class ModelTests
{
    private static SkeletonResult Build(string file, string? types = null, CancellationToken ct = default)
    {
        string path = DiagnosticsTests.Bpf(file);
        var options = new SkeletonOptions(path, BpfObjectNameOf(path), "TestSkeleton", "Ns", "res",
            (types ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries).ToImmutableEquatableArray());
        return SkeletonModelBuilder.Build(options, File.ReadAllBytes(path), ct);
    }

    private static string BpfObjectNameOf(string path) => Path.GetFileName(path).Split('.')[0];

    public static TheoryData<string> Objects() => GoldenTests.Objects();

    [Theory]
    [MemberData(nameof(Objects))]
    public void ModelsOfTheSameBytesAreEqual(string file)
    {
        var a = Build(file);
        var b = Build(file);
        Assert.NotSame(a, b);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotNull(a.Model);
        // Every part, record by record.
        Assert.Equal(a.Model!.Maps, b.Model!.Maps);
        Assert.Equal(a.Model.Programs, b.Model.Programs);
        Assert.Equal(a.Model.Sections, b.Model.Sections);
        Assert.Equal(a.Model.Types, b.Model.Types);
        for (int i = 0; i < a.Model.Types.Count; i++)
        {
            Assert.Equal(a.Model.Types[i], b.Model.Types[i]);
            Assert.Equal(a.Model.Types[i].GetHashCode(), b.Model.Types[i].GetHashCode());
        }
    }

    [Fact]
    public void DifferentInputsGiveDifferentModels()
    {
        Assert.NotEqual(Build("globals.bpf.o"), Build("globals.bpfeb.o"));
        Assert.NotEqual(Build("exec_snoop.bpf.o"), Build("exec_snoop.bpf.o", "event"));
        var m = Build("maps.bpf.o").Model!;
        var changed = m with { Maps = m.Maps.Skip(1).ToImmutableEquatableArray() };
        Assert.NotEqual(m, changed);
        var t = m.Types.First();
        Assert.NotEqual(t, t with { Size = t.Size + 1 });
    }

    [Fact]
    public void EquatableArraysAndBytes()
    {
        var a = new[] { "x", "y" }.ToImmutableEquatableArray();
        var b = new List<string> { "x", "y" }.ToImmutableEquatableArray();
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new[] { "y", "x" }.ToImmutableEquatableArray());
        Assert.Equal(ImmutableEquatableArray<string>.Empty, Array.Empty<string>().ToImmutableEquatableArray());
        Assert.Equal(new EquatableBytes(new byte[] { 1, 2, 3 }), new EquatableBytes(new byte[] { 1, 2, 3 }));
        Assert.NotEqual(new EquatableBytes(new byte[] { 1, 2, 3 }), new EquatableBytes(new byte[] { 1, 2, 4 }));
        var d1 = DiagnosticInfo.Create(DiagnosticKind.NoBtf, "/a", "/a");
        Assert.Equal(d1, DiagnosticInfo.Create(DiagnosticKind.NoBtf, "/a", "/a"));
        Assert.NotEqual(d1, DiagnosticInfo.Create(DiagnosticKind.NoBtf, "/b", "/b"));
        Assert.Equal(new LineSpan(1, 2, 3, 4, 5, 6), new LineSpan(1, 2, 3, 4, 5, 6));
    }

    [Fact]
    public void NoRoslynObjectsInAnyPipelineValue()
    {
        // A run that exercises every branch: objects, kernel BTF, attributes, partial structs.
        var h = new GeneratorHarness()
            .Add(new BpfItem(DiagnosticsTests.Bpf("exec_snoop.bpf.o"), Types: "event"))
            .Add(new BpfItem(DiagnosticsTests.Bpf("maps.bpf.o")))
            .AddSource("""
                using Ebpf.Skeletons;
                [BpfMapTypes("exec_start", Key = typeof(int), Value = typeof(ulong))]
                [BpfRingBufferEvent("rb", typeof(ExecSnoopSkeleton.Event))]
                public partial class ExecSnoopSkeleton { public partial struct Event { public int Pid; } }
                """);
        string kernel = DiagnosticsTests.KernelBtf("6.1.0-56-amd64.btf.gz");
        h.KernelBtfs.Add((kernel, File.ReadAllBytes(kernel), null));
        var driver = h.CreateDriver().RunGenerators(h.CreateCompilation());
        var result = driver.GetRunResult().Results.Single();
        int walked = 0;
        foreach (var (name, steps) in result.TrackedSteps)
        {
            if (!IncrementalTests.OurSteps.Contains(name)) continue;    // Roslyn's own nodes
            foreach (var step in steps)
                foreach (var (value, _) in step.Outputs)
                    walked += Walk(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance), 0);
        }
        Assert.True(walked > 100);
    }

    private static readonly Type[] Forbidden =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(Compilation), typeof(SemanticModel),
        typeof(SourceText), typeof(AdditionalText), typeof(AttributeData), typeof(SyntaxToken),
    };

    private static int Walk(object? value, string path, HashSet<object> seen, int depth)
    {
        if (value is null || depth > 64) return 0;
        var type = value.GetType();
        foreach (var f in Forbidden)
            Assert.False(f.IsAssignableFrom(type), $"{path} holds a {type.FullName} ({f.Name})");
        if (type.IsPrimitive || type.IsEnum || value is string || value is decimal) return 1;
        if (!type.IsValueType && !seen.Add(value)) return 0;
        // The object layer (parsed kernel BTF kept by its step) has no Roslyn reference by construction.
        string ns = type.Namespace ?? string.Empty;
        if ((ns.StartsWith("Ebpf.", StringComparison.Ordinal) && !ns.StartsWith("Ebpf.Generator", StringComparison.Ordinal)) || type == typeof(byte[]) || type == typeof(int[]))
            return 1;
        int count = 1;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(System.Collections.Immutable.ImmutableArray<>)
            && (bool)type.GetProperty("IsDefault")!.GetValue(value)!)
            return count;
        if (value is IEnumerable e && value is not string)
        {
            int i = 0;
            foreach (var item in e)
                count += Walk(item, $"{path}[{i++}]", seen, depth + 1);
        }
        for (var t = type; t != null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer) continue;
                count += Walk(field.GetValue(value), path + "." + field.Name, seen, depth + 1);
            }
        }
        return count;
    }

    [Fact]
    public void GenerationIsDeterministic()
    {
        foreach (var path in TestEnvironment.AllBpfObjects())
        {
            var item = GoldenTests.ItemFor(Path.GetFileName(path));
            string first = new GeneratorHarness().Add(item).Run().SingleSource;
            string second = new GeneratorHarness().Add(item).Run().SingleSource;
            Assert.Equal(first, second);
            Assert.DoesNotContain("\r", first);
        }
        // The Roslyn-free path gives the very same text.
        var r = Build("exec_snoop.bpf.o", "event");
        Assert.Equal(SkeletonEmitter.Emit(r.Model!), SkeletonEmitter.Emit(Build("exec_snoop.bpf.o", "event").Model!));
    }

    [Fact]
    public void PreCancelledTokenThrows()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => Build("large.bpf.o", ct: cts.Token));
        var h = new GeneratorHarness().Add(new BpfItem(DiagnosticsTests.Bpf("large.bpf.o")));
        var driver = h.CreateDriver();
        Assert.ThrowsAny<OperationCanceledException>(() => driver.RunGenerators(h.CreateCompilation(), cts.Token));
    }

    [Fact]
    public void NamingRules()
    {
        Assert.Equal("ExitCode", CSharpNames.ToPascalCase("exit_code"));
        Assert.Equal("DataLocFilename", CSharpNames.ToPascalCase("__data_loc_filename"));
        Assert.Equal("TaskRunning", CSharpNames.ToPascalCase("TASK_RUNNING"));
        Assert.Equal("DataCustom", CSharpNames.ToPascalCase(".data.custom"));
        Assert.Equal("_1x", CSharpNames.ToPascalCase("_1x"));
        Assert.Equal("ExecSnoopSkeleton", CSharpNames.SkeletonClassName("exec_snoop"));
        Assert.Equal("@event", CSharpNames.Escape("event"));
        Assert.Equal("My.@class", CSharpNames.NormalizeNamespace("My.class"));
        Assert.Null(CSharpNames.NormalizeNamespace("My..Ns"));
        Assert.Equal("char comm[16]", CSharpNames.Declaration("char[16]", "comm"));
        Assert.Equal("struct event *e", CSharpNames.Declaration("struct event *", "e"));
    }

    [Fact]
    public void DiagnosticTableInTheReadmeIsCurrent()
    {
        // The README's table is generated from the catalog: regenerate with EBPF_ACCEPT_BASELINES=1.
        var lines = new List<string> { "| ID | Severity | Title | Message |", "| --- | --- | --- | --- |" };
        foreach (var k in DiagnosticKind.All)
            lines.Add($"| {k.Id} | {(k.Level == DiagnosticLevel.Error ? "Error" : "Warning")} | {k.Title} | {k.MessageFormat.Replace("|", "\\|")} |");
        string table = string.Join("\n", lines) + "\n";
        string file = Path.Combine(TestEnvironment.RepoRoot, "src", "Ebpf.Generator", "DIAGNOSTICS.md");
        string header = "# Ebpf.Generator diagnostics\n\nStable ids; {0}, {1}, ... are filled in per diagnostic. Generated from `DiagnosticKind.All` (ModelTests.DiagnosticTableInTheReadmeIsCurrent).\n\n";
        if (Golden.Accept || !File.Exists(file))
            File.WriteAllText(file, header + table);
        Assert.Equal(header + table, File.ReadAllText(file));
    }
}
