using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Ebpf.Btf;

/// <summary>One member in a <see cref="BtfLayout"/>, with its offset from the start of the outermost type.</summary>
internal sealed class BtfLayoutMember
{
    internal BtfLayoutMember(string path, string name, int depth, int typeId, string typeName, string declaration,
        long bitOffset, long size, int bitfieldSize, bool isAnonymousContainer, BtfKind containerKind)
    {
        Path = path;
        Name = name;
        Depth = depth;
        TypeId = typeId;
        TypeName = typeName;
        Declaration = declaration;
        BitOffset = bitOffset;
        Size = size;
        BitfieldSize = bitfieldSize;
        IsAnonymousContainer = isAnonymousContainer;
        ContainerKind = containerKind;
    }

    /// <summary>
    /// How C code reaches the member: its name, or "a.b" through named members. Members of anonymous structs and
    /// unions are flattened into their container, as C does ("task->pid" even though pid sits in an anonymous
    /// union), so their path is just their name. Empty for anonymous members (containers and unnamed bitfields).
    /// </summary>
    public string Path { get; }

    /// <summary>The member's own name, empty when anonymous.</summary>
    public string Name { get; }

    /// <summary>0 for a direct member, n for a member nested in n anonymous structs/unions.</summary>
    public int Depth { get; }

    public int TypeId { get; }

    /// <summary>The member's type as C writes it without a name ("char[16]", "struct list_head *", "union {...}").</summary>
    public string TypeName { get; }

    /// <summary>The C declaration of the member ("char comm[16]", "unsigned int flags: 3").</summary>
    public string Declaration { get; }

    /// <summary>Offset in bits from the start of the outermost type.</summary>
    public long BitOffset { get; }

    /// <summary>Byte offset of the member (of the byte holding its first bit, for bitfields).</summary>
    public long Offset => BitOffset / 8;

    /// <summary>Bit within <see cref="Offset"/>'s byte where a bitfield starts (0 for ordinary members).</summary>
    public int BitInByte => (int)(BitOffset % 8);

    /// <summary>Size in bytes of the member's type (the storage unit's size, for bitfields); 0 when unknown.</summary>
    public long Size { get; }

    /// <summary>Width in bits of a bitfield; 0 for ordinary members.</summary>
    public int BitfieldSize { get; }

    public bool IsBitfield => BitfieldSize != 0;

    /// <summary>Size in bits the member occupies: the bitfield width, or 8 × <see cref="Size"/>.</summary>
    public long BitSize => BitfieldSize != 0 ? BitfieldSize : Size * 8;

    /// <summary>An anonymous struct or union whose members follow it (one level deeper).</summary>
    public bool IsAnonymousContainer { get; }

    /// <summary>Kind of the struct/union that directly contains this member.</summary>
    public BtfKind ContainerKind { get; }

    public override string ToString() => $"{Declaration} @0x{Offset.ToString("x", CultureInfo.InvariantCulture)}";
}

/// <summary>A hole between members, or the padding at the end of a struct.</summary>
internal sealed class BtfLayoutHole
{
    internal BtfLayoutHole(long bitOffset, long bitSize, int depth, bool isTrailingPadding, string after)
    {
        BitOffset = bitOffset;
        BitSize = bitSize;
        Depth = depth;
        IsTrailingPadding = isTrailingPadding;
        After = after;
    }

    /// <summary>Where the hole starts, in bits from the start of the outermost type.</summary>
    public long BitOffset { get; }

    public long BitSize { get; }

    /// <summary>Nesting depth of the struct that has the hole (0 = the type itself).</summary>
    public int Depth { get; }

    /// <summary>Padding at the end of a struct rather than between two members.</summary>
    public bool IsTrailingPadding { get; }

    /// <summary>Declaration of the member the hole follows (empty when the struct starts with a hole).</summary>
    public string After { get; }

    public override string ToString() => BtfLayout.DescribeBits(BitSize) + (IsTrailingPadding ? " padding" : " hole");
}

/// <summary>
/// The memory layout of a struct or union, pahole-style: every member with its offset (hex and decimal), size and
/// bitfield position, members of anonymous structs/unions flattened under their container, holes and trailing
/// padding. <see cref="Diff"/> compares the layouts of the same types in two BTF specs (two kernels).
/// </summary>
internal sealed class BtfLayout
{
    private readonly List<BtfLayoutMember> _members;
    private readonly List<BtfLayoutHole> _holes;
    private readonly List<object> _rows; // members, holes and container ends (int depth) in listing order

