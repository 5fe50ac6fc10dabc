using System;
using System.IO;
using System.Threading;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>What the kernel counted for one program while run statistics were on (struct bpf_prog_info).</summary>
public readonly struct BpfProgramRunStatistics
{
    /// <summary>Creates a statistics value.</summary>
    public BpfProgramRunStatistics(ulong runCount, ulong runTimeNs, ulong recursionMisses)
    {
        RunCount = runCount;
        RunTimeNs = runTimeNs;
        RecursionMisses = recursionMisses;
    }

    /// <summary>Times the program ran (run_cnt).</summary>
    public ulong RunCount { get; }

    /// <summary>Total time the program ran, in nanoseconds (run_time_ns).</summary>
    public ulong RunTimeNs { get; }

    /// <summary>Runs the kernel skipped because the program was already running on the CPU (recursion_misses, Linux 5.12).</summary>
    public ulong RecursionMisses { get; }

    /// <summary>Mean time per run in nanoseconds (0 before the first run).</summary>
    public double MeanRunTimeNs => RunCount == 0 ? 0 : (double)RunTimeNs / RunCount;

    /// <inheritdoc/>
    public override string ToString() => $"{RunCount} runs, {RunTimeNs} ns";
}

/// <summary>
/// Turns on the kernel's per-program run statistics (BPF_ENABLE_STATS with BPF_STATS_RUN_TIME, Linux 5.8): while
/// at least one instance is alive, every BPF program on the machine counts its runs and their time
/// (<see cref="BpfProgram.GetRunStatistics"/>, the <c>ebpf.program.run.*</c> metrics). Opt-in because the kernel then
/// reads the clock twice per run of every program. Dispose it to turn them off again (unless another process or the
/// sysctl kernel.bpf_stats_enabled keeps them on).
/// </summary>
public sealed class BpfRunStatistics : IDisposable
{
    private const string Sysctl = "/proc/sys/kernel/bpf_stats_enabled";
    private static int s_enabled;
    private readonly BpfHandle _handle;
    private int _disposed;

    private BpfRunStatistics(BpfHandle handle) => _handle = handle;

    /// <summary>Turns run statistics on until the returned object is disposed.</summary>
    /// <exception cref="BpfNotSupportedException">The kernel is older than 5.8.</exception>
    /// <exception cref="BpfSyscallException">The kernel refused (needs CAP_SYS_ADMIN).</exception>
    public static BpfRunStatistics Enable() => Enable(Syscalls.Current);

    internal static BpfRunStatistics Enable(Syscalls sys)
    {
        var attr = new EnableStatsAttr { Type = 0 };
        int fd = BpfSys.Call(sys, BpfCommand.EnableStats, ref attr);
        if (fd < 0)
        {
            if (-fd == Errno.EINVAL)
                throw new BpfNotSupportedException("BPF_ENABLE_STATS", "5.8", "set the sysctl kernel.bpf_stats_enabled=1 instead");
            throw BpfSys.Error(BpfCommand.EnableStats, -fd, "(run-time statistics)",
                -fd == Errno.EPERM || -fd == Errno.EACCES ? "turning statistics on needs CAP_SYS_ADMIN" : null);
        }
        var stats = new BpfRunStatistics(BpfSys.ToHandle(sys, fd, BpfHandleKind.Other));
        Interlocked.Increment(ref s_enabled);
        return stats;
    }

    /// <summary>
    /// Whether the kernel collects run statistics now: this process holds a <see cref="BpfRunStatistics"/>, or the
    /// sysctl kernel.bpf_stats_enabled is 1.
    /// </summary>
    public static bool IsCollecting
    {
        get
        {
            if (Volatile.Read(ref s_enabled) > 0)
                return true;
            try
            {
                return File.ReadAllText(Sysctl).Trim() == "1";
            }
            catch (IOException)
            {
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        }
    }

    /// <summary>Turns this process's request for statistics off.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _handle.Dispose();
        Interlocked.Decrement(ref s_enabled);
    }
}
