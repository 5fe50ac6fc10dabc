using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using Ebpf.Tests;

namespace Ebpf.Runtime.Tests.Reliability;

/// <summary>
/// What the kernel still holds of ours. Other processes on the machine may load the same objects (same program and
/// map names), so "ours" means the ids our loads were given, checked against bpftool's lists, and the BPF and
/// perf-event descriptors of this process.
/// </summary>
internal static class KernelObjectAudit
{
    /// <summary>Descriptors of this process that refer to BPF objects or perf events.</summary>
    public static int BpfDescriptorCount() => TestEnvironment.CountFds(target =>
        target != null && (target.StartsWith("anon_inode:bpf", StringComparison.Ordinal) || target == "anon_inode:[perf_event]"));

    /// <summary>"prog_id", "map_id" or "link_id" of a BPF descriptor of this process (from /proc/self/fdinfo), or 0.</summary>
    public static uint IdOfDescriptor(int fd, out string kind)
    {
        kind = string.Empty;
        try
        {
            foreach (var line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
            {
                foreach (var k in new[] { "prog_id:", "map_id:", "link_id:" })
                {
                    if (line.StartsWith(k, StringComparison.Ordinal) && uint.TryParse(line.AsSpan(k.Length).Trim(), out uint id))
                    {
                        kind = k.Substring(0, k.IndexOf('_', StringComparison.Ordinal));
                        return id;
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    /// <summary>Ids bpftool lists for "prog", "map" or "link"; null when bpftool is not installed.</summary>
    public static HashSet<uint>? Listed(string kind)
    {
        var bpftool = TestEnvironment.Which("bpftool");
        if (bpftool == null) return null;
        var r = TestEnvironment.Run(bpftool, new[] { "-j", kind, "show" });
        var ids = new HashSet<uint>();
        if (r.ExitCode != 0 || r.StdOut.Trim().Length == 0) return ids;
        using var doc = JsonDocument.Parse(r.StdOut);
        foreach (var e in doc.RootElement.EnumerateArray())
            if (e.TryGetProperty("id", out var id)) ids.Add(id.GetUInt32());
        return ids;
    }

    /// <summary>
    /// The ids among <paramref name="ours"/> ("prog"/"map"/"link" → ids) that bpftool still lists, polled for a few
    /// seconds (objects leave the lists after an RCU grace period); empty when none, null without bpftool.
    /// </summary>
    public static List<string>? StillListed(IReadOnlyDictionary<string, HashSet<uint>> ours)
    {
        List<string>? left = null;
        for (int attempt = 0; attempt < 50; attempt++)
        {
            left = new List<string>();
            foreach (var (kind, ids) in ours)
            {
                var listed = Listed(kind);
                if (listed == null) return null;
                foreach (var id in ids)
                    if (listed.Contains(id)) left.Add($"{kind} {id}");
            }
            if (left.Count == 0) return left;
            System.Threading.Thread.Sleep(100);
        }
        return left;
    }
}
