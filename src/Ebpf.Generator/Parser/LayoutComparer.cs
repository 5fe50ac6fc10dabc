using System.Collections.Generic;
using System.Globalization;
using Ebpf.Generator.Model;

namespace Ebpf.Generator.Parser;

/// <summary>
/// Compares a user's C# type with the BTF type it stands for: total size, then each BTF member (in declaration
/// order) against the C# field at the same offset, by size and kind. Kinds are compared in groups: integers
/// (signed, unsigned, char, bool, enum, pointer), floating point, and aggregates (struct, union, array); signedness
/// is not checked. Bitfields are not compared member by member (the total size still is).
/// </summary>
internal static class LayoutComparer
{
    private enum Group { Integer, Float, Aggregate, Unknown }

    private static Group GroupOf(ValueKind k) => k switch
    {
        ValueKind.SignedInteger or ValueKind.UnsignedInteger or ValueKind.Char or ValueKind.Bool or ValueKind.Enum or ValueKind.Pointer => Group.Integer,
        ValueKind.Float => Group.Float,
        ValueKind.Struct or ValueKind.Union or ValueKind.Array => Group.Aggregate,
        _ => Group.Unknown,
    };

    private static bool Compatible(ValueKind a, ValueKind b)
    {
        var ga = GroupOf(a);
        var gb = GroupOf(b);
        return ga == Group.Unknown || gb == Group.Unknown || ga == gb;
    }

    private static string KindName(ValueKind k) => k switch
    {
        ValueKind.SignedInteger => "signed integer",
        ValueKind.UnsignedInteger => "unsigned integer",
        ValueKind.Char => "char",
        ValueKind.Bool => "bool",
        ValueKind.Enum => "enum",
        ValueKind.Pointer => "pointer",
        ValueKind.Float => "floating point",
        ValueKind.Struct => "struct",
        ValueKind.Union => "union",
        ValueKind.Array => "array",
        _ => "bytes",
    };

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Null when the layouts agree (or cannot be compared), else the first difference.</summary>
    public static string? Compare(TypeRef btf, UserTypeLayout user, IReadOnlyList<TypeModel> types)
    {
        if (user.IsUnresolved)
            return null;    // a generated type (not visible to the generator), or an error the compiler reports
        if (user.Size >= 0 && btf.Size > 0 && user.Size != btf.Size)
            return $"size differs: BTF '{btf.CName}' is {I(btf.Size)} bytes, '{user.Display}' is {I(user.Size)} bytes";
        if (!Compatible(btf.Kind, user.Kind))
            return $"kind differs: BTF '{btf.CName}' is a {KindName(btf.Kind)}, '{user.Display}' is a {KindName(user.Kind)}";
        if (btf.Kind is ValueKind.Struct or ValueKind.Union && btf.TypeName is not null)
        {
            TypeModel? model = null;
            foreach (var t in types)
                if (t.Name == btf.TypeName) { model = t; break; }
            if (model is not null)
                return CompareFields(model, user);
        }
        if (btf.Kind == ValueKind.Array && user.Kind == ValueKind.Array && btf.ElementCount != 0 && user.Fields.Count == 0)
            return null;
        return null;
    }

    /// <summary>Compares the fields of a generated struct or union model with a user layout.</summary>
    public static string? CompareFields(TypeModel model, UserTypeLayout user)
    {
        if (user.Size >= 0 && model.Size > 0 && user.Size != model.Size)
            return $"size differs: BTF '{model.CName}' is {I(model.Size)} bytes, '{user.Display}' is {I(user.Size)} bytes";
        if (user.Fields.Count == 0)
            return null;    // an opaque blob of the right size
        foreach (var f in model.Fields)
        {
            if (f.IsBitfield) continue;
            UserFieldLayout? match = null;
            UserFieldLayout? sameOffset = null;
            foreach (var u in user.Fields)
            {
                if (u.Offset != f.Offset) continue;
                sameOffset ??= u;
                if ((u.Size < 0 || u.Size == f.Type.Size) && Compatible(f.Type.Kind, u.Kind))
                {
                    match = u;
                    break;
                }
            }
            if (match is not null)
                continue;
            if (sameOffset is null)
            {
                bool unknownOffsets = false;
                foreach (var u in user.Fields)
                    if (u.Offset < 0) unknownOffsets = true;
                if (unknownOffsets)
                    return null;
                return $"field '{f.CName}' ({f.Type.CName}, {I(f.Type.Size)} bytes at offset {I(f.Offset)}) has no C# field at offset {I(f.Offset)}";
            }
            if (sameOffset.Size >= 0 && sameOffset.Size != f.Type.Size)
                return $"field '{f.CName}' at offset {I(f.Offset)} is {f.Type.CName} ({I(f.Type.Size)} bytes), but C# field '{sameOffset.Name}' is {sameOffset.TypeDisplay} ({I(sameOffset.Size)} bytes)";
            return $"field '{f.CName}' at offset {I(f.Offset)} is a {KindName(f.Type.Kind)} ({f.Type.CName}), but C# field '{sameOffset.Name}' is a {KindName(sameOffset.Kind)} ({sameOffset.TypeDisplay})";
        }
        return null;
    }
}
