using System;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// kprobe, kretprobe, ksyscall, kretsyscall, kprobe.multi and kretprobe.multi on the real kernel. Kernels
/// without kprobes (this machine: CONFIG_KPROBES is not set) or without fprobe skip with the runtime's reason;
/// tests/kernels/run-on-kernels.sh runs them under Debian's 6.1 and 6.12 kernels, where they attach and count.
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class KprobeAttachTests
{
    private const int AtFdCwd = -100;

    private static void UnlinkFiles(int n)
    {
        var dir = TestEnvironment.TempDir("ebpf-kprobe");
        for (int i = 0; i < n; i++)
        {
            var f = Path.Combine(dir, $"f{i}");
            File.WriteAllText(f, "x");
            Assert.Equal(0, Unlink(f));
        }
        Directory.Delete(dir);
    }

    [Fact]
    public void KprobeAndKretprobeCountUnlinks()
    {
        TestEnvironment.RequireRoot();
        using var obj = Load("attach_kprobe");
        var entry = new KprobeProgram(obj.GetProgram("unlink_entry"));
        var exit = new KprobeProgram(obj.GetProgram("unlink_exit"));
        using (var l1 = KernelSupport.OrSkip(() => entry.Attach()))
        using (var l2 = exit.Attach())
        {
            Assert.Equal("kprobe do_unlinkat", l1.Target);
            Assert.Equal("kretprobe do_unlinkat", l2.Target);
            UnlinkFiles(6);
            Assert.Equal(6ul, Bss(obj, "unlinks"));
            Assert.Equal(6ul, Bss(obj, "unlink_rets"));
            Assert.Equal(0L, Bss<long>(obj, "last_unlink_ret"));
            Assert.Equal(AtFdCwd, Bss<int>(obj, "last_unlink_dfd"));   // the first argument, from this architecture's pt_regs
        }
        UnlinkFiles(2);
        Assert.Equal(6ul, Bss(obj, "unlinks"));
        AssertNoLinks(entry.Program, exit.Program);
    }

    [Fact]
    public void LegacyKprobeEventsAreCreatedAndRemoved()
    {
        TestEnvironment.RequireTracefs();
        using var obj = Load("attach_kprobe");
        var entry = new KprobeProgram(obj.GetProgram("unlink_entry"));
        string events = Path.Combine(Tracefs.Root, "kprobe_events");
        string name;
        using (var link = KernelSupport.OrSkip(() => entry.Attach("do_unlinkat", mode: ProbeAttachMode.Legacy)))
        {
            Assert.True(link.IsLegacy);
            name = link.LegacyEventName!;
            Assert.Contains(name, File.ReadAllText(events));
            UnlinkFiles(3);
            Assert.Equal(3ul, Bss(obj, "unlinks"));
        }
        Assert.DoesNotContain(name, File.ReadAllText(events));
    }

    [Fact]
    public void KsyscallAndKretsyscallCountGetpgid()
    {
        TestEnvironment.RequireRoot();
        using var obj = Load("attach_kprobe");
        var sys = new KprobeProgram(obj.GetProgram("getpgid_sys"));
        var ret = new KprobeProgram(obj.GetProgram("getpgid_sysret"));
        using (var l1 = KernelSupport.OrSkip(() => sys.Attach()))
        using (var l2 = ret.Attach())
        {
            // The architecture's syscall wrapper (__x64_sys_getpgid, __arm64_sys_getpgid), whose argument is the
            // user's pt_regs: BPF_KSYSCALL reads the syscall's own arguments from there.
            Assert.Equal(KernelSymbols.SyscallPrefix + "getpgid", l1.Function);
            int pid = Environment.ProcessId;
            for (int i = 0; i < 5; i++) GetPgid(pid);
            Assert.Equal(5ul, Bss(obj, "getpgid_sys_hits"));
            Assert.Equal(5ul, Bss(obj, "getpgid_sys_rets"));
            Assert.Equal(pid, Bss<int>(obj, "last_getpgid_arg"));
        }
        AssertNoLinks(sys.Program, ret.Program);
    }

    [Fact]
    public void KprobeMultiAndKretprobeMultiCountGetpgid()
    {
        TestEnvironment.RequireTracefs();
        using var obj = Load("attach_kprobe");
        var multi = new KprobeMultiProgram(obj.GetProgram("getpgid_multi"));
        var multiRet = new KprobeMultiProgram(obj.GetProgram("getpgid_multi_ret"));
        using (var l1 = KernelSupport.OrSkip(() => multi.Attach()))
        using (var l2 = multiRet.Attach())
        {
            Assert.Equal(new[] { KernelSymbols.SyscallPrefix + "getpgid" }, l1.Functions.ToArray());
            Assert.True(l2.IsReturnProbe);
            Assert.Equal(BpfLinkType.KprobeMulti, l1.LinkType);
            for (int i = 0; i < 4; i++) GetPgid(0);
            Assert.Equal(4ul, Bss(obj, "getpgid_multi_hits"));
            Assert.Equal(4ul, Bss(obj, "getpgid_multi_rets"));
        }
        AssertNoLinks(multi.Program, multiRet.Program);
    }

    [Fact]
    public void ObjectAttachAttachesEveryKprobeKindAndDetachRemovesThem()
    {
        TestEnvironment.RequireTracefs();
        using var obj = Load("attach_kprobe");
        try
        {
            obj.Attach();
        }
        catch (BpfNotSupportedException e)
        {
            Assert.Skip(e.Message);
        }
        Assert.Equal(6, obj.Links.Count);
        UnlinkFiles(2);
        for (int i = 0; i < 3; i++) GetPgid(0);
        Assert.Equal(2ul, Bss(obj, "unlinks"));
        Assert.Equal(2ul, Bss(obj, "unlink_rets"));
        Assert.Equal(3ul, Bss(obj, "getpgid_multi_hits"));
        Assert.Equal(3ul, Bss(obj, "getpgid_sys_rets"));
        obj.Detach();
        AssertNoLinks(obj.Programs.ToArray());
    }

    [Fact]
    public void AnUntraceableFunctionIsNamed()
    {
        TestEnvironment.RequireRoot();
        using var obj = Load("attach_kprobe");
        var entry = new KprobeProgram(obj.GetProgram("unlink_entry"));
        var e = Assert.ThrowsAny<BpfException>(() => entry.Attach("no_such_kernel_function_ebpf"));
        if (e is BpfNotSupportedException ns) Assert.Skip(ns.Message);
        Assert.Contains("no_such_kernel_function_ebpf", e.Message);
        Assert.Contains("does not exist or is not traceable", e.Message);
    }
}
