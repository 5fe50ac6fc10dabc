using System;
using System.Collections.Generic;
using System.IO;
using Ebpf.Btf;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Ebpf.Skeletons.Tasks;

/// <summary>
/// Names each BpfKernelBtf item's kernel release (<c>KernelRelease</c> metadata, else the file name:
/// <c>RELEASE.btf</c>, <c>RELEASE.btf.gz</c>, <c>RELEASE.btf.tar.xz</c>) and decides what the build makes of it:
/// with <c>Embed="true"</c> a minimized <c>btf/RELEASE.btf.gz</c> (embedded, and what the generator's CO-RE
/// pre-flight reads); a BTFHub archive unpacked to <c>kernel/RELEASE.btf</c> for the pre-flight; raw and .gz
/// files go to the pre-flight as they are. Cheap: reads at most 6 bytes per file.
/// </summary>
public sealed class ResolveKernelBtf : Task
{
    [Required]
    public ITaskItem[] KernelBtf { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>obj/…/ebpf/ (ends with a separator).</summary>
    [Required]
    public string IntermediateDir { get; set; } = string.Empty;

    /// <summary>The items with metadata Release, Embed, Output (what <see cref="MinimizeKernelBtf"/> writes, or empty) and GeneratorInput.</summary>
    [Output]
    public ITaskItem[] Resolved { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        var result = new List<ITaskItem>();
        var embedded = new Dictionary<string, string>(StringComparer.Ordinal);
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
            if (embed)
            {
                if (embedded.TryGetValue(release!, out var other))
                {
                    Log.LogError(null, "EBPF103", null, item.ItemSpec, 0, 0, 0, 0,
                        "BpfKernelBtf '{0}' and '{1}' are both BTF of kernel {2}: embed one BTF per kernel release.", item.ItemSpec, other, release);
                    continue;
                }
                embedded.Add(release!, item.ItemSpec);
            }
            var r = new TaskItem(path);
            r.SetMetadata("Release", release ?? string.Empty);
            r.SetMetadata("Embed", embed ? "true" : "false");
            r.SetMetadata("Label", Path.GetFileName(path));
            string output = embed ? Path.Combine(IntermediateDir, "btf", release + ".btf.gz")
                : archive ? Path.Combine(IntermediateDir, "kernel", release + ".btf")
                : string.Empty;
            r.SetMetadata("WritePath", output);
            r.SetMetadata("GeneratorInput", output.Length > 0 ? output : path);
            result.Add(r);
        }
        Resolved = result.ToArray();
        return !Log.HasLoggedErrors;
    }
}
