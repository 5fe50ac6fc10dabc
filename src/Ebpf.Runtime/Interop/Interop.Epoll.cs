using System.Runtime.InteropServices;

namespace Ebpf.Interop;

internal static unsafe partial class Libc
{
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    internal const uint EPOLLIN = 0x001, EPOLLERR = 0x008, EPOLLHUP = 0x010;

    /// <summary>struct epoll_event: packed on x86-64 (12 bytes), naturally aligned (16 bytes) on other architectures.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    internal struct EpollEventPacked
    {
        public uint Events;
        public ulong Data;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct EpollEventAligned
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport(Name, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    [LibraryImport(Name, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int EpollCtl(int epfd, int op, int fd, void* ev);

    [LibraryImport(Name, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int EpollWait(int epfd, void* events, int maxEvents, int timeout);

    [LibraryImport(Name, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initval, int flags);

    internal const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;

    [LibraryImport(Name, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, void* buf, nuint count);

    [LibraryImport(Name, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, void* buf, nuint count);
}
