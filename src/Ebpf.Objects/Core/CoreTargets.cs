using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Ebpf.Btf;

namespace Ebpf.Core;

/// <summary>
/// A kernel module's BTF (split BTF on the kernel's), searched for candidates only when the kernel BTF has none.
/// The BTF may be given directly or produced on first use (libbpf also loads module BTFs lazily).
/// </summary>
internal sealed class CoreModuleBtf
{
    private readonly Func<BtfSpec>? _factory;
    private BtfSpec? _btf;
    private readonly object _sync = new object();

    public CoreModuleBtf(string name, BtfSpec btf)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        _btf = btf ?? throw new ArgumentNullException(nameof(btf));
    }

    /// <summary>A module whose BTF is read only if some relocation needs to search module BTFs.</summary>
    public CoreModuleBtf(string name, Func<BtfSpec> factory)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        _factory = factory ?? throw new ArgumentNullException(nameof(factory));
    }

    /// <summary>Module name (as in /sys/kernel/btf/NAME), used in messages and candidate lists.</summary>
    public string Name { get; }

    public BtfSpec Btf
    {
        get
        {
            if (_btf != null)
                return _btf;
            lock (_sync)
                return _btf ??= _factory!() ?? throw new InvalidOperationException($"module '{Name}': the BTF factory returned null");
        }
    }

    public override string ToString() => Name;
}

/// <summary>
/// What CO-RE relocations are resolved against: the kernel (vmlinux) BTF, optional module BTFs and a label that
/// names the kernel in messages ("vmlinux 6.1.0-56-amd64").
/// </summary>
internal sealed class CoreTargets
{
    public CoreTargets(BtfSpec kernel, string? label = null, IEnumerable<CoreModuleBtf>? modules = null)
    {
        Kernel = kernel ?? throw new ArgumentNullException(nameof(kernel));
        Label = string.IsNullOrEmpty(label) ? "vmlinux" : label!;
        Modules = modules == null ? Array.Empty<CoreModuleBtf>() : new List<CoreModuleBtf>(modules).ToArray();
    }

    /// <summary>The kernel's BTF (/sys/kernel/btf/vmlinux or a BTF file standing in for it).</summary>
    public BtfSpec Kernel { get; }

    /// <summary>Names the target in messages.</summary>
    public string Label { get; }

    /// <summary>Module BTFs, searched in this order when the kernel BTF has no candidate of the name.</summary>
    public IReadOnlyList<CoreModuleBtf> Modules { get; }

    public override string ToString() => Label;
}

/// <summary>One candidate target type for a local type: same essential name, compatible kind.</summary>
internal readonly struct CoreCandidate : IEquatable<CoreCandidate>
{
    public CoreCandidate(BtfSpec btf, int typeId, string source)
    {
        Btf = btf;
        TypeId = typeId;
        Source = source;
    }

    /// <summary>The target BTF holding the candidate (kernel or module).</summary>
    public BtfSpec Btf { get; }

    /// <summary>Type id in that BTF (global ids for module BTF).</summary>
    public int TypeId { get; }

    /// <summary>"vmlinux" or the module's name.</summary>
    public string Source { get; }

    public bool Equals(CoreCandidate other) => ReferenceEquals(Btf, other.Btf) && TypeId == other.TypeId;
    public override bool Equals(object? obj) => obj is CoreCandidate o && Equals(o);
    public override int GetHashCode() => TypeId;

    /// <summary>"[114] struct task_struct in vmlinux".</summary>
    public override string ToString() => Btf == null ? "(none)" : $"[{TypeId}] {CoreNames.DescribeType(Btf, TypeId)} in {Source}";
}

/// <summary>
/// Target candidates per local type, as libbpf's cand_cache: found once per local type id (kernel BTF first,
/// module BTFs only when the kernel has no candidate), then shared by every relocation of that type and pruned,
/// as libbpf prunes it, to the candidates that matched whenever a relocation matches some but not all of them.
/// </summary>
/// <remarks>
/// Because of the pruning, results depend on the order relocations are resolved in, exactly as in libbpf: use one
/// cache per object load, and resolve relocations in .BTF.ext order (section by section, record by record), which
/// is what <see cref="CoreRelocator"/> does. The cache may be shared between threads; each resolution holds its lock.
/// </remarks>
internal sealed class CoreCandidateCache
{
    private readonly Dictionary<BtfSpec, Dictionary<int, CandidateList>> _byLocal =
        new Dictionary<BtfSpec, Dictionary<int, CandidateList>>(ReferenceComparer.Instance);

