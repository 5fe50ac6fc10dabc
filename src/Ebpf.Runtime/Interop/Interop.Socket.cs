using System.Runtime.InteropServices;

namespace Ebpf.Interop;

internal static unsafe partial class Libc
{
    internal const int SOL_SOCKET = 1;
    internal const int SO_ATTACH_BPF = 50;
    internal const int SO_DETACH_BPF = 27;

    [LibraryImport(Name, EntryPoint = "setsockopt", SetLastError = true)]
    internal static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    [LibraryImport(Name, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Name, EntryPoint = "bind", SetLastError = true)]
    internal static partial int Bind(int fd, void* addr, uint length);

    [LibraryImport(Name, EntryPoint = "sendto", SetLastError = true)]
    internal static partial nint SendTo(int fd, void* buf, nuint length, int flags, void* addr, uint addrLength);

    [LibraryImport(Name, EntryPoint = "recv", SetLastError = true)]
    internal static partial nint Recv(int fd, void* buf, nuint length, int flags);

    [LibraryImport(Name, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint IfNameToIndex(string name);
}
