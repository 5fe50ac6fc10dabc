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

    /// <summary>Common checks before an attach call.</summary>
    private void RequireType(string what, params BpfProgramType[] types)
    {
        foreach (var t in types)
            if (Type == t) return;
        throw new InvalidOperationException($"program '{Name}' is a {Type} program; {what} needs a {string.Join(" or ", types)} program");
    }
}
