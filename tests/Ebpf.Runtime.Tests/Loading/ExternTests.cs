using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Kernel;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>.kconfig and __ksym externs resolved from the running kernel.</summary>
[Collection(FdAccountingCollection.Name)]
public class ExternTests
{
    private static int Off(BpfDataSection s, string name) => (int)s.FindVariable(name)!.Offset;

    /// <summary>externs.bpf.o has non-weak CONFIG_ externs: without the kernel's config the load fails (as with libbpf).</summary>
    internal static void RequireKernelConfig()
    {
        if (KernelConfig.TryLoad() == null)
            Assert.Skip($"no kernel configuration at /proc/config.gz or /boot/config-{KernelInfo.Release}; objects with non-weak CONFIG_ externs need it");
    }

    /// <summary>
    /// kfuncs.bpf.o calls bpf_rcu_read_lock and friends, which kernels before 6.2 do not have. Before 5.13 there are
    /// no kfunc calls at all: the loader says so itself, by name and release (checked here), and the test skips.
    /// </summary>
    internal static void RequireKfuncKernel()
    {
        TestEnvironment.RequireKernelBtf();
        if (!Ebpf.Kernel.KernelFeatures.Current.KfuncCalls)
        {
            var e = Assert.Throws<BpfNotSupportedException>(() => BpfObject.Load(TestEnvironment.Bpf("kfuncs")).Dispose());
            Assert.Contains("kfunc calls", e.Message);
            Assert.Contains("5.13", e.Message);
            Assert.Skip(e.Message);
        }
        if (KernelBtf.Vmlinux.FindByName("bpf_rcu_read_lock", Ebpf.Btf.BtfKind.Func) < 0)
            Assert.Skip($"kernel {KernelInfo.Release} has no kfunc bpf_rcu_read_lock (added in Linux 6.2)");
    }

