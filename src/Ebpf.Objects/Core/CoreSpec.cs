using System;
using System.Collections.Generic;
using System.Text;
using Ebpf.Btf;

namespace Ebpf.Core;

/// <summary>
/// One high-level step of a CO-RE access: a named member of a struct/union, an array element, or (for enum value
/// relocations) an enumerator.
/// </summary>
internal readonly struct CoreAccessor : IEquatable<CoreAccessor>
{
    public CoreAccessor(int typeId, int index, string? name)
    {
        TypeId = typeId;
        Index = index;
        Name = name;
    }

    /// <summary>
    /// For a member: the struct/union that contains it (modifiers and typedefs skipped). For an array element:
    /// the element type. For the first accessor: the root type. For an enumerator: the enum.
    /// </summary>
    public int TypeId { get; }

    /// <summary>Member index, array index or enumerator index.</summary>
    public int Index { get; }

    /// <summary>Member or enumerator name; null for array (and root) accessors.</summary>
    public string? Name { get; }

    public bool Equals(CoreAccessor other) => TypeId == other.TypeId && Index == other.Index && Name == other.Name;
    public override bool Equals(object? obj) => obj is CoreAccessor o && Equals(o);
    public override int GetHashCode() => (TypeId * 397) ^ Index;
    public override string ToString() => Name != null ? $"[{TypeId}].{Name}#{Index}" : $"[{TypeId}][{Index}]";
}

/// <summary>
/// A CO-RE access specification (libbpf's struct bpf_core_spec): the root type, the high-level accessors (named
/// members and array indices), the low-level raw spec (one index per access-string element, including steps
/// through anonymous members) and the resulting bit offset.
/// </summary>
internal sealed class CoreSpec
{
    /// <summary>BPF_CORE_SPEC_MAX_LEN: no access may be deeper than this.</summary>
    public const int MaxLength = 64;

    private readonly List<CoreAccessor> _accessors = new List<CoreAccessor>();
    private readonly List<int> _raw = new List<int>();

    internal CoreSpec(BtfSpec btf, int rootTypeId, CoreReloKind kind)
    {
        Btf = btf;
        RootTypeId = rootTypeId;
        Kind = kind;
    }

    /// <summary>The BTF the spec refers to (local object BTF or a target kernel/module BTF).</summary>
    public BtfSpec Btf { get; }

    /// <summary>The relocation's type id (local) or the candidate type id (target), before skipping typedefs.</summary>
    public int RootTypeId { get; }

    public CoreReloKind Kind { get; }

    /// <summary>High-level accessors: the root element, then each named member and array index.</summary>
    public IReadOnlyList<CoreAccessor> Accessors => _accessors;

    /// <summary>Low-level spec: every element of the access string (local) or of the equivalent target path.</summary>
    public IReadOnlyList<int> RawSpec => _raw;

    /// <summary>Bit offset of the accessed field from the start of the root type (unsigned 32-bit, as libbpf keeps it).</summary>
    public uint BitOffset { get; internal set; }

    /// <summary>For enum value relocations: the enumerator's name.</summary>
    public string? EnumeratorName => Kind.IsEnumValueBased() && _accessors.Count > 0 ? _accessors[0].Name : null;

    /// <summary>The raw spec as an access string: "0:1:2".</summary>
    public string RawSpecString
    {
        get
        {
            var sb = new StringBuilder();
            for (int i = 0; i < _raw.Count; i++)
            {
                if (i > 0) sb.Append(':');
                sb.Append(_raw[i]);
            }
            return sb.ToString();
        }
    }

    // ------------------------------------------------------------------ mutation (used while matching)

    internal int Length => _accessors.Count;
    internal int RawLength => _raw.Count;

    internal void PushAccessor(int typeId, int index, string? name) => _accessors.Add(new CoreAccessor(typeId, index, name));
    internal void PopAccessor() => _accessors.RemoveAt(_accessors.Count - 1);
    internal void PushRaw(int index) => _raw.Add(index);
    internal void PopRaw() => _raw.RemoveAt(_raw.Count - 1);

