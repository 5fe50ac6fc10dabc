using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>One baseline per object in bpf/ (data-driven: objects added to bpf/ need a baseline, removed ones fail).</summary>
public class GoldenTests
{
    /// <summary>Extra BTF types to generate for some objects (their ring-buffer event structs).</summary>
    internal static readonly Dictionary<string, string> ExtraTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["exec_snoop"] = "event",
        ["hardcoded"] = "comm_event",
        ["core_comm"] = "comm_event",
    };

    public static string BaselineName(string path)
    {
        string file = Path.GetFileName(path);
        return file.EndsWith(".bpf.o", StringComparison.Ordinal) ? file[..^".bpf.o".Length] : Path.GetFileNameWithoutExtension(file);
    }

    /// <summary>
    /// Objects in bpf/ subdirectories that have a baseline too: one program per section-table row (every program
    /// wrapper the generator can choose) and the libbpf-fidelity objects (the untyped skeleton of an object without BTF).
    /// </summary>
    internal static readonly string[] SubdirectoryObjects =
    {
        "rows/section_rows.bpf.o", "fidelity/kconfig_virtual.bpf.o", "fidelity/nobtf_globals.bpf.o",
    };

    internal static IEnumerable<string> BaselineObjects() =>
        TestEnvironment.AllBpfObjects().Select(p => Path.GetFileName(p)!).Concat(SubdirectoryObjects);

    public static TheoryData<string> Objects()
    {
        var data = new TheoryData<string>();
        foreach (var file in BaselineObjects())
            data.Add(file);
        return data;
    }

    internal static BpfItem ItemFor(string file)
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, "bpf", file);
        string name = BaselineName(path);
        ExtraTypes.TryGetValue(name, out var types);
        return new BpfItem(path, Namespace: "Ebpf.Tests.Generated", Types: types);
    }

    [Theory]
    [MemberData(nameof(Objects))]
    public void Baseline(string file)
    {
        var run = new GeneratorHarness().Add(ItemFor(file)).Run();
        Assert.Empty(run.GeneratorDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        Golden.Verify(BaselineName(file), run.SingleSource);
    }

    [Fact]
    public void EveryBaselineHasAnObject()
    {
        var names = BaselineObjects().Select(BaselineName).ToHashSet(StringComparer.Ordinal);
        var stale = System.IO.Directory.GetFiles(Golden.Directory, "*.verified.cs")
            .Select(f => Path.GetFileName(f)[..^".verified.cs".Length])
            .Where(n => !names.Contains(n) && !n.StartsWith("scenario.", StringComparison.Ordinal))
            .ToList();
        Assert.True(stale.Count == 0, "baselines without an object in bpf/ (delete them): " + string.Join(", ", stale));
    }
}
