using System;

namespace Ebpf;

/// <summary>
/// The root of every error this library raises about eBPF objects and the kernel: a malformed file
/// (<see cref="BpfFormatException"/>), a CO-RE relocation (<see cref="BpfCoreRelocationException"/>), a failed system
/// call (<see cref="BpfSyscallException"/>, <see cref="BpfVerifierException"/>), a missing kernel feature
/// (<see cref="BpfNotSupportedException"/>) or something the machine lacks (<see cref="BpfEnvironmentException"/>).
/// Besides its message, it says what it is about in properties a caller can test without reading the message: the
/// object, program and map, the CO-RE access, the errno and the bpf(2) command. A property is null (0 for
/// <see cref="Errno"/>) when it does not apply or is not known where the error was raised.
/// </summary>
/// <remarks>
/// Lives in the object layer so that the format and CO-RE errors, which the build-time generator raises too, share the
/// root with the runtime's kernel errors.
/// </remarks>
public class BpfException : Exception
{
    /// <summary>An error described by <paramref name="message"/>; the properties that say what it is about start null.</summary>
    public BpfException(string message) : base(message) { }

    /// <summary>An error described by <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    public BpfException(string message, Exception? inner) : base(message, inner) { }

    /// <summary>An error of a system call or of an operation that reports an errno (libbpf's negative return codes).</summary>
    protected BpfException(string message, Exception? inner, int errno, BpfCommand? command, string? operation)
        : base(message, inner)
    {
        Errno = errno;
        Command = command;
        Operation = operation;
    }

    private string? _reason;

    /// <summary>
    /// Why, without the subject the properties name: "EPERM (operation not permitted). ..." for the message
    /// "BPF_PROG_LOAD of program 'x' failed: EPERM (operation not permitted). ...", the verifier's last line and errno
    /// for its refusal, the problem without the offset for a format error. The message itself where the raiser did
    /// not tell them apart. For tables that name the program or map in a column of their own.
    /// </summary>
    public string Reason => _reason ?? Message;

    /// <summary>The object the error is about (its name: the file name without ".bpf.o", or the name it was opened with).</summary>
    public string? ObjectName { get; private set; }

    /// <summary>The program the error is about (the function name of its entry point).</summary>
    public string? ProgramName { get; private set; }

    /// <summary>The map the error is about (".rodata"-like data sections appear as their map, e.g. "obj.rodata").</summary>
    public string? MapName { get; private set; }

    /// <summary>The CO-RE relocation the error is about.</summary>
    public BpfCoreAccess? CoreAccess { get; private set; }

    /// <summary>The errno the kernel (or, for CO-RE errors, libbpf in the same situation) reports; 0 when none.</summary>
    public int Errno { get; }

    /// <summary>The errno's symbolic name ("EPERM"), or null when <see cref="Errno"/> is 0.</summary>
    public string? ErrnoName => Errno == 0 ? null : Ebpf.Errno.Name(Errno);

    /// <summary>The bpf(2) command that failed, when the failing call was bpf(2).</summary>
    public BpfCommand? Command { get; }

    /// <summary>The failing call: "BPF_PROG_LOAD", "perf_event_open", "ioctl(PERF_EVENT_IOC_SET_BPF)", "mmap", ...</summary>
    public string? Operation { get; }

    /// <summary>Records <see cref="Reason"/>; returns this exception.</summary>
    internal BpfException WithReason(string reason)
    {
        _reason = reason;
        return this;
    }

    /// <summary>
    /// Records what the error is about where the raiser did not know it (the loader knows the object and the map or
    /// program a low-level call was made for). Fills only what is still unknown; returns this exception.
    /// </summary>
    internal BpfException About(string? objectName = null, string? programName = null, string? mapName = null, BpfCoreAccess? coreAccess = null)
    {
        ObjectName ??= objectName;
        ProgramName ??= programName;
        MapName ??= mapName;
        CoreAccess ??= coreAccess;
        return this;
    }
}