    private BtfLayout(int typeId, BtfKind kind, string name, long size, int alignment, List<BtfLayoutMember> members, List<BtfLayoutHole> holes, List<object> rows)
    {
        _rows = rows;
        TypeId = typeId;
        Kind = kind;
        Name = name;
        Size = size;
        Alignment = alignment;
        _members = members;
        _holes = holes;
    }

    public int TypeId { get; }

    /// <summary><see cref="BtfKind.Struct"/> or <see cref="BtfKind.Union"/>.</summary>
    public BtfKind Kind { get; }

    /// <summary>Name of the type, empty for an anonymous one.</summary>
    public string Name { get; }

    public long Size { get; }

    /// <summary>Alignment in bytes (1 for packed types, 0 when unknown).</summary>
    public int Alignment { get; }

    /// <summary>All members in declaration order, anonymous containers followed by their members.</summary>
    public IReadOnlyList<BtfLayoutMember> Members => _members;

    /// <summary>Holes and trailing padding, in offset order within each struct.</summary>
    public IReadOnlyList<BtfLayoutHole> Holes => _holes;

    /// <summary>"struct task_struct", "union {...}".</summary>
    public string DisplayName => (Kind == BtfKind.Union ? "union " : "struct ") + (Name.Length == 0 ? "{...}" : Name);

    /// <summary>Trailing padding of the type itself, in bytes (rounded down).</summary>
    public long TrailingPadding
    {
        get
        {
            foreach (var h in _holes)
                if (h.IsTrailingPadding && h.Depth == 0) return h.BitSize / 8;
            return 0;
        }
    }

    /// <summary>The member reached by a C access path ("pid", "se.vruntime" is not expanded: "se"), or null.</summary>
    public BtfLayoutMember? FindMember(string path)
    {
        foreach (var m in _members)
            if (m.Path.Length != 0 && string.Equals(m.Path, path, StringComparison.Ordinal)) return m;
        return null;
    }

    // ------------------------------------------------------------------ construction

