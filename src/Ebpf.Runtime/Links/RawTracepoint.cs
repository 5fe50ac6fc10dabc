using System;
using Ebpf.Kernel;

namespace Ebpf;

// Raw tracepoints (SEC("raw_tp/...")): BPF_RAW_TRACEPOINT_OPEN.

/// <summary>A SEC("raw_tp/...") / SEC("raw_tracepoint/...") program (also the writable ".w" kind).</summary>
public sealed class RawTracepointProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a raw tracepoint program (SEC("raw_tp/name"), SEC("raw_tracepoint/name")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public RawTracepointProgram(BpfProgram program)
        : base(program, ProgramKind.RawTracepoint, "a raw tracepoint program (SEC(\"raw_tp/name\"))", "use RawTracepointProgram.Attach(name)") { }

    /// <summary>Attaches to the raw tracepoint the section names.</summary>
    public RawTracepointLink Attach(ulong cookie = 0) => Program.AttachRawTracepoint(SectionTarget().Name!, cookie);

    internal override BpfLink AttachBySection() => Attach();

    /// <summary>Attaches to raw tracepoint <paramref name="name"/> ("sys_enter", "sched_switch").</summary>
    public RawTracepointLink Attach(string name, ulong cookie = 0) => Program.AttachRawTracepoint(name, cookie);
}

/// <summary>A raw tracepoint program attached with BPF_RAW_TRACEPOINT_OPEN.</summary>
public sealed class RawTracepointLink : FdLink
{
    internal RawTracepointLink(BpfProgram program, BpfHandle handle, string name)
        : base(program, handle, $"raw tracepoint {name}") => Name = name;

    /// <summary>The raw tracepoint ("sys_enter", "sched_switch").</summary>
    public string Name { get; }
}

public partial class BpfProgram
{
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
}
