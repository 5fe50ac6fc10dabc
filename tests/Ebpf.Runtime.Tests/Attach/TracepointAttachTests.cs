using System;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>tp/, tracepoint/, raw_tp/, raw_tracepoint/ and tp_btf/ on the real kernel, counted exactly.</summary>
[Collection(KernelEventsCollection.Name)]
public class TracepointAttachTests
{
    [Fact]
    public void AutoAttachEveryTracepointFlavourCountsExactly()
    {
        TestEnvironment.RequireTracefs();
        using var obj = Load("attach_tracepoint");
        obj.Attach();
        Assert.Equal(5, obj.Links.Count);
        Assert.Contains(obj.Links, l => l is TracepointLink { Category: "syscalls", Name: "sys_enter_getppid" });
        Assert.Contains(obj.Links, l => l is TracepointLink { Category: "sched", Name: "sched_process_exec" });
        Assert.Contains(obj.Links, l => l is RawTracepointLink { Name: "sys_enter" });
        Assert.Contains(obj.Links, l => l is RawTracepointLink { Name: "sched_process_exec" });
        Assert.Contains(obj.Links, l => l is TracingLink { Kind: "tp_btf", AttachTarget: "sched_process_fork" });

        const int calls = 7, children = 3;
        for (int i = 0; i < calls; i++) GetPpid();
        SpawnChildren(children);

        Assert.Equal((ulong)calls, Bss(obj, "getppid_tp"));
        Assert.Equal((ulong)calls, Bss(obj, "getppid_raw"));
        Assert.Equal((ulong)children, Bss(obj, "exec_tp"));
        Assert.Equal((ulong)children, Bss(obj, "exec_raw"));
        Assert.Equal((ulong)children, Bss(obj, "forks_btf"));

        var programs = obj.Programs.ToArray();
        // raw_tp and tp_btf are links on every kernel; tracepoints only with perf-event links (5.15)
        Assert.Equal(3 + KernelSupport.PerfLinks(2), LinksOf(programs).Count); // (bpftool is a child too: it counts as one more exec)
        obj.Detach();
        Assert.Empty(obj.Links);
        AssertNoLinks(programs);

        // Detached: nothing counts any more.
        ulong execs = Bss(obj, "exec_tp"), forks = Bss(obj, "forks_btf");
        for (int i = 0; i < calls; i++) GetPpid();
        SpawnChildren(1);
        Assert.Equal((ulong)calls, Bss(obj, "getppid_tp"));
        Assert.Equal((ulong)calls, Bss(obj, "getppid_raw"));
        Assert.Equal(execs, Bss(obj, "exec_tp"));
        Assert.Equal(execs, Bss(obj, "exec_raw"));
        Assert.Equal(forks, Bss(obj, "forks_btf"));
    }

    [Fact]
    public void DisposingTheObjectRemovesItsLinks()
    {
        TestEnvironment.RequireTracefs();
        BpfProgram[] programs;
        using (var obj = Load("attach_tracepoint"))
        {
            obj.Attach();
            programs = obj.Programs.ToArray();
            Assert.Equal(3 + KernelSupport.PerfLinks(2), LinksOf(programs).Count);
        }
        AssertNoLinks(programs);
    }

    [Fact]
    public void ExplicitTracepointAttachThroughTheTypedWrapper()
    {
        TestEnvironment.RequireTracefs();
        using var obj = Load("attach_tracepoint");
        var tp = new TracepointProgram(obj.GetProgram("tp_getppid"));
        using (var link = tp.Attach("syscalls", "sys_enter_getppid"))
        {
            Assert.Equal("tracepoint syscalls/sys_enter_getppid", link.Target);
            Assert.Equal(KernelSupport.Features.PerfLinks, link.IsKernelLink); // before 5.15: PERF_EVENT_IOC_SET_BPF
            for (int i = 0; i < 4; i++) GetPpid();
            Assert.Equal(4ul, Bss(obj, "getppid_tp"));
        }
        GetPpid();
        Assert.Equal(4ul, Bss(obj, "getppid_tp"));
        AssertNoLinks(tp.Program);

        var raw = new RawTracepointProgram(obj.GetProgram("raw_sys_enter"));
        using (var link = raw.Attach())
        {
            Assert.Equal("raw tracepoint sys_enter", link.Target);
            Assert.Equal(BpfLinkType.RawTracepoint, link.LinkType);
            for (int i = 0; i < 3; i++) GetPpid();
        }
        Assert.Equal(3ul, Bss(obj, "getppid_raw"));
        AssertNoLinks(raw.Program);
    }

