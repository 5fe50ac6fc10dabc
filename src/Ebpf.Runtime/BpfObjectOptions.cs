using System.Collections.Generic;
using Microsoft.Extensions.Logging;

namespace Ebpf;

/// <summary>Options for opening and loading a <see cref="BpfObject"/> (libbpf's bpf_object_open_opts and load-time knobs).</summary>
public sealed class BpfObjectOptions
{
    /// <summary>Object name (prefix of internal map names); by default derived from the file name.</summary>
    public string? ObjectName { get; set; }

    /// <summary>
    /// A BTF file describing the target kernel, for CO-RE on kernels without /sys/kernel/btf/vmlinux
    /// (libbpf's btf_custom_path). Raw BTF, or gzip-compressed when the name ends in ".gz". When set it is used
    /// whatever the kernel offers.
    /// </summary>
    public string? TargetBtfPath { get; set; }

    /// <summary>
    /// A directory of kernel BTF files named after kernel releases (<c>6.1.0-56-amd64.btf</c> or <c>.btf.gz</c>, as
    /// <c>dotnet ebpf btf min-core</c> writes them, or full BTF from BTFHub), used when the running kernel has no
    /// usable /sys/kernel/btf/vmlinux: the file named after <c>uname -r</c> is taken. Searched before the BTF the
    /// assembly embeds (<c>&lt;BpfKernelBtf Embed="true"/&gt;</c>); <see cref="TargetBtfPath"/> wins over both.
    /// </summary>
    public string? KernelBtfDirectory { get; set; }

    /// <summary>Directory under which maps with LIBBPF_PIN_BY_NAME are pinned; default /sys/fs/bpf.</summary>
    public string? PinRoot { get; set; }

    /// <summary>Kernel config file for .kconfig externs; default /proc/config.gz, then /boot/config-$(uname -r).</summary>
    public string? KernelConfigPath { get; set; }

    /// <summary>Values for .kconfig externs that override the kernel's configuration ("CONFIG_HZ" → "250").</summary>
    public IDictionary<string, string>? KernelConfigOverrides { get; set; }

    /// <summary>Receives CO-RE decisions, feature probes, map and program creation at debug level.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// Verifier log level for every program: 0 (default) asks for a log only when a load fails; 1 or 2 always
    /// collect it (see <see cref="BpfProgram.VerifierLog"/>).
    /// </summary>
    public int VerifierLogLevel { get; set; }

    /// <summary>Initial verifier log buffer size; grown up to 16 MiB while the log does not fit. Default 64 KiB.</summary>
    public int VerifierLogSize { get; set; } = 64 * 1024;

    /// <summary>
    /// When true, a CO-RE relocation that cannot be resolved fails the load at once, even if the verifier would
    /// have found the instruction unreachable. Default false (libbpf's behaviour: poison and let the verifier decide).
    /// </summary>
    public bool StrictCoreRelocations { get; set; }
}
