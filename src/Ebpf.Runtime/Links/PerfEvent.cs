using System;
using System.Collections.Generic;
using Ebpf.Kernel;

namespace Ebpf;

// perf_event: a program on a perf event (sampling events here; tracepoints, kprobes and uprobes build on it).

/// <summary>A SEC("perf_event") program, run on the samples of a perf event.</summary>
public sealed class PerfEventProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a perf_event program (SEC("perf_event")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public PerfEventProgram(BpfProgram program)
        : base(program, ProgramKind.PerfEvent, "a perf_event program (SEC(\"perf_event\"))", "use PerfEventProgram.Attach(event, ...)") { }

    /// <summary>
    /// Opens <paramref name="spec"/> for <paramref name="pid"/> (-1: every process) on <paramref name="cpu"/> (-1: any
    /// CPU, only with a pid) and attaches the program to its samples.
    /// </summary>
    public PerfEventLink Attach(PerfEventSpec spec, int pid = -1, int cpu = 0, ulong cookie = 0)
    {
        if (pid == -1 && cpu < 0) throw new ArgumentException("a perf event for every process must name a CPU (pid -1 and cpu -1 is not allowed)");
        return Program.AttachPerfEventSpec(spec, pid, cpu, cookie);
    }

    /// <summary>Opens <paramref name="spec"/> on every online CPU (for every process, or one) and attaches the program to each.</summary>
    public LinkGroup AttachAllCpus(PerfEventSpec spec, int pid = -1, ulong cookie = 0)
    {
        var links = new System.Collections.Generic.List<BpfLink>();
        try
        {
            foreach (int cpu in KernelInfo.OnlineCpus())
                links.Add(Program.AttachPerfEventSpec(spec, pid, cpu, cookie));
        }
        catch
        {
            foreach (var l in links) l.Dispose();
            throw;
        }
        return new LinkGroup(Program, links, $"perf event {spec} on {links.Count} CPUs{(pid >= 0 ? $", pid {pid}" : string.Empty)}");
    }
}

/// <summary>
/// A program attached to a perf event (tracepoint, kprobe, uprobe, sampling event): owns the perf event fd and,
/// on kernels with perf links (5.15), the bpf_link; otherwise the program is attached with PERF_EVENT_IOC_SET_BPF.
/// </summary>
public class PerfEventLink : BpfLink
{
    private readonly string _target;
    private Action? _cleanup;

    internal PerfEventLink(BpfProgram program, BpfHandle perfEvent, BpfHandle? link, string target, Action? cleanup = null) : base(program)
    {
        PerfEvent = perfEvent;
        LinkHandle = link;
        _target = target;
        _cleanup = cleanup;
    }

    /// <summary>The perf event's descriptor.</summary>
    public BpfHandle PerfEvent { get; }
    /// <summary>The bpf_link, when the kernel supports perf links; null when attached by ioctl.</summary>
    public BpfHandle? LinkHandle { get; }
    /// <summary>Whether the program is held by a kernel bpf_link (5.15+), which can be pinned.</summary>
    public bool IsKernelLink => LinkHandle != null;

    /// <inheritdoc/>
    public override string Target => _target;

    private protected override void PinCore(string path)
    {
        if (LinkHandle == null)
            throw KernelFeatures.Missing("perf-event links (BPF_LINK_TYPE_PERF_EVENT)", "5.15", $"{Target} was attached with PERF_EVENT_IOC_SET_BPF, which has no link to pin");
        BpfSys.ObjPin(Program.Syscalls, LinkHandle, path);
    }

    private protected override void DetachCore()
    {
        if (PerfEvent.IsClosed)
            return;
        if (LinkHandle != null && !LinkHandle.IsClosed)
        {
            unsafe
            {
                var a = new LinkDetachAttr { LinkFd = (uint)LinkHandle.Fd };
                BpfSys.Call(Program.Syscalls, BpfCommand.LinkDetach, ref a);
            }
        }
        Program.Syscalls.Ioctl(PerfEvent.Fd, PerfEventAttr.IocDisable, 0);
        if (PinPath == null)
            Dispose(); // also removes a tracefs probe this link created
    }

