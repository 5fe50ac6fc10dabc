using System.Runtime.InteropServices;

namespace Ebpf.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    // The same numbers on x86-64 and arm64 (and every architecture .NET runs on).
    internal const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_TRUNC = 0x200, O_APPEND = 0x400, O_CLOEXEC = 0x80000;

    /// <summary>
    /// O_DIRECTORY is not: 0200000 in the generic ABI and on x86, 040000 on arm, arm64 and powerpc, where 0200000 is
    /// O_DIRECT (and a directory opened with O_DIRECT is EINVAL).
    /// </summary>
    internal static readonly int O_DIRECTORY = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm64 or Architecture.Arm or Architecture.Armv6 or Architecture.Ppc64le => 0x4000,
        _ => 0x10000,
    };
}
