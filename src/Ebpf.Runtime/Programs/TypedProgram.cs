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
