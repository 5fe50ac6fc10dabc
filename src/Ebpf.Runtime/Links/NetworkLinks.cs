using System;
using System.Runtime.InteropServices;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>Which side of an interface a tc program runs on.</summary>
public enum TcAttachPoint
{
    Ingress,
    Egress,
}

/// <summary>How an XDP program is attached to an interface.</summary>
public enum XdpAttachMode
{
    /// <summary>Let the kernel choose: the driver's native XDP when it has one, generic XDP otherwise.</summary>
    Default = 0,
    /// <summary>Generic XDP (XDP_FLAGS_SKB_MODE): works on every interface, after the skb is built.</summary>
    Generic = 1 << 1,
    /// <summary>Native XDP in the driver (XDP_FLAGS_DRV_MODE); fails when the driver lacks it.</summary>
    Driver = 1 << 2,
    /// <summary>Offloaded to the NIC (XDP_FLAGS_HW_MODE).</summary>
    Offload = 1 << 3,
}

/// <summary>An XDP program attached to a network interface with an XDP link (Linux 5.9).</summary>
public sealed class XdpLink : FdLink
{
    internal XdpLink(BpfProgram program, BpfHandle handle, string device, int ifindex, XdpAttachMode mode)
        : base(program, handle, $"xdp on {device} (ifindex {ifindex}{(mode != XdpAttachMode.Default ? ", " + mode.ToString().ToLowerInvariant() : string.Empty)})")
    {
        Interface = device;
        InterfaceIndex = ifindex;
        Mode = mode;
    }

    public string Interface { get; }
    public int InterfaceIndex { get; }
    public XdpAttachMode Mode { get; }
}

/// <summary>A tc program attached to an interface with a tcx link (Linux 6.6).</summary>
public sealed class TcxLink : FdLink
{
    internal TcxLink(BpfProgram program, BpfHandle handle, string device, int ifindex, TcAttachPoint point)
        : base(program, handle, $"tcx {point.ToString().ToLowerInvariant()} on {device} (ifindex {ifindex})")
    {
        Interface = device;
        InterfaceIndex = ifindex;
        AttachPoint = point;
    }

    public string Interface { get; }
    public int InterfaceIndex { get; }
    public TcAttachPoint AttachPoint { get; }
}

/// <summary>
/// A tc program attached the classic way: a direct-action cls_bpf filter under the interface's clsact qdisc, set up
/// over rtnetlink (what `tc filter add dev X ingress bpf da` does). Disposing removes the filter; the qdisc stays
/// unless this attachment created it and <see cref="RemoveQdiscOnDispose"/> is set.
/// </summary>
public sealed class TcClsactLink : BpfLink
{
    // The rtnetlink socket the filter was added through, kept to delete it: a socket stays in the network namespace
    // it was made in, so disposing from a thread in another namespace still removes the right filter.
    private readonly RouteNetlink _netlink;

    internal TcClsactLink(BpfProgram program, RouteNetlink netlink, string device, int ifindex, TcAttachPoint point, uint handle, ushort priority, bool createdQdisc)
        : base(program)
    {
        _netlink = netlink;
        Interface = device;
        InterfaceIndex = ifindex;
        AttachPoint = point;
        Handle = handle;
        Priority = priority;
        CreatedQdisc = createdQdisc;
    }

    public string Interface { get; }
    public int InterfaceIndex { get; }
    public TcAttachPoint AttachPoint { get; }
    /// <summary>The filter's handle.</summary>
    public uint Handle { get; }
    /// <summary>The filter's priority (chosen by the kernel when 0 was asked for).</summary>
    public ushort Priority { get; }
    /// <summary>Whether attaching created the clsact qdisc.</summary>
    public bool CreatedQdisc { get; }
    /// <summary>Also delete the clsact qdisc on dispose when this attachment created it (default false: others may use it).</summary>
    public bool RemoveQdiscOnDispose { get; set; }

    public override string Target => $"tc {AttachPoint.ToString().ToLowerInvariant()} on {Interface} (ifindex {InterfaceIndex}, clsact filter handle 0x{Handle:x} priority {Priority})";

    public override void Detach() => Dispose();

    protected override void Release()
    {
        using var nl = _netlink;
        int r = nl.DeleteFilter(InterfaceIndex, AttachPoint, Handle, Priority, out var why);
        if (CreatedQdisc && RemoveQdiscOnDispose)
            nl.DeleteClsact(InterfaceIndex);
        if (r < 0 && r != -Errno.ENOENT && r != -Errno.ENODEV && r != -Errno.EINVAL)
            throw new BpfSyscallException("netlink RTM_DELTFILTER", null, -r, $"removing {Target} failed: {Errno.Name(-r)} ({why ?? Errno.Describe(-r)})");
    }
}

/// <summary>A program attached to a network namespace with a netns link: sk_lookup or flow_dissector (Linux 5.8/5.9).</summary>
public sealed class NetNsLink : FdLink
{
    internal NetNsLink(BpfProgram program, BpfHandle handle, string netns, BpfAttachType attachType)
        : base(program, handle, $"{(attachType == BpfAttachType.SkLookup ? "sk_lookup" : "flow_dissector")} in network namespace {netns}")
    {
        Namespace = netns;
        AttachType = attachType;
    }

    /// <summary>The namespace file the link was made on ("/proc/self/ns/net", "/run/netns/x").</summary>
    public string Namespace { get; }
    public BpfAttachType AttachType { get; }
}

/// <summary>
/// A socket filter attached to one socket with SO_ATTACH_BPF. Disposing detaches it (SO_DETACH_BPF) unless the
/// socket is closed already. The socket is not owned.
/// </summary>
public sealed class SocketFilterAttachment : BpfLink
{
    private readonly Syscalls _sys;
    private readonly SafeHandle? _socket;
    private readonly int _fd;

    internal SocketFilterAttachment(BpfProgram program, Syscalls sys, SafeHandle? socket, int fd) : base(program)
    {
        _sys = sys;
        _socket = socket;
        _fd = fd;
    }

    /// <summary>The socket's descriptor.</summary>
    public int SocketDescriptor => _fd;

    public override string Target => $"socket fd {_fd}";

    public override void Detach() => Dispose();

    protected override unsafe void Release()
    {
        bool added = false;
        try
        {
            if (_socket != null)
            {
                if (_socket.IsClosed) return;
                _socket.DangerousAddRef(ref added);
            }
            int zero = 0;
            int r = _sys.SetSockOpt(_fd, Libc.SOL_SOCKET, Libc.SO_DETACH_BPF, &zero, 4);
            if (r < 0 && r != -Errno.ENOENT && r != -Errno.EBADF && r != -Errno.ENOTSOCK)
                throw new BpfSyscallException("setsockopt(SO_DETACH_BPF)", null, -r, $"detaching program '{Program.Name}' from socket fd {_fd} failed: {Errno.Name(-r)}");
        }
        finally
        {
            if (added) _socket!.DangerousRelease();
        }
    }
}
