using System;
using System.Collections.Generic;
using Ebpf.Kernel;

namespace Ebpf;

// uprobes and uretprobes (SEC("uprobe/binary:function")): the uprobe PMU or tracefs uprobe_events.

/// <summary>A SEC("uprobe/...") / "uretprobe/" program (and the uprobe.multi kinds through <see cref="AttachMulti(string, string, int, bool?)"/>).</summary>
public sealed class UprobeProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a uprobe or uretprobe program (SEC("uprobe/binary:function"), SEC("uprobe.multi/..."), ...), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public UprobeProgram(BpfProgram program)
        : base(program, ProgramKind.Uprobe, "a uprobe program (SEC(\"uprobe/binary:function\"))",
            "use UprobeProgram.Attach(binary, function), or AttachMulti(binary, pattern) for uprobe.multi") { }

    /// <summary>Attaches where the section says ("uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc", "uretprobe/libc.so.6:free").</summary>
    public BpfLink Attach(int pid = -1, ulong cookie = 0)
    {
        var target = SectionTarget();
        return target.Pattern is { } pattern
            ? Program.AttachUprobeMulti(target.BinaryPath!, pattern, null, null, pid, SectionIsReturn)
            : Program.AttachUprobe(target.BinaryPath!, target.Function, target.Offset, pid, SectionIsReturn, cookie, 0, ProbeAttachMode.Default);
    }

    internal override BpfLink AttachBySection() => Attach();

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
    /// <summary>Whether this is a uretprobe, run when the function returns, rather than a uprobe at entry or offset.</summary>
    public bool IsReturnProbe { get; }
    /// <summary>Whether the probe was created through tracefs uprobe_events (no uprobe PMU, or asked for); disposing removes that entry.</summary>
    public bool IsLegacy => LegacyEventName != null;
    /// <summary>The tracefs event ("uprobes/ebpf_123_...") of a legacy probe; null for PMU probes.</summary>
    public string? LegacyEventName { get; }
}

public partial class BpfProgram
{
    /// <summary>
    /// Attaches a uprobe (or uretprobe) program to <paramref name="function"/>+<paramref name="offset"/> in
    /// <paramref name="binary"/> (a path, a library name found through the process maps / ld.so.cache, or a command on
    /// PATH); <paramref name="function"/> null means <paramref name="offset"/> is a file offset. <paramref name="pid"/>
    /// -1 probes every process.
    /// </summary>
    internal UprobeLink AttachUprobe(string binary, string? function, ulong offset, int pid, bool retprobe, ulong cookie, ulong refCtrOffset, ProbeAttachMode mode)
    {
        RequireType("a uprobe", BpfProgramType.Kprobe);
        if (retprobe && offset != 0 && function != null)
            throw new ArgumentException($"a uretprobe cannot have an offset into a function ({function}+0x{offset:x})", nameof(offset));
        string path = BinaryResolver.Resolve(binary, pid);
        ulong fileOffset = offset;
        if (function != null)
        {
            var elf = ElfBinary.Open(path);
            try
            {
                fileOffset = elf.FindFunctionOffset(function) + offset;
            }
            finally
            {
                elf.Close();
            }
        }
        return AttachUprobeAt(path, function, fileOffset, pid, retprobe, cookie, refCtrOffset, mode);
    }

    internal UprobeLink AttachUprobeAt(string path, string? function, ulong fileOffset, int pid, bool retprobe, ulong cookie, ulong refCtrOffset, ProbeAttachMode mode)
    {
        string what = $"{(retprobe ? "uretprobe" : "uprobe")} {path}:{function ?? "0x" + fileOffset.ToString("x", System.Globalization.CultureInfo.InvariantCulture)}" +
            (function != null ? $" (file offset 0x{fileOffset:x})" : string.Empty) + (pid >= 0 ? $" for pid {pid}" : string.Empty);
        int type = mode == ProbeAttachMode.Legacy ? -Errno.ENOENT : ProbeEvents.PmuType(Syscalls, "uprobe");
        if (type >= 0)
        {
            int bit = -1;
            if (retprobe)
            {
                bit = ProbeEvents.RetprobeBit(Syscalls, "uprobe");
                if (bit < 0)
                    throw new BpfEnvironmentException($"cannot attach {what}: {ProbeEvents.PmuRoot}/uprobe/format/retprobe cannot be read ({Errno.Name(-bit)})");
            }
            int fd = ProbeEvents.OpenPmuProbe(Syscalls, type, bit, path, fileOffset, pid, refCtrOffset);
            if (fd < 0)
                throw new BpfSyscallException("perf_event_open", null, -fd, $"creating {what} failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)}); {UprobeFailure(-fd, path, pid)}");
            var pe = new BpfHandle(fd, BpfHandleKind.PerfEvent, Syscalls);
            try
            {
                var link = AttachToPerfEvent(pe, what, cookie);
                return new UprobeLink(this, pe, link, path, function, fileOffset, pid, retprobe, null, null);
            }
            catch
            {
                pe.Dispose();
                throw;
            }
        }
        if (mode == ProbeAttachMode.Perf)
            throw BpfNotSupportedException.Configuration("the uprobe PMU", $"cannot attach {what}: this kernel has no uprobe PMU ({ProbeEvents.PmuRoot}/uprobe is missing: Linux 4.17 with CONFIG_UPROBE_EVENTS is needed)");
        string? root = Tracefs.TryRoot(Syscalls);
        if (root == null)
            throw new BpfEnvironmentException($"cannot attach {what}: {(mode == ProbeAttachMode.Legacy ? "" : $"this kernel has no uprobe PMU ({ProbeEvents.PmuRoot}/uprobe is missing) and ")}tracefs is not mounted, " +
                "so uprobe_events cannot be used; mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");
        if (!Syscalls.PathExists(root + "/uprobe_events"))
            throw BpfNotSupportedException.Configuration("uprobes", $"cannot attach {what}: this kernel has no uprobe PMU and no uprobe_events (CONFIG_UPROBE_EVENTS is not set)");
        string ev = ProbeEvents.LegacyEventName(System.IO.Path.GetFileName(path) + "_" + (function ?? "off"), fileOffset);
        string group = ProbeEvents.UprobeGroup(retprobe);
        string line = ProbeEvents.UprobeEventLine(retprobe, ev, path, fileOffset, refCtrOffset);
        var legacyFd = ProbeEvents.OpenLegacy(Syscalls, root, "uprobe_events", group, ev, line, pid, what, out var cleanup);
        try
        {
            var link = AttachToPerfEvent(legacyFd, what, cookie);
            return new UprobeLink(this, legacyFd, link, path, function, fileOffset, pid, retprobe, $"{group}/{ev}", cleanup);
        }
        catch
        {
            legacyFd.Dispose();
            cleanup();
            throw;
        }
    }

    private static string UprobeFailure(int errno, string path, int pid) => errno switch
    {
        Errno.ENOENT => $"'{path}' does not exist (for the kernel)",
        Errno.EINVAL => "the offset is not inside an executable segment of the binary, or not an instruction boundary",
        Errno.ESRCH => $"process {pid} does not exist",
        Errno.EACCES or Errno.EPERM => "uprobes need root or CAP_PERFMON (see /proc/sys/kernel/perf_event_paranoid)",
        _ => "the kernel refused the probe",
    };
}
