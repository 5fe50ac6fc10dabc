using System.Runtime.InteropServices;

namespace Ebpf.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, ulong request, ulong arg);
}
