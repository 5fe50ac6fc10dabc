using System;

namespace Ebpf;

/// <summary>
/// The target part of a section name, parsed once for the section's attach kind when the section is matched
/// (<see cref="SectionMatch.ParsedTarget"/>): everything an auto-attach needs, so that nothing after the object
/// layer parses a section name again. Only the members of the kind are set; the others are null or 0.
/// </summary>
internal sealed class SectionTarget
{
    private SectionTarget(AutoAttachKind kind)
    {
        Kind = kind;
    }

    /// <summary>The attach mechanism the target is for.</summary>
    public AutoAttachKind Kind { get; }

    /// <summary>kprobe/kretprobe: the kernel function; uprobe/uretprobe: the function in <see cref="BinaryPath"/>.</summary>
    public string? Function { get; private set; }

    /// <summary>kprobe: the offset into <see cref="Function"/>; uprobe: the offset added to the function's file offset.</summary>
    public ulong Offset { get; private set; }

    /// <summary>ksyscall/kretsyscall: the system call ("openat").</summary>
    public string? Syscall { get; private set; }

    /// <summary>kprobe.multi, kretprobe.multi, kprobe.session: the kernel function glob; uprobe.multi and friends: the function glob in <see cref="BinaryPath"/>.</summary>
    public string? Pattern { get; private set; }

    /// <summary>uprobes, uprobe.multi, USDT: the binary or library (a path, a library name or a command on PATH).</summary>
    public string? BinaryPath { get; private set; }

    /// <summary>USDT: the probe's provider.</summary>
    public string? Provider { get; private set; }

    /// <summary>Tracepoints: the category ("syscalls"); USDT: not used.</summary>
    public string? Category { get; private set; }

    /// <summary>
    /// Tracepoints: the tracepoint ("sys_enter_getpid"); raw tracepoints: the raw tracepoint; USDT: the probe name;
    /// BTF-attached kinds (tp_btf, fentry, fexit, fmod_ret, fsession, lsm, iter): the BTF target.
    /// </summary>
    public string? Name { get; private set; }

    /// <summary>
    /// Parses <paramref name="target"/> (the text after "type/") for <paramref name="kind"/>, with libbpf's rules (see
    /// the <c>TryParse*</c> methods of <see cref="SectionDefinitions"/>); null when it does not say enough to attach,
    /// or when the kind is never attached from the section name alone.
    /// </summary>
    public static SectionTarget? Parse(AutoAttachKind kind, string target)
    {
        if (target is null)
        {
            throw new ArgumentNullException(nameof(target));
        }

        var t = new SectionTarget(kind);
        switch (kind)
        {
            case AutoAttachKind.Kprobe:
            case AutoAttachKind.Kretprobe:
                if (!SectionDefinitions.TryParseKprobe(target, out var function, out ulong offset) || (kind == AutoAttachKind.Kretprobe && offset != 0))
                {
                    return null;
                }

                t.Function = function;
                t.Offset = offset;
                return t;
            case AutoAttachKind.KprobeMulti:
            case AutoAttachKind.KretprobeMulti:
            case AutoAttachKind.KprobeSession:
                if (!SectionDefinitions.TryParseKprobeMulti(target, out var pattern))
                {
                    return null;
                }

                t.Pattern = pattern;
                return t;
            case AutoAttachKind.Ksyscall:
            case AutoAttachKind.Kretsyscall:
                if (target.Length == 0)
                {
                    return null;
                }

                t.Syscall = target;
                return t;
            case AutoAttachKind.Uprobe:
            case AutoAttachKind.Uretprobe:
                if (!SectionDefinitions.TryParseUprobe(target, out var binary, out var ufunction, out ulong uoffset) || (kind == AutoAttachKind.Uretprobe && uoffset != 0))
                {
                    return null;
                }

                t.BinaryPath = binary;
                t.Function = ufunction;
                t.Offset = uoffset;
                return t;
            case AutoAttachKind.UprobeMulti:
            case AutoAttachKind.UretprobeMulti:
            case AutoAttachKind.UprobeSession:
                if (!SectionDefinitions.TryParseUprobeMulti(target, out var mbinary, out var mpattern))
                {
                    return null;
                }

                t.BinaryPath = mbinary;
                t.Pattern = mpattern;
                return t;
            case AutoAttachKind.Usdt:
                if (!SectionDefinitions.TryParseUsdt(target, out var sbinary, out var provider, out var probe))
                {
                    return null;
                }

                t.BinaryPath = sbinary;
                t.Provider = provider;
                t.Name = probe;
                return t;
            case AutoAttachKind.Tracepoint:
                if (!SectionDefinitions.TryParseTracepoint(target, out var category, out var name))
                {
                    return null;
                }

                t.Category = category;
                t.Name = name;
                return t;
            case AutoAttachKind.RawTracepoint:
            case AutoAttachKind.TracingBtf:
            case AutoAttachKind.Lsm:
            case AutoAttachKind.Iterator:
                if (target.Length == 0)
                {
                    return null;
                }

                t.Name = target;
                return t;
            default:
                return null;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        AutoAttachKind.Kprobe or AutoAttachKind.Kretprobe => Offset != 0 ? $"{Function}+0x{Offset:x}" : Function ?? string.Empty,
        AutoAttachKind.Uprobe or AutoAttachKind.Uretprobe => $"{BinaryPath}:{Function}" + (Offset != 0 ? $"+0x{Offset:x}" : string.Empty),
        AutoAttachKind.UprobeMulti or AutoAttachKind.UretprobeMulti or AutoAttachKind.UprobeSession => $"{BinaryPath}:{Pattern}",
        AutoAttachKind.Usdt => $"{BinaryPath}:{Provider}:{Name}",
        AutoAttachKind.Tracepoint => $"{Category}/{Name}",
        AutoAttachKind.Ksyscall or AutoAttachKind.Kretsyscall => Syscall ?? string.Empty,
        AutoAttachKind.KprobeMulti or AutoAttachKind.KretprobeMulti or AutoAttachKind.KprobeSession => Pattern ?? string.Empty,
        _ => Name ?? string.Empty,
    };
}
