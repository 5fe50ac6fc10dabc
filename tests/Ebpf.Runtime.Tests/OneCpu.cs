using System;
using System.Runtime.InteropServices;
using Xunit;

namespace Ebpf.Runtime.Tests;

/// <summary>
/// Keeps the calling thread on one CPU (the first it may run on) until disposed. Perf-buffer tests that overflow a
/// ring need it: each CPU has its own ring, and the kernel writes a ring's lost-sample record only before that ring's
/// next sample, so a thread that moved to another CPU would leave the first ring's losses unreported.
/// </summary>
internal sealed unsafe class OneCpu : IDisposable
{
    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int SchedGetAffinity(int pid, nint size, ulong* mask);

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nint size, ulong* mask);

    private ulong _saved;

    public OneCpu()
    {
        ulong saved = 0;
        Assert.Equal(0, SchedGetAffinity(0, sizeof(ulong), &saved));
        _saved = saved;
        ulong one = 1UL << System.Numerics.BitOperations.TrailingZeroCount(saved);
        Assert.Equal(0, SchedSetAffinity(0, sizeof(ulong), &one));
    }

    public void Dispose()
    {
        ulong saved = _saved;
        SchedSetAffinity(0, sizeof(ulong), &saved);
    }
}
