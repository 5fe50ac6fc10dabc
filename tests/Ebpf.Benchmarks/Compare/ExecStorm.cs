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

/// <summary>One consumer's run through one storm.</summary>
internal sealed record StormRun(bool Ours, double AskedRate, long Spawned, double Seconds, long ExecRows, long ExitRows, long AllRows,
    long Dropped, double CpuMs, double Load1)
{
    public long Expected => 2 * Spawned;
    public long Seen => ExecRows + ExitRows;
    public long Lost => Math.Max(0, Expected - Seen);
    public double Rate => Spawned / Seconds;
    /// <summary>Consumer CPU per 1000 rows it printed (every process on the machine, not only the storm's).</summary>
    public double CpuPerThousand => AllRows == 0 ? double.NaN : CpuMs * 1000 / AllRows;
}

/// <summary>
/// The exec storm, end to end: for each asked spawn rate (0: as fast as the machine allows) and round, each consumer
/// in turn (who goes first alternates) is started with its output going to a file in memory, waits until it has
/// attached, then the load generator (execstorm) spawns <c>stormchild</c> processes for a fixed time and counts
/// them. The rows the consumer printed for those processes are counted afterwards (each should have an EXEC and an
/// EXIT row), its CPU time over the storm is read from /proc (every thread's schedstat: nanoseconds on a CPU), and
/// at the end it reports the events its BPF side dropped because the ring buffer was full.
/// </summary>
internal static class ExecStorm
{
    private const string ChildComm = "stormchild";

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public static List<StormRun> Run(string ours, string twin, string obj, string generator, string child, double[] rates, double seconds, int rounds, int workers)
    {
        var runs = new List<StormRun>();
        string dir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        int turn = 0;
        for (int round = 0; round < rounds; round++)
        {
            foreach (double rate in rates)
            {
                for (int side = 0; side < 2; side++)
                {
                    bool isOurs = (side == 0) == (turn % 2 == 0);
                    var r = Once(isOurs, isOurs ? ours : twin, isOurs ? null : obj, generator, child, rate, seconds, workers, dir);
                    runs.Add(r);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[storm] rate {(rate == 0 ? "max" : rate.ToString(CultureInfo.InvariantCulture))}, {(isOurs ? "ours" : "libbpf")}: spawned {r.Spawned} ({r.Rate:F0}/s), seen {r.Seen}/{r.Expected}, dropped {r.Dropped}, CPU {r.CpuMs:F1} ms, load {r.Load1:F1}"));
                }
                turn++;
            }
        }
        return runs;
    }

