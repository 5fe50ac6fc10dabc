using System;
using System.Collections.Generic;

namespace Ebpf;

/// <summary>A SEC("kprobe/...") / "kretprobe/" / "ksyscall/" / "kretsyscall/" program.</summary>
public sealed class KprobeProgram : TypedProgram
{
    public KprobeProgram(BpfProgram program)
        : base(program, nameof(KprobeProgram), p => p.Type == BpfProgramType.Kprobe && p.ExpectedAttachType is null, "a kprobe program (SEC(\"kprobe/function\"))") { }

    private bool SectionIsReturn => KindOf(Program) is AutoAttachKind.Kretprobe or AutoAttachKind.Kretsyscall;

    /// <summary>Attaches where the section says (kprobe/func+off, kretprobe/func, ksyscall/name).</summary>
    public KprobeLink Attach(ulong cookie = 0, ProbeAttachMode mode = ProbeAttachMode.Default)
    {
        var sec = Program.Section;
        string target = sec?.Target ?? string.Empty;
        switch (KindOf(Program))
        {
            case AutoAttachKind.Ksyscall:
            case AutoAttachKind.Kretsyscall:
                if (target.Length == 0) break;
                return Program.AttachKsyscall(target, SectionIsReturn, cookie);
            default:
                if (!SectionDefinitions.TryParseKprobe(target, out var func, out ulong off)) break;
                return Program.AttachKprobe(func, off, SectionIsReturn, cookie, mode);
        }
        throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") names no kernel function; use Attach(function)");
    }

    /// <summary>
    /// Attaches to kernel function <paramref name="function"/>+<paramref name="offset"/>; <paramref name="returnProbe"/>
    /// null means what the section says (kretprobe → true).
    /// </summary>
    public KprobeLink Attach(string function, ulong offset = 0, bool? returnProbe = null, ulong cookie = 0, ProbeAttachMode mode = ProbeAttachMode.Default) =>
        Program.AttachKprobe(function, offset, returnProbe ?? SectionIsReturn, cookie, mode);

    /// <summary>Attaches to the entry function of system call <paramref name="syscall"/> ("openat" → "__x64_sys_openat").</summary>
    public KprobeLink AttachSyscall(string syscall, bool? returnProbe = null, ulong cookie = 0) =>
        Program.AttachKsyscall(syscall, returnProbe ?? SectionIsReturn, cookie);
}

/// <summary>A SEC("kprobe.multi/...") / "kretprobe.multi/" / "kprobe.session/" program (Linux 5.18 with CONFIG_FPROBE).</summary>
public sealed class KprobeMultiProgram : TypedProgram
{
    public KprobeMultiProgram(BpfProgram program)
        : base(program, nameof(KprobeMultiProgram), p => p.Type == BpfProgramType.Kprobe && p.ExpectedAttachType is BpfAttachType.TraceKprobeMulti or BpfAttachType.TraceKprobeSession,
            "a kprobe.multi program (SEC(\"kprobe.multi/pattern\"))") { }

    private bool SectionIsReturn => KindOf(Program) == AutoAttachKind.KretprobeMulti;

    /// <summary>Attaches to the functions the section's pattern matches.</summary>
    public KprobeMultiLink Attach()
    {
        if (!SectionDefinitions.TryParseKprobeMulti(Program.Section?.Target ?? string.Empty, out var pattern))
            throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") names no function pattern; use Attach(pattern)");
        return Program.AttachKprobeMulti(pattern, null, null, null, SectionIsReturn);
    }

    /// <summary>Attaches to every traceable function matching <paramref name="pattern"/> ("tcp_*", "vfs_rea?").</summary>
    public KprobeMultiLink Attach(string pattern, bool? returnProbe = null) =>
        Program.AttachKprobeMulti(pattern ?? throw new ArgumentNullException(nameof(pattern)), null, null, null, returnProbe ?? SectionIsReturn);

    /// <summary>Attaches to the named functions, each with an optional BPF cookie.</summary>
    public KprobeMultiLink Attach(IReadOnlyList<string> functions, IReadOnlyList<ulong>? cookies = null, bool? returnProbe = null) =>
        Program.AttachKprobeMulti(null, functions ?? throw new ArgumentNullException(nameof(functions)), null, cookies, returnProbe ?? SectionIsReturn);

    /// <summary>Attaches to functions by kernel address.</summary>
    public KprobeMultiLink AttachAddresses(IReadOnlyList<ulong> addresses, IReadOnlyList<ulong>? cookies = null, bool? returnProbe = null) =>
        Program.AttachKprobeMulti(null, null, addresses ?? throw new ArgumentNullException(nameof(addresses)), cookies, returnProbe ?? SectionIsReturn);
}

/// <summary>A SEC("uprobe/...") / "uretprobe/" program (and the uprobe.multi kinds through <see cref="AttachMulti"/>).</summary>
public sealed class UprobeProgram : TypedProgram
{
    public UprobeProgram(BpfProgram program)
        : base(program, nameof(UprobeProgram), p => p.Type == BpfProgramType.Kprobe && p.ExpectedAttachType is null or BpfAttachType.TraceUprobeMulti or BpfAttachType.TraceUprobeSession,
            "a uprobe program (SEC(\"uprobe/binary:function\"))") { }

