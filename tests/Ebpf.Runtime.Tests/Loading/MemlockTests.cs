using System;
using System.IO;
using System.Linq;
using Ebpf.Kernel;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Loading;

/// <summary>
/// RLIMIT_MEMLOCK as libbpf handles it: kernels before 5.11 charge BPF maps and programs to it, so the first load
/// raises it there (soft and hard), only there, and says how to fix it when the raise is refused or turned off.
/// </summary>
public class MemlockTests
{
    /// <summary>A scripted kernel whose BPF_PROG_LOAD refuses bpf_ktime_get_coarse_ns() (a 5.10 kernel), or accepts it.</summary>
    private static FakeSyscalls Kernel(bool memcg)
    {
        var fake = new FakeSyscalls();
        if (!memcg) fake.BpfAnswer = cmd => cmd == BpfCommand.ProgLoad ? -Errno.EINVAL : null;
        return fake;
    }

    [Fact]
    public void KernelWithoutMemcgAccountingGetsSoftAndHardLimitRaisedOnce()
    {
        var fake = Kernel(memcg: false);
        var features = KernelFeatures.For(fake);
        features.MemlockLimitOverride = BpfMemlock.Unlimited;
        var outcome = features.EnsureMemlock();
        Assert.True(outcome.Charged);
        Assert.True(outcome.Raised);
        Assert.Equal((BpfMemlock.Unlimited, BpfMemlock.Unlimited), fake.Memlock);
        Assert.Same(outcome, features.EnsureMemlock());
        Assert.Single(fake.Log, l => l.StartsWith("prlimit(", StringComparison.Ordinal));
        Assert.Single(fake.Log, l => l.StartsWith("bpf(ProgLoad)", StringComparison.Ordinal)); // one probe, cached
        // raised to unlimited: an EPERM now means privileges, and the advice says so without blaming the limit
        Assert.DoesNotContain("RLIMIT_MEMLOCK", features.PermissionAdvice(BpfCommand.MapCreate, Errno.EPERM));
    }

    [Fact]
    public void KernelWithMemcgAccountingKeepsTheLimit()
    {
        var fake = Kernel(memcg: true);
        var features = KernelFeatures.For(fake);
        var outcome = features.EnsureMemlock();
        Assert.False(outcome.Charged);
        Assert.Equal((64UL * 1024, 64UL * 1024), fake.Memlock);
        Assert.DoesNotContain(fake.Log, l => l.StartsWith("prlimit(", StringComparison.Ordinal));
        Assert.DoesNotContain("RLIMIT_MEMLOCK", features.PermissionAdvice(BpfCommand.MapCreate, Errno.EPERM));
    }

    [Fact]
    public void RefusedRaiseLiftsTheSoftLimitToTheHardOneAndTheEpermSaysHowToFixIt()
    {
        var fake = Kernel(memcg: false);
        fake.Memlock = (64 * 1024, 1024 * 1024);
        fake.OnSetMemlock = want => want.Maximum > 1024 * 1024 ? -Errno.EPERM : 0; // no CAP_SYS_RESOURCE
        var features = KernelFeatures.For(fake);
        features.MemlockLimitOverride = BpfMemlock.Unlimited;
        var outcome = features.EnsureMemlock();
        Assert.Equal(Errno.EPERM, outcome.Errno);
        Assert.Equal((1024UL * 1024, 1024UL * 1024), fake.Memlock); // soft raised as far as allowed

        fake.BpfAnswer = cmd => cmd == BpfCommand.MapCreate ? -Errno.EPERM : null;
        var attr = new MapCreateAttr { MapType = (uint)BpfMapType.Hash, KeySize = 4, ValueSize = 8, MaxEntries = 8192 };
        var e = Assert.Throws<BpfSyscallException>(() => BpfSys.MapCreate(fake, ref attr, "exec_start"));
        Assert.Equal(Errno.EPERM, e.Errno);
        Assert.Contains("RLIMIT_MEMLOCK", e.Message);
        Assert.Contains("1 MiB", e.Message);
        Assert.Contains("5.11", e.Message);
        Assert.Contains("ulimit -l unlimited", e.Message);
        Assert.Contains("CAP_SYS_RESOURCE", e.Message);
    }

    [Fact]
    public void TurnedOffRaiseLeavesTheLimitAndTheErrorNamesTheSwitch()
    {
        var fake = Kernel(memcg: false);
        var features = KernelFeatures.For(fake);
        features.MemlockLimitOverride = 0;
        var outcome = features.EnsureMemlock();
        Assert.True(outcome.Charged);
        Assert.False(outcome.Raised);
        Assert.DoesNotContain(fake.Log, l => l.StartsWith("prlimit(", StringComparison.Ordinal));
        string advice = features.PermissionAdvice(BpfCommand.ProgLoad, Errno.EPERM);
        Assert.Contains("BpfMemlock.Limit = 0", advice);
        Assert.Contains("64 KiB", advice);
        Assert.Contains("ulimit -l unlimited", advice);
    }

    [Fact]
    public void LimitIsNeverLowered()
    {
        var fake = Kernel(memcg: false);
        fake.Memlock = (BpfMemlock.Unlimited, BpfMemlock.Unlimited);
        var features = KernelFeatures.For(fake);
        features.MemlockLimitOverride = 16 * 1024 * 1024;
        var outcome = features.EnsureMemlock();
        Assert.False(outcome.Raised);
        Assert.Equal((BpfMemlock.Unlimited, BpfMemlock.Unlimited), fake.Memlock);
    }

    /// <summary>
    /// On the real kernel: after a load, RLIMIT_MEMLOCK is unlimited where the kernel charges BPF memory to it (the
    /// guest runs start at the default 64 KiB, which this object's 8192-entry hash map alone exceeds), and untouched
    /// where the memory cgroup accounts for it.
    /// </summary>
    [Fact]
    public void FirstLoadRaisesTheLimitOnlyWhereTheKernelChargesIt()
    {
        TestEnvironment.RequireRoot();
        var before = ProcessMemlock();
        using (var obj = BpfObject.Open(TestEnvironment.Bpf("exec_snoop")))
            obj.Load();
        var after = ProcessMemlock();
        if (BpfMemlock.KernelChargesMemlock)
            Assert.Equal(("unlimited", "unlimited"), after);
        else
            Assert.Equal(before, after);
        Assert.Throws<InvalidOperationException>(() => BpfMemlock.Limit = 0); // decided: too late to change
    }

    private static (string Soft, string Hard) ProcessMemlock()
    {
        var line = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max locked memory", StringComparison.Ordinal));
        var parts = line.Substring("Max locked memory".Length).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (parts[0], parts[1]);
    }
}