    [Fact]
    public void UnknownTracepointsAreNamedInTheError()
    {
        TestEnvironment.RequireTracefs();
        using var obj = Load("attach_tracepoint");
        var tp = new TracepointProgram(obj.GetProgram("tp_getppid"));
        var e = Assert.Throws<BpfException>(() => tp.Attach("syscalls", "sys_enter_no_such_call"));
        Assert.Contains("tracepoint 'syscalls/sys_enter_no_such_call' does not exist", e.Message);
        e = Assert.Throws<BpfException>(() => tp.Attach("no_such_category", "x"));
        Assert.Contains("no category 'no_such_category'", e.Message);

        var raw = new RawTracepointProgram(obj.GetProgram("raw_sys_enter"));
        var se = Assert.Throws<BpfSyscallException>(() => raw.Attach("no_such_raw_tracepoint"));
        Assert.Equal(Errno.ENOENT, se.Errno);
        Assert.Contains("raw tracepoint 'no_such_raw_tracepoint' does not exist", se.Message);
    }

    [Fact]
    public void WrappersRefuseProgramsOfAnotherKind()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("attach_tracepoint"));
        var e = Assert.Throws<ArgumentException>(() => new XdpProgram(obj.GetProgram("tp_getppid")));
        Assert.Contains("cannot be a XdpProgram", e.Message);
        Assert.Throws<ArgumentException>(() => new TracepointProgram(obj.GetProgram("raw_exec")));
        Assert.Throws<ArgumentException>(() => new IteratorProgram(obj.GetProgram("btf_fork")));
        _ = new TracingProgram(obj.GetProgram("btf_fork"));
    }

    [Fact]
    public void LinksCanBePinnedUpdatedAndDetached()
    {
        TestEnvironment.RequireBpffs();
        using var obj = Load("attach_tracepoint");
        var raw = new RawTracepointProgram(obj.GetProgram("raw_sys_enter"));
        string pin = $"/sys/fs/bpf/ebpf-test-link-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var link = raw.Attach();
        try
        {
            link.Pin(pin);
            Assert.Equal(pin, link.PinPath);
            Assert.True(File.Exists(pin));
            link.Dispose();
            // Pinned: the program stays attached after our descriptor is gone.
            GetPpid();
            GetPpid();
            Assert.Equal(2ul, Bss(obj, "getppid_raw"));
            Assert.Single(LinksOf(raw.Program));
        }
        finally
        {
            link.Unpin();
        }
        Assert.False(File.Exists(pin));
        // The last reference was the pin: the kernel frees the link from a work queue, a moment later (on a busy
        // machine, many calls later). Until the program stops counting, each probing call may count: no more than that.
        Assert.True(Eventually(() => LinksOf(raw.Program).Count == 0));
        int probes = CallsUntilDetached(obj);
        ulong settled = Bss(obj, "getppid_raw");
        Assert.InRange(settled, 2ul, 2ul + (ulong)probes);
        GetPpid();
        Assert.Equal(settled, Bss(obj, "getppid_raw"));

        // Raw tracepoint links cannot swap programs: the error says so.
        using var link2 = raw.Attach();
        var ex = Assert.Throws<BpfSyscallException>(() => link2.Update(obj.GetProgram("raw_exec")));
        Assert.Contains("BPF_LINK_UPDATE", ex.Message);

        // Detach works on every fd link (BPF_LINK_DETACH, or closing when the kind has no detach).
        ulong beforeDetach = Bss(obj, "getppid_raw");
        link2.Detach();
        probes = CallsUntilDetached(obj);
        Assert.InRange(Bss(obj, "getppid_raw"), beforeDetach, beforeDetach + (ulong)probes);
        AssertNoLinks(raw.Program);
    }

    /// <summary>Calls getppid until a call is no longer counted (the raw tracepoint is gone); how many calls that took.</summary>
    private static int CallsUntilDetached(BpfObject obj)
    {
        int calls = 0;
        Assert.True(Eventually(() =>
        {
            ulong before = Bss(obj, "getppid_raw");
            GetPpid();
            calls++;
            return Bss(obj, "getppid_raw") == before;
        }, ms: 10_000), "the raw tracepoint still counts 10 s after its link was released");
        return calls;
    }

    [Fact]
    public void TracepointPerfLinkCarriesACookieAndShowsInBpftool()
    {
        TestEnvironment.RequireTracefs();
        using var obj = Load("attach_tracepoint");
        var tp = new TracepointProgram(obj.GetProgram("tp_getppid"));
        using var link = KernelSupport.OrSkip(() => tp.Attach(cookie: 0x1234)); // BPF cookies: 5.15
        Assert.True(link.IsKernelLink);
        var links = LinksOf(tp.Program);
        Assert.Single(links);
        Assert.Contains("perf_event", links[0]);
    }

    [Fact]
    public void AttachingANonAutoAttachableProgramSaysWhatToUse()
    {
        TestEnvironment.RequireRoot();
        using var obj = Load("attach_net");
        var e = Assert.Throws<InvalidOperationException>(() => obj.GetProgram("xdp_count").Attach());
        Assert.Contains("XdpProgram.Attach(interface)", e.Message);
        // The object's Attach() skips what it cannot attach by itself.
        obj.Attach();
        Assert.Empty(obj.Links);
    }
}
