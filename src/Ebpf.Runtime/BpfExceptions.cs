using System;

namespace Ebpf;

/// <summary>A system call failed: carries the bpf command (or the call's name), the errno and a sentence a user can act on.</summary>
public class BpfSyscallException : BpfException
{
    public BpfSyscallException(string operation, BpfCommand? command, int errno, string message)
        : base(message, null, errno, command, operation)
    {
    }
}

/// <summary>The verifier refused a program. <see cref="VerifierLog"/> holds its complete log.</summary>
public sealed class BpfVerifierException : BpfSyscallException
{
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
    public BpfNotSupportedException(string feature, string minimumKernel, string? detail = null)
        : base($"this kernel does not support {feature} (needs Linux {minimumKernel} or later){(detail is null ? "" : ": " + detail)}")
    {
        Feature = feature;
        MinimumKernel = minimumKernel;
    }

    private BpfNotSupportedException(string feature, string message, bool configuration)
        : base(message)
    {
        Feature = feature;
        MinimumKernel = string.Empty;
        IsConfiguration = configuration;
    }

    /// <summary>
    /// The kernel is recent enough but was built or booted without the feature (CONFIG_KPROBES is not set, "bpf" is
    /// not in lsm=): <paramref name="message"/> says which.
    /// </summary>
    public static BpfNotSupportedException Configuration(string feature, string message) => new BpfNotSupportedException(feature, message, true);

    public string Feature { get; }
    /// <summary>The first Linux version with the feature; empty when the kernel's configuration is what lacks it.</summary>
    public string MinimumKernel { get; }
    /// <summary>True when the kernel's build or boot configuration, not its version, lacks the feature.</summary>
    public bool IsConfiguration { get; }
}

/// <summary>Something the machine lacks: tracefs or bpffs not mounted, no kernel BTF, a missing file.</summary>
public sealed class BpfEnvironmentException : BpfException
{
    public BpfEnvironmentException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A struct_ops value the running kernel cannot take: its struct type is missing, a member it sets is missing or has
/// another type or size. Names the map, the struct, the member and the kernel.
/// </summary>
public sealed class BpfStructOpsException : BpfException
{
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
