using System;

namespace Ebpf;

/// <summary>
/// A typed view of a hash map (<see cref="BpfMapType.Hash"/> or <see cref="BpfMapType.LruHash"/>).
/// Lookups and updates copy the key and value straight between your variables and the kernel, without allocating.
/// </summary>
/// <typeparam name="TKey">An unmanaged type with exactly the map's key size and the BPF program's layout.</typeparam>
/// <typeparam name="TValue">An unmanaged type with exactly the map's value size and the BPF program's layout.</typeparam>
/// <remarks>
/// An LRU hash map never refuses an insertion for lack of room: it evicts the least recently used elements
/// instead, so after inserting more than <see cref="BpfMapWrapper.MaxEntries"/> keys some of the earlier ones are gone.
/// </remarks>
public sealed class BpfHashMap<TKey, TValue> : BpfKeyValueMap<TKey, TValue>
    where TKey : unmanaged
    where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a (LRU) hash map with the sizes of <typeparamref name="TKey"/> and <typeparamref name="TValue"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its key or value size differs from the types'.</exception>
    public BpfHashMap(BpfMap map)
        : base(map, $"BpfHashMap<{TypeName<TKey>()}, {TypeName<TValue>()}>", BpfMapType.Hash, BpfMapType.LruHash)
    {
    }

    /// <summary>True for an LRU hash map.</summary>
    public bool IsLru => Type == BpfMapType.LruHash;

    /// <summary>Adds the element only if <paramref name="key"/> is absent (BPF_NOEXIST); false when it exists.</summary>
    /// <exception cref="BpfSyscallException">The kernel refused for another reason (the map is full: E2BIG).</exception>
    public bool TryAdd(in TKey key, in TValue value) => TryAddCore(in key, in value);

    /// <summary>Deletes the element at <paramref name="key"/>; false when it was absent.</summary>
    public bool Delete(in TKey key) => DeleteCore(in key);

    /// <summary>Removes the element at <paramref name="key"/> and returns its value in one step (BPF_MAP_LOOKUP_AND_DELETE_ELEM, emulated before Linux 5.14); false when absent.</summary>
    public bool TryLookupAndDelete(in TKey key, out TValue value) => TryLookupAndDeleteCore(in key, out value);

    /// <summary>
    /// Deletes the given keys (BPF_MAP_DELETE_BATCH, a few system calls for any number of keys); keys that are
    /// absent are skipped. Returns how many elements were deleted.
    /// </summary>
    public int DeleteBatch(ReadOnlySpan<TKey> keys) => DeleteBatchCore(keys);

    /// <summary>
    /// Reads and removes up to <c>keys.Length</c> elements (BPF_MAP_LOOKUP_AND_DELETE_BATCH), continuing
    /// <paramref name="cursor"/>; returns how many, 0 once the map has been drained. See
    /// <see cref="BpfKeyValueMap{TKey, TValue}.LookupBatch"/> for the cursor.
    /// </summary>
    public int LookupAndDeleteBatch(Span<TKey> keys, Span<TValue> values, ref BpfBatchCursor cursor) =>
        LookupAndDeleteBatchCore(keys, values, ref cursor);

    /// <summary>Deletes every element (walks the keys, deleting each; elements a program adds meanwhile may survive).</summary>
    public int Clear()
    {
        int n = 0;
        foreach (var k in Keys)
            if (Delete(in k)) n++;
        return n;
    }
}