    private static StormRun Once(bool isOurs, string exe, string? arg, string generator, string child, double rate, double seconds, int workers, string dir)
    {
        string output = Path.Combine(dir, $"ebpf-storm-{Environment.ProcessId}-{(isOurs ? "ours" : "twin")}.txt");
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, UseShellExecute = false };
        // exec: the consumer replaces the shell, so the process (and its pid) is the consumer itself
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" > \"$EBPF_STORM_OUT\"");
        psi.ArgumentList.Add(exe);
        if (arg != null) psi.ArgumentList.Add(arg);
        psi.Environment["EBPF_STORM_OUT"] = output;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        var err = new StringBuilder();
        try
        {
            string? line;
            while ((line = p.StandardError.ReadLine()) != null)
            {
                err.AppendLine(line);
                if (line.StartsWith("execsnoop: attached", StringComparison.Ordinal)) break;
            }
            if (line == null)
                throw new InvalidOperationException($"{exe} exited before attaching: {err}");
            var errRest = p.StandardError.ReadToEndAsync();
            Thread.Sleep(300);
            double load = ReadLoad1();
            long cpu0 = CpuNs(p.Id);
            var (spawned, secs, generatorPid) = Generate(generator, child, rate, seconds, workers);
            Thread.Sleep(500); // the consumer drains what is left and flushes
            long cpu1 = CpuNs(p.Id);
            // SIGTERM, which both consumers handle like Ctrl-C: SIGINT is ignored (SIG_IGN, inherited) by anything a
            // non-interactive shell started in the background, and .NET keeps an inherited SIG_IGN for SIGINT.
            kill(p.Id, 15 /* SIGTERM */);
            if (!p.WaitForExit(30_000))
            {
                p.Kill();
                throw new InvalidOperationException($"{exe} did not stop on SIGTERM");
            }
            string stderr = errRest.Result;
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"{exe} failed ({p.ExitCode}): {stderr}");
            long dropped = 0;
            foreach (var l in stderr.Split('\n'))
            {
                int at = l.IndexOf(" events lost", StringComparison.Ordinal);
                if (l.StartsWith("execsnoop: ", StringComparison.Ordinal) && at > 11)
                    dropped = long.Parse(l.AsSpan(11, at - 11), CultureInfo.InvariantCulture);
            }
            var (exec, exit, all) = CountRows(output, generatorPid);
            return new StormRun(isOurs, rate, spawned, secs, exec, exit, all, dropped, (cpu1 - cpu0) / 1e6, load);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
            File.Delete(output);
        }
    }

    private static (long Spawned, double Seconds, int Pid) Generate(string generator, string child, double rate, double seconds, int workers)
    {
        var psi = new ProcessStartInfo(generator) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--duration", seconds.ToString(CultureInfo.InvariantCulture), "--rate", rate.ToString(CultureInfo.InvariantCulture), "--workers", workers.ToString(CultureInfo.InvariantCulture), child })
            psi.ArgumentList.Add(a);
        using var g = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {generator}");
        int pid = g.Id;
        string stdout = g.StandardOutput.ReadToEnd();
        string stderr = g.StandardError.ReadToEnd();
        g.WaitForExit();
        // "spawned N in T s"
        var parts = stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (g.ExitCode != 0 || parts.Length < 4 || parts[0] != "spawned")
            throw new InvalidOperationException($"execstorm failed ({g.ExitCode}): {stdout}{stderr}");
        return (long.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[3], CultureInfo.InvariantCulture), pid);
    }

    /// <summary>
    /// Rows of the table both consumers print: "HH:MM:SS EVENT COMM(16) PID(7) PPID(7) ...", fixed columns. A row
    /// is the storm's when its comm is the child's and its parent is this run's generator (on a shared machine
    /// other processes may run a storm of their own at the same time).
    /// </summary>
    private static (long Exec, long Exit, long All) CountRows(string path, int generatorPid)
    {
        Span<char> parent = stackalloc char[16];
        generatorPid.TryFormat(parent, out int parentLength, provider: CultureInfo.InvariantCulture);
        ReadOnlySpan<char> ppid = parent.Slice(0, parentLength);
        long exec = 0, exit = 0, all = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length < 32 || line[2] != ':' || line[8] != ' ') continue;
            var ev = line.AsSpan(9, 4);
            bool isExec = ev.SequenceEqual("EXEC"), isExit = ev.SequenceEqual("EXIT");
            if (!isExec && !isExit) continue;
            all++;
            if (!line.AsSpan(15, 16).TrimEnd(' ').SequenceEqual(ChildComm)) continue;
            if (line.Length < 48 || !line.AsSpan(40, 8).TrimEnd(' ').SequenceEqual(ppid)) continue;
            if (isExec) exec++;
            else exit++;
        }
        return (exec, exit, all);
    }

    /// <summary>Nanoseconds the process's threads have run (the first field of each /proc/PID/task/TID/schedstat).</summary>
    private static long CpuNs(int pid)
    {
        long sum = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                string s = File.ReadAllText(Path.Combine(task, "schedstat"));
                sum += long.Parse(s.AsSpan(0, s.IndexOf(' ')), CultureInfo.InvariantCulture);
            }
            catch (IOException) { } // the thread ended meanwhile
        }
        return sum;
    }

    internal static double ReadLoad1()
    {
        try
        {
            string s = File.ReadAllText("/proc/loadavg");
            return double.Parse(s.AsSpan(0, s.IndexOf(' ')), CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>The storm's markdown: every run, then per asked rate the medians of each side and the verdicts.</summary>
    public static string Describe(List<StormRun> runs, double seconds, int workers)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        double loadLo = runs.Min(r => r.Load1), loadHi = runs.Max(r => r.Load1);
        sb.Append(inv, $"\nExec storm: execstorm spawns `{ChildComm}` (static, exits at once) from {workers} threads for {seconds:0.#} s per run, paced to the asked rate or as fast as it can (max); each consumer prints its table to a file in memory; rows for {ChildComm} counted afterwards (expected: an EXEC and an EXIT row per spawned process). Consumer CPU: its threads' time on a CPU during the storm (+0.5 s to drain), per 1000 rows it printed (all processes). Load average (1 min) at the start of the runs: {loadLo:F1}–{loadHi:F1}.\n\n");
        sb.Append("| asked rate | consumer | runs | spawned/s | events expected | seen | lost | dropped in the kernel | consumer CPU | CPU ms per 1000 rows |\n");
        sb.Append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        var verdicts = new List<string>();
        foreach (var g in runs.GroupBy(r => r.AskedRate).OrderBy(g => g.Key == 0 ? double.MaxValue : g.Key))
        {
            string asked = g.Key == 0 ? "max" : g.Key.ToString("0", inv) + "/s";
            StormRun[] o = g.Where(r => r.Ours).ToArray(), t = g.Where(r => !r.Ours).ToArray();
            foreach (var (name, rs) in new[] { ("ours (AOT sample)", o), ("libbpf twin", t) })
            {
                if (rs.Length == 0) continue;
                sb.Append(inv, $"| {asked} | {name} | {rs.Length} | {Med(rs, r => r.Rate):F0} | {rs.Sum(r => r.Expected)} | {rs.Sum(r => r.Seen)} | {rs.Sum(r => r.Lost)} | {rs.Sum(r => r.Dropped)} | {Med(rs, r => r.CpuMs):F1} ms | {Med(rs, r => r.CpuPerThousand):F2} |\n");
            }
            if (o.Length > 0 && t.Length > 0)
            {
                double lossO = (double)o.Sum(r => r.Lost) / o.Sum(r => r.Expected), lossT = (double)t.Sum(r => r.Lost) / t.Sum(r => r.Expected);
                double cpuRatio = Med(o, r => r.CpuPerThousand) / Med(t, r => r.CpuPerThousand);
                verdicts.Add(string.Create(inv, $"{asked}: loss {lossO:P2} vs {lossT:P2} ({(lossO <= lossT ? "no more than the twin" : "**more than the twin**")}), CPU per row {cpuRatio:F2}× the twin's ({(cpuRatio < 1 ? "less" : "**not less**")})"));
            }
        }
        sb.Append('\n');
        foreach (var v in verdicts) sb.Append("- ").Append(v).Append('\n');
        foreach (var (name, isOurs) in new[] { ("ours", true), ("libbpf twin", false) })
        {
            var clean = runs.Where(r => r.Ours == isOurs && r.Lost == 0).ToArray();
            sb.Append(inv, $"- highest spawn rate with zero loss, {name}: {(clean.Length == 0 ? "none" : clean.Max(r => r.Rate).ToString("0", inv) + "/s")}{(runs.Any(r => r.Ours == isOurs && r.Lost > 0) ? string.Empty : " (no run lost anything)")}\n");
        }
        return sb.ToString();
    }

    private static double Med(StormRun[] rs, Func<StormRun, double> f) => CompareDriver.Median(rs.Select(f).ToArray());
}