    /// <summary>The layout of a struct or union (typedefs and qualifiers are followed).</summary>
    public static BtfLayout Of(BtfSpec spec, int typeId)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        spec.CheckId(typeId);
        int id = spec.SkipModifiersAndTypedefs(typeId);
        if (!spec.IsComposite(id))
            throw new ArgumentException($"type [{typeId}] ({spec.Describe(typeId)}) is not a struct or union", nameof(typeId));
        return new Builder(spec).Build(id);
    }

    /// <summary>
    /// The layout of the struct (else union, else typedef of a struct or union) with this name, or null.
    /// </summary>
    public static BtfLayout? Find(BtfSpec spec, string name)
    {
        int id = FindComposite(spec, name);
        return id < 0 ? null : new Builder(spec).Build(id);
    }

    internal static int FindComposite(BtfSpec spec, string name)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        if (string.IsNullOrEmpty(name)) return -1;
        int id = spec.FindByName(name, BtfKind.Struct);
        if (id < 0) id = spec.FindByName(name, BtfKind.Union);
        if (id < 0)
        {
            int td = spec.FindByName(name, BtfKind.Typedef);
            if (td >= 0)
            {
                int target = spec.SkipModifiersAndTypedefs(td);
                if (spec.IsComposite(target)) id = target;
            }
        }
        return id;
    }

    private sealed class Builder
    {
        private readonly BtfSpec _spec;
        private readonly BtfCDump.ShortDeclarations _decls;
        private readonly List<BtfLayoutMember> _members = new List<BtfLayoutMember>();
        private readonly List<BtfLayoutHole> _holes = new List<BtfLayoutHole>();
        private readonly List<object> _rows = new List<object>();

        public Builder(BtfSpec spec)
        {
            _spec = spec;
            _decls = new BtfCDump.ShortDeclarations(spec);
        }

        public BtfLayout Build(int id)
        {
            var c = (BtfComposite)_spec[id];
            Walk(c, 0, "", 0);
            return new BtfLayout(id, c.Kind, c.Name, c.Size, _spec.AlignmentOf(id), _members, _holes, _rows);
        }

        private long SizeOf(int typeId) => _spec.TryResolveSize(typeId, out long s) ? s : 0;

        private void Walk(BtfComposite c, long baseBits, string prefix, int depth)
        {
            if (depth > 64)
                throw new BtfFormatException(-1, $"type [{c.Id}]: anonymous structs/unions nested more than 64 levels deep (a reference cycle?)");
            bool isStruct = c.Kind == BtfKind.Struct;
            long end = baseBits;          // end of what has been laid out so far, in bits
            string lastDecl = "";
            foreach (var m in c.Members)
            {
                long bitOff = baseBits + m.BitOffset;
                long size = SizeOf(m.TypeId);
                int target = _spec.SkipModifiersAndTypedefs(m.TypeId);
                bool anonContainer = m.IsAnonymous && _spec.IsComposite(target) && _spec.GetNameOffset(target) == 0
                    && m.BitfieldSize == 0;
                long memberBits = m.BitfieldSize != 0 ? m.BitfieldSize : size * 8;

                if (isStruct && bitOff > end)
                    AddHole(new BtfLayoutHole(end, bitOff - end, depth, false, lastDecl));

                string typeName = _decls.Format(m.TypeId, "");
                string decl = _decls.Format(m.TypeId, m.Name);
                if (m.BitfieldSize != 0)
                    decl += ": " + m.BitfieldSize.ToString(CultureInfo.InvariantCulture);
                string path = m.IsAnonymous ? "" : (prefix.Length == 0 ? m.Name : prefix + "." + m.Name);
                var lm = new BtfLayoutMember(path, m.Name, depth, m.TypeId, typeName, decl, bitOff, size, (int)m.BitfieldSize, anonContainer, c.Kind);
                _members.Add(lm);
                _rows.Add(lm);
                lastDecl = decl;

                if (anonContainer)
                {
                    Walk((BtfComposite)_spec[target], bitOff, prefix, depth + 1);
                    _rows.Add(depth);
                }

                if (isStruct)
                    end = Math.Max(end, bitOff + memberBits);
            }
            if (isStruct)
            {
                long total = baseBits + (long)c.Size * 8;
                if (total > end)
                    AddHole(new BtfLayoutHole(end, total - end, depth, true, lastDecl));
            }
        }

        private void AddHole(BtfLayoutHole h)
        {
            _holes.Add(h);
            _rows.Add(h);
        }
    }

    // ------------------------------------------------------------------ text

    internal static string DescribeBits(long bits)
    {
        var ci = CultureInfo.InvariantCulture;
        if (bits % 8 == 0)
            return (bits / 8).ToString(ci) + (bits == 8 ? " byte" : " bytes");
        if (bits > 8)
            return (bits / 8).ToString(ci) + " bytes " + (bits % 8).ToString(ci) + (bits % 8 == 1 ? " bit" : " bits");
        return bits.ToString(ci) + (bits == 1 ? " bit" : " bits");
    }

    internal static string Hex(long v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Formats the layout (see <see cref="Write"/>).</summary>
    public override string ToString()
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        Write(sw);
        return sw.ToString();
    }

    /// <summary>
    /// Writes the layout, one member per line:
    /// <code>
    /// struct task_struct {                              /* offset (hex  dec)   size */
    ///     struct thread_info thread_info;               /*   0x0       0      24 */
    ///     unsigned int sched_migrated: 1;               /* 0x4a4:2  1188:2     4 */
    ///     /* XXX 4 bytes hole */
    /// };  /* size: 9792 (0x2640), align: 64, members: 250, holes: 3 (12 bytes), padding: 8 */
    /// </code>
    /// </summary>
    public void Write(TextWriter writer)
    {
        if (writer is null) throw new ArgumentNullException(nameof(writer));
        var ci = CultureInfo.InvariantCulture;
        const int declWidth = 56;
        var lines = new List<KeyValuePair<string, string?>>(); // (declaration text, comment)
        foreach (var row in _rows)
        {
            if (row is BtfLayoutMember m)
            {
                string where = m.IsBitfield
                    ? (Hex(m.Offset) + ":" + m.BitInByte.ToString(ci)).PadLeft(9) + " " + (m.Offset.ToString(ci) + ":" + m.BitInByte.ToString(ci)).PadLeft(8)
                    : Hex(m.Offset).PadLeft(7) + "   " + m.Offset.ToString(ci).PadLeft(6) + "  ";
                string comment = "/* " + where + " " + m.Size.ToString(ci).PadLeft(6) + " */";
                string text = m.IsAnonymousContainer
                    ? (m.TypeName.StartsWith("union", StringComparison.Ordinal) ? "union {" : "struct {")
                    : m.Declaration + ";";
                lines.Add(new KeyValuePair<string, string?>(Indent(m.Depth + 1) + text, comment));
            }
            else if (row is BtfLayoutHole h)
            {
                lines.Add(new KeyValuePair<string, string?>(Indent(h.Depth + 1) + "/* XXX " + DescribeBits(h.BitSize) + (h.IsTrailingPadding ? " padding */" : " hole */"), null));
            }
            else
            {
                lines.Add(new KeyValuePair<string, string?>(Indent((int)row + 1) + "};", null));
            }
        }

        writer.Write(DisplayName);
        writer.Write(" {");
        writer.Write(new string(' ', Math.Max(1, declWidth - DisplayName.Length - 2)));
        writer.Write("/*  offset (hex     dec)    size */\n");
        foreach (var l in lines)
        {
            writer.Write(l.Key);
            if (l.Value != null)
            {
                int width = VisualWidth(l.Key);
                writer.Write(new string(' ', Math.Max(1, declWidth - width)));
                writer.Write(l.Value);
            }
            writer.Write('\n');
        }

        int holes = 0;
        long holeBits = 0;
        foreach (var h in _holes)
        {
            if (h.IsTrailingPadding) continue;
            holes++;
            holeBits += h.BitSize;
        }
        int direct = 0;
        foreach (var m in _members)
            if (m.Depth == 0) direct++;
        var sb = new StringBuilder();
        sb.Append("};  /* size: ").Append(Size.ToString(ci)).Append(" (").Append(Hex(Size)).Append(')');
        sb.Append(", align: ").Append(Alignment.ToString(ci));
        sb.Append(", members: ").Append(direct.ToString(ci));
        if (holes > 0)
            sb.Append(", holes: ").Append(holes.ToString(ci)).Append(" (").Append(DescribeBits(holeBits)).Append(')');
        if (TrailingPadding > 0)
            sb.Append(", padding: ").Append(TrailingPadding.ToString(ci));
        sb.Append(" */\n");
        writer.Write(sb.ToString());
    }

    private static string Indent(int depth) => new string(' ', 4 * depth);

    private static int VisualWidth(string s) => s.Length;

    // ------------------------------------------------------------------ diff

    /// <summary>
    /// Compares the layouts of structs and unions in two specs. With <paramref name="names"/> null or empty every
    /// named struct/union present in both is compared (the first of each name); otherwise just the named ones, and
    /// a name missing on one side is reported.
    /// </summary>
    public static BtfLayoutDiff Diff(BtfSpec a, BtfSpec b, IEnumerable<string>? names)
    {
        if (a is null) throw new ArgumentNullException(nameof(a));
        if (b is null) throw new ArgumentNullException(nameof(b));
        var results = new List<BtfTypeDiff>();
        int compared = 0;
        var list = new List<string>();
        if (names != null)
        {
            foreach (var n in names)
                if (!string.IsNullOrEmpty(n)) list.Add(n);
        }
        if (list.Count > 0)
        {
            foreach (var name in list)
            {
                int ia = FindComposite(a, name);
                int ib = FindComposite(b, name);
                if (ia < 0 || ib < 0)
                {
                    results.Add(new BtfTypeDiff(name, ia >= 0 ? a.GetKind(ia) : ib >= 0 ? b.GetKind(ib) : BtfKind.Struct,
                        ia >= 0 ? new Builder(a).Build(ia) : null, ib >= 0 ? new Builder(b).Build(ib) : null, Array.Empty<BtfMemberChange>()));
                    continue;
                }
                compared++;
                var d = Compare(name, new Builder(a).Build(ia), new Builder(b).Build(ib));
                results.Add(d);
            }
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int id = 1; id < a.TypeCount; id++)
            {
                var kind = a.GetKind(id);
                if (kind != BtfKind.Struct && kind != BtfKind.Union) continue;
                if (a.GetNameOffset(id) == 0) continue;
                string name = a.GetName(id);
                if (!seen.Add((kind == BtfKind.Union ? "u:" : "s:") + name)) continue;
                int ib = b.FindByName(name, kind);
                if (ib < 0) continue;
                compared++;
                var d = Compare(name, new Builder(a).Build(id), new Builder(b).Build(ib));
                if (d.HasDifferences)
                    results.Add(d);
            }
        }
        return new BtfLayoutDiff(results, compared);
    }

    private static BtfTypeDiff Compare(string name, BtfLayout la, BtfLayout lb)
    {
        var changes = new List<BtfMemberChange>();
        var byPathB = new Dictionary<string, BtfLayoutMember>(StringComparer.Ordinal);
        foreach (var m in lb.Members)
            if (m.Path.Length != 0 && !byPathB.ContainsKey(m.Path)) byPathB.Add(m.Path, m);
        var inA = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ma in la.Members)
        {
            if (ma.Path.Length == 0 || !inA.Add(ma.Path)) continue;
            if (!byPathB.TryGetValue(ma.Path, out var mb))
            {
                changes.Add(new BtfMemberChange(ma.Path, BtfMemberChanges.Removed, ma, null));
                continue;
            }
            var what = BtfMemberChanges.None;
            if (ma.BitOffset != mb.BitOffset) what |= BtfMemberChanges.Moved;
            if (ma.Size != mb.Size) what |= BtfMemberChanges.Resized;
            if (ma.BitfieldSize != mb.BitfieldSize) what |= BtfMemberChanges.BitfieldChanged;
            if (!string.Equals(ma.TypeName, mb.TypeName, StringComparison.Ordinal)) what |= BtfMemberChanges.TypeChanged;
            if (what != BtfMemberChanges.None)
                changes.Add(new BtfMemberChange(ma.Path, what, ma, mb));
        }
        foreach (var mb in lb.Members)
        {
            if (mb.Path.Length == 0 || inA.Contains(mb.Path)) continue;
            inA.Add(mb.Path);
            changes.Add(new BtfMemberChange(mb.Path, BtfMemberChanges.Added, null, mb));
        }
        return new BtfTypeDiff(name, la.Kind, la, lb, changes);
    }
}

