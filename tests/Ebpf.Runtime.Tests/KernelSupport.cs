using System;
using System.Runtime.InteropServices;
using Ebpf.Kernel;
using Xunit;

namespace Ebpf.Runtime.Tests;

/// <summary>
/// What the tests need from the kernel, and the way they run the test objects' driver programs. A test skips only
/// when the kernel lacks the feature under test, and its reason names that feature and the first Linux release with
/// it (the text of the runtime's own <see cref="BpfNotSupportedException"/>, or the same words).
/// </summary>
internal static partial class KernelSupport
{
    private static readonly byte[] Packet = new byte[64];

    /// <summary>
    /// Runs a driver program once with BPF_PROG_TEST_RUN: a SEC("xdp") driver with a 64-byte zero packet (XDP
    /// programs run on demand since Linux 4.12, the oldest way to run one; they need an Ethernet header's worth of
    /// data), a SEC("raw_tp") one with <paramref name="args"/> as its u64 arguments (Linux 5.10).
    /// </summary>
    public static BpfTestRunResult RunOnce(this BpfProgram program, params ulong[] args) => program.Type switch
    {
        BpfProgramType.Xdp or BpfProgramType.SchedCls or BpfProgramType.SocketFilter => program.TestRun(data: Packet),
        BpfProgramType.RawTracepoint => program.TestRun(context: MemoryMarshal.AsBytes(args.AsSpan())),
        _ => program.TestRun(),
    };

    /// <summary>Skips the test unless the kernel has <paramref name="feature"/> (first in Linux <paramref name="since"/>).</summary>
    public static void Require(bool present, string feature, string since)
    {
        if (!present)
            Assert.Skip($"this kernel does not support {feature} (needs Linux {since} or later)");
    }

    /// <summary>Runs <paramref name="action"/>; when the kernel lacks what it needs, skips the test with the runtime's words.</summary>
    public static T OrSkip<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (BpfNotSupportedException e)
        {
            Assert.Skip(e.Message);
            throw;
        }
    }

    /// <summary>
    /// Opens and loads bpf/NAME.bpf.o, skipping the test when the kernel lacks a feature it needs: the loader's
    /// <see cref="BpfNotSupportedException"/> names it (a program type, an instruction-set extension, a helper, BPF
    /// trampolines a kernel refuses even to root) with the first Linux release that has it. Any other error fails.
    /// </summary>
    public static BpfObject LoadOrSkip(string name, Action<BpfObject>? configure = null) => OrSkip(() => OpenAndLoad(name, configure));

    /// <summary>Opens bpf/NAME.bpf.o, lets <paramref name="configure"/> set it up (globals, sizes) and loads it.</summary>
    public static BpfObject OpenAndLoad(string name, Action<BpfObject>? configure = null)
    {
        Ebpf.Tests.TestEnvironment.RequireRoot();
        var obj = BpfObject.Open(Ebpf.Tests.TestEnvironment.Bpf(name));
        try
        {
            configure?.Invoke(obj);
            obj.Load();
            return obj;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    public static KernelFeatures Features => KernelFeatures.Current;

    /// <summary>
    /// Kernel links one attachment of each kind leaves (for counting tests): perf-event attachments (tracepoints,
    /// kprobes, uprobes, perf events) are links only since Linux 5.15 (before, PERF_EVENT_IOC_SET_BPF holds them).
    /// </summary>
    public static int PerfLinks(int attachments) => Features.PerfLinks ? attachments : 0;

    [LibraryImport("libc", EntryPoint = "gettid")]
    public static partial int GetTid();
}
