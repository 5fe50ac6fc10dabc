using System;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// USDT argument specs decoded for the architecture of the probed binary, as libbpf's usdt.c does: the notes of
/// native/usdt_args.c compiled for x86-64 and arm64 (make-usdt-fixtures.sh), read from the binaries, and hand-written
/// forms. Runs on any host: the decoder follows the binary's ELF machine, not the process.
/// </summary>
public class UsdtArgumentTests
{
    private const int Const = UsdtArgSpec.Constant, Reg = UsdtArgSpec.Register, Deref = UsdtArgSpec.RegisterDeref;

    private static string Fixture(string arch) =>
        Path.Combine(TestEnvironment.RepoRoot, "tests", "Ebpf.Runtime.Tests", "Attach", "native", $"usdt_args.{arch}.so");

    /// <summary>Every probe of a fixture: its ELF machine and each probe's decoded arguments.</summary>
    private static (ushort Machine, (string Name, string Args, UsdtArgSpec[] Specs)[] Probes) Read(string arch)
    {
        var elf = ElfBinary.Open(Fixture(arch));
        try
        {
            var syntax = UsdtArguments.For(elf.Machine, elf.Path);
            var probes = Usdt.ReadNotes(elf, "ebpf_args", null)
                .Select(n => (n.Name, n.Arguments, syntax.Parse(n.Arguments, "ebpf_args:" + n.Name)))
                .ToArray();
            return (elf.Machine, probes);
        }
        finally
        {
            elf.Close();
        }
    }

    private static (int, short, long, bool, byte) Tuple(UsdtArgSpec a) => (a.Type, a.RegisterOffset, (long)a.ValueOrOffset, a.Signed, a.BitShift);

    private static UsdtArgSpec[] Probe((ushort, (string Name, string Args, UsdtArgSpec[] Specs)[] Probes) f, string name) =>
        f.Probes.Single(p => p.Name == name).Specs;

    [Fact]
    public void Arm64NotesFromTheCrossCompilerDecodeToUserPtRegsOffsets()
    {
        var f = Read("arm64");
        Assert.Equal(UsdtArguments.MachineAArch64, f.Machine);
        Assert.Equal("arm64", UsdtArguments.For(f.Machine, "x").Architecture);
        Assert.Equal(new[] { "regs", "consts", "many", "stack" }, f.Probes.Select(p => p.Name).ToArray());
        // -8@x0 -4@x1 -2@x2 1@x3: user_pt_regs.regs[n] at 8n; the size gives sign and shift
        Assert.Equal(new[] { (Reg, (short)0, 0L, true, (byte)0), (Reg, (short)8, 0L, true, (byte)32), (Reg, (short)16, 0L, true, (byte)48), (Reg, (short)24, 0L, false, (byte)56) },
            Probe(f, "regs").Select(Tuple).ToArray());
        // -4@5 -4@-17 -8@123456789012
        Assert.Equal(new[] { (Const, (short)0, 5L, true, (byte)32), (Const, (short)0, -17L, true, (byte)32), (Const, (short)0, 123456789012L, true, (byte)0) },
            Probe(f, "consts").Select(Tuple).ToArray());
        // x0..x7, then the stack: -8@[sp] -8@[sp, 8] (user_pt_regs.sp at 248)
        var many = Probe(f, "many");
        Assert.Equal(10, many.Length);
        for (int i = 0; i < 8; i++) Assert.Equal((Reg, (short)(8 * i), 0L, true, (byte)0), Tuple(many[i]));
        Assert.Equal((Deref, (short)248, 0L, true, (byte)0), Tuple(many[8]));
        Assert.Equal((Deref, (short)248, 8L, true, (byte)0), Tuple(many[9]));
        // memory operands: -8@[sp] -4@[sp, 8] -2@[sp, 12] 1@[sp, 14]
        Assert.Equal(new[] { (Deref, (short)248, 0L, true, (byte)0), (Deref, (short)248, 8L, true, (byte)32), (Deref, (short)248, 12L, true, (byte)48), (Deref, (short)248, 14L, false, (byte)56) },
            Probe(f, "stack").Select(Tuple).ToArray());
    }

