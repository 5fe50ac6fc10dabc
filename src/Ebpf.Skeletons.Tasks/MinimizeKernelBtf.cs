using System;
using System.Collections.Generic;
using System.IO;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Objects;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Ebpf.Skeletons.Tasks;

/// <summary>
/// For each resolved BpfKernelBtf item with a WritePath: reads the kernel BTF (raw, .gz, .tar.xz) and writes either
/// its minimized form for the project's BpfObjects (those of the kernel's architecture and the architecture-neutral
/// ones), gzip-compressed (Embed="true"), or the unpacked raw BTF
/// (a BTFHub archive the pre-flight must read). A file whose content would not change is left alone, so that
/// nothing downstream rebuilds.
/// </summary>
public sealed class MinimizeKernelBtf : Task
{
    [Required]
    public ITaskItem[] Kernels { get; set; } = Array.Empty<ITaskItem>();

    public ITaskItem[] Objects { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        List<(ITaskItem Item, BpfObjectSpec Spec)>? objects = null;
        var warned = new HashSet<string>(StringComparer.Ordinal);   // objects warned about (EBPF105): once each
        foreach (var k in Kernels)
        {
            string output = k.GetMetadata("WritePath");
            if (output.Length == 0)
                continue;
            string release = k.GetMetadata("Release");
            byte[] raw;
            BtfSpec spec;
            try
            {
                raw = KernelBtfFile.ReadRaw(k.ItemSpec);
                spec = BtfSpec.Parse(raw);
            }
            catch (Exception e) when (e is InvalidDataException or BpfFormatException or IOException or UnauthorizedAccessException)
            {
                Log.LogError(null, "EBPF104", null, k.ItemSpec, 0, 0, 0, 0, "BpfKernelBtf '{0}' cannot be read as kernel BTF: {1}", k.ItemSpec, e.Message);
                continue;
            }
            byte[] content;
            if (string.Equals(k.GetMetadata("Embed"), "true", StringComparison.Ordinal))
            {
                objects ??= ReadObjects();
                string arch = k.GetMetadata("Architecture");
                var minimizer = new CoreBtfMinimizer(spec, release);
                foreach (var (item, obj) in objects)
                {
                    // A kernel of one architecture serves the objects of that architecture and the neutral ones.
                    string objectArch = CpuArchitecture.Normalize(item.GetMetadata("EbpfArchitecture")) ?? string.Empty;
                    if (arch.Length > 0 && objectArch.Length > 0 && objectArch != arch)
                        continue;
                    var report = minimizer.Add(obj);
                    if (!warned.Add(item.ItemSpec))
                        continue;
                    foreach (var need in report.NeedsKernelBtf)
                        Log.LogWarning(null, "EBPF105", null, item.ItemSpec, 0, 0, 0, 0,
                            "BpfObject '{0}': {1}: that needs the kernel's own BTF, which the embedded minimized BTF cannot stand in for (on a kernel without BTF it fails to load).",
                            item.ItemSpec, need);
                }
                var min = minimizer.Build();
                content = Gzip.Compress(min.Bytes);
                Log.LogMessage(MessageImportance.Normal, "ebpf: kernel {0}{1}: {2} of {3} types kept, {4} bytes ({5} compressed) -> {6}",
                    release, arch.Length > 0 ? " (" + arch + ")" : string.Empty, min.TypeCount, min.KernelTypeCount, min.Bytes.Length, content.Length, output);
            }
            else
            {
                content = raw;
            }
            try
            {
                WriteIfChanged(output, content);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.LogError(null, "EBPF104", null, k.ItemSpec, 0, 0, 0, 0, "cannot write '{0}': {1}", output, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    private List<(ITaskItem, BpfObjectSpec)> ReadObjects()
    {
        var list = new List<(ITaskItem, BpfObjectSpec)>();
        foreach (var o in Objects)
        {
            string path = o.GetMetadata("FullPath");
            try
            {
                list.Add((o, BpfObjectSpec.Parse(File.ReadAllBytes(path), BpfObjectSpec.ObjectNameFromPath(path))));
            }
            catch (Exception e) when (e is BpfFormatException or IOException or UnauthorizedAccessException)
            {
                // The generator reports the object itself (EBPF001-EBPF003); its relocations cannot be served.
                Log.LogWarning(null, "EBPF104", null, o.ItemSpec, 0, 0, 0, 0,
                    "BpfObject '{0}' cannot be read, so the embedded kernel BTF does not cover it: {1}", o.ItemSpec, e.Message);
            }
        }
        return list;
    }

    /// <summary>Writes the file unless it already holds exactly these bytes; then only its time is touched (it is up to date).</summary>
    private static void WriteIfChanged(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) && new FileInfo(path).Length == content.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(content))
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return;
        }
        File.WriteAllBytes(path, content);
    }
}
