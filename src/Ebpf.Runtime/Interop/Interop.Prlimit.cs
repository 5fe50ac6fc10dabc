using System.Runtime.InteropServices;

namespace Ebpf.Interop;

internal static unsafe partial class Libc
{
    /// <summary>RLIMIT_MEMLOCK (the same number on x86-64, arm64 and 32-bit x86/arm).</summary>
    internal const int RLIMIT_MEMLOCK = 8;

    /// <summary>RLIM_INFINITY on 64-bit and through prlimit's 64-bit interface.</summary>
    internal const ulong RLIM_INFINITY = ulong.MaxValue;

    /// <summary>struct rlimit64 { rlim64_t rlim_cur, rlim_max; }.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct RLimit64
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>prlimit64(pid_t pid, int resource, const struct rlimit64 *new_limit, struct rlimit64 *old_limit).</summary>
    [LibraryImport(Name, EntryPoint = "prlimit64", SetLastError = true)]
    internal static partial int Prlimit64(int pid, int resource, RLimit64* newLimit, RLimit64* oldLimit);
}
