using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace Ebpf.Benchmarks.Compare;

/// <summary>How a metric is reported.</summary>
internal enum MetricKind
{
    /// <summary>Lower is better; ratio = ours / libbpf.</summary>
    Time,
    /// <summary>Higher is better; ratio = ours / libbpf throughput.</summary>
    Throughput,
}

internal sealed record Metric(string Name, string Label, MetricKind Kind, double Target, int Samples, double OpsPerSample = 1, string Unit = "ops/s", string? TwinName = null, bool Informational = false);

/// <summary>
/// Runs our runtime (in this process) and libbpf (libbpf_twin, a long-lived child process) on the same object,
/// alternating the two sides metric by metric and round by round (the side that goes first alternates too), and
/// prints a markdown table of medians and ratios.
/// </summary>
internal static class CompareDriver
{
    private static readonly Metric[] s_metrics =
    {
        new("btf_parse", "parse the running kernel's BTF (ours: mmap, kernel 6.16+; libbpf 1.1: fread)", MetricKind.Time, 1.0, 10),
        new("btf_parse_read", "parse the running kernel's BTF, ours reading it with read(2) like libbpf 1.1", MetricKind.Time, 1.0, 10, TwinName: "btf_parse", Informational: true),
        new("open_load_cold", "open + load, small maps, CO-RE (kernel BTF parsed in the load, both sides)", MetricKind.Time, 1.0, 6, TwinName: "open_load"),
        new("open_load", "open + load, small maps, CO-RE (ours: kernel BTF cached per process; libbpf re-parses)", MetricKind.Time, 1.0, 6, Informational: true),
        new("attach_detach", "attach + detach a tracepoint", MetricKind.Time, 1.1, 6),
        new("hash_update", "hash update, 1 syscall/op", MetricKind.Throughput, 0.98, 12, OurSide.MapEntries),
        new("hash_lookup", "hash lookup, 1 syscall/op", MetricKind.Throughput, 0.98, 12, OurSide.MapEntries),
        new("hash_delete", "hash delete, 1 syscall/op", MetricKind.Throughput, 0.98, 12, OurSide.MapEntries),
        new("array_update", "array update, 1 syscall/op", MetricKind.Throughput, 0.98, 12, OurSide.MapEntries),
        new("array_lookup", "array lookup, 1 syscall/op", MetricKind.Throughput, 0.98, 12, OurSide.MapEntries),
        new("hash_batch", "hash batch lookup, 4096/call", MetricKind.Throughput, 0.98, 10, OurSide.MapEntries, "elems/s"),
        new("array_batch", "array batch lookup, 4096/call", MetricKind.Throughput, 0.98, 10, OurSide.MapEntries, "elems/s"),
        new("rb_drain_16", "ring-buffer drain, 16 B events", MetricKind.Throughput, 1.0, 6, OurSide.Rb16Events * OurSide.RbDrainsPerSample, "events/s"),
        new("rb_drain_256", "ring-buffer drain, 256 B events", MetricKind.Throughput, 1.0, 12, OurSide.Rb256Events * OurSide.RbDrainsPerSample, "events/s"),
        new("pb_drain_16", "perf-buffer drain, 16 B events, all CPUs", MetricKind.Throughput, 1.0, 6, (double)OurSide.Pb16EventsPerCpu * OurSide.PerfCpus * OurSide.RbDrainsPerSample, "events/s"),
        new("pb_drain_256", "perf-buffer drain, 256 B events, all CPUs", MetricKind.Throughput, 1.0, 12, (double)OurSide.Pb256EventsPerCpu * OurSide.PerfCpus * OurSide.RbDrainsPerSample, "events/s"),
    };

    private sealed class Series
    {
        public readonly List<double> Ours = new();
        public readonly List<double> Twin = new();
        public readonly List<double> RoundRatios = new();
        public readonly List<int> Round = new(); // the round of each pair (per-round medians show the spread over rounds)
        public readonly List<double> Control = new();
        public string? Error;
    }