/// <summary>What changed about one member between two layouts.</summary>
[Flags]
internal enum BtfMemberChanges
{
    None = 0,
    /// <summary>Only in the second spec.</summary>
    Added = 1,
    /// <summary>Only in the first spec.</summary>
    Removed = 2,
    /// <summary>Different offset.</summary>
    Moved = 4,
    /// <summary>Different size.</summary>
    Resized = 8,
    /// <summary>Different type (as C writes it).</summary>
    TypeChanged = 16,
    /// <summary>Became a bitfield, stopped being one, or changed width.</summary>
    BitfieldChanged = 32,
}

/// <summary>One member's change between the two sides of a <see cref="BtfLayoutDiff"/>.</summary>
internal sealed class BtfMemberChange
{
    internal BtfMemberChange(string path, BtfMemberChanges changes, BtfLayoutMember? old, BtfLayoutMember? @new)
    {
        Path = path;
        Changes = changes;
        Old = old;
        New = @new;
    }

    /// <summary>C access path of the member ("comm", or "pid" inside an anonymous union).</summary>
    public string Path { get; }
    public BtfMemberChanges Changes { get; }
    /// <summary>The member in the first spec (null when added).</summary>
    public BtfLayoutMember? Old { get; }
    /// <summary>The member in the second spec (null when removed).</summary>
    public BtfLayoutMember? New { get; }

