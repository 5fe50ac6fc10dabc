using System.Collections.Generic;
using System.Threading;
using Ebpf.Generator.Model;

namespace Ebpf.Generator.Parser;

/// <summary>
/// Joins one skeleton's model with what the user declared in C# for it (attributes on the partial class, partial
/// structs inside it): checks kinds and layouts (EBPF006, EBPF007, EBPF013, EBPF014) and produces the overrides the
/// emitter applies (map type arguments, user-owned structs, ring-buffer event readers).
/// </summary>
internal static class UserTypeChecker
{
    public static EmitInput Check(SkeletonResult result, IReadOnlyList<MapTypeUsage> usages, IReadOnlyList<UserStructDeclaration> structs,
        CancellationToken cancellationToken)
    {
        var model = result.Model;
        if (model is null)
            return new EmitInput(null, EmitOverrides.None, result.Diagnostics);

        var diagnostics = new List<DiagnosticInfo>(result.Diagnostics);
        var overrides = new List<MapTypeOverride>();
        var owned = new List<string>();
        var events = new List<RingBufferEventModel>();
        string cls = model.MetadataName;

        foreach (var u in usages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (u.ClassMetadataName != cls) continue;
            MapModel? map = null;
            foreach (var mm in model.Maps)
                if (mm.Name == u.MapName) { map = mm; break; }
            if (map is null)
            {
                var names = new List<string>();
                foreach (var mm in model.Maps)
                    if (!mm.IsInternal) names.Add(mm.Name);
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.UnknownMap, u.FilePath, u.Span, AttributeName(u.Use), u.MapName, model.ObjectName,
                    names.Count == 0 ? "none" : string.Join(", ", names)));
                continue;
            }
            CheckUsage(model, map, u, diagnostics, overrides, events);
        }

        foreach (var s in structs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (s.ClassMetadataName != cls) continue;
            TypeModel? type = null;
            foreach (var t in model.Types)
                if (t.Name == s.StructName && t.Kind != TypeModelKind.Enum) { type = t; break; }
            if (type is null) continue;     // the user's own nested struct, nothing generated under that name
            owned.Add(type.Name);
            string? diff = LayoutComparer.CompareFields(type, s.Layout);
            if (diff is not null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.TypeMismatch, s.FilePath, s.Span, $"Partial struct '{s.StructName}'", s.Layout.Display, type.CName, diff));
        }

        var o = overrides.Count == 0 && owned.Count == 0 && events.Count == 0
            ? EmitOverrides.None
            : new EmitOverrides(overrides.ToImmutableEquatableArray(), owned.ToImmutableEquatableArray(), events.ToImmutableEquatableArray());
        return new EmitInput(model, o, diagnostics.ToImmutableEquatableArray());
    }

    private static string AttributeName(UserTypeUse use) => use == UserTypeUse.RingBufferEvent ? "[BpfRingBufferEvent]" : "[BpfMapTypes]";

    private static void CheckUsage(SkeletonModel model, MapModel map, MapTypeUsage u, List<DiagnosticInfo> diagnostics,
        List<MapTypeOverride> overrides, List<RingBufferEventModel> events)
    {
        bool isRing = map.MapType is "Ringbuf" or "UserRingbuf";
        if (u.Use == UserTypeUse.RingBufferEvent)
        {
            if (!isRing)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.WrongMapKind, u.FilePath, u.Span, map.Name, map.MapType,
                    "it carries no ring-buffer events ([BpfRingBufferEvent] needs a BPF_MAP_TYPE_RINGBUF map; use [BpfMapTypes] for its key and value)"));
                return;
            }
            events.Add(new RingBufferEventModel(map.Name, map.PropertyName, u.Type.CSharp));
            // The BTF type of the event: the generated type of the same name (list the C struct in the Types metadata).
            string simple = u.Type.IsUnresolved ? u.Type.UnresolvedName ?? u.Type.Display : u.Type.Display;
            int dot = simple.LastIndexOf('.');
            if (dot >= 0) simple = simple.Substring(dot + 1);
            if (u.Type.IsUnresolved)
                return;
            foreach (var t in model.Types)
            {
                if (t.Name != simple || t.Kind == TypeModelKind.Enum) continue;
                string? diff = LayoutComparer.CompareFields(t, u.Type);
                if (diff is not null)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.TypeMismatch, u.FilePath, u.Span, $"Ring buffer '{map.Name}' event", u.Type.Display, t.CName, diff));
                return;
            }
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.UnknownType, u.FilePath, u.Span, simple,
                $"[BpfRingBufferEvent] on map '{map.Name}' (list the C struct in the BpfObject's Types metadata to have it generated and checked)", model.ObjectName));
            return;
        }

        if (isRing || map.Wrapper is MapWrapper.PerfEventArray)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.WrongMapKind, u.FilePath, u.Span, map.Name, map.MapType,
                isRing ? "it has no keys or values, only events ([BpfRingBufferEvent] names the event type)" : "it holds perf event file descriptors, not typed keys or values"));
            return;
        }
        if (u.PerCpu && !map.IsPerCpu)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.WrongMapKind, u.FilePath, u.Span, map.Name, map.MapType,
                "its values are not per-CPU (PerCpu = true needs BPF_MAP_TYPE_PERCPU_HASH, PERCPU_ARRAY or LRU_PERCPU_HASH)"));
            return;
        }
        bool keyless = map.MapType is "Queue" or "Stack" or "BloomFilter";
        if (u.Use == UserTypeUse.MapKey && keyless)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.WrongMapKind, u.FilePath, u.Span, map.Name, map.MapType, "it has no key"));
            return;
        }

        TypeRef? btf = u.Use == UserTypeUse.MapKey ? map.Key : map.Value;
        string what = $"Map '{map.Name}' {(u.Use == UserTypeUse.MapKey ? "key" : "value")}";
        string? diffText = null;
        string btfName;
        if (btf is not null)
        {
            btfName = btf.CName;
            diffText = LayoutComparer.Compare(btf, u.Type, model.Types);
        }
        else
        {
            int size = u.Use == UserTypeUse.MapKey ? map.KeySize : map.ValueSize;
            btfName = $"{size} bytes";
            if (!u.Type.IsUnresolved && u.Type.Size >= 0 && size != 0 && u.Type.Size != size)
                diffText = $"size differs: the map's {(u.Use == UserTypeUse.MapKey ? "key" : "value")} is {size} bytes, '{u.Type.Display}' is {u.Type.Size} bytes";
        }
        if (diffText is not null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.TypeMismatch, u.FilePath, u.Span, what, u.Type.Display, btfName, diffText));
        overrides.Add(u.Use == UserTypeUse.MapKey
            ? new MapTypeOverride(map.Name, u.Type.CSharp, null)
            : new MapTypeOverride(map.Name, null, u.Type.CSharp));
    }
}