    public static int Run(string[] args)
    {
        var opt = Options.Parse(args);
        if (!File.Exists(opt.Object)) { Console.Error.WriteLine($"object not found: {opt.Object}"); return 2; }
        if (!File.Exists(opt.Twin)) { Console.Error.WriteLine($"libbpf twin not found: {opt.Twin} (make -C tests/Ebpf.Benchmarks/Compare)"); return 2; }

        var metrics = s_metrics.Where(m => opt.Metrics == null || opt.Metrics.Contains(m.Name)).ToArray();
        var results = new Dictionary<string, Series>();
        foreach (var m in metrics) results[m.Name] = new Series();
        var alloc = new DrainAllocations();

        var started = Stopwatch.StartNew();
        double loadStart = ExecStorm.ReadLoad1();
        using var twin = new TwinProcess(opt.Twin, opt.Object);
        using var control = opt.Control ? new TwinProcess(opt.Twin, opt.Object, idleThread: true) : null;
        using var ours = new OurSide(opt.Object);
        // flushed per line: the samples of an interrupted run stay usable
        using var raw = opt.Raw != null ? new StreamWriter(opt.Raw) { AutoFlush = true } : null;
        raw?.WriteLine("metric,round,sample,ours_ns,libbpf_ns,libbpf_idle_thread_ns");
        Console.Error.WriteLine($"[compare] {twin.Version}; {opt.Rounds} rounds (+{opt.Warmup} warm-up) over {metrics.Length} metrics");

        int total = opt.Warmup + opt.Rounds;
        for (int round = 0; round < total; round++)
        {
            bool warm = round < opt.Warmup;
            var sw = Stopwatch.StartNew();
            foreach (var m in metrics)
            {
                var s = results[m.Name];
                if (s.Error != null) continue;
                int n = Math.Max(1, (int)Math.Round(m.Samples * opt.SampleScale));
                try
                {
                    // Sample by sample: ours, libbpf (and the control), the order rotating every pair, so that bursts
                    // of load from other processes hit both sides alike; each pair gives one ratio.
                    bool withControl = control != null && IsMapOp(m.Name);
                    for (int i = 0; i < n; i++)
                    {
                        double o = 0, t = 0, c = 0;
                        int sides = withControl ? 3 : 2;
                        for (int j = 0; j < sides; j++)
                        {
                            switch ((j + i + round) % sides)
                            {
                                case 0: o = RunOurs(ours, m.Name, 1, warm ? null : alloc)[0]; break;
                                case 1: t = twin.Run(m.TwinName ?? m.Name, 1)[0]; break;
                                default: c = control!.Run(m.Name, 1)[0]; break;
                            }
                        }
                        if (warm) continue;
                        raw?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Name},{round - opt.Warmup},{i},{o},{t},{(withControl ? c.ToString(CultureInfo.InvariantCulture) : string.Empty)}"));
                        s.Ours.Add(o);
                        s.Twin.Add(t);
                        if (withControl) s.Control.Add(c);
                        s.RoundRatios.Add(Ratio(m, o, t));
                        s.Round.Add(round);
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    s.Error = e.Message;
                    Console.Error.WriteLine($"[compare] {m.Name}: {e.GetType().Name}: {e.Message}");
                }
            }
            Console.Error.WriteLine($"[compare] round {round + 1}/{total}{(warm ? " (warm-up)" : string.Empty)} {sw.Elapsed.TotalSeconds:F1}s{(warm ? string.Empty : RoundSummary(metrics, results, round))}");
        }

        ColdStartResult? cold = null, sample = null;
        if (opt.ColdRuns > 0 && opt.SampleOurs != null && opt.SampleTwin != null && opt.SampleObject != null)
            sample = ColdStart.RunSample(opt.SampleOurs, opt.SampleTwin, opt.SampleObject, opt.ColdRuns);
        if (opt.ColdRuns > 0 && opt.ColdOurs != null && opt.ColdTwin != null)
            cold = ColdStart.Run(opt.ColdOurs, opt.ColdTwin, opt.Object, opt.ColdRuns);
        List<StormRun>? storm = null;
        if (opt.StormRounds > 0 && opt.StormGenerator != null && opt.StormChild != null && opt.SampleOurs != null && opt.SampleTwin != null && opt.SampleObject != null)
            storm = ExecStorm.Run(opt.SampleOurs, opt.SampleTwin, opt.SampleObject, opt.StormGenerator, opt.StormChild, opt.StormRates, opt.StormSeconds, opt.StormRounds, opt.StormWorkers);
        double loadEnd = ExecStorm.ReadLoad1();

        var sb = new StringBuilder();
        sb.Append(Machine.Describe(twin.Version)).Append(CultureInfo.InvariantCulture, $"Load average (1 min): {loadStart:F1} at the start, {loadEnd:F1} at the end; the run took {started.Elapsed.TotalMinutes:F1} min.\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"{opt.Rounds} rounds; in each, every metric runs sample by sample, ours and libbpf in turn (who goes first rotates). ours and libbpf: medians of all samples. ratio: median of the per-pair ratios (ours / libbpf for times, ours / libbpf for throughputs, so ≤ target for times and ≥ target for throughputs is good), in brackets their 25th–75th percentiles; per round: the lowest and highest of the rounds' own medians.\n\n");
        sb.Append("| metric | ours | libbpf | ratio | per round | target | met? |\n");
        sb.Append("| --- | ---: | ---: | ---: | ---: | --- | --- |\n");
        foreach (var m in metrics)
        {
            var s = results[m.Name];
            if (IsMapOp(m.Name) && s.Control.Count > 0)
                continue; // in the map table below, against the control
            string target = m.Informational ? "(info)" : IsMapOp(m.Name) ? "(control not run)" : (m.Kind == MetricKind.Time ? "≤ " : "≥ ") + m.Target.ToString("0.0#", CultureInfo.InvariantCulture);
            if (s.Error != null || s.Ours.Count == 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| {m.Label} | not measured: {s.Error ?? "no samples"} | | | | {target} | — |\n");
                continue;
            }
            double mo = Median(s.Ours), mt = Median(s.Twin);
            var rr = s.RoundRatios.OrderBy(x => x).ToArray();
            double ratio = Percentile(rr, 0.5);
            bool met = m.Kind == MetricKind.Time ? ratio <= m.Target : ratio >= m.Target;
            bool judged = !m.Informational && !IsMapOp(m.Name);
            sb.Append(CultureInfo.InvariantCulture, $"| {m.Label} | {Format(m, mo)} | {Format(m, mt)} | {ratio:F3} [{Percentile(rr, 0.25):F2}–{Percentile(rr, 0.75):F2}] | {RoundRange(s.RoundRatios, s.Round)} | {target} | {(!judged ? "—" : met ? "yes" : "**no**")} |\n");
        }
        foreach (var (family, label) in new[] { ("rb", "ring-buffer"), ("pb", "perf-buffer") })
        {
            if (!alloc.Worst.TryGetValue(family, out long worst)) continue;
            sb.Append(CultureInfo.InvariantCulture, $"| {label} drain: bytes allocated per event (worst measured drain, warm-up excluded; GC.GetAllocatedBytesForCurrentThread, {alloc.Events[family]:N0} events) | {worst} | (malloc-free) | | | 0 | {(worst == 0 ? "yes" : "**no**")} |\n");
        }
        if (sample != null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| cold start of the Native AOT sample (sample-app, execsnoop) to \"attached\" vs its libbpf twin, {sample.Runs} runs each | {sample.OursMs:F1} ms | {sample.TwinMs:F1} ms | {sample.OursMs / sample.TwinMs:F2} | | ≤ 1.5 | {(sample.OursMs / sample.TwinMs <= 1.5 ? "yes" : "**no**")} |\n");
            sb.Append(CultureInfo.InvariantCulture, $"| peak RSS of the sample at \"attached\" (VmHWM) | {sample.OursKb / 1024.0:F1} MiB | {sample.TwinKb / 1024.0:F1} MiB | {sample.OursKb / sample.TwinKb:F2} | | ≤ 1.5 | {(sample.OursKb / sample.TwinKb <= 1.5 ? "yes" : "**no**")} |\n");
        }
        if (cold != null)
        {
            string t = sample != null ? "(info)" : "≤ 1.5";
            bool info = sample != null;
            sb.Append(CultureInfo.InvariantCulture, $"| cold start of a minimal AOT app on bench.bpf.o (ColdStart/) to \"attached\" vs C, {cold.Runs} runs each | {cold.OursMs:F1} ms | {cold.TwinMs:F1} ms | {cold.OursMs / cold.TwinMs:F2} | | {t} | {(info ? "—" : cold.OursMs / cold.TwinMs <= 1.5 ? "yes" : "**no**")} |\n");
            sb.Append(CultureInfo.InvariantCulture, $"| its peak RSS at \"attached\" (VmHWM) | {cold.OursKb / 1024.0:F1} MiB | {cold.TwinKb / 1024.0:F1} MiB | {cold.OursKb / cold.TwinKb:F2} | | {t} | {(info ? "—" : cold.OursKb / cold.TwinKb <= 1.5 ? "yes" : "**no**")} |\n");
        }
        if (opt.GeneratorSummary != null && File.Exists(opt.GeneratorSummary))
        {
            var kv = File.ReadAllText(opt.GeneratorSummary).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)
                .Select(x => x.Split('=')).Where(x => x.Length == 2).ToDictionary(x => x[0], x => double.Parse(x[1], CultureInfo.InvariantCulture));
            double gen = kv.GetValueOrDefault("generate_ms", double.NaN), edit = kv.GetValueOrDefault("edit_ms", double.NaN);
            sb.Append(CultureInfo.InvariantCulture, $"| generator: bpf/large.bpf.o ({kv.GetValueOrDefault("object_kb")} KiB, -g) to its skeleton ({kv.GetValueOrDefault("generated_kb")} KiB of C#), warm (BenchmarkDotNet median) | {gen:F1} ms | (bpftool gen skeleton: not compared) | | | ≤ 100 ms | {(gen <= 100 ? "yes" : "**no**")} |\n");
            if (kv.TryGetValue("cold_ms", out double coldGen))
                sb.Append(CultureInfo.InvariantCulture, $"| generator: the same, first run in a fresh process (JIT included) | {coldGen:F0} ms | | | | (info) | — |\n");
            sb.Append(CultureInfo.InvariantCulture, $"| generator: rerun after an unrelated edit (all steps cached) | {edit * 1000:F0} µs | | | | ≈ 0 | {(edit < 1 ? "yes" : "**no**")} |\n");
        }
        if (control != null && metrics.Any(m => results[m.Name].Control.Count > 0))
        {
            sb.Append("\nSingle-syscall map operations, against libbpf's twin and, as the target, against the same twin started with one idle thread (same run, the three sides alternating sample by sample). Every .NET process has several threads; once a process has more than one, the kernel's fdget() takes a reference on the file at every bpf(2) call (and fput() drops it) instead of borrowing it, so the multi-threaded twin is the like-for-like reference. Ratios: medians of per-sample ratios, in brackets their 25th–75th percentiles; per round: the lowest and highest of the rounds' own medians of the target ratio.\n\n");
            sb.Append("| metric | ours | libbpf | libbpf + 1 idle thread | ours / libbpf | libbpf + 1 idle thread / libbpf | ours / (libbpf + 1 idle thread) | per round | target | met? |\n");
            sb.Append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n");
            foreach (var m in metrics)
            {
                var s = results[m.Name];
                if (s.Control.Count == 0 || s.Twin.Count == 0) continue;
                var ot = new List<double>(); var ct = new List<double>(); var oc = new List<double>();
                for (int i = 0; i < s.Control.Count; i++)
                {
                    ot.Add(Ratio(m, s.Ours[i], s.Twin[i]));
                    ct.Add(Ratio(m, s.Control[i], s.Twin[i]));
                    oc.Add(Ratio(m, s.Ours[i], s.Control[i]));
                }
                var ots = ot.OrderBy(x => x).ToArray(); var ocs = oc.OrderBy(x => x).ToArray();
                double target = Percentile(ocs, 0.5);
                sb.Append(CultureInfo.InvariantCulture, $"| {m.Label} | {Format(m, Median(s.Ours))} | {Format(m, Median(s.Twin))} | {Format(m, Median(s.Control))} | {Percentile(ots, 0.5):F3} [{Percentile(ots, 0.25):F2}–{Percentile(ots, 0.75):F2}] | {Median(ct):F3} | {target:F3} [{Percentile(ocs, 0.25):F2}–{Percentile(ocs, 0.75):F2}] | {RoundRange(oc, s.Round)} | ≥ {m.Target:0.00#} | {(target >= m.Target ? "yes" : "**no**")} |\n");
            }
        }
        if (storm != null && storm.Count > 0)
            sb.Append(ExecStorm.Describe(storm, opt.StormSeconds, opt.StormWorkers));
        string table = sb.ToString();
        Console.Out.Write(table);
        if (opt.Output != null)
            File.WriteAllText(opt.Output, table);
        return 0;
    }

    /// <summary>Per drain family ("rb", "pb"): the worst bytes allocated per event of any drain, and the events seen.</summary>
    private sealed class DrainAllocations
    {
        public readonly Dictionary<string, long> Worst = new();
        public readonly Dictionary<string, long> Events = new();
    }

    private static double[] RunOurs(OurSide ours, string metric, int n, DrainAllocations? alloc)
    {
        var r = new double[n];
        for (int i = 0; i < n; i++)
        {
            r[i] = ours.RunSample(metric);
            if (metric.Contains("_drain_", StringComparison.Ordinal) && ours.LastDrainEvents > 0)
            {
                if (ours.LastDrainAllocatedBytes > 0) // which drain allocated, and how much (a one-time allocation or one per event)
                    Console.Error.WriteLine($"[compare] {metric}: sample {i} of this batch allocated {ours.LastDrainAllocatedBytes} B over {ours.LastDrainEvents} events");
                if (alloc == null) continue; // a warm-up drain: reported above, not counted (one-time JIT tier-up and class initialization happen here)
                long per = (ours.LastDrainAllocatedBytes + ours.LastDrainEvents - 1) / ours.LastDrainEvents;
                if (ours.LastDrainAllocatedBytes > 0 && per == 0) per = 1;
                string family = metric[..2];
                alloc.Events[family] = alloc.Events.GetValueOrDefault(family) + ours.LastDrainEvents;
                alloc.Worst[family] = Math.Max(alloc.Worst.GetValueOrDefault(family), per);
            }
        }
        return r;
    }

    /// <summary>The lowest and highest per-round median of <paramref name="ratios"/> ("0.97–1.05"), or "—" with one round.</summary>
    private static string RoundRange(List<double> ratios, List<int> rounds)
    {
        var medians = ratios.Zip(rounds).GroupBy(x => x.Second).Select(g => Median(g.Select(x => x.First).ToArray())).ToArray();
        return medians.Length < 2 ? "—" : string.Create(CultureInfo.InvariantCulture, $"{medians.Min():F2}–{medians.Max():F2}");
    }

    /// <summary>The round's median ratio per judged metric, for the progress line (a long run shows where it is heading).</summary>
    private static string RoundSummary(Metric[] metrics, Dictionary<string, Series> results, int round)
    {
        var sb = new StringBuilder();
        foreach (var m in metrics)
        {
            var s = results[m.Name];
            var r = s.RoundRatios.Where((_, i) => s.Round[i] == round).ToArray();
            if (r.Length > 0 && !m.Informational)
                sb.Append(CultureInfo.InvariantCulture, $" {m.Name} {Median(r):F2}");
        }
        return sb.Length == 0 ? string.Empty : ";" + sb;
    }

    private static bool IsMapOp(string name) => name.StartsWith("hash_", StringComparison.Ordinal) || name.StartsWith("array_", StringComparison.Ordinal);

    private static double Ratio(Metric m, double oursNs, double twinNs) =>
        m.Kind == MetricKind.Time ? oursNs / twinNs : twinNs / oursNs;

    private static string Format(Metric m, double ns)
    {
        if (m.Kind == MetricKind.Time)
            return ns >= 1e6 ? $"{ns / 1e6:F2} ms" : $"{ns / 1e3:F1} µs";
        double perSec = m.OpsPerSample / (ns / 1e9);
        return perSec >= 1e6 ? $"{perSec / 1e6:F2} M {m.Unit}" : $"{perSec / 1e3:F0} k {m.Unit}";
    }

    internal static double Median(IReadOnlyList<double> xs)
    {
        var a = xs.OrderBy(x => x).ToArray();
        return Percentile(a, 0.5);
    }

    private static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        double pos = p * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    private sealed class Options
    {
        public string Object = "";
        public string Twin = "";
        public string? ColdOurs, ColdTwin, Output, GeneratorSummary, SampleOurs, SampleTwin, SampleObject, StormGenerator, StormChild, Raw;
        public int Rounds = 20, Warmup = 2, ColdRuns = 30, StormRounds = 2, StormWorkers = 2 * Environment.ProcessorCount;
        public double StormSeconds = 5;
        public double[] StormRates = { 1000, 2000, 4000, 0 };
        public bool Control = true;
        public double SampleScale = 1;
        public HashSet<string>? Metrics;

        public static Options Parse(string[] args)
        {
            var o = new Options();
            string root = Paths.RepoRoot;
            o.Object = Path.Combine(root, "bpf", "bench.bpf.o");
            o.Twin = Path.Combine(root, "tests", "Ebpf.Benchmarks", "Compare", "out", "libbpf_twin");
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
                switch (a)
                {
                    case "--object": o.Object = Next(); break;
                    case "--twin": o.Twin = Next(); break;
                    case "--rounds": o.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--warmup": o.Warmup = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--samples-scale": o.SampleScale = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--metrics": o.Metrics = new HashSet<string>(Next().Split(','), StringComparer.Ordinal); break;
                    case "--cold-ours": o.ColdOurs = Next(); break;
                    case "--cold-twin": o.ColdTwin = Next(); break;
                    case "--cold-runs": o.ColdRuns = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--sample-ours": o.SampleOurs = Next(); break;
                    case "--sample-twin": o.SampleTwin = Next(); break;
                    case "--sample-object": o.SampleObject = Next(); break;
                    case "--output": o.Output = Next(); break;
                    case "--no-control": o.Control = false; break;
                    case "--generator-summary": o.GeneratorSummary = Next(); break;
                    case "--raw": o.Raw = Next(); break;
                    case "--storm-generator": o.StormGenerator = Next(); break;
                    case "--storm-child": o.StormChild = Next(); break;
                    case "--storm-rounds": o.StormRounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--storm-seconds": o.StormSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--storm-workers": o.StormWorkers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--storm-rates": o.StormRates = Next().Split(',').Select(x => x == "max" ? 0 : double.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                    default: throw new ArgumentException($"unknown option {a}");
                }
            }
            return o;
        }
    }
}

