using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>
/// Incremental behaviour, from the tracked steps (WithTrackingName): an unrelated edit leaves every step Cached or
/// Unchanged; changing one object re-runs that object's steps only, and they report Modified.
/// </summary>
public class IncrementalTests
{
    private static readonly string[] ObjectSteps = { "ObjectInput", "Model", "Check", "Emit" };

    private static GeneratorHarness TwoObjects() => new GeneratorHarness()
        .Add(new BpfItem(DiagnosticsTests.Bpf("exec_snoop.bpf.o"), Types: "event"))
        .Add(new BpfItem(DiagnosticsTests.Bpf("globals.bpf.o")))
        .AddSource("namespace App { public static class Program { public static int Main() => 0; } }")
        .AddSource("""
            using Ebpf.Skeletons;
            [BpfMapTypes("exec_start", Key = typeof(int), Value = typeof(ulong))]
            public partial class ExecSnoopSkeleton { public partial struct Event { public int Pid; } }
            """);

    private static IEnumerable<(string Step, object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorDriver driver)
    {
        var result = driver.GetRunResult().Results.Single();
        foreach (var (name, steps) in result.TrackedSteps)
        {
            if (!OurSteps.Contains(name)) continue;    // Roslyn's own nodes (Compilation, ...) change on every edit
            foreach (var step in steps)
                foreach (var (value, reason) in step.Outputs)
                    yield return (name, value, reason);
        }
    }

    internal static readonly HashSet<string> OurSteps = typeof(SkeletonGenerator).Assembly.GetType("Ebpf.Generator.TrackingNames")!
        .GetFields().Select(f => (string)f.GetValue(null)!).ToHashSet();

    [Fact]
    public void EveryStepIsTracked()
    {
        var h = TwoObjects();
        var driver = h.CreateDriver().RunGenerators(h.CreateCompilation());
        var names = driver.GetRunResult().Results.Single().TrackedSteps.Keys.ToHashSet();
        foreach (var step in new[] { "Files", "ObjectInput", "Model", "KernelBtfList", "CorePreflight", "MapTypeUsages", "AllUsages", "UserStructs", "AllUserStructs", "Check", "Emit", "Duplicates" })
            Assert.Contains(step, names);
    }

    [Fact]
    public void UnrelatedEditLeavesEveryStepCachedOrUnchanged()
    {
        var h = TwoObjects();
        var compilation = h.CreateCompilation();
        var driver = h.CreateDriver().RunGenerators(compilation);

        // Edit the unrelated file, and add another one.
        var tree = compilation.SyntaxTrees.First();
        var edited = compilation
            .ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText("namespace App { public static class Program { public static int Main() => 1; } }", GeneratorHarness.ParseOptions, tree.FilePath))
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App { internal struct Other { public int X; } }", GeneratorHarness.ParseOptions, "/project/Other.cs"));
        driver = driver.RunGenerators(edited);

