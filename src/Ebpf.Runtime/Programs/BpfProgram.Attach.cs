using System;
using System.Text;
using Ebpf.Kernel;

namespace Ebpf;

public partial class BpfProgram
{
    /// <summary>
    /// Attaches the program where its section name says (libbpf's auto-attach): "tp/cat/name", "raw_tp/name",
    /// "tp_btf/name", "fentry/func", "lsm/hook", ... Throws when the section does not say enough; use a typed
    /// attach method then.
    /// </summary>
    public BpfLink Attach()
    {
        var sec = Section ?? throw new InvalidOperationException($"program '{Name}': SEC(\"{SectionName}\") is not a known section name, so there is nothing to attach it to automatically");
        if (!sec.IsAutoAttachable)
            throw new InvalidOperationException($"program '{Name}': SEC(\"{SectionName}\") does not say where to attach; use an explicit attach method");
        switch (sec.AttachKind)
        {
            case AutoAttachKind.Tracepoint:
                if (!SectionDefinitions.TryParseTracepoint(sec.Target, out var cat, out var name))
                    throw new InvalidOperationException($"program '{Name}': SEC(\"{SectionName}\") is not of the form tp/<category>/<name>");
                return AttachTracepoint(cat, name);
            case AutoAttachKind.RawTracepoint:
                return AttachRawTracepoint(sec.Target);
            case AutoAttachKind.TracingBtf:
            case AutoAttachKind.Lsm:
                return AttachTracing();
            default:
                return AttachBySection(sec);
        }
    }

    /// <summary>Attaches the kinds this file does not handle (kprobes, uprobes, networking, cgroups, iterators...).</summary>
    partial void AttachOther(SectionMatch section, ref BpfLink? link);

    private BpfLink AttachBySection(SectionMatch sec)
    {
        BpfLink? link = null;
        AttachOther(sec, ref link);
        return link ?? throw new NotSupportedException($"program '{Name}': automatic attach of {sec.AttachKind} programs is not available");
    }

    /// <summary>Attaches a tracepoint program to tracepoint <paramref name="category"/>:<paramref name="name"/>.</summary>
    public unsafe BpfLink AttachTracepoint(string category, string name, ulong cookie = 0)
    {
        uint id = Tracefs.TracepointId(category, name);
        var attr = new PerfEventAttr
        {
            Type = PerfEventAttr.TypeTracepoint,
            Size = (uint)sizeof(PerfEventAttr),
            Config = id,
            SamplePeriodOrFreq = 1,
            WakeupEventsOrWatermark = 1,
        };
        int fd = Syscalls.PerfEventOpen(&attr, -1, 0, -1, PerfEventAttr.PERF_FLAG_FD_CLOEXEC);
        if (fd < 0)
            throw new BpfSyscallException("perf_event_open", null, -fd, $"perf_event_open for tracepoint {category}/{name} failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)})" +
                (-fd == Errno.EACCES || -fd == Errno.EPERM ? ". Tracing needs root or CAP_PERFMON; check /proc/sys/kernel/perf_event_paranoid" : string.Empty));
        var pe = new BpfHandle(fd, BpfHandleKind.PerfEvent, Syscalls);
        try
        {
            return AttachPerfEvent(pe, $"tracepoint {category}/{name}", cookie);
        }
        catch
        {
            pe.Dispose();
            throw;
        }
    }

    /// <summary>Attaches the program to an open perf event: a perf bpf_link when the kernel has them (5.15), else the ioctl.</summary>
    internal unsafe BpfLink AttachPerfEvent(BpfHandle perfEvent, string target, ulong cookie, Action? cleanup = null)
    {
        var la = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)perfEvent.Fd, AttachType = (uint)BpfAttachType.PerfEvent, PerfEventBpfCookie = cookie };
        int lfd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref la);
        if (lfd >= 0)
            return new PerfEventLink(this, perfEvent, new BpfHandle(lfd, BpfHandleKind.Link, Syscalls), target, cleanup);
        if (cookie != 0 && lfd != -Errno.EINVAL)
            throw BpfSys.Error(BpfCommand.LinkCreate, -lfd, $"of program '{Name}' to {target}");
        if (cookie != 0)
            throw new BpfNotSupportedException("BPF cookies on perf events (perf bpf_link)", "5.15", $"program '{Name}' on {target}");
        int r = Syscalls.Ioctl(perfEvent.Fd, PerfEventAttr.IocSetBpf, (ulong)Fd);
        if (r < 0)
            throw new BpfSyscallException("ioctl(PERF_EVENT_IOC_SET_BPF)", null, -r, $"attaching program '{Name}' to {target} failed: {Errno.Name(-r)} ({Errno.Describe(-r)})" +
                (-r == Errno.EINVAL ? $"; a {Type} program cannot attach to this event" : -r == Errno.EEXIST ? "; another program is already attached to this perf event" : string.Empty));
        r = Syscalls.Ioctl(perfEvent.Fd, PerfEventAttr.IocEnable, 0);
        if (r < 0)
            throw new BpfSyscallException("ioctl(PERF_EVENT_IOC_ENABLE)", null, -r, $"enabling {target} failed: {Errno.Name(-r)}");
        return new PerfEventLink(this, perfEvent, null, target, cleanup);
    }

    /// <summary>Attaches a raw tracepoint program to raw tracepoint <paramref name="name"/> ("sys_enter", "sched_switch").</summary>
    public unsafe BpfLink AttachRawTracepoint(string name, ulong cookie = 0)
    {
        var bytes = BpfSys.PathBytes(name);
        fixed (byte* pn = bytes)
        {
            var a = new RawTracepointOpenAttr { Name = (ulong)pn, ProgFd = (uint)Fd, Cookie = cookie };
            int fd = BpfSys.Call(Syscalls, BpfCommand.RawTracepointOpen, ref a);
            if (fd < 0)
                throw BpfSys.Error(BpfCommand.RawTracepointOpen, -fd, $"of program '{Name}' to raw tracepoint '{name}'",
                    -fd == Errno.ENOENT ? $"raw tracepoint '{name}' does not exist on this kernel" : null);
            return new FdLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), $"raw tracepoint {name}");
        }
    }

    /// <summary>
    /// Attaches a BTF-verified program (tp_btf, fentry, fexit, fmod_ret, lsm) to the target it was loaded against.
    /// </summary>
    public unsafe BpfLink AttachTracing(ulong cookie = 0)
    {
        string target = AttachTarget ?? SectionName;
        int fd;
        if (cookie == 0)
        {
            var a = new RawTracepointOpenAttr { ProgFd = (uint)Fd };
            fd = BpfSys.Call(Syscalls, BpfCommand.RawTracepointOpen, ref a);
        }
        else
        {
            var la = new LinkCreateAttr { ProgFd = (uint)Fd, AttachType = ExpectedAttachType.HasValue ? (uint)ExpectedAttachType.Value : 0, TracingCookie = cookie };
            fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref la);
        }
        if (fd < 0)
            throw BpfSys.Error(cookie == 0 ? BpfCommand.RawTracepointOpen : BpfCommand.LinkCreate, -fd, $"of {Type} program '{Name}' to '{target}'",
                -fd == Errno.EPERM || -fd == Errno.ENOTSUPP || -fd == Errno.EOPNOTSUPP
                    ? $"this kernel refuses {Type} attachment (fentry/fexit/fmod_ret need BPF trampolines, lsm needs CONFIG_BPF_LSM and \"bpf\" in the lsm= boot list)"
                    : null);
        return new FdLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), $"{Section?.Definition.Prefix ?? Type.ToString()} {target}");
    }
}