/// <summary>libbpf_twin as a long-lived child: one request line per metric, one answer line of per-sample ns.</summary>
internal sealed class TwinProcess : IDisposable
{
    private readonly Process _p;

    public TwinProcess(string exe, string obj, bool idleThread = false)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.Environment["TWIN_IDLE_THREAD"] = idleThread ? "1" : "0";
        psi.ArgumentList.Add(obj);
        _p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        string? ready = _p.StandardOutput.ReadLine();
        if (ready == null || !ready.StartsWith("ready ", StringComparison.Ordinal))
            throw new InvalidOperationException($"libbpf twin did not start: '{ready}'");
        Version = ready.Substring(6);
    }

    public string Version { get; }

    public double[] Run(string metric, int samples)
    {
        _p.StandardInput.WriteLine($"{metric} {samples}");
        _p.StandardInput.Flush();
        string line = _p.StandardOutput.ReadLine() ?? throw new InvalidOperationException("libbpf twin exited");
        if (!line.StartsWith("ok", StringComparison.Ordinal))
            throw new InvalidOperationException("libbpf twin: " + line);
        return line.Substring(2).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
    }

    public void Dispose()
    {
        try
        {
            _p.StandardInput.WriteLine("quit");
            _p.StandardInput.Flush();
            if (!_p.WaitForExit(5000)) _p.Kill();
        }
        catch (InvalidOperationException) { }
        catch (IOException) { }
        _p.Dispose();
    }
}