    // ------------------------------------------------------------------ parsing

    /// <summary>
    /// Parses an access string against the local type (libbpf's bpf_core_parse_spec), computing the accessors and
    /// the bit offset. Throws <see cref="BpfCoreRelocationException"/> for everything libbpf rejects.
    /// </summary>
    public static CoreSpec Parse(BtfSpec btf, int typeId, string accessString, CoreReloKind kind)
    {
        if (btf is null) throw new ArgumentNullException(nameof(btf));
        if (accessString is null) throw new ArgumentNullException(nameof(accessString));
        try
        {
            return ParseCore(btf, typeId, accessString, kind);
        }
        catch (BpfCoreRelocationException e)
        {
            throw new BpfCoreRelocationException(e.Kind, e.LibbpfErrno,
                $"parsing [{typeId}] {CoreNames.DescribeType(btf, typeId)} + {accessString} failed: {e.Message}", e);
        }
    }

    /// <summary>Like <see cref="Parse"/>, but reports failure with a message instead of an exception.</summary>
    public static bool TryParse(BtfSpec btf, int typeId, string accessString, CoreReloKind kind, out CoreSpec? spec, out string? error)
    {
        try
        {
            spec = Parse(btf, typeId, accessString, kind);
            error = null;
            return true;
        }
        catch (BpfCoreRelocationException e)
        {
            spec = null;
            error = e.Message;
            return false;
        }
    }

    private static BpfCoreRelocationException Invalid(string why) =>
        new BpfCoreRelocationException(CoreErrorKind.InvalidAccessString, BpfCoreRelocationException.EINVAL, why);

    private static CoreSpec ParseCore(BtfSpec btf, int typeId, string accessString, CoreReloKind kind)
    {
        if ((uint)kind > (uint)CoreReloKind.TypeMatches)
            throw new BpfCoreRelocationException(CoreErrorKind.UnsupportedRelocation, BpfCoreRelocationException.EINVAL, $"unknown relocation kind {(uint)kind}");
        if (!btf.IsValidId(typeId))
            throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"type id {typeId} does not exist");
        if (accessString.Length == 0)
            throw Invalid("the access string is empty");
        if (accessString[0] == ':')
            throw Invalid("the access string starts with ':'");

        var spec = new CoreSpec(btf, typeId, kind);

        // Type-based relocations carry no field access: the string must be exactly "0".
        if (kind.IsTypeBased())
        {
            if (accessString != "0")
                throw Invalid($"a {kind.ToShortName()} relocation must have the access string \"0\"");
            return spec;
        }

        // "0:1:2" -> raw spec [0, 1, 2] (with the leniency of sscanf("%d"): leading blanks and a sign are accepted).
        int pos = 0;
        while (pos < accessString.Length)
        {
            if (accessString[pos] == ':')
                pos++;
            if (!TryScanInt(accessString, ref pos, out long value))
                throw Invalid($"expected a number at position {pos}");
            if (value < 0)
                throw Invalid($"negative index {value} at position {pos}");
            if (value > int.MaxValue)
                throw Invalid($"index {value} at position {pos} is too large");
            if (spec._raw.Count == MaxLength)
                throw new BpfCoreRelocationException(CoreErrorKind.AccessTooDeep, BpfCoreRelocationException.E2BIG, $"more than {MaxLength} accessors");
            spec._raw.Add((int)value);
        }
        if (spec._raw.Count == 0)
            throw Invalid("no accessors");

