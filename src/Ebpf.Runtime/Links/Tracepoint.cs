using System;
using Ebpf.Kernel;

namespace Ebpf;

// Tracepoints (SEC("tp/...")): a perf event of type PERF_TYPE_TRACEPOINT.

/// <summary>A SEC("tp/...") / SEC("tracepoint/...") program.</summary>
public sealed class TracepointProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a tracepoint program (SEC("tp/category/name"), SEC("tracepoint/category/name")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public TracepointProgram(BpfProgram program)
        : base(program, ProgramKind.Tracepoint, "a tracepoint program (SEC(\"tp/category/name\"))", "use TracepointProgram.Attach(category, name)") { }

    /// <summary>Attaches to the tracepoint the section names.</summary>
    public TracepointLink Attach(ulong cookie = 0)
    {
        var target = SectionTarget();
        return Program.AttachTracepoint(target.Category!, target.Name!, cookie);
    }

    internal override BpfLink AttachBySection() => Attach();

    /// <summary>Attaches to tracepoint <paramref name="category"/>/<paramref name="name"/> (e.g. "syscalls", "sys_enter_openat").</summary>
    public TracepointLink Attach(string category, string name, ulong cookie = 0) => Program.AttachTracepoint(category, name, cookie);
}

/// <summary>A tracepoint program attached to a tracepoint (perf event of type PERF_TYPE_TRACEPOINT).</summary>
public sealed class TracepointLink : PerfEventLink
{
    internal TracepointLink(BpfProgram program, BpfHandle perfEvent, BpfHandle? link, string category, string name)
        : base(program, perfEvent, link, $"tracepoint {category}/{name}")
    {
        Category = category;
        Name = name;
    }

    /// <summary>The tracepoint's category, its tracefs events directory ("syscalls", "sched").</summary>
    public string Category { get; }
    /// <summary>The tracepoint's name within its category ("sys_enter_openat", "sched_process_exec").</summary>
    public string Name { get; }
}

public partial class BpfProgram
{
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
}
