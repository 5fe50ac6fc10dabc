using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace Ebpf;

/// <summary>
/// Per-section flags of libbpf's <c>section_defs[]</c> table (<c>enum sec_def_flags</c>, stored as the definition's
/// cookie). The numeric values are libbpf's.
/// </summary>
/// <remarks>
/// libbpf 0.x also had <c>SEC_DEPRECATED</c>; it was removed together with the deprecated section names in
/// libbpf 1.0 and has no counterpart here. The sections libbpf's table only comments as legacy (<c>tc</c>,
/// <c>classifier</c>, <c>action</c>) are marked by <see cref="SectionDefinition.IsLegacy"/>.
/// </remarks>
[Flags]
internal enum SectionFlags
{
    /// <summary><c>SEC_NONE</c>.</summary>
    None = 0,

    /// <summary>
    /// <c>SEC_EXP_ATTACH_OPT</c>: the expected attach type is dropped (sent as 0) when the kernel does not support
    /// <c>expected_attach_type</c> at <c>BPF_PROG_LOAD</c> (kernels before 4.17).
    /// </summary>
    ExpectedAttachTypeOptional = 1,

    /// <summary>
    /// <c>SEC_ATTACHABLE</c>: legacy marker of sections attachable with <c>BPF_PROG_ATTACH</c>; libbpf only uses it in
    /// <c>libbpf_attach_type_by_name()</c>.
    /// </summary>
    Attachable = 2,

    /// <summary><c>SEC_ATTACHABLE_OPT</c> = <see cref="Attachable"/> | <see cref="ExpectedAttachTypeOptional"/>.</summary>
    AttachableOptional = Attachable | ExpectedAttachTypeOptional,

    /// <summary>
    /// <c>SEC_ATTACH_BTF</c>: the attach target is a BTF id (kernel, module or, for freplace, another program's BTF),
    /// named by the text after the first '/' of the section name and resolved before <c>BPF_PROG_LOAD</c>.
    /// </summary>
    AttachBtf = 4,

    /// <summary><c>SEC_SLEEPABLE</c>: the program is loaded with <c>BPF_F_SLEEPABLE</c>.</summary>
    Sleepable = 8,

    /// <summary><c>SEC_XDP_FRAGS</c>: XDP program loaded with <c>BPF_F_XDP_HAS_FRAGS</c> (multi-buffer aware).</summary>
    XdpFrags = 16,

    /// <summary>
    /// <c>SEC_USDT</c>: USDT program; when the kernel supports uprobe-multi links libbpf loads it with expected attach
    /// type <see cref="BpfAttachType.TraceUprobeMulti"/> instead of the table's 0.
    /// </summary>
    Usdt = 32,
}

/// <summary>How the runtime attaches a program of a given section (the mechanism, not whether the name says enough).</summary>
internal enum AutoAttachKind
{
    /// <summary>No attach mechanism known.</summary>
    None = 0,

    /// <summary>kprobe through a perf event (<c>SEC("kprobe/func+off")</c>).</summary>
    Kprobe,

    /// <summary>kretprobe through a perf event (<c>SEC("kretprobe/func")</c>).</summary>
    Kretprobe,

    /// <summary>kprobe.multi link (<c>BPF_TRACE_KPROBE_MULTI</c>), the target is a glob pattern.</summary>
    KprobeMulti,

    /// <summary>kretprobe.multi link (<c>BPF_TRACE_KPROBE_MULTI</c> with the return flag).</summary>
    KretprobeMulti,

    /// <summary>kprobe.session link (<c>BPF_TRACE_KPROBE_SESSION</c>).</summary>
    KprobeSession,

    /// <summary>kprobe on the architecture-specific syscall entry function (<c>SEC("ksyscall/openat")</c>).</summary>
    Ksyscall,

    /// <summary>kretprobe on the syscall entry function (<c>SEC("kretsyscall/openat")</c>).</summary>
    Kretsyscall,

    /// <summary>uprobe through a perf event (<c>SEC("uprobe/binary:func+off")</c>).</summary>
    Uprobe,

    /// <summary>uretprobe through a perf event.</summary>
    Uretprobe,

    /// <summary>uprobe.multi link (<c>BPF_TRACE_UPROBE_MULTI</c>), the function part is a glob pattern.</summary>
    UprobeMulti,

    /// <summary>uretprobe.multi link.</summary>
    UretprobeMulti,

    /// <summary>uprobe.session link (<c>BPF_TRACE_UPROBE_SESSION</c>).</summary>
    UprobeSession,

    /// <summary>USDT probe (<c>SEC("usdt/binary:provider:name")</c>), through uprobes.</summary>
    Usdt,

    /// <summary>Tracepoint through a perf event (<c>SEC("tp/category/name")</c>).</summary>
    Tracepoint,

    /// <summary>Raw tracepoint (<c>BPF_RAW_TRACEPOINT_OPEN</c>).</summary>
    RawTracepoint,

    /// <summary>BTF-based tracing link (<c>BPF_LINK_CREATE</c> with the expected attach type): tp_btf, fentry, fexit, fmod_ret, fsession.</summary>
    TracingBtf,

    /// <summary>freplace: a <see cref="BpfProgramType.Ext"/> program replacing a function of another loaded program.</summary>
    Freplace,

    /// <summary>LSM hook (<c>BPF_LSM_MAC</c>).</summary>
    Lsm,

    /// <summary>BPF iterator link (<c>BPF_TRACE_ITER</c>).</summary>
    Iterator,

    /// <summary>XDP on a network interface (needs an ifindex).</summary>
    Xdp,

    /// <summary>XDP program stored in a devmap or cpumap entry rather than attached to an interface.</summary>
    XdpMapEntry,

    /// <summary>tcx link on a network interface (needs an ifindex).</summary>
    Tcx,

    /// <summary>netkit link on a netkit device (needs an ifindex).</summary>
    Netkit,

    /// <summary>Legacy tc classifier through netlink (a direct-action cls_bpf filter under the clsact qdisc).</summary>
    Tc,

    /// <summary>
    /// tc action (<c>SEC("action")</c>, a <see cref="BpfProgramType.SchedAct"/> program): run by an act_bpf action
    /// that a tc filter points to. Neither tcx nor cls_bpf take it; the runtime has no attach for it.
    /// </summary>
    TcAction,

    /// <summary>cgroup attach or cgroup link (needs a cgroup fd); also sockops and lsm_cgroup.</summary>
    CgroupLink,

    /// <summary>Socket filter (<c>SO_ATTACH_BPF</c> on a socket).</summary>
    SocketFilter,

    /// <summary>SO_REUSEPORT group selector (<c>SO_ATTACH_REUSEPORT_EBPF</c>).</summary>
    SkReuseport,

    /// <summary>sk_lookup through a network-namespace link.</summary>
    SkLookup,

    /// <summary>Flow dissector through a network-namespace link.</summary>
    FlowDissector,

