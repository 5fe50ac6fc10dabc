using System;
using System.Collections.Generic;
using System.Threading;
using Ebpf.Btf;
using Ebpf.Objects;

namespace Ebpf.Core;

/// <summary>
/// Cuts a kernel's BTF down to what a set of BPF objects' CO-RE relocations resolve against (the job of bpftool's
/// <c>gen min_core_btf</c>, "BTFGen"), so that a few KiB per kernel can stand in for /sys/kernel/btf/vmlinux on
/// kernels built without BTF.
/// </summary>
/// <remarks>
/// <para>
/// Every relocation record of every object is matched against every candidate the full kernel BTF offers for its
/// local type, without the pruning a load applies: whatever matches in any order of programs (or with any subset of
/// programs loaded) is kept. What is kept, per relocation kind:
/// </para>
/// <list type="bullet">
/// <item>field kinds (byte_off, byte_sz, field_exists, signed, lshift_u64, rshift_u64): the candidate and, on the
/// access path, each member (anonymous ones included) with its name, offset and bitfield size, each struct/union with
/// its size, each array with its length, and the accessed field's type as far as compatibility, size and signedness
/// need it (structs without members, enums without enumerators, pointers to void unless their target is kept anyway);</item>
/// <item>type kinds (type_exists, type_size, type_id_target): the candidate and what type compatibility looks at,
/// following pointers, arrays and function prototypes; structs, unions and enums without members;</item>
/// <item>type_matches: the candidate's full shape (every member, every enumerator), and behind pointers the name
/// and kind of composites;</item>
/// <item>enum kinds (enumval_exists, enumval_value): the enum with the enumerators the relocations name, and their values.</item>
/// </list>
/// <para>
/// Typedefs and modifiers between types are dropped (CO-RE skips them everywhere but at the root, which is kept
/// as it is); parameter names and array index types are dropped. Types keep their relative order, so candidate
/// order, and with it every decision, is the same as against the full BTF. The only value that differs is the one
/// a type_id_target relocation yields: a type id, which <see cref="CoreMinimizedBtf.MapTypeId"/> translates.
/// Kernel BTF used for anything other than CO-RE (programs attached by BTF id, typed ksyms, kfuncs) cannot be
/// minimized: <see cref="CoreMinimizerObjectReport.NeedsKernelBtf"/> says which parts of an object need it.
/// </para>
/// </remarks>
internal sealed class CoreBtfMinimizer
{
    private readonly BtfSpec _kernel;
    private readonly Dictionary<int, Mark> _marks = new Dictionary<int, Mark>();
    private readonly List<CoreMinimizerObjectReport> _objects = new List<CoreMinimizerObjectReport>();

    public CoreBtfMinimizer(BtfSpec kernel, string? label = null)
    {
        _kernel = kernel ?? throw new ArgumentNullException(nameof(kernel));
        if (kernel.Base != null)
            throw new ArgumentException("the kernel BTF must not be split BTF (minimize vmlinux BTF, not a module's)", nameof(kernel));
        Label = string.IsNullOrEmpty(label) ? "vmlinux" : label!;
    }

    /// <summary>Names the kernel in reports.</summary>
    public string Label { get; }

    /// <summary>The kernel BTF being minimized.</summary>
    public BtfSpec Kernel => _kernel;

    /// <summary>What was recorded for each object added so far.</summary>
    public IReadOnlyList<CoreMinimizerObjectReport> Objects => _objects;

    /// <summary>Records what the CO-RE relocations of <paramref name="obj"/> need from the kernel BTF.</summary>
    public CoreMinimizerObjectReport Add(BpfObjectSpec obj, CancellationToken cancellationToken = default)
    {
        if (obj is null) throw new ArgumentNullException(nameof(obj));
        var needs = new List<string>();
        foreach (var p in obj.Programs)
        {
            var def = p.Section?.Definition;
            if (def != null && def.AttachesByBtf)
                needs.Add($"program '{p.Name}' (SEC(\"{p.SectionName}\")) attaches by BTF id");
        }
        foreach (var e in obj.Externs)
        {
            if (e.Kind != ExternKind.Ksym)
                continue;
            if (e.IsFunction)
                needs.Add($"kfunc '{e.Name}' is resolved in the kernel's BTF");
            else if (e.IsTypedKsym)
                needs.Add($"typed ksym '{e.Name}' is resolved in the kernel's BTF");
        }
        var report = obj.Btf != null && obj.BtfExt != null
            ? Record(obj.Name, obj.Btf, obj.BtfExt.CoreRelos, needs, cancellationToken)
            : new CoreMinimizerObjectReport(obj.Name, 0, 0, 0, 0, needs, Array.Empty<string>());
        _objects.Add(report);
        return report;
    }