internal sealed record ColdStartResult(int Runs, double OursMs, double TwinMs, double OursKb, double TwinKb);

/// <summary>Cold start: spawn each binary in turn, time until it prints "attached", read its VmHWM from that line.</summary>
internal static class ColdStart
{
    public static ColdStartResult Run(string ours, string twin, string obj, int runs)
    {
        var ot = new List<double>(); var tt = new List<double>();
        var orss = new List<double>(); var trss = new List<double>();
        // One untimed run of each to warm the page cache.
        Once(ours, obj); Once(twin, obj);
        for (int i = 0; i < runs; i++)
        {
            bool oursFirst = (i & 1) == 0;
            for (int side = 0; side < 2; side++)
            {
                bool isOurs = (side == 0) == oursFirst;
                var (ms, kb) = Once(isOurs ? ours : twin, obj);
                (isOurs ? ot : tt).Add(ms);
                (isOurs ? orss : trss).Add(kb);
            }
        }
        return new ColdStartResult(runs, CompareDriver.Median(ot), CompareDriver.Median(tt), CompareDriver.Median(orss), CompareDriver.Median(trss));
    }

    /// <summary>
    /// The sample app keeps running after "attached" (it traces until stopped): time until it prints
    /// "execsnoop: attached" on stderr, read its VmHWM from /proc right then, and kill it.
    /// </summary>
    public static ColdStartResult RunSample(string ours, string twin, string obj, int runs)
    {
        var ot = new List<double>(); var tt = new List<double>();
        var orss = new List<double>(); var trss = new List<double>();
        OnceSample(ours, null); OnceSample(twin, obj);
        for (int i = 0; i < runs; i++)
        {
            bool oursFirst = (i & 1) == 0;
            for (int side = 0; side < 2; side++)
            {
                bool isOurs = (side == 0) == oursFirst;
                var (ms, kb) = isOurs ? OnceSample(ours, null) : OnceSample(twin, obj);
                (isOurs ? ot : tt).Add(ms);
                (isOurs ? orss : trss).Add(kb);
            }
        }
        return new ColdStartResult(runs, CompareDriver.Median(ot), CompareDriver.Median(tt), CompareDriver.Median(orss), CompareDriver.Median(trss));
    }

