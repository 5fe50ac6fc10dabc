using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Ebpf.Generator.Model;

namespace Ebpf.Generator.Parser;

/// <summary>
/// Per-architecture objects: BpfObject items with <c>Architecture</c> metadata that generate the same class are one
/// skeleton. Their models must agree (same maps, programs, globals and types: the C differs only where the
/// architecture shows, pt_regs or syscall wrapper names); the skeleton embeds each one and <c>Open()</c> takes the
/// object of the process's architecture (<c>RuntimeInformation.ProcessArchitecture</c>). A build for one
/// RuntimeIdentifier embeds only that architecture's object (Ebpf.Skeletons.targets drops the others).
/// </summary>
internal static class ArchitectureVariants
{
    /// <summary>The architectures a variant may name, as .NET's <c>Architecture</c> enum spells them.</summary>
    public static readonly IReadOnlyList<string> Known = new[] { "X64", "Arm64" };

    /// <summary>
    /// The canonical name for an Architecture metadata value (x64/x86_64/amd64, arm64/aarch64; any case), null for
    /// none; false when the value names no architecture the runtime supports.
    /// </summary>
    public static bool TryNormalize(string? value, out string? architecture)
    {
        architecture = null;
        if (value is null || value.Trim().Length == 0)
            return true;
        architecture = CpuArchitecture.Normalize(value) switch
        {
            CpuArchitecture.X64 => "X64",
            CpuArchitecture.Arm64 => "Arm64",
            _ => null,
        };
        return architecture is not null;
    }

    /// <summary>
    /// Groups the variants of each class into one result. Everything else passes through unchanged; classes whose
    /// items name the same architecture twice (or mix variants with an architecture-neutral item) also pass through,
    /// and the duplicate check reports them (EBPF018).
    /// </summary>
    public static ImmutableArray<SkeletonResult> Merge(ImmutableArray<SkeletonResult> results, CancellationToken ct)
    {
        var output = ImmutableArray.CreateBuilder<SkeletonResult>(results.Length);
        var groups = new Dictionary<string, List<SkeletonResult>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var r in results)
        {
            if (r.Model is null)
            {
                output.Add(r);
                continue;
            }
            string key = r.Model.MetadataName;
            if (!groups.TryGetValue(key, out var list))
            {
                groups.Add(key, list = new List<SkeletonResult>());
                order.Add(key);
            }
            list.Add(r);
        }
        foreach (var key in order)
        {
            ct.ThrowIfCancellationRequested();
            var list = groups[key];
            if (list.Count == 1 || !AreDistinctVariants(list))
            {
                output.AddRange(list);
                continue;
            }
            output.Add(Combine(list));
        }
        return output.ToImmutable();
    }

    private static bool AreDistinctVariants(List<SkeletonResult> list)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in list)
        {
            if (r.Model!.Variants.Count != 1 || !seen.Add(r.Model.Variants[0].Architecture))
                return false;
        }
        return true;
    }

    private static SkeletonResult Combine(List<SkeletonResult> list)
    {
        list.Sort(static (a, b) => string.CompareOrdinal(a.Model!.ItemPath, b.Model!.ItemPath));
        var primary = list[0].Model!;
        var diagnostics = new List<DiagnosticInfo>();
        var variants = new List<ArchitectureVariant>();
        foreach (var r in list)
        {
            diagnostics.AddRange(r.Diagnostics);
            variants.Add(r.Model!.Variants[0]);
            if (!ReferenceEquals(r.Model, primary) && Difference(primary, r.Model) is { } what)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.VariantsDiffer, r.Model.ItemPath,
                    primary.ItemPath, primary.Variants[0].Architecture, r.Model.ItemPath, r.Model.Variants[0].Architecture, primary.MetadataName, what));
            }
        }
        variants.Sort(static (a, b) => Rank(a.Architecture).CompareTo(Rank(b.Architecture)));
        return new SkeletonResult(primary with { Variants = variants.ToImmutableEquatableArray() }, diagnostics.ToImmutableEquatableArray());
    }

    private static int Rank(string architecture)
    {
        for (int i = 0; i < Known.Count; i++)
            if (Known[i] == architecture) return i;
        return Known.Count;
    }

    /// <summary>What differs between two variants' models (null: nothing that shows in the skeleton's API).</summary>
    private static string? Difference(SkeletonModel a, SkeletonModel b)
    {
        if (a.ObjectName != b.ObjectName) return $"object name ('{a.ObjectName}', '{b.ObjectName}')";
        if (a.IsBigEndian != b.IsBigEndian) return "byte order";
        if (a.License != b.License) return "license";
        if (!a.Maps.Equals(b.Maps)) return "maps" + FirstDifference(a.Maps, b.Maps, static m => m.Name);
        if (!Programs(a).Equals(Programs(b))) return "programs" + FirstDifference(Programs(a), Programs(b), static p => p.Name);
        if (!a.Sections.Equals(b.Sections)) return "global variables" + FirstDifference(a.Sections, b.Sections, static s => s.SectionName);
        if (!a.Types.Equals(b.Types)) return "types" + FirstDifference(a.Types, b.Types, static t => t.CName);
        if (!a.InlineArrayLengths.Equals(b.InlineArrayLengths)) return "array types";
        return null;
    }

    /// <summary>Programs without their section names: those may name the architecture (kprobe.multi/__x64_sys_...).</summary>
    private static ImmutableEquatableArray<ProgramModel> Programs(SkeletonModel m)
    {
        var list = new List<ProgramModel>(m.Programs.Count);
        foreach (var p in m.Programs)
            list.Add(p with { SectionName = string.Empty });
        return list.ToImmutableEquatableArray();
    }

    private static string FirstDifference<T>(ImmutableEquatableArray<T> a, ImmutableEquatableArray<T> b, Func<T, string> name)
        where T : IEquatable<T>
    {
        int n = Math.Min(a.Count, b.Count);
        for (int i = 0; i < n; i++)
        {
            if (!a[i].Equals(b[i]))
                return $" ('{name(a[i])}' / '{name(b[i])}')";
        }
        return $" ({a.Count} / {b.Count})";
    }
}
