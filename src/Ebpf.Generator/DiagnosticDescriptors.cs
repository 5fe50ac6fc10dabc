using System.Collections.Generic;
using Ebpf.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Ebpf.Generator;

/// <summary>Roslyn descriptors for the catalog in <see cref="DiagnosticKind"/> (ids EBPF001...).</summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "Ebpf.Skeletons";

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = Build();

    private static Dictionary<string, DiagnosticDescriptor> Build()
    {
        var d = new Dictionary<string, DiagnosticDescriptor>();
        foreach (var k in DiagnosticKind.All)
        {
            d.Add(k.Id, new DiagnosticDescriptor(k.Id, k.Title, k.MessageFormat, Category,
                k.Level == DiagnosticLevel.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
                isEnabledByDefault: true, description: k.Description));
        }
        return d;
    }

    public static DiagnosticDescriptor Get(string id) => s_byId[id];

    public static IEnumerable<DiagnosticDescriptor> All => s_byId.Values;

    /// <summary>Builds the Roslyn diagnostic at report time (models keep a path string, never a Location).</summary>
    public static Diagnostic ToDiagnostic(DiagnosticInfo info)
    {
        Location location;
        if (info.Span is { } s)
        {
            location = Location.Create(info.FilePath, new TextSpan(s.Start, s.Length),
                new LinePositionSpan(new LinePosition(s.StartLine, s.StartCharacter), new LinePosition(s.EndLine, s.EndCharacter)));
        }
        else
        {
            location = info.FilePath.Length == 0 ? Location.None : Location.Create(info.FilePath, default, default);
        }
        var args = new object[info.Args.Count];
        for (int i = 0; i < args.Length; i++) args[i] = info.Args[i];
        return Diagnostic.Create(Get(info.Id), location, args);
    }
}