    private static (double ms, double kb) OnceSample(string exe, string? arg)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (arg != null) psi.ArgumentList.Add(arg);
        long t0 = Stopwatch.GetTimestamp();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        string? line;
        while ((line = p.StandardError.ReadLine()) != null && !line.StartsWith("execsnoop: attached", StringComparison.Ordinal)) { }
        long t1 = Stopwatch.GetTimestamp();
        double kb = -1;
        try
        {
            foreach (var l in File.ReadLines($"/proc/{p.Id}/status"))
                if (l.StartsWith("VmHWM:", StringComparison.Ordinal)) { kb = double.Parse(l.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture); break; }
        }
        catch (IOException) { }
        try { p.Kill(); } catch (InvalidOperationException) { }
        p.WaitForExit();
        if (line == null || kb < 0)
            throw new InvalidOperationException($"{exe} did not print \"execsnoop: attached\" (exit {p.ExitCode})");
        return ((t1 - t0) * 1000.0 / Stopwatch.Frequency, kb);
    }

    private static (double ms, double kb) Once(string exe, string obj)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(obj);
        long t0 = Stopwatch.GetTimestamp();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        string? line = p.StandardOutput.ReadLine();
        long t1 = Stopwatch.GetTimestamp();
        p.WaitForExit();
        if (line == null || !line.StartsWith("attached ", StringComparison.Ordinal))
            throw new InvalidOperationException($"{exe} printed '{line}' (exit {p.ExitCode})");
        double kb = double.Parse(line.AsSpan(9), CultureInfo.InvariantCulture);
        return ((t1 - t0) * 1000.0 / Stopwatch.Frequency, kb);
    }
}