    /// <summary>sk_skb or sk_msg program attached to a sockmap or sockhash.</summary>
    SockMap,

    /// <summary>Infrared decoder attached to a LIRC device.</summary>
    LircMode2,

    /// <summary>Lightweight tunnel program installed on a route through netlink.</summary>
    Lwt,

    /// <summary>Program attached to a perf event fd that the caller opens.</summary>
    PerfEvent,

    /// <summary>Syscall program: not attached, run with <c>BPF_PROG_RUN</c>.</summary>
    Syscall,

    /// <summary>struct_ops callback: attached through its struct_ops map.</summary>
    StructOps,

    /// <summary>Netfilter hook link (needs protocol family, hook and priority).</summary>
    Netfilter,
}

/// <summary>
/// The kind of program a section makes, as the runtime and the generator see it: each value but
/// <see cref="None"/> is a typed program wrapper of the runtime named after it (<see cref="Kprobe"/> is
/// <c>KprobeProgram</c>, ...) whose attach methods and link type live together. Derived from the section's
/// <see cref="AutoAttachKind"/> by <see cref="SectionDefinitions.ProgramKindOf(AutoAttachKind)"/>, nowhere else.
/// </summary>
public enum ProgramKind
{
    /// <summary>No typed wrapper: the program is a plain <c>BpfProgram</c> (no attach path, or one the runtime does not offer).</summary>
    None = 0,

    /// <summary>kprobe, kretprobe, ksyscall, kretsyscall (perf event on the kprobe PMU or tracefs).</summary>
    Kprobe,

    /// <summary>kprobe.multi, kretprobe.multi, kprobe.session (one link on many kernel functions).</summary>
    KprobeMulti,

    /// <summary>uprobe, uretprobe and the uprobe.multi / uprobe.session links.</summary>
    Uprobe,

    /// <summary>USDT probes (uprobes at the probe's call sites, with libbpf's argument specs).</summary>
    Usdt,

    /// <summary>Tracepoints (perf event of type tracepoint).</summary>
    Tracepoint,

    /// <summary>Raw tracepoints (<c>BPF_RAW_TRACEPOINT_OPEN</c>), writable ones included.</summary>
    RawTracepoint,

    /// <summary>BTF-attached tracing: tp_btf, fentry, fexit, fmod_ret, fsession, freplace.</summary>
    Tracing,

    /// <summary>BPF LSM hooks.</summary>
    Lsm,

    /// <summary>BPF iterators.</summary>
    Iterator,

    /// <summary>XDP on a network interface.</summary>
    Xdp,

    /// <summary>tc classifiers: tcx links, or a cls_bpf filter under clsact.</summary>
    Tc,

    /// <summary>netkit programs (a netkit device's primary or peer side).</summary>
    Netkit,

    /// <summary>cgroup hooks (links or BPF_PROG_ATTACH): cgroup_skb, cgroup/*, sockops, lsm_cgroup.</summary>
    Cgroup,

    /// <summary>Socket filters (<c>SO_ATTACH_BPF</c>).</summary>
    SocketFilter,

    /// <summary>sk_lookup (network-namespace link).</summary>
    SkLookup,

    /// <summary>flow_dissector (network-namespace link).</summary>
    FlowDissector,

    /// <summary>perf_event programs on a perf event the caller describes.</summary>
    PerfEvent,

    /// <summary>syscall programs, run with <c>BPF_PROG_TEST_RUN</c>.</summary>
    Syscall,

    /// <summary>struct_ops callbacks: called by the kernel once their struct_ops map is registered.</summary>
    StructOps,
}

/// <summary>How a <see cref="SectionDefinition"/> pattern is compared with a section name (libbpf's <c>sec_def_matches()</c>).</summary>
internal enum SectionMatchKind
{
    /// <summary>The section name must equal the pattern (e.g. <c>"xdp"</c>, <c>"cgroup_skb/ingress"</c>).</summary>
    Exact = 0,

    /// <summary>
    /// Pattern <c>"type+"</c>: the section name is either exactly <c>"type"</c> or <c>"type/extras"</c>; the character
    /// after <c>"type"</c> must be '/' (so <c>"kprobe.multi/x"</c> does not match <c>"kprobe+"</c>).
    /// </summary>
    ExactOrSlashPrefix = 1,

    /// <summary>Pattern <c>"type/"</c>: the section name must start with <c>"type/"</c> (plain prefix match).</summary>
    SlashPrefix = 2,
}

/// <summary>One row of the section table: which program type and load options a <c>SEC("...")</c> name selects.</summary>
internal sealed class SectionDefinition
{

    /// <summary>Creates a definition; <paramref name="pattern"/> uses libbpf's syntax (trailing '+' or '/' for prefix forms).</summary>
    /// <param name="pattern">The pattern as libbpf spells it, e.g. <c>"kprobe+"</c>, <c>"xdp"</c>, <c>"custom/"</c>.</param>
    /// <param name="programType">The program type the section selects.</param>
    /// <param name="expectedAttachType">The expected attach type, or null when the section specifies none (libbpf's 0).</param>
    /// <param name="flags">libbpf's flags for the section.</param>
    /// <param name="attachKind">How the runtime attaches programs of this section.</param>
    /// <param name="isLegacy">True for sections that libbpf keeps only for compatibility.</param>
    public SectionDefinition(
        string pattern,
        BpfProgramType programType,
        BpfAttachType? expectedAttachType,
        SectionFlags flags,
        AutoAttachKind attachKind,
        bool isLegacy = false)
    {
        if (pattern is null)
        {
            throw new ArgumentNullException(nameof(pattern));
        }

        if (pattern.Length == 0)
        {
            throw new ArgumentException("A section pattern cannot be empty.", nameof(pattern));
        }

        Pattern = pattern;
        char last = pattern[pattern.Length - 1];
        if (last == '+')
        {
            MatchKind = SectionMatchKind.ExactOrSlashPrefix;
            Prefix = pattern.Substring(0, pattern.Length - 1);
        }
        else if (last == '/')
        {
            MatchKind = SectionMatchKind.SlashPrefix;
            Prefix = pattern.Substring(0, pattern.Length - 1);
        }
        else
        {
            MatchKind = SectionMatchKind.Exact;
            Prefix = pattern;
        }

        ProgramType = programType;
        ExpectedAttachType = expectedAttachType;
        Flags = flags;
        AttachKind = attachKind;
        IsLegacy = isLegacy;
    }

    /// <summary>The pattern in libbpf's spelling, e.g. <c>"kprobe+"</c> or <c>"cgroup/connect4"</c>.</summary>
    public string Pattern { get; }

    /// <summary>The pattern without its trailing '+' or '/': the section type name, e.g. <c>"kprobe"</c>.</summary>
    public string Prefix { get; }

    /// <summary>How the pattern is compared with section names.</summary>
    public SectionMatchKind MatchKind { get; }

