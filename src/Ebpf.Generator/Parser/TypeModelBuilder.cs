using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Ebpf.Btf;
using Ebpf.Generator.Model;

namespace Ebpf.Generator.Parser;

/// <summary>
/// Turns BTF types into C# type references and generated type models. Only what is reachable by value is generated:
/// pointers are 64-bit addresses (<c>ulong</c>) and are not followed; typedefs resolve to their target (a typedef of an
/// anonymous struct names it); anonymous struct/union members are flattened into their parent at their offsets, as C
/// exposes them; arrays become <c>InlineArrayN&lt;T&gt;</c>.
/// </summary>
internal sealed class TypeModelBuilder
{
    private readonly BtfSpec _btf;
    private readonly string _skeleton;          // "global::Ns.Class"
    private readonly NameScope _typeNames;
    private readonly bool _bigEndian;
    private readonly string _itemPath;
    private readonly CancellationToken _cancellationToken;
    private readonly Dictionary<int, TypeRef> _byId = new Dictionary<int, TypeRef>();
    private readonly Queue<(BtfComposite Type, string Name, string CName)> _pending = new Queue<(BtfComposite, string, string)>();
    private readonly List<TypeModel> _types = new List<TypeModel>();
    private readonly SortedSet<int> _inlineLengths = new SortedSet<int>();
    private readonly List<DiagnosticInfo> _diagnostics;

    public TypeModelBuilder(BtfSpec btf, string skeletonFullName, NameScope typeNames, bool bigEndian, string itemPath,
        List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        _btf = btf;
        _skeleton = skeletonFullName;
        _typeNames = typeNames;
        _bigEndian = bigEndian;
        _itemPath = itemPath;
        _diagnostics = diagnostics;
        _cancellationToken = cancellationToken;
    }

    public IReadOnlyList<TypeModel> Types => _types;

    public IEnumerable<int> InlineArrayLengths => _inlineLengths;

    /// <summary>Builds every type queued by <see cref="Resolve"/> (and the types those reach).</summary>
    public void Complete()
    {
        while (_pending.Count > 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var (type, name, cname) = _pending.Dequeue();
            _types.Add(BuildComposite(type, name, cname));
        }
    }