    /// <summary>Records the CO-RE relocations of an object given by its BTF and .BTF.ext.</summary>
    public CoreMinimizerObjectReport Add(string name, BtfSpec localBtf, BtfExt ext, CancellationToken cancellationToken = default)
    {
        if (ext is null) throw new ArgumentNullException(nameof(ext));
        return Add(name, localBtf, ext.CoreRelos, cancellationToken);
    }

    /// <summary>Records CO-RE relocation records given section by section (as .BTF.ext holds them).</summary>
    public CoreMinimizerObjectReport Add(string name, BtfSpec localBtf, IReadOnlyList<BtfExtSection<BtfCoreRelo>> coreRelos, CancellationToken cancellationToken = default)
    {
        if (localBtf is null) throw new ArgumentNullException(nameof(localBtf));
        if (coreRelos is null) throw new ArgumentNullException(nameof(coreRelos));
        var report = Record(name ?? string.Empty, localBtf, coreRelos, Array.Empty<string>(), cancellationToken);
        _objects.Add(report);
        return report;
    }

    private CoreMinimizerObjectReport Record(string name, BtfSpec local, IReadOnlyList<BtfExtSection<BtfCoreRelo>> coreRelos, IReadOnlyList<string> needs, CancellationToken ct)
    {
        var targets = new CoreTargets(_kernel, Label);
        var candidates = new Dictionary<int, IReadOnlyList<CoreCandidate>>();
        var notes = new List<string>();
        int records = 0, kernelRecords = 0, matched = 0, unmatched = 0;
        foreach (var sec in coreRelos)
        {
            for (int i = 0; i < sec.Records.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var rec = sec.Records[i];
                records++;
                if (rec.Kind == CoreReloKind.TypeIdLocal)
                    continue;   // resolved from the object's own BTF
                kernelRecords++;
                if (!local.IsValidStringOffset((int)Math.Min(rec.AccessStringOffset, int.MaxValue)))
                {
                    notes.Add($"sec '{sec.SectionName}' relo #{i}: access string offset {rec.AccessStringOffset} is invalid; the load refuses it whatever the BTF");
                    continue;
                }
                CoreSpec localSpec;
                try
                {
                    localSpec = CoreSpec.Parse(local, rec.TypeId, local.GetString((int)rec.AccessStringOffset), rec.Kind);
                }
                catch (BpfCoreRelocationException e)
                {
                    notes.Add($"sec '{sec.SectionName}' relo #{i}: {e.Message}; the load refuses it whatever the BTF");
                    continue;
                }
                if (local.GetNameBytes(rec.TypeId).IsEmpty)
                {
                    notes.Add($"sec '{sec.SectionName}' relo #{i}: relocation on an anonymous type; the load refuses it whatever the BTF");
                    continue;
                }
                if (!candidates.TryGetValue(rec.TypeId, out var cands))
                {
                    cands = CoreCandidateCache.FindCandidates(local, rec.TypeId, targets);
                    candidates.Add(rec.TypeId, cands);
                }
                bool any = false;
                foreach (var cand in cands)
                {
                    CoreSpec targetSpec;
                    bool isMatch;
                    try
                    {
                        isMatch = CoreCompat.SpecMatch(localSpec, cand.Btf, cand.TypeId, out targetSpec);
                    }
                    catch (BpfCoreRelocationException e)
                    {
                        notes.Add($"sec '{sec.SectionName}' relo #{i}: matching {cand} fails ({e.Message}); the load refuses it against the full BTF");
                        continue;
                    }
                    if (!isMatch)
                        continue;
                    any = true;
                    KeepMatch(rec.Kind, targetSpec);
                }
                if (any) matched++;
                else unmatched++;
            }
        }
        return new CoreMinimizerObjectReport(name, records, kernelRecords, matched, unmatched, needs, notes);
    }

    // ------------------------------------------------------------------ marking

    private sealed class Mark
    {
        public HashSet<int>? Members;
        public bool AllMembers;
        public HashSet<int>? Enumerators;
        public bool AllEnumerators;
        public bool FieldShapeDone;
        public bool CompatDone;
        public bool MatchDone;
        public bool MatchBehindPointerDone;
    }

