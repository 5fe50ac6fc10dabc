namespace Ebpf.Interop;

internal static partial class Libc
{
    internal const int AF_UNSPEC = 0, AF_INET = 2, AF_NETLINK = 16;
    internal const int SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_CLOEXEC = 0x80000;
    internal const int NETLINK_ROUTE = 0;
    internal const int MSG_DONTWAIT = 0x40, MSG_TRUNC = 0x20, MSG_PEEK = 0x2;
}
