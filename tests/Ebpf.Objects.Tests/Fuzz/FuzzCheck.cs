using System;
using System.Diagnostics;
using System.Threading.Tasks;
using Ebpf.Fuzz;
using Xunit;

namespace Ebpf.Objects.Tests.Fuzz;

/// <summary>What every input must satisfy: only a typed exception (or success), in bounded time, with bounded allocation.</summary>
internal static class FuzzCheck
{
    /// <summary>Generous per-input limit: the slowest well-formed object takes well under a second.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>64 MiB plus 256 bytes per input byte: what the AFL harness enforces too.</summary>
    public static long AllocationLimit(int inputLength) => (64L << 20) + 256L * inputLength;

    public enum Outcome { Accepted, Rejected }

    /// <summary>
    /// Runs <paramref name="target"/> on <paramref name="data"/> on a worker thread and fails the test when it throws
    /// anything but a typed format exception, runs longer than <see cref="Timeout"/>, or allocates more than
    /// <paramref name="allocationLimit"/> (default <see cref="AllocationLimit"/>).
    /// </summary>
    public static Outcome Run(string target, byte[] data, string what, long? allocationLimit = null)
    {
        ObjectFuzzTargets.Warm();
        long limit = allocationLimit ?? AllocationLimit(data.Length);
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            Exception? error = null;
            try
            {
                ObjectFuzzTargets.Run(target, data);
            }
            catch (Exception e)
            {
                error = e;
            }
            return (Error: error, Allocated: GC.GetAllocatedBytesForCurrentThread() - before, Elapsed: sw.Elapsed);
        }, default, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!task.Wait(Timeout))
            Assert.Fail($"{what}: target '{target}' did not finish within {Timeout.TotalSeconds} s on a {data.Length}-byte input");
        var (err, allocated, _) = task.Result;
        if (err != null && !ObjectFuzzTargets.IsExpected(err))
            Assert.Fail($"{what}: target '{target}' threw {err.GetType().Name} instead of a typed format exception:\n{err}");
        if (allocated > limit)
            Assert.Fail($"{what}: target '{target}' allocated {allocated} bytes for a {data.Length}-byte input (limit {limit})");
        return err == null ? Outcome.Accepted : Outcome.Rejected;
    }
}