    private static string Where(BtfLayoutMember m) =>
        BtfLayout.Hex(m.Offset) + (m.IsBitfield ? " bit " + m.BitInByte.ToString(CultureInfo.InvariantCulture) : "");

    /// <summary>"comm moved from 0x620 to 0x624 (+4)", "+ flags2 at 0x28, size 4 (unsigned int)", ...</summary>
    public string Describe()
    {
        var ci = CultureInfo.InvariantCulture;
        if (Old is null)
            return $"+ {Path} added at {Where(New!)} ({New!.Offset.ToString(ci)}), size {New.Size.ToString(ci)}: {New.Declaration}";
        if (New is null)
            return $"- {Path} removed (was at {Where(Old)} ({Old.Offset.ToString(ci)}), size {Old.Size.ToString(ci)}: {Old.Declaration})";
        var parts = new List<string>();
        if ((Changes & BtfMemberChanges.Moved) != 0)
        {
            long delta = New.BitOffset - Old.BitOffset;
            string d = delta % 8 == 0 ? (delta / 8).ToString("+#;-#;0", ci) : (delta.ToString("+#;-#;0", ci) + " bits");
            parts.Add($"moved from {Where(Old)} to {Where(New)} ({d})");
        }
        if ((Changes & BtfMemberChanges.Resized) != 0)
            parts.Add($"size {Old.Size.ToString(ci)} -> {New.Size.ToString(ci)}");
        if ((Changes & BtfMemberChanges.BitfieldChanged) != 0)
            parts.Add($"bitfield width {Old.BitfieldSize.ToString(ci)} -> {New.BitfieldSize.ToString(ci)}");
        if ((Changes & BtfMemberChanges.TypeChanged) != 0)
            parts.Add($"type {Old.TypeName} -> {New.TypeName}");
        return Path + " " + string.Join(", ", parts);
    }

