using System.Runtime.InteropServices;

namespace Ebpf.Interop;

internal static unsafe partial class Libc
{
    internal const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    internal const int MAP_SHARED = 1, MAP_PRIVATE = 2;

    [LibraryImport(Name, EntryPoint = "mmap", SetLastError = true)]
    internal static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Name, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(void* addr, nuint length);
}