    [Fact]
    public void KconfigExternsCarryTheKernelsValues()
    {
        TestEnvironment.RequireRoot();
        var config = KernelConfig.TryLoad();
        if (config == null)
            Assert.Skip("no kernel configuration at /proc/config.gz or /boot/config-$(uname -r)");
        using var obj = BpfObject.Open(TestEnvironment.Bpf("externs"));
        obj.Load();
        obj.GetProgram("read_kconfig").RunOnce();
        var bss = obj.GetDataSection(".bss");
        Assert.Equal(KernelInfo.VersionCode, bss.Read<uint>(Off(bss, "kernel_version")));
        Assert.Equal(int.Parse(config!.Values["CONFIG_HZ"]), bss.Read<int>(Off(bss, "hz")));
        Assert.Equal(0, bss.Read<int>(Off(bss, "missing_config")));
        int expectedJit = config.Values.TryGetValue("CONFIG_BPF_JIT", out var jit) ? jit == "y" ? 1 : jit == "m" ? 2 : 0 : 0;
        Assert.Equal(expectedJit, bss.Read<int>(Off(bss, "bpf_jit")));
        Assert.Equal(1, bss.Read<byte>(Off(bss, "bpf_syscall")));
        bool wrapper = File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" " + KernelSymbols.SyscallPrefix + "bpf", StringComparison.Ordinal));
        Assert.Equal(wrapper ? 1 : 0, bss.Read<byte>(Off(bss, "has_syscall_wrapper")));
    }

    [Fact]
    public void KconfigOverridesWin()
    {
        TestEnvironment.RequireRoot();
        RequireKernelConfig();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("externs"), new BpfObjectOptions
        {
            KernelConfigOverrides = new Dictionary<string, string> { ["CONFIG_HZ"] = "123", ["CONFIG_DOES_NOT_EXIST"] = "0x10" },
        });
        obj.Load();
        obj.GetProgram("read_kconfig").RunOnce();
        var bss = obj.GetDataSection(".bss");
        Assert.Equal(123, bss.Read<int>(Off(bss, "hz")));
        Assert.Equal(16, bss.Read<int>(Off(bss, "missing_config")));
    }

    [Fact]
    public void BadKconfigValueIsATypedError()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("externs"), new BpfObjectOptions
        {
            KernelConfigOverrides = new Dictionary<string, string> { ["CONFIG_HZ"] = "lots" },
        });
        int before = TestEnvironment.BaselineFdCount();
        var e = Assert.Throws<BpfException>(obj.Load);
        Assert.Contains("CONFIG_HZ", e.Message);
        Assert.Contains("not a number", e.Message);
        Assert.Equal(before, TestEnvironment.OpenFdCount());
    }

    [Fact]
    public void UntypedKsymsAreKallsymsAddressesAndWeakMissingOnesAreZero()
    {
        TestEnvironment.RequireRoot();
        RequireKernelConfig();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("externs"));
        obj.Load();
        obj.GetProgram("read_ksyms").RunOnce();
        var bss = obj.GetDataSection(".bss");
        ulong start = bss.Read<ulong>(Off(bss, "btf_start"));
        ulong end = bss.Read<ulong>(Off(bss, "btf_end"));
        Assert.Equal(0ul, bss.Read<ulong>(Off(bss, "missing_ksym_addr")));
        if (!File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" __start_BTF", StringComparison.Ordinal)))
        {
            // __start_BTF/__stop_BTF are data symbols: without CONFIG_KALLSYMS_ALL kallsyms lists none, and the weak
            // externs read 0.
            Assert.Equal(0ul, start);
            Assert.Equal(0ul, end);
            var config = KernelConfig.TryLoad();
            Assert.True(config == null || !config.TryGet("CONFIG_KALLSYMS_ALL", out var all) || all != "y",
                "__start_BTF is missing from /proc/kallsyms although the kernel has CONFIG_KALLSYMS_ALL");
            Assert.Skip($"kernel {KernelInfo.Release} is built without CONFIG_KALLSYMS_ALL: /proc/kallsyms lists no data symbols (__start_BTF), which untyped ksyms other than functions need");
        }
        Assert.NotEqual(0ul, start);
        Assert.Equal((ulong)new FileInfo("/sys/kernel/btf/vmlinux").Length, end - start);
    }

    /// <summary>
    /// Typed ksyms resolve to the VAR types of the kernel's BTF; a kernel whose BTF has none (Debian 11's 5.10, built
    /// with pahole 1.20) gets an error that says so, as libbpf also fails there, and the test skips with it.
    /// </summary>
    [Fact]
    public void TypedKsymsResolveToKernelVariables()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireKernelBtf();
        var vmlinux = KernelBtf.Vmlinux;
        bool hasVars = false;
        for (int id = 1; id < vmlinux.TypeCount && !hasVars; id++)
            hasVars = vmlinux.GetKind(id) == Ebpf.Btf.BtfKind.Var;
        using var obj = BpfObject.Open(TestEnvironment.Bpf("externs_typed"));
        if (!hasVars)
        {
            var e = Assert.Throws<BpfNotSupportedException>(obj.Load);
            Assert.True(e.IsConfiguration);
            Assert.Contains("VAR", e.Message);
            Assert.Contains("extern const void", e.Message); // the way out: an untyped ksym
            Assert.Skip(e.Message);
        }
        var read = obj.GetProgram("read_runqueues");
        // Its address comes from kallsyms_lookup_name(), which knows data symbols only with CONFIG_KALLSYMS_ALL.
        bool kallsymsAll = File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" runqueues", StringComparison.Ordinal));
        read.Autoload = kallsymsAll;
        obj.Load();
        Assert.Equal(kallsymsAll, read.IsLoaded);
        if (kallsymsAll)
        {
            Assert.Equal(0u, read.RunOnce().ReturnValue);
            var bss = obj.GetDataSection(".bss");
            Assert.True(bss.Read<int>(Off(bss, "prog_active")) >= 0);
        }
    }

    [Fact]
    public void KfuncsResolveAgainstKernelBtf()
    {
        TestEnvironment.RequireRoot();
        RequireKfuncKernel();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("kfuncs"));
        obj.Load();
        Assert.True(obj.GetProgram("lookup_pid").IsLoaded);
        Assert.True(obj.GetProgram("on_fork").IsLoaded);
    }

    /// <summary>
    /// The externs of the kernel selftest test_core_extern, which libbpf loads: a __weak LINUX_ name the loader does
    /// not know reads as 0, the strong CONFIG_BPF_SYSCALL and typed __weak CONFIG_ values come from the overrides,
    /// an absent one is 0 and the branch it guards (a call to a helper no kernel has) is dead code to the verifier.
    /// </summary>
    [Fact]
    public void WeakUnknownVirtualExternReadsZero_AsTheSelftestExpects()
    {
        TestEnvironment.RequireRoot();
        var overrides = new Dictionary<string, string>
        {
            ["CONFIG_BPF_SYSCALL"] = "n",
            ["CONFIG_EBPF_TEST_TRISTATE"] = "m",
            ["CONFIG_EBPF_TEST_BOOL"] = "y",
            ["CONFIG_EBPF_TEST_CHAR"] = "m",
            ["CONFIG_EBPF_TEST_USHORT"] = "30000",
            ["CONFIG_EBPF_TEST_INT"] = "-100",
            ["CONFIG_EBPF_TEST_ULONG"] = "0xabcdef0123456789",
            ["CONFIG_EBPF_TEST_STR"] = "\"abcdefghij\"",
        };
        using var obj = BpfObject.Open(TestEnvironment.Bpf("fidelity/kconfig_virtual.bpf.o"), new BpfObjectOptions { KernelConfigOverrides = overrides });
        obj.Load();
        var kconfig = obj.GetDataSection(".kconfig");
        Assert.Equal(0, kconfig.Read<int>(Off(kconfig, "LINUX_EBPF_TEST_UNKNOWN")));
        using (obj.GetProgram("read_values").Attach())
        {
            var bss = obj.GetDataSection(".data");
            Assert.True(Attach.AttachSupport.Eventually(() => bss.Read<ulong>(Off(bss, "absent_value")) == 0xC0FFEE));
            Assert.Equal((ulong)KernelInfo.VersionCode, bss.Read<ulong>(Off(bss, "kernel_version")));
            Assert.Equal(0ul, bss.Read<ulong>(Off(bss, "unknown_virtual")));
            Assert.Equal(0ul, bss.Read<ulong>(Off(bss, "bpf_syscall")));
            Assert.Equal(2ul, bss.Read<ulong>(Off(bss, "tristate_value")));
            Assert.Equal(1ul, bss.Read<ulong>(Off(bss, "bool_value")));
            Assert.Equal((ulong)'m', bss.Read<ulong>(Off(bss, "char_value")));
            Assert.Equal(30000ul, bss.Read<ulong>(Off(bss, "ushort_value")));
            Assert.Equal(unchecked((ulong)-100L), bss.Read<ulong>(Off(bss, "int_value")));
            Assert.Equal(0xabcdef0123456789ul, bss.Read<ulong>(Off(bss, "ulong_value")));
            Assert.Equal("abcdefg\0"u8.ToArray(), Enumerable.Range(0, 8).Select(i => bss.Read<byte>(Off(bss, "str_value") + i)).ToArray());
        }
    }
}
