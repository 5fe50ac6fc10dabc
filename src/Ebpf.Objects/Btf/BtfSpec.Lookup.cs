using System;
using System.Collections.Generic;
using System.Threading;

namespace Ebpf.Btf;

public sealed partial class BtfSpec
{
    /// <summary>How deep typedef/modifier/array chains may go before they are treated as a reference cycle (libbpf's limit).</summary>
    public const int MaxResolveDepth = 32;

    /// <summary>Lookups answered by a linear scan before the name index is built (building it costs about 15 scans).</summary>
    private const int LinearLookupBudget = 8;

    private NameIndex? _index;
    private int _linearLookups;

    // ------------------------------------------------------------------ name index

    private sealed class NameIndex
    {
        public int[] Buckets = Array.Empty<int>();  // head own-index + 1 per bucket, 0 = empty
        public int[] Next = Array.Empty<int>();     // next own-index + 1 in the chain, 0 = end
        public int Mask;
    }

    private NameIndex Index => _index ?? BuildIndex();

    private NameIndex BuildIndex()
    {
        var ix = new NameIndex();
        int n = _offsets.Length;
        int size = 16;
        while (size < n) size <<= 1;
        ix.Buckets = new int[size];
        ix.Next = new int[n];
        ix.Mask = size - 1;
        var buf = _mem.Span;
        var strings = buf.Slice(_strStart, _strLen);
        // Walk backwards so that every chain lists types in increasing id order.
        for (int i = n - 1; i >= 0; i--)
        {
            int nameOff = (int)ReadU32(buf, _offsets[i]);
            if (nameOff == 0)
                continue;
            ReadOnlySpan<byte> name;
            if (nameOff < _strBase)
                name = Base!.GetStringBytes(nameOff);
            else
            {
                var rest = strings.Slice(nameOff - _strBase);
                int end = rest.IndexOf((byte)0);
                name = rest.Slice(0, end);
            }
            if (name.IsEmpty)
                continue;
            uint h = Hash(name.Slice(0, EssentialNameLength(name)));
            int b = (int)(h & (uint)ix.Mask);
            ix.Next[i] = ix.Buckets[b];
            ix.Buckets[b] = i + 1;
        }
        Interlocked.CompareExchange(ref _index, ix, null);
        return _index!;
    }

    private bool UseLinearScan() =>
        _index == null && Interlocked.Increment(ref _linearLookups) <= LinearLookupBudget;

    /// <summary>
    /// One pass over the own types comparing names in place (what libbpf does for every lookup); cheap for a
    /// handful of lookups, where building the index would cost more than it saves.
    /// </summary>
    private void ScanOwnNames(ReadOnlySpan<byte> name, bool exact, List<int> result)
    {
        var buf = _mem.Span;
        var strings = buf.Slice(_strStart, _strLen);
        byte first = name[0];
        int len = name.Length;
        for (int i = 0; i < _offsets.Length; i++)
        {
            int nameOff = (int)ReadU32(buf, _offsets[i]);
            if (nameOff == 0)
                continue;
            ReadOnlySpan<byte> candidate;
            if (nameOff < _strBase)
            {
                candidate = Base!.GetStringBytes(nameOff);
                if (candidate.IsEmpty || candidate[0] != first) continue;
            }
            else
            {
                int local = nameOff - _strBase;
                if (strings[local] != first) continue;
                var rest = strings.Slice(local);
                if (rest.Length <= len || !rest.Slice(0, len).SequenceEqual(name)) continue;
                int end = rest.Slice(len).IndexOf((byte)0);
                candidate = rest.Slice(0, len + end);
            }
            if (exact ? candidate.Length == len && candidate.SequenceEqual(name)
                      : candidate.Length >= len && EssentialNameLength(candidate) == len && candidate.Slice(0, len).SequenceEqual(name))
                result.Add(_firstId + i);
        }
    }

    private static uint Hash(ReadOnlySpan<byte> s)
    {
        uint h = 2166136261;
        for (int i = 0; i < s.Length; i++)
            h = (h ^ s[i]) * 16777619;
        return h;
    }