    public CoreCandidateCache(CoreTargets targets)
    {
        Targets = targets ?? throw new ArgumentNullException(nameof(targets));
    }

    public CoreTargets Targets { get; }

    internal object Sync => _byLocal;

    /// <summary>The current (possibly pruned) candidates of a local type; searched on first use.</summary>
    public IReadOnlyList<CoreCandidate> GetCandidates(BtfSpec localBtf, int localTypeId)
    {
        lock (Sync)
        {
            var list = GetList(localBtf, localTypeId);
            var copy = new CoreCandidate[list.Count];
            Array.Copy(list.Items, copy, list.Count);
            return copy;
        }
    }

    /// <summary>Forgets every cached (and pruned) list.</summary>
    public void Clear()
    {
        lock (Sync)
            _byLocal.Clear();
    }

    internal CandidateList GetList(BtfSpec localBtf, int localTypeId)
    {
        if (!_byLocal.TryGetValue(localBtf, out var perType))
        {
            perType = new Dictionary<int, CandidateList>();
            _byLocal.Add(localBtf, perType);
        }
        if (!perType.TryGetValue(localTypeId, out var list))
        {
            var found = FindCandidates(localBtf, localTypeId, Targets);
            list = new CandidateList(found);
            perType.Add(localTypeId, list);
        }
        return list;
    }

    /// <summary>
    /// libbpf's bpf_core_find_cands without caching: every type of the kernel BTF with the local type's essential
    /// name and a compatible kind (same kind, or ENUM/ENUM64 either way), in id order; if there is none, the same
    /// search over each module's own types. Throws for anonymous local types (libbpf cannot search for them).
    /// </summary>
    public static IReadOnlyList<CoreCandidate> FindCandidates(BtfSpec localBtf, int localTypeId, CoreTargets targets)
    {
        if (localBtf is null) throw new ArgumentNullException(nameof(localBtf));
        if (targets is null) throw new ArgumentNullException(nameof(targets));
        if (!localBtf.IsValidId(localTypeId))
            throw new BpfCoreRelocationException(CoreErrorKind.InvalidType, BpfCoreRelocationException.EINVAL, $"target candidate search failed: local type id {localTypeId} does not exist");
        var name = localBtf.GetNameBytes(localTypeId);
        if (name.IsEmpty)
            throw new BpfCoreRelocationException(CoreErrorKind.AnonymousType, BpfCoreRelocationException.EINVAL,
                $"target candidate search failed for [{localTypeId}] {CoreNames.DescribeType(localBtf, localTypeId)}: CO-RE cannot look up anonymous types");
        var essential = name.Slice(0, BtfSpec.EssentialNameLength(name));
        var localKind = localBtf.GetKind(localTypeId);
        var result = new List<CoreCandidate>();
        var ids = new List<int>();

        AddCandidates(targets.Kernel, 1, "vmlinux", essential, localKind, ids, result);
        if (result.Count > 0)
            return result;
        foreach (var module in targets.Modules)
        {
            var btf = module.Btf;
            // Only the module's own types: its base is the kernel BTF, already searched.
            AddCandidates(btf, btf.Base != null ? btf.FirstTypeId : 1, module.Name, essential, localKind, ids, result);
        }
        return result;
    }

    private static void AddCandidates(BtfSpec target, int startId, string source, ReadOnlySpan<byte> essential, BtfKind localKind,
        List<int> scratch, List<CoreCandidate> result)
    {
        scratch.Clear();
        target.FindByEssentialName(essential, scratch);
        foreach (int id in scratch)
        {
            if (id < startId)
                continue;
            if (!CoreCompat.KindsCoreCompatible(target.GetKind(id), localKind))
                continue;
            result.Add(new CoreCandidate(target, id, source));
        }
    }

    private sealed class ReferenceComparer : IEqualityComparer<BtfSpec>
    {
        public static readonly ReferenceComparer Instance = new ReferenceComparer();
        public bool Equals(BtfSpec? x, BtfSpec? y) => ReferenceEquals(x, y);
        public int GetHashCode(BtfSpec obj) => RuntimeHelpers.GetHashCode(obj);
    }
}

/// <summary>libbpf's struct bpf_core_cand_list: an array pruned in place.</summary>
internal sealed class CandidateList
{
    public CandidateList(IReadOnlyList<CoreCandidate> items)
    {
        Items = new CoreCandidate[items.Count];
        for (int i = 0; i < items.Count; i++)
            Items[i] = items[i];
        Count = Items.Length;
    }

    public CoreCandidate[] Items { get; }
    public int Count { get; set; }
}