    private protected override void Release()
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
            var cleanup = System.Threading.Interlocked.Exchange(ref _cleanup, null);
            cleanup?.Invoke();
        }
    }
}

public partial class BpfProgram
{
    internal unsafe PerfEventLink AttachPerfEventSpec(PerfEventSpec spec, int pid, int cpu, ulong cookie)
    {
        RequireType("a perf event", BpfProgramType.PerfEvent);
        var attr = spec.ToAttr();
        int fd = Syscalls.PerfEventOpen(&attr, pid, cpu, -1, PerfEventAttr.PERF_FLAG_FD_CLOEXEC);
        string target = $"{spec} on {(cpu >= 0 ? $"cpu {cpu}" : "any cpu")}{(pid >= 0 ? $", pid {pid}" : string.Empty)}";
        if (fd < 0)
            throw new BpfSyscallException("perf_event_open", null, -fd, $"opening perf event {target} failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)})" + (-fd switch
            {
                Errno.ENOENT or Errno.EOPNOTSUPP => "; this machine has no such event (hardware counters are often missing in virtual machines)",
                Errno.EACCES or Errno.EPERM => "; sampling needs root or CAP_PERFMON (see /proc/sys/kernel/perf_event_paranoid)",
                Errno.ESRCH => $"; process {pid} does not exist",
                Errno.EINVAL => "; the kernel refused the event's attributes (a frequency above kernel.perf_event_max_sample_rate?)",
                Errno.ENODEV => $"; cpu {cpu} is not online",
                _ => string.Empty,
            }));
        var pe = new BpfHandle(fd, BpfHandleKind.PerfEvent, Syscalls);
        try
        {
            var link = AttachToPerfEvent(pe, "perf event " + target, cookie);
            return new PerfEventLink(this, pe, link, "perf event " + target);
        }
        catch
        {
            pe.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Attaches the program to an open perf event: a perf bpf_link when the kernel has them (5.15), else
    /// PERF_EVENT_IOC_SET_BPF + ENABLE. Returns the link's handle, or null when attached by ioctl.
    /// </summary>
    internal unsafe BpfHandle? AttachToPerfEvent(BpfHandle perfEvent, string target, ulong cookie)
    {
        var la = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)perfEvent.Fd, AttachType = (uint)BpfAttachType.PerfEvent, PerfEventBpfCookie = cookie };
        int lfd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref la);
        if (lfd >= 0)
            return new BpfHandle(lfd, BpfHandleKind.Link, Syscalls);
        int err = -lfd;
        if (err != Errno.EINVAL && err != Errno.E2BIG)
            throw BpfSys.Error(BpfCommand.LinkCreate, err, $"of program '{Name}' to {target}", PerfAttachHint(err, target));
        if (cookie != 0)
            throw new BpfNotSupportedException("BPF cookies on perf events (perf bpf_link)", "5.15", $"program '{Name}' on {target}");
        int r = Syscalls.Ioctl(perfEvent.Fd, PerfEventAttr.IocSetBpf, (ulong)Fd);
        if (r < 0)
            throw new BpfSyscallException("ioctl(PERF_EVENT_IOC_SET_BPF)", null, -r, $"attaching program '{Name}' to {target} failed: {Errno.Name(-r)} ({Errno.Describe(-r)})" +
                (PerfAttachHint(-r, target) is { } h ? "; " + h : string.Empty));
        r = Syscalls.Ioctl(perfEvent.Fd, PerfEventAttr.IocEnable, 0);
        if (r < 0)
            throw new BpfSyscallException("ioctl(PERF_EVENT_IOC_ENABLE)", null, -r, $"enabling {target} failed: {Errno.Name(-r)}");
        return null;
    }

    private string? PerfAttachHint(int errno, string target) => errno switch
    {
        Errno.EINVAL => $"a {Type} program cannot attach to {target}",
        Errno.EEXIST => "another program is already attached to this perf event",
        Errno.EPERM or Errno.EACCES => "attaching to perf events needs root or CAP_PERFMON",
        _ => null,
    };
}