    private Mark Keep(int id)
    {
        if (!_marks.TryGetValue(id, out var m))
        {
            m = new Mark();
            _marks.Add(id, m);
        }
        return m;
    }

    /// <summary>Skips typedefs and modifiers (CO-RE looks through them everywhere except at the root).</summary>
    private int Resolve(int id) => _kernel.TrySkipModsAndTypedefs(id, out int r) ? r : id;

    private void KeepMatch(CoreReloKind kind, CoreSpec target)
    {
        int root = target.RootTypeId;
        if (root == 0)
            return;
        Keep(root);
        int id = Resolve(root);
        if (kind.IsFieldBased())
        {
            KeepFieldShape(id);
            var raw = target.RawSpec;
            for (int i = 1; i < raw.Count; i++)
            {
                id = Resolve(id);
                var k = _kernel.GetKind(id);
                if (k == BtfKind.Struct || k == BtfKind.Union)
                {
                    var m = Keep(id);
                    (m.Members ??= new HashSet<int>()).Add(raw[i]);
                    _kernel.GetMemberRaw(id, raw[i], out _, out int memberType, out _);
                    id = memberType;
                }
                else if (k == BtfKind.Array)
                {
                    _kernel.GetArrayInfo(id, out id, out _);
                }
                else
                {
                    return; // the matcher would not have matched
                }
                KeepFieldShape(Resolve(id));
            }
        }
        else if (kind.IsEnumValueBased())
        {
            var m = Keep(id);
            if (target.Accessors.Count > 0)
                (m.Enumerators ??= new HashSet<int>()).Add(target.Accessors[0].Index);
        }
        else if (kind == CoreReloKind.TypeMatches)
        {
            KeepMatchShape(id, behindPointer: false);
        }
        else
        {
            KeepCompatShape(id);
        }
    }

    /// <summary>What field compatibility, sizes and signedness look at: kind, size, int encoding, enum/fwd name, array length and element.</summary>
    private void KeepFieldShape(int id)
    {
        while (id != 0)
        {
            var m = Keep(id);
            if (m.FieldShapeDone)
                return;
            m.FieldShapeDone = true;
            if (_kernel.GetKind(id) != BtfKind.Array)
                return;
            _kernel.GetArrayInfo(id, out int elem, out _);
            id = Resolve(elem);
        }
    }

    /// <summary>What bpf_core_types_are_compat looks at: pointers, arrays and prototypes followed; composites and enums by name.</summary>
    private void KeepCompatShape(int id)
    {
        if (id == 0)
            return;
        var m = Keep(id);
        if (m.CompatDone)
            return;
        m.CompatDone = true;
        switch (_kernel.GetKind(id))
        {
            case BtfKind.Ptr:
                KeepCompatShape(Resolve(_kernel.GetRefType(id)));
                break;
            case BtfKind.Array:
                _kernel.GetArrayInfo(id, out int elem, out _);
                KeepCompatShape(Resolve(elem));
                break;
            case BtfKind.FuncProto:
                KeepCompatShape(Resolve(_kernel.GetRefType(id)));
                for (int i = 0, n = _kernel.GetVlen(id); i < n; i++)
                    KeepCompatShape(Resolve(_kernel.GetParamType(id, i)));
                break;
        }
    }

    /// <summary>What bpf_core_types_match looks at: the whole shape, and behind a pointer only names and kinds of composites.</summary>
    private void KeepMatchShape(int id, bool behindPointer)
    {
        if (id == 0)
            return;
        var m = Keep(id);
        if (behindPointer ? m.MatchBehindPointerDone : m.MatchDone)
            return;
        if (behindPointer) m.MatchBehindPointerDone = true;
        else m.MatchDone = true;
        switch (_kernel.GetKind(id))
        {
            case BtfKind.Struct:
            case BtfKind.Union:
                if (behindPointer)
                    break;
                m.AllMembers = true;
                for (int i = 0, n = _kernel.GetVlen(id); i < n; i++)
                {
                    _kernel.GetMemberRaw(id, i, out _, out int mt, out _);
                    KeepMatchShape(Resolve(mt), false);
                }
                break;
            case BtfKind.Enum:
            case BtfKind.Enum64:
                m.AllEnumerators = true;
                break;
            case BtfKind.Ptr:
                KeepMatchShape(Resolve(_kernel.GetRefType(id)), true);
                break;
            case BtfKind.Array:
                _kernel.GetArrayInfo(id, out int elem, out _);
                KeepMatchShape(Resolve(elem), behindPointer);
                break;
            case BtfKind.FuncProto:
                KeepMatchShape(Resolve(_kernel.GetRefType(id)), behindPointer);
                for (int i = 0, n = _kernel.GetVlen(id); i < n; i++)
                    KeepMatchShape(Resolve(_kernel.GetParamType(id, i)), behindPointer);
                break;
        }
    }

