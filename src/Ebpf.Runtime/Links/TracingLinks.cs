using System;
using System.Collections.Generic;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>A tracepoint program attached to a tracepoint (perf event of type PERF_TYPE_TRACEPOINT).</summary>
public sealed class TracepointLink : PerfEventLink
{
    internal TracepointLink(BpfProgram program, BpfHandle perfEvent, BpfHandle? link, string category, string name)
        : base(program, perfEvent, link, $"tracepoint {category}/{name}")
    {
        Category = category;
        Name = name;
    }

    public string Category { get; }
    public string Name { get; }
}

/// <summary>A raw tracepoint program attached with BPF_RAW_TRACEPOINT_OPEN.</summary>
public sealed class RawTracepointLink : FdLink
{
    internal RawTracepointLink(BpfProgram program, BpfHandle handle, string name)
        : base(program, handle, $"raw tracepoint {name}") => Name = name;

    /// <summary>The raw tracepoint ("sys_enter", "sched_switch").</summary>
    public string Name { get; }
}

/// <summary>A BTF-attached program (tp_btf, fentry, fexit, fmod_ret, freplace, lsm) held by a tracing link.</summary>
public sealed class TracingLink : FdLink
{
    internal TracingLink(BpfProgram program, BpfHandle handle, string kind, string attachTarget)
        : base(program, handle, $"{kind} {attachTarget}")
    {
        Kind = kind;
        AttachTarget = attachTarget;
    }

    /// <summary>"fentry", "fexit", "tp_btf", "lsm", ...</summary>
    public string Kind { get; }
    /// <summary>The kernel function, BTF tracepoint or LSM hook.</summary>
    public string AttachTarget { get; }
}

/// <summary>How kprobes and uprobes are created.</summary>
public enum ProbeAttachMode
{
    /// <summary>The perf PMU (/sys/bus/event_source/devices/kprobe|uprobe) when present, else tracefs probe events.</summary>
    Default,
    /// <summary>Only the perf PMU (Linux 4.17+).</summary>
    Perf,
    /// <summary>Only tracefs kprobe_events / uprobe_events (what kernels before 4.17 offer).</summary>
    Legacy,
}

/// <summary>
/// A kprobe or kretprobe: a perf event opened through the kprobe PMU or, without it, a tracefs kprobe_events entry
/// this link creates and removes on dispose.
/// </summary>
public sealed class KprobeLink : PerfEventLink
{
    internal KprobeLink(BpfProgram program, BpfHandle perfEvent, BpfHandle? link, string function, ulong offset, bool isReturn,
        string? legacyEvent, Action? cleanup)
        : base(program, perfEvent, link, $"{(isReturn ? "kretprobe" : "kprobe")} {function}{(offset != 0 ? $"+0x{offset:x}" : string.Empty)}", cleanup)
    {
        Function = function;
        Offset = offset;
        IsReturnProbe = isReturn;
        LegacyEventName = legacyEvent;
    }

    public string Function { get; }
    public ulong Offset { get; }
    public bool IsReturnProbe { get; }
    /// <summary>Whether the probe was created through tracefs kprobe_events.</summary>
    public bool IsLegacy => LegacyEventName != null;
    /// <summary>The tracefs event ("kprobes/ebpf_123_do_unlinkat_0x0_1") of a legacy probe; null for PMU probes.</summary>
    public string? LegacyEventName { get; }
}

/// <summary>
/// A uprobe or uretprobe on a file offset of a binary, optionally limited to one process: a perf event opened
/// through the uprobe PMU or, without it, a tracefs uprobe_events entry this link removes on dispose.
/// </summary>
public sealed class UprobeLink : PerfEventLink
{
    internal UprobeLink(BpfProgram program, BpfHandle perfEvent, BpfHandle? link, string binaryPath, string? function, ulong fileOffset,
        int pid, bool isReturn, string? legacyEvent, Action? cleanup)
        : base(program, perfEvent, link, $"{(isReturn ? "uretprobe" : "uprobe")} {binaryPath}:{function ?? "0x" + fileOffset.ToString("x", System.Globalization.CultureInfo.InvariantCulture)}{(pid >= 0 ? $" (pid {pid})" : string.Empty)}", cleanup)
    {
        BinaryPath = binaryPath;
        Function = function;
        FileOffset = fileOffset;
        Pid = pid;
        IsReturnProbe = isReturn;
        LegacyEventName = legacyEvent;
    }

