using System;
using System.IO;
using System.Linq;
using System.Threading;
using Ebpf.Asm;
using Ebpf.Core;
using Xunit;
using static Ebpf.Objects.Tests.Core.CoreTestUtil;

namespace Ebpf.Objects.Tests.Core;

/// <summary>The whole-object driver on real objects (against the stored Debian kernels, no root needed).</summary>
public class CoreRelocatorTests
{
    private static string DataObject(string name) => Path.Combine(CoreOracleTests.DataDir, name);

    private static CoreTargets Debian61 => StoredKernel(Path.Combine(KernelBtfDir, "6.1.0-56-amd64.btf.gz"));

    [Fact]
    public void PatchedSectionsAgreeWithTheResults()
    {
        var obj = LoadObject(DataObject("adv_fields_c14.bpf.o"))!;
        var report = CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, Debian61, TestContext.Current.CancellationToken);
        Assert.Equal(obj.CoreRecordCount, report.Results.Count);
        Assert.Equal(new[] { ".text", "tp/syscalls/sys_enter_getpid", "tp_btf/sched_switch" }, report.Sections.Select(s => s.Name));
        foreach (var r in report.Results)
        {
            var insns = report.GetInstructions(r.Section)!;
            var original = BpfInstruction.ReadAll(obj.Elf.FindSection(r.Section)!.Data.Span, obj.Elf.IsLittleEndian);
            switch (r.Status)
            {
                case CoreRelocationStatus.Applied:
                    Assert.Equal(r.NewValue, CoreRelocator.InstructionValue(insns, r.InstructionIndex));
                    break;
                case CoreRelocationStatus.Poisoned:
                    Assert.True(insns[r.InstructionIndex].IsPoison);
                    Assert.NotNull(r.Error);
                    break;
                case CoreRelocationStatus.Failed:
                    Assert.Equal(original[r.InstructionIndex], insns[r.InstructionIndex]);
                    Assert.NotNull(r.Error);
                    break;
            }
            Assert.Equal(r.OldValue, CoreRelocator.InstructionValue(original, r.InstructionIndex));
        }
        // The ELF bytes are left alone.
        var again = CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, Debian61, TestContext.Current.CancellationToken);
        Assert.Equal(report.Results.Select(r => r.ToString()), again.Results.Select(r => r.ToString()));
        Assert.Equal(report.Sections.SelectMany(s => s.Instructions), again.Sections.SelectMany(s => s.Instructions));
    }

    [Fact]
    public void ProgramsAreTheFunctionsContainingTheInstructions()
    {
        var obj = LoadObject(DataObject("adv_fields_c14.bpf.o"))!;
        var report = CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, Debian61, TestContext.Current.CancellationToken);
        var text = report.Results.Where(r => r.Section == ".text").ToList();
        Assert.Equal(new[] { "global_read_tgid", "sub_read_pid" }, text.Select(r => r.Program));
        // Program-relative numbers restart in each function; record numbers restart in each section.
        Assert.Equal(new[] { 0, 1 }, text.Select(r => r.RecordIndex));
        Assert.All(text, r => Assert.True(r.ProgramInstructionIndex < r.InstructionIndex || r.Program == "global_read_tgid"));
        Assert.Equal("offsets", report.Results.First(r => r.Section.StartsWith("tp/", StringComparison.Ordinal)).Program);
    }

    [Fact]
    public void FatalErrorsAreReportedAndRefuseTheObject()
    {
        var obj = LoadObject(DataObject("mut_values.bpf.o"))!;
        var report = CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, Debian61, TestContext.Current.CancellationToken);
        Assert.True(report.HasFatalErrors);
        var first = report.Results.First(r => r.IsFatal);
        Assert.Equal(".text", first.Section);
        Assert.Equal("unexpected insn #3 (ALU/ALU64) value: got 1269, exp 1268 -> 2420", first.Error);
        var e = Assert.Throws<BpfCoreRelocationException>(() => report.ThrowIfFatal());
        Assert.Equal("prog 'global_read_tgid': relo #0: unexpected insn #3 (ALU/ALU64) value: got 1269, exp 1268 -> 2420 (target vmlinux 6.1.0-56-amd64)", e.Message);
        Assert.Contains("error: unexpected insn", first.ToString());
    }

    [Fact]
    public void RecordsOfEliminatedWeakSubprogramsAreSkipped()
    {
        var obj = LoadObject(DataObject("adv_weak_linked.bpf.o"))!;
        var report = CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, Debian61, TestContext.Current.CancellationToken);
        var skipped = Assert.Single(report.Results, r => r.Status == CoreRelocationStatus.Skipped);
        Assert.Null(skipped.Program);
        Assert.Contains("no function contains instruction #1", skipped.Note);
        Assert.False(report.HasFatalErrors);
    }

    [Fact]
    public void AnonymousRootTypesAreFatalTypedefedOnesArePoisoned()
    {
        var obj = LoadObject(DataObject("adv_anon_c14.bpf.o"))!;
        var report = CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, Debian61, TestContext.Current.CancellationToken);
        Assert.Equal(CoreRelocationStatus.Applied, report.Results[0].Status); // local_type_id of a pointer
        Assert.Equal("ptr <anon>", report.Results[0].LocalTypeName);
        var typedefed = report.Results[1];
        Assert.Equal(CoreRelocationStatus.Poisoned, typedefed.Status);
        Assert.StartsWith("typedef anon_pair_t: field anon_pair_t.b (0:1) not found in vmlinux 6.1.0-56-amd64", typedefed.Error);
        var anon = report.Results[4];
        Assert.Equal(CoreRelocationStatus.Failed, anon.Status);
        Assert.Equal(CoreErrorKind.AnonymousType, anon.ErrorKind);
        Assert.Equal("struct <anon>", anon.LocalTypeName);
    }

    [Fact]
    public void RelocationHonoursCancellation()
    {
        var obj = LoadObject(DataObject("adv_fields_c14.bpf.o"))!;
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => CoreRelocator.RelocateObject(obj.Elf, obj.Btf, obj.Ext!, Debian61, cts.Token));
    }

    [Fact]
    public void ResultsDescribeThemselvesLikeLibbpfsLog()
    {
        var obj = LoadObject(Path.Combine(BpfDir, "core_comm.bpf.o"));
        if (obj == null)
            Assert.Skip("bpf/core_comm.bpf.o is missing");
        var r = CoreRelocator.RelocateObject(obj!.Elf, obj.Btf, obj.Ext!, Debian61, TestContext.Current.CancellationToken).Results.Single();
        Assert.Equal("sec 'tp/syscalls/sys_enter_getpid' prog 'handle_getpid': relo #0: <byte_off> task_struct.comm (0:125) insn #14: 1752 -> 2976", r.ToString());
        Assert.Equal("struct task_struct", r.LocalTypeName);
        Assert.Equal(2, r.Candidates.Count + r.Matched.Count);
        Assert.Equal("vmlinux 6.1.0-56-amd64", r.TargetLabel);
    }
}
