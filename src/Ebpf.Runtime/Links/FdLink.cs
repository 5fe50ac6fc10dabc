using System;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// A kernel bpf_link object (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN): can be pinned, updated and detached. The
/// typed links (<see cref="XdpLink"/>, <see cref="TcxLink"/>, <see cref="CgroupLink"/>, ...) derive from it.
/// </summary>
public class FdLink : BpfLink
{
    private readonly string _target;

    internal FdLink(BpfProgram program, BpfHandle handle, string target) : base(program)
    {
        Handle = handle;
        _target = target;
    }

    /// <summary>The link's descriptor.</summary>
    public BpfHandle Handle { get; }

    /// <inheritdoc/>
    public override string Target => _target;

    /// <summary>Kernel id of the link (as `bpftool link` lists it).</summary>
    public uint Id => GetInfo().Id;

    /// <summary>The kernel's kind of link (bpf_link_type).</summary>
    public BpfLinkType LinkType => (BpfLinkType)GetInfo().Type;

    /// <inheritdoc/>
    public override bool IsAttached
    {
        get
        {
            if (IsDisposed || Handle.IsClosed)
                return false;
            LinkInfo info;
            try
            {
                info = GetInfo();
            }
            catch (BpfException)
            {
                return false;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
            // The kernel keeps a detached link (its descriptor stays valid) but clears the hook it was on.
            return (BpfLinkType)info.Type switch
            {
                BpfLinkType.Cgroup => info.U0 != 0,                                  // cgroup_id
                BpfLinkType.Netns or BpfLinkType.Xdp or BpfLinkType.Tcx or BpfLinkType.Netkit => (uint)info.U0 != 0, // netns_ino, ifindex
                _ => info.ProgId != 0,
            };
        }
    }

    internal LinkInfo GetInfo()
    {
        var info = new LinkInfo();
        BpfSys.GetInfo(Program.Syscalls, Handle, ref info);
        return info;
    }

    private protected override void PinCore(string path)
    {
        BpfSys.ObjPin(Program.Syscalls, Handle, path);
    }

    private protected override unsafe void UpdateCore(BpfProgram program)
    {
        var a = new LinkUpdateAttr { LinkFd = (uint)Handle.Fd, NewProgFd = (uint)program.Fd };
        int r = BpfSys.Call(Program.Syscalls, BpfCommand.LinkUpdate, ref a);
        if (r < 0)
            throw BpfSys.Error(BpfCommand.LinkUpdate, -r, $"of link {Target}",
                -r == Errno.EINVAL ? $"program '{program.Name}' ({program.Type}) cannot replace '{Program.Name}' on this link (same type and attach type needed)" :
                -r == Errno.EOPNOTSUPP || -r == Errno.ENOTSUPP ? $"a {GetType().Name} cannot replace its program; detach it and attach the new program" : null);
    }

    private protected override unsafe void DetachCore()
    {
        if (Handle.IsClosed)
            return;
        var a = new LinkDetachAttr { LinkFd = (uint)Handle.Fd };
        int r = BpfSys.Call(Program.Syscalls, BpfCommand.LinkDetach, ref a);
        if (r >= 0)
            return;
        if (-r != Errno.EOPNOTSUPP && -r != Errno.ENOTSUPP && -r != Errno.EINVAL)
            throw BpfSys.Error(BpfCommand.LinkDetach, -r, $"of link {Target}");
        // Kernels or link kinds without BPF_LINK_DETACH (raw tracepoints, tracing, perf links): the program is
        // detached when the last reference goes, which is ours unless the link is pinned.
        if (PinPath != null)
            throw BpfSys.Error(BpfCommand.LinkDetach, -r, $"of link {Target}",
                $"this kind of link cannot be detached while it is pinned at '{PinPath}'; Unpin() it, then Dispose()");
        Dispose();
    }

    private protected override void Release() => Handle.Dispose();
}

/// <summary>A kernel link on a network interface (<see cref="XdpLink"/>, <see cref="TcxLink"/>, <see cref="NetkitLink"/>).</summary>
public abstract class InterfaceLink : FdLink
{
    private protected InterfaceLink(BpfProgram program, BpfHandle handle, string device, int ifindex, string what)
        : base(program, handle, $"{what} on {device} (ifindex {ifindex})")
    {
        Interface = device;
        InterfaceIndex = ifindex;
    }

    /// <summary>The interface's name (or "ifindex N" when attached by index).</summary>
    public string Interface { get; }

    /// <summary>The interface's index in the network namespace it was attached in.</summary>
    public int InterfaceIndex { get; }
}
