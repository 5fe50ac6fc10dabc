using System;

namespace Ebpf;

public partial class BpfProgram
{
    /// <summary>
    /// The program's kind, from the section table: the section's <see cref="ProgramKind"/> while the program still has
    /// the section's program type; <see cref="ProgramKind.None"/> for unknown sections and after <see cref="Type"/>
    /// was changed (as libbpf drops the section definition when the type changes).
    /// </summary>
    public ProgramKind Kind => Section is { } s && s.ProgramType == Type ? s.ProgramKind : ProgramKind.None;

    /// <summary>
    /// True when the section name alone says where to attach the program, so that <see cref="Attach()"/> and the
    /// object's (or skeleton's) <c>Attach()</c> attach it: tracepoints, kprobes, fentry, lsm, uprobes with a binary
    /// and function, ... False for kinds that need a target (xdp, tc, cgroup, socket filters, ...), for unknown
    /// sections and after <see cref="Type"/> was changed.
    /// </summary>
    public bool IsAutoAttachable => Kind != ProgramKind.None && Section is { IsAutoAttachable: true };

    /// <summary>
    /// Attaches the program where its section name says (libbpf's auto-attach): "tp/cat/name", "raw_tp/name",
    /// "tp_btf/name", "fentry/func", "lsm/hook", "kprobe/func+off", "ksyscall/name", "kprobe.multi/pattern",
    /// "uprobe/binary:func", "usdt/binary:provider:name", "iter/task". The typed wrapper of the program's
    /// <see cref="Kind"/> does the attach. Throws when the section does not say enough (xdp, tc, cgroup, socket,
    /// ...): use the typed wrapper's attach method then.
    /// </summary>
    public BpfLink Attach()
    {
        var sec = Section ?? throw new InvalidOperationException($"program '{Name}': SEC(\"{SectionName}\") is not a known section name, so there is nothing to attach it to automatically");
        if (sec.ProgramType != Type)
            throw new InvalidOperationException($"program '{Name}': its type was changed from {sec.ProgramType} to {Type}, so SEC(\"{SectionName}\") no longer says how to attach it; use the typed wrapper of its new kind");
        var wrapper = TypedProgram.For(this)
            ?? throw new NotSupportedException($"program '{Name}': SEC(\"{SectionName}\") makes a {sec.AttachKind} program, which this runtime does not attach; attach it with the kernel's interface for that kind");
        BpfLink link;
        try
        {
            link = wrapper.AttachBySection();
        }
        catch (Exception e)
        {
            BpfMetrics.Attached(this, e);
            throw;
        }
        BpfMetrics.Attached(this, null);
        return link;
    }

    /// <summary>
    /// The kernel's run statistics of the program (run count, run time): they grow only while statistics are on
    /// (<see cref="BpfRunStatistics.Enable()"/> or the sysctl kernel.bpf_stats_enabled).
    /// </summary>
    public BpfProgramRunStatistics GetRunStatistics()
    {
        var info = new Kernel.ProgInfo();
        Kernel.BpfSys.GetInfo(Syscalls, Handle, ref info);
        return new BpfProgramRunStatistics(info.RunCnt, info.RunTimeNs, info.RecursionMisses);
    }

    /// <summary>Common checks before an attach call.</summary>
    private void RequireType(string what, params BpfProgramType[] types)
    {
        foreach (var t in types)
            if (Type == t) return;
        throw new InvalidOperationException($"program '{Name}' is a {Type} program; {what} needs a {string.Join(" or ", types)} program");
    }
}
