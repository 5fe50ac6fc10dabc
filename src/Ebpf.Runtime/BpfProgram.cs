using System;
using System.Collections.Generic;
using Ebpf.Core;
using Ebpf.Kernel;
using Ebpf.Objects;

namespace Ebpf;

/// <summary>Flags of <c>BPF_PROG_TEST_RUN</c> (<see cref="BpfProgram.TestRun"/>).</summary>
[Flags]
public enum BpfTestRunFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary><c>BPF_F_TEST_RUN_ON_CPU</c>: run on the CPU given (raw tracepoint programs).</summary>
    RunOnCpu = 1u << 0,
    /// <summary><c>BPF_F_TEST_XDP_LIVE_FRAMES</c>: XDP frames are really sent or redirected (Linux 5.18).</summary>
    XdpLiveFrames = 1u << 1,
    /// <summary><c>BPF_F_TEST_SKB_CHECKSUM_COMPLETE</c>: the skb carries a complete checksum (Linux 6.1).</summary>
    SkbChecksumComplete = 1u << 2,
}

/// <summary>Result of running a program with BPF_PROG_TEST_RUN.</summary>
public readonly struct BpfTestRunResult
{
    /// <summary>A test run's outcome, as the kernel reports it (the runtime creates these; public for tests and fakes).</summary>
    /// <param name="returnValue">The program's return value (r0).</param>
    /// <param name="durationNs">Average run time per repetition, in nanoseconds.</param>
    /// <param name="dataSizeOut">Bytes of packet data the kernel wrote to the data output buffer.</param>
    /// <param name="contextSizeOut">Bytes of context the kernel wrote to the context output buffer.</param>
    public BpfTestRunResult(uint returnValue, uint durationNs, int dataSizeOut, int contextSizeOut)
    {
        ReturnValue = returnValue;
        DurationNs = durationNs;
        DataSizeOut = dataSizeOut;
        ContextSizeOut = contextSizeOut;
    }

    /// <summary>The program's return value (r0).</summary>
    public uint ReturnValue { get; }
    /// <summary>Average run time per repetition, in nanoseconds.</summary>
    public uint DurationNs { get; }
    /// <summary>Bytes of packet data the run produced, written to the <c>dataOut</c> buffer (the packet as the program left it: an XDP program can grow or shrink it).</summary>
    public int DataSizeOut { get; }
    /// <summary>Bytes of context the run wrote back to the <c>contextOut</c> buffer (0 when none was given or the type returns none).</summary>
    public int ContextSizeOut { get; }
}

/// <summary>
/// A BPF program of an object: before load, its settings (type, autoload, attach target); after load, a kernel
/// object. Attach methods live in the typed program wrappers and in <see cref="Attach()"/>.
/// </summary>
public partial class BpfProgram : IDisposable
{
    private BpfHandle? _handle;
    private bool _disposed;
    private BpfProgramType _type;
    private BpfAttachType? _expectedAttachType;
    private bool _autoload;
    private string? _attachTarget;
    private string? _pinPath;
    private BpfProgramFlags _flags;

    internal BpfProgram(BpfObject? owner, ProgramSpec? spec, string name, string sectionName, BpfProgramType type, Syscalls sys)
    {
        Object = owner;
        Spec = spec;
        Name = name;
        SectionName = sectionName;
        _type = type;
        Syscalls = sys;
        if (spec != null)
        {
            _expectedAttachType = spec.ExpectedAttachType;
            _autoload = spec.Autoload;
            _attachTarget = spec.Section?.AttachBtfName;
            _flags = spec.Section?.ProgramLoadFlags ?? BpfProgramFlags.None;
        }
    }

    internal Syscalls Syscalls { get; }

    /// <summary>The object the program was opened from, which owns it and its links; null for a program opened from a pin or an id.</summary>
    public BpfObject? Object { get; }
    /// <summary>The program as the object file defines it (null for programs opened from a pin or id).</summary>
    internal ProgramSpec? Spec { get; }
    /// <summary>The program's name: its C function's name (the kernel keeps the first 15 bytes).</summary>
    public string Name { get; }
    /// <summary>ELF section name (without libbpf's "?" prefix).</summary>
    public string SectionName { get; }
    /// <summary>The section-name match that decides type, expected attach type and auto-attach; null when the name is unknown.</summary>
    internal SectionMatch? Section => Spec?.Section;
    /// <summary>The kernel's id of the loaded program, as <c>bpftool prog</c> shows it; 0 before load.</summary>
    public uint Id { get; internal set; }
    /// <summary>Whether the program is loaded in the kernel and its descriptor is still open (false before load, after a failed load and after Dispose).</summary>
    public bool IsLoaded => _handle != null && !_handle.IsClosed;

