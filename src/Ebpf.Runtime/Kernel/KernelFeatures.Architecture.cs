using System.Runtime.InteropServices;
using Ebpf.Loader;

namespace Ebpf.Kernel;

// Features whose first Linux release depends on the architecture: the BPF side is generic, but the kernel needs the
// architecture's port of the mechanism underneath (ftrace direct calls, fprobe on the function-graph tracer).
public sealed partial class KernelFeatures
{
    /// <summary>
    /// The first Linux release in which this process's architecture attaches BPF trampolines (fentry, fexit, fmod_ret,
    /// lsm) to kernel functions: x86-64 5.5; arm64 6.4 (trampolines came in 6.0, but putting one on a kernel
    /// function needs ftrace direct calls, CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, which arm64 has since 6.4).
    /// </summary>
    public static string TrampolineMinimumKernel => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm64 => "6.4",
        _ => "5.5",
    };

    /// <summary>How errors name the feature whose first release <see cref="TrampolineMinimumKernel"/> is.</summary>
    internal const string TrampolineFeature = "fentry/fexit/fmod_ret/lsm programs on kernel functions (BPF trampolines)";

    /// <summary>
    /// The first Linux release in which this process's architecture can have kprobe.multi links (CONFIG_FPROBE):
    /// x86-64 5.18; arm64 6.14 (fprobe rebuilt on the function-graph tracer, which arm64 supports).
    /// </summary>
    public static string KprobeMultiMinimumKernel => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm64 => "6.14",
        _ => "5.18",
    };

    /// <summary>The architecture as the kernel's own names for it spell it ("x86-64", "arm64"), for messages.</summary>
    internal static string ArchitectureName => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "x86-64",
        Architecture.Arm64 => "arm64",
        var a => a.ToString().ToLowerInvariant(),
    };

    /// <summary>Whether the running kernel's release is <paramref name="version"/> ("6.4") or later.</summary>
    internal static bool KernelIsAtLeast(string version) => KernelInfo.VersionCode >= KernelInfo.ParseVersionCode(version);
}
