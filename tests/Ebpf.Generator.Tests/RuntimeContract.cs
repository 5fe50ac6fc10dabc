using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ebpf.Tests;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ebpf.Generator.Tests;

/// <summary>
/// The runtime API generated code compiles against: the real Ebpf.Runtime.dll plus the types of
/// TestData/RuntimeContractStub.cs that the runtime does not define yet.
/// </summary>
public static class RuntimeContract
{
    public static string StubPath => Path.Combine(TestEnvironment.RepoRoot, "tests", "Ebpf.Generator.Tests", "TestData", "RuntimeContractStub.cs");

    /// <summary>The stub reduced to the types <paramref name="references"/> lack; empty when the runtime has them all.</summary>
    public static string StubFor(IEnumerable<MetadataReference> references, out IReadOnlyList<string> stubbed)
    {
        var refs = references.ToList();
        var probe = CSharpCompilation.Create("probe", references: refs);
        var tree = CSharpSyntaxTree.ParseText(File.ReadAllText(StubPath), GeneratorHarness.ParseOptions);
        var root = (CompilationUnitSyntax)tree.GetRoot();
        var ns = root.Members.OfType<BaseNamespaceDeclarationSyntax>().Single();
        var keep = new List<string>();
        var remove = new List<MemberDeclarationSyntax>();
        foreach (var member in ns.Members.OfType<TypeDeclarationSyntax>())
        {
            string metadataName = ns.Name + "." + member.Identifier.ValueText + (member.TypeParameterList is { } tp ? "`" + tp.Parameters.Count : string.Empty);
            if (probe.GetTypeByMetadataName(metadataName) is null)
                keep.Add(metadataName);
            else
                remove.Add(member);
        }
        stubbed = keep;
        if (keep.Count == 0)
            return string.Empty;
        var newNs = ns.RemoveNodes(remove, SyntaxRemoveOptions.KeepNoTrivia)!;
        return root.ReplaceNode(ns, newNs).ToFullString();
    }

    public static IEnumerable<MetadataReference> ReferencesFor(string tfm) => tfm switch
    {
        "net8.0" => References.Net80WithRuntime,
        "net10.0" => References.Net100WithRuntime,
        _ => throw new ArgumentException(tfm),
    };
}
