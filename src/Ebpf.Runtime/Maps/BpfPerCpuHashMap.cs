using System;

namespace Ebpf;

/// <summary>
/// A typed view of a per-CPU hash map (<see cref="BpfMapType.PercpuHash"/> or <see cref="BpfMapType.LruPercpuHash"/>):
/// each key holds one <typeparamref name="TValue"/> per possible CPU. See <see cref="BpfPerCpuMap{TKey, TValue}"/>.
/// </summary>
/// <typeparam name="TKey">An unmanaged type with exactly the map's key size.</typeparam>
/// <typeparam name="TValue">An unmanaged type with exactly the map's (one CPU's) value size.</typeparam>
public sealed class BpfPerCpuHashMap<TKey, TValue> : BpfPerCpuMap<TKey, TValue>
    where TKey : unmanaged
    where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a (LRU) per-CPU hash map with the sizes of <typeparamref name="TKey"/> and <typeparamref name="TValue"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its key or value size differs from the types'.</exception>
    public BpfPerCpuHashMap(BpfMap map)
        : base(map, $"BpfPerCpuHashMap<{TypeName<TKey>()}, {TypeName<TValue>()}>", BpfMapType.PercpuHash, BpfMapType.LruPercpuHash)
    {
    }

    /// <summary>True for an LRU per-CPU hash map.</summary>
    public bool IsLru => Type == BpfMapType.LruPercpuHash;

    /// <summary>Adds the element only if <paramref name="key"/> is absent (BPF_NOEXIST); false when it exists.</summary>
    /// <param name="key">The element's key.</param>
    /// <param name="perCpuValues">Exactly <see cref="BpfPerCpuMap{TKey, TValue}.CpuCount"/> values.</param>
    /// <exception cref="BpfSyscallException">The kernel refused for another reason than an existing key (map full: E2BIG).</exception>
    public bool TryAdd(in TKey key, ReadOnlySpan<TValue> perCpuValues)
    {
        int r = UpdateCore(in key, perCpuValues, default, broadcast: false, BpfMapUpdateFlags.NoExist);
        if (r == 0) return true;
        if (r != -Errno.EEXIST) ThrowError(BpfCommand.MapUpdateElem, r);
        return false;
    }

    /// <summary>Deletes the element at <paramref name="key"/>; false when it was absent.</summary>
    public bool Delete(in TKey key) => DeleteCore(in key);

    /// <summary>Deletes the given keys (BPF_MAP_DELETE_BATCH); absent keys are skipped. Returns how many were deleted.</summary>
    public int DeleteBatch(ReadOnlySpan<TKey> keys) => DeleteBatchCore(keys);

    /// <summary>
    /// Reads and removes up to <c>keys.Length</c> elements (BPF_MAP_LOOKUP_AND_DELETE_BATCH), continuing
    /// <paramref name="cursor"/>; element i's value on CPU c lands in <c>values[i * CpuCount + c]</c>. 0 once drained.
    /// </summary>
    public int LookupAndDeleteBatch(Span<TKey> keys, Span<TValue> values, ref BpfBatchCursor cursor) =>
        LookupBatchPerCpu(BpfCommand.MapLookupAndDeleteBatch, keys, values, ref cursor);
}
