using System;
using System.IO;
using System.Linq;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Reliability;

/// <summary>
/// One exception root: every error of a load, an attach or a format derives from <see cref="BpfException"/> and says
/// what it is about (object, program, map, CO-RE access, errno, command) in properties, so that no caller parses
/// messages.
/// </summary>
public class ExceptionRootTests
{
    [Fact]
    public void EveryPublicExceptionTypeDerivesFromTheRoot()
    {
        var types = typeof(BpfObject).Assembly.GetExportedTypes().Where(t => typeof(Exception).IsAssignableFrom(t)).ToList();
        Assert.Contains(typeof(BpfFormatException), types);
        Assert.Contains(typeof(BpfCoreRelocationException), types);
        Assert.Contains(typeof(BpfVerifierException), types);
        Assert.All(types, t => Assert.True(typeof(BpfException).IsAssignableFrom(t), $"{t.FullName} does not derive from BpfException"));
    }

    [Fact]
    public void AFormatErrorNamesTheObjectAndTheOffset()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestEnvironment.RepoRoot, "bpf", "broken", "truncated.bpf.o"));
        var e = Assert.IsAssignableFrom<BpfFormatException>(Assert.ThrowsAny<BpfException>(() => BpfObject.Open(bytes, "truncated")));
        Assert.Equal("truncated", e.ObjectName);
        Assert.Equal("ELF", e.What);
        Assert.Equal(0x28, e.Offset);
        Assert.Null(e.ProgramName);
        Assert.Equal(0, e.Errno);
    }

    /// <summary>Loads <paramref name="name"/> on a warm seam (feature probes cached) where every call named <paramref name="call"/> fails with <paramref name="errno"/>.</summary>
    private static BpfException FailEvery(string name, string call, int errno, Action<BpfObject>? configure = null)
    {
        var fake = new FaultInjectingSyscalls();
        using var _ = Syscalls.Override(fake);
        void Load()
        {
            using var obj = BpfObject.Open(TestEnvironment.Bpf(name));
            configure?.Invoke(obj);
            obj.Load();
        }
        Load(); // probes cached: the calls failed below are the load's own
        fake.ResetFailingEvery(call, errno);
        var e = Assert.ThrowsAny<BpfException>(Load);
        Assert.Equal(call, fake.FailedCall);
        Assert.Empty(fake.OpenDescriptors);
        return e;
    }

    [Fact]
    public void AMapCreationFailureNamesTheObjectTheMapTheCommandAndTheErrno()
    {
        TestEnvironment.RequireRoot();
        var e = FailEvery("globals", "bpf(BPF_MAP_CREATE)", Errno.ENOMEM);
        Assert.IsType<BpfSyscallException>(e);
        Assert.Equal("globals", e.ObjectName);
        Assert.Equal("globals.rodata", e.MapName);
        Assert.Null(e.ProgramName);
        Assert.Equal(BpfCommand.MapCreate, e.Command);
        Assert.Equal("BPF_MAP_CREATE", e.Operation);
        Assert.Equal(Errno.ENOMEM, e.Errno);
        Assert.Equal("ENOMEM", e.ErrnoName);
    }

    [Fact]
    public void AProgramLoadFailureOtherThanTheVerifiersNamesTheProgram()
    {
        TestEnvironment.RequireRoot();
        var e = FailEvery("globals", "bpf(BPF_PROG_LOAD)", Errno.ENOMEM);
        Assert.IsNotType<BpfVerifierException>(e);
        Assert.Equal("globals", e.ObjectName);
        Assert.Equal("on_getpid", e.ProgramName);
        Assert.Equal(BpfCommand.ProgLoad, e.Command);
        Assert.Equal(Errno.ENOMEM, e.Errno);
    }

    /// <summary>
    /// EPERM for root loading a program that runs on a BPF trampoline is a kernel without trampolines (or locked
    /// down): a missing feature, named with its first release, errno and command kept. This machine's kernel does
    /// that for real; where trampolines work, the refusal is injected. Other programs' EPERM stays a system-call error.
    /// </summary>
    [Fact]
    public void EpermForATrampolineProgramIsAMissingFeature()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireKernelBtf();
        BpfException? e = null;
        try
        {
            using var real = BpfObject.Load(TestEnvironment.Bpf("attach_fentry"));
        }
        catch (BpfNotSupportedException refused)
        {
            e = refused;
        }
        e ??= FailEvery("attach_fentry", "bpf(BPF_PROG_LOAD)", Errno.EPERM);
        var ns = Assert.IsType<BpfNotSupportedException>(e);
        Assert.Equal("attach_fentry", ns.ObjectName);
        Assert.Equal("unlink_entry", ns.ProgramName);
        Assert.Equal(BpfCommand.ProgLoad, ns.Command);
        Assert.Equal(Errno.EPERM, ns.Errno);
        Assert.Contains("BPF trampolines", ns.Feature);
        Assert.Contains($"Linux {KernelFeatures.TrampolineMinimumKernel}", ns.Message);
        Assert.Contains("SEC(\"fentry/do_unlinkat\")", ns.Message);

        var plain = FailEvery("globals", "bpf(BPF_PROG_LOAD)", Errno.EPERM);
        Assert.IsType<BpfSyscallException>(plain);
        Assert.Equal("on_getpid", plain.ProgramName);
        Assert.Equal(Errno.EPERM, plain.Errno);
    }

    [Fact]
    public void AVerifierRejectionNamesTheProgramAndKeepsTheLog()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("verifier_reject"));
        var e = Assert.Throws<BpfVerifierException>(obj.Load);
        Assert.Equal("verifier_reject", e.ObjectName);
        Assert.Equal("bad_oob", e.ProgramName);
        Assert.Equal(BpfCommand.ProgLoad, e.Command);
        Assert.Equal(Errno.EACCES, e.Errno);
        Assert.Contains("unbounded memory access", e.VerifierLog);
    }

    [Fact]
    public void ACoReFailureNamesTheProgramAndTheAccess()
    {
        TestEnvironment.RequireRoot();
        // Against Debian 6.1's BTF task_struct has __state, not state: the unguarded read cannot be relocated.
        string btf = Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", "6.1.0-56-amd64.btf.gz");
        using var obj = BpfObject.Open(TestEnvironment.Bpf("core_flavors"), new BpfObjectOptions { TargetBtfPath = btf, StrictCoreRelocations = true });
        obj.GetProgram("read_state").Autoload = false;
        obj.GetProgram("read_state_unguarded").Autoload = true;
        var e = Assert.Throws<BpfCoreRelocationException>(obj.Load);
        Assert.Equal("core_flavors", e.ObjectName);
        Assert.Equal("read_state_unguarded", e.ProgramName);
        Assert.Equal(CoreErrorKind.Unresolved, e.Kind);
        var access = Assert.IsType<BpfCoreAccess>(e.CoreAccess);
        Assert.Equal(CoreReloKind.FieldByteOffset, access.Kind);
        Assert.Equal("struct task_struct___pre514", access.LocalTypeName);
        Assert.Equal("task_struct___pre514.state", access.FieldPath);
        Assert.Contains("6.1.0-56-amd64.btf.gz", access.Target);
    }
}