internal static class Machine
{
    public static string Describe(string libbpf)
    {
        string cpu = "unknown CPU", family = "?", model = "?", stepping = "?";
        try
        {
            string Value(string l) => l.Substring(l.IndexOf(':', StringComparison.Ordinal) + 1).Trim();
            foreach (var l in File.ReadLines("/proc/cpuinfo"))
            {
                if (l.Length == 0) break; // the first processor's block
                if (l.StartsWith("model name", StringComparison.Ordinal)) cpu = Value(l);
                else if (l.StartsWith("cpu family", StringComparison.Ordinal)) family = Value(l);
                else if (l.StartsWith("model", StringComparison.Ordinal) && l[5] is ' ' or '\t') model = Value(l);
                else if (l.StartsWith("stepping", StringComparison.Ordinal)) stepping = Value(l);
            }
            cpu += $" (family {family}, model {model}, stepping {stepping})";
        }
        catch (IOException) { }
        string kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "?";
        return $"Machine: {cpu}, {Environment.ProcessorCount} cores, Linux {kernel}, {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture}), {libbpf} (Debian libbpf-dev), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.\n";
    }
}

internal static class Paths
{
    public static string BenchObject => Path.Combine(RepoRoot, "bpf", "bench.bpf.o");

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "bpf", "bench.bpf.o")) && File.Exists(Path.Combine(dir.FullName, "Skeletons.sln")))
                    return dir.FullName;
            return Directory.GetCurrentDirectory();
        }
    }
}
