using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Base of the typed program wrappers (<see cref="TracepointProgram"/>, <see cref="XdpProgram"/>, ...): a
/// <see cref="BpfProgram"/> of one <see cref="ProgramKind"/>, with the attach methods that kind allows. Which
/// programs a wrapper takes, and which wrapper a section gets, come from the section table
/// (<see cref="SectionDefinitions"/>); generated skeletons expose their programs through these.
/// </summary>
public abstract class TypedProgram
{
    private protected TypedProgram(BpfProgram program, ProgramKind kind, string expected, string attachHint)
    {
        if (program is null) throw new ArgumentNullException(nameof(program));
        // A program opened from a pin or an id has no section, and the kernel does not report its expected attach
        // type: its program type alone decides.
        if (!SectionDefinitions.Accepts(kind, program.Type, program.ExpectedAttachType, attachTypeKnown: program.Spec is not null))
            throw new ArgumentException($"program '{program.Name}' (SEC(\"{program.SectionName}\"), {program.Type}{(program.ExpectedAttachType is { } eat ? ", " + eat : string.Empty)}) cannot be a {kind}Program: it must be {expected}", nameof(program));
        Program = program;
        Kind = kind;
        AttachHint = attachHint;
    }

    /// <summary>The untyped program (its spec, type, flags, verifier log, pinning, test runs, ...).</summary>
    public BpfProgram Program { get; }

    /// <summary>The program's name (its C function's).</summary>
    public string Name => Program.Name;

    /// <summary>
    /// Whether the object's Load() loads the program (default: true, false for <c>SEC("?...")</c>); can be changed
    /// before load (<see cref="BpfProgram.Autoload"/>).
    /// </summary>
    public bool Autoload
    {
        get => Program.Autoload;
        set => Program.Autoload = value;
    }

    /// <summary>True once the program is loaded (and not disposed).</summary>
    public bool IsLoaded => Program.IsLoaded;

    /// <summary>The kernel's id of the loaded program (0 before load).</summary>
    public uint Id => Program.Id;

    /// <summary>The kind of program this wrapper stands for.</summary>
    public ProgramKind Kind { get; }

    /// <summary>What to call when the section does not say where to attach.</summary>
    internal string AttachHint { get; }

    /// <summary>
    /// Attaches with the kind's defaults: where the section name says (libbpf's auto-attach, as
    /// <see cref="BpfProgram.Attach()"/> does), or, for sk_lookup and flow_dissector programs, to the calling thread's
    /// network namespace. The typed wrappers return their kind's link (<see cref="TracepointProgram.Attach(ulong)"/>
    /// returns a <see cref="TracepointLink"/>, ...). The link belongs to the program's object: the object's (and the
    /// skeleton's) Detach and Dispose remove it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The section does not say where to attach (xdp, tc, cgroup, ...): use an overload that says.</exception>
    public virtual BpfLink Attach() => AttachBySection();

    /// <summary>The wrapper's type and the program's name, section and type.</summary>
    public override string ToString() => $"{GetType().Name} {Program}";

    /// <summary>
    /// Attaches where the section says, with the kind's defaults: what <see cref="BpfProgram.Attach()"/> and
    /// <see cref="BpfObject.Attach()"/> call. Kinds that always need more than the section name (an interface, a
    /// cgroup, a socket) do not override it.
    /// </summary>
    internal virtual BpfLink AttachBySection() =>
        throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") does not say where to attach; {AttachHint}");

    /// <summary>
    /// The section's parsed target, when the section still applies (the program type was not changed) and names
    /// where to attach; otherwise an error that says what to call instead.
    /// </summary>
    private protected SectionTarget SectionTarget()
    {
        if (Program.Kind == Kind && Program.Section?.ParsedTarget is { } target)
            return target;
        throw new InvalidOperationException($"program '{Name}': SEC(\"{Program.SectionName}\") does not say where to attach; {AttachHint}");
    }

    /// <summary>Whether the program's section makes a return probe (kretprobe, uretprobe, kretsyscall, ...).</summary>
    private protected bool SectionIsReturn => Program.Kind == Kind && Program.Section is { } s && s.Definition.IsReturnProbe;

    /// <summary>The typed wrapper of <paramref name="program"/>'s kind (<see cref="BpfProgram.Kind"/>), or null for <see cref="ProgramKind.None"/>.</summary>
    public static TypedProgram? For(BpfProgram program)
    {
        if (program is null) throw new ArgumentNullException(nameof(program));
        return program.Kind switch
        {
            ProgramKind.Kprobe => new KprobeProgram(program),
            ProgramKind.KprobeMulti => new KprobeMultiProgram(program),
            ProgramKind.Uprobe => new UprobeProgram(program),
            ProgramKind.Usdt => new UsdtProgram(program),
            ProgramKind.Tracepoint => new TracepointProgram(program),
            ProgramKind.RawTracepoint => new RawTracepointProgram(program),
            ProgramKind.Tracing => new TracingProgram(program),
            ProgramKind.Lsm => new LsmProgram(program),
            ProgramKind.Iterator => new IteratorProgram(program),
            ProgramKind.Xdp => new XdpProgram(program),
            ProgramKind.Tc => new TcProgram(program),
            ProgramKind.Netkit => new NetkitProgram(program),
            ProgramKind.Cgroup => new CgroupProgram(program),
            ProgramKind.SocketFilter => new SocketFilterProgram(program),
            ProgramKind.SkLookup => new SkLookupProgram(program),
            ProgramKind.FlowDissector => new FlowDissectorProgram(program),
            ProgramKind.PerfEvent => new PerfEventProgram(program),
            ProgramKind.Syscall => new SyscallProgram(program),
            ProgramKind.StructOps => new StructOpsProgram(program),
            _ => null,
        };
    }
}

/// <summary>A SEC("syscall") program: not attached anywhere, run from user space with a context struct.</summary>
public sealed class SyscallProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a syscall program (SEC("syscall")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public SyscallProgram(BpfProgram program)
        : base(program, ProgramKind.Syscall, "a syscall program (SEC(\"syscall\"))", "syscall programs are not attached: run them with SyscallProgram.Run(...)") { }

    /// <summary>Runs the program with <paramref name="context"/> as its ctx; the kernel writes the (possibly modified) context back. Returns the program's return value.</summary>
    public int Run<TContext>(ref TContext context) where TContext : unmanaged =>
        (int)Program.TestRun(context: MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref context, 1))).ReturnValue;

    /// <summary>Runs the program with a byte context (written back in place).</summary>
    public int Run(Span<byte> context) => (int)Program.TestRun(context: context).ReturnValue;

    /// <summary>Runs the program without a context.</summary>
    public int Run() => (int)Program.TestRun().ReturnValue;
}