    /// <summary>
    /// Length of the "essential" part of a name: "task_struct___v2" → length of "task_struct".
    /// The flavour separator is the last "X___Y" where X and Y are not underscores (libbpf's rule).
    /// </summary>
    public static int EssentialNameLength(ReadOnlySpan<byte> name)
    {
        for (int i = name.Length - 5; i >= 0; i--)
        {
            if (name[i] != (byte)'_' && name[i + 1] == (byte)'_' && name[i + 2] == (byte)'_' && name[i + 3] == (byte)'_' && name[i + 4] != (byte)'_')
                return i + 1;
        }
        return name.Length;
    }

    /// <summary>The essential name of a string (flavour suffix removed).</summary>
    public static string EssentialName(string name)
    {
        var bytes = Utf8.Encode(name);
        int n = EssentialNameLength(bytes);
        return n == bytes.Length ? name : Utf8.Decode(new ReadOnlySpan<byte>(bytes, 0, n));
    }

    /// <summary>
    /// Adds to <paramref name="result"/> every type (base first, then own) whose essential name equals
    /// <paramref name="essentialName"/>. Anonymous types never match.
    /// </summary>
    public void FindByEssentialName(ReadOnlySpan<byte> essentialName, List<int> result)
    {
        if (essentialName.IsEmpty)
            return;
        Base?.FindByEssentialName(essentialName, result);
        if (UseLinearScan())
        {
            ScanOwnNames(essentialName, exact: false, result);
            return;
        }
        var ix = Index;
        int b = (int)(Hash(essentialName) & (uint)ix.Mask);
        for (int i = ix.Buckets[b]; i != 0; i = ix.Next[i - 1])
        {
            int id = _firstId + i - 1;
            var name = GetNameBytes(id);
            if (name.Length >= essentialName.Length && EssentialNameLength(name) == essentialName.Length && name.Slice(0, essentialName.Length).SequenceEqual(essentialName))
                result.Add(id);
        }
    }

    /// <summary>Every type id (base and own, increasing) whose name is exactly <paramref name="name"/>.</summary>
    public IReadOnlyList<int> FindByName(string name)
    {
        var result = new List<int>();
        if (string.IsNullOrEmpty(name))
            return result;
        var bytes = Utf8.Encode(name);
        FindByName(bytes, result);
        return result;
    }

    private void FindByName(ReadOnlySpan<byte> name, List<int> result)
    {
        Base?.FindByName(name, result);
        if (UseLinearScan())
        {
            ScanOwnNames(name, exact: true, result);
            return;
        }
        var ix = Index;
        var essential = name.Slice(0, EssentialNameLength(name));
        int b = (int)(Hash(essential) & (uint)ix.Mask);
        for (int i = ix.Buckets[b]; i != 0; i = ix.Next[i - 1])
        {
            int id = _firstId + i - 1;
            if (GetNameBytes(id).SequenceEqual(name))
                result.Add(id);
        }
    }

    /// <summary>First type id with this exact name and kind, or -1 (btf__find_by_name_kind).</summary>
    public int FindByName(string name, BtfKind kind)
    {
        if (kind == BtfKind.Unknown && name == "void")
            return 0;
        foreach (int id in FindByName(name))
        {
            if (GetKind(id) == kind)
                return id;
        }
        return -1;
    }

    /// <summary>The first type with this exact name and kind, or null.</summary>
    public BtfType? TryFind(string name, BtfKind kind)
    {
        int id = FindByName(name, kind);
        return id < 0 ? null : TypeById(id);
    }

    // ------------------------------------------------------------------ resolution helpers

    private static Exception Cycle(int id) =>
        new BtfFormatException(-1, $"type [{id}]: reference chain deeper than {MaxResolveDepth} (a cycle in the BTF?)");

