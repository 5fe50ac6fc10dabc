using System;
using System.Collections.Generic;
using System.IO;
using Ebpf.Btf;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Ebpf.Skeletons.Tasks;

/// <summary>
/// Names each BpfKernelBtf item's kernel release (<c>KernelRelease</c> metadata, else the file name:
/// <c>RELEASE.btf</c>, <c>RELEASE.btf.gz</c>, <c>RELEASE.btf.tar.xz</c>) and architecture, and decides what the build
/// makes of it: with <c>Embed="true"</c> a minimized <c>btf/[ARCH/]RELEASE.btf.gz</c> (embedded, and what the
/// generator's CO-RE pre-flight reads); a BTFHub archive unpacked to <c>kernel/[ARCH/]RELEASE.btf</c> for the
/// pre-flight; raw and .gz files go to the pre-flight as they are. Cheap: reads at most 6 bytes per file.
/// </summary>
/// <remarks>
/// The architecture (x64 or arm64) comes from <c>Architecture</c> metadata, else from the directory the file is in
/// when that is named after one (BTFHub's <c>&lt;distro&gt;/&lt;version&gt;/&lt;arch&gt;/</c>: x86_64, arm64), else
/// from the release (Debian's <c>-amd64</c>/<c>-arm64</c>, Red Hat's <c>.x86_64</c>/<c>.aarch64</c>); a directory
/// and a release that disagree are an error (EBPF106). A kernel of another architecture than the build's
/// RuntimeIdentifier is left out (a message says so); a build without RuntimeIdentifier keeps every kernel, each
/// architecture's under its own resource name, so one release may be given once per architecture.
/// </remarks>
public sealed class ResolveKernelBtf : Task
{
    [Required]
    public ITaskItem[] KernelBtf { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>obj/…/ebpf/ (ends with a separator).</summary>
    [Required]
    public string IntermediateDir { get; set; } = string.Empty;

    /// <summary>The architecture part of the build's RuntimeIdentifier (x64, arm64, ...), empty for a portable build.</summary>
    public string TargetArchitecture { get; set; } = string.Empty;

    /// <summary>
    /// The items kept, with metadata Release, Architecture (x64, arm64 or empty), Embed, ResourceName (the manifest
    /// resource of an embedded kernel), WritePath (what <see cref="MinimizeKernelBtf"/> writes, or empty),
    /// GeneratorInput (the file the pre-flight reads) and EncodedName (its base64 copy's name, unique per item).
    /// </summary>
    [Output]
    public ITaskItem[] Resolved { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        var result = new List<ITaskItem>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        string target = TargetArchitecture.Trim();
        string? targetArch = target.Length == 0 ? null : CpuArchitecture.Normalize(target) ?? target.ToLowerInvariant();
        foreach (var item in KernelBtf)
        {
            string path = item.GetMetadata("FullPath");
            if (!File.Exists(path))
            {
                Log.LogError(null, "EBPF101", null, item.ItemSpec, 0, 0, 0, 0, "BpfKernelBtf '{0}' does not exist.", item.ItemSpec);
                continue;
            }
            bool embed = string.Equals(item.GetMetadata("Embed"), "true", StringComparison.OrdinalIgnoreCase);
            string given = item.GetMetadata("KernelRelease").Trim();
            string? release = given.Length > 0 ? given : KernelBtfNames.ReleaseFromFileName(path);
            if (!TryArchitecture(item, path, release, out var arch, out var archFrom))
                continue;
            if (targetArch != null && arch != null && arch != targetArch)
            {
                Log.LogMessage(MessageImportance.Normal,
                    "ebpf: BpfKernelBtf '{0}' is {1} kernel BTF ({2}) and this build is for {3} (RuntimeIdentifier {4}): left out.",
                    item.ItemSpec, arch, archFrom, targetArch, target);
                continue;
            }
            bool archive;
            try
            {
                archive = KernelBtfFile.IsArchive(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.LogError(null, "EBPF104", null, item.ItemSpec, 0, 0, 0, 0, "BpfKernelBtf '{0}' cannot be read: {1}", item.ItemSpec, e.Message);
                continue;
            }
            if ((embed || archive) && (release == null || !KernelBtfNames.IsValidRelease(release)))
            {
                Log.LogError(null, "EBPF103", null, item.ItemSpec, 0, 0, 0, 0,
                    given.Length > 0
                        ? "BpfKernelBtf '{0}': KernelRelease '{1}' is not a kernel release (what `uname -r` prints: starts with a digit, no '/' or spaces)."
                        : "BpfKernelBtf '{0}': the kernel release cannot be told from the file name: name the file RELEASE.btf, RELEASE.btf.gz or RELEASE.btf.tar.xz after the kernel's `uname -r`, or set KernelRelease=\"...\" on the item.",
                    item.ItemSpec, given);
                continue;
            }
            string archDir = arch == null ? string.Empty : arch + "/";
            if (embed)
            {
                string key = archDir + release;
                if (seen.TryGetValue(key, out var other))
                {
                    Log.LogError(null, "EBPF103", null, item.ItemSpec, 0, 0, 0, 0,
                        "BpfKernelBtf '{0}' and '{1}' are both BTF of kernel {2}{3}: embed one BTF per kernel release{4}.",
                        item.ItemSpec, other, release, arch == null ? string.Empty : " (" + arch + ")",
                        arch == null ? " (a release two architectures share needs Architecture=\"x64\" or \"arm64\" on each item)" : " and architecture");
                    continue;
                }
                seen.Add(key, item.ItemSpec);
            }
            var r = new TaskItem(path);
            r.SetMetadata("Release", release ?? string.Empty);
            r.SetMetadata("Architecture", arch ?? string.Empty);
            r.SetMetadata("Embed", embed ? "true" : "false");
            r.SetMetadata("ResourceName", embed ? KernelBtfNames.EmbeddedResourceName(release!, arch) : string.Empty);
            r.SetMetadata("EncodedName", archDir + Path.GetFileName(path));
            string output = embed ? Path.Combine(IntermediateDir, "btf", archDir + release + ".btf.gz")
                : archive ? Path.Combine(IntermediateDir, "kernel", archDir + release + ".btf")
                : string.Empty;
            r.SetMetadata("WritePath", output);
            r.SetMetadata("GeneratorInput", output.Length > 0 ? output : path);
            result.Add(r);
        }
        Resolved = result.ToArray();
        return !Log.HasLoggedErrors;
    }

    /// <summary>The item's architecture (null: not known) and where it comes from; false after an error.</summary>
    private bool TryArchitecture(ITaskItem item, string path, string? release, out string? arch, out string from)
    {
        string given = item.GetMetadata("Architecture").Trim();
        if (given.Length > 0)
        {
            arch = CpuArchitecture.Normalize(given);
            from = "Architecture=\"" + given + "\"";
            if (arch == null)
                Log.LogError(null, "EBPF106", null, item.ItemSpec, 0, 0, 0, 0,
                    "BpfKernelBtf '{0}': Architecture '{1}' is not an architecture the runtime supports (x64 or arm64; also x86_64, amd64, aarch64).", item.ItemSpec, given);
            return arch != null;
        }
        string? byDir = KernelBtfNames.ArchitectureFromDirectory(path);
        string? byRelease = release == null ? null : KernelBtfNames.ArchitectureFromRelease(release);
        string dir = Path.GetFileName(Path.GetDirectoryName(path)) ?? string.Empty;
        if (byDir != null && byRelease != null && byDir != byRelease)
        {
            Log.LogError(null, "EBPF106", null, item.ItemSpec, 0, 0, 0, 0,
                "BpfKernelBtf '{0}': its directory '{1}' says {2} but its release {3} says {4}: set Architecture=\"x64\" or \"arm64\" on the item.",
                item.ItemSpec, dir, byDir, release, byRelease);
            arch = null;
            from = string.Empty;
            return false;
        }
        arch = byDir ?? byRelease;
        from = byDir != null ? "its directory '" + dir + "'" : byRelease != null ? "its release " + release : string.Empty;
        return true;
    }
}
