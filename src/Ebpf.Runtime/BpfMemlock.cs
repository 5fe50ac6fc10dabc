using System;
using System.Threading;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// RLIMIT_MEMLOCK for kernels that charge BPF memory to it. Before Linux 5.11 every map and program counts against
/// the locked-memory limit (by default 64 KiB before 5.16, so an object with one hash map already exceeds it and its
/// creation fails with EPERM); from 5.11 the memory cgroup accounts for it and the limit does not matter. As libbpf
/// does, the runtime probes this once per process, before its first map, program or BTF object, and on the older
/// kernels raises the limit (soft and hard) to <see cref="Limit"/>. This class sets or turns off that raise.
/// </summary>
public static class BpfMemlock
{
    /// <summary>RLIM_INFINITY.</summary>
    public const ulong Unlimited = ulong.MaxValue;

    private static long s_limit = unchecked((long)Unlimited);

    /// <summary>
    /// What RLIMIT_MEMLOCK is raised to on kernels without memory-cgroup accounting (before 5.11); default
    /// <see cref="Unlimited"/>. 0 turns the raise off: the process's own limit stays, and a map or program that does
    /// not fit fails with an error that says so. The limit is only ever raised, never lowered. Set it before the
    /// first load: once the runtime has decided, setting it throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public static ulong Limit
    {
        get => unchecked((ulong)Interlocked.Read(ref s_limit));
        set
        {
            if (KernelFeatures.For(Syscalls.Default).Memlock != null)
                throw new InvalidOperationException("RLIMIT_MEMLOCK was already handled at this process's first BPF load; set BpfMemlock.Limit before it");
            Interlocked.Exchange(ref s_limit, unchecked((long)value));
        }
    }

    /// <summary>
    /// True when the running kernel charges BPF maps and programs to RLIMIT_MEMLOCK (it has no memory-cgroup
    /// accounting of BPF memory: Linux before 5.11). Probed once per process.
    /// </summary>
    public static bool KernelChargesMemlock => !KernelFeatures.Current.MemcgAccounting;

    /// <summary>
    /// Does now what the first load would do: on a kernel that charges BPF memory to RLIMIT_MEMLOCK, raises it to
    /// <see cref="Limit"/> (cilium/ebpf's rlimit.RemoveMemlock). Unlike the implicit raise, a refusal throws
    /// <see cref="BpfSyscallException"/> naming the limit and how to lift it. Returns true when the limit was raised
    /// by this process.
    /// </summary>
    public static bool EnsureRaised()
    {
        var outcome = KernelFeatures.Current.EnsureMemlock();
        if (outcome.Charged && outcome.Errno != 0)
            throw new BpfSyscallException("prlimit(RLIMIT_MEMLOCK)", null, outcome.Errno,
                $"prlimit(RLIMIT_MEMLOCK) failed: {Errno.Name(outcome.Errno)} ({Errno.Describe(outcome.Errno)}). {outcome.Advice()}");
        return outcome.Raised;
    }
}
