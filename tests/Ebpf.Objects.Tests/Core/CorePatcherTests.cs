using System;
using System.Linq;
using System.Threading;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Core;
using Xunit;
using static Ebpf.Objects.Tests.Core.CoreTestUtil;

namespace Ebpf.Objects.Tests.Core;

/// <summary>Instruction patching (bpf_core_patch_insn) through <see cref="CoreRelocator.Apply"/>.</summary>
public class CorePatcherTests
{
    // local:  struct s { unsigned int flags; int prio; long val; struct s *next; int missing; };  enum e { V = 7 }
    // target: struct s { u64 flags; long prio; int val; int *next; }  (flags at 8, prio at 16, val at 24 or beyond, next at 32); type id 5
    private static (BtfSpec Local, int S, int E, BtfSpec Target) Btf(uint valOffset = 24)
    {
        var lb = new BtfBuilder();
        int li = lb.AddInt("int", 4, BtfIntEncoding.Signed);
        int lu = lb.AddInt("unsigned int", 4);
        int ll = lb.AddInt("long", 8, BtfIntEncoding.Signed);
        int ls = lb.AddStruct("s", 28);
        int lp = lb.AddPointer(ls);
        ls = lb.AddStruct("s", 28, new BtfBuilder.Member("flags", lu, 0), new BtfBuilder.Member("prio", li, 32), new BtfBuilder.Member("val", ll, 64),
            new BtfBuilder.Member("next", lp, 128), new BtfBuilder.Member("missing", li, 192));
        int le = lb.AddEnum64("e", 8, false, ("V", 7), ("W", 0x1_0000_0001UL));
        foreach (var a in new[] { "0", "1", "0:0", "0:1", "0:2", "0:3", "0:4" })
            lb.AddString(a);
        var tb = new BtfBuilder();
        int ti = tb.AddInt("int", 4, BtfIntEncoding.Signed);
        int tu = tb.AddInt("long unsigned int", 8);
        int tl = tb.AddInt("long", 8, BtfIntEncoding.Signed);
        int tp = tb.AddPointer(ti);
        tb.AddStruct("s", (int)(valOffset + 16), new BtfBuilder.Member("flags", tu, 64), new BtfBuilder.Member("prio", tl, 128), new BtfBuilder.Member("val", ti, valOffset * 8),
            new BtfBuilder.Member("next", tp, 256));
        tb.AddEnum64("e", 8, false, ("W", 0x2_0000_0003UL), ("V", 9));
        return (BtfSpec.Parse(lb.Build()), ls, le, BtfSpec.Parse(tb.Build()));
    }

    private static CoreRelocationResult Apply1(BpfInstruction[] insns, int index, BtfSpec local, int type, string access, CoreReloKind kind, BtfSpec target)
    {
        var results = CoreRelocator.Apply(insns, 0, "sec", "prog", new[] { (0, Relo(local, index, type, access, kind)) }, local, new CoreCandidateCache(new CoreTargets(target, "k")));
        return Assert.Single(results);
    }