    // ------------------------------------------------------------------ output

    /// <summary>Writes the minimized BTF: the kept types in their original order, ids renumbered.</summary>
    public CoreMinimizedBtf Build()
    {
        KeepFlexibleArrayGuards();
        KeepPointerSizeWitness();

        var ids = new List<int>(_marks.Keys);
        ids.Sort();
        var newIds = new Dictionary<int, int>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
            newIds.Add(ids[i], i + 1);

        int Ref(int id)
        {
            if (id == 0)
                return 0;
            return newIds.TryGetValue(Resolve(id), out int n) ? n : 0;
        }

        var b = new BtfBuilder();
        var words = new List<uint>();
        foreach (int id in ids)
        {
            var m = _marks[id];
            var kind = _kernel.GetKind(id);
            int name = b.AddString(_kernel.GetName(id));
            bool kflag = _kernel.GetKindFlag(id);
            uint sizeOrType = _kernel.GetSizeOrType(id);
            var extra = _kernel.GetExtra(id);
            words.Clear();
            int vlen = 0;
            switch (kind)
            {
                case BtfKind.Int:
                    words.Add(BtfSpec.ReadU32(extra, 0));
                    break;
                case BtfKind.Float:
                case BtfKind.Fwd:
                    break;
                case BtfKind.Ptr:
                case BtfKind.Typedef:
                case BtfKind.Const:
                case BtfKind.Volatile:
                case BtfKind.Restrict:
                case BtfKind.TypeTag:
                case BtfKind.Func:
                    sizeOrType = (uint)Ref((int)sizeOrType);
                    vlen = kind == BtfKind.Func ? _kernel.GetVlen(id) : 0;
                    break;
                case BtfKind.Array:
                    words.Add((uint)Ref((int)BtfSpec.ReadU32(extra, 0)));
                    words.Add(0);   // index type: CO-RE never looks at it
                    words.Add(BtfSpec.ReadU32(extra, 8));
                    break;
                case BtfKind.Struct:
                case BtfKind.Union:
                    for (int i = 0, n = _kernel.GetVlen(id); i < n; i++)
                    {
                        if (!m.AllMembers && (m.Members == null || !m.Members.Contains(i)))
                            continue;
                        _kernel.GetMemberRaw(id, i, out int mn, out int mt, out uint off);
                        words.Add((uint)b.AddString(_kernel.GetString(mn)));
                        words.Add((uint)Ref(mt));
                        words.Add(off);
                        vlen++;
                    }
                    break;
                case BtfKind.Enum:
                case BtfKind.Enum64:
                {
                    int stride = kind == BtfKind.Enum ? 8 : 12;
                    for (int i = 0, n = _kernel.GetVlen(id); i < n; i++)
                    {
                        if (!m.AllEnumerators && (m.Enumerators == null || !m.Enumerators.Contains(i)))
                            continue;
                        words.Add((uint)b.AddString(_kernel.GetString((int)BtfSpec.ReadU32(extra, i * stride))));
                        for (int w = 4; w < stride; w += 4)
                            words.Add(BtfSpec.ReadU32(extra, i * stride + w));
                        vlen++;
                    }
                    break;
                }
                case BtfKind.FuncProto:
                    sizeOrType = (uint)Ref((int)sizeOrType);
                    for (int i = 0, n = _kernel.GetVlen(id); i < n; i++)
                    {
                        words.Add(0);   // parameter names: CO-RE never looks at them
                        words.Add((uint)Ref(_kernel.GetParamType(id, i)));
                        vlen++;
                    }
                    break;
                default:
                    // VAR, DATASEC, DECL_TAG: no CO-RE relocation resolves against them.
                    throw new InvalidOperationException($"type [{id}] ({kind.ToUpperName()}) was marked for a minimized BTF");
            }
            b.AddRaw(name, kind, vlen, kflag, sizeOrType, words.ToArray());
        }
        var bytes = b.Build(_kernel.IsLittleEndian);
        return new CoreMinimizedBtf(Label, bytes, newIds, _kernel.TypeCount - 1);
    }

