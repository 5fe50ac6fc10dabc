using System;
using Ebpf.Kernel;

namespace Ebpf;

// XDP on a network interface: an XDP link (BPF_LINK_CREATE with BPF_XDP).

/// <summary>A SEC("xdp") / SEC("xdp.frags") program.</summary>
public sealed class XdpProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be an XDP program (SEC("xdp"), SEC("xdp.frags"); not a devmap or cpumap program), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public XdpProgram(BpfProgram program)
        : base(program, ProgramKind.Xdp, "an XDP program (SEC(\"xdp\"), SEC(\"xdp.frags\")); devmap and cpumap programs are stored in their map", "use XdpProgram.Attach(interface)") { }

    /// <summary>Attaches to interface <paramref name="interfaceName"/> (in this thread's network namespace) with an XDP link.</summary>
    public XdpLink Attach(string interfaceName, XdpAttachMode mode = XdpAttachMode.Default) =>
        Program.AttachXdp(interfaceName, BpfProgram.InterfaceIndex(Program.Syscalls, interfaceName), mode);

    /// <summary>Attaches to the interface with index <paramref name="interfaceIndex"/>.</summary>
    public XdpLink Attach(int interfaceIndex, XdpAttachMode mode = XdpAttachMode.Default) =>
        Program.AttachXdp($"ifindex {interfaceIndex}", interfaceIndex, mode);
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
public sealed class XdpLink : InterfaceLink
{
    internal XdpLink(BpfProgram program, BpfHandle handle, string device, int ifindex, XdpAttachMode mode)
        : base(program, handle, device, ifindex, mode != XdpAttachMode.Default ? "xdp (" + mode.ToString().ToLowerInvariant() + ")" : "xdp") => Mode = mode;

    /// <summary>The mode asked for at attach (generic, driver, offload, or <see cref="XdpAttachMode.Default"/>: the kernel chooses, driver mode when it can).</summary>
    public XdpAttachMode Mode { get; }
}

public partial class BpfProgram
{
    /// <summary>The index of network interface <paramref name="name"/> in the calling thread's network namespace.</summary>
    internal static int InterfaceIndex(Syscalls sys, string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("the interface name is empty", nameof(name));
        int r = sys.IfNameToIndex(name);
        if (r > 0) return r;
        throw new BpfEnvironmentException($"network interface '{name}' does not exist (in this network namespace; `ip link` lists them)");
    }

    internal unsafe XdpLink AttachXdp(string device, int ifindex, XdpAttachMode mode)
    {
        RequireType("an XDP link", BpfProgramType.Xdp);
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)ifindex, AttachType = (uint)BpfAttachType.Xdp, Flags = (uint)mode };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
        {
            int e = -fd;
            if (e == Errno.EINVAL && !KernelFeatures.For(Syscalls).XdpLinks)
                throw new BpfNotSupportedException("XDP links", "5.9", $"cannot attach program '{Name}' to {device}");
            throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of XDP program '{Name}' to {device} (ifindex {ifindex}, {mode} mode)", e switch
            {
                Errno.EBUSY or Errno.EEXIST => $"another XDP program is attached to {device} already (by a link, or by netlink: `ip link set dev {device} xdp off` removes that one)",
                Errno.EOPNOTSUPP or Errno.ENOTSUPP => $"the driver of {device} has no native XDP; attach in XdpAttachMode.Generic",
                Errno.ENODEV => $"interface {device} (ifindex {ifindex}) does not exist",
                Errno.EINVAL => "the kernel refused the program or mode (one mode at most; XDP frags programs need a frags-aware driver)",
                Errno.ERANGE => $"the MTU of {device} is too large for XDP in this mode",
                _ => null,
            });
        }
        return new XdpLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), device, ifindex, mode);
    }
}