    /// <summary>The resolved path of the probed binary or library.</summary>
    public string BinaryPath { get; }
    /// <summary>The function, when the probe was placed by name.</summary>
    public string? Function { get; }
    /// <summary>The probed file offset.</summary>
    public ulong FileOffset { get; }
    /// <summary>The process the probe is limited to, or -1 for every process.</summary>
    public int Pid { get; }
    public bool IsReturnProbe { get; }
    public bool IsLegacy => LegacyEventName != null;
    public string? LegacyEventName { get; }
}

/// <summary>A kprobe.multi / kretprobe.multi / kprobe.session link: one program on many kernel functions (Linux 5.18).</summary>
public sealed class KprobeMultiLink : FdLink
{
    internal KprobeMultiLink(BpfProgram program, BpfHandle handle, string description, IReadOnlyList<string> functions, bool isReturn)
        : base(program, handle, description)
    {
        Functions = functions;
        IsReturnProbe = isReturn;
    }

    /// <summary>The functions attached to (empty when attached by address).</summary>
    public IReadOnlyList<string> Functions { get; }
    public bool IsReturnProbe { get; }
}

/// <summary>A uprobe.multi / uretprobe.multi link: one program on many offsets of one binary (Linux 6.6).</summary>
public sealed class UprobeMultiLink : FdLink
{
    internal UprobeMultiLink(BpfProgram program, BpfHandle handle, string description, string binaryPath, IReadOnlyList<ulong> offsets, bool isReturn)
        : base(program, handle, description)
    {
        BinaryPath = binaryPath;
        Offsets = offsets;
        IsReturnProbe = isReturn;
    }

    public string BinaryPath { get; }
    public IReadOnlyList<ulong> Offsets { get; }
    public bool IsReturnProbe { get; }
}

/// <summary>
/// Several links made by one attach call (a program on every CPU's perf event, a USDT probe at each of its call
/// sites): disposing the group disposes each.
/// </summary>
public class LinkGroup : BpfLink
{
    private readonly BpfLink[] _links;
    private readonly string _target;

    internal LinkGroup(BpfProgram program, IReadOnlyList<BpfLink> links, string target) : base(program)
    {
        _links = new BpfLink[links.Count];
        for (int i = 0; i < _links.Length; i++) _links[i] = links[i];
        _target = target;
    }

    /// <summary>The member links.</summary>
    public IReadOnlyList<BpfLink> Links => _links;

    public override string Target => _target;

    public override void Detach()
    {
        List<Exception>? errors = null;
        foreach (var l in _links)
        {
            try { l.Detach(); }
            catch (Exception e) when (e is BpfException or NotSupportedException) { (errors ??= new List<Exception>()).Add(e); }
        }
        if (errors != null)
            throw new AggregateException($"detaching {Target} failed for {errors.Count} of {_links.Length} links", errors);
    }

    protected override void Release()
    {
        List<Exception>? errors = null;
        for (int i = _links.Length - 1; i >= 0; i--)
        {
            try { _links[i].Dispose(); }
            catch (Exception e) when (e is BpfException) { (errors ??= new List<Exception>()).Add(e); }
        }
        ReleaseGroup();
        if (errors != null)
            throw new AggregateException($"releasing {Target} failed for {errors.Count} of {_links.Length} links", errors);
    }

    /// <summary>What the group itself holds beyond its links.</summary>
    private protected virtual void ReleaseGroup() { }
}