    /// <summary>True when names longer than <see cref="Prefix"/> can match (<c>"type+"</c> and <c>"type/"</c> patterns).</summary>
    public bool IsPrefixMatch => MatchKind != SectionMatchKind.Exact;

    /// <summary>The program type (<c>BPF_PROG_LOAD</c>'s <c>prog_type</c>).</summary>
    public BpfProgramType ProgramType { get; }

    /// <summary>
    /// The expected attach type, or null when the section specifies none. Note that
    /// <see cref="BpfAttachType.CgroupInetIngress"/> (0) is a real attach type here (<c>SEC("cgroup_skb/ingress")</c>).
    /// </summary>
    public BpfAttachType? ExpectedAttachType { get; }

    /// <summary>Whether the section specifies an expected attach type.</summary>
    public bool HasExpectedAttachType => ExpectedAttachType.HasValue;

    /// <summary>The value for <c>BPF_PROG_LOAD</c>'s <c>expected_attach_type</c>: the attach type, or 0 when none.</summary>
    public uint ExpectedAttachTypeValue => ExpectedAttachType.HasValue ? (uint)ExpectedAttachType.Value : 0u;

    /// <summary>libbpf's flags for the section.</summary>
    public SectionFlags Flags { get; }

    /// <summary>How the runtime attaches programs of this section.</summary>
    public AutoAttachKind AttachKind { get; }

    /// <summary>True for sections libbpf keeps only for compatibility (<c>tc</c>, <c>classifier</c>, <c>action</c>: use tcx).</summary>
    public bool IsLegacy { get; }

    /// <summary>The kind of program the section makes: which typed wrapper the runtime and the generator use.</summary>
    public ProgramKind ProgramKind => SectionDefinitions.ProgramKindOf(AttachKind);

    /// <summary>Whether the section makes a return probe (kretprobe, kretsyscall, kretprobe.multi, uretprobe, uretprobe.multi).</summary>
    public bool IsReturnProbe => AttachKind is AutoAttachKind.Kretprobe or AutoAttachKind.Kretsyscall or AutoAttachKind.KretprobeMulti
        or AutoAttachKind.Uretprobe or AutoAttachKind.UretprobeMulti;

    /// <summary>Whether programs of this section are loaded with <c>BPF_F_SLEEPABLE</c> (the <c>.s</c> variants).</summary>
    public bool IsSleepable => (Flags & SectionFlags.Sleepable) != 0;

    /// <summary>Whether the attach target is a BTF id named after the first '/' of the section name.</summary>
    public bool AttachesByBtf => (Flags & SectionFlags.AttachBtf) != 0;

    /// <summary>The <c>prog_flags</c> libbpf adds at <c>BPF_PROG_LOAD</c>: <c>BPF_F_SLEEPABLE</c> and/or <c>BPF_F_XDP_HAS_FRAGS</c>.</summary>
    public BpfProgramFlags ProgramLoadFlags
    {
        get
        {
            var result = BpfProgramFlags.None;
            if ((Flags & SectionFlags.Sleepable) != 0)
            {
                result |= BpfProgramFlags.Sleepable;
            }

            if ((Flags & SectionFlags.XdpFrags) != 0 && ProgramType == BpfProgramType.Xdp)
            {
                result |= BpfProgramFlags.XdpHasFrags;
            }

            return result;
        }
    }

