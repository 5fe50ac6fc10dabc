using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;

namespace Ebpf.Btf;

/// <summary>
/// BTF to C: the <c>vmlinux.h</c> that <c>bpftool btf dump file FILE format c</c> prints. Types come out in an
/// order a C compiler accepts (everything a definition embeds is defined before it, pointers are satisfied with
/// forward declarations), anonymous structs, unions and enums are written inline where they are used, duplicate
/// names get a <c>___N</c> suffix, bitfields and padding reproduce the BTF layout, and structs whose layout
/// cannot come from natural alignment are marked <c>__attribute__((packed))</c>.
/// </summary>
/// <remarks>
/// The algorithm follows libbpf's btf_dump (topological ordering with weak links through pointers and strong
/// links through embedding), so the output matches bpftool 7.1's line for line for the same BTF, except where
/// bpftool's header would not reproduce the kernel's layout:
/// <list type="bullet">
/// <item>1-byte enums get <c>__attribute__((mode(byte)))</c>, and 8-byte enums whose values all fit in 32 bits
/// <c>__attribute__((mode(word)))</c> (as newer libbpf does; libbpf 1.1 leaves both 4 bytes wide);</item>
/// <item>a union whose size is not a multiple of its alignment is marked packed (libbpf checks structs only);</item>
/// <item>the kernel's <c>__builtin_va_list</c> typedef (x86-64: 24 bytes) is kept as <see cref="KernelVaListName"/>
/// rather than skipped in favour of the BPF target's builtin, which is a pointer.</item>
/// </list>
/// Malformed BTF that cannot be C (a struct that embeds itself, a typedef or pointer chain that loops) fails
/// with a <see cref="BtfFormatException"/>.
/// </remarks>
internal static class BtfCDump
{
    /// <summary>Writes a complete header: include guard, the preserve_access_index pragma and every type.</summary>
    public static void WriteC(BtfSpec spec, TextWriter writer)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        var sink = new BtfTextSink(writer) { Limit = BtfTextSink.LimitFor(spec) };
        WriteProlog(sink);
        var d = new Dumper(spec, sink, declOnly: false);
        for (int id = 1; id < spec.TypeCount; id++)
            d.DumpType(id);
        WriteEpilog(sink);
        sink.Flush();
    }

    /// <summary>
    /// Writes a complete header with only the given types and what they need (bpftool's <c>root_id</c>).
    /// </summary>
    public static void WriteC(BtfSpec spec, IEnumerable<int> rootTypeIds, TextWriter writer)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        if (rootTypeIds is null) throw new ArgumentNullException(nameof(rootTypeIds));
        var sink = new BtfTextSink(writer) { Limit = BtfTextSink.LimitFor(spec) };
        WriteProlog(sink);
        var d = new Dumper(spec, sink, declOnly: false);
        foreach (int id in rootTypeIds)
        {
            if (id <= 0 || id >= spec.TypeCount)
                throw new ArgumentOutOfRangeException(nameof(rootTypeIds), $"type id {id} is out of range (1..{spec.TypeCount - 1})");
            d.DumpType(id);
        }
        WriteEpilog(sink);
        sink.Flush();
    }

    /// <summary>
    /// Writes the definitions of the given types and of everything they depend on, without the header guard
    /// and pragma (btf_dump__dump_type for each id).
    /// </summary>
    public static void WriteTypes(BtfSpec spec, IEnumerable<int> typeIds, TextWriter writer)
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        if (typeIds is null) throw new ArgumentNullException(nameof(typeIds));
        var sink = new BtfTextSink(writer) { Limit = BtfTextSink.LimitFor(spec) };
        var d = new Dumper(spec, sink, declOnly: false);
        foreach (int id in typeIds)
        {
            if (id <= 0 || id >= spec.TypeCount)
                throw new ArgumentOutOfRangeException(nameof(typeIds), $"type id {id} is out of range (1..{spec.TypeCount - 1})");
            d.DumpType(id);
        }
        sink.Flush();
    }

    /// <summary>
    /// A C declaration of <paramref name="name"/> with the given type (btf_dump__emit_type_decl):
    /// "int (*handler)(void *)", "char comm[16]", "struct task_struct *". Anonymous types are written inline.
    /// </summary>
    public static string FormatDeclaration(BtfSpec spec, int typeId, string name = "")
    {
        if (spec is null) throw new ArgumentNullException(nameof(spec));
        spec.CheckId(typeId);
        var sw = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        var sink = new BtfTextSink(sw) { Limit = BtfTextSink.LimitFor(spec) };
        var d = new Dumper(spec, sink, declOnly: false);
        d.EmitTypeDecl(typeId, name ?? string.Empty, 0);
        sink.Flush();
        return sw.ToString();
    }

    /// <summary>
    /// Short declarations for listings: raw names, anonymous struct/union/enum types shown as "struct {...}".
    /// One instance per spec; not thread-safe.
    /// </summary>
    internal sealed class ShortDeclarations
    {
        private readonly StringWriter _sw = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        private readonly BtfTextSink _sink;
        private readonly Dumper _dumper;

        public ShortDeclarations(BtfSpec spec)
        {
            _sink = new BtfTextSink(_sw);
            _dumper = new Dumper(spec, _sink, declOnly: true);
        }

        public string Format(int typeId, string name)
        {
            _dumper.EmitTypeDecl(typeId, name, 0);
            _sink.Flush();
            var sb = _sw.GetStringBuilder();
            string s = sb.ToString();
            sb.Clear();
            return s;
        }
    }

    private static void WriteProlog(BtfTextSink o)
    {
        o.Append("#ifndef __VMLINUX_H__\n");
        o.Append("#define __VMLINUX_H__\n");
        o.Append('\n');
        o.Append("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
        o.Append("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n");
        o.Append("#endif\n\n");
    }

    private static void WriteEpilog(BtfTextSink o)
    {
        o.Append("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
        o.Append("#pragma clang attribute pop\n");
        o.Append("#endif\n");
        o.Append('\n');
        o.Append("#endif /* __VMLINUX_H__ */\n");
    }

    /// <summary>
    /// Name under which a kernel's __builtin_va_list typedef is written when its size differs from the BPF
    /// target's builtin (a pointer): <c>typedef struct __va_list_tag __kernel_builtin_va_list[1];</c>, so that
    /// structs holding a va_list keep the kernel's layout. bpftool skips the typedef and uses the builtin.
    /// </summary>
    public const string KernelVaListName = "__kernel_builtin_va_list";

    private static ReadOnlySpan<byte> BuiltinVaList => "__builtin_va_list"u8;

    private enum OrderState : byte { NotOrdered, Ordering, Ordered }

    private enum EmitState : byte { NotEmitted, Emitting, Emitted }

    private sealed class Dumper
    {
        private readonly BtfSpec _s;
        private readonly BtfTextSink _o;
        private readonly int _ptrSize;
        private readonly OrderState[] _order;
        private readonly EmitState[] _emit;
        private readonly bool[] _fwdEmitted;
        private readonly bool[] _nameResolved;
        private readonly bool[] _referenced;
        private readonly string?[] _cachedNames;
        private readonly Dictionary<string, int> _typeNames = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _identNames = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly List<int> _queue = new List<int>();
        private readonly List<int> _declStack = new List<int>();

        /// <summary>
        /// Declaration-only mode: no ordering state, raw names (no ___N de-duplication), anonymous
        /// composites abbreviated as "struct {...}". Cheap to create; used for member type names.
        /// </summary>
        private readonly bool _declOnly;

        public Dumper(BtfSpec spec, BtfTextSink sink, bool declOnly)
        {
            _s = spec;
            _o = sink;
            _declOnly = declOnly;
            _maxSteps = BtfTextSink.LimitFor(spec) / 2;
            _ptrSize = spec.PointerSize;
            int n = declOnly ? 1 : spec.TypeCount;
            _order = new OrderState[n];
            _emit = new EmitState[n];
            _fwdEmitted = new bool[n];
            _nameResolved = new bool[n];
            _referenced = new bool[n];
            _cachedNames = new string?[n];
            _order[0] = OrderState.Ordered;
            _emit[0] = EmitState.Emitted;
            if (!declOnly)
            {
                for (int id = 1; id < n; id++)
                    MarkReferenced(id);
            }
        }

        // ------------------------------------------------------------ raw access

        private BtfKind Kind(int id) => _s.GetKind(id);
        private int Vlen(int id) => _s.GetVlen(id);
        private bool KFlag(int id) => _s.GetKindFlag(id);
        private uint SizeOrType(int id) => _s.GetSizeOrType(id);
        private int RefType(int id) => (int)_s.GetSizeOrType(id);
        private bool HasName(int id) => id != 0 && _s.GetNameOffset(id) != 0;
        private string RawName(int id) => _s.GetName(id);

        private static uint U32(ReadOnlySpan<byte> r, int o) => BinaryPrimitives.ReadUInt32LittleEndian(r.Slice(o, 4));

        private int ArrayElem(int id) => (int)U32(_s.GetRecord(id), 12);
        private int ArrayIndexType(int id) => (int)U32(_s.GetRecord(id), 16);
        private uint ArrayCount(int id) => U32(_s.GetRecord(id), 20);

        /// <summary>Member i of a struct/union: type, bit offset, bitfield size.</summary>
        private void Member(int id, int i, out int nameOff, out int type, out uint bitOff, out uint bitSize, out uint rawOffset)
        {
            var r = _s.GetRecord(id);
            int p = 12 + i * 12;
            nameOff = (int)U32(r, p);
            type = (int)U32(r, p + 4);
            rawOffset = U32(r, p + 8);
            if ((U32(r, 4) >> 31) != 0)
            {
                bitOff = rawOffset & 0xffffff;
                bitSize = rawOffset >> 24;
            }
            else
            {
                bitOff = rawOffset;
                bitSize = 0;
            }
        }

        private int MemberType(int id, int i) => (int)U32(_s.GetRecord(id), 12 + i * 12 + 4);

        private void Param(int id, int i, out int nameOff, out int type)
        {
            var r = _s.GetRecord(id);
            nameOff = (int)U32(r, 12 + i * 8);
            type = (int)U32(r, 12 + i * 8 + 4);
        }

        // ------------------------------------------------------------ referenced marks

        private void Ref(int id)
        {
            if ((uint)id < (uint)_referenced.Length)
                _referenced[id] = true;
        }

        private void MarkReferenced(int id)
        {
            int vlen = Vlen(id);
            switch (Kind(id))
            {
                case BtfKind.Volatile:
                case BtfKind.Const:
                case BtfKind.Restrict:
                case BtfKind.Ptr:
                case BtfKind.Typedef:
                case BtfKind.Func:
                case BtfKind.Var:
                case BtfKind.DeclTag:
                case BtfKind.TypeTag:
                    Ref(RefType(id));
                    break;
                case BtfKind.Array:
                    Ref(ArrayIndexType(id));
                    Ref(ArrayElem(id));
                    break;
                case BtfKind.Struct:
                case BtfKind.Union:
                    for (int i = 0; i < vlen; i++)
                        Ref(MemberType(id, i));
                    break;
                case BtfKind.FuncProto:
                    for (int i = 0; i < vlen; i++)
                    {
                        Param(id, i, out _, out int t);
                        Ref(t);
                    }
                    break;
                case BtfKind.Datasec:
                {
                    var r = _s.GetRecord(id);
                    for (int i = 0; i < vlen; i++)
                        Ref((int)U32(r, 12 + i * 12));
                    break;
                }
            }
        }

        // ------------------------------------------------------------ ordering

        public void DumpType(int id)
        {
            _queue.Clear();
            int err = OrderType(id, false);
            if (err < 0)
                throw new BtfFormatException(-1, $"type [{-err}]: unsatisfiable type cycle, cannot be expressed in C");
            foreach (int q in _queue)
                EmitType(q, 0);
        }

        /// <summary>
        /// Recursion limit for ordering and emitting. Real BTF nests a few dozen levels; malformed BTF (a typedef or
        /// pointer chain that loops, an anonymous struct that contains itself) would otherwise recurse until the
        /// stack overflows.
        /// </summary>
        private const int MaxDepth = 1024;

        private int _depth;

        /// <summary>
        /// Types visited so far, and the most allowed. Anonymous types are visited again at every use (as libbpf
        /// does), so BTF whose anonymous types nest with fan-out takes exponential time without writing anything;
        /// the budget (8 Mi visits plus 16 per byte of BTF, several times what a kernel's BTF needs) bounds it.
        /// </summary>
        private long _steps;
        private readonly long _maxSteps;

        internal long Steps => _steps;

        private void Enter(int id)
        {
            if (++_depth > MaxDepth)
            {
                _depth = 0;
                throw new BtfFormatException(-1, $"type [{id}]: types nest more than {MaxDepth} levels deep (a reference cycle?)");
            }
            if (++_steps > _maxSteps)
            {
                _depth = 0;
                throw new BtfFormatException(-1, $"type [{id}]: writing these types as C takes more than {_maxSteps} steps (anonymous types nested so that inlining them multiplies)");
            }
        }

        /// <summary>1 = strong link (must be fully defined first), 0 = weak (a forward declaration will do), -id = cycle at id.</summary>
        private int OrderType(int id, bool throughPtr)
        {
            Enter(id);
            try
            {
                return OrderTypeCore(id, throughPtr);
            }
            finally
            {
                _depth--;
            }
        }

        private int OrderTypeCore(int id, bool throughPtr)
        {
            if (_order[id] == OrderState.Ordered)
                return 1;
            var kind = Kind(id);
            if (_order[id] == OrderState.Ordering)
            {
                if ((kind == BtfKind.Struct || kind == BtfKind.Union) && throughPtr && HasName(id))
                    return 0;
                return -id;
            }

            switch (kind)
            {
                case BtfKind.Int:
                case BtfKind.Float:
                    _order[id] = OrderState.Ordered;
                    return 0;
                case BtfKind.Ptr:
                {
                    int err = OrderType(RefType(id), true);
                    _order[id] = OrderState.Ordered;
                    return err;
                }
                case BtfKind.Array:
                    return OrderType(ArrayElem(id), false);
                case BtfKind.Struct:
                case BtfKind.Union:
                {
                    // Part of a strong link only when embedded (no pointer on the way) or anonymous (defined inline).
                    if (throughPtr && HasName(id))
                        return 0;
                    _order[id] = OrderState.Ordering;
                    int vlen = Vlen(id);
                    for (int i = 0; i < vlen; i++)
                    {
                        int err = OrderType(MemberType(id, i), false);
                        if (err < 0)
                            return err;
                    }
                    if (HasName(id))
                        _queue.Add(id);
                    _order[id] = OrderState.Ordered;
                    return 1;
                }
                case BtfKind.Enum:
                case BtfKind.Enum64:
                case BtfKind.Fwd:
                    // Named or unreferenced (top-level anonymous) enums are declarations of their own.
                    if (HasName(id) || !_referenced[id])
                        _queue.Add(id);
                    _order[id] = OrderState.Ordered;
                    return 1;
                case BtfKind.Typedef:
                {
                    int isStrong = OrderType(RefType(id), throughPtr);
                    if (isStrong < 0)
                        return isStrong;
                    if (throughPtr && isStrong == 0)
                        return 0;
                    _queue.Add(id);
                    _order[id] = OrderState.Ordered;
                    return 1;
                }
                case BtfKind.Volatile:
                case BtfKind.Const:
                case BtfKind.Restrict:
                case BtfKind.TypeTag:
                    return OrderType(RefType(id), throughPtr);
                case BtfKind.FuncProto:
                {
                    int err = OrderType(RefType(id), throughPtr);
                    if (err < 0)
                        return err;
                    bool strong = err > 0;
                    int vlen = Vlen(id);
                    for (int i = 0; i < vlen; i++)
                    {
                        Param(id, i, out _, out int pt);
                        err = OrderType(pt, throughPtr);
                        if (err < 0)
                            return err;
                        if (err > 0)
                            strong = true;
                    }
                    return strong ? 1 : 0;
                }
                default:
                    // FUNC, VAR, DATASEC, DECL_TAG: not C type definitions.
                    _order[id] = OrderState.Ordered;
                    return 0;
            }
        }

        // ------------------------------------------------------------ emitting

        /// <summary>
        /// The compiler's own __builtin_va_list cannot be redefined (libbpf skips it). But the kernel's is
        /// x86-64's struct __va_list_tag[1] (24 bytes) or arm64's struct (32 bytes), while the BPF target's is a
        /// pointer, so using the builtin would shrink every struct holding a va_list. When the BTF's typedef has a
        /// size other than a pointer's it is therefore emitted under another name, <see cref="KernelVaListName"/>.
        /// </summary>
        private bool IsBlacklisted(int id) => IsBuiltinVaList(id) && !NeedsVaListRename(id);

        private bool IsBuiltinVaList(int id) => HasName(id) && Kind(id) == BtfKind.Typedef && _s.GetNameBytes(id).SequenceEqual(BuiltinVaList);

        private bool NeedsVaListRename(int id) => _s.TryResolveSize(id, out long size) && size != _ptrSize;

        private void EmitType(int id, int contId)
        {
            Enter(id);
            try
            {
                EmitTypeCore(id, contId);
            }
            finally
            {
                _depth--;
            }
        }

        private void EmitTypeCore(int id, int contId)
        {
            if (_emit[id] == EmitState.Emitted)
                return;
            bool topLevel = contId == 0;
            var kind = Kind(id);

            if (_emit[id] == EmitState.Emitting)
            {
                if (_fwdEmitted[id])
                    return;
                switch (kind)
                {
                    case BtfKind.Struct:
                    case BtfKind.Union:
                        // Referring to the struct we are inside of needs no forward declaration.
                        if (id == contId)
                            return;
                        if (!HasName(id))
                            return; // anonymous struct/union loop: nothing sensible to emit
                        EmitStructFwd(id);
                        _o.Append(";\n\n");
                        _fwdEmitted[id] = true;
                        break;
                    case BtfKind.Typedef:
                        // The typedef itself serves as the forward declaration for uses through pointers.
                        if (!IsBlacklisted(id))
                        {
                            EmitTypedefDef(id, 0);
                            _o.Append(";\n\n");
                        }
                        _fwdEmitted[id] = true;
                        break;
                }
                return;
            }

            switch (kind)
            {
                case BtfKind.Int:
                    EmitMissingAliases(id);
                    _emit[id] = EmitState.Emitted;
                    break;
                case BtfKind.Enum:
                case BtfKind.Enum64:
                    if (topLevel)
                    {
                        EmitEnumDef(id, 0);
                        _o.Append(";\n\n");
                    }
                    _emit[id] = EmitState.Emitted;
                    break;
                case BtfKind.Ptr:
                case BtfKind.Volatile:
                case BtfKind.Const:
                case BtfKind.Restrict:
                case BtfKind.TypeTag:
                    EmitType(RefType(id), contId);
                    break;
                case BtfKind.Array:
                    EmitType(ArrayElem(id), contId);
                    break;
                case BtfKind.Fwd:
                    EmitFwdDef(id);
                    _o.Append(";\n\n");
                    _emit[id] = EmitState.Emitted;
                    break;
                case BtfKind.Typedef:
                    _emit[id] = EmitState.Emitting;
                    EmitType(RefType(id), id);
                    if (!_fwdEmitted[id] && !IsBlacklisted(id))
                    {
                        EmitTypedefDef(id, 0);
                        _o.Append(";\n\n");
                    }
                    _emit[id] = EmitState.Emitted;
                    break;
                case BtfKind.Struct:
                case BtfKind.Union:
                    _emit[id] = EmitState.Emitting;
                    // A definition (top-level, or anonymous and so inline) writes out every member's type,
                    // so those need their forward declarations first.
                    if (topLevel || !HasName(id))
                    {
                        int vlen = Vlen(id);
                        int newCont = HasName(id) ? id : contId;
                        for (int i = 0; i < vlen; i++)
                            EmitType(MemberType(id, i), newCont);
                    }
                    else if (!_fwdEmitted[id] && id != contId)
                    {
                        EmitStructFwd(id);
                        _o.Append(";\n\n");
                        _fwdEmitted[id] = true;
                    }
                    if (topLevel)
                    {
                        EmitStructDef(id, 0);
                        _o.Append(";\n\n");
                        _emit[id] = EmitState.Emitted;
                    }
                    else
                    {
                        _emit[id] = EmitState.NotEmitted;
                    }
                    break;
                case BtfKind.FuncProto:
                {
                    EmitType(RefType(id), contId);
                    int vlen = Vlen(id);
                    for (int i = 0; i < vlen; i++)
                    {
                        Param(id, i, out _, out int pt);
                        EmitType(pt, contId);
                    }
                    break;
                }
            }
        }

        private static void Indent(BtfTextSink o, int lvl) => o.Append('\t', Math.Min(lvl, 13));

        private void Indent(int lvl) => Indent(_o, lvl);

        private int[]? _alignCache; // alignment + 1 per type id, 0 = not computed yet

        /// <summary><see cref="BtfSpec.AlignmentOf(int)"/>, memoised: structs embed structs, and every level asks again.</summary>
        private int AlignOf(int id)
        {
            var kind = Kind(id);
            if (kind != BtfKind.Struct && kind != BtfKind.Union)
                return kind == BtfKind.Int || kind == BtfKind.Enum || kind == BtfKind.Enum64 || kind == BtfKind.Float || kind == BtfKind.Ptr
                    ? _s.AlignmentOf(id)
                    : AlignOfMember(id);
            var cache = _alignCache ??= new int[_s.TypeCount];
            int cached = cache[id];
            if (cached != 0)
                return cached - 1;
            cache[id] = 1; // in progress: a struct that contains itself has no alignment
            int vlen = Vlen(id);
            int maxAlign = 1;
            int result = -1;
            for (int i = 0; i < vlen; i++)
            {
                Member(id, i, out _, out int mt, out _, out uint bitSz, out uint raw);
                int a = AlignOfMember(mt);
                if (a <= 0)
                {
                    result = 0;
                    break;
                }
                maxAlign = Math.Max(maxAlign, a);
                if (bitSz == 0 && raw % (uint)(8 * a) != 0)
                {
                    result = 1;
                    break;
                }
            }
            if (result < 0)
                result = SizeOrType(id) % (uint)maxAlign != 0 ? 1 : maxAlign;
            cache[id] = result + 1;
            return result;
        }

        /// <summary>Alignment of a member type: through typedefs, qualifiers and arrays to a cached struct alignment.</summary>
        private int AlignOfMember(int id)
        {
            for (int depth = 0; depth <= BtfSpec.MaxResolveDepth; depth++)
            {
                switch (Kind(id))
                {
                    case BtfKind.Typedef:
                    case BtfKind.Volatile:
                    case BtfKind.Const:
                    case BtfKind.Restrict:
                    case BtfKind.TypeTag:
                        id = RefType(id);
                        continue;
                    case BtfKind.Array:
                        id = ArrayElem(id);
                        continue;
                    case BtfKind.Struct:
                    case BtfKind.Union:
                        return AlignOf(id);
                    default:
                        return _s.AlignmentOf(id);
                }
            }
            return _s.AlignmentOf(id); // let the spec report the cycle
        }

        /// <summary>True when natural alignment cannot produce the struct's (or union's) layout.</summary>
        private bool IsStructPacked(int id)
        {
            int vlen = Vlen(id);
            int maxAlign = 1;
            for (int i = 0; i < vlen; i++)
            {
                Member(id, i, out _, out int mt, out _, out uint bitSz, out uint raw);
                int align = AlignOfMember(mt);
                if (align != 0 && bitSz == 0 && raw % (uint)(8 * align) != 0)
                    return true;
                maxAlign = Math.Max(align, maxAlign);
            }
            return SizeOrType(id) % (uint)maxAlign != 0;
        }

        private static readonly string[] PadNames = { "long", "int", "short", "char" };

        private static long RoundUp(long x, long y) => (x + y - 1) / y * y;

        /// <summary>Explicit anonymous bitfields that fill a gap the compiler would not leave by itself.</summary>
        private void EmitBitPadding(long curOff, long nextOff, int nextAlign, bool inBitfield, int lvl)
        {
            if (curOff >= nextOff)
                return;
            if (nextAlign <= 0)
                nextAlign = 1; // a member of a type without alignment (void, a cycle): malformed BTF, keep going
            Span<int> padBitsOf = stackalloc int[4];
            padBitsOf[0] = _ptrSize * 8;
            padBitsOf[1] = 32;
            padBitsOf[2] = 16;
            padBitsOf[3] = 8;
            long newOff = 0;
            int padBits = 0;
            string padType = "";
            for (int i = 0; i < 4; i++)
            {
                padBits = padBitsOf[i];
                padType = PadNames[i];
                newOff = RoundUp(curOff, padBits);
                if (newOff <= nextOff)
                    break;
            }
            if (newOff > curOff && newOff <= nextOff)
            {
                // An explicit "<type>: 0" is needed when the compiler would not align to newOff by itself;
                // inside a run of bitfields the exact bit count is written instead.
                if (inBitfield
                    || (newOff == nextOff && RoundUp(curOff, (long)nextAlign * 8) != newOff)
                    || (newOff != nextOff && nextOff - newOff <= newOff - curOff))
                {
                    _o.Append('\n');
                    Indent(lvl);
                    _o.Append(padType);
                    _o.Append(": ");
                    _o.AppendInt(inBitfield ? newOff - curOff : 0);
                    _o.Append(';');
                }
                curOff = newOff;
            }
            while (curOff != nextOff)
            {
                long bits = Math.Min(nextOff - curOff, padBits);
                if (bits == padBits)
                {
                    _o.Append('\n');
                    Indent(lvl);
                    _o.Append(padType);
                    _o.Append(": ");
                    _o.AppendInt(padBits);
                    _o.Append(';');
                    curOff += bits;
                    continue;
                }
                // The remainder: the smallest type that covers it.
                for (int i = 3; i >= 0; i--)
                {
                    padType = PadNames[i];
                    padBits = padBitsOf[i];
                    if (padBits < bits)
                        continue;
                    _o.Append('\n');
                    Indent(lvl);
                    _o.Append(padType);
                    _o.Append(": ");
                    _o.AppendInt(bits);
                    _o.Append(';');
                    curOff += bits;
                    break;
                }
            }
        }

        private void EmitStructFwd(int id)
        {
            _o.Append(Kind(id) == BtfKind.Struct ? "struct" : "union");
            if (HasName(id))
            {
                _o.Append(' ');
                _o.Append(TypeName(id));
            }
        }

        private void EmitStructDef(int id, int lvl)
        {
            Enter(id);
            try
            {
                EmitStructDefCore(id, lvl);
            }
            finally
            {
                _depth--;
            }
        }

        private void EmitStructDefCore(int id, int lvl)
        {
            bool isStruct = Kind(id) == BtfKind.Struct;
            int vlen = Vlen(id);
            uint size = SizeOrType(id);
            int align = AlignOf(id);
            // libbpf checks structs only; a union smaller than a multiple of its alignment (a packed union) is
            // marked too, or the compiler would round its size up.
            bool packed = IsStructPacked(id);

            _o.Append(isStruct ? "struct" : "union");
            if (HasName(id))
            {
                _o.Append(' ');
                _o.Append(TypeName(id));
            }
            _o.Append(" {");

            long off = 0;
            bool prevBitfield = false;
            for (int i = 0; i < vlen; i++)
            {
                Member(id, i, out int nameOff, out int mt, out uint mOff, out uint mSz, out _);
                string fname = nameOff == 0 ? string.Empty : _s.GetString(nameOff);
                int mAlign = packed ? 1 : AlignOfMember(mt);
                bool inBitfield = prevBitfield && mSz != 0;

                EmitBitPadding(off, mOff, mAlign, inBitfield, lvl + 1);
                _o.Append('\n');
                Indent(lvl + 1);
                EmitTypeDecl(mt, fname, lvl + 1);

                if (mSz != 0)
                {
                    _o.Append(": ");
                    _o.AppendUInt(mSz);
                    off = mOff + (long)mSz;
                    prevBitfield = true;
                }
                else
                {
                    long sz = _s.TryResolveSize(mt, out long rs) ? Math.Max(0, rs) : 0;
                    off = mOff + sz * 8;
                    prevBitfield = false;
                }
                _o.Append(';');
            }

            if (isStruct)
                EmitBitPadding(off, (long)size * 8, align, false, lvl + 1);

            if (vlen != 0 || size != 0)
            {
                _o.Append('\n');
                Indent(lvl);
                _o.Append('}');
            }
            else
            {
                _o.Append('}');
            }
            if (packed)
                _o.Append(" __attribute__((packed))");
        }

        private void EmitMissingAliases(int id)
        {
            if (!HasName(id))
                return;
            string name = TypeName(id);
            string? alias = name switch
            {
                "__Poly8_t" => "unsigned char",
                "__Poly16_t" => "unsigned short",
                "__Poly64_t" => "unsigned long long",
                "__Poly128_t" => "unsigned __int128",
                _ => null,
            };
            if (alias != null)
            {
                _o.Append("typedef ");
                _o.Append(alias);
                _o.Append(' ');
                _o.Append(name);
                _o.Append(";\n\n");
            }
        }

        private void EmitEnumFwd(int id)
        {
            _o.Append("enum ");
            _o.Append(TypeName(id));
        }

        private void EmitEnumDef(int id, int lvl)
        {
            int vlen = Vlen(id);
            _o.Append("enum");
            if (HasName(id))
            {
                _o.Append(' ');
                _o.Append(TypeName(id));
            }
            if (vlen == 0)
                return;
            _o.Append(" {");
            bool signed = KFlag(id);
            bool is64 = Kind(id) == BtfKind.Enum64;
            bool anyHigh = false;
            var r = _s.GetRecord(id);
            for (int i = 0; i < vlen; i++)
            {
                int p = 12 + i * (is64 ? 12 : 8);
                int nameOff = (int)U32(r, p);
                string name = _s.GetString(nameOff);
                int dup = NameDups(_identNames, name);
                _o.Append('\n');
                Indent(lvl + 1);
                _o.Append(name);
                if (dup > 1)
                {
                    _o.Append("___");
                    _o.AppendInt(dup);
                }
                _o.Append(" = ");
                if (is64)
                {
                    uint hi = U32(r, p + 8);
                    ulong v = ((ulong)hi << 32) | U32(r, p + 4);
                    if (hi != 0) anyHigh = true;
                    if (signed)
                    {
                        _o.AppendInt(unchecked((long)v));
                        _o.Append("LL,");
                    }
                    else
                    {
                        _o.AppendUInt(v);
                        _o.Append("ULL,");
                    }
                }
                else
                {
                    uint v = U32(r, p + 4);
                    if (signed) _o.AppendInt(unchecked((int)v));
                    else _o.AppendUInt(v);
                    _o.Append(',');
                }
            }
            _o.Append('\n');
            Indent(lvl);
            _o.Append('}');

            uint size = SizeOrType(id);
            if (size == 1)
            {
                _o.Append(" __attribute__((mode(byte)))");
            }
            else if (size == 8 && _ptrSize == 8)
            {
                // A 32-bit enum cannot be 8 bytes without mode(word); an enum64 only needs it when every value fits 32 bits.
                bool needsWordMode = !is64 || !anyHigh;
                if (needsWordMode)
                    _o.Append(" __attribute__((mode(word)))");
            }
        }

        private void EmitFwdDef(int id)
        {
            _o.Append(KFlag(id) ? "union " : "struct ");
            _o.Append(TypeName(id));
        }

        private void EmitTypedefDef(int id, int lvl)
        {
            string name = IdentName(id);
            if (RefType(id) == 0 && name == "__gnuc_va_list")
            {
                // Old GCC emitted this typedef pointing at void.
                _o.Append("typedef __builtin_va_list __gnuc_va_list");
                return;
            }
            _o.Append("typedef ");
            EmitTypeDecl(RefType(id), name, lvl);
        }

        // ------------------------------------------------------------ declarations

        public void EmitTypeDecl(int id, string fname, int lvl)
        {
            Enter(id);
            try
            {
                EmitTypeDeclCore(id, fname, lvl);
            }
            finally
            {
                _depth--;
            }
        }

        private void EmitTypeDeclCore(int id, string fname, int lvl)
        {
            int start = _declStack.Count;
            for (int depth = 0; ; depth++)
            {
                if (depth > 4096)
                    throw new BtfFormatException(-1, $"type [{id}]: declaration chain too deep (a reference cycle?)");
                _declStack.Add(id);
                if (id == 0)
                    break;
                bool done = false;
                switch (Kind(id))
                {
                    case BtfKind.Ptr:
                    case BtfKind.Volatile:
                    case BtfKind.Const:
                    case BtfKind.Restrict:
                    case BtfKind.FuncProto:
                    case BtfKind.TypeTag:
                        id = RefType(id);
                        break;
                    case BtfKind.Array:
                        id = ArrayElem(id);
                        break;
                    default:
                        done = true;
                        break;
                }
                if (done)
                    break;
            }
            int cnt = _declStack.Count - start;
            EmitTypeChain(start, ref cnt, fname, lvl);
            _declStack.RemoveRange(start, _declStack.Count - start);
        }

        private void EmitMods(int start, ref int cnt)
        {
            while (cnt > 0)
            {
                int id = _declStack[start + cnt - 1];
                switch (Kind(id))
                {
                    case BtfKind.Volatile:
                        _o.Append("volatile ");
                        break;
                    case BtfKind.Const:
                        _o.Append("const ");
                        break;
                    case BtfKind.Restrict:
                        _o.Append("restrict ");
                        break;
                    default:
                        return;
                }
                cnt--;
            }
        }

        private void DropMods(int start, ref int cnt)
        {
            while (cnt > 0)
            {
                var k = Kind(_declStack[start + cnt - 1]);
                if (k != BtfKind.Volatile && k != BtfKind.Const && k != BtfKind.Restrict && k != BtfKind.TypeTag)
                    return;
                cnt--;
            }
        }

        private void EmitName(string name, bool lastWasPtr)
        {
            if (name.Length != 0 && !lastWasPtr)
                _o.Append(' ');
            _o.Append(name);
        }

        private void EmitTypeChain(int start, ref int cnt, string fname, int lvl)
        {
            // Pointers are written "int ***" rather than "int * * *"; a chain that starts with a pointer
            // (a function pointer's "(*name)") also needs no leading space.
            bool lastWasPtr = true;
            while (cnt > 0)
            {
                int id = _declStack[start + --cnt];
                if (id == 0)
                {
                    EmitMods(start, ref cnt);
                    _o.Append("void");
                    lastWasPtr = false;
                    continue;
                }
                var kind = Kind(id);
                switch (kind)
                {
                    case BtfKind.Int:
                    case BtfKind.Float:
                        EmitMods(start, ref cnt);
                        _o.AppendUtf8(_s.GetNameBytes(id));
                        break;
                    case BtfKind.Struct:
                    case BtfKind.Union:
                        EmitMods(start, ref cnt);
                        if (!HasName(id))
                        {
                            if (_declOnly)
                                _o.Append(kind == BtfKind.Struct ? "struct {...}" : "union {...}");
                            else
                                EmitStructDef(id, lvl);
                        }
                        else
                        {
                            EmitStructFwd(id);
                        }
                        break;
                    case BtfKind.Enum:
                    case BtfKind.Enum64:
                        EmitMods(start, ref cnt);
                        if (!HasName(id))
                        {
                            if (_declOnly)
                                _o.Append("enum {...}");
                            else
                                EmitEnumDef(id, lvl);
                        }
                        else
                        {
                            EmitEnumFwd(id);
                        }
                        break;
                    case BtfKind.Fwd:
                        EmitMods(start, ref cnt);
                        EmitFwdDef(id);
                        break;
                    case BtfKind.Typedef:
                        EmitMods(start, ref cnt);
                        _o.Append(IdentName(id));
                        break;
                    case BtfKind.Ptr:
                        _o.Append(lastWasPtr ? "*" : " *");
                        break;
                    case BtfKind.Volatile:
                        _o.Append(" volatile");
                        break;
                    case BtfKind.Const:
                        _o.Append(" const");
                        break;
                    case BtfKind.Restrict:
                        _o.Append(" restrict");
                        break;
                    case BtfKind.TypeTag:
                        EmitMods(start, ref cnt);
                        _o.Append(" __attribute__((btf_type_tag(\"");
                        _o.AppendUtf8(_s.GetNameBytes(id));
                        _o.Append("\")))");
                        break;
                    case BtfKind.Array:
                    {
                        // Qualifiers on an array (GCC emits them for arrays of const elements) mean nothing in C.
                        DropMods(start, ref cnt);
                        uint n = ArrayCount(id);
                        if (cnt == 0)
                        {
                            EmitName(fname, lastWasPtr);
                            _o.Append('[');
                            _o.AppendUInt(n);
                            _o.Append(']');
                            return;
                        }
                        bool multidim = Kind(_declStack[start + cnt - 1]) == BtfKind.Array;
                        if (fname.Length != 0 && !lastWasPtr)
                            _o.Append(' ');
                        if (!multidim)
                            _o.Append('(');
                        EmitTypeChain(start, ref cnt, fname, lvl);
                        if (!multidim)
                            _o.Append(')');
                        _o.Append('[');
                        _o.AppendUInt(n);
                        _o.Append(']');
                        return;
                    }
                    case BtfKind.FuncProto:
                    {
                        DropMods(start, ref cnt);
                        if (cnt > 0)
                        {
                            _o.Append(" (");
                            EmitTypeChain(start, ref cnt, fname, lvl);
                            _o.Append(')');
                        }
                        else
                        {
                            EmitName(fname, lastWasPtr);
                        }
                        _o.Append('(');
                        int vlen = Vlen(id);
                        if (vlen == 0)
                        {
                            _o.Append("void)");
                            return;
                        }
                        Param(id, 0, out _, out int firstType);
                        if (vlen == 1 && firstType == 0)
                        {
                            _o.Append("void)");
                            return;
                        }
                        for (int i = 0; i < vlen; i++)
                        {
                            if (i > 0)
                                _o.Append(", ");
                            Param(id, i, out int pn, out int pt);
                            if (i == vlen - 1 && pt == 0)
                            {
                                _o.Append("...");
                                break;
                            }
                            EmitTypeDecl(pt, pn == 0 ? string.Empty : _s.GetString(pn), lvl);
                        }
                        _o.Append(')');
                        return;
                    }
                    default:
                        // VAR, DATASEC, FUNC, DECL_TAG cannot appear in a declaration chain.
                        return;
                }
                lastWasPtr = kind == BtfKind.Ptr;
            }
            EmitName(fname, lastWasPtr);
        }

        // ------------------------------------------------------------ names

        private static int NameDups(Dictionary<string, int> map, string name)
        {
            map.TryGetValue(name, out int n);
            n++;
            map[name] = n;
            return n;
        }

        private string ResolveName(int id, Dictionary<string, int> map)
        {
            if (!HasName(id))
                return string.Empty;
            if (_declOnly)
                return RawName(id);
            if (_nameResolved[id])
                return _cachedNames[id] ?? RawName(id);
            string orig = RawName(id);
            var kind = Kind(id);
            if (kind == BtfKind.Typedef && orig == "__builtin_va_list" && NeedsVaListRename(id))
                orig = KernelVaListName;
            if (kind == BtfKind.Fwd || (kind == BtfKind.Enum && Vlen(id) == 0))
            {
                _nameResolved[id] = true;
                return orig;
            }
            int dup = NameDups(map, orig);
            string result = orig;
            if (dup > 1)
                result = orig + "___" + dup.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _cachedNames[id] = result;
            _nameResolved[id] = true;
            return result;
        }

        private string TypeName(int id) => ResolveName(id, _typeNames);

        private string IdentName(int id) => ResolveName(id, _identNames);
    }
}
