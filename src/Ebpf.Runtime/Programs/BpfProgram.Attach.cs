using System;
using Ebpf.Kernel;

namespace Ebpf;

public partial class BpfProgram
{
    /// <summary>
    /// Attaches the program where its section name says (libbpf's auto-attach): "tp/cat/name", "raw_tp/name",
    /// "tp_btf/name", "fentry/func", "lsm/hook", "kprobe/func+off", "ksyscall/name", "kprobe.multi/pattern",
    /// "uprobe/binary:func", "usdt/binary:provider:name", "iter/task". Throws when the section does not say enough
    /// (xdp, tc, cgroup, socket, ...): use the typed wrapper's attach method then.
    /// </summary>
    public BpfLink Attach()
    {
        var sec = Section ?? throw new InvalidOperationException($"program '{Name}': SEC(\"{SectionName}\") is not a known section name, so there is nothing to attach it to automatically");
        if (!sec.IsAutoAttachable)
            throw new InvalidOperationException($"program '{Name}': SEC(\"{SectionName}\") does not say where to attach; {ExplicitAttachHint(sec.AttachKind)}");
        string target = sec.Target;
        switch (sec.AttachKind)
        {
            case AutoAttachKind.Tracepoint:
                if (!SectionDefinitions.TryParseTracepoint(target, out var cat, out var name))
                    throw new InvalidOperationException($"program '{Name}': SEC(\"{SectionName}\") is not of the form tp/<category>/<name>");
                return AttachTracepoint(cat, name);
            case AutoAttachKind.RawTracepoint:
                return AttachRawTracepoint(target);
            case AutoAttachKind.TracingBtf:
            case AutoAttachKind.Lsm:
            case AutoAttachKind.Freplace:
                return AttachTracing();
            case AutoAttachKind.Kprobe:
            case AutoAttachKind.Kretprobe:
                SectionDefinitions.TryParseKprobe(target, out var func, out ulong off);
                return AttachKprobe(func, off, sec.AttachKind == AutoAttachKind.Kretprobe, 0, ProbeAttachMode.Default);
            case AutoAttachKind.Ksyscall:
            case AutoAttachKind.Kretsyscall:
                return AttachKsyscall(target, sec.AttachKind == AutoAttachKind.Kretsyscall, 0);
            case AutoAttachKind.KprobeMulti:
            case AutoAttachKind.KretprobeMulti:
            case AutoAttachKind.KprobeSession:
                SectionDefinitions.TryParseKprobeMulti(target, out var pattern);
                return AttachKprobeMulti(pattern, null, null, null, sec.AttachKind == AutoAttachKind.KretprobeMulti);
            case AutoAttachKind.Uprobe:
            case AutoAttachKind.Uretprobe:
                SectionDefinitions.TryParseUprobe(target, out var binary, out var ufunc, out ulong uoff);
                return AttachUprobe(binary, ufunc, uoff, -1, sec.AttachKind == AutoAttachKind.Uretprobe, 0, 0, ProbeAttachMode.Default);
            case AutoAttachKind.UprobeMulti:
            case AutoAttachKind.UretprobeMulti:
            case AutoAttachKind.UprobeSession:
                SectionDefinitions.TryParseUprobeMulti(target, out var mbinary, out var mpattern);
                return AttachUprobeMulti(mbinary, mpattern, null, null, -1, sec.AttachKind == AutoAttachKind.UretprobeMulti);
            case AutoAttachKind.Usdt:
                SectionDefinitions.TryParseUsdt(target, out var ubinary, out var provider, out var probe);
                return AttachUsdt(ubinary, provider, probe, -1, 0);
            case AutoAttachKind.Iterator:
                return AttachIterator(null);
            default:
                throw new NotSupportedException($"program '{Name}': automatic attach of {sec.AttachKind} programs is not available; {ExplicitAttachHint(sec.AttachKind)}");
        }
    }