    [Fact]
    public void X86_64NotesFromTheCompilerDecodeToPtRegsOffsets()
    {
        var f = Read("x86_64");
        Assert.Equal(UsdtArguments.MachineX86_64, f.Machine);
        // -8@%rdi -4@%esi -2@%dx 1@%cl
        Assert.Equal(new[] { (Reg, (short)112, 0L, true, (byte)0), (Reg, (short)104, 0L, true, (byte)32), (Reg, (short)96, 0L, true, (byte)48), (Reg, (short)88, 0L, false, (byte)56) },
            Probe(f, "regs").Select(Tuple).ToArray());
        Assert.Equal(new[] { 5L, -17L, 123456789012L }, Probe(f, "consts").Select(a => (long)a.ValueOrOffset).ToArray());
        Assert.All(Probe(f, "consts"), a => Assert.Equal(Const, a.Type));
        var many = Probe(f, "many");
        Assert.Equal((Reg, (short)72, 0L, true, (byte)0), Tuple(many[4])); // %r8
        Assert.Equal((Deref, (short)152, 32L, true, (byte)0), Tuple(many[9])); // 32(%rsp)
        // -8@-24(%rsp) ... -1@-10(%rsp)
        Assert.Equal(new[] { -24L, -16L, -12L, -10L }, Probe(f, "stack").Select(a => (long)a.ValueOrOffset).ToArray());
    }

    [Fact]
    public void HandWrittenFormsDecodeLikeLibbpf()
    {
        var x86 = UsdtArguments.For(UsdtArguments.MachineX86_64, "x");
        var a = x86.Parse("-4@%edi 8@-16(%rbp) 2@$5 -1@(%rsp) 8@%r12", "p:n");
        Assert.Equal(new[] { (Reg, (short)112, 0L, true, (byte)32), (Deref, (short)32, -16L, false, (byte)0), (Const, (short)0, 5L, false, (byte)48), (Deref, (short)152, 0L, true, (byte)56), (Reg, (short)24, 0L, false, (byte)0) },
            a.Select(Tuple).ToArray());

        var arm = UsdtArguments.For(UsdtArguments.MachineAArch64, "x");
        var b = arm.Parse("-4@[x29, -8]  8@[x30] 8@x30 -2@sp 4@0x10 8@[sp,-16]", "p:n");
        Assert.Equal(new[] { (Deref, (short)232, -8L, true, (byte)32), (Deref, (short)240, 0L, false, (byte)0), (Reg, (short)240, 0L, false, (byte)0), (Reg, (short)248, 0L, true, (byte)48), (Const, (short)0, 16L, false, (byte)32), (Deref, (short)248, -16L, false, (byte)0) },
            b.Select(Tuple).ToArray());
        Assert.Empty(arm.Parse("", "p:n"));
    }

    [Theory]
    [InlineData(UsdtArguments.MachineX86_64, "8@(%rax,%rdx,8)", "not supported")]
    [InlineData(UsdtArguments.MachineX86_64, "3@%eax", "has size 3")]
    [InlineData(UsdtArguments.MachineX86_64, "8@%x0", "unknown x86-64 register '%x0'")]
    [InlineData(UsdtArguments.MachineX86_64, "%rdi", "not of the form SIZE@LOCATION")]
    [InlineData(UsdtArguments.MachineAArch64, "-4@%edi", "unknown arm64 register '%edi'")]
    [InlineData(UsdtArguments.MachineAArch64, "-4@w1", "32-bit register names")]
    [InlineData(UsdtArguments.MachineAArch64, "8@x31", "unknown arm64 register 'x31'")]
    [InlineData(UsdtArguments.MachineAArch64, "8@[sp, 16", "unbalanced brackets")]
    [InlineData(UsdtArguments.MachineAArch64, "8@[sp, x1]", "cannot read the number 'x1'")]
    [InlineData(UsdtArguments.MachineAArch64, "8@[sp]x", "not supported")]
    [InlineData(UsdtArguments.MachineAArch64, "1@x0 1@x1 1@x2 1@x3 1@x4 1@x5 1@x6 1@x7 1@x8 1@x9 1@x10 1@x11 1@x12", "more than 12 arguments")]
    public void BadSpecsGetAnErrorNamingTheProbeAndTheArgument(ushort machine, string args, string expected)
    {
        var e = Assert.Throws<BpfException>(() => UsdtArguments.For(machine, "bin").Parse(args, "prov:name"));
        Assert.Contains(expected, e.Message);
        Assert.Contains("prov:name", e.Message);
    }

    [Fact]
    public void OtherMachinesAreRefusedByName()
    {
        var e = Assert.Throws<BpfException>(() => UsdtArguments.For(243 /* EM_RISCV */, "/bin/tool"));
        Assert.Contains("'/bin/tool' is an ELF binary for machine 243", e.Message);
    }
}