    /// <summary>
    /// A zero-length array is a flexible array (indexable at any index) only as the last member of its struct.
    /// Where a kept zero-length array is not the last member in the kernel, the struct's last member is kept too,
    /// so that it is not the last one in the minimized BTF either.
    /// </summary>
    private void KeepFlexibleArrayGuards()
    {
        var add = new List<int>();
        foreach (var pair in _marks)
        {
            var m = pair.Value;
            if (m.AllMembers || m.Members == null)
                continue;
            int id = pair.Key;
            int last = _kernel.GetVlen(id) - 1;
            if (m.Members.Contains(last))
                continue;
            foreach (int i in m.Members)
            {
                _kernel.GetMemberRaw(id, i, out _, out int mt, out _);
                int t = Resolve(mt);
                if (_kernel.GetKind(t) == BtfKind.Array)
                {
                    _kernel.GetArrayInfo(t, out _, out uint n);
                    if (n == 0)
                    {
                        add.Add(id);
                        break;
                    }
                }
            }
        }
        foreach (int id in add)
        {
            int last = _kernel.GetVlen(id) - 1;
            _marks[id].Members!.Add(last);
            _kernel.GetMemberRaw(id, last, out _, out int mt, out _);
            KeepFieldShape(Resolve(mt));
        }
    }

    /// <summary>
    /// CO-RE sizes pointers by the kernel BTF's "long" (libbpf's btf_ptr_sz, 8 when there is none): a kernel whose
    /// pointers are not 8 bytes keeps the type that says so.
    /// </summary>
    private void KeepPointerSizeWitness()
    {
        if (_kernel.LibbpfPointerSize == 8 || _marks.Count == 0)
            return;
        int witness = _kernel.FindLibbpfPointerSizeWitness();
        if (witness > 0)
            Keep(witness);
    }
}

/// <summary>A minimized kernel BTF.</summary>
internal sealed class CoreMinimizedBtf
{
    private readonly Dictionary<int, int> _ids;

    internal CoreMinimizedBtf(string label, byte[] bytes, Dictionary<int, int> ids, int kernelTypes)
    {
        Label = label;
        Bytes = bytes;
        _ids = ids;
        KernelTypeCount = kernelTypes;
    }

    /// <summary>The kernel it was cut from.</summary>
    public string Label { get; }

    /// <summary>Raw BTF (header, types, strings), in the kernel BTF's byte order.</summary>
    public byte[] Bytes { get; }

    /// <summary>Number of types kept (ids 1..TypeCount).</summary>
    public int TypeCount => _ids.Count;

    /// <summary>Number of types of the kernel BTF it was cut from.</summary>
    public int KernelTypeCount { get; }

    /// <summary>The id a kernel BTF type has in the minimized BTF, or -1 when it was not kept (void stays 0).</summary>
    public int MapTypeId(int kernelTypeId) => kernelTypeId == 0 ? 0 : _ids.TryGetValue(kernelTypeId, out int n) ? n : -1;
}

/// <summary>What the minimizer recorded for one object.</summary>
internal sealed class CoreMinimizerObjectReport
{
    internal CoreMinimizerObjectReport(string name, int records, int kernelRecords, int matched, int unmatched,
        IReadOnlyList<string> needsKernelBtf, IReadOnlyList<string> notes)
    {
        Name = name;
        Relocations = records;
        KernelRelocations = kernelRecords;
        Matched = matched;
        Unmatched = unmatched;
        NeedsKernelBtf = needsKernelBtf;
        Notes = notes;
    }

    public string Name { get; }

    /// <summary>CO-RE relocation records in the object.</summary>
    public int Relocations { get; }

    /// <summary>Records resolved against the kernel (all but local_type_id).</summary>
    public int KernelRelocations { get; }

    /// <summary>Records that some candidate in the kernel BTF matches.</summary>
    public int Matched { get; }

    /// <summary>Records no candidate matches: poisoned, or 0 for the *_exists and type kinds, on this kernel.</summary>
    public int Unmatched { get; }

    /// <summary>
    /// Uses of kernel BTF other than CO-RE: programs attached by BTF id (tp_btf, fentry, fexit, fmod_ret, lsm, iter,
    /// struct_ops, freplace), kfuncs and typed ksyms. They need the kernel's own BTF, which a kernel without
    /// /sys/kernel/btf/vmlinux does not have: a minimized BTF cannot stand in for it.
    /// </summary>
    public IReadOnlyList<string> NeedsKernelBtf { get; }

    /// <summary>Records whose load fails whatever the target BTF says (bad access strings, anonymous types, matcher errors).</summary>
    public IReadOnlyList<string> Notes { get; }
}
