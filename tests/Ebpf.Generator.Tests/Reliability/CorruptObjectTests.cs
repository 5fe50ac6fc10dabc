using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Ebpf.Generator.Tests.Reliability;

/// <summary>
/// Corrupt objects through the generator driver (as the build runs it): the generator reports diagnostics, and never
/// throws (a generator exception surfaces as CS8785 and as the run result's Exception). Deterministic mutants: bit
/// flips, interesting values in random words, truncations, chunk copies; fixed seed per object.
/// </summary>
public class CorruptObjectTests
{
    private const int MutantsPerObject = 25;

    public static TheoryData<string> Objects() => new TheoryData<string>(
        "globals", "maps", "exec_snoop", "core_types", "calls", "map_in_map", "externs", "attach_kprobe");

    private static readonly uint[] Interesting = { 0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff };

    [Theory]
    [MemberData(nameof(Objects))]
    public void CorruptObjectsGiveDiagnosticsNotExceptions(string name)
    {
        var original = File.ReadAllBytes(TestEnvironment.Bpf(name));
        uint seed = 2166136261;
        foreach (char ch in name) seed = (seed ^ ch) * 16777619;
        var rng = new Random((int)seed);
        // The unmutated object generates a skeleton: the mutants below really reach the generator.
        var baseline = new GeneratorHarness().Add(new BpfItem(Path.Combine(Path.GetTempPath(), name + ".bpf.o"), Bytes: original))
            .Run(References.Net100WithRuntime, TestContext.Current.CancellationToken);
        Assert.NotEmpty(baseline.Sources);
        var failures = new List<string>();
        int withDiagnostics = 0;
        for (int i = 0; i < MutantsPerObject; i++)
        {
            var bytes = Mutate(original, rng, out string how);
            var item = new BpfItem(Path.Combine(Path.GetTempPath(), name + ".bpf.o"), Bytes: bytes);
            GeneratorRun run;
            try
            {
                run = new GeneratorHarness().Add(item).Run(References.Net100WithRuntime, TestContext.Current.CancellationToken);
            }
            catch (Exception e)
            {
                failures.Add($"mutant #{i} ({how}): the driver threw {e.GetType().Name}: {e.Message}");
                continue;
            }
            foreach (var r in run.Result.Results)
                if (r.Exception != null)
                    failures.Add($"mutant #{i} ({how}): the generator threw {r.Exception}");
            foreach (var d in run.Diagnostics.Concat(run.GeneratorDiagnostics))
                if (d.Id is "CS8785" or "CS8784")
                    failures.Add($"mutant #{i} ({how}): {d}");
            if (!run.GeneratorDiagnostics.IsEmpty) withDiagnostics++;
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{name}: {MutantsPerObject} mutants, {withDiagnostics} reported diagnostics");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static byte[] Mutate(byte[] original, Random rng, out string how)
    {
        var d = (byte[])original.Clone();
        var what = new List<string>();
        int ops = 1 + rng.Next(3);
        for (int k = 0; k < ops && d.Length > 8; k++)
        {
            switch (rng.Next(4))
            {
                case 0:
                {
                    int bit = rng.Next(d.Length * 8);
                    d[bit / 8] ^= (byte)(1 << (bit % 8));
                    what.Add($"flip bit {bit}");
                    break;
                }
                case 1:
                {
                    int o = rng.Next(d.Length - 3) & ~3;
                    uint v = Interesting[rng.Next(Interesting.Length)];
                    BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(o), v);
                    what.Add($"u32 at {o} = 0x{v:x}");
                    break;
                }
                case 2:
                {
                    int len = rng.Next(d.Length);
                    d = d.AsSpan(0, len).ToArray();
                    what.Add($"truncate to {len}");
                    break;
                }
                default:
                {
                    int n = 1 + rng.Next(Math.Min(64, d.Length));
                    int from = rng.Next(d.Length - n + 1), to = rng.Next(d.Length - n + 1);
                    Buffer.BlockCopy(d, from, d, to, n);
                    what.Add($"copy {n} bytes {from} -> {to}");
                    break;
                }
            }
        }
        how = string.Join("; ", what);
        return d;
    }
}
