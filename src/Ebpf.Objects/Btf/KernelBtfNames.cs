using System;

namespace Ebpf.Btf;

/// <summary>
/// How kernel BTF files are named by kernel release: <c>6.1.0-56-amd64.btf</c>, <c>6.1.0-56-amd64.btf.gz</c>,
/// BTFHub's <c>5.4.0-1103-aws.btf.tar.xz</c>. The release is what <c>uname -r</c> prints on that kernel.
/// </summary>
internal static class KernelBtfNames
{
    /// <summary>Suffixes a kernel BTF file may carry after the release, longest first.</summary>
    private static readonly string[] Suffixes = { ".btf.tar.xz", ".btf.gz", ".btf", ".tar.xz", ".gz" };

    /// <summary>
    /// The kernel release a file is named after: its file name without <c>.btf.tar.xz</c>, <c>.btf.gz</c> or
    /// <c>.btf</c> (or <c>.tar.xz</c>, <c>.gz</c>). Null when nothing is left, or when the name is not a plausible
    /// release (it must start with a digit, as every Linux release does).
    /// </summary>
    public static string? ReleaseFromFileName(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        int slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        string name = slash >= 0 ? path.Substring(slash + 1) : path;
        foreach (var suffix in Suffixes)
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal))
            {
                name = name.Substring(0, name.Length - suffix.Length);
                break;
            }
        }
        return IsValidRelease(name) ? name : null;
    }

    /// <summary>
    /// A kernel release usable as a file and resource name: starts with a digit, no '/', no white space or control
    /// characters, at most 64 characters (the kernel's utsname field holds 64).
    /// </summary>
    public static bool IsValidRelease(string? release)
    {
        if (string.IsNullOrEmpty(release) || release!.Length > 64 || release[0] < '0' || release[0] > '9')
            return false;
        foreach (char c in release)
        {
            if (c <= ' ' || c == '/' || c == '\\' || c == 0x7f)
                return false;
        }
        return true;
    }

    /// <summary>The file name a kernel's BTF is stored under: <c>RELEASE.btf</c>.</summary>
    public static string FileName(string release) => release + ".btf";

    /// <summary>Prefix of the manifest resources that hold embedded minimized kernel BTF.</summary>
    public const string EmbeddedPrefix = "ebpf/btf/";

    /// <summary>Suffix of those resources (gzip-compressed raw BTF).</summary>
    public const string EmbeddedSuffix = ".btf.gz";

    /// <summary>
    /// The manifest resource a kernel's minimized BTF is embedded as: <c>ebpf/btf/RELEASE.btf.gz</c>, or
    /// <c>ebpf/btf/ARCH/RELEASE.btf.gz</c> for a kernel of a known architecture (<see cref="CpuArchitecture"/>).
    /// </summary>
    public static string EmbeddedResourceName(string release, string? architecture = null) =>
        EmbeddedPrefix + (architecture == null ? string.Empty : architecture + "/") + release + EmbeddedSuffix;

    /// <summary>
    /// Reads a resource name <see cref="EmbeddedResourceName"/> made: the release and the architecture (null for
    /// none); false for any other name.
    /// </summary>
    public static bool TryParseEmbeddedResourceName(string name, out string release, out string? architecture)
    {
        release = string.Empty;
        architecture = null;
        if (name is null || !name.StartsWith(EmbeddedPrefix, StringComparison.Ordinal) || !name.EndsWith(EmbeddedSuffix, StringComparison.Ordinal)
            || name.Length <= EmbeddedPrefix.Length + EmbeddedSuffix.Length)
            return false;
        string rest = name.Substring(EmbeddedPrefix.Length, name.Length - EmbeddedPrefix.Length - EmbeddedSuffix.Length);
        int slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            architecture = CpuArchitecture.Normalize(rest.Substring(0, slash));
            if (architecture == null || architecture != rest.Substring(0, slash))
                return false;
            rest = rest.Substring(slash + 1);
        }
        if (!IsValidRelease(rest))
            return false;
        release = rest;
        return true;
    }

    /// <summary>
    /// The architecture a kernel release names, when it names one: Debian's flavours end in <c>-amd64</c> or
    /// <c>-arm64</c> (<c>6.1.0-56-amd64</c>, <c>5.10.0-46-cloud-arm64</c>), Red Hat's, Fedora's, Amazon's and
    /// Oracle's in <c>.x86_64</c> or <c>.aarch64</c> (<c>3.10.0-1160.el7.x86_64</c>). Null when the release does not
    /// say (Ubuntu's <c>5.4.0-1103-aws</c> is the same release on both).
    /// </summary>
    public static string? ArchitectureFromRelease(string release)
    {
        if (release is null) throw new ArgumentNullException(nameof(release));
        int cut = release.LastIndexOfAny(new[] { '-', '.' });
        return cut >= 0 && cut < release.Length - 1 ? CpuArchitecture.Normalize(release.Substring(cut + 1)) : null;
    }

    /// <summary>
    /// The architecture of a file in BTFHub's layout, <c>&lt;distro&gt;/&lt;version&gt;/&lt;arch&gt;/RELEASE.btf.tar.xz</c>:
    /// the name of the directory the file is in when that is an architecture (<c>x86_64</c>, <c>arm64</c>, or
    /// <c>amd64</c>, <c>aarch64</c>, <c>x64</c>); null otherwise.
    /// </summary>
    public static string? ArchitectureFromDirectory(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        int end = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        if (end <= 0)
            return null;
        int start = Math.Max(path.LastIndexOf('/', end - 1), path.LastIndexOf('\\', end - 1)) + 1;
        return CpuArchitecture.Normalize(path.Substring(start, end - start));
    }
}