    /// <summary>The kernel program type (BPF_PROG_TYPE_*); from the section name by default, can be changed before load.</summary>
    /// <exception cref="InvalidOperationException">Set after the program was loaded.</exception>
    /// <exception cref="ObjectDisposedException">Set after the program was disposed.</exception>
    public BpfProgramType Type
    {
        get => _type;
        set { EnsureNotLoaded(nameof(Type)); _type = value; }
    }

    /// <summary>
    /// The attach type the kernel verifies the program for (expected_attach_type, BPF_*); from the section name by
    /// default, null when the type needs none. Can be changed before load.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set after the program was loaded.</exception>
    /// <exception cref="ObjectDisposedException">Set after the program was disposed.</exception>
    public BpfAttachType? ExpectedAttachType
    {
        get => _expectedAttachType;
        set { EnsureNotLoaded(nameof(ExpectedAttachType)); _expectedAttachType = value; }
    }

    /// <summary>Whether Load() loads this program (false for SEC("?...") programs). Can be changed before load.</summary>
    public bool Autoload
    {
        get => _autoload;
        set { EnsureNotLoaded(nameof(Autoload)); _autoload = value; }
    }

    /// <summary>The loader's own autoload decision (struct_ops programs follow the maps that point to them).</summary>
    internal void SetAutoloadInternal(bool value) => _autoload = value;

    /// <summary>
    /// For BTF-attached programs (fentry/fexit/fmod_ret/tp_btf/lsm/iter): the kernel function, tracepoint or hook
    /// the program is verified against; from the section name by default, "module:function" for module functions.
    /// </summary>
    public string? AttachTarget
    {
        get => _attachTarget;
        set { EnsureNotLoaded(nameof(AttachTarget)); _attachTarget = value; }
    }

    /// <summary>The <c>BPF_F_*</c> load flags (sleepable, XDP frags, ...); from the section name by default, can be changed before load.</summary>
    public BpfProgramFlags Flags
    {
        get => _flags;
        set { EnsureNotLoaded(nameof(Flags)); _flags = value; }
    }

    /// <summary>Verifier log level for this program (overrides the object's option when set).</summary>
    public int? VerifierLogLevel { get; set; }

    /// <summary>The verifier log of the last load, when one was requested (log level above 0).</summary>
    public string? VerifierLog { get; internal set; }

    /// <summary>Number of instructions loaded (subprograms included).</summary>
    public int InstructionCount { get; internal set; }

    /// <summary>CO-RE decisions made for this program at load (subprograms included).</summary>
    public IReadOnlyList<CoreRelocationResult> CoreRelocations { get; internal set; } = Array.Empty<CoreRelocationResult>();

    /// <summary>The program's descriptor; throws before load (<see cref="InvalidOperationException"/>) and after Dispose (<see cref="ObjectDisposedException"/>).</summary>
    public BpfHandle Handle => _handle is { IsClosed: false } h ? h : throw NotLoaded();

    private Exception NotLoaded() =>
        _disposed || _handle != null
            ? new ObjectDisposedException(nameof(BpfProgram), $"program '{Name}' is closed: it or its object was disposed")
            : new InvalidOperationException($"program '{Name}' is not loaded" + (Spec != null && !_autoload ? " (its Autoload is false)" : ": call Load() on its object first"));

    /// <summary>Whether <see cref="Dispose"/> was called (directly or by the program's object).</summary>
    internal bool IsDisposed => _disposed;

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the program (or its object) was disposed.</summary>
    internal void ThrowIfDisposed()
    {
        if (_disposed) throw NotLoaded();
    }

    /// <summary>The program's file descriptor number, for APIs that take a raw fd; valid while the program is loaded.</summary>
    /// <exception cref="InvalidOperationException">The program is not loaded.</exception>
    /// <exception cref="ObjectDisposedException">The program or its object was disposed.</exception>
    public int Fd => Handle.Fd;

    /// <summary>Where <see cref="Pin"/> pinned the program on a bpf filesystem; null when it is not pinned (or was unpinned).</summary>
    public string? PinPath => _pinPath;

    internal void SetHandle(BpfHandle handle, uint id)
    {
        _handle = handle;
        Id = id;
    }

    private void EnsureNotLoaded(string what)
    {
        ThrowIfDisposed();
        if (_handle != null)
            throw new InvalidOperationException($"program '{Name}': {what} can only be changed before Load()");
    }

