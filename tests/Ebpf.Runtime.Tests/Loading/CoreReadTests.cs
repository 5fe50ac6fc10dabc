using System;
using System.Linq;
using System.Runtime.InteropServices;
using Ebpf.Btf;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>CO-RE reads of task_struct return what the kernel itself says.</summary>
[Collection(FdAccountingCollection.Name)]
public partial class CoreReadTests
{
    [LibraryImport("libc", EntryPoint = "getpid")]
    private static partial int GetPid();

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetPpid();

    [StructLayout(LayoutKind.Sequential)]
    private struct CoreFieldsOut
    {
        public ulong Calls;
        public int Tgid;
        public int Ppid;
        public ulong NofileCur;
        public uint HasMm;
        public uint CommOffset;
        public uint CommSize;
        public uint StateExists;
        public uint PrioSigned;
        public uint FlagsSigned;
        public uint SchedResetOnFork;
        public uint InExecve;
    }

    [Fact]
    public void TaskStructFieldsMatchTheKernelsView()
    {
        TestEnvironment.RequireTracefs();
        TestEnvironment.RequireKernelBtf();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("core_fields"));
        obj.GetDataSection(".rodata").Write(0, GetPid());
        obj.GetProgram("direct_reads").Autoload = false;
        obj.Load();
        var prog = obj.GetProgram("probe_reads");
        Assert.NotEmpty(prog.CoreRelocations);
        Assert.DoesNotContain(prog.CoreRelocations, r => r.Poisoned);
        using (prog.Attach())
        {
            GetPid();
            GetPid();
        }
        var bss = obj.GetDataSection(".bss");
        var o = bss.Read<CoreFieldsOut>((int)bss.FindVariable("probed")!.Offset);
        Assert.True(o.Calls >= 2);
        Assert.Equal(Environment.ProcessId, o.Tgid);
        Assert.Equal(GetPpid(), o.Ppid);
        Assert.Equal(1u, o.HasMm);
        Assert.Equal(16u, o.CommSize);
        // bpf_core_field_exists(task->__state): the field was called state before Linux 5.14, and CO-RE says which
        // this kernel has (core_flavors.bpf.o reads whichever exists).
        var vmlinuxTask = (BtfStruct)KernelBtf.Vmlinux[KernelBtf.Vmlinux.FindByName("task_struct", BtfKind.Struct)];
        Assert.Equal(vmlinuxTask.Members.Any(m => m.Name == "__state") ? 1u : 0u, o.StateExists);
        Assert.Equal(1u, o.PrioSigned);
        Assert.Equal(0u, o.FlagsSigned);
        Assert.True(o.NofileCur > 0);

        // The offset the program was patched with is the running kernel's own offset of task_struct.comm.
        var vmlinux = KernelBtf.Vmlinux;
        var task = (BtfStruct)vmlinux[vmlinux.FindByName("task_struct", BtfKind.Struct)];
        var comm = task.Members.Single(m => m.Name == "comm");
        Assert.Equal(comm.BitOffset / 8, o.CommOffset);
    }

    /// <summary>
    /// task_struct.state became __state in Linux 5.14: core_flavors.bpf.o picks the field this kernel has with
    /// bpf_core_field_exists() and loads on both layouts; the unguarded read of the old field loads only before 5.14.
    /// </summary>
    [Fact]
    public void TaskStateIsReadFromWhicheverFieldThisKernelHas()
    {
        TestEnvironment.RequireTracefs();
        TestEnvironment.RequireKernelBtf();
        var vmlinuxTask = (BtfStruct)KernelBtf.Vmlinux[KernelBtf.Vmlinux.FindByName("task_struct", BtfKind.Struct)];
        bool renamed = vmlinuxTask.Members.Any(m => m.Name == "__state");
        using (var obj = BpfObject.Open(TestEnvironment.Bpf("core_flavors")))
        {
            obj.GetDataSection(".rodata").Write(0, GetPid());
            obj.Load();
            var read = obj.GetProgram("read_state");
            Assert.Equal(1, read.CoreRelocations.Count(r => r.Poisoned)); // the read in the other layout's branch (dead here)
            using (read.Attach())
            {
                for (int i = 0; i < 3; i++) GetPid();
            }
            var bss = obj.GetDataSection(".bss");
            Assert.True(bss.Read<ulong>((int)bss.FindVariable("calls")!.Offset) >= 3);
            Assert.Equal(renamed ? 1u : 0u, bss.Read<uint>((int)bss.FindVariable("used_new_layout")!.Offset));
            Assert.Equal(0ul, bss.Read<ulong>((int)bss.FindVariable("state_value")!.Offset)); // TASK_RUNNING in a syscall
        }
        using (var obj = BpfObject.Open(TestEnvironment.Bpf("core_flavors")))
        {
            obj.GetProgram("read_state_unguarded").Autoload = true;
            if (renamed)
            {
                var e = Assert.Throws<BpfCoreRelocationException>(obj.Load);
                Assert.Contains("task_struct___pre514", e.Message);
                Assert.Contains("state", e.Message);
            }
            else
            {
                obj.Load();
                Assert.True(obj.GetProgram("read_state_unguarded").IsLoaded);
            }
        }
    }

    [Fact]
    public void CustomTargetBtfPathIsUsedForRelocation()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireKernelBtf();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("core_comm"), new BpfObjectOptions { TargetBtfPath = "/sys/kernel/btf/vmlinux" });
        obj.Load();
        var r = Assert.Single(obj.GetProgram("handle_getpid").CoreRelocations);
        Assert.Contains("/sys/kernel/btf/vmlinux", r.TargetLabel);
        Assert.False(r.Poisoned);
    }

    [Fact]
    public void MissingTargetBtfFileSaysWhatToDo()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("core_comm"), new BpfObjectOptions { TargetBtfPath = "/nonexistent/kernel.btf" });
        int before = TestEnvironment.BaselineFdCount();
        var e = Assert.Throws<BpfEnvironmentException>(obj.Load);
        Assert.Contains("/nonexistent/kernel.btf", e.Message);
        Assert.Equal(before, TestEnvironment.OpenFdCount());
    }

    [Fact]
    public void OtherKernelsBtfRelocatesToItsOffsets()
    {
        TestEnvironment.RequireRoot();
        // The Debian 6.1 kernel's BTF (committed test data) places task_struct.comm elsewhere than this kernel.
        string path = TestEnvironment.Debian61Btf();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("core_fields"), new BpfObjectOptions { TargetBtfPath = path });
        obj.GetProgram("direct_reads").Autoload = false;
        // Programs relocated for another kernel may still verify here; what matters is the patched offsets.
        try { obj.Load(); } catch (BpfVerifierException) { }
        var other = KernelBtf.LoadFile(path);
        var task = (BtfStruct)other[other.FindByName("task_struct", BtfKind.Struct)];
        long commOffset = task.Members.Single(m => m.Name == "comm").BitOffset / 8;
        var relocs = obj.GetProgram("probe_reads").CoreRelocations;
        Assert.Contains(relocs, r => r.FieldPath != null && r.FieldPath.Contains("comm") && r.Kind == CoreReloKind.FieldByteOffset && r.NewValue == commOffset);
    }
}
