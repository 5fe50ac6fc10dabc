using System;

namespace Ebpf;

/// <summary>
/// A typed view of an LPM trie (<see cref="BpfMapType.LpmTrie"/>): keys are prefixes, and a lookup finds the
/// element with the longest prefix that matches the key's data.
/// </summary>
/// <typeparam name="TKey">
/// The key struct, laid out as the kernel's <c>struct bpf_lpm_trie_key_u8</c>: a <see cref="uint"/> prefix length
/// in bits first, then the data bytes (an IPv4 key is 8 bytes: prefixlen, then the 4 address bytes in network
/// order). For a lookup, set the prefix length to the full length of the data.
/// </typeparam>
/// <typeparam name="TValue">An unmanaged type with exactly the map's value size.</typeparam>
/// <remarks>
/// Batch lookup, update and delete use the kernel's generic batch code (Linux 5.16+); no kernel has a batch
/// lookup-and-delete for tries, so <see cref="LookupAndDeleteBatch"/> (and, on older kernels, the others) work
/// element by element.
/// </remarks>
public sealed class BpfLpmTrieMap<TKey, TValue> : BpfKeyValueMap<TKey, TValue>
    where TKey : unmanaged
    where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is an LPM trie with the sizes of <typeparamref name="TKey"/> and <typeparamref name="TValue"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its key or value size differs from the types'.</exception>
    public unsafe BpfLpmTrieMap(BpfMap map)
        : base(map, $"BpfLpmTrieMap<{TypeName<TKey>()}, {TypeName<TValue>()}>", BpfMapType.LpmTrie)
    {
        if (sizeof(TKey) < 5)
            throw new ArgumentException($"map '{map.Name}': an LPM trie key is a 4-byte prefix length followed by at least one data byte; {TypeName<TKey>()} is {sizeof(TKey)} bytes", nameof(map));
    }

    /// <summary>Longest-prefix match: the value of the longest prefix in the trie that matches <paramref name="key"/>'s data (up to its prefix length); false when none does.</summary>
    public bool TryMatch(in TKey key, out TValue value) => TryLookup(in key, out value);

    /// <summary>Adds the prefix only if it is absent (BPF_NOEXIST); false when it exists.</summary>
    public bool TryAdd(in TKey key, in TValue value) => TryAddCore(in key, in value);

    /// <summary>Deletes the exact prefix <paramref name="key"/> (not a longest-prefix match); false when absent.</summary>
    public bool Delete(in TKey key) => DeleteCore(in key);

    /// <summary>Deletes the given prefixes; absent ones are skipped. Returns how many were deleted.</summary>
    public int DeleteBatch(ReadOnlySpan<TKey> keys) => DeleteBatchCore(keys);

    /// <summary>Reads and removes up to <c>keys.Length</c> elements, continuing <paramref name="cursor"/>; 0 once the trie is empty.</summary>
    public int LookupAndDeleteBatch(Span<TKey> keys, Span<TValue> values, ref BpfBatchCursor cursor) =>
        LookupAndDeleteBatchCore(keys, values, ref cursor);
}