        if (!btf.TrySkipModsAndTypedefs(typeId, out int id))
            throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"type [{typeId}] is a cycle of modifiers/typedefs");

        int accessIdx = spec._raw[0];
        spec._accessors.Add(new CoreAccessor(id, accessIdx, null));

        if (kind.IsEnumValueBased())
        {
            var k = btf.GetKind(id);
            if (k != BtfKind.Enum && k != BtfKind.Enum64)
                throw Invalid($"an {kind.ToShortName()} relocation needs an enum, but [{id}] is {k.ToLowerName()}");
            if (spec._raw.Count > 1)
                throw Invalid($"an {kind.ToShortName()} relocation takes a single enumerator index");
            int vlen = btf.GetVlen(id);
            if (accessIdx >= vlen)
                throw Invalid($"enumerator index {accessIdx} is out of range ({CoreNames.DescribeType(btf, id)} has {vlen})");
            string name = btf.GetString(btf.GetEnumeratorNameOffset(id, accessIdx));
            spec._accessors[0] = new CoreAccessor(id, accessIdx, name);
            return spec;
        }

        long sz = btf.LibbpfResolveSize(id);
        if (sz < 0)
            throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, (int)sz, $"type [{id}] ({CoreNames.DescribeType(btf, id)}) has no size");
        spec.BitOffset = unchecked((uint)(accessIdx * sz * 8));

        for (int i = 1; i < spec._raw.Count; i++)
        {
            if (!btf.TrySkipModsAndTypedefs(id, out id))
                throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, "a cycle of modifiers/typedefs");
            accessIdx = spec._raw[i];
            var k = btf.GetKind(id);
            if (k == BtfKind.Struct || k == BtfKind.Union)
            {
                int vlen = btf.GetVlen(id);
                if (accessIdx >= vlen)
                    throw Invalid($"member index {accessIdx} (at position {i}) is out of range: {CoreNames.DescribeType(btf, id)} has {vlen} members");
                btf.GetMemberRaw(id, accessIdx, out int nameOff, out int memberType, out _);
                spec.BitOffset = unchecked(spec.BitOffset + btf.GetMemberBitOffset(id, accessIdx));
                if (nameOff != 0)
                {
                    string name = btf.GetString(nameOff);
                    if (name.Length == 0)
                        throw Invalid($"member {accessIdx} of {CoreNames.DescribeType(btf, id)} has an empty name");
                    spec._accessors.Add(new CoreAccessor(id, accessIdx, name));
                }
                id = memberType;
            }
            else if (k == BtfKind.Array)
            {
                btf.GetArrayInfo(id, out int elem, out uint nelems);
                if (!btf.TrySkipModsAndTypedefs(elem, out id))
                    throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, "a cycle of modifiers/typedefs");
                bool flex = IsFlexibleArray(btf, spec._accessors[spec._accessors.Count - 1], nelems);
                if (!flex && (uint)accessIdx >= nelems)
                    throw Invalid($"array index {accessIdx} (at position {i}) is out of range: the array has {nelems} elements");
                spec._accessors.Add(new CoreAccessor(id, accessIdx, null));
                sz = btf.LibbpfResolveSize(id);
                if (sz < 0)
                    throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, (int)sz, $"array element type [{id}] ({CoreNames.DescribeType(btf, id)}) has no size");
                spec.BitOffset = unchecked(spec.BitOffset + (uint)(accessIdx * sz * 8));
            }
            else
            {
                throw Invalid($"relo for [{typeId}] {accessString} (at idx {i}) captures type [{id}] of unexpected kind {k.ToLowerName()}");
            }
        }
        return spec;
    }

    /// <summary>sscanf("%d%n") at <paramref name="pos"/>: optional blanks, optional sign, at least one digit.</summary>
    private static bool TryScanInt(string s, ref int pos, out long value)
    {
        value = 0;
        int p = pos;
        while (p < s.Length && (s[p] == ' ' || (s[p] >= '\t' && s[p] <= '\r')))
            p++;
        bool neg = false;
        if (p < s.Length && (s[p] == '+' || s[p] == '-'))
        {
            neg = s[p] == '-';
            p++;
        }
        int start = p;
        long v = 0;
        while (p < s.Length && s[p] >= '0' && s[p] <= '9')
        {
            if (v <= int.MaxValue)
                v = v * 10 + (s[p] - '0');
            p++;
        }
        if (p == start)
            return false;
        value = neg ? -v : v;
        pos = p;
        return true;
    }

    /// <summary>
    /// libbpf's is_flex_arr: an array of 0 elements that is the last member of the struct named by the previous
    /// accessor.
    /// </summary>
    internal static bool IsFlexibleArray(BtfSpec btf, CoreAccessor previous, uint nelems)
    {
        if (previous.Name == null || nelems > 0)
            return false;
        return previous.Index == btf.GetVlen(previous.TypeId) - 1;
    }

    // ------------------------------------------------------------------ formatting

    /// <summary>
    /// The spec as libbpf's bpf_core_format_spec prints it: "&lt;byte_off&gt; [5] struct task_struct.comm (0:125 @ offset 1752)",
    /// "&lt;type_exists&gt; [5] struct task_struct", "&lt;enumval_value&gt; [6] enum e::NAME = 27".
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append('<').Append(Kind.ToShortName()).Append("> [").Append(RootTypeId).Append("] ");
        sb.Append(CoreNames.DescribeType(Btf, RootTypeId));
        if (Kind.IsTypeBased())
            return sb.ToString();
        if (Kind.IsEnumValueBased())
        {
            if (_accessors.Count == 0)
                return sb.ToString();
            var acc = _accessors[0];
            sb.Append("::").Append(acc.Name).Append(" = ");
            ulong v = Btf.GetEnumeratorCoreValue(acc.TypeId, acc.Index);
            bool signed = Btf.GetKindFlag(acc.TypeId);
            if (Btf.GetKind(acc.TypeId) == BtfKind.Enum)
                sb.Append(signed ? ((int)(uint)v).ToString(System.Globalization.CultureInfo.InvariantCulture) : ((uint)v).ToString(System.Globalization.CultureInfo.InvariantCulture));
            else
                sb.Append(signed ? ((long)v).ToString(System.Globalization.CultureInfo.InvariantCulture) : v.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return sb.ToString();
        }
        AppendPath(sb);
        sb.Append(" (").Append(RawSpecString).Append(" @ offset ").Append(BitOffset / 8);
        if (BitOffset % 8 != 0)
            sb.Append('.').Append(BitOffset % 8);
        sb.Append(')');
        return sb.ToString();
    }

    private void AppendPath(StringBuilder sb)
    {
        for (int i = 0; i < _accessors.Count; i++)
        {
            var a = _accessors[i];
            if (a.Name != null)
                sb.Append('.').Append(a.Name);
            else if (i > 0 || a.Index > 0)
                sb.Append('[').Append(a.Index).Append(']');
        }
    }

    /// <summary>
    /// The accessed field in C-like syntax, starting at the root type's name: "task_struct.comm",
    /// "signal_struct.rlim[7].rlim_cur", "bpf_map_type::BPF_MAP_TYPE_RINGBUF"; just the type name for type relocations.
    /// </summary>
    public string FieldPath
    {
        get
        {
            var sb = new StringBuilder();
            string root = Btf.GetName(RootTypeId);
            sb.Append(root.Length == 0 ? "<anon>" : root);
            if (Kind.IsEnumValueBased())
            {
                if (_accessors.Count > 0)
                    sb.Append("::").Append(_accessors[0].Name);
            }
            else if (Kind.IsFieldBased())
            {
                AppendPath(sb);
            }
            return sb.ToString();
        }
    }
}

/// <summary>Type names the way libbpf prints them in CO-RE messages.</summary>
internal static class CoreNames
{
    /// <summary>"struct task_struct", "enum64 perf_callchain_context", "ptr &lt;anon&gt;", "void &lt;anon&gt;" (libbpf's "%s %s" of btf_kind_str and name).</summary>
    public static string DescribeType(BtfSpec btf, int typeId)
    {
        if (btf is null) throw new ArgumentNullException(nameof(btf));
        if (!btf.IsValidId(typeId))
            return $"<bad type id {typeId}>";
        var kind = btf.GetKind(typeId);
        string name = btf.GetName(typeId);
        return kind.ToLowerName() + " " + (name.Length == 0 ? "<anon>" : name);
    }
}
