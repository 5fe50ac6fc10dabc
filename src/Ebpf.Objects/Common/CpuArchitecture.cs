namespace Ebpf;

/// <summary>
/// The CPU architectures a BPF object or a kernel BTF may be tied to, named as .NET runtime identifiers name them
/// (<c>linux-x64</c>, <c>linux-arm64</c>): one spelling for item metadata, BTFHub directories, kernel releases and
/// resource names.
/// </summary>
internal static class CpuArchitecture
{
    /// <summary>x86-64.</summary>
    public const string X64 = "x64";

    /// <summary>64-bit Arm.</summary>
    public const string Arm64 = "arm64";

    /// <summary>
    /// The architecture a name stands for: <c>x64</c> for x64, x86_64 and amd64, <c>arm64</c> for arm64 and aarch64
    /// (any case, surrounding white space ignored); null for anything else.
    /// </summary>
    public static string? Normalize(string? name)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "x64":
            case "x86_64":
            case "amd64":
                return X64;
            case "arm64":
            case "aarch64":
                return Arm64;
            default:
                return null;
        }
    }
}
