using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>perf_event sampling programs, task iterators and syscall programs on the real kernel.</summary>
[Collection(KernelEventsCollection.Name)]
public class PerfIterSyscallTests
{
    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct SyscallArgs
    {
        public ulong A, B, Sum, Product;
        public uint Pid, Calls;
        public fixed byte Comm[16];
    }

    [Fact]
    public unsafe void HardwareBreakpointSamplesCountEveryWrite()
    {
        using var obj = Load("attach_perf_event");
        var prog = new PerfEventProgram(obj.GetProgram("on_sample"));
        ulong* cell = (ulong*)NativeMemory.AlignedAlloc(8, 8);
        try
        {
            PerfEventLink link;
            try
            {
                link = prog.Attach(PerfEventSpec.Breakpoint((ulong)cell, BreakpointKind.Write, 8), pid: GetTid(), cpu: -1);
            }
            catch (BpfSyscallException e) when (e.Operation == "perf_event_open")
            {
                Assert.Skip($"no hardware breakpoints here: {e.Message}");
                return;
            }
            using (link)
            {
                for (int i = 0; i < 20; i++) Volatile.Write(ref *cell, (ulong)i);
                Assert.Equal(20ul, Bss(obj, "samples"));
                Assert.Equal(20ul, Bss(obj, "target_samples"));
                Assert.Equal(1ul, Bss(obj, "last_sample_period"));
                Assert.Equal(KernelSupport.PerfLinks(1), LinksOf(prog.Program).Count);
                Assert.Equal(KernelSupport.Features.PerfLinks, link.IsKernelLink);
            }
            *cell = 99;
            Assert.Equal(20ul, Bss(obj, "samples"));
            AssertNoLinks(prog.Program);
        }
        finally
        {
            NativeMemory.AlignedFree(cell);
        }
    }

    [Fact]
    public void CpuClockSamplingOnEveryCpu()
    {
        using var obj = Load("attach_perf_event");
        var prog = new PerfEventProgram(obj.GetProgram("on_sample"));
        using (var group = prog.AttachAllCpus(PerfEventSpec.CpuClock(1000)))
        {
            Assert.Equal(Environment.ProcessorCount, group.Links.Count);
            var sw = Stopwatch.StartNew();
            while (sw.ElapsedMilliseconds < 300) Thread.SpinWait(1000);
            Assert.True(Eventually(() => Bss(obj, "target_samples") > 0));
        }
        ulong samples = Bss(obj, "samples");
        Assert.True(samples > 0);
        // the per-CPU slots add up to the total
        var perCpu = obj.GetMap("cpu_samples");
        var value = new byte[perCpu.ValueBufferSize];
        Assert.True(perCpu.TryLookup(new byte[4], value));
        ulong sum = 0;
        for (int i = 0; i < value.Length; i += 8) sum += BitConverter.ToUInt64(value, i);
        Assert.Equal(samples, sum);
        Assert.True(Bss(obj, "last_sample_period") > 0);
        AssertNoLinks(prog.Program);
        Thread.Sleep(50);
        Assert.Equal(samples, Bss(obj, "samples"));
    }

    private static string[] IterLines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void TaskIteratorListsOurThreads()
    {
        TestEnvironment.RequireKernelBtf();
        int pid = Environment.ProcessId;
        using var obj = Load("attach_iter", o => SetRodata(o, "only_tgid", pid));
        var iter = new IteratorProgram(obj.GetProgram("dump_task"));
        using var link = iter.Attach();
        Assert.Equal(BpfLinkType.Iter, link.LinkType);
        var lines = IterLines(link.ReadAllText());
        var tasks = Directory.GetDirectories("/proc/self/task").Select(d => int.Parse(Path.GetFileName(d))).ToHashSet();
        Assert.Equal((ulong)lines.Length, Bss(obj, "tasks_printed"));
        Assert.All(lines, l => Assert.Equal(pid, int.Parse(l.Split(' ')[0])));
        Assert.Contains(lines, l => l.StartsWith($"{pid} {pid} ", StringComparison.Ordinal));
        var tids = lines.Select(l => int.Parse(l.Split(' ')[1])).ToHashSet();
        Assert.True(tids.Count == lines.Length, "each thread once");
        Assert.True(tids.IsSubsetOf(tasks) || tasks.IsSubsetOf(tids) || tids.Intersect(tasks).Count() >= tasks.Count - 2,
            $"iterator saw {string.Join(",", tids)}, /proc saw {string.Join(",", tasks)}");

        // every Open() is a new pass
        Assert.InRange(IterLines(link.ReadAllText()).Length, lines.Length - 2, lines.Length + 2);
    }

    [Fact]
    public void TaskIteratorOverAChildPrintsExactlyItsLine()
    {
        TestEnvironment.RequireKernelBtf();
        using var child = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { UseShellExecute = false })!;
        try
        {
            using var obj = Load("attach_iter", o => SetRodata(o, "only_tgid", child.Id));
            var iter = new IteratorProgram(obj.GetProgram("dump_task"));
            Assert.Equal($"{child.Id} {child.Id} sleep\n", iter.ReadAllText());
            Assert.Equal(1ul, Bss(obj, "tasks_printed"));

            // a pinned iterator is read like a file
            TestEnvironment.RequireBpffs();
            string pin = $"/sys/fs/bpf/ebpf-test-iter-{Environment.ProcessId}-{Guid.NewGuid():N}";
            using var link = iter.Attach();
            link.Pin(pin);
            try
            {
                Assert.Equal($"{child.Id} {child.Id} sleep\n", File.ReadAllText(pin));
            }
            finally
            {
                link.Unpin();
            }
            AssertNoLinks(); // (no programs: trivially true)
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [Fact]
    public void TaskIteratorParametersLimitItToOneProcess()
    {
        TestEnvironment.RequireKernelBtf();
        using var child = Process.Start(new ProcessStartInfo("/bin/sleep", "30") { UseShellExecute = false })!;
        try
        {
            using var obj = Load("attach_iter");
            var iter = new IteratorProgram(obj.GetProgram("dump_task"));
            // Task iterator parameters: Linux 6.1 (an older kernel would ignore them and list every task, so the
            // runtime refuses up front, naming the feature).
            string text = KernelSupport.OrSkip(() => iter.ReadAllText(IteratorOptions.ForProcess(child.Id)));
            Assert.Equal($"{child.Id} {child.Id} sleep\n", text);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [Fact]
    public unsafe void SyscallProgramRunsWithATypedContext()
    {
        TestEnvironment.RequireRoot();
        using var obj = KernelSupport.LoadOrSkip("attach_syscall"); // syscall programs: Linux 5.14
        var prog = new SyscallProgram(obj.GetProgram("compute"));
        Assert.Throws<InvalidOperationException>(() => obj.GetProgram("compute").Attach());
        var args = new SyscallArgs { A = 6, B = 7 };
        Assert.Equal(0, prog.Run(ref args));
        Assert.Equal(13ul, args.Sum);
        Assert.Equal(42ul, args.Product);
        Assert.Equal((uint)Environment.ProcessId, args.Pid);
        Assert.Equal(1u, args.Calls);
        string comm = File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n');
        string got = Encoding.ASCII.GetString(args.Comm, 16).TrimEnd('\0');
        Assert.Equal(comm, got);
        args = new SyscallArgs { A = 1u << 20, B = 1u << 20 };
        prog.Run(ref args);
        Assert.Equal(1ul << 40, args.Product);
        Assert.Equal(2u, args.Calls);
        Assert.Equal(2u, Bss<uint>(obj, "total_calls"));
    }
}