    private static string ExplicitAttachHint(AutoAttachKind kind) => kind switch
    {
        AutoAttachKind.Xdp => "use XdpProgram.Attach(interface)",
        AutoAttachKind.Tcx or AutoAttachKind.Tc => "use TcProgram.Attach(interface)",
        AutoAttachKind.CgroupLink => "use CgroupProgram.Attach(cgroupPath)",
        AutoAttachKind.SocketFilter => "use SocketFilterProgram.Attach(socket)",
        AutoAttachKind.SkLookup => "use SkLookupProgram.Attach() (current network namespace) or Attach(netnsPath)",
        AutoAttachKind.PerfEvent => "use PerfEventProgram.Attach(event, ...)",
        AutoAttachKind.Syscall => "syscall programs are not attached: run them with SyscallProgram.Run(...)",
        AutoAttachKind.Kprobe or AutoAttachKind.Kretprobe or AutoAttachKind.Ksyscall or AutoAttachKind.Kretsyscall => "use KprobeProgram.Attach(function)",
        AutoAttachKind.KprobeMulti or AutoAttachKind.KretprobeMulti or AutoAttachKind.KprobeSession => "use KprobeMultiProgram.Attach(pattern or symbols)",
        AutoAttachKind.Uprobe or AutoAttachKind.Uretprobe => "use UprobeProgram.Attach(binary, function)",
        AutoAttachKind.UprobeMulti or AutoAttachKind.UretprobeMulti or AutoAttachKind.UprobeSession => "use UprobeProgram.AttachMulti(binary, pattern)",
        AutoAttachKind.Usdt => "use UsdtProgram.Attach(binary, provider, name)",
        AutoAttachKind.Tracepoint => "use TracepointProgram.Attach(category, name)",
        AutoAttachKind.RawTracepoint => "use RawTracepointProgram.Attach(name)",
        AutoAttachKind.TracingBtf or AutoAttachKind.Lsm => "set AttachTarget before Load() and use TracingProgram.Attach()",
        AutoAttachKind.Iterator => "set AttachTarget (\"task\", \"bpf_map_elem\", ...) before Load() and use IteratorProgram.Attach()",
        _ => "use an explicit attach method",
    };

    // ------------------------------------------------------------------ tracepoints

    /// <summary>Attaches a tracepoint program to tracepoint <paramref name="category"/>:<paramref name="name"/>.</summary>
    public TracepointLink AttachTracepoint(string category, string name, ulong cookie = 0)
    {
        uint id = Tracefs.TracepointId(Syscalls, category, name);
        int fd = ProbeEvents.OpenTracepoint(Syscalls, id, -1);
        if (fd < 0)
            throw new BpfSyscallException("perf_event_open", null, -fd, $"perf_event_open for tracepoint {category}/{name} failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)})" +
                (-fd == Errno.EACCES || -fd == Errno.EPERM ? ". Tracing needs root or CAP_PERFMON; check /proc/sys/kernel/perf_event_paranoid" : string.Empty));
        var pe = new BpfHandle(fd, BpfHandleKind.PerfEvent, Syscalls);
        try
        {
            var link = AttachToPerfEvent(pe, $"tracepoint {category}/{name}", cookie);
            return new TracepointLink(this, pe, link, category, name);
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

    /// <summary>Attaches a raw tracepoint program to raw tracepoint <paramref name="name"/> ("sys_enter", "sched_switch").</summary>
    public unsafe RawTracepointLink AttachRawTracepoint(string name, ulong cookie = 0)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("the raw tracepoint name is empty", nameof(name));
        var bytes = BpfSys.PathBytes(name);
        fixed (byte* pn = bytes)
        {
            var a = new RawTracepointOpenAttr { Name = (ulong)pn, ProgFd = (uint)Fd, Cookie = cookie };
            int fd = BpfSys.Call(Syscalls, BpfCommand.RawTracepointOpen, ref a);
            if (fd < 0)
                throw BpfSys.Error(BpfCommand.RawTracepointOpen, -fd, $"of program '{Name}' to raw tracepoint '{name}'",
                    -fd == Errno.ENOENT ? $"raw tracepoint '{name}' does not exist on this kernel" :
                    -fd == Errno.E2BIG && cookie != 0 ? "BPF cookies on raw tracepoints need Linux 6.10" : null);
            return new RawTracepointLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), name);
        }
    }

    /// <summary>
    /// Attaches a BTF-verified program (tp_btf, fentry, fexit, fmod_ret, freplace, lsm) to the target it was loaded against.
    /// </summary>
    public unsafe TracingLink AttachTracing(ulong cookie = 0)
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
                    : -fd == Errno.EINVAL && cookie != 0 ? "BPF cookies on tracing links need Linux 5.19"
                    : null);
        return new TracingLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), Section?.Definition.Prefix ?? Type.ToString(), target);
    }

    /// <summary>Common checks before an attach call.</summary>
    private void RequireType(string what, params BpfProgramType[] types)
    {
        foreach (var t in types)
            if (Type == t) return;
        throw new InvalidOperationException($"program '{Name}' is a {Type} program; {what} needs a {string.Join(" or ", types)} program");
    }
}
