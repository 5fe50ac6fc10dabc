using System;
using System.IO;
using BenchmarkDotNet.Running;
using Ebpf.Benchmarks.Compare;

namespace Ebpf.Benchmarks;

/// <summary>
/// <c>compare [options]</c>: ours vs libbpf side by side (see run-compare.sh);
/// <c>bdn [BenchmarkDotNet options]</c>: the micro-benchmarks, e.g. <c>bdn --filter '*Btf*' --inProcess</c>.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "compare")
            return CompareDriver.Run(args[1..]);
        if (args.Length > 2 && args[0] == "ours")
        {
            // ours METRIC SAMPLES: our side only, for profilers (perf record, dotnet-trace); prints the median ns.
            using var ours = new OurSide(Path.Combine(Paths.RepoRoot, "bpf", "bench.bpf.o"));
            int n = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
            var xs = new double[n];
            for (int i = 0; i < n; i++)
            {
                xs[i] = ours.RunSample(args[1]);
                if (ours.LastDrainAllocatedBytes > 0) // a drain metric that allocated: say which sample and how much
                    Console.WriteLine($"sample {i}: {ours.LastDrainAllocatedBytes} B allocated over {ours.LastDrainEvents} events");
            }
            Console.WriteLine($"{args[1]}: median {CompareDriver.Median(xs):F0} ns over {n} samples");
            return 0;
        }
        if (args.Length > 0 && args[0] == "bdn")
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..]);
            return 0;
        }
        Console.Error.WriteLine("usage: Ebpf.Benchmarks compare [--rounds N] [--metrics a,b] [--twin exe] [--no-control] [--cold-ours exe --cold-twin exe]\n" +
                                "                  [--sample-ours exe --sample-twin exe --sample-object file] [--generator-summary file] [--output file]\n" +
                                "       Ebpf.Benchmarks ours METRIC SAMPLES   (our side only, for profilers)\n" +
                                "       Ebpf.Benchmarks bdn [BenchmarkDotNet arguments, e.g. --filter '*' --inProcess]");
        return 2;
    }
}
