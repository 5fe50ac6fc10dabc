using System;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>A SEC("xdp") / SEC("xdp.frags") program.</summary>
public sealed class XdpProgram : TypedProgram
{
    public XdpProgram(BpfProgram program)
        : base(program, nameof(XdpProgram), p => p.Type == BpfProgramType.Xdp, "an XDP program (SEC(\"xdp\"))") { }

    /// <summary>Attaches to interface <paramref name="interfaceName"/> (in this thread's network namespace) with an XDP link.</summary>
    public XdpLink Attach(string interfaceName, XdpAttachMode mode = XdpAttachMode.Default) =>
        Program.AttachXdp(interfaceName, BpfProgram.InterfaceIndex(Program.Syscalls, interfaceName), mode);

    /// <summary>Attaches to the interface with index <paramref name="interfaceIndex"/>.</summary>
    public XdpLink Attach(int interfaceIndex, XdpAttachMode mode = XdpAttachMode.Default) =>
        Program.AttachXdp($"ifindex {interfaceIndex}", interfaceIndex, mode);
}

/// <summary>A tc program: SEC("tcx/ingress"), "tcx/egress", "tc/ingress", "tc/egress" or the legacy SEC("tc") / "classifier".</summary>
public sealed class TcProgram : TypedProgram
{
    public TcProgram(BpfProgram program)
        : base(program, nameof(TcProgram), p => p.Type is BpfProgramType.SchedCls, "a tc classifier (SEC(\"tcx/ingress\"), SEC(\"tc\"))") { }

    /// <summary>
    /// Attaches to <paramref name="interfaceName"/>: a tcx link when the kernel has them (6.6), else a direct-action
    /// filter under the clsact qdisc. <paramref name="attachPoint"/> null means what the section says.
    /// </summary>
    public BpfLink Attach(string interfaceName, TcAttachPoint? attachPoint = null)
    {
        var point = Program.TcPoint(attachPoint);
        int ifindex = BpfProgram.InterfaceIndex(Program.Syscalls, interfaceName);
        if (KernelFeatures.For(Program.Syscalls).TcxLinks)
            return Program.AttachTcx(interfaceName, ifindex, point);
        return Program.AttachClsact(interfaceName, ifindex, point, 0, 0, false);
    }

    /// <summary>Attaches with a tcx link (Linux 6.6).</summary>
    public TcxLink AttachTcx(string interfaceName, TcAttachPoint? attachPoint = null) =>
        Program.AttachTcx(interfaceName, BpfProgram.InterfaceIndex(Program.Syscalls, interfaceName), Program.TcPoint(attachPoint));

    /// <summary>Attaches with a tcx link to the interface with index <paramref name="interfaceIndex"/>.</summary>
    public TcxLink AttachTcx(int interfaceIndex, TcAttachPoint? attachPoint = null) =>
        Program.AttachTcx($"ifindex {interfaceIndex}", interfaceIndex, Program.TcPoint(attachPoint));

    /// <summary>
    /// Attaches the classic way, over rtnetlink: adds the clsact qdisc if missing and a direct-action bpf filter with
    /// <paramref name="priority"/> and <paramref name="handle"/> (0: the kernel chooses). Disposing the result removes the filter.
    /// </summary>
    public TcClsactLink AttachClsact(string interfaceName, TcAttachPoint? attachPoint = null, ushort priority = 0, uint handle = 0, bool replace = false) =>
        Program.AttachClsact(interfaceName, BpfProgram.InterfaceIndex(Program.Syscalls, interfaceName), Program.TcPoint(attachPoint), priority, handle, replace);
}

/// <summary>A cgroup program: SEC("cgroup_skb/..."), "cgroup/...", "sockops", "lsm_cgroup/...".</summary>
public sealed class CgroupProgram : TypedProgram
{
    public CgroupProgram(BpfProgram program)
        : base(program, nameof(CgroupProgram),
            p => p.Type is BpfProgramType.CgroupSkb or BpfProgramType.CgroupSock or BpfProgramType.CgroupSockAddr or BpfProgramType.CgroupSysctl
                or BpfProgramType.CgroupSockopt or BpfProgramType.CgroupDevice or BpfProgramType.SockOps
                || (p.Type == BpfProgramType.Lsm && p.ExpectedAttachType == BpfAttachType.LsmCgroup),
            "a cgroup program (SEC(\"cgroup_skb/ingress\"), SEC(\"cgroup/connect4\"), ...)") { }

