using System.Linq;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Core;
using Xunit;
using static Ebpf.Objects.Tests.Core.CoreTestUtil;

namespace Ebpf.Objects.Tests.Core;

/// <summary>
/// The project's story: a tracer reading task_struct->comm at a hardcoded 0x620 broke when a kernel moved it to
/// 0x624. With CO-RE the same instructions are patched at load time for each kernel, and a kernel without the field
/// gets a poisoned instruction and an error that names the struct, the field and the kernel.
/// </summary>
public class CoreStoryTests
{
    /// <summary>The program's own view: struct task_struct { int pid; ...; char comm[16]; } __attribute__((preserve_access_index)).</summary>
    private static BtfSpec LocalBtf(out int task)
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int chr = b.AddInt("char", 1, BtfIntEncoding.Signed);
        int arr = b.AddArray(chr, i32, 16);
        task = b.AddStruct("task_struct", 0x640,
            new BtfBuilder.Member("pid", i32, 0x4e0 * 8),
            new BtfBuilder.Member("comm", arr, 0x620 * 8));
        b.AddString("0:1");
        b.AddString("0:1:0");
        return BtfSpec.Parse(b.Build());
    }

    /// <summary>A kernel whose task_struct has comm at <paramref name="commOffset"/> (or no comm at all).</summary>
    private static BtfSpec Kernel(int? commOffset)
    {
        var b = new BtfBuilder();
        int i32 = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int chr = b.AddInt("char", 1);
        int arr = b.AddArray(chr, i32, 16);
        b.AddStruct("list_head", 16);
        var members = new System.Collections.Generic.List<BtfBuilder.Member>
        {
            new BtfBuilder.Member("__state", i32, 0x18 * 8),
            new BtfBuilder.Member("pid", i32, 0x4e8 * 8),
        };
        if (commOffset.HasValue)
            members.Add(new BtfBuilder.Member("comm", arr, (uint)commOffset.Value * 8));
        else
            members.Add(new BtfBuilder.Member("name", arr, 0x600 * 8));
        b.AddComposite(BtfKind.Struct, "task_struct", 0x680, members, null);
        return BtfSpec.Parse(b.Build());
    }

    /// <summary>r1 += offsetof(task_struct, comm) (what BPF_CORE_READ emits), then r0 = *(u8 *)(r2 + offsetof(comm[0])).</summary>
    private static BpfInstruction[] Program() => new[]
    {
        AluAddImm(1, 0x620),
        Ldx(BpfOpCodes.SizeB, 0, 2, 0x620),
        Exit(),
    };

    private static (BpfInstruction[] Insns, System.Collections.Generic.IReadOnlyList<CoreRelocationResult> Results) Relocate(BtfSpec local, int task, BtfSpec kernel, string label)
    {
        var insns = Program();
        var records = new[]
        {
            (0, Relo(local, 0, task, "0:1", CoreReloKind.FieldByteOffset)),
            (1, Relo(local, 1, task, "0:1:0", CoreReloKind.FieldByteOffset)),
        };
        var cache = new CoreCandidateCache(new CoreTargets(kernel, label));
        var results = CoreRelocator.Apply(insns, 0, "tp/syscalls/sys_enter_getpid", "handle_getpid", records, local, cache, TestContext.Current.CancellationToken);
        return (insns, results);
    }

    [Fact]
    public void CommAt0x620StaysAt0x620()
    {
        var local = LocalBtf(out int task);
        var (insns, results) = Relocate(local, task, Kernel(0x620), "vmlinux 6.1.0-56-amd64");
        Assert.All(results, r => Assert.Equal(CoreRelocationStatus.Applied, r.Status));
        Assert.Equal(0x620, insns[0].Immediate);
        Assert.Equal(0x620, insns[1].Offset);
        Assert.Equal("<byte_off> [4] struct task_struct.comm (0:1 @ offset 1568)", results[0].LocalSpec);
        Assert.Equal("task_struct.comm", results[0].FieldPath);
        Assert.Equal("task_struct.comm[0]", results[1].FieldPath);
    }

    [Fact]
    public void CommMovedTo0x624IsPatchedTo0x624()
    {
        var local = LocalBtf(out int task);
        var (insns, results) = Relocate(local, task, Kernel(0x624), "vmlinux 6.12.117+deb12-amd64");
        Assert.All(results, r => Assert.Equal(CoreRelocationStatus.Applied, r.Status));
        Assert.Equal(0x624, insns[0].Immediate);
        Assert.Equal(0x624, insns[1].Offset);
        Assert.Equal(BpfOpCodes.ClassLdx | BpfOpCodes.ModeMem | BpfOpCodes.SizeB, insns[1].OpCode);
        Assert.Equal(0x620, results[0].OldValue);
        Assert.Equal(0x624, results[0].NewValue);
        Assert.Equal("<byte_off> [5] struct task_struct.comm (0:2 @ offset 1572)", results[0].TargetSpec);
        Assert.Equal(5, results[0].TargetTypeId);
        Assert.Equal("vmlinux", results[0].TargetSource);
        Assert.Equal("handle_getpid", results[0].Program);
        Assert.Equal(0, results[0].RecordIndex);
        Assert.Equal(1, results[1].RecordIndex);
        Assert.Null(results[0].Error);
    }

    [Fact]
    public void OldKernelWithoutCommPoisonsAndNamesStructFieldAndKernel()
    {
        var local = LocalBtf(out int task);
        var (insns, results) = Relocate(local, task, Kernel(null), "vmlinux 4.19.0-old");
        foreach (var r in results)
        {
            Assert.Equal(CoreRelocationStatus.Poisoned, r.Status);
            Assert.True(r.Poisoned);
            Assert.False(r.IsFatal);
            Assert.Null(r.NewValue);
            Assert.Contains("struct task_struct", r.Error);
            Assert.Contains("task_struct.comm", r.Error);
            Assert.Contains("vmlinux 4.19.0-old", r.Error);
        }
        Assert.True(insns[0].IsPoison);
        Assert.True(insns[1].IsPoison);
        Assert.Equal(BpfInstruction.Poison, insns[0]);
        Assert.True(insns[2].IsExit);
        Assert.Equal(
            "struct task_struct: field task_struct.comm (0:1) not found in vmlinux 4.19.0-old: no candidate has a compatible field at that path (1 candidate: [5] struct task_struct in vmlinux)",
            results[0].Error);
    }

    [Fact]
    public void KernelWithoutTheStructNamesTheMissingType()
    {
        var local = LocalBtf(out int task);
        var b = new BtfBuilder();
        b.AddInt("int", 4, BtfIntEncoding.Signed);
        var (insns, results) = Relocate(local, task, BtfSpec.Parse(b.Build()), "vmlinux 3.10 (no task_struct)");
        Assert.All(results, r => Assert.Equal(CoreRelocationStatus.Poisoned, r.Status));
        Assert.Equal("struct task_struct: field task_struct.comm (0:1) not found in vmlinux 3.10 (no task_struct): it has no struct named 'task_struct'", results[0].Error);
        Assert.Empty(results[0].Candidates);
        Assert.True(insns.Take(2).All(i => i.IsPoison));
    }

    [Fact]
    public void RealObjectIsRelocatedForTwoDebianKernels()
    {
        var obj = LoadObject(System.IO.Path.Combine(BpfDir, "core_comm.bpf.o"));
        if (obj == null)
            Assert.Skip("bpf/core_comm.bpf.o has no BTF");
        foreach (var k in new[] { "6.1.0-56-amd64", "6.12.117+deb12-amd64" })
        {
            var targets = StoredKernel(System.IO.Path.Combine(KernelBtfDir, k + ".btf.gz"));
            var report = CoreRelocator.RelocateObject(obj!.Elf, obj.Btf, obj.Ext!, targets, TestContext.Current.CancellationToken);
            var r = Assert.Single(report.Results);
            Assert.Equal(CoreRelocationStatus.Applied, r.Status);
            Assert.Equal("task_struct.comm", r.FieldPath);
            Assert.Equal("handle_getpid", r.Program);
            // Debian's kernels carry a much bigger task_struct than the one bpf/vmlinux.h describes.
            Assert.Equal(2976, r.NewValue);
            var insns = report.GetInstructions("tp/syscalls/sys_enter_getpid")!;
            Assert.Equal(2976, insns[r.InstructionIndex].Immediate);
            Assert.False(report.HasFatalErrors);
        }
    }
}
