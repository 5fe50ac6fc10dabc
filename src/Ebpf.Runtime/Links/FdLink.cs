using System;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>A kernel bpf_link object (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN): can be pinned, updated and detached.</summary>
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

    public override string Target => _target;

    /// <summary>Kernel id of the link (as `bpftool link` lists it).</summary>
    public uint Id
    {
        get
        {
            var info = new LinkInfo();
            BpfSys.GetInfo(Program.Syscalls, Handle, ref info);
            return info.Id;
        }
    }

    public override void Pin(string path)
    {
        BpfSys.ObjPin(Program.Syscalls, Handle, path);
        PinPath = path;
    }

    public override unsafe void Update(BpfProgram program)
    {
        if (program is null) throw new ArgumentNullException(nameof(program));
        var a = new LinkUpdateAttr { LinkFd = (uint)Handle.Fd, NewProgFd = (uint)program.Fd };
        int r = BpfSys.Call(Program.Syscalls, BpfCommand.LinkUpdate, ref a);
        if (r < 0)
            throw BpfSys.Error(BpfCommand.LinkUpdate, -r, $"of link {Target}",
                -r == Errno.EINVAL ? $"program '{program.Name}' ({program.Type}) cannot replace '{Program.Name}' on this link (same type and attach type needed)" :
                -r == Errno.EOPNOTSUPP ? "this kind of link does not support replacing its program" : null);
        SetProgram(program);
    }

    public override unsafe void Detach()
    {
        var a = new LinkDetachAttr { LinkFd = (uint)Handle.Fd };
        int r = BpfSys.Call(Program.Syscalls, BpfCommand.LinkDetach, ref a);
        if (r < 0 && -r != Errno.EOPNOTSUPP)
            throw BpfSys.Error(BpfCommand.LinkDetach, -r, $"of link {Target}");
        if (r < 0)
            Dispose(); // kernels/links without BPF_LINK_DETACH: closing the last reference detaches
    }

    protected override void Release() => Handle.Dispose();
}

/// <summary>
/// A program attached to a perf event (tracepoint, kprobe, uprobe, sampling event): owns the perf event fd and,
/// on kernels with perf links (5.15), the bpf_link; otherwise the program is attached with PERF_EVENT_IOC_SET_BPF.
/// </summary>
public class PerfEventLink : BpfLink
{
    private readonly string _target;
    private readonly Action? _cleanup;

    internal PerfEventLink(BpfProgram program, BpfHandle perfEvent, BpfHandle? link, string target, Action? cleanup = null) : base(program)
    {
        PerfEvent = perfEvent;
        LinkHandle = link;
        _target = target;
        _cleanup = cleanup;
    }

    public BpfHandle PerfEvent { get; }
    /// <summary>The bpf_link, when the kernel supports perf links; null when attached by ioctl.</summary>
    public BpfHandle? LinkHandle { get; }

    public override string Target => _target;

    public override void Pin(string path)
    {
        if (LinkHandle == null)
            throw new NotSupportedException($"{Target}: attached without a bpf_link (kernel before 5.15), so it cannot be pinned");
        BpfSys.ObjPin(Program.Syscalls, LinkHandle, path);
        PinPath = path;
    }

    public override void Detach()
    {
        if (LinkHandle != null)
        {
            unsafe
            {
                var a = new LinkDetachAttr { LinkFd = (uint)LinkHandle.Fd };
                BpfSys.Call(Program.Syscalls, BpfCommand.LinkDetach, ref a);
            }
        }
        Program.Syscalls.Ioctl(PerfEvent.Fd, PerfEventAttr.IocDisable, 0);
    }

    protected override void Release()
    {
        try
        {
            if (LinkHandle == null && !PerfEvent.IsClosed)
                Program.Syscalls.Ioctl(PerfEvent.Fd, PerfEventAttr.IocDisable, 0);
            LinkHandle?.Dispose();
            PerfEvent.Dispose();
        }
        finally
        {
            _cleanup?.Invoke();
        }
    }
}
