using System;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;
using static Ebpf.Runtime.Tests.KernelSupport;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// fentry, fexit, fmod_ret and BPF LSM. This machine's kernel refuses them at load (EPERM even for root): the
/// loader names the missing feature (BPF trampolines, BPF LSM) and its first release, and the tests skip with that; under Debian's 6.1/6.12 kernels (tests/kernels/run-on-kernels.sh) they attach and count,
/// except on arm64 6.1, which loads them but cannot attach a trampoline to a kernel function (that needs 6.4 there):
/// they skip with the attach's reason.
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class TrampolineAttachTests
{
    private static void UnlinkFiles(int n)
    {
        var dir = TestEnvironment.TempDir("ebpf-fentry");
        for (int i = 0; i < n; i++)
        {
            var f = Path.Combine(dir, $"f{i}");
            File.WriteAllText(f, "x");
            Assert.Equal(0, Unlink(f));
        }
        Directory.Delete(dir);
    }

    [Fact]
    public void FentryAndFexitCountUnlinksWithTypedArguments()
    {
        TestEnvironment.RequireKernelBtf();
        using var obj = LoadOrSkip("attach_fentry", ForThisProcess());
        var entry = new TracingProgram(obj.GetProgram("unlink_entry"));
        var exit = new TracingProgram(obj.GetProgram("unlink_exit"));
        using (var l1 = OrSkip(() => entry.Attach()))
        using (var l2 = exit.Attach())
        {
            Assert.Equal("fentry do_unlinkat", l1.Target);
            Assert.Equal(BpfLinkType.Tracing, l1.LinkType);
            UnlinkFiles(5);
            Assert.Equal(5ul, Bss(obj, "unlinks"));
            Assert.Equal(5ul, Bss(obj, "unlink_rets"));
            Assert.Equal(0, Bss<int>(obj, "last_unlink_ret"));
            Assert.Equal(-100, Bss<int>(obj, "last_unlink_dfd")); // AT_FDCWD
        }
        UnlinkFiles(1);
        Assert.Equal(5ul, Bss(obj, "unlinks"));
        AssertNoLinks(entry.Program, exit.Program);
    }

    [Fact]
    public void FmodRetOverridesTheReturnValue()
    {
        TestEnvironment.RequireKernelBtf();
        using var obj = LoadOrSkip("attach_fentry", ForThisProcess(o => SetRodata(o, "getpgid_override", -1)));
        var modret = new TracingProgram(obj.GetProgram("getpgid_modret"));
        int pid = Environment.ProcessId;
        Assert.True(GetPgid(pid) >= 0); // (0 when we are in init's process group, as in the test VMs)
        using (var link = OrSkip(() => modret.Attach()))
        {
            for (int i = 0; i < 3; i++)
                Assert.Equal(-1, GetPgid(pid)); // -EPERM from the program
            Assert.Equal(3ul, Bss(obj, "getpgid_calls"));
        }
        Assert.True(GetPgid(pid) >= 0);
        AssertNoLinks(modret.Program);
    }

    [Fact]
    public void ObjectAttachAttachesFentryFexitAndFmodRet()
    {
        TestEnvironment.RequireKernelBtf();
        using var obj = LoadOrSkip("attach_fentry", ForThisProcess());
        OrSkip(() => { obj.Attach(); return obj.Links.Count; });
        Assert.Equal(3, obj.Links.Count);
        Assert.All(obj.Links, l => Assert.IsType<TracingLink>(l));
        UnlinkFiles(2);
        Assert.Equal(2ul, Bss(obj, "unlinks"));
        obj.Detach();
        AssertNoLinks(obj.Programs.ToArray());
    }

    [Fact]
    public void LsmHookCountsAndCanDeny()
    {
        TestEnvironment.RequireKernelBtf();
        using (var obj = LoadOrSkip("attach_lsm", ForThisProcess()))
        {
            var hook = new LsmProgram(obj.GetProgram("bpf_hook"));
            var map = obj.GetDataSection(".bss").Map;
            using (var link = OrSkip(() => hook.Attach()))
            {
                Assert.Equal("lsm bpf", link.Target);
                ulong before = Bss(obj, "bpf_calls");
                var key = new byte[4];
                var value = new byte[map.ValueSize];
                for (int i = 0; i < 7; i++) map.TryLookup(key, value); // 7 bpf(BPF_MAP_LOOKUP_ELEM) calls
                Assert.Equal(before + 7, Bss(obj, "bpf_calls"));
                Assert.Equal(1, Global<int>(obj, "last_bpf_cmd")); // BPF_MAP_LOOKUP_ELEM (.data: it starts at -1)
            }
            AssertNoLinks(hook.Program);
        }

        using var deny = LoadOrSkip("attach_lsm", ForThisProcess(o => SetRodata(o, "bpf_verdict", -1L)));
        var denyHook = new LsmProgram(deny.GetProgram("bpf_hook"));
        var bss = deny.GetDataSection(".bss").Map;
        using (denyHook.Attach())
        {
            var e = Assert.Throws<BpfSyscallException>(() => bss.TryLookup(new byte[4], new byte[bss.ValueSize]));
            Assert.Equal(Errno.EPERM, e.Errno);
        }
        Assert.True(bss.TryLookup(new byte[4], new byte[bss.ValueSize]));
    }

    [Fact]
    public void LsmFileOpenCountsOurOpens()
    {
        TestEnvironment.RequireKernelBtf();
        using var obj = LoadOrSkip("attach_lsm", ForThisProcess());
        var hook = new LsmProgram(obj.GetProgram("file_open_hook"));
        // /dev/null, not a temporary file: on overlayfs (the test VMs' root) each open also opens the real file
        // underneath, and the hook runs for both
        const string path = "/dev/null";
        using (OrSkip(() => hook.Attach()))
        {
            ulong before = Bss(obj, "file_opens");
            for (int i = 0; i < 10; i++)
            {
                int fd = OpenFile(path, 0);
                Assert.True(fd >= 0);
                CloseFile(fd);
            }
            Assert.Equal(10ul, Bss(obj, "file_opens") - before);
        }
        AssertNoLinks(hook.Program);
    }
}
