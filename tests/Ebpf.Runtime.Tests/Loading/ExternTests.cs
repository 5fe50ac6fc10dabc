using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Loader;
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

    /// <summary>kfuncs.bpf.o calls bpf_rcu_read_lock and friends, which kernels before 6.2 do not have.</summary>
    internal static void RequireKfuncKernel()
    {
        TestEnvironment.RequireKernelBtf();
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
        obj.GetProgram("read_kconfig").TestRun();
        var bss = obj.GetDataSection(".bss");
        Assert.Equal(KernelInfo.VersionCode, bss.Read<uint>(Off(bss, "kernel_version")));
        Assert.Equal(int.Parse(config!.Values["CONFIG_HZ"]), bss.Read<int>(Off(bss, "hz")));
        Assert.Equal(0, bss.Read<int>(Off(bss, "missing_config")));
        int expectedJit = config.Values.TryGetValue("CONFIG_BPF_JIT", out var jit) ? jit == "y" ? 1 : jit == "m" ? 2 : 0 : 0;
        Assert.Equal(expectedJit, bss.Read<int>(Off(bss, "bpf_jit")));
        Assert.Equal(1, bss.Read<byte>(Off(bss, "bpf_syscall")));
        bool wrapper = File.ReadLines("/proc/kallsyms").Any(l => l.EndsWith(" __x64_sys_bpf", StringComparison.Ordinal));
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
        obj.GetProgram("read_kconfig").TestRun();
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
        obj.GetProgram("read_ksyms").TestRun();
        var bss = obj.GetDataSection(".bss");
        ulong start = bss.Read<ulong>(Off(bss, "btf_start"));
        ulong end = bss.Read<ulong>(Off(bss, "btf_end"));
        Assert.NotEqual(0ul, start);
        Assert.Equal((ulong)new FileInfo("/sys/kernel/btf/vmlinux").Length, end - start);
        Assert.Equal(0ul, bss.Read<ulong>(Off(bss, "missing_ksym_addr")));
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
}
