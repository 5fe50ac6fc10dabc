using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Ebpf.Btf;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Runtime.Tests.Skeletons;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.StructOps.StructOpsSupport;

namespace Ebpf.Runtime.Tests.StructOps;

/// <summary>
/// Sleepable struct_ops programs (<c>SEC("struct_ops.s/...")</c>, BPF_F_SLEEPABLE; Linux 6.3): bpf_dummy_ops's
/// test_sleepable member, the one the kernel lets sleepable programs implement, run under BPF_PROG_TEST_RUN
/// (bpf/fidelity/struct_ops_sleepable.bpf.c, through its generated skeleton). The program reads user memory with the
/// sleepable-only kfunc bpf_copy_from_user_str (Linux 6.12) where the kernel has it; bound to test_1, which takes no
/// sleepable program, the kernel refuses it.
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class StructOpsSleepableTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct DummyState
    {
        public int Val;
    }

    /// <summary>Skips unless bpf_dummy_ops has test_sleepable (sleepable struct_ops, Linux 6.3).</summary>
    private static void RequireSleepableMember()
    {
        RequireStructOpsType("bpf_dummy_ops", "5.17");
        var vmlinux = Ebpf.Kernel.KernelBtf.Vmlinux;
        var ops = (BtfStruct)vmlinux[vmlinux.FindByName("bpf_dummy_ops", BtfKind.Struct)];
        if (!ops.Members.Any(m => m.Name == "test_sleepable"))
            Assert.Skip($"this kernel ({Environment.OSVersion.Version}) has no sleepable struct_ops member: bpf_dummy_ops.test_sleepable, and sleepable struct_ops programs, came in Linux 6.3");
    }

    private static bool KernelHasKfunc(string name) => Ebpf.Kernel.KernelBtf.Vmlinux.FindByName(name, BtfKind.Func) >= 0;

    private static unsafe uint Run(StructOpsProgram program, int val)
    {
        var state = new DummyState { Val = val };
        var args = new ulong[] { (ulong)(&state) };
        return program.Program.TestRun(context: MemoryMarshal.AsBytes(args.AsSpan())).ReturnValue;
    }

    [Fact]
    public unsafe void SleepableProgram_ImplementsTestSleepable_AndRunsUnderProgTestRun()
    {
        RequireSleepableMember();
        using var skel = StructOpsSleepableSkeleton.Open();
        var dummy = skel.StructOps.EbpfDummy;
        Assert.Same(skel.Programs.EbpfSleepable, dummy.TestSleepable);
        Assert.True(skel.Programs.EbpfSleepable.Program.Section!.Value.Definition.IsSleepable);
        Assert.False(skel.Programs.EbpfTest1.Program.Section!.Value.Definition.IsSleepable);

        // The bytes the program copies from this process's memory while it runs (it may fault them in: it may sleep).
        byte[] text = Encoding.ASCII.GetBytes("sleeps!\0");
        byte* user = (byte*)NativeMemory.Alloc((nuint)text.Length);
        try
        {
            text.CopyTo(new Span<byte>(user, text.Length));
            skel.Load();
            skel.Bss.UserAddr = (ulong)user;

            Assert.Equal(42u, Run(skel.Programs.EbpfSleepable, 41)); // state->val + 1
            Assert.Equal(14u, Run(skel.Programs.EbpfTest1, 7));      // the ordinary member next to it: state->val * 2
            Assert.Equal(1ul, skel.Bss.SleepableRuns);
            if (KernelHasKfunc("bpf_copy_from_user_str"))
            {
                Assert.Equal(text.Length, (int)skel.Bss.CopyErr); // bytes copied, NUL included
                Assert.Equal(BitConverter.ToUInt64(text), skel.Bss.Copied);
            }
            else
            {
                // 6.3 to 6.11: the weak kfunc is absent and its call was pruned as dead code.
                Assert.Equal(0L, skel.Bss.CopyErr);
                TestContext.Current.TestOutputHelper?.WriteLine($"this kernel ({Environment.OSVersion.Version}) has no bpf_copy_from_user_str (Linux 6.12): only the run is checked");
            }
        }
        finally
        {
            NativeMemory.Free(user);
        }
    }

    [Fact]
    public void SleepableProgram_BoundToAMemberThatIsNotSleepable_IsRefusedByTheKernel()
    {
        RequireSleepableMember();
        using var skel = StructOpsSleepableSkeleton.Open();
        var dummy = skel.StructOps.EbpfDummy;
        dummy.TestSleepable = null;
        dummy.Test1 = skel.Programs.EbpfSleepable;
        var e = Assert.ThrowsAny<BpfException>(() => skel.Load());
        TestContext.Current.TestOutputHelper?.WriteLine(e.Message);
        Assert.Equal("ebpf_sleepable", e.ProgramName);
        var verifier = Assert.IsType<BpfVerifierException>(e);
        Assert.Contains("test_1", verifier.VerifierLog);
        Assert.False(skel.Programs.EbpfTest1.Program.IsLoaded); // test_1's own program: no map points to it now
    }
}