    /// <summary>Whether <paramref name="sectionName"/> matches this definition under libbpf's rules.</summary>
    public bool Matches(string sectionName)
    {
        if (sectionName is null)
        {
            throw new ArgumentNullException(nameof(sectionName));
        }

        switch (MatchKind)
        {
            case SectionMatchKind.SlashPrefix:
                return sectionName.StartsWith(Pattern, StringComparison.Ordinal);
            case SectionMatchKind.ExactOrSlashPrefix:
                if (!sectionName.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    return false;
                }

                return sectionName.Length == Prefix.Length || sectionName[Prefix.Length] == '/';
            default:
                return string.Equals(sectionName, Pattern, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The part of a matching <paramref name="sectionName"/> after the type: for <c>"tp/syscalls/sys_enter_getpid"</c>
    /// and pattern <c>"tp+"</c> it is <c>"syscalls/sys_enter_getpid"</c>; empty for exact matches and bare <c>"tp"</c>.
    /// </summary>
    internal string GetTarget(string sectionName)
    {
        switch (MatchKind)
        {
            case SectionMatchKind.SlashPrefix:
                return sectionName.Substring(Pattern.Length);
            case SectionMatchKind.ExactOrSlashPrefix:
                return sectionName.Length > Prefix.Length ? sectionName.Substring(Prefix.Length + 1) : string.Empty;
            default:
                return string.Empty;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Pattern;
}

/// <summary>The result of matching a section name against the section table.</summary>
/// <remarks>
/// Only instances produced by a successful <see cref="SectionDefinitions.TryMatch(string, out SectionMatch)"/> (or the
/// constructor) are meaningful; <c>default(SectionMatch)</c> has a null <see cref="Definition"/>.
/// </remarks>
internal readonly struct SectionMatch
{
    private readonly string? _sectionName;
    private readonly string? _target;
    private readonly SectionTarget? _parsedTarget;

    /// <summary>Creates a match of <paramref name="sectionName"/> by <paramref name="definition"/>.</summary>
    public SectionMatch(SectionDefinition definition, string sectionName)
    {
        Definition = definition ?? throw new ArgumentNullException(nameof(definition));
        _sectionName = sectionName ?? throw new ArgumentNullException(nameof(sectionName));
        _target = definition.GetTarget(sectionName);
        _parsedTarget = SectionTarget.Parse(definition.AttachKind, _target);
    }

    /// <summary>The matching table row (null only for <c>default(SectionMatch)</c>).</summary>
    public SectionDefinition Definition { get; }

    /// <summary>The full section name, e.g. <c>"kprobe/do_sys_open+0x10"</c>.</summary>
    public string SectionName => _sectionName ?? string.Empty;

    /// <summary>
    /// The text after <c>"type/"</c>, e.g. <c>"syscalls/sys_enter_getpid"</c> for <c>"tp/syscalls/sys_enter_getpid"</c>,
    /// <c>"/usr/lib/libc.so.6:malloc"</c> for <c>"uretprobe//usr/lib/libc.so.6:malloc"</c>; empty when the name has
    /// no target (<c>"kprobe"</c>) or the definition is an exact name (<c>"cgroup/connect4"</c>).
    /// </summary>
    public string Target => _target ?? string.Empty;

    /// <summary>Whether <see cref="Target"/> is not empty.</summary>
    public bool HasTarget => Target.Length != 0;

    /// <summary>Whether the program is loaded with <c>BPF_F_SLEEPABLE</c>.</summary>
    public bool Sleepable => Definition.IsSleepable;

    /// <summary>The program type.</summary>
    public BpfProgramType ProgramType => Definition.ProgramType;

    /// <summary>The expected attach type, or null when the section specifies none.</summary>
    public BpfAttachType? ExpectedAttachType => Definition.ExpectedAttachType;

    /// <summary>libbpf's flags for the section.</summary>
    public SectionFlags Flags => Definition.Flags;

    /// <summary>How the runtime attaches the program.</summary>
    public AutoAttachKind AttachKind => Definition.AttachKind;

    /// <summary>The <c>prog_flags</c> to add at <c>BPF_PROG_LOAD</c>.</summary>
    public BpfProgramFlags ProgramLoadFlags => Definition.ProgramLoadFlags;

    /// <summary>
    /// For BTF-attached sections (fentry, fexit, fmod_ret, fsession, tp_btf, lsm, lsm_cgroup, iter, freplace): the
    /// name of the BTF target (<c>"bpf_fentry_test1"</c> for <c>"fentry.s/bpf_fentry_test1"</c>); null when the
    /// section is not BTF-attached or names no target (then it must be set at runtime before loading).
    /// </summary>
    public string? AttachBtfName => Definition.AttachesByBtf && Target.Length != 0 ? Target : null;

    /// <summary>
    /// <see cref="Target"/> parsed for the section's attach kind (function and offset, binary, pattern, tracepoint,
    /// USDT probe, BTF name), once, when the section was matched; null when the name does not say enough to attach.
    /// </summary>
    public SectionTarget? ParsedTarget => _parsedTarget;

    /// <summary>The kind of program the section makes (which typed wrapper).</summary>
    public ProgramKind ProgramKind => Definition.ProgramKind;

    /// <summary>Whether the name alone says enough to attach the program (see <see cref="SectionDefinitions.IsAutoAttachable(SectionMatch)"/>).</summary>
    public bool IsAutoAttachable => _parsedTarget is not null;

    /// <inheritdoc/>
    public override string ToString() => SectionName + " -> " + Definition.Pattern;
}

/// <summary>
/// libbpf's table of program section names (<c>section_defs[]</c> in <c>src/libbpf.c</c>, libbpf 1.6/1.7 era,
/// Linux 6.13+ sections included) and the parsers of the target part that auto-attach needs.
/// </summary>
/// <remarks>
/// <para>
/// Matching follows libbpf's <c>find_sec_def()</c>: definitions are tried in table order and the first one whose
/// pattern matches wins. A pattern ending in '+' matches the bare type or the type followed by '/' and anything; one
/// ending in '/' matches any name with that prefix; any other pattern must equal the name. Sleepable variants are
/// separate rows (<c>"fentry.s+"</c>, <c>"uprobe.s+"</c>, ...), not a generic suffix.
/// </para>
/// <para>
/// Names libbpf 0.x accepted but 1.x does not (e.g. <c>"xdp/foo"</c>, <c>"socket/foo"</c>, <c>"tc/foo"</c>,
/// <c>"kprobe_foo"</c>) do not match, as in libbpf 1.x.
/// </para>
/// </remarks>
internal static class SectionDefinitions
{
    private static readonly SectionDefinition[] Table = BuildTable();

    /// <summary>Every definition, in libbpf's table order (which is the matching order).</summary>
    public static IReadOnlyList<SectionDefinition> All { get; } = new ReadOnlyCollection<SectionDefinition>(Table);

    /// <summary>Finds the definition for <paramref name="sectionName"/> with libbpf's rules.</summary>
    /// <returns>False for names that are not program sections, e.g. <c>".text"</c>, <c>"license"</c>, <c>".maps"</c>.</returns>
    public static bool TryMatch(string sectionName, out SectionMatch match) => TryMatch(sectionName, null, out match);

    /// <summary>
    /// Finds the definition for <paramref name="sectionName"/>, trying <paramref name="customDefinitions"/> first, in
    /// order, like libbpf does with handlers registered by <c>libbpf_register_prog_handler()</c>.
    /// </summary>
    public static bool TryMatch(string sectionName, IEnumerable<SectionDefinition>? customDefinitions, out SectionMatch match)
    {
        if (sectionName is null)
        {
            throw new ArgumentNullException(nameof(sectionName));
        }

        if (customDefinitions is not null)
        {
            foreach (var definition in customDefinitions)
            {
                if (definition is not null && definition.Matches(sectionName))
                {
                    match = new SectionMatch(definition, sectionName);
                    return true;
                }
            }
        }

        foreach (var definition in Table)
        {
            if (definition.Matches(sectionName))
            {
                match = new SectionMatch(definition, sectionName);
                return true;
            }
        }

        match = default;
        return false;
    }

    /// <summary>The definition that <paramref name="sectionName"/> selects, or null.</summary>
    public static SectionDefinition? Find(string sectionName) =>
        TryMatch(sectionName, out var match) ? match.Definition : null;

    /// <summary>
    /// Whether the section name alone says enough to attach the program, i.e. libbpf's skeleton auto-attach would
    /// attach it without further input, and the target part is well formed:
    /// kprobe/kretprobe (a function, and no offset for kretprobe), kprobe.multi/kretprobe.multi/kprobe.session (a
    /// pattern), ksyscall/kretsyscall (a syscall name), uprobe/uretprobe (binary and function, no offset for
    /// uretprobe), uprobe.multi/uretprobe.multi/uprobe.session (binary and pattern), usdt (binary, provider, name),
    /// tp/tracepoint (category and name), raw_tp (a name), and the BTF-attached tp_btf, fentry, fexit, fmod_ret,
    /// fsession, lsm and iter sections when they name their target.
    /// </summary>
    /// <remarks>
    /// Everything that needs an interface, a cgroup, a socket, a map or a target program (xdp, tc, tcx, netkit,
    /// cgroup, sockops, sk_*, lirc, flow_dissector, sk_lookup, perf_event, lwt, netfilter, lsm_cgroup, freplace,
    /// struct_ops) and <c>syscall</c> programs are never auto-attachable. One deliberate difference from libbpf:
    /// <c>"usdt.s/path:provider:name"</c> is reported attachable, while libbpf's <c>attach_usdt()</c> only parses
    /// the <c>"usdt/"</c> spelling and fails on the sleepable one.
    /// </remarks>
    public static bool IsAutoAttachable(SectionMatch match) => match.Definition is not null && match.ParsedTarget is not null;

    /// <summary>
    /// The program kind (typed wrapper) of an attach kind: the one place that groups attach mechanisms into the
    /// runtime's program wrappers. Kinds the runtime offers no attach for give <see cref="ProgramKind.None"/>.
    /// </summary>
    public static ProgramKind ProgramKindOf(AutoAttachKind kind) => kind switch
    {
        AutoAttachKind.Kprobe or AutoAttachKind.Kretprobe or AutoAttachKind.Ksyscall or AutoAttachKind.Kretsyscall => ProgramKind.Kprobe,
        AutoAttachKind.KprobeMulti or AutoAttachKind.KretprobeMulti or AutoAttachKind.KprobeSession => ProgramKind.KprobeMulti,
        AutoAttachKind.Uprobe or AutoAttachKind.Uretprobe or AutoAttachKind.UprobeMulti or AutoAttachKind.UretprobeMulti
            or AutoAttachKind.UprobeSession => ProgramKind.Uprobe,
        AutoAttachKind.Usdt => ProgramKind.Usdt,
        AutoAttachKind.Tracepoint => ProgramKind.Tracepoint,
        AutoAttachKind.RawTracepoint => ProgramKind.RawTracepoint,
        AutoAttachKind.TracingBtf or AutoAttachKind.Freplace => ProgramKind.Tracing,
        AutoAttachKind.Lsm => ProgramKind.Lsm,
        AutoAttachKind.Iterator => ProgramKind.Iterator,
        AutoAttachKind.Xdp => ProgramKind.Xdp,
        AutoAttachKind.Tcx or AutoAttachKind.Tc => ProgramKind.Tc,
        AutoAttachKind.Netkit => ProgramKind.Netkit,
        AutoAttachKind.CgroupLink => ProgramKind.Cgroup,
        AutoAttachKind.SocketFilter => ProgramKind.SocketFilter,
        AutoAttachKind.SkLookup => ProgramKind.SkLookup,
        AutoAttachKind.FlowDissector => ProgramKind.FlowDissector,
        AutoAttachKind.PerfEvent => ProgramKind.PerfEvent,
        AutoAttachKind.Syscall => ProgramKind.Syscall,
        AutoAttachKind.StructOps => ProgramKind.StructOps,
        _ => ProgramKind.None,
    };

    /// <summary>
    /// Whether a program of <paramref name="type"/> with <paramref name="expectedAttachType"/> can be a program of
    /// <paramref name="kind"/>: some row of that kind has this program type and expected attach type. With
    /// <paramref name="attachTypeKnown"/> false (a program opened from a pin or an id, whose expected attach type
    /// the kernel does not report) the program type alone decides.
    /// </summary>
    public static bool Accepts(ProgramKind kind, BpfProgramType type, BpfAttachType? expectedAttachType, bool attachTypeKnown = true)
    {
        if (kind == ProgramKind.None)
        {
            return true;
        }

        foreach (var d in Table)
        {
            if (d.ProgramKind == kind && d.ProgramType == type && (!attachTypeKnown || d.ExpectedAttachType == expectedAttachType))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The rows of <paramref name="kind"/>, in table order (what a wrapper of that kind accepts).</summary>
    public static IEnumerable<SectionDefinition> RowsOf(ProgramKind kind)
    {
        foreach (var d in Table)
        {
            if (d.ProgramKind == kind)
            {
                yield return d;
            }
        }
    }

    /// <summary>Matches <paramref name="sectionName"/> and tells whether the name alone says enough to attach it.</summary>
    public static bool IsAutoAttachable(string sectionName) =>
        TryMatch(sectionName, out var match) && IsAutoAttachable(match);

    /// <summary>
    /// Splits a tracepoint target <c>"category/name"</c> (from <c>"tp/category/name"</c> or
    /// <c>"tracepoint/category/name"</c>) at its first '/'. The name may itself contain '/'. Both parts must be
    /// non-empty (libbpf passes empty parts on and fails when it opens the tracepoint).
    /// </summary>
    public static bool TryParseTracepoint(string target, out string category, out string name)
    {
        if (target is null)
        {
            throw new ArgumentNullException(nameof(target));
        }

        category = string.Empty;
        name = string.Empty;
        int slash = target.IndexOf('/');
        if (slash <= 0 || slash == target.Length - 1)
        {
            return false;
        }

        category = target.Substring(0, slash);
        name = target.Substring(slash + 1);
        return true;
    }

    /// <summary>
    /// Parses a kprobe target <c>"function[+offset]"</c> (from <c>"kprobe/do_sys_open+0x10"</c>) like libbpf's
    /// <c>sscanf("%m[a-zA-Z0-9_.]+%li")</c>: the function is the longest leading run of ASCII letters, digits, '_' and
    /// '.', and must not be empty; if a '+' follows, a C integer (decimal, 0x hex or 0 octal) is read as the offset.
    /// As in libbpf, anything after what was read is ignored and an unreadable offset counts as 0.
    /// Negative or overflowing offsets are rejected. kretprobes must not have an offset (check <paramref name="offset"/>).
    /// </summary>
    public static bool TryParseKprobe(string target, out string function, out ulong offset)
    {
        if (target is null)
        {
            throw new ArgumentNullException(nameof(target));
        }

        function = string.Empty;
        offset = 0;
        int i = 0;
        while (i < target.Length && IsKprobeSymbolChar(target[i]))
        {
            i++;
        }

        if (i == 0)
        {
            return false;
        }

        if (i < target.Length && target[i] == '+')
        {
            switch (ScanCLong(target, i + 1, out long value, out _))
            {
                case ScanResult.Overflow:
                    return false;
                case ScanResult.Ok:
                    if (value < 0)
                    {
                        return false;
                    }

                    offset = (ulong)value;
                    break;
            }
        }

        function = target.Substring(0, i);
        return true;
    }

    /// <summary>
    /// Parses a kprobe.multi / kretprobe.multi / kprobe.session target (a glob pattern such as <c>"tcp_*"</c>) like
    /// libbpf's <c>sscanf("%m[a-zA-Z0-9_.*?]")</c>: the longest leading run of those characters, not empty.
    /// </summary>
    public static bool TryParseKprobeMulti(string target, out string pattern)
    {
        if (target is null)
        {
            throw new ArgumentNullException(nameof(target));
        }

        int i = 0;
        while (i < target.Length && (IsKprobeSymbolChar(target[i]) || target[i] == '*' || target[i] == '?'))
        {
            i++;
        }

        pattern = target.Substring(0, i);
        return i != 0;
    }

    /// <summary>
    /// Parses a uprobe target <c>"binary:function[+offset]"</c> (the text after <c>"uprobe/"</c>, <c>"uretprobe/"</c>,
    /// <c>"uprobe.s/"</c> or <c>"uretprobe.s/"</c>), as libbpf's <c>attach_uprobe()</c> does: the binary runs up to the
    /// first ':' (so <c>"uretprobe//usr/lib/libc.so.6:malloc"</c> gives <c>"/usr/lib/libc.so.6"</c>), the function is
    /// the rest; a trailing <c>"+offset"</c> after the last '+' is split off when it is a complete C integer, otherwise
    /// it stays part of the function name. Binary and function must be non-empty (an offset alone, <c>"bin:+0x10"</c>,
    /// is rejected: libbpf would fail to find a symbol named ""), and negative or overflowing offsets are rejected.
    /// A binary without '/' is resolved by the attacher through PATH or the library search path. uretprobes must not
    /// have an offset.
    /// </summary>
    public static bool TryParseUprobe(string target, out string binaryPath, out string function, out ulong offset)
    {
        offset = 0;
        if (!TrySplitBinaryAndRest(target, out binaryPath, out function))
        {
            return false;
        }

        int plus = function.LastIndexOf('+');
        if (plus >= 0)
        {
            var result = ScanCLong(function, plus + 1, out long value, out int end);
            if (result == ScanResult.Ok && end == function.Length)
            {
                if (value < 0)
                {
                    return false;
                }

                offset = (ulong)value;
                function = function.Substring(0, plus);
            }
            else if (result == ScanResult.Overflow && end == function.Length)
            {
                return false;
            }
        }

        if (function.Length == 0)
        {
            binaryPath = string.Empty;
            offset = 0;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Parses a uprobe.multi / uretprobe.multi / uprobe.session target <c>"binary:pattern"</c> as libbpf's
    /// <c>attach_uprobe_multi()</c> does: the binary runs up to the first ':' and the function glob pattern is the rest.
    /// Both must be non-empty.
    /// </summary>
    public static bool TryParseUprobeMulti(string target, out string binaryPath, out string functionPattern) =>
        TrySplitBinaryAndRest(target, out binaryPath, out functionPattern);

    /// <summary>
    /// Parses a USDT target <c>"binary:provider:name"</c> (from <c>"usdt/./libfoo.so:provider:name"</c>) as libbpf's
    /// <c>sscanf("usdt/%m[^:]:%m[^:]:%m[^:]")</c>: three non-empty ':'-separated parts; anything after a further ':'
    /// is ignored, as in libbpf.
    /// </summary>
    public static bool TryParseUsdt(string target, out string binaryPath, out string provider, out string name)
    {
        if (target is null)
        {
            throw new ArgumentNullException(nameof(target));
        }

        binaryPath = string.Empty;
        provider = string.Empty;
        name = string.Empty;
        int first = target.IndexOf(':');
        if (first <= 0)
        {
            return false;
        }

        int second = target.IndexOf(':', first + 1);
        if (second < 0 || second == first + 1)
        {
            return false;
        }

        int third = target.IndexOf(':', second + 1);
        int end = third < 0 ? target.Length : third;
        if (end == second + 1)
        {
            return false;
        }

        binaryPath = target.Substring(0, first);
        provider = target.Substring(first + 1, second - first - 1);
        name = target.Substring(second + 1, end - second - 1);
        return true;
    }

    private static bool TrySplitBinaryAndRest(string target, out string binaryPath, out string rest)
    {
        if (target is null)
        {
            throw new ArgumentNullException(nameof(target));
        }

        binaryPath = string.Empty;
        rest = string.Empty;

        // "%m[^:]:%m[^\n]": a non-empty binary up to the first ':', then a non-empty rest up to a newline.
        int colon = target.IndexOf(':');
        if (colon <= 0)
        {
            return false;
        }

        int newline = target.IndexOf('\n', colon + 1);
        int end = newline < 0 ? target.Length : newline;
        if (end == colon + 1)
        {
            return false;
        }

        binaryPath = target.Substring(0, colon);
        rest = target.Substring(colon + 1, end - colon - 1);
        return true;
    }

    private static bool IsKprobeSymbolChar(char c) =>
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';

    private enum ScanResult
    {
        NoNumber,
        Ok,
        Overflow,
    }

    // Reads a C "%li" conversion at s[start..]: optional white space, optional sign, then a base-prefixed integer
    // (0x/0X hexadecimal, leading 0 octal, otherwise decimal). end is the index just past the digits.
    private static ScanResult ScanCLong(string s, int start, out long value, out int end)
    {
        value = 0;
        end = start;
        int i = start;
        while (i < s.Length && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
        {
            i++;
        }

        bool negative = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            negative = s[i] == '-';
            i++;
        }

        int radix = 10;
        if (i < s.Length && s[i] == '0')
        {
            if (i + 2 < s.Length && (s[i + 1] == 'x' || s[i + 1] == 'X') && DigitValue(s[i + 2]).HasValue)
            {
                radix = 16;
                i += 2;
            }
            else
            {
                radix = 8;
            }
        }

        ulong limit = negative ? 9223372036854775808UL : long.MaxValue;
        ulong magnitude = 0;
        bool overflow = false;
        int digitsStart = i;
        while (i < s.Length && DigitValue(s[i]) is int digit && digit < radix)
        {
            if (!overflow)
            {
                if (magnitude > (limit - (ulong)digit) / (ulong)radix)
                {
                    overflow = true;
                }
                else
                {
                    magnitude = (magnitude * (ulong)radix) + (ulong)digit;
                }
            }

            i++;
        }

        if (i == digitsStart)
        {
            return ScanResult.NoNumber;
        }

        end = i;
        if (overflow)
        {
            return ScanResult.Overflow;
        }

        value = negative ? (magnitude == 9223372036854775808UL ? long.MinValue : -(long)magnitude) : (long)magnitude;
        return ScanResult.Ok;
    }

    private static int? DigitValue(char c)
    {
        if (c >= '0' && c <= '9')
        {
            return c - '0';
        }

        if (c >= 'a' && c <= 'f')
        {
            return c - 'a' + 10;
        }

        if (c >= 'A' && c <= 'F')
        {
            return c - 'A' + 10;
        }

        return null;
    }

    private static SectionDefinition[] BuildTable()
    {
        const BpfProgramType Kprobe = BpfProgramType.Kprobe;
        const BpfProgramType SchedCls = BpfProgramType.SchedCls;
        const BpfProgramType Tracing = BpfProgramType.Tracing;
        const BpfProgramType Xdp = BpfProgramType.Xdp;
        const BpfProgramType SockAddr = BpfProgramType.CgroupSockAddr;
        const SectionFlags NoFlags = SectionFlags.None;
        const SectionFlags Attachable = SectionFlags.Attachable;
        const SectionFlags AttachableOpt = SectionFlags.AttachableOptional;
        const SectionFlags Btf = SectionFlags.AttachBtf;
        const SectionFlags Sleep = SectionFlags.Sleepable;
        const AutoAttachKind Cgroup = AutoAttachKind.CgroupLink;

        static SectionDefinition D(string pattern, BpfProgramType type, BpfAttachType? attach, SectionFlags flags, AutoAttachKind kind, bool legacy = false) =>
            new(pattern, type, attach, flags, kind, legacy);

        // Same rows, same order as libbpf's section_defs[] (libbpf.c). The order is the matching order.
        return new[]
        {
            D("socket", BpfProgramType.SocketFilter, null, NoFlags, AutoAttachKind.SocketFilter),
            D("sk_reuseport/migrate", BpfProgramType.SkReuseport, BpfAttachType.SkReuseportSelectOrMigrate, Attachable, AutoAttachKind.SkReuseport),
            D("sk_reuseport", BpfProgramType.SkReuseport, BpfAttachType.SkReuseportSelect, Attachable, AutoAttachKind.SkReuseport),
            D("kprobe+", Kprobe, null, NoFlags, AutoAttachKind.Kprobe),
            D("uprobe+", Kprobe, null, NoFlags, AutoAttachKind.Uprobe),
            D("uprobe.s+", Kprobe, null, Sleep, AutoAttachKind.Uprobe),
            D("kretprobe+", Kprobe, null, NoFlags, AutoAttachKind.Kretprobe),
            D("uretprobe+", Kprobe, null, NoFlags, AutoAttachKind.Uretprobe),
            D("uretprobe.s+", Kprobe, null, Sleep, AutoAttachKind.Uretprobe),
            D("kprobe.multi+", Kprobe, BpfAttachType.TraceKprobeMulti, NoFlags, AutoAttachKind.KprobeMulti),
            D("kretprobe.multi+", Kprobe, BpfAttachType.TraceKprobeMulti, NoFlags, AutoAttachKind.KretprobeMulti),
            D("kprobe.session+", Kprobe, BpfAttachType.TraceKprobeSession, NoFlags, AutoAttachKind.KprobeSession),
            D("uprobe.multi+", Kprobe, BpfAttachType.TraceUprobeMulti, NoFlags, AutoAttachKind.UprobeMulti),
            D("uretprobe.multi+", Kprobe, BpfAttachType.TraceUprobeMulti, NoFlags, AutoAttachKind.UretprobeMulti),
            D("uprobe.session+", Kprobe, BpfAttachType.TraceUprobeSession, NoFlags, AutoAttachKind.UprobeSession),
            D("uprobe.multi.s+", Kprobe, BpfAttachType.TraceUprobeMulti, Sleep, AutoAttachKind.UprobeMulti),
            D("uretprobe.multi.s+", Kprobe, BpfAttachType.TraceUprobeMulti, Sleep, AutoAttachKind.UretprobeMulti),
            D("uprobe.session.s+", Kprobe, BpfAttachType.TraceUprobeSession, Sleep, AutoAttachKind.UprobeSession),
            D("ksyscall+", Kprobe, null, NoFlags, AutoAttachKind.Ksyscall),
            D("kretsyscall+", Kprobe, null, NoFlags, AutoAttachKind.Kretsyscall),
            D("usdt+", Kprobe, null, SectionFlags.Usdt, AutoAttachKind.Usdt),
            D("usdt.s+", Kprobe, null, SectionFlags.Usdt | Sleep, AutoAttachKind.Usdt),
            D("tc/ingress", SchedCls, BpfAttachType.TcxIngress, NoFlags, AutoAttachKind.Tcx), // alias of tcx/ingress
            D("tc/egress", SchedCls, BpfAttachType.TcxEgress, NoFlags, AutoAttachKind.Tcx), // alias of tcx/egress
            D("tcx/ingress", SchedCls, BpfAttachType.TcxIngress, NoFlags, AutoAttachKind.Tcx),
            D("tcx/egress", SchedCls, BpfAttachType.TcxEgress, NoFlags, AutoAttachKind.Tcx),
            D("tc", SchedCls, null, NoFlags, AutoAttachKind.Tc, legacy: true),
            D("classifier", SchedCls, null, NoFlags, AutoAttachKind.Tc, legacy: true),
            D("action", BpfProgramType.SchedAct, null, NoFlags, AutoAttachKind.TcAction, legacy: true),
            D("netkit/primary", SchedCls, BpfAttachType.NetkitPrimary, NoFlags, AutoAttachKind.Netkit),
            D("netkit/peer", SchedCls, BpfAttachType.NetkitPeer, NoFlags, AutoAttachKind.Netkit),
            D("tracepoint+", BpfProgramType.Tracepoint, null, NoFlags, AutoAttachKind.Tracepoint),
            D("tp+", BpfProgramType.Tracepoint, null, NoFlags, AutoAttachKind.Tracepoint),
            D("raw_tracepoint+", BpfProgramType.RawTracepoint, null, NoFlags, AutoAttachKind.RawTracepoint),
            D("raw_tp+", BpfProgramType.RawTracepoint, null, NoFlags, AutoAttachKind.RawTracepoint),
            D("raw_tracepoint.w+", BpfProgramType.RawTracepointWritable, null, NoFlags, AutoAttachKind.RawTracepoint),
            D("raw_tp.w+", BpfProgramType.RawTracepointWritable, null, NoFlags, AutoAttachKind.RawTracepoint),
            D("tp_btf+", Tracing, BpfAttachType.TraceRawTp, Btf, AutoAttachKind.TracingBtf),
            D("fentry+", Tracing, BpfAttachType.TraceFentry, Btf, AutoAttachKind.TracingBtf),
            D("fmod_ret+", Tracing, BpfAttachType.ModifyReturn, Btf, AutoAttachKind.TracingBtf),
            D("fexit+", Tracing, BpfAttachType.TraceFexit, Btf, AutoAttachKind.TracingBtf),
            D("fentry.s+", Tracing, BpfAttachType.TraceFentry, Btf | Sleep, AutoAttachKind.TracingBtf),
            D("fmod_ret.s+", Tracing, BpfAttachType.ModifyReturn, Btf | Sleep, AutoAttachKind.TracingBtf),
            D("fexit.s+", Tracing, BpfAttachType.TraceFexit, Btf | Sleep, AutoAttachKind.TracingBtf),
            D("fsession+", Tracing, BpfAttachType.TraceFsession, Btf, AutoAttachKind.TracingBtf),
            D("fsession.s+", Tracing, BpfAttachType.TraceFsession, Btf | Sleep, AutoAttachKind.TracingBtf),
            D("freplace+", BpfProgramType.Ext, null, Btf, AutoAttachKind.Freplace),
            D("lsm+", BpfProgramType.Lsm, BpfAttachType.LsmMac, Btf, AutoAttachKind.Lsm),
            D("lsm.s+", BpfProgramType.Lsm, BpfAttachType.LsmMac, Btf | Sleep, AutoAttachKind.Lsm),
            D("lsm_cgroup+", BpfProgramType.Lsm, BpfAttachType.LsmCgroup, Btf, Cgroup),
            D("iter+", Tracing, BpfAttachType.TraceIter, Btf, AutoAttachKind.Iterator),
            D("iter.s+", Tracing, BpfAttachType.TraceIter, Btf | Sleep, AutoAttachKind.Iterator),
            D("syscall", BpfProgramType.Syscall, null, Sleep, AutoAttachKind.Syscall),
            D("xdp.frags/devmap", Xdp, BpfAttachType.XdpDevmap, SectionFlags.XdpFrags, AutoAttachKind.XdpMapEntry),
            D("xdp/devmap", Xdp, BpfAttachType.XdpDevmap, Attachable, AutoAttachKind.XdpMapEntry),
            D("xdp.frags/cpumap", Xdp, BpfAttachType.XdpCpumap, SectionFlags.XdpFrags, AutoAttachKind.XdpMapEntry),
            D("xdp/cpumap", Xdp, BpfAttachType.XdpCpumap, Attachable, AutoAttachKind.XdpMapEntry),
            D("xdp.frags", Xdp, BpfAttachType.Xdp, SectionFlags.XdpFrags, AutoAttachKind.Xdp),
            D("xdp", Xdp, BpfAttachType.Xdp, AttachableOpt, AutoAttachKind.Xdp),
            D("perf_event", BpfProgramType.PerfEvent, null, NoFlags, AutoAttachKind.PerfEvent),
            D("lwt_in", BpfProgramType.LwtIn, null, NoFlags, AutoAttachKind.Lwt),
            D("lwt_out", BpfProgramType.LwtOut, null, NoFlags, AutoAttachKind.Lwt),
            D("lwt_xmit", BpfProgramType.LwtXmit, null, NoFlags, AutoAttachKind.Lwt),
            D("lwt_seg6local", BpfProgramType.LwtSeg6Local, null, NoFlags, AutoAttachKind.Lwt),
            D("sockops", BpfProgramType.SockOps, BpfAttachType.CgroupSockOps, AttachableOpt, Cgroup),
            D("sk_skb/stream_parser", BpfProgramType.SkSkb, BpfAttachType.SkSkbStreamParser, AttachableOpt, AutoAttachKind.SockMap),
            D("sk_skb/stream_verdict", BpfProgramType.SkSkb, BpfAttachType.SkSkbStreamVerdict, AttachableOpt, AutoAttachKind.SockMap),
            D("sk_skb/verdict", BpfProgramType.SkSkb, BpfAttachType.SkSkbVerdict, AttachableOpt, AutoAttachKind.SockMap),
            D("sk_skb", BpfProgramType.SkSkb, null, NoFlags, AutoAttachKind.SockMap),
            D("sk_msg", BpfProgramType.SkMsg, BpfAttachType.SkMsgVerdict, AttachableOpt, AutoAttachKind.SockMap),
            D("lirc_mode2", BpfProgramType.LircMode2, BpfAttachType.LircMode2, AttachableOpt, AutoAttachKind.LircMode2),
            D("flow_dissector", BpfProgramType.FlowDissector, BpfAttachType.FlowDissector, AttachableOpt, AutoAttachKind.FlowDissector),
            D("cgroup_skb/ingress", BpfProgramType.CgroupSkb, BpfAttachType.CgroupInetIngress, AttachableOpt, Cgroup),
            D("cgroup_skb/egress", BpfProgramType.CgroupSkb, BpfAttachType.CgroupInetEgress, AttachableOpt, Cgroup),
            D("cgroup/skb", BpfProgramType.CgroupSkb, null, NoFlags, Cgroup),
            D("cgroup/sock_create", BpfProgramType.CgroupSock, BpfAttachType.CgroupInetSockCreate, Attachable, Cgroup),
            D("cgroup/sock_release", BpfProgramType.CgroupSock, BpfAttachType.CgroupInetSockRelease, Attachable, Cgroup),
            D("cgroup/sock", BpfProgramType.CgroupSock, BpfAttachType.CgroupInetSockCreate, AttachableOpt, Cgroup),
            D("cgroup/post_bind4", BpfProgramType.CgroupSock, BpfAttachType.CgroupInet4PostBind, Attachable, Cgroup),
            D("cgroup/post_bind6", BpfProgramType.CgroupSock, BpfAttachType.CgroupInet6PostBind, Attachable, Cgroup),
            D("cgroup/bind4", SockAddr, BpfAttachType.CgroupInet4Bind, Attachable, Cgroup),
            D("cgroup/bind6", SockAddr, BpfAttachType.CgroupInet6Bind, Attachable, Cgroup),
            D("cgroup/connect4", SockAddr, BpfAttachType.CgroupInet4Connect, Attachable, Cgroup),
            D("cgroup/connect6", SockAddr, BpfAttachType.CgroupInet6Connect, Attachable, Cgroup),
            D("cgroup/connect_unix", SockAddr, BpfAttachType.CgroupUnixConnect, Attachable, Cgroup),
            D("cgroup/sendmsg4", SockAddr, BpfAttachType.CgroupUdp4Sendmsg, Attachable, Cgroup),
            D("cgroup/sendmsg6", SockAddr, BpfAttachType.CgroupUdp6Sendmsg, Attachable, Cgroup),
            D("cgroup/sendmsg_unix", SockAddr, BpfAttachType.CgroupUnixSendmsg, Attachable, Cgroup),
            D("cgroup/recvmsg4", SockAddr, BpfAttachType.CgroupUdp4Recvmsg, Attachable, Cgroup),
            D("cgroup/recvmsg6", SockAddr, BpfAttachType.CgroupUdp6Recvmsg, Attachable, Cgroup),
            D("cgroup/recvmsg_unix", SockAddr, BpfAttachType.CgroupUnixRecvmsg, Attachable, Cgroup),
            D("cgroup/getpeername4", SockAddr, BpfAttachType.CgroupInet4Getpeername, Attachable, Cgroup),
            D("cgroup/getpeername6", SockAddr, BpfAttachType.CgroupInet6Getpeername, Attachable, Cgroup),
            D("cgroup/getpeername_unix", SockAddr, BpfAttachType.CgroupUnixGetpeername, Attachable, Cgroup),
            D("cgroup/getsockname4", SockAddr, BpfAttachType.CgroupInet4Getsockname, Attachable, Cgroup),
            D("cgroup/getsockname6", SockAddr, BpfAttachType.CgroupInet6Getsockname, Attachable, Cgroup),
            D("cgroup/getsockname_unix", SockAddr, BpfAttachType.CgroupUnixGetsockname, Attachable, Cgroup),
            D("cgroup/sysctl", BpfProgramType.CgroupSysctl, BpfAttachType.CgroupSysctl, Attachable, Cgroup),
            D("cgroup/getsockopt", BpfProgramType.CgroupSockopt, BpfAttachType.CgroupGetsockopt, Attachable, Cgroup),
            D("cgroup/setsockopt", BpfProgramType.CgroupSockopt, BpfAttachType.CgroupSetsockopt, Attachable, Cgroup),
            D("cgroup/dev", BpfProgramType.CgroupDevice, BpfAttachType.CgroupDevice, AttachableOpt, Cgroup),
            D("struct_ops+", BpfProgramType.StructOps, null, NoFlags, AutoAttachKind.StructOps),
            D("struct_ops.s+", BpfProgramType.StructOps, null, Sleep, AutoAttachKind.StructOps),
            D("sk_lookup", BpfProgramType.SkLookup, BpfAttachType.SkLookup, Attachable, AutoAttachKind.SkLookup),
            D("netfilter", BpfProgramType.Netfilter, BpfAttachType.Netfilter, NoFlags, AutoAttachKind.Netfilter),
        };
    }
}