    /// <summary>Finds a named struct, union, enum or typedef ("event", "struct event", "enum state").</summary>
    public int FindNamedType(string name)
    {
        name = name.Trim();
        BtfKind? only = null;
        foreach (var (prefix, kind) in new[] { ("struct ", BtfKind.Struct), ("union ", BtfKind.Union), ("enum ", BtfKind.Enum), ("typedef ", BtfKind.Typedef) })
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                name = name.Substring(prefix.Length).Trim();
                only = kind;
                break;
            }
        }
        int fallback = 0;
        foreach (int id in _btf.FindByName(name))
        {
            var kind = _btf.GetKind(id);
            if (only.HasValue)
            {
                if (kind == only.Value || (only.Value == BtfKind.Enum && kind == BtfKind.Enum64)) return id;
                continue;
            }
            if (kind is BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64)
                return id;
            if (kind == BtfKind.Typedef && fallback == 0)
                fallback = id;
        }
        return fallback;
    }

    /// <summary>The C# reference for a BTF type id; <paramref name="hint"/> names an anonymous struct, union or enum.</summary>
    public TypeRef Resolve(int id, string hint) => Resolve(id, hint, 0);

    private TypeRef Resolve(int id, string hint, int depth)
    {
        if (depth > BtfSpec.MaxResolveDepth * 4)
            return Opaque(0, "?");
        var t = _btf.TypeById(id);
        string? typedefName = null;
        for (int guard = 0; guard < BtfSpec.MaxResolveDepth; guard++)
        {
            if (t is BtfModifier m)
                t = m.Target;
            else if (t is BtfTypedef td)
            {
                typedefName ??= td.Name;
                t = td.Target;
            }
            else break;
        }

        switch (t)
        {
            case BtfInt i:
                return Primitive(i, typedefName);
            case BtfFloat f:
                return f.Size switch
                {
                    4 => new TypeRef("float", 4, ValueKind.Float, typedefName ?? f.Name, null, 0, null),
                    8 => new TypeRef("double", 8, ValueKind.Float, typedefName ?? f.Name, null, 0, null),
                    _ => Bytes(f.Size, typedefName ?? f.Name),
                };
            case BtfPointer p:
                return new TypeRef("ulong", 8, ValueKind.Pointer, typedefName ?? DescribePointer(p), null, 0, null);
            case BtfArray a:
            {
                var element = Resolve(a.ElementTypeId, hint, depth + 1);
                string cname = typedefName ?? element.CName + "[" + a.Count.ToString(CultureInfo.InvariantCulture) + "]";
                if (a.Count == 0 || element.Size == 0)
                    return new TypeRef(element.CSharp, 0, ValueKind.Array, cname, null, 0, element);
                int count = (int)Math.Min(a.Count, int.MaxValue / Math.Max(1, element.Size));
                _inlineLengths.Add(count);
                return new TypeRef($"{_skeleton}.InlineArray{count.ToString(CultureInfo.InvariantCulture)}<{element.CSharp}>",
                    count * element.Size, ValueKind.Array, cname, null, count, element);
            }
            case BtfComposite c:
            {
                if (_byId.TryGetValue(c.Id, out var known))
                    return known;
                string baseName = c.IsAnonymous ? (typedefName is not null ? CSharpNames.ToPascalCase(typedefName) : hint) : CSharpNames.ToPascalCase(c.Name);
                string cname = c.IsAnonymous ? (typedefName ?? "anonymous " + (c.IsUnion ? "union" : "struct")) : (c.IsUnion ? "union " : "struct ") + c.Name;
                string name = AllocateTypeName(baseName, cname, c.IsAnonymous ? typedefName : c.Name);
                var r = new TypeRef(_skeleton + "." + name, c.Size, c.IsUnion ? ValueKind.Union : ValueKind.Struct, typedefName ?? cname, name, 0, null);
                _byId.Add(c.Id, r);
                _pending.Enqueue((c, name, cname));
                return r;
            }
            case BtfEnum e:
            {
                if (_byId.TryGetValue(e.Id, out var known))
                    return known;
                string baseName = e.IsAnonymous ? (typedefName is not null ? CSharpNames.ToPascalCase(typedefName) : hint) : CSharpNames.ToPascalCase(e.Name);
                string cname = e.IsAnonymous ? (typedefName ?? "anonymous enum") : "enum " + e.Name;
                if (e.Size is not (1 or 2 or 4 or 8))
                    return Bytes(e.Size, cname);
                string name = AllocateTypeName(baseName, cname, e.IsAnonymous ? typedefName : e.Name);
                var r = new TypeRef(_skeleton + "." + name, e.Size, ValueKind.Enum, typedefName ?? cname, name, 0, null);
                _byId.Add(e.Id, r);
                _types.Add(BuildEnum(e, name, cname));
                return r;
            }
            case BtfFwd fwd:
                return Opaque(0, (fwd.IsUnion ? "union " : "struct ") + fwd.Name);
            case BtfVoid:
                return Opaque(0, "void");
            default:
                return Opaque(0, t.ToString());
        }
    }

    private string DescribePointer(BtfPointer p)
    {
        var target = p.Target;
        for (int guard = 0; guard < 8 && target is BtfModifier m; guard++)
            target = m.Target;
        return target switch
        {
            BtfVoid => "void *",
            BtfComposite c when !c.IsAnonymous => (c.IsUnion ? "union " : "struct ") + c.Name + " *",
            BtfFuncProto => "function pointer",
            _ when target.Name.Length > 0 => target.Name + " *",
            _ => "pointer",
        };
    }

    private string AllocateTypeName(string proposed, string cname, string? rawName = null)
    {
        string name = _typeNames.Allocate(proposed, cname, out var collision, rawName is null ? System.Array.Empty<string>() : CSharpNames.Alternatives(rawName, proposed));
        if (collision is not null)
            _diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, _itemPath, "Type", cname, proposed, collision, name));
        return name;
    }

    private static TypeRef Opaque(int size, string cname) => new TypeRef("byte", size, ValueKind.Opaque, cname, null, 0, null);

    private TypeRef Bytes(int size, string cname)
    {
        if (size <= 0) return Opaque(0, cname);
        _inlineLengths.Add(size);
        var b = new TypeRef("byte", 1, ValueKind.UnsignedInteger, "u8", null, 0, null);
        return new TypeRef($"{_skeleton}.InlineArray{size.ToString(CultureInfo.InvariantCulture)}<byte>", size, ValueKind.Opaque, cname, null, size, b);
    }

    private TypeRef Primitive(BtfInt i, string? typedefName)
    {
        string cname = typedefName ?? i.Name;
        if (i.IsBool && i.Size == 1)
            return new TypeRef("bool", 1, ValueKind.Bool, cname, null, 0, null);
        if (i.Size == 1 && (i.IsChar || i.Name == "char"))
            return new TypeRef("byte", 1, ValueKind.Char, cname, null, 0, null);
        bool signed = i.IsSigned;
        string? cs = i.Size switch
        {
            1 => signed ? "sbyte" : "byte",
            2 => signed ? "short" : "ushort",
            4 => signed ? "int" : "uint",
            8 => signed ? "long" : "ulong",
            16 => signed ? "global::System.Int128" : "global::System.UInt128",
            _ => null,
        };
        if (cs is null)
            return Bytes(i.Size, cname);
        return new TypeRef(cs, i.Size, signed ? ValueKind.SignedInteger : ValueKind.UnsignedInteger, cname, null, 0, null);
    }

    // ------------------------------------------------------------------ enums

    private static TypeModel BuildEnum(BtfEnum e, string name, string cname)
    {
        bool signed = e.IsSigned;
        string underlying = e.Size switch
        {
            1 => signed ? "sbyte" : "byte",
            2 => signed ? "short" : "ushort",
            4 => signed ? "int" : "uint",
            _ => signed ? "long" : "ulong",
        };
        var scope = new NameScope();
        scope.Reserve(name, "the enum itself");
        scope.Reserve("value__", "the enum's value field");
        var members = new List<EnumMemberModel>();
        foreach (var v in e.Values)
        {
            string memberName = scope.Allocate(CSharpNames.ToPascalCase(v.Name), v.Name, out _);
            members.Add(new EnumMemberModel(memberName, v.Name, EnumLiteral(v.RawValue, e.Size, signed)));
        }
        return new TypeModel(name, cname, TypeModelKind.Enum, e.Size, ImmutableEquatableArray<FieldModel>.Empty,
            ImmutableEquatableArray<BitfieldStorageModel>.Empty, members.ToImmutableEquatableArray(), underlying);
    }

    private static string EnumLiteral(ulong raw, int size, bool signed)
    {
        var c = CultureInfo.InvariantCulture;
        if (signed)
        {
            long v = size switch
            {
                1 => (sbyte)raw,
                2 => (short)raw,
                4 => (int)raw,
                _ => (long)raw,
            };
            return v == long.MinValue ? "long.MinValue" : v.ToString(c);
        }
        ulong u = size switch
        {
            1 => (byte)raw,
            2 => (ushort)raw,
            4 => (uint)raw,
            _ => raw,
        };
        return u.ToString(c);
    }

    // ------------------------------------------------------------------ structs and unions

    private sealed class CompositeState
    {
        public readonly List<FieldModel> Fields = new List<FieldModel>();
        public readonly List<BitfieldStorageModel> Storage = new List<BitfieldStorageModel>();
        public readonly NameScope Names = new NameScope();
        public int Size;
        public string TypeName = string.Empty;
    }

    /// <summary>A member found while flattening, before it has its C# name.</summary>
    private sealed class PendingMember
    {
        public string CName = string.Empty;
        public string Proposed = string.Empty;
        public TypeRef Type = null!;
        public long BitOffset;
        public long BitSize;
        public string? Name;
    }

    private TypeModel BuildComposite(BtfComposite c, string name, string cname)
    {
        var state = new CompositeState { Size = c.Size, TypeName = name };
        state.Names.Reserve(name, "the type's own name");
        var pending = new List<PendingMember>();
        CollectMembers(c, 0, name, 0, pending);

        // Names: members without leading underscores first, so that "d_name" keeps DName next to "__d_name".
        foreach (int pass in new[] { 0, 1 })
        {
            foreach (var p in pending)
            {
                if ((CSharpNames.LeadingUnderscores(p.CName) == 0) != (pass == 0)) continue;
                var alternatives = new List<string>(CSharpNames.Alternatives(p.CName, p.Proposed));
                if (p.Proposed == name) alternatives.Add(p.Proposed + "Value");
                p.Name = state.Names.Allocate(p.Proposed, p.CName, out var collision, alternatives.ToArray());
                if (collision is not null)
                    _diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, _itemPath, "Member", cname + "." + p.CName, p.Proposed, collision, p.Name));
            }
        }

        foreach (var p in pending)
        {
            if (p.BitSize != 0)
            {
                if (!TryAllocateStorage(state, p.BitOffset, (int)p.BitSize, out int storage, out int shift))
                    continue;
                state.Fields.Add(new FieldModel(p.Name!, p.CName, p.Type, (int)(p.BitOffset / 8), (int)p.BitSize, storage, shift, null));
            }
            else
            {
                state.Fields.Add(new FieldModel(p.Name!, p.CName, p.Type, (int)(p.BitOffset / 8), 0, -1, 0, null));
            }
        }

        // String accessors for char arrays, named after every field has its name.
        for (int i = 0; i < state.Fields.Count; i++)
        {
            var f = state.Fields[i];
            if (!f.IsBitfield && f.Type.IsCharArray)
            {
                string accessor = state.Names.Allocate("Get" + f.Name + "String", "the string accessor of " + f.CName, out _);
                state.Fields[i] = f with { StringAccessorName = accessor };
            }
        }
        return new TypeModel(name, cname, c.IsUnion ? TypeModelKind.Union : TypeModelKind.Struct, c.Size,
            state.Fields.ToImmutableEquatableArray(), state.Storage.ToImmutableEquatableArray(),
            ImmutableEquatableArray<EnumMemberModel>.Empty, null);
    }

    private void CollectMembers(BtfComposite c, long baseBits, string hintPrefix, int depth, List<PendingMember> result)
    {
        foreach (var m in c.Members)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            long bitOffset = baseBits + m.BitOffset;
            if (m.IsAnonymous)
            {
                // Anonymous struct/union member: its members belong to the parent (C's flattening).
                int inner = _btf.SkipModifiers(m.TypeId);
                if (_btf.TypeById(inner) is BtfComposite nested && depth < 16)
                    CollectMembers(nested, bitOffset, hintPrefix, depth + 1, result);
                // Anything else anonymous is an unnamed bitfield (padding): nothing to expose.
                continue;
            }

            string proposed = CSharpNames.ToPascalCase(m.Name);
            var type = Resolve(m.TypeId, hintPrefix + proposed, 0);

            // Bitfield? kind_flag BTF gives the size in the member; old-style BTF encodes it in the int type.
            long bitSize = m.BitfieldSize;
            if (bitSize == 0)
            {
                var resolved = _btf.TypeById(_btf.SkipModifiersAndTypedefs(m.TypeId));
                if (resolved is BtfInt bi && (bi.Bits != bi.Size * 8 || bi.BitOffset != 0))
                {
                    bitOffset += bi.BitOffset;
                    bitSize = bi.Bits;
                }
                else if (bitOffset % 8 != 0 && type.Size > 0)
                {
                    bitSize = type.Size * 8L;
                }
            }
            if (bitSize != 0 && (!IsBitfieldType(type) || bitSize > 64))
                continue;
            if (bitSize == 0 && type.Size == 0)
                continue;   // flexible array member or opaque: no storage of its own in C# either
            result.Add(new PendingMember { CName = m.Name, Proposed = proposed, Type = type, BitOffset = bitOffset, BitSize = bitSize });
        }
    }

    private static bool IsBitfieldType(TypeRef t) =>
        t.Kind is ValueKind.SignedInteger or ValueKind.UnsignedInteger or ValueKind.Bool or ValueKind.Char or ValueKind.Enum
        && t.Size <= 8;

    private bool TryAllocateStorage(CompositeState state, long bitOffset, int bitSize, out int index, out int shift)
    {
        index = -1;
        shift = 0;
        long firstByte = bitOffset / 8;
        long endByte = (bitOffset + bitSize + 7) / 8;
        foreach (int window in new[] { 1, 2, 4, 8 })
        {
            if (window < endByte - firstByte) continue;
            long start = Math.Min(firstByte, state.Size - window);
            if (start < 0 || start + window < endByte) continue;
            int bitInWindow = (int)(bitOffset - start * 8);
            shift = _bigEndian ? window * 8 - bitInWindow - bitSize : bitInWindow;
            for (int i = 0; i < state.Storage.Count; i++)
            {
                if (state.Storage[i].Offset == start && state.Storage[i].Size == window)
                {
                    index = i;
                    return true;
                }
            }
            string name = state.Names.Allocate("_bitfield" + state.Storage.Count.ToString(CultureInfo.InvariantCulture), "bitfield storage", out _);
            state.Storage.Add(new BitfieldStorageModel(name, (int)start, window));
            index = state.Storage.Count - 1;
            return true;
        }
        return false;
    }
}