    public override string ToString() => Describe();
}

/// <summary>The comparison of one struct or union.</summary>
internal sealed class BtfTypeDiff
{
    internal BtfTypeDiff(string name, BtfKind kind, BtfLayout? a, BtfLayout? b, IReadOnlyList<BtfMemberChange> changes)
    {
        Name = name;
        Kind = kind;
        A = a;
        B = b;
        Changes = changes;
    }

    public string Name { get; }
    public BtfKind Kind { get; }
    /// <summary>Layout in the first spec, null when the type is missing there.</summary>
    public BtfLayout? A { get; }
    /// <summary>Layout in the second spec, null when the type is missing there.</summary>
    public BtfLayout? B { get; }
    public IReadOnlyList<BtfMemberChange> Changes { get; }
    public bool SizeChanged => A != null && B != null && A.Size != B.Size;
    public bool HasDifferences => A is null || B is null || SizeChanged || Changes.Count > 0;

    /// <summary>The change of the member with this path, or null.</summary>
    public BtfMemberChange? FindChange(string path)
    {
        foreach (var c in Changes)
            if (string.Equals(c.Path, path, StringComparison.Ordinal)) return c;
        return null;
    }
}

/// <summary>The result of <see cref="BtfLayout.Diff"/>.</summary>
internal sealed class BtfLayoutDiff
{
    internal BtfLayoutDiff(IReadOnlyList<BtfTypeDiff> types, int compared)
    {
        Types = types;
        ComparedCount = compared;
    }

    /// <summary>The types compared (or asked for) that differ; with explicit names, every named type.</summary>
    public IReadOnlyList<BtfTypeDiff> Types { get; }

    /// <summary>How many types were present on both sides and compared.</summary>
    public int ComparedCount { get; }

    public bool HasDifferences
    {
        get
        {
            foreach (var t in Types)
                if (t.HasDifferences) return true;
            return false;
        }
    }

    public BtfTypeDiff? Find(string name)
    {
        foreach (var t in Types)
            if (string.Equals(t.Name, name, StringComparison.Ordinal)) return t;
        return null;
    }

    public override string ToString()
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        Write(sw, "A", "B");
        return sw.ToString();
    }

    /// <summary>
    /// Writes one block per type: a header line ("struct task_struct: size 9792 -> 9856 (+64)") and one line per
    /// changed member ("    comm moved from 0x620 to 0x624 (+4)"). <paramref name="nameA"/>/<paramref name="nameB"/>
    /// label the sides when a type exists on one side only.
    /// </summary>
    public void Write(TextWriter writer, string nameA, string nameB)
    {
        if (writer is null) throw new ArgumentNullException(nameof(writer));
        var ci = CultureInfo.InvariantCulture;
        int differing = 0;
        foreach (var t in Types)
        {
            string kw = t.Kind == BtfKind.Union ? "union " : "struct ";
            if (t.A is null && t.B is null)
            {
                writer.Write($"{t.Name}: no struct or union of that name in either {nameA} or {nameB}\n");
                differing++;
                continue;
            }
            if (t.A is null || t.B is null)
            {
                writer.Write($"{kw}{t.Name}: only in {(t.A is null ? nameB : nameA)}\n");
                differing++;
                continue;
            }
            if (!t.HasDifferences)
            {
                writer.Write($"{kw}{t.Name}: no layout changes (size {t.A.Size.ToString(ci)})\n");
                continue;
            }
            differing++;
            writer.Write(kw + t.Name + ": ");
            if (t.SizeChanged)
                writer.Write($"size {t.A.Size.ToString(ci)} -> {t.B.Size.ToString(ci)} ({(t.B.Size - t.A.Size).ToString("+#;-#;0", ci)})");
            else
                writer.Write($"size {t.A.Size.ToString(ci)} (unchanged)");
            writer.Write(t.Changes.Count == 1 ? ", 1 member changed\n" : $", {t.Changes.Count.ToString(ci)} members changed\n");
            foreach (var c in t.Changes)
            {
                writer.Write("    ");
                writer.Write(c.Describe());
                writer.Write('\n');
            }
        }
        writer.Write($"{ComparedCount.ToString(ci)} compared, {differing.ToString(ci)} with differences\n");
    }
}
