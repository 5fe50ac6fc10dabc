using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Reliability;

/// <summary>
/// Load / attach / detach / dispose cycles in one process (exec_snoop's tracepoints and globals' data sections):
/// afterwards this process has the descriptors it started with, bpftool lists none of the cycles' programs, maps or
/// links, and managed memory and RSS are flat. 300 cycles here; tests/soak/soak.sh runs 10,000
/// (EBPF_SOAK_CYCLES) and records the figures (EBPF_SOAK_REPORT names the file the summary goes to).
/// </summary>
[Collection(FdAccountingCollection.Name)]
public class SoakTests
{
    [Fact]
    public void LoadAttachDetachDisposeCyclesLeaveNothingBehind()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireTracefs();
        int cycles = int.TryParse(Environment.GetEnvironmentVariable("EBPF_SOAK_CYCLES"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int c) && c > 0 ? c : 300;

        // Ids the cycles are given (other processes may load the same objects: names do not tell ours apart).
        // Sized up front so that recording them does not show up as growth of the managed heap.
        var ours = new Dictionary<string, HashSet<uint>>(StringComparer.Ordinal)
        {
            ["prog"] = new HashSet<uint>(cycles * 3 + 64),
            ["map"] = new HashSet<uint>(cycles * 8 + 64),
            ["link"] = new HashSet<uint>(cycles * 4 + 64),
        };

        // Warm-up: kernel BTF mapping, feature probes, JIT, tracefs lookups: things that live for the process.
        for (int i = 0; i < 20; i++) Cycle(ours);
        int fdsBefore = TestEnvironment.BaselineFdCount();
        int bpfFdsBefore = KernelObjectAudit.BpfDescriptorCount();
        long managedBefore = ManagedBytes();
        long rssBefore = RssBytes();
        var sw = Stopwatch.StartNew();

        long managedPeak = managedBefore, rssPeak = rssBefore;
        for (int i = 0; i < cycles; i++)
        {
            Cycle(ours);
            if ((i + 1) % Math.Max(1, cycles / 10) == 0)
            {
                managedPeak = Math.Max(managedPeak, ManagedBytes());
                rssPeak = Math.Max(rssPeak, RssBytes());
                int bpfFds = KernelObjectAudit.BpfDescriptorCount();
                Assert.True(bpfFds == bpfFdsBefore, $"after {i + 1} cycles {bpfFds} BPF/perf descriptors are open (started with {bpfFdsBefore})");
            }
        }
        sw.Stop();

        int fdsAfter = TestEnvironment.OpenFdCount();
        int bpfFdsAfter = KernelObjectAudit.BpfDescriptorCount();
        long managedAfter = ManagedBytes();
        long rssAfter = RssBytes();
        var left = KernelObjectAudit.StillListed(ours);
        string summary = string.Format(CultureInfo.InvariantCulture,
            "{0} cycles in {1:F1} s ({2:F1} ms/cycle); open fds {3} -> {4} (BPF/perf {5} -> {6}); managed heap {7:F1} -> {8:F1} MiB (peak {9:F1}); " +
            "RSS {10:F1} -> {11:F1} MiB (peak {12:F1}); kernel objects created: {13} progs, {14} maps, {15} links, still listed by bpftool: {16}",
            cycles, sw.Elapsed.TotalSeconds, sw.Elapsed.TotalMilliseconds / cycles, fdsBefore, fdsAfter, bpfFdsBefore, bpfFdsAfter,
            managedBefore / 1048576.0, managedAfter / 1048576.0, managedPeak / 1048576.0,
            rssBefore / 1048576.0, rssAfter / 1048576.0, rssPeak / 1048576.0,
            ours["prog"].Count, ours["map"].Count, ours["link"].Count,
            left == null ? "(bpftool not installed)" : left.Count.ToString(CultureInfo.InvariantCulture));
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        var report = Environment.GetEnvironmentVariable("EBPF_SOAK_REPORT");
        if (!string.IsNullOrEmpty(report))
            File.WriteAllText(report, summary + "\n");

        Assert.Equal(bpfFdsBefore, bpfFdsAfter);
        Assert.True(fdsAfter <= fdsBefore + 4, summary); // the test host's own descriptors come and go
        Assert.True(left == null || left.Count == 0, $"still listed: {string.Join(", ", left ?? new List<string>())}");
        // Flat: growth bounded by a constant, not by the number of cycles.
        Assert.True(managedAfter - managedBefore < 8L << 20, summary);
        Assert.True(rssAfter - rssBefore < 64L << 20, summary);
    }

    private static void Cycle(Dictionary<string, HashSet<uint>> ours)
    {
        using (var snoop = BpfObject.Load(TestEnvironment.Bpf("exec_snoop")))
        {
            snoop.Attach();
            Assert.NotEmpty(snoop.Links);
            Record(snoop, ours);
            snoop.Detach();
        }
        using (var globals = BpfObject.Load(TestEnvironment.Bpf("globals")))
        {
            globals.Attach();
            globals.GetProgram("run").RunOnce();
            Record(globals, ours);
            globals.Detach();
        }
    }

    private static void Record(BpfObject obj, Dictionary<string, HashSet<uint>> ours)
    {
        foreach (var p in obj.Programs)
            if (p.IsLoaded) ours["prog"].Add(p.Id);
        foreach (var m in obj.Maps)
            if (m.IsLoaded) ours["map"].Add(m.Id);
        foreach (var l in obj.Links)
        {
            if (l is FdLink fl)
                ours["link"].Add(fl.Id);
            else if (l is PerfEventLink { LinkHandle: { } h })
            {
                // Tracepoints are perf-event links (bpf_links from 5.15; before that the program hangs on the perf
                // event by ioctl and there is no link object to look for).
                uint id = KernelObjectAudit.IdOfDescriptor(h.Fd, out string kind);
                Assert.True(id != 0 && kind == "link", $"{l.Target}: no link_id in the fdinfo of its bpf_link descriptor {h.Fd}");
                ours["link"].Add(id);
            }
        }
    }

    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static long RssBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Substring(6).Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }
}