    /// <summary>
    /// Attaches to the cgroup v2 directory <paramref name="cgroupPath"/> with a cgroup link (Linux 5.7);
    /// <paramref name="attachType"/> null means the hook the section names.
    /// </summary>
    public CgroupLink Attach(string cgroupPath, BpfAttachType? attachType = null) =>
        Program.AttachCgroup(cgroupPath, Program.CgroupAttachType(attachType));

    /// <summary>Attaches to the cgroup open as <paramref name="cgroupDirectory"/> (the handle is not kept).</summary>
    public CgroupLink Attach(SafeHandle cgroupDirectory, BpfAttachType? attachType = null)
    {
        if (cgroupDirectory is null) throw new ArgumentNullException(nameof(cgroupDirectory));
        bool added = false;
        try
        {
            cgroupDirectory.DangerousAddRef(ref added);
            int fd = (int)cgroupDirectory.DangerousGetHandle();
            return Program.AttachCgroupFd(fd, $"fd {fd}", Program.CgroupAttachType(attachType));
        }
        finally
        {
            if (added) cgroupDirectory.DangerousRelease();
        }
    }

    /// <summary>
    /// Attaches with the legacy BPF_PROG_ATTACH (kernels before 5.7, or to mix with tools that use it); the
    /// attachment is removed with BPF_PROG_DETACH on dispose.
    /// </summary>
    public CgroupAttachment AttachLegacy(string cgroupPath, CgroupAttachFlags flags = CgroupAttachFlags.AllowMulti, BpfAttachType? attachType = null) =>
        Program.AttachCgroupLegacy(cgroupPath, Program.CgroupAttachType(attachType), flags);
}

/// <summary>A SEC("socket") program: a socket filter attached to one socket.</summary>
public sealed class SocketFilterProgram : TypedProgram
{
    public SocketFilterProgram(BpfProgram program)
        : base(program, nameof(SocketFilterProgram), p => p.Type == BpfProgramType.SocketFilter, "a socket filter (SEC(\"socket\"))") { }

    /// <summary>Attaches to <paramref name="socket"/> (SO_ATTACH_BPF); the filter sees every packet queued to it.</summary>
    public SocketFilterAttachment Attach(Socket socket)
    {
        if (socket is null) throw new ArgumentNullException(nameof(socket));
        return Program.AttachSocket(socket.SafeHandle, -1);
    }

    /// <summary>Attaches to the socket behind <paramref name="socket"/>.</summary>
    public SocketFilterAttachment Attach(SafeHandle socket) => Program.AttachSocket(socket ?? throw new ArgumentNullException(nameof(socket)), -1);

    /// <summary>Attaches to socket descriptor <paramref name="socketFd"/> (not owned).</summary>
    public SocketFilterAttachment Attach(int socketFd) => Program.AttachSocket(null, socketFd);
}

/// <summary>A SEC("sk_lookup") program, attached to a network namespace (Linux 5.9).</summary>
public sealed class SkLookupProgram : TypedProgram
{
    public SkLookupProgram(BpfProgram program)
        : base(program, nameof(SkLookupProgram), p => p.Type == BpfProgramType.SkLookup, "an sk_lookup program (SEC(\"sk_lookup\"))") { }

    /// <summary>Attaches to the calling thread's network namespace.</summary>
    public NetNsLink Attach() => Program.AttachNetNs("/proc/thread-self/ns/net", BpfAttachType.SkLookup);

    /// <summary>Attaches to the network namespace at <paramref name="netnsPath"/> ("/run/netns/blue", "/proc/PID/ns/net").</summary>
    public NetNsLink Attach(string netnsPath) => Program.AttachNetNs(netnsPath, BpfAttachType.SkLookup);
}
