using System;
using System.Collections.Generic;

namespace Ebpf.Objects;

/// <summary>What a member of a struct_ops value holds.</summary>
public enum StructOpsMemberKind
{
    /// <summary>Data copied to the kernel's value by member name: integers, enums, char arrays, nested structs.</summary>
    Scalar,
    /// <summary>A function pointer: it holds a struct_ops program (or NULL) and becomes the program's descriptor.</summary>
    Function,
    /// <summary>Any other pointer (<c>owner</c> in <c>tcp_congestion_ops</c>): it must stay NULL.</summary>
    Pointer,
    /// <summary>A bitfield, which struct_ops values cannot carry (as in libbpf): it must stay zero.</summary>
    Bitfield,
}

/// <summary>One member of the struct a struct_ops variable instantiates, as the object's BTF describes it.</summary>
public sealed class StructOpsMemberSpec
{
    internal StructOpsMemberSpec(string name, int index, int offset, int size, int btfTypeId, StructOpsMemberKind kind)
    {
        Name = name;
        Index = index;
        Offset = offset;
        Size = size;
        BtfTypeId = btfTypeId;
        Kind = kind;
    }

    /// <summary>The member's name in the struct (<c>ssthresh</c>, <c>name</c>).</summary>
    public string Name { get; }
    /// <summary>Index among the struct's members in the object's BTF (the kernel's index can differ).</summary>
    public int Index { get; }
    /// <summary>Byte offset in the object's struct.</summary>
    public int Offset { get; }
    /// <summary>Size in bytes (0 for a bitfield).</summary>
    public int Size { get; }
    /// <summary>The member's type in the object's BTF.</summary>
    public int BtfTypeId { get; }
    /// <summary>What the member holds: data, a callback, another pointer or a bitfield.</summary>
    public StructOpsMemberKind Kind { get; }
    /// <summary>For <see cref="StructOpsMemberKind.Function"/>: the program the object's initializer points it to, or null.</summary>
    public string? ProgramName { get; internal set; }

    /// <summary>"ssthresh = my_ssthresh" for a callback, "name @8 (16 bytes, Scalar)" for data.</summary>
    public override string ToString() => Kind == StructOpsMemberKind.Function
        ? $"{Name} = {(ProgramName ?? "NULL")}"
        : $"{Name} @{Offset} ({Size} bytes, {Kind})";
}

/// <summary>
/// The value of a struct_ops map: one variable of a <c>.struct_ops</c> or <c>.struct_ops.link</c> section, an
/// instance of a kernel struct of callbacks (<c>tcp_congestion_ops</c>, <c>sched_ext_ops</c>, ...). Everything comes
/// from the object: the loader maps it onto the running kernel's layout by member name.
/// </summary>
internal sealed class StructOpsSpec
{
    internal StructOpsSpec(string typeName, int btfTypeId, int size, bool isLink, ReadOnlyMemory<byte> data, IReadOnlyList<StructOpsMemberSpec> members)
    {
        TypeName = typeName;
        BtfTypeId = btfTypeId;
        Size = size;
        IsLink = isLink;
        Data = data;
        Members = members;
    }

    /// <summary>The struct's name without a <c>___flavor</c> suffix: the kernel type it implements (<c>tcp_congestion_ops</c>).</summary>
    public string TypeName { get; }
    /// <summary>The struct in the object's BTF.</summary>
    public int BtfTypeId { get; }
    /// <summary>The struct's size in the object.</summary>
    public int Size { get; }
    /// <summary>From <c>.struct_ops.link</c>: the map is created with BPF_F_LINK and attached with a bpf_link (Linux 6.4).</summary>
    public bool IsLink { get; }
    /// <summary>The variable's initial bytes, in the object's layout (function pointers are zero: see the members).</summary>
    public ReadOnlyMemory<byte> Data { get; }
    /// <summary>Every member of the struct, in BTF order.</summary>
    public IReadOnlyList<StructOpsMemberSpec> Members { get; }

    public StructOpsMemberSpec? FindMember(string name)
    {
        foreach (var m in Members)
            if (m.Name == name) return m;
        return null;
    }

    /// <summary>The member whose bytes include <paramref name="offset"/>, or null.</summary>
    public StructOpsMemberSpec? FindMemberAt(int offset)
    {
        foreach (var m in Members)
            if (m.Kind != StructOpsMemberKind.Bitfield && offset >= m.Offset && offset < m.Offset + Math.Max(m.Size, 1)) return m;
        return null;
    }

    public override string ToString() => $"struct {TypeName} ({Size} bytes{(IsLink ? ", link" : string.Empty)})";
}

/// <summary>Which struct_ops member a struct_ops program implements (found from the maps that point to it).</summary>
public sealed class StructOpsBinding
{
    internal StructOpsBinding(string typeName, string memberName, int memberIndex)
    {
        TypeName = typeName;
        MemberName = memberName;
        MemberIndex = memberIndex;
    }

    /// <summary>The struct the program's maps instantiate (<c>tcp_congestion_ops</c>).</summary>
    public string TypeName { get; }
    /// <summary>The callback the program implements (<c>ssthresh</c>).</summary>
    public string MemberName { get; }
    /// <summary>The member's index in the object's struct.</summary>
    public int MemberIndex { get; }

    /// <summary>"tcp_congestion_ops.ssthresh".</summary>
    public override string ToString() => $"{TypeName}.{MemberName}";
}