    private bool SectionIsReturn => KindOf(Program) is AutoAttachKind.Uretprobe or AutoAttachKind.UretprobeMulti;

    /// <summary>Attaches where the section says ("uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc", "uretprobe/libc.so.6:free").</summary>
    public BpfLink Attach(int pid = -1, ulong cookie = 0)
    {
        var sec = Program.Section;
        string target = sec?.Target ?? string.Empty;
        if (KindOf(Program) is AutoAttachKind.UprobeMulti or AutoAttachKind.UretprobeMulti or AutoAttachKind.UprobeSession)
        {
            if (!SectionDefinitions.TryParseUprobeMulti(target, out var mb, out var mp))
                throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") names no binary:pattern; use AttachMulti(binary, pattern)");
            return Program.AttachUprobeMulti(mb, mp, null, null, pid, SectionIsReturn);
        }
        if (!SectionDefinitions.TryParseUprobe(target, out var binary, out var function, out ulong offset))
            throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") names no binary:function; use Attach(binary, function)");
        return Program.AttachUprobe(binary, function, offset, pid, SectionIsReturn, cookie, 0, ProbeAttachMode.Default);
    }

    /// <summary>
    /// Attaches to <paramref name="function"/>(+<paramref name="offset"/>) of <paramref name="binary"/>: a path, a
    /// library name ("libc.so.6", "libc", "c") or a command on PATH. <paramref name="pid"/> -1 probes every process
    /// using the binary; <paramref name="returnProbe"/> null means what the section says.
    /// </summary>
    public UprobeLink Attach(string binary, string function, ulong offset = 0, int pid = -1, bool? returnProbe = null, ulong cookie = 0,
        ProbeAttachMode mode = ProbeAttachMode.Default) =>
        Program.AttachUprobe(binary, function ?? throw new ArgumentNullException(nameof(function)), offset, pid, returnProbe ?? SectionIsReturn, cookie, 0, mode);

    /// <summary>Attaches at file offset <paramref name="fileOffset"/> of <paramref name="binary"/> (<paramref name="referenceCounterOffset"/>: a USDT semaphore to increment).</summary>
    public UprobeLink AttachOffset(string binary, ulong fileOffset, int pid = -1, bool? returnProbe = null, ulong cookie = 0, ulong referenceCounterOffset = 0,
        ProbeAttachMode mode = ProbeAttachMode.Default) =>
        Program.AttachUprobe(binary, null, fileOffset, pid, returnProbe ?? SectionIsReturn, cookie, referenceCounterOffset, mode);

    /// <summary>
    /// One uprobe.multi link (Linux 6.6) on every function of <paramref name="binary"/> matching
    /// <paramref name="pattern"/>; the program must be loaded with ExpectedAttachType = TraceUprobeMulti.
    /// </summary>
    public UprobeMultiLink AttachMulti(string binary, string pattern, int pid = -1, bool? returnProbe = null) =>
        Program.AttachUprobeMulti(binary, pattern ?? throw new ArgumentNullException(nameof(pattern)), null, null, pid, returnProbe ?? SectionIsReturn);

    /// <summary>One uprobe.multi link on the given file offsets, each with an optional cookie.</summary>
    public UprobeMultiLink AttachMulti(string binary, IReadOnlyList<ulong> fileOffsets, IReadOnlyList<ulong>? cookies = null, int pid = -1, bool? returnProbe = null) =>
        Program.AttachUprobeMulti(binary, null, fileOffsets ?? throw new ArgumentNullException(nameof(fileOffsets)), cookies, pid, returnProbe ?? SectionIsReturn);
}

/// <summary>A SEC("usdt/...") program written with libbpf's usdt.bpf.h (bpf_usdt_arg, bpf_usdt_cookie).</summary>
public sealed class UsdtProgram : TypedProgram
{
    public UsdtProgram(BpfProgram program)
        : base(program, nameof(UsdtProgram), p => p.Type == BpfProgramType.Kprobe && (p.Section is null || (p.Section.Value.Flags & SectionFlags.Usdt) != 0),
            "a USDT program (SEC(\"usdt/binary:provider:name\"))") { }

    /// <summary>Attaches to the probe the section names ("usdt//usr/bin/python3:python:function__entry").</summary>
    public UsdtLink Attach(int pid = -1, ulong cookie = 0)
    {
        if (!SectionDefinitions.TryParseUsdt(Program.Section?.Target ?? string.Empty, out var binary, out var provider, out var name))
            throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") names no binary:provider:name; use Attach(binary, provider, name)");
        return Program.AttachUsdt(binary, provider, name, pid, cookie);
    }

    /// <summary>Attaches to every site of USDT probe <paramref name="provider"/>:<paramref name="name"/> in <paramref name="binary"/>; <paramref name="cookie"/> is what bpf_usdt_cookie() returns.</summary>
    public UsdtLink Attach(string binary, string provider, string name, int pid = -1, ulong cookie = 0) =>
        Program.AttachUsdt(binary, provider, name, pid, cookie);
}