        var outputs = Outputs(driver).ToList();
        Assert.NotEmpty(outputs);
        var changed = outputs.Where(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)).ToList();
        Assert.True(changed.Count == 0, "steps re-run with new output after an unrelated edit: " + string.Join(", ", changed.Select(c => $"{c.Step}={c.Reason}")));
        // The object path itself was not even re-run.
        foreach (var step in ObjectSteps)
            Assert.All(outputs.Where(o => o.Step == step), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void ChangingOneObjectRegeneratesThatObjectOnly()
    {
        var h = TwoObjects();
        var compilation = h.CreateCompilation();
        var driver = h.CreateDriver().RunGenerators(compilation);

        // globals.bpf.o is rebuilt: same path, different content (maps.bpf.o's bytes; not globals.bpfeb.o, whose
        // skeleton text is the same, so that Emit would rightly report Unchanged).
        var old = driver.GetRunResult();
        var globals = h.Objects[1];
        var oldText = GeneratorHarness.Encode(globals);
        var newItem = globals with { Bytes = File.ReadAllBytes(DiagnosticsTests.Bpf("maps.bpf.o")) };
        driver = ((CSharpGeneratorDriver)driver).ReplaceAdditionalText(
            FindText(driver, h, oldText.Path), GeneratorHarness.Encode(newItem));
        driver = driver.RunGenerators(compilation);

        var outputs = Outputs(driver).ToList();
        foreach (var step in new[] { "Model", "Check", "Emit" })
        {
            var modified = outputs.Where(o => o.Step == step && o.Reason == IncrementalStepRunReason.Modified).ToList();
            Assert.True(modified.Count == 1, $"{step}: " + string.Join(", ", outputs.Where(o => o.Step == step).Select(o => $"{Describe(o.Value)}={o.Reason}")));
            var model = modified[0];
            Assert.Contains(step == "Emit" ? "GlobalsSkeleton" : "globals", Describe(model.Value));
            Assert.All(outputs.Where(o => o.Step == step && o.Reason != IncrementalStepRunReason.Modified),
                o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {o.Reason}"));
            Assert.DoesNotContain(outputs.Where(o => o.Step == step && o.Reason == IncrementalStepRunReason.Modified), o => Describe(o.Value).Contains("exec_snoop"));
        }
        // And the generated text did change.
        var before = old.Results.Single().GeneratedSources.Single(s => s.HintName.StartsWith("GlobalsSkeleton", StringComparison.Ordinal)).SourceText.ToString();
        var after = driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName.StartsWith("GlobalsSkeleton", StringComparison.Ordinal)).SourceText.ToString();
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void ChangingMetadataProducesModified()
    {
        var h = new GeneratorHarness().Add(new BpfItem(DiagnosticsTests.Bpf("exec_snoop.bpf.o")));
        var compilation = h.CreateCompilation();
        var driver = h.CreateDriver().RunGenerators(compilation);
        var (texts, _) = h.BuildAdditionalFiles();
        var options = new TestOptionsProvider(new Dictionary<string, TestOptions> { [texts[0].Path] = GeneratorHarness.OptionsFor(h.Objects[0] with { Types = "event" }) });
        driver = driver.WithUpdatedAnalyzerConfigOptions(options).RunGenerators(compilation);
        var outputs = Outputs(driver).ToList();
        Assert.Contains(outputs, o => o.Step == "Model" && o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(outputs, o => o.Step == "Emit" && o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("public partial struct Event", driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName.Contains("ExecSnoop")).SourceText.ToString());
    }

    [Fact]
    public void EditingTheUserTypeReChecksButKeepsTheObjectPathCached()
    {
        var h = TwoObjects();
        var compilation = h.CreateCompilation();
        var driver = h.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText("""
            using Ebpf.Skeletons;
            [BpfMapTypes("exec_start", Key = typeof(long), Value = typeof(ulong))]
            public partial class ExecSnoopSkeleton { public partial struct Event { public int Pid; } }
            """, GeneratorHarness.ParseOptions, tree.FilePath));
        driver = driver.RunGenerators(edited);
        var outputs = Outputs(driver).ToList();
        Assert.All(outputs.Where(o => o.Step is "ObjectInput" or "Model"), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        Assert.Contains(outputs, o => o.Step == "Check" && o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(driver.GetRunResult().Diagnostics, d => d.Id == "EBPF006");
    }

    private static AdditionalText FindText(GeneratorDriver driver, GeneratorHarness h, string path) => h.Texts.Single(t => t.Path == path);

    private static string Describe(object value) => value switch
    {
        Model.SkeletonResult r => r.Model?.ObjectName ?? "?",
        Model.EmitInput e => e.Model?.ObjectName ?? "?",
        SkeletonGenerator.GeneratedSkeleton g => g.HintName ?? "?",
        _ => value.ToString() ?? string.Empty,
    };
}
