using System;

namespace Ebpf;

/// <summary>A system call failed: carries the bpf command (or the call's name), the errno and a sentence a user can act on.</summary>
public class BpfSyscallException : BpfException
{
    /// <summary>An error of a failed system call.</summary>
    /// <param name="operation">The call that failed, as errors name it: "BPF_MAP_CREATE", "perf_event_open", "mmap".</param>
    /// <param name="command">The bpf(2) command, or null for another system call.</param>
    /// <param name="errno">The positive errno the call returned (<see cref="BpfException.Errno"/>).</param>
    /// <param name="message">The whole message: what failed, on what, the errno's name and what to do about it.</param>
    public BpfSyscallException(string operation, BpfCommand? command, int errno, string message)
        : base(message, null, errno, command, operation)
    {
    }
}

/// <summary>The verifier refused a program. <see cref="VerifierLog"/> holds its complete log.</summary>
public sealed class BpfVerifierException : BpfSyscallException
{
    /// <summary>A refusal of <paramref name="programName"/> by the verifier.</summary>
    /// <param name="programName">The refused program's name (<see cref="BpfException.ProgramName"/>).</param>
    /// <param name="errno">The errno BPF_PROG_LOAD returned (EACCES for an unsafe program, EINVAL for a malformed one, ENOSPC when the log did not fit).</param>
    /// <param name="verifierLog">The verifier's log, in full.</param>
    /// <param name="message">The whole message, usually ending with the log's decisive line.</param>
    public BpfVerifierException(string programName, int errno, string verifierLog, string message)
        : base("BPF_PROG_LOAD", BpfCommand.ProgLoad, errno, message)
    {
        About(programName: programName);
        VerifierLog = verifierLog;
    }

    /// <summary>The verifier's log, in full.</summary>
    public string VerifierLog { get; }
}

/// <summary>The running kernel lacks a feature the object needs.</summary>
public sealed class BpfNotSupportedException : BpfException
{
    /// <summary>A feature missing because the kernel is too old.</summary>
    /// <param name="feature">What is missing, in words ("BPF ring buffers (BPF_MAP_TYPE_RINGBUF)").</param>
    /// <param name="minimumKernel">The first Linux version that has it ("5.8").</param>
    /// <param name="detail">What needed it, appended to the message; null for none.</param>
    public BpfNotSupportedException(string feature, string minimumKernel, string? detail = null)
        : this(feature, minimumKernel, detail, 0, null)
    {
    }

    /// <summary>The kernel's refusal (<paramref name="errno"/> from <paramref name="command"/>) that showed the feature missing.</summary>
    internal BpfNotSupportedException(string feature, string minimumKernel, string? detail, int errno, BpfCommand? command)
        : base($"this kernel does not support {feature} (needs Linux {minimumKernel} or later){(detail is null ? "" : ": " + detail)}",
               null, errno, command, command?.ToKernelName())
    {
        Feature = feature;
        MinimumKernel = minimumKernel;
    }

    private BpfNotSupportedException(string feature, string message, int errno, BpfCommand? command)
        : base(message, null, errno, command, command?.ToKernelName())
    {
        Feature = feature;
        MinimumKernel = string.Empty;
        IsConfiguration = true;
    }

    /// <summary>
    /// The kernel is recent enough but was built or booted without the feature (CONFIG_KPROBES is not set, "bpf" is
    /// not in lsm=): <paramref name="message"/> says which.
    /// </summary>
    public static BpfNotSupportedException Configuration(string feature, string message) => new BpfNotSupportedException(feature, message, 0, null);

    /// <summary><see cref="Configuration(string, string)"/>, with the kernel's refusal that showed the feature missing.</summary>
    internal static BpfNotSupportedException Configuration(string feature, string message, int errno, BpfCommand? command) =>
        new BpfNotSupportedException(feature, message, errno, command);

    /// <summary>What the kernel lacks, in words ("BPF ring buffers (BPF_MAP_TYPE_RINGBUF)", "kprobe multi links").</summary>
    public string Feature { get; }
    /// <summary>The first Linux version with the feature; empty when the kernel's configuration is what lacks it.</summary>
    public string MinimumKernel { get; }
    /// <summary>True when the kernel's build or boot configuration, not its version, lacks the feature.</summary>
    public bool IsConfiguration { get; }
}

/// <summary>Something the machine lacks: tracefs or bpffs not mounted, no kernel BTF, a missing file.</summary>
public sealed class BpfEnvironmentException : BpfException
{
    /// <summary>An error about the machine rather than the kernel or the object.</summary>
    /// <param name="message">What is missing and how to provide it ("tracefs is not mounted: mount -t tracefs ...").</param>
    /// <param name="inner">The exception that revealed it (a <see cref="System.IO.FileNotFoundException"/>, ...), or null.</param>
    public BpfEnvironmentException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A struct_ops value the running kernel cannot take: its struct type is missing, a member it sets is missing or has
/// another type or size. Names the map, the struct, the member and the kernel.
/// </summary>
public sealed class BpfStructOpsException : BpfException
{
    /// <summary>A struct_ops value the running kernel cannot take.</summary>
    /// <param name="mapName">The struct_ops map (the C variable), or null.</param>
    /// <param name="structName">The kernel struct, e.g. <c>tcp_congestion_ops</c>, or null.</param>
    /// <param name="memberName">The member at fault, or null when the whole struct is.</param>
    /// <param name="message">The whole message, naming map, struct, member and kernel.</param>
    public BpfStructOpsException(string? mapName, string? structName, string? memberName, string message) : base(message)
    {
        About(mapName: mapName);
        StructName = structName;
        MemberName = memberName;
    }

    /// <summary>The kernel struct, e.g. <c>tcp_congestion_ops</c>.</summary>
    public string? StructName { get; }
    /// <summary>The member at fault, or null when the whole struct is.</summary>
    public string? MemberName { get; }
}
