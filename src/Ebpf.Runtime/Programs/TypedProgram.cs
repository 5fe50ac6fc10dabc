using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Base of the typed program wrappers (<see cref="TracepointProgram"/>, <see cref="XdpProgram"/>, ...): a
/// <see cref="BpfProgram"/> whose kind was checked, with the attach methods that kind allows. Generated skeletons
/// expose their programs through these.
/// </summary>
public abstract class TypedProgram
{
    private protected TypedProgram(BpfProgram program, string wrapper, Func<BpfProgram, bool> accepts, string expected)
    {
        if (program is null) throw new ArgumentNullException(nameof(program));
        if (!accepts(program))
            throw new ArgumentException($"program '{program.Name}' (SEC(\"{program.SectionName}\"), {program.Type}{(program.ExpectedAttachType is { } eat ? ", " + eat : string.Empty)}) cannot be a {wrapper}: it must be {expected}", nameof(program));
        Program = program;
    }

    /// <summary>The program.</summary>
    public BpfProgram Program { get; }

    public string Name => Program.Name;

    /// <summary>Attaches where the section name says (libbpf auto-attach); see <see cref="BpfProgram.Attach()"/>.</summary>
    public BpfLink AttachAuto() => Program.Attach();

    public override string ToString() => $"{GetType().Name} {Program}";

    private protected static AutoAttachKind KindOf(BpfProgram p) => p.Section is { } s ? s.AttachKind : AutoAttachKind.None;
}

/// <summary>A SEC("tp/...") / SEC("tracepoint/...") program.</summary>
public sealed class TracepointProgram : TypedProgram
{
    public TracepointProgram(BpfProgram program)
        : base(program, nameof(TracepointProgram), p => p.Type == BpfProgramType.Tracepoint, "a tracepoint program (SEC(\"tp/category/name\"))") { }

    /// <summary>Attaches to the tracepoint the section names.</summary>
    public TracepointLink Attach(ulong cookie = 0)
    {
        var sec = Program.Section;
        if (sec is null || !SectionDefinitions.TryParseTracepoint(sec.Value.Target, out var cat, out var name))
            throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") names no tracepoint; use Attach(category, name)");
        return Program.AttachTracepoint(cat, name, cookie);
    }

    /// <summary>Attaches to tracepoint <paramref name="category"/>/<paramref name="name"/> (e.g. "syscalls", "sys_enter_openat").</summary>
    public TracepointLink Attach(string category, string name, ulong cookie = 0) => Program.AttachTracepoint(category, name, cookie);
}

/// <summary>A SEC("raw_tp/...") / SEC("raw_tracepoint/...") program (also the writable ".w" kind).</summary>
public sealed class RawTracepointProgram : TypedProgram
{
    public RawTracepointProgram(BpfProgram program)
        : base(program, nameof(RawTracepointProgram), p => p.Type is BpfProgramType.RawTracepoint or BpfProgramType.RawTracepointWritable, "a raw tracepoint program (SEC(\"raw_tp/name\"))") { }

    /// <summary>Attaches to the raw tracepoint the section names.</summary>
    public RawTracepointLink Attach(ulong cookie = 0)
    {
        var target = Program.Section?.Target;
        if (string.IsNullOrEmpty(target))
            throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") names no raw tracepoint; use Attach(name)");
        return Program.AttachRawTracepoint(target!, cookie);
    }

    /// <summary>Attaches to raw tracepoint <paramref name="name"/> ("sys_enter", "sched_switch").</summary>
    public RawTracepointLink Attach(string name, ulong cookie = 0) => Program.AttachRawTracepoint(name, cookie);
}

/// <summary>A BTF-attached tracing program: SEC("tp_btf/..."), "fentry/", "fexit/", "fmod_ret/", "fsession/", "freplace/".</summary>
public sealed class TracingProgram : TypedProgram
{
    public TracingProgram(BpfProgram program)
        : base(program, nameof(TracingProgram),
            p => (p.Type == BpfProgramType.Tracing && p.ExpectedAttachType != BpfAttachType.TraceIter) || p.Type == BpfProgramType.Ext,
            "a tracing program (tp_btf, fentry, fexit, fmod_ret, freplace); iterators are IteratorProgram") { }

    /// <summary>Attaches to the function or tracepoint the program was loaded against (<see cref="BpfProgram.AttachTarget"/>).</summary>
    public TracingLink Attach(ulong cookie = 0) => Program.AttachTracing(cookie);
}

