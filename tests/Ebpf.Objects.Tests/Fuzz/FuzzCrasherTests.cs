using System;
using System.Collections.Generic;
using System.IO;
using Ebpf.Fuzz;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Objects.Tests.Fuzz;

/// <summary>
/// Every input a fuzzer found to crash, hang or over-allocate (tests/Ebpf.Fuzz/fuzz.sh copies them to
/// Fuzz/Crashers/TARGET/) is replayed against its target: since the fix, it must end in a typed exception or success,
/// within the time and allocation bounds. Crashers/README.md says what each one was.
/// </summary>
public class FuzzCrasherTests
{
    public static string CrasherRoot => Path.Combine(TestEnvironment.RepoRoot, "tests", "Ebpf.Objects.Tests", "Fuzz", "Crashers");

    public static TheoryData<string, string> Crashers()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in ObjectFuzzTargets.All)
        {
            var dir = Path.Combine(CrasherRoot, target);
            if (!Directory.Exists(dir)) continue;
            var files = Directory.GetFiles(dir, "*.bin");
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var f in files)
                data.Add(target, Path.GetFileName(f));
        }
        if (data.Count == 0)
            data.Add("none", "none");
        return data;
    }

    [Theory]
    [MemberData(nameof(Crashers))]
    public void CrasherEndsInATypedExceptionOrSuccess(string target, string file)
    {
        if (target == "none")
            Assert.Skip("no crashers recorded");
        var bytes = File.ReadAllBytes(Path.Combine(CrasherRoot, target, file));
        FuzzCheck.Run(target, bytes, $"{target}/{file}");
    }

    [Fact]
    public void EveryCrasherIsDescribed()
    {
        var readme = Path.Combine(CrasherRoot, "README.md");
        Assert.True(File.Exists(readme), "Fuzz/Crashers/README.md lists each crasher and the fix");
        string text = File.ReadAllText(readme);
        var missing = new List<string>();
        foreach (var target in ObjectFuzzTargets.All)
        {
            var dir = Path.Combine(CrasherRoot, target);
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.GetFiles(dir, "*.bin"))
            {
                string rel = target + "/" + Path.GetFileName(f);
                if (!text.Contains(rel, StringComparison.Ordinal)) missing.Add(rel);
            }
        }
        Assert.True(missing.Count == 0, "not described in Fuzz/Crashers/README.md: " + string.Join(", ", missing));
    }
}
