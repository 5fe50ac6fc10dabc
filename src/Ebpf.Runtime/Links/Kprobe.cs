using System;
using Ebpf.Kernel;

namespace Ebpf;

// kprobes and kretprobes (SEC("kprobe/..."), "kretprobe/", "ksyscall/"): the kprobe PMU or tracefs kprobe_events.

/// <summary>A SEC("kprobe/...") / "kretprobe/" / "ksyscall/" / "kretsyscall/" program.</summary>
public sealed class KprobeProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a kprobe or kretprobe program (SEC("kprobe/function"), SEC("kretprobe/function"), SEC("ksyscall/name")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public KprobeProgram(BpfProgram program)
        : base(program, ProgramKind.Kprobe, "a kprobe program (SEC(\"kprobe/function\"))", "use KprobeProgram.Attach(function)") { }

    /// <summary>Attaches where the section says (kprobe/func+off, kretprobe/func, ksyscall/name).</summary>
    public KprobeLink Attach(ulong cookie = 0, ProbeAttachMode mode = ProbeAttachMode.Default)
    {
        var target = SectionTarget();
        return target.Syscall is { } syscall
            ? Program.AttachKsyscall(syscall, SectionIsReturn, cookie)
            : Program.AttachKprobe(target.Function!, target.Offset, SectionIsReturn, cookie, mode);
    }

    internal override BpfLink AttachBySection() => Attach();

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

    /// <summary>The kernel function probed, as given at attach (or as the section named it).</summary>
    public string Function { get; }
    /// <summary>The probe's offset in bytes from the function's start; 0 for the entry (always 0 for a kretprobe).</summary>
    public ulong Offset { get; }
    /// <summary>Whether this is a kretprobe, run when the function returns, rather than a kprobe at entry or offset.</summary>
    public bool IsReturnProbe { get; }
    /// <summary>Whether the probe was created through tracefs kprobe_events.</summary>
    public bool IsLegacy => LegacyEventName != null;
    /// <summary>The tracefs event ("kprobes/ebpf_123_do_unlinkat_0x0_1") of a legacy probe; null for PMU probes.</summary>
    public string? LegacyEventName { get; }
}

