using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Ebpf.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Ebpf.Generator.UserTypes;

/// <summary>
/// Reads what the user wrote about a skeleton (attributes, partial structs) into equatable layout models, in the
/// syntax-provider transforms: sizes, offsets and kinds are computed here from the semantic model and no symbol
/// leaves this class.
/// </summary>
internal static class UserTypeReader
{
    private const int MaxDepth = 16;

    public static ImmutableEquatableArray<MapTypeUsage> ReadAttributes(GeneratorAttributeSyntaxContext context, UserTypeUse defaultUse, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol cls)
            return ImmutableEquatableArray<MapTypeUsage>.Empty;
        string className = MetadataName(cls);
        var result = new List<MapTypeUsage>();
        foreach (var attr in context.Attributes)
        {
            ct.ThrowIfCancellationRequested();
            if (attr.ConstructorArguments.Length == 0 || attr.ConstructorArguments[0].Value is not string mapName)
                continue;
            var syntax = attr.ApplicationSyntaxReference?.GetSyntax(ct);
            string path = syntax?.SyntaxTree.FilePath ?? string.Empty;
            LineSpan? span = syntax is null ? null : ToLineSpan(syntax);
            if (defaultUse == UserTypeUse.RingBufferEvent)
            {
                if (attr.ConstructorArguments.Length > 1 && attr.ConstructorArguments[1].Value is ITypeSymbol ev)
                    result.Add(new MapTypeUsage(className, path, span, UserTypeUse.RingBufferEvent, mapName, false, Layout(ev, 0)));
                continue;
            }
            bool perCpu = false;
            ITypeSymbol? key = null, value = null;
            foreach (var named in attr.NamedArguments)
            {
                switch (named.Key)
                {
                    case "Key": key = named.Value.Value as ITypeSymbol; break;
                    case "Value": value = named.Value.Value as ITypeSymbol; break;
                    case "PerCpu": perCpu = named.Value.Value is true; break;
                }
            }
            if (key is not null)
                result.Add(new MapTypeUsage(className, path, span, UserTypeUse.MapKey, mapName, perCpu, Layout(key, 0)));
            if (value is not null)
                result.Add(new MapTypeUsage(className, path, span, UserTypeUse.MapValue, mapName, perCpu, Layout(value, 0)));
        }
        return result.ToImmutableEquatableArray();
    }

    /// <summary>Syntax filter: a partial struct with at least one field, directly inside a partial class.</summary>
    public static bool IsCandidateStruct(SyntaxNode node, CancellationToken _)
    {
        if (node is not StructDeclarationSyntax s || s.Parent is not ClassDeclarationSyntax c)
            return false;
        if (!HasPartial(s.Modifiers) || !HasPartial(c.Modifiers))
            return false;
        foreach (var m in s.Members)
            if (m is FieldDeclarationSyntax) return true;
        return false;
    }

    private static bool HasPartial(SyntaxTokenList modifiers)
    {
        foreach (var t in modifiers)
            if (t.ValueText == "partial") return true;
        return false;
    }

    public static UserStructDeclaration? ReadStruct(GeneratorSyntaxContext context, CancellationToken ct)
    {
        if (context.SemanticModel.GetDeclaredSymbol(context.Node, ct) is not INamedTypeSymbol st || st.ContainingType is not { } cls)
            return null;
        bool hasInstanceField = false;
        foreach (var m in st.GetMembers())
            if (m is IFieldSymbol { IsStatic: false, IsConst: false }) hasInstanceField = true;
        if (!hasInstanceField)
            return null;
        var syntax = (StructDeclarationSyntax)context.Node;
        return new UserStructDeclaration(MetadataName(cls), st.Name, syntax.SyntaxTree.FilePath, ToLineSpan(syntax, syntax.Identifier.Span),
            Layout(st, 0));
    }

    private static string MetadataName(INamedTypeSymbol t)
    {
        var ns = t.ContainingNamespace;
        string name = t.Name;
        if (ns is null || ns.IsGlobalNamespace) return name;
        return ns.ToDisplayString() + "." + name;
    }

    private static LineSpan ToLineSpan(SyntaxNode node) => ToLineSpan(node, node.Span);

    private static LineSpan ToLineSpan(SyntaxNode node, Microsoft.CodeAnalysis.Text.TextSpan span)
    {
        var lines = node.SyntaxTree.GetLineSpan(span);
        return new LineSpan(span.Start, span.Length, lines.StartLinePosition.Line, lines.StartLinePosition.Character,
            lines.EndLinePosition.Line, lines.EndLinePosition.Character);
    }

    // ------------------------------------------------------------------ layouts

    private static readonly SymbolDisplayFormat Qualified = SymbolDisplayFormat.FullyQualifiedFormat;

    private static UserTypeLayout Simple(ITypeSymbol t, int size, ValueKind kind) =>
        new UserTypeLayout(t.ToDisplayString(), t.ToDisplayString(Qualified), size, kind, ImmutableEquatableArray<UserFieldLayout>.Empty, false, null);

    /// <summary>The layout of a type as the CLR lays it out (sequential: natural alignment and Pack; explicit: FieldOffset).</summary>
    public static UserTypeLayout Layout(ITypeSymbol t, int depth)
    {
        var (layout, _) = LayoutWithAlignment(t, depth);
        return layout;
    }

    private static (UserTypeLayout Layout, int Alignment) LayoutWithAlignment(ITypeSymbol t, int depth)
    {
        switch (t.SpecialType)
        {
            case SpecialType.System_Boolean: return (Simple(t, 1, ValueKind.Bool), 1);
            case SpecialType.System_Byte: return (Simple(t, 1, ValueKind.UnsignedInteger), 1);
            case SpecialType.System_SByte: return (Simple(t, 1, ValueKind.SignedInteger), 1);
            case SpecialType.System_Int16: return (Simple(t, 2, ValueKind.SignedInteger), 2);
            case SpecialType.System_UInt16: return (Simple(t, 2, ValueKind.UnsignedInteger), 2);
            case SpecialType.System_Char: return (Simple(t, 2, ValueKind.UnsignedInteger), 2);
            case SpecialType.System_Int32: return (Simple(t, 4, ValueKind.SignedInteger), 4);
            case SpecialType.System_UInt32: return (Simple(t, 4, ValueKind.UnsignedInteger), 4);
            case SpecialType.System_Int64: return (Simple(t, 8, ValueKind.SignedInteger), 8);
            case SpecialType.System_UInt64: return (Simple(t, 8, ValueKind.UnsignedInteger), 8);
            case SpecialType.System_IntPtr: return (Simple(t, 8, ValueKind.SignedInteger), 8);
            case SpecialType.System_UIntPtr: return (Simple(t, 8, ValueKind.UnsignedInteger), 8);
            case SpecialType.System_Single: return (Simple(t, 4, ValueKind.Float), 4);
            case SpecialType.System_Double: return (Simple(t, 8, ValueKind.Float), 8);
        }
        if (t is IPointerTypeSymbol || t is IFunctionPointerTypeSymbol)
            return (Simple(t, 8, ValueKind.Pointer), 8);
        if (t.TypeKind == TypeKind.Error)
        {
            return (new UserTypeLayout(t.ToDisplayString(), t.ToDisplayString(Qualified), -1, ValueKind.Opaque,
                ImmutableEquatableArray<UserFieldLayout>.Empty, true, t.Name), 1);
        }
        if (t is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } u })
        {
            var (ul, ua) = LayoutWithAlignment(u, depth);
            return (Simple(t, ul.Size, ValueKind.Enum), ua);
        }
        if (t is INamedTypeSymbol named && t.IsValueType)
        {
            string full = t.ToDisplayString();
            if (full is "System.Int128") return (Simple(t, 16, ValueKind.SignedInteger), 16);
            if (full is "System.UInt128") return (Simple(t, 16, ValueKind.UnsignedInteger), 16);
            if (full is "System.Half") return (Simple(t, 2, ValueKind.Float), 2);
            if (depth < MaxDepth)
                return StructLayout(named, depth);
        }
        return (new UserTypeLayout(t.ToDisplayString(), t.ToDisplayString(Qualified), -1, ValueKind.Opaque,
            ImmutableEquatableArray<UserFieldLayout>.Empty, false, null), 1);
    }

    private static (UserTypeLayout, int) StructLayout(INamedTypeSymbol t, int depth)
    {
        string display = t.ToDisplayString();
        string qualified = t.ToDisplayString(Qualified);
        int? inlineLength = null;
        bool explicitLayout = false;
        int pack = 0;
        int declaredSize = 0;
        foreach (var a in t.GetAttributes())
        {
            string? an = a.AttributeClass?.ToDisplayString();
            if (an == "System.Runtime.CompilerServices.InlineArrayAttribute" && a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is int n)
                inlineLength = n;
            else if (an == "System.Runtime.InteropServices.StructLayoutAttribute")
            {
                if (a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is int kind)
                    explicitLayout = kind == 2;     // LayoutKind.Explicit
                foreach (var na in a.NamedArguments)
                {
                    if (na.Key == "Pack" && na.Value.Value is int p) pack = p;
                    else if (na.Key == "Size" && na.Value.Value is int s) declaredSize = s;
                }
            }
        }
        // Layout-relevant attributes are not visible as attributes for StructLayout (pseudo-custom attribute
        // in metadata): fall back to the symbol's own layout info when it comes from metadata.
        var fields = new List<IFieldSymbol>();
        foreach (var m in t.GetMembers())
            if (m is IFieldSymbol { IsStatic: false, IsConst: false } f) fields.Add(f);

        if (inlineLength is int len && fields.Count == 1)
        {
            var (elem, ea) = LayoutWithAlignment(fields[0].Type, depth + 1);
            int size = elem.Size < 0 ? -1 : elem.Size * len;
            return (new UserTypeLayout(display, qualified, size, ValueKind.Array, ImmutableEquatableArray<UserFieldLayout>.Empty, false, null) , ea);
        }

        var result = new List<UserFieldLayout>();
        int offset = 0;
        int maxAlign = 1;
        int end = 0;
        bool unknown = false;
        foreach (var f in fields)
        {
            UserTypeLayout fl;
            int align;
            int count = 0;
            if (f.IsFixedSizeBuffer && f.Type is IPointerTypeSymbol ptr)
            {
                var (el, a) = LayoutWithAlignment(ptr.PointedAtType, depth + 1);
                count = f.FixedSize;
                fl = new UserTypeLayout(el.Display + "[" + count + "]", el.CSharp, el.Size < 0 ? -1 : el.Size * count, ValueKind.Array,
                    ImmutableEquatableArray<UserFieldLayout>.Empty, false, null);
                align = a;
            }
            else
            {
                (fl, align) = LayoutWithAlignment(f.Type, depth + 1);
            }
            if (pack > 0) align = Math.Min(align, pack);
            maxAlign = Math.Max(maxAlign, align);

            int fieldOffset;
            if (explicitLayout)
            {
                fieldOffset = -1;
                foreach (var a in f.GetAttributes())
                {
                    if (a.AttributeClass?.ToDisplayString() == "System.Runtime.InteropServices.FieldOffsetAttribute"
                        && a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is int fo)
                        fieldOffset = fo;
                }
            }
            else if (unknown)
            {
                fieldOffset = -1;
            }
            else
            {
                offset = Align(offset, align);
                fieldOffset = offset;
                if (fl.Size < 0) unknown = true;
                else offset += fl.Size;
            }
            if (fieldOffset >= 0 && fl.Size >= 0)
                end = Math.Max(end, fieldOffset + fl.Size);
            else if (fl.Size < 0)
                unknown = true;
            if (fl.Kind == ValueKind.Array && count == 0 && fl.Size > 0)
                count = -1;
            result.Add(new UserFieldLayout(f.Name, fieldOffset, fl.Size, fl.Kind, fl.Display, count));
        }
        int total;
        if (unknown)
            total = -1;
        else if (explicitLayout)
            total = declaredSize > 0 ? Math.Max(end, declaredSize) : Align(Math.Max(end, 1), maxAlign);
        else
            total = Align(Math.Max(Math.Max(end, declaredSize), 1), maxAlign);
        return (new UserTypeLayout(display, qualified, total, ValueKind.Struct, result.ToImmutableEquatableArray(), false, null), maxAlign);
    }

    private static int Align(int value, int alignment) => alignment <= 1 ? value : (value + alignment - 1) / alignment * alignment;
}