/// <summary>A SEC("lsm/...") program (BPF LSM, Linux 5.7 with CONFIG_BPF_LSM and "bpf" in lsm=).</summary>
public sealed class LsmProgram : TypedProgram
{
    public LsmProgram(BpfProgram program)
        : base(program, nameof(LsmProgram), p => p.Type == BpfProgramType.Lsm, "an LSM program (SEC(\"lsm/hook\"))") { }

    /// <summary>Attaches to the LSM hook the program was loaded against (for lsm_cgroup programs use <see cref="CgroupProgram"/>).</summary>
    public TracingLink Attach(ulong cookie = 0)
    {
        if (Program.ExpectedAttachType == BpfAttachType.LsmCgroup)
            throw new InvalidOperationException($"program '{Name}' is an lsm_cgroup program: attach it to a cgroup with CgroupProgram.Attach(cgroupPath)");
        return Program.AttachTracing(cookie);
    }
}

/// <summary>A SEC("iter/...") program: a BPF iterator whose output is read as a stream.</summary>
public sealed class IteratorProgram : TypedProgram
{
    public IteratorProgram(BpfProgram program)
        : base(program, nameof(IteratorProgram), p => p.Type == BpfProgramType.Tracing && p.ExpectedAttachType == BpfAttachType.TraceIter, "an iterator (SEC(\"iter/task\"), ...)") { }

    /// <summary>Creates the iterator link; read it with <see cref="IteratorLink.Open"/> or <see cref="IteratorLink.ReadAllText"/>.</summary>
    public IteratorLink Attach(IteratorOptions? options = null) => Program.AttachIterator(options);

    /// <summary>Attaches, runs one pass, detaches, and returns what the program printed.</summary>
    public string ReadAllText(IteratorOptions? options = null)
    {
        using var link = Attach(options);
        return link.ReadAllText();
    }
}

/// <summary>A SEC("syscall") program: not attached anywhere, run from user space with a context struct.</summary>
public sealed class SyscallProgram : TypedProgram
{
    public SyscallProgram(BpfProgram program)
        : base(program, nameof(SyscallProgram), p => p.Type == BpfProgramType.Syscall, "a syscall program (SEC(\"syscall\"))") { }

    /// <summary>Runs the program with <paramref name="context"/> as its ctx; the kernel writes the (possibly modified) context back. Returns the program's return value.</summary>
    public int Run<TContext>(ref TContext context) where TContext : unmanaged =>
        (int)Program.TestRun(context: MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref context, 1))).ReturnValue;

    /// <summary>Runs the program with a byte context (written back in place).</summary>
    public int Run(Span<byte> context) => (int)Program.TestRun(context: context).ReturnValue;

    /// <summary>Runs the program without a context.</summary>
    public int Run() => (int)Program.TestRun().ReturnValue;
}

/// <summary>A SEC("perf_event") program, run on the samples of a perf event.</summary>
public sealed class PerfEventProgram : TypedProgram
{
    public PerfEventProgram(BpfProgram program)
        : base(program, nameof(PerfEventProgram), p => p.Type == BpfProgramType.PerfEvent, "a perf_event program (SEC(\"perf_event\"))") { }

    /// <summary>
    /// Opens <paramref name="spec"/> for <paramref name="pid"/> (-1: every process) on <paramref name="cpu"/> (-1: any
    /// CPU, only with a pid) and attaches the program to its samples.
    /// </summary>
    public PerfEventLink Attach(PerfEventSpec spec, int pid = -1, int cpu = 0, ulong cookie = 0)
    {
        if (pid == -1 && cpu < 0) throw new ArgumentException("a perf event for every process must name a CPU (pid -1 and cpu -1 is not allowed)");
        return Program.AttachPerfEventSpec(spec, pid, cpu, cookie);
    }

    /// <summary>Opens <paramref name="spec"/> on every online CPU (for every process, or one) and attaches the program to each.</summary>
    public LinkGroup AttachAllCpus(PerfEventSpec spec, int pid = -1, ulong cookie = 0)
    {
        var links = new System.Collections.Generic.List<BpfLink>();
        try
        {
            foreach (int cpu in Loader.KernelInfo.OnlineCpus())
                links.Add(Program.AttachPerfEventSpec(spec, pid, cpu, cookie));
        }
        catch
        {
            foreach (var l in links) l.Dispose();
            throw;
        }
        return new LinkGroup(Program, links, $"perf event {spec} on {links.Count} CPUs{(pid >= 0 ? $", pid {pid}" : string.Empty)}");
    }
}
