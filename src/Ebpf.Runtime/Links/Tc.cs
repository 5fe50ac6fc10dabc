using System;
using Ebpf.Kernel;

namespace Ebpf;

// tc programs: a tcx link (Linux 6.6) or, before it, a direct-action cls_bpf filter under clsact over rtnetlink.

/// <summary>A tc classifier: SEC("tcx/ingress"), "tcx/egress", "tc/ingress", "tc/egress" or the legacy SEC("tc") / "classifier".</summary>
public sealed class TcProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a tc classifier (SEC("tcx/ingress"), SEC("tc/egress"), SEC("tc"), ...; not a SEC("action") tc action), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public TcProgram(BpfProgram program)
        : base(program, ProgramKind.Tc, "a tc classifier (SEC(\"tcx/ingress\"), SEC(\"tc\")); SEC(\"action\") programs are tc actions, which neither tcx nor cls_bpf take",
            "use TcProgram.Attach(interface)") { }

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

/// <summary>Which side of an interface a tc program runs on.</summary>
public enum TcAttachPoint
{
    /// <summary>Packets the interface receives, before the stack sees them.</summary>
    Ingress,
    /// <summary>Packets the interface is about to transmit.</summary>
    Egress,
}

/// <summary>A tc program attached to an interface with a tcx link (Linux 6.6).</summary>
public sealed class TcxLink : InterfaceLink
{
    internal TcxLink(BpfProgram program, BpfHandle handle, string device, int ifindex, TcAttachPoint point)
        : base(program, handle, device, ifindex, "tcx " + point.ToString().ToLowerInvariant()) => AttachPoint = point;

    /// <summary>The side of the interface the program runs on.</summary>
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

    /// <summary>The interface's name as given at attach ("eth0").</summary>
    public string Interface { get; }
    /// <summary>The interface's index (ifindex) at attach; the filter goes with the interface if it is deleted.</summary>
    public int InterfaceIndex { get; }
    /// <summary>The side of the interface the filter runs on.</summary>
    public TcAttachPoint AttachPoint { get; }
    /// <summary>The filter's handle.</summary>
    public uint Handle { get; }
    /// <summary>The filter's priority (chosen by the kernel when 0 was asked for).</summary>
    public ushort Priority { get; }
    /// <summary>Whether attaching created the clsact qdisc.</summary>
    public bool CreatedQdisc { get; }
    /// <summary>Also delete the clsact qdisc on dispose when this attachment created it (default false: others may use it).</summary>
    public bool RemoveQdiscOnDispose { get; set; }

    /// <inheritdoc/>
    public override string Target => $"tc {AttachPoint.ToString().ToLowerInvariant()} on {Interface} (ifindex {InterfaceIndex}, clsact filter handle 0x{Handle:x} priority {Priority})";

    private protected override void Release()
    {
        using var nl = _netlink;
        int r = nl.DeleteFilter(InterfaceIndex, AttachPoint, Handle, Priority, out var why);
        if (CreatedQdisc && RemoveQdiscOnDispose)
            nl.DeleteClsact(InterfaceIndex);
        if (r < 0 && r != -Errno.ENOENT && r != -Errno.ENODEV && r != -Errno.EINVAL)
            throw new BpfSyscallException("netlink RTM_DELTFILTER", null, -r, $"removing {Target} failed: {Errno.Name(-r)} ({why ?? Errno.Describe(-r)})");
    }
}

public partial class BpfProgram
{
    /// <summary>Which side a tc program runs on: the one asked for, else the one its section names.</summary>
    internal TcAttachPoint TcPoint(TcAttachPoint? asked)
    {
        if (asked.HasValue) return asked.Value;
        return ExpectedAttachType switch
        {
            BpfAttachType.TcxIngress => TcAttachPoint.Ingress,
            BpfAttachType.TcxEgress => TcAttachPoint.Egress,
            _ => throw new ArgumentException($"program '{Name}' (SEC(\"{SectionName}\")) does not say ingress or egress; pass the attach point"),
        };
    }

    internal unsafe TcxLink AttachTcx(string device, int ifindex, TcAttachPoint point)
    {
        RequireType("a tcx link", BpfProgramType.SchedCls, BpfProgramType.SchedAct);
        var at = point == TcAttachPoint.Ingress ? BpfAttachType.TcxIngress : BpfAttachType.TcxEgress;
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)ifindex, AttachType = (uint)at };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
        {
            int e = -fd;
            if (e == Errno.EINVAL && !KernelFeatures.For(Syscalls).TcxLinks)
                throw new BpfNotSupportedException("tcx links", "6.6", $"cannot attach program '{Name}' to {device}; TcProgram.AttachClsact() works on older kernels");
            throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of tc program '{Name}' to {device} (ifindex {ifindex}) {point.ToString().ToLowerInvariant()}",
                e == Errno.ENODEV ? $"interface {device} does not exist" : e == Errno.EINVAL ? "tcx links take SCHED_CLS programs" : null);
        }
        return new TcxLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), device, ifindex, point);
    }

    internal TcClsactLink AttachClsact(string device, int ifindex, TcAttachPoint point, ushort priority, uint handle, bool replace)
    {
        RequireType("a tc filter", BpfProgramType.SchedCls);
        bool added = false;
        var h = Handle;
        try
        {
            h.DangerousAddRef(ref added);
            var nl = RouteNetlink.Open(Syscalls);
            bool created = false;
            try
            {
                created = nl.EnsureClsact(ifindex, device);
                var (hnd, prio) = nl.AddBpfFilter(ifindex, device, point, h.Fd, Name, handle, priority, replace);
                return new TcClsactLink(this, nl, device, ifindex, point, hnd, prio, created);
            }
            catch
            {
                if (created) nl.DeleteClsact(ifindex);
                nl.Dispose();
                throw;
            }
        }
        finally
        {
            if (added) h.DangerousRelease();
        }
    }
}