    /// <summary>Follows CONST, VOLATILE, RESTRICT and TYPE_TAG.</summary>
    public int SkipModifiers(int id)
    {
        for (int depth = 0; depth <= MaxResolveDepth; depth++)
        {
            switch (GetKind(id))
            {
                case BtfKind.Const:
                case BtfKind.Volatile:
                case BtfKind.Restrict:
                case BtfKind.TypeTag:
                    id = GetRefType(id);
                    break;
                default:
                    return id;
            }
        }
        throw Cycle(id);
    }

    /// <summary>Follows modifiers and typedefs (libbpf's skip_mods_and_typedefs); a reference cycle is a format error.</summary>
    public int SkipModifiersAndTypedefs(int id)
    {
        CheckId(id);
        if (!TrySkipModsAndTypedefs(id, out int resolved))
            throw Cycle(id);
        return resolved;
    }

    /// <summary>Size in bytes of a pointer in this BTF (from the "long" types, as libbpf guesses it; 8 by default).</summary>
    public int PointerSize => LibbpfPointerSize;

    /// <summary>Size in bytes of a type (btf__resolve_size); false for void, functions, forward declarations, cycles and overflows.</summary>
    public bool TryResolveSize(int id, out long size)
    {
        long r = LibbpfResolveSize(id);
        size = r < 0 ? 0 : r;
        return r >= 0;
    }

    /// <summary>Size in bytes of a type; throws for types without a size.</summary>
    public long ResolveSize(int id)
    {
        if (!TryResolveSize(id, out long size))
            throw new BtfFormatException(-1, $"type [{id}] ({TypeById(id)}) has no size");
        return size;
    }

    /// <summary>Alignment in bytes of a type (btf__align_of); 1 for packed composites, 0 when unknown.</summary>
    public int AlignmentOf(int id) => AlignmentOf(id, 0);

    private int[]? _alignMemo; // alignment + 1 of each struct/union id, 0 = not computed (races only recompute)

    private int AlignmentOf(int id, int depth)
    {
        if (depth > MaxResolveDepth)
            throw Cycle(id);
        switch (GetKind(id))
        {
            case BtfKind.Int:
            case BtfKind.Enum:
            case BtfKind.Enum64:
            case BtfKind.Float:
                return (int)Math.Min((uint)PointerSize, GetSizeOrType(id));
            case BtfKind.Ptr:
                return PointerSize;
            case BtfKind.Typedef:
            case BtfKind.Volatile:
            case BtfKind.Const:
            case BtfKind.Restrict:
            case BtfKind.TypeTag:
                return AlignmentOf(GetRefType(id), depth + 1);
            case BtfKind.Array:
                return AlignmentOf(((BtfArray)TypeById(id)).ElementTypeId, depth + 1);
            case BtfKind.Struct:
            case BtfKind.Union:
            {
                // Memoized: members that are structs with members that are structs... would otherwise be visited
                // once per path, exponentially many times in hostile BTF (40 levels of 8 members each).
                var memo = _alignMemo ??= new int[TypeCount];
                int known = Volatile.Read(ref memo[id]);
                if (known != 0)
                    return known - 1;
                var c = (BtfComposite)TypeById(id);
                int result = -1;
                int maxAlign = 1;
                foreach (var m in c.Members)
                {
                    int a = AlignmentOf(m.TypeId, depth + 1);
                    if (a <= 0)
                    {
                        result = 0;
                        break;
                    }
                    maxAlign = Math.Max(maxAlign, a);
                    if (m.BitfieldSize == 0 && m.BitOffset % (uint)(8 * a) != 0)
                    {
                        result = 1;
                        break;
                    }
                }
                if (result < 0)
                    result = c.Size % maxAlign != 0 ? 1 : maxAlign;
                Volatile.Write(ref memo[id], result + 1);
                return result;
            }
            default:
                return 0;
        }
    }

    /// <summary>True for STRUCT and UNION.</summary>
    public bool IsComposite(int id)
    {
        var k = GetKind(id);
        return k == BtfKind.Struct || k == BtfKind.Union;
    }

    /// <summary>Display of a type for messages: "struct task_struct", "int", "[42] anon union".</summary>
    public string Describe(int id) => TypeById(id).ToString();
}
