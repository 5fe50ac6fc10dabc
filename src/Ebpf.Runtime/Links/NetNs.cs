using System;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

// Network-namespace links: sk_lookup (Linux 5.9) and flow_dissector (5.8).

/// <summary>A SEC("sk_lookup") program, attached to a network namespace (Linux 5.9).</summary>
public sealed class SkLookupProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be an sk_lookup program (SEC("sk_lookup")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public SkLookupProgram(BpfProgram program)
        : base(program, ProgramKind.SkLookup, "an sk_lookup program (SEC(\"sk_lookup\"))", "use SkLookupProgram.Attach() (current network namespace) or Attach(netnsPath)") { }

    /// <summary>Attaches to the calling thread's network namespace.</summary>
    public override NetNsLink Attach() => Program.AttachNetNs("/proc/thread-self/ns/net", BpfAttachType.SkLookup);

    /// <summary>Attaches to the network namespace at <paramref name="netnsPath"/> ("/run/netns/blue", "/proc/PID/ns/net").</summary>
    public NetNsLink Attach(string netnsPath) => Program.AttachNetNs(netnsPath, BpfAttachType.SkLookup);
}

/// <summary>
/// A SEC("flow_dissector") program, attached to a network namespace (Linux 5.8 for links): it replaces the kernel's
/// flow dissector for the packets of that namespace.
/// </summary>
public sealed class FlowDissectorProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a flow dissector (SEC("flow_dissector")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public FlowDissectorProgram(BpfProgram program)
        : base(program, ProgramKind.FlowDissector, "a flow dissector (SEC(\"flow_dissector\"))", "use FlowDissectorProgram.Attach(netnsPath)") { }

    /// <summary>Attaches to the calling thread's network namespace.</summary>
    public override NetNsLink Attach() => Program.AttachNetNs("/proc/thread-self/ns/net", BpfAttachType.FlowDissector);

    /// <summary>Attaches to the network namespace at <paramref name="netnsPath"/> ("/run/netns/blue", "/proc/PID/ns/net").</summary>
    public NetNsLink Attach(string netnsPath) => Program.AttachNetNs(netnsPath, BpfAttachType.FlowDissector);
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
    /// <summary>The hook: <see cref="BpfAttachType.SkLookup"/> or <see cref="BpfAttachType.FlowDissector"/>.</summary>
    public BpfAttachType AttachType { get; }
}

public partial class BpfProgram
{
    internal unsafe NetNsLink AttachNetNs(string netnsPath, BpfAttachType attachType)
    {
        if (string.IsNullOrEmpty(netnsPath)) throw new ArgumentException("the network namespace path is empty", nameof(netnsPath));
        int nsfd = Syscalls.Open(netnsPath, Libc.O_RDONLY);
        if (nsfd < 0)
            throw new BpfEnvironmentException($"cannot open network namespace '{netnsPath}': {Errno.Name(-nsfd)} ({Errno.Describe(-nsfd)})");
        using var ns = new BpfHandle(nsfd, BpfHandleKind.Other, Syscalls);
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)nsfd, AttachType = (uint)attachType };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
            throw BpfSys.Error(BpfCommand.LinkCreate, -fd, $"of {Type} program '{Name}' to network namespace {netnsPath}",
                -fd == Errno.EINVAL ? $"'{netnsPath}' is not a network namespace, or the kernel lacks netns links for {attachType} (sk_lookup: 5.9, flow_dissector: 5.8)" :
                -fd == Errno.EEXIST ? "a program is attached to this namespace's flow dissector already" : null);
        return new NetNsLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), netnsPath, attachType);
    }
}
