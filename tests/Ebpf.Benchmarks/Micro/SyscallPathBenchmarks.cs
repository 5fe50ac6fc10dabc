using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Ebpf.Kernel;

namespace Ebpf.Benchmarks.Micro;

/// <summary>
/// The cost of our user-space path around one bpf(2) call, isolated from the kernel's map work: every variant
/// issues BPF_MAP_LOOKUP_ELEM on a closed descriptor number (the kernel fails it at fdget, ~100 ns), so the
/// differences between variants are what the managed path adds.
/// </summary>
[MemoryDiagnoser]
public unsafe partial class SyscallPathBenchmarks
{
    private const int BadFd = 1 << 20;

    [LibraryImport("libc", EntryPoint = "syscall")]
    private static partial long SyscallNoErrno(long nr, int cmd, void* attr, uint size);

    [LibraryImport("libc", EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial long SyscallNoTransition(long nr, int cmd, void* attr, uint size);

    [Benchmark(Baseline = true, Description = "BpfSys.MapLookup (the seam: errno read only on failure)")]
    public int Seam()
    {
        uint k = 0; ulong v;
        return BpfSys.MapLookup(Syscalls.Default, BadFd, &k, &v, 0);
    }

    [Benchmark(Description = "Libc.SyscallBpf (LibraryImport SetLastError = true)")]
    public long DirectSetLastError()
    {
        uint k = 0; ulong v;
        var a = new MapElemAttr { MapFd = BadFd, Key = (ulong)&k, Value = (ulong)&v };
        return Ebpf.Interop.Libc.SyscallBpf(321, (int)BpfCommand.MapLookupElem, &a, (uint)sizeof(MapElemAttr));
    }

    [Benchmark(Description = "syscall, no errno marshalling")]
    public long DirectNoErrno()
    {
        uint k = 0; ulong v;
        var a = new MapElemAttr { MapFd = BadFd, Key = (ulong)&k, Value = (ulong)&v };
        return SyscallNoErrno(321, (int)BpfCommand.MapLookupElem, &a, (uint)sizeof(MapElemAttr));
    }

    [Benchmark(Description = "syscall, SuppressGCTransition")]
    public long DirectNoTransition()
    {
        uint k = 0; ulong v;
        var a = new MapElemAttr { MapFd = BadFd, Key = (ulong)&k, Value = (ulong)&v };
        return SyscallNoTransition(321, (int)BpfCommand.MapLookupElem, &a, (uint)sizeof(MapElemAttr));
    }
}
