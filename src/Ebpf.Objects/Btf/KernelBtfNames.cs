using System;

namespace Ebpf.Btf;

/// <summary>
/// How kernel BTF files are named by kernel release: <c>6.1.0-56-amd64.btf</c>, <c>6.1.0-56-amd64.btf.gz</c>,
/// BTFHub's <c>5.4.0-1103-aws.btf.tar.xz</c>. The release is what <c>uname -r</c> prints on that kernel.
/// </summary>
public static class KernelBtfNames
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
}
