using System;
using Ebpf.Kernel;

namespace Ebpf;

// netkit: a program on the primary or peer side of a netkit device (BPF_LINK_CREATE with BPF_NETKIT_PRIMARY/PEER, Linux 6.7).

/// <summary>A SEC("netkit/primary") / SEC("netkit/peer") program, run by a netkit device (Linux 6.7).</summary>
public sealed class NetkitProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a netkit program (SEC("netkit/primary"), SEC("netkit/peer")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public NetkitProgram(BpfProgram program)
        : base(program, ProgramKind.Netkit, "a netkit program (SEC(\"netkit/primary\"), SEC(\"netkit/peer\"))", "use NetkitProgram.Attach(interface)") { }

    /// <summary>Attaches to netkit device <paramref name="interfaceName"/>; <paramref name="side"/> null means what the section says.</summary>
    public NetkitLink Attach(string interfaceName, NetkitSide? side = null) =>
        Program.AttachNetkit(interfaceName, BpfProgram.InterfaceIndex(Program.Syscalls, interfaceName), Program.NetkitSideOf(side));

    /// <summary>Attaches to the netkit device with index <paramref name="interfaceIndex"/>.</summary>
    public NetkitLink Attach(int interfaceIndex, NetkitSide? side = null) =>
        Program.AttachNetkit($"ifindex {interfaceIndex}", interfaceIndex, Program.NetkitSideOf(side));
}

/// <summary>Which side of a netkit pair a program runs for.</summary>
public enum NetkitSide
{
    /// <summary>The primary device (the host side).</summary>
    Primary,
    /// <summary>The peer device (usually inside a container's network namespace).</summary>
    Peer,
}

/// <summary>A program attached to a netkit device with a netkit link (Linux 6.7).</summary>
public sealed class NetkitLink : InterfaceLink
{
    internal NetkitLink(BpfProgram program, BpfHandle handle, string device, int ifindex, NetkitSide side)
        : base(program, handle, device, ifindex, "netkit " + side.ToString().ToLowerInvariant()) => Side = side;

    /// <summary>The device of the netkit pair whose traffic the program sees: the primary (host) side or the peer.</summary>
    public NetkitSide Side { get; }
}

public partial class BpfProgram
{
    /// <summary>Which side a netkit program runs for: the one asked for, else the one its section names.</summary>
    internal NetkitSide NetkitSideOf(NetkitSide? asked)
    {
        if (asked.HasValue) return asked.Value;
        return ExpectedAttachType switch
        {
            BpfAttachType.NetkitPrimary => NetkitSide.Primary,
            BpfAttachType.NetkitPeer => NetkitSide.Peer,
            _ => throw new ArgumentException($"program '{Name}' (SEC(\"{SectionName}\")) does not say primary or peer; pass the side"),
        };
    }

    internal unsafe NetkitLink AttachNetkit(string device, int ifindex, NetkitSide side)
    {
        RequireType("a netkit link", BpfProgramType.SchedCls);
        var at = side == NetkitSide.Primary ? BpfAttachType.NetkitPrimary : BpfAttachType.NetkitPeer;
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)ifindex, AttachType = (uint)at };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
        {
            int e = -fd;
            throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of netkit program '{Name}' to {device} (ifindex {ifindex}) {side.ToString().ToLowerInvariant()}", e switch
            {
                Errno.ENODEV => $"interface {device} does not exist",
                Errno.EINVAL => $"{device} is not a netkit device, or the kernel has no netkit links (Linux 6.7 with CONFIG_NETKIT)",
                Errno.EACCES or Errno.EPERM => "attaching to netkit needs CAP_NET_ADMIN",
                _ => null,
            });
        }
        return new NetkitLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), device, ifindex, side);
    }
}