    [Fact]
    public void AluImmediateIsValidatedThenPatched()
    {
        var (local, s, _, target) = Btf();
        var insns = new[] { AluMovImm(1, 8) };
        var r = Apply1(insns, 0, local, s, "0:2", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(CoreRelocationStatus.Applied, r.Status);
        Assert.Equal(24, insns[0].Immediate);
        Assert.Equal((8L, 24L), (r.OldValue!.Value, r.NewValue!.Value));

        var bad = new[] { AluMovImm(1, 9) };
        var e = Apply1(bad, 0, local, s, "0:2", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(CoreRelocationStatus.Failed, e.Status);
        Assert.Equal(CoreErrorKind.InstructionValueMismatch, e.ErrorKind);
        Assert.Equal("unexpected insn #0 (ALU/ALU64) value: got 9, exp 8 -> 24", e.Error);
        Assert.Equal(9, bad[0].Immediate);

        var reg = new[] { new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpAdd | BpfOpCodes.SourceX, 1, 2, 0, 8) };
        Assert.Equal(CoreErrorKind.UnexpectedInstruction, Apply1(reg, 0, local, s, "0:2", CoreReloKind.FieldByteOffset, target).ErrorKind);
    }

    [Fact]
    public void LoadsAreResizedForUnsignedIntegersAndPoisonedForSignedOnes()
    {
        var (local, s, _, target) = Btf();
        var flags = new[] { Ldx(BpfOpCodes.SizeW, 0, 1, 0) };
        var r = Apply1(flags, 0, local, s, "0:0", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(CoreRelocationStatus.Applied, r.Status);
        Assert.Equal(8, flags[0].Offset);
        Assert.Equal(BpfOpCodes.ClassLdx | BpfOpCodes.ModeMem | BpfOpCodes.SizeDW, flags[0].OpCode);
        Assert.Equal((4, 8), (r.OldMemorySize!.Value, r.NewMemorySize!.Value));

        // A sign-extending load (LDSX, mode 0x80) keeps its mode when it is resized... but a signed field cannot be.
        var prio = new[] { new BpfInstruction((byte)(BpfOpCodes.ClassLdx | BpfOpCodes.ModeMemSx | BpfOpCodes.SizeW), 0, 1, 4, 0) };
        var p = Apply1(prio, 0, local, s, "0:1", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(CoreRelocationStatus.Poisoned, p.Status);
        Assert.Contains("accesses field incorrectly", p.Error);
        Assert.True(prio[0].IsPoison);

        // The same relocation on an ALU instruction is fine: only loads/stores care about the size.
        var alu = new[] { AluAddImm(1, 4) };
        Assert.Equal(16, Apply1(alu, 0, local, s, "0:1", CoreReloKind.FieldByteOffset, target).NewValue);

        // The load must have had the local field's size to be resized.
        var narrow = new[] { Ldx(BpfOpCodes.SizeB, 0, 1, 0) };
        var n = Apply1(narrow, 0, local, s, "0:0", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(CoreErrorKind.MemorySizeMismatch, n.ErrorKind);
        Assert.Equal("insn #0 (LDX/ST/STX) unexpected mem size: got 1, exp 4", n.Error);

        // Pointers keep their size.
        var next = new[] { Ldx(BpfOpCodes.SizeDW, 0, 1, 16) };
        Assert.Equal(32, Apply1(next, 0, local, s, "0:3", CoreReloKind.FieldByteOffset, target).NewValue);
    }

    [Fact]
    public void SignExtendedLoadsKeepTheirModeWhenResized()
    {
        var lb = new BtfBuilder();
        int lu = lb.AddInt("unsigned int", 4);
        int ls = lb.AddStruct("t", 4, new BtfBuilder.Member("x", lu, 0));
        lb.AddString("0:0");
        var local = BtfSpec.Parse(lb.Build());
        var tb = new BtfBuilder();
        int tu = tb.AddInt("unsigned short", 2);
        tb.AddStruct("t", 4, new BtfBuilder.Member("x", tu, 16));
        var target = BtfSpec.Parse(tb.Build());
        var insns = new[] { new BpfInstruction((byte)(BpfOpCodes.ClassLdx | BpfOpCodes.ModeMemSx | BpfOpCodes.SizeW), 0, 1, 0, 0) };
        var r = Apply1(insns, 0, local, ls, "0:0", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(CoreRelocationStatus.Applied, r.Status);
        Assert.Equal((byte)(BpfOpCodes.ClassLdx | BpfOpCodes.ModeMemSx | BpfOpCodes.SizeH), insns[0].OpCode);
        Assert.Equal(2, insns[0].Offset);
    }

    [Fact]
    public void StoresPatchTheOffsetNotTheImmediate()
    {
        var (local, s, _, target) = Btf();
        var st = new[] { new BpfInstruction((byte)(BpfOpCodes.ClassSt | BpfOpCodes.ModeMem | BpfOpCodes.SizeDW), 1, 0, 8, 42) };
        var r = Apply1(st, 0, local, s, "0:2", CoreReloKind.FieldByteOffset, target);
        // long -> int: signed, cannot be resized: poisoned.
        Assert.Equal(CoreRelocationStatus.Poisoned, r.Status);
        var stx = new[] { new BpfInstruction((byte)(BpfOpCodes.ClassStx | BpfOpCodes.ModeMem | BpfOpCodes.SizeW), 1, 2, 0, 0) };
        Apply1(stx, 0, local, s, "0:0", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(8, stx[0].Offset);
        Assert.Equal(BpfOpCodes.SizeDW, stx[0].Size);
        var st2 = new[] { new BpfInstruction((byte)(BpfOpCodes.ClassSt | BpfOpCodes.ModeMem | BpfOpCodes.SizeDW), 1, 0, 16, 42) };
        Apply1(st2, 0, local, s, "0:3", CoreReloKind.FieldByteOffset, target);
        Assert.Equal((32, 42), ((int)st2[0].Offset, st2[0].Immediate));
    }

    [Fact]
    public void OffsetsBeyondS16AreAnError()
    {
        var (local, s, _, target) = Btf(valOffset: 40000);
        var insns = new[] { Ldx(BpfOpCodes.SizeDW, 0, 1, 8) };
        var r = Apply1(insns, 0, local, s, "0:2", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(CoreErrorKind.OffsetOutOfRange, r.ErrorKind);
        Assert.Equal("insn #0 (LDX/ST/STX) value too big: 40000", r.Error);
        Assert.True(r.IsFatal);
        // An ALU immediate has room.
        var alu = new[] { AluAddImm(1, 8) };
        Assert.Equal(40000, Apply1(alu, 0, local, s, "0:2", CoreReloKind.FieldByteOffset, target).NewValue);
    }

    [Fact]
    public void LdImm64CarriesSixtyFourBitValuesAndIsPoisonedWhole()
    {
        var (local, _, e, target) = Btf();
        var insns = LdImm64(1, 0x1_0000_0001UL).Concat(LdImm64(2, 7)).Concat(new[] { Exit() }).ToArray();
        var results = CoreRelocator.Apply(insns, 0, "sec", "prog", new[]
        {
            (0, Relo(local, 0, e, "1", CoreReloKind.EnumValueValue)),
            (1, Relo(local, 2, e, "0", CoreReloKind.EnumValueValue)),
        }, local, new CoreCandidateCache(new CoreTargets(target, "k")));
        Assert.All(results, r => Assert.Equal(CoreRelocationStatus.Applied, r.Status));
        Assert.Equal(0x2_0000_0003L, results[0].NewValue);
        Assert.Equal((3, 2), (insns[0].Immediate, insns[1].Immediate));
        Assert.Equal((9, 0), (insns[2].Immediate, insns[3].Immediate));

        // A missing enumerator poisons both halves.
        var lb = new BtfBuilder();
        int le = lb.AddEnum64("e", 8, false, ("GONE", 5));
        lb.AddString("0");
        var local2 = BtfSpec.Parse(lb.Build());
        var p = LdImm64(1, 5).Concat(new[] { Exit() }).ToArray();
        var pr = Apply1(p, 0, local2, le, "0", CoreReloKind.EnumValueValue, target);
        Assert.Equal(CoreRelocationStatus.Poisoned, pr.Status);
        Assert.True(p[0].IsPoison && p[1].IsPoison);
        Assert.True(p[2].IsExit);

        // The second slot must look like one.
        var malformed = LdImm64(1, 7);
        malformed[1].Offset = 1;
        Assert.Equal("insn #0 (LDIMM64) has unexpected form", Apply1(malformed, 0, local, e, "0", CoreReloKind.EnumValueValue, target).Error);
        var truncated = LdImm64(1, 7).Take(1).ToArray();
        Assert.Equal(CoreErrorKind.UnexpectedInstruction, Apply1(truncated, 0, local, e, "0", CoreReloKind.EnumValueValue, target).ErrorKind);
    }

    [Fact]
    public void UnpatchableInstructionsAreErrors()
    {
        var (local, s, _, target) = Btf();
        var jmp = new[] { new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpJa, 0, 0, 8, 0) };
        var r = Apply1(jmp, 0, local, s, "0:2", CoreReloKind.FieldByteOffset, target);
        Assert.Equal(CoreErrorKind.UnexpectedInstruction, r.ErrorKind);
        Assert.StartsWith("trying to relocate unrecognized insn #0, code:0x5", r.Error);
        // ...unless the relocation is unresolvable: poisoning never looks at the instruction.
        var jmp2 = new[] { new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpJa, 0, 0, 8, 0) };
        Assert.Equal(CoreRelocationStatus.Poisoned, Apply1(jmp2, 0, local, s, "0:4", CoreReloKind.FieldByteOffset, target).Status);
    }

    [Fact]
    public void BitfieldValuesAndTypeIdsAreNotValidated()
    {
        var (local, s, _, target) = Btf();
        var insns = LdImm64(1, 12345).ToArray();
        var r = Apply1(insns, 0, local, s, "0", CoreReloKind.TypeIdTarget, target);
        Assert.Equal(CoreRelocationStatus.Applied, r.Status);
        Assert.Equal(5L, r.NewValue);
        var l = LdImm64(1, 999).ToArray();
        Assert.Equal((long)s, Apply1(l, 0, local, s, "0", CoreReloKind.TypeIdLocal, target).NewValue);
    }

    [Fact]
    public void ApplyUsesTheProgramsBaseIndexAndReportsOutOfRangeRecords()
    {
        var (local, s, _, target) = Btf();
        // A program that starts at section instruction 10.
        var prog = new[] { AluMovImm(0, 0), AluAddImm(1, 8), Exit() };
        var cache = new CoreCandidateCache(new CoreTargets(target, "k"));
        var results = CoreRelocator.Apply(prog, 10, "sec", "p", new[]
        {
            (3, Relo(local, 11, s, "0:2", CoreReloKind.FieldByteOffset)),
            (4, Relo(local, 20, s, "0:2", CoreReloKind.FieldByteOffset)),
        }, local, cache);
        Assert.Equal(24, prog[1].Immediate);
        Assert.Equal((11, 1, 3), (results[0].InstructionIndex, results[0].ProgramInstructionIndex!.Value, results[0].RecordIndex));
        Assert.Equal(CoreErrorKind.InstructionOutOfRange, results[1].ErrorKind);
    }

    [Fact]
    public void ApplyHonoursCancellation()
    {
        var (local, s, _, target) = Btf();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => CoreRelocator.Apply(new[] { AluAddImm(1, 8) }, 0, "sec", "p",
            new[] { (0, Relo(local, 0, s, "0:2", CoreReloKind.FieldByteOffset)) }, local, new CoreCandidateCache(new CoreTargets(target, "k")), cts.Token));
    }
}