    /// <summary>Runs the program once (or <paramref name="repeat"/> times) in the kernel with BPF_PROG_TEST_RUN.</summary>
    /// <param name="data">Packet data given to the program (network program types), e.g. an Ethernet frame.</param>
    /// <param name="dataOut">Receives the packet as the program left it; its length must hold it.</param>
    /// <param name="context">The context given to the program (ctx), in the layout its type expects (__sk_buff, xdp_md, the struct of a syscall or raw tracepoint program).</param>
    /// <param name="contextOut">Receives the context as the program left it.</param>
    /// <param name="repeat">How many times to run it (0 and 1: once); the duration reported is the average.</param>
    /// <param name="flags">BPF_F_TEST_* flags.</param>
    /// <param name="cpu">The CPU to run on, with <see cref="BpfTestRunFlags.RunOnCpu"/>.</param>
    /// <returns>The return value of the last run, the average duration in nanoseconds and the sizes written to the output buffers.</returns>
    /// <exception cref="BpfNotSupportedException">The kernel cannot test-run programs of this type (older kernels name the version that can).</exception>
    /// <exception cref="BpfSyscallException">The kernel refused the input (EINVAL: sizes this type does not take; ENOSPC: an output buffer too small).</exception>
    /// <exception cref="InvalidOperationException">The program is not loaded.</exception>
    /// <exception cref="ObjectDisposedException">The program or its object was disposed.</exception>
    public unsafe BpfTestRunResult TestRun(ReadOnlySpan<byte> data = default, Span<byte> dataOut = default, ReadOnlySpan<byte> context = default,
        Span<byte> contextOut = default, uint repeat = 0, BpfTestRunFlags flags = BpfTestRunFlags.None, uint cpu = 0)
    {
        var h = Handle;
        bool added = false;
        try
        {
            h.DangerousAddRef(ref added);
            fixed (byte* di = data)
            fixed (byte* dout = dataOut)
            fixed (byte* ci = context)
            fixed (byte* cout = contextOut)
            {
                var a = new ProgTestRunAttr
                {
                    ProgFd = (uint)h.Fd,
                    DataIn = (ulong)di,
                    DataSizeIn = (uint)data.Length,
                    DataOut = (ulong)dout,
                    DataSizeOut = (uint)dataOut.Length,
                    CtxIn = (ulong)ci,
                    CtxSizeIn = (uint)context.Length,
                    CtxOut = (ulong)cout,
                    CtxSizeOut = (uint)contextOut.Length,
                    Repeat = repeat,
                    Flags = (uint)flags,
                    Cpu = cpu,
                };
                int r = BpfSys.Call(Syscalls, BpfCommand.ProgTestRun, ref a);
                if (r < 0)
                {
                    if (-r is Errno.ENOTSUPP or Errno.EOPNOTSUPP)
                        throw KernelFeatures.MinimumKernelForTestRun(Type) is { } since
                            ? KernelFeatures.Missing($"BPF_PROG_TEST_RUN of {Type} programs", since, $"program '{Name}' cannot be run on demand on this kernel")
                            : BpfNotSupportedException.Configuration($"BPF_PROG_TEST_RUN of {Type} programs", $"program '{Name}': the kernel does not run {Type} programs with BPF_PROG_TEST_RUN ({Errno.Name(-r)}); attach it instead");
                    string? hint = -r switch
                    {
                        Errno.EINVAL => "the kernel refused the input: check the context/data sizes this program type expects",
                        Errno.ENOSPC => "an output buffer is too small",
                        _ => null,
                    };
                    throw BpfSys.Error(BpfCommand.ProgTestRun, -r, $"of program '{Name}'", hint);
                }
                return new BpfTestRunResult(a.Retval, a.Duration, (int)a.DataSizeOut, (int)a.CtxSizeOut);
            }
        }
        finally
        {
            if (added) h.DangerousRelease();
        }
    }

    /// <summary>
    /// Pins the program at <paramref name="path"/> on a bpf filesystem, so that it outlives this process and other
    /// processes can open it.
    /// </summary>
    /// <exception cref="BpfSyscallException">The pin failed: something is pinned there already, the directory does not exist, the path is not on a bpf filesystem.</exception>
    /// <exception cref="InvalidOperationException">The program is not loaded.</exception>
    /// <exception cref="ObjectDisposedException">The program or its object was disposed.</exception>
    public void Pin(string path)
    {
        BpfSys.ObjPin(Syscalls, Handle, path);
        _pinPath = path;
    }

    /// <summary>
    /// Deletes the pin made by <see cref="Pin"/>; the kernel frees the program once nothing else holds it. Nothing to do
    /// when the program is not pinned; allowed after Dispose (the pin is a file that outlives the descriptor).
    /// </summary>
    /// <exception cref="System.IO.IOException">The pin file could not be deleted.</exception>
    public void Unpin()
    {
        if (_pinPath == null) return;
        System.IO.File.Delete(_pinPath);
        _pinPath = null;
    }

    /// <summary>A load failed: the descriptor is closed and the program is back to its state before Load (not disposed).</summary>
    internal void ReleaseAfterFailedLoad()
    {
        var h = _handle;
        _handle = null;
        Id = 0;
        h?.Dispose();
    }

    /// <summary>Closes the descriptor (an attached program stays attached while a link or hook holds it).</summary>
    public void Dispose()
    {
        _disposed = true;
        _handle?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The program's name, section and type, as in "program 'handle_exec' SEC("tp/sched/sched_process_exec") Tracepoint".</summary>
    public override string ToString() => $"program '{Name}' SEC(\"{SectionName}\") {Type}";
}
