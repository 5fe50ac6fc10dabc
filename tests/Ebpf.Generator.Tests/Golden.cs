using System;
using System.IO;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Generator.Tests;

/// <summary>
/// Verify-style golden files without the Verify package: compares with Baselines/NAME.verified.cs; on a difference
/// writes Baselines/NAME.received.cs and fails with the first differing line. EBPF_ACCEPT_BASELINES=1 accepts the
/// received text as the new verified file (review the diff before committing).
/// </summary>
public static class Golden
{
    public static string Directory => Path.Combine(TestEnvironment.RepoRoot, "tests", "Ebpf.Generator.Tests", "Baselines");

    public static bool Accept => Environment.GetEnvironmentVariable("EBPF_ACCEPT_BASELINES") == "1";

    public static void Verify(string name, string actual)
    {
        string verified = Path.Combine(Directory, name + ".verified.cs");
        string received = Path.Combine(Directory, name + ".received.cs");
        if (Accept)
        {
            File.WriteAllText(verified, actual);
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        if (!File.Exists(verified))
        {
            File.WriteAllText(received, actual);
            Assert.Fail($"no baseline {verified}: wrote {received}; review it and rename it to .verified.cs (or run with EBPF_ACCEPT_BASELINES=1)");
        }
        string expected = File.ReadAllText(verified);
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        int line = 0;
        while (line < e.Length && line < a.Length && e[line] == a[line]) line++;
        Assert.Fail($"{name}: generated source differs from {verified} at line {line + 1}:\n  verified: {(line < e.Length ? e[line] : "<end>")}\n  received: {(line < a.Length ? a[line] : "<end>")}\n" +
            $"Wrote {received}; diff them, and accept with EBPF_ACCEPT_BASELINES=1 if the change is intended.");
    }
}
