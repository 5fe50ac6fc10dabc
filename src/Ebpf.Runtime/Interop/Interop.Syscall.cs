using System.Runtime.InteropServices;

namespace Ebpf.Interop;

internal static unsafe partial class Libc
{
    // syscall(2) is variadic in C; glibc's implementation moves integer arguments from registers without
    // va_arg, so fixed prototypes with only integer/pointer arguments are safe on x86-64 and arm64.

    /// <summary>bpf(int cmd, union bpf_attr *attr, unsigned int size).</summary>
    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long SyscallBpf(long number, int cmd, void* attr, uint size);

    /// <summary>
    /// bpf(2) without errno marshalling: the hot path of map element operations. On failure (-1) the caller reads
    /// errno with <see cref="Marshal.GetLastSystemError"/> right after the call, exactly as the code LibraryImport
    /// generates for SetLastError = true does (the runtime preserves errno across the transition back), minus the
    /// errno reset before the call and the thread-static store after it, which cost about 5 ns per call.
    /// </summary>
    [LibraryImport(Name, EntryPoint = "syscall")]
    internal static partial long SyscallBpfNoErrno(long number, int cmd, void* attr, uint size);

    /// <summary>perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags).</summary>
    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long SyscallPerfEventOpen(long number, void* attr, int pid, int cpu, int groupFd, ulong flags);
}
