using System;
using System.Collections.Generic;
using System.Threading;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Generator.Model;
using Ebpf.Objects;

namespace Ebpf.Generator.Parser;

/// <summary>
/// A <c>BpfKernelBtf</c> item: one kernel's BTF listed for the CO-RE pre-flight, parsed once (its own pipeline step).
/// The running kernel's BTF is the runtime's business (<c>Ebpf.Kernel.KernelBtf</c>); both read BTF files through the
/// object layer's <see cref="BtfSource"/> (raw, ELF or gzip-compressed).
/// </summary>
internal sealed class KernelBtfInput : IEquatable<KernelBtfInput>
{
    public KernelBtfInput(string label, string? architecture, EquatableBytes content, BtfSpec? spec, string? error)
    {
        Label = label;
        Architecture = architecture;
        Content = content;
        Spec = spec;
        Error = error;
    }

    /// <summary>The file name, as messages name the kernel.</summary>
    public string Label { get; }
    /// <summary>The kernel's architecture (x64, arm64) when the build knows it; null: checked against every object.</summary>
    public string? Architecture { get; }
    /// <summary>The file's bytes as given (identity of this input).</summary>
    public EquatableBytes Content { get; }
    public BtfSpec? Spec { get; }
    public string? Error { get; }

    /// <summary>Reads raw or gzip-compressed BTF (or an ELF with .BTF).</summary>
    public static KernelBtfInput Parse(string label, string? architecture, EquatableBytes content, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        try
        {
            return new KernelBtfInput(label, architecture, content, BtfSource.Parse(content.GetArrayUnsafe()), null);
        }
        catch (BpfFormatException e)
        {
            return new KernelBtfInput(label, architecture, content, null, e.Message);
        }
    }

    // Equality by content: the parsed spec follows from it.
    public bool Equals(KernelBtfInput? other) => other is not null && other.Label == Label && other.Architecture == Architecture && other.Content.Equals(Content);

    public override bool Equals(object? obj) => obj is KernelBtfInput k && Equals(k);

    public override int GetHashCode() => Content.GetHashCode() ^ Label.GetHashCode();
}

/// <summary>
/// Build-time CO-RE check: resolves the object's relocations against each listed kernel BTF with the shared
/// resolver, and warns (EBPF012) for each relocation that the loader would poison or refuse on that kernel. An object
/// of one architecture (Architecture metadata) is checked against the kernels of that architecture and those whose
/// architecture the build does not know: an x64 object never runs on an arm64 kernel.
/// </summary>
internal static class CorePreflight
{
    public static ImmutableEquatableArray<DiagnosticInfo> Check(string itemPath, string objectName, string? objectArchitecture, ReadOnlyMemory<byte> bytes,
        IReadOnlyList<KernelBtfInput> allKernels, CancellationToken ct)
    {
        string? architecture = CpuArchitecture.Normalize(objectArchitecture);
        var kernels = new List<KernelBtfInput>(allKernels.Count);
        foreach (var k in allKernels)
        {
            if (architecture is null || k.Architecture is null || k.Architecture == architecture)
                kernels.Add(k);
        }
        if (kernels.Count == 0)
            return ImmutableEquatableArray<DiagnosticInfo>.Empty;
        var diagnostics = new List<DiagnosticInfo>();
        foreach (var k in kernels)
        {
            if (k.Spec is null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.BadKernelBtf, itemPath, k.Label, k.Error ?? "unknown error"));
        }

        BpfObjectSpec spec;
        try
        {
            spec = BpfObjectSpec.Parse(bytes, objectName, ct);
        }
        catch (BpfFormatException)
        {
            return diagnostics.ToImmutableEquatableArray();    // the model step reports it
        }
        if (spec.Btf is null || spec.BtfExt is null)
            return diagnostics.ToImmutableEquatableArray();
        bool any = false;
        foreach (var s in spec.BtfExt.CoreRelos)
            if (s.Records.Count > 0) any = true;
        if (!any)
            return diagnostics.ToImmutableEquatableArray();

        foreach (var k in kernels)
        {
            ct.ThrowIfCancellationRequested();
            if (k.Spec is null) continue;
            CoreRelocationReport report;
            try
            {
                report = CoreRelocator.RelocateObject(spec.Elf, spec.Btf, spec.BtfExt, new CoreTargets(k.Spec, k.Label), ct);
            }
            catch (BpfFormatException e)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.BadKernelBtf, itemPath, k.Label, e.Message));
                continue;
            }
            // Programs that test for fields, types or enumerators (bpf_core_*_exists) are taken to guard their
            // accesses: a poisoned relocation there is normally dead code on that kernel.
            var probing = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in report.Results)
            {
                if (r.Kind is CoreReloKind.FieldExists or CoreReloKind.TypeExists or CoreReloKind.EnumValueExists or CoreReloKind.TypeMatches)
                    probing.Add(r.Program ?? r.Section);
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in report.Results)
            {
                if (r.Status is not (CoreRelocationStatus.Poisoned or CoreRelocationStatus.Failed))
                    continue;
                if (r.Status == CoreRelocationStatus.Poisoned && probing.Contains(r.Program ?? r.Section))
                    continue;
                string what = r.FieldPath is { Length: > 0 } fp ? $"'{fp}'" : $"'{r.LocalTypeName}'";
                string program = r.Program ?? r.Section;
                string key = what + "|" + program;
                if (!seen.Add(key)) continue;   // one warning per access and program, not per instruction
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.CorePreflight, itemPath, what, program, k.Label, r.Error ?? "unresolvable"));
            }
        }
        return diagnostics.ToImmutableEquatableArray();
    }
}