public partial class BpfProgram
{
    /// <summary>
    /// Attaches a kprobe (or kretprobe) program to kernel function <paramref name="function"/> at
    /// <paramref name="offset"/>: through the kprobe PMU, or without it through tracefs kprobe_events.
    /// </summary>
    internal KprobeLink AttachKprobe(string function, ulong offset, bool retprobe, ulong cookie, ProbeAttachMode mode)
    {
        RequireType("a kprobe", BpfProgramType.Kprobe);
        if (string.IsNullOrEmpty(function)) throw new ArgumentException("the kernel function name is empty", nameof(function));
        if (retprobe && offset != 0) throw new ArgumentException($"a kretprobe cannot have an offset (kretprobe {function}+0x{offset:x})", nameof(offset));
        string what = $"{(retprobe ? "kretprobe" : "kprobe")} {function}{(offset != 0 ? $"+0x{offset:x}" : string.Empty)}";

        int type = mode == ProbeAttachMode.Legacy ? -Errno.ENOENT : ProbeEvents.PmuType(Syscalls, "kprobe");
        if (type >= 0)
        {
            int bit = -1;
            if (retprobe)
            {
                bit = ProbeEvents.RetprobeBit(Syscalls, "kprobe");
                if (bit < 0)
                    throw new BpfEnvironmentException($"cannot attach {what}: {ProbeEvents.PmuRoot}/kprobe/format/retprobe cannot be read ({Errno.Name(-bit)})");
            }
            int fd = ProbeEvents.OpenPmuProbe(Syscalls, type, bit, function, offset, -1, 0);
            if (fd < 0)
                throw new BpfSyscallException("perf_event_open", null, -fd, $"creating {what} failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)}); {KprobeFailure(-fd, function, offset)}");
            var pe = new BpfHandle(fd, BpfHandleKind.PerfEvent, Syscalls);
            try
            {
                var link = AttachToPerfEvent(pe, what, cookie);
                return new KprobeLink(this, pe, link, function, offset, retprobe, null, null);
            }
            catch
            {
                pe.Dispose();
                throw;
            }
        }
        if (mode == ProbeAttachMode.Perf)
            throw BpfNotSupportedException.Configuration("the kprobe PMU", $"cannot attach {what}: this kernel has no kprobe PMU ({ProbeEvents.PmuRoot}/kprobe is missing: Linux 4.17 with CONFIG_KPROBE_EVENTS is needed)");

        string? root = Tracefs.TryRoot(Syscalls);
        if (root == null)
        {
            if (mode == ProbeAttachMode.Legacy)
                throw new BpfEnvironmentException($"cannot attach {what}: tracefs is not mounted, so kprobe_events cannot be used; mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");
            throw new BpfEnvironmentException($"cannot attach {what}: this kernel has no kprobe PMU ({ProbeEvents.PmuRoot}/kprobe is missing) and tracefs is not mounted, " +
                "so the kprobe_events fallback cannot be used either; mount it with `mount -t tracefs tracefs /sys/kernel/tracing`");
        }
        if (!Syscalls.PathExists(root + "/kprobe_events"))
            throw BpfNotSupportedException.Configuration("kprobes",
                $"cannot attach {what}: this kernel has no kprobe PMU and no kprobe_events (CONFIG_KPROBE_EVENTS is not set; the kernel may have been built without CONFIG_KPROBES)");

        string ev = ProbeEvents.LegacyEventName(function, offset);
        string group = ProbeEvents.KprobeGroup(retprobe);
        string line = ProbeEvents.KprobeEventLine(retprobe, ev, function, offset);
        var legacyFd = ProbeEvents.OpenLegacy(Syscalls, root, "kprobe_events", group, ev, line, -1, what, out var cleanup);
        try
        {
            var link = AttachToPerfEvent(legacyFd, what, cookie);
            return new KprobeLink(this, legacyFd, link, function, offset, retprobe, $"{group}/{ev}", cleanup);
        }
        catch
        {
            legacyFd.Dispose();
            cleanup();
            throw;
        }
    }

    private const int EADDRNOTAVAIL = 99;

    private string KprobeFailure(int errno, string function, ulong offset) => errno switch
    {
        Errno.ENOENT => $"kernel function '{function}' does not exist or is not traceable (inlined, static, notrace or on the kprobe blacklist; see available_filter_functions in tracefs)",
        Errno.EINVAL when offset != 0 => $"offset 0x{offset:x} is not an instruction boundary of '{function}' or lies outside it",
        Errno.EINVAL => $"the kernel refused to probe '{function}' (blacklisted, or not a function)",
        Errno.EACCES or Errno.EPERM => "kprobes need root or CAP_PERFMON (see /proc/sys/kernel/perf_event_paranoid), and are refused under kernel lockdown",
        EADDRNOTAVAIL => $"'{function}' is ambiguous (several functions with that name) or not probe-able at that address",
        _ => $"the kernel refused to probe '{function}'",
    };

    /// <summary>
    /// Attaches a kprobe to a system call's entry function: "__x64_sys_NAME" (or the architecture's prefix) when
    /// the kernel has syscall wrappers (4.17+), "sys_NAME" otherwise.
    /// </summary>
    internal KprobeLink AttachKsyscall(string syscall, bool retprobe, ulong cookie)
    {
        if (string.IsNullOrEmpty(syscall)) throw new ArgumentException("the syscall name is empty", nameof(syscall));
        return AttachKprobe(KernelSymbols.SyscallFunction(Syscalls, syscall), 0, retprobe, cookie, ProbeAttachMode.Default);
    }
}
