using System;
using System.Collections;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Common base of the maps that hold one <typeparamref name="TValue"/> per <typeparamref name="TKey"/>
/// (<see cref="BpfHashMap{TKey, TValue}"/>, <see cref="BpfArrayMap{TValue}"/>, <see cref="BpfLpmTrieMap{TKey, TValue}"/>):
/// element access, key and element walks, and batch operations. Keys and values are copied straight between
/// the caller's variables and the kernel: lookups and updates do not allocate.
/// </summary>
/// <typeparam name="TKey">An unmanaged type with exactly the map's key size and the BPF program's layout.</typeparam>
/// <typeparam name="TValue">An unmanaged type with exactly the map's value size and the BPF program's layout.</typeparam>
/// <remarks>
/// <c>foreach (var (key, value) in map)</c> walks the elements as <see cref="Entries"/> does, without allocating.
/// </remarks>
public abstract class BpfKeyValueMap<TKey, TValue> : BpfMapWrapper, IEnumerable<KeyValuePair<TKey, TValue>>
    where TKey : unmanaged
    where TValue : unmanaged
{
    private protected unsafe BpfKeyValueMap(BpfMap map, string wrapperName, BpfMapType kind, BpfMapType? otherKind = null)
        : base(map, wrapperName, kind, otherKind)
    {
        CheckKeySize(wrapperName, TypeName<TKey>(), sizeof(TKey));
        CheckValueSize(wrapperName, TypeName<TValue>(), sizeof(TValue));
    }

    /// <summary>Gets (throwing <see cref="KeyNotFoundException"/> when absent) or sets (create or replace) the value at <paramref name="key"/>.</summary>
    public TValue this[in TKey key]
    {
        get => Lookup(in key);
        set => Update(in key, in value);
    }

    /// <summary>The value at <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">The map has no element with that key.</exception>
    public TValue Lookup(in TKey key)
    {
        if (!TryLookup(in key, out TValue value))
            ThrowKeyNotFound(in key);
        return value;
    }

    /// <summary>Looks up <paramref name="key"/>; false (and a default <paramref name="value"/>) when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryLookup(in TKey key, out TValue value) => TryLookup(in key, out value, BpfMapLookupFlags.None);

    /// <summary>Looks up <paramref name="key"/> with lookup flags (<see cref="BpfMapLookupFlags.Lock"/> copies the value under its bpf_spin_lock).</summary>
    public unsafe bool TryLookup(in TKey key, out TValue value, BpfMapLookupFlags flags)
    {
        Unsafe.SkipInit(out value);
        int r;
        fixed (TKey* k = &key)
        fixed (TValue* v = &value)
            r = _map.LookupRaw(k, v, (ulong)flags);
        if (r == 0) return true;
        value = default;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupElem, r);
        return false;
    }

    /// <summary>Whether the map has an element at <paramref name="key"/>.</summary>
    public bool ContainsKey(in TKey key) => TryLookup(in key, out _);

    /// <summary>
    /// Creates or replaces the element at <paramref name="key"/>. <see cref="BpfMapUpdateFlags.NoExist"/> fails if
    /// it exists, <see cref="BpfMapUpdateFlags.Exist"/> if it does not; <see cref="BpfMapUpdateFlags.Lock"/> writes
    /// under the value's bpf_spin_lock.
    /// </summary>
    /// <exception cref="BpfSyscallException">The kernel refused (map full: E2BIG; flags not met: EEXIST/ENOENT).</exception>
    public unsafe void Update(in TKey key, in TValue value, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        int r;
        fixed (TKey* k = &key)
        fixed (TValue* v = &value)
            r = _map.UpdateRaw(k, v, (ulong)flags);
        if (r < 0) ThrowError(BpfCommand.MapUpdateElem, r);
    }

    /// <summary>The keys, walked with BPF_MAP_GET_NEXT_KEY (see <see cref="BpfMapKeys{TKey}"/> for what happens when the map changes meanwhile).</summary>
    public BpfMapKeys<TKey> Keys => new BpfMapKeys<TKey>(_map);

    /// <summary>The elements: every key with its value.</summary>
    public BpfMapEntries<TKey, TValue> Entries => new BpfMapEntries<TKey, TValue>(_map);

    /// <summary>Walks the elements (see <see cref="BpfMapEntries{TKey, TValue}"/>); <c>foreach</c> over the map does not allocate.</summary>
    public BpfMapEntries<TKey, TValue>.Enumerator GetEnumerator() => new BpfMapEntries<TKey, TValue>.Enumerator(_map);

    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Number of elements, counted by walking the keys (one system call per element; no allocation).</summary>
    public virtual int Count => CountKeys();

    /// <summary>
    /// Reads up to <c>keys.Length</c> elements (BPF_MAP_LOOKUP_BATCH), continuing the walk <paramref name="cursor"/>
    /// describes; returns how many were written to the front of <paramref name="keys"/> and
    /// <paramref name="values"/>, 0 once the walk is over. Use spans of a few thousand elements (4096 is a good
    /// size) to read a big map in few system calls. On kernels or map types without the batch command (before
    /// Linux 5.6; LPM tries) the walk is emulated element by element.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is shorter than <paramref name="keys"/>.</exception>
    public unsafe int LookupBatch(Span<TKey> keys, Span<TValue> values, ref BpfBatchCursor cursor)
    {
        if (values.Length < keys.Length)
            throw new ArgumentException($"map '{Name}': the value span ({values.Length}) must be at least as long as the key span ({keys.Length})", nameof(values));
        fixed (TKey* k = keys)
        fixed (TValue* v = values)
            return LookupBatchCore(BpfCommand.MapLookupBatch, (byte*)k, (byte*)v, keys.Length, ref cursor);
    }

    /// <summary>
    /// Creates or replaces every <c>keys[i]</c> with <c>values[i]</c> in one system call (BPF_MAP_UPDATE_BATCH;
    /// element by element where the kernel lacks it). Returns the number of elements written (all of them).
    /// Only <see cref="BpfMapUpdateFlags.Lock"/> may be given: the kernel's batch update always creates or replaces.
    /// </summary>
    /// <exception cref="BpfSyscallException">An element was refused (the map is full, ...); the elements before it were written.</exception>
    public unsafe int UpdateBatch(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        if (values.Length != keys.Length)
            throw new ArgumentException($"map '{Name}': {keys.Length} keys but {values.Length} values", nameof(values));
        fixed (TKey* k = keys)
        fixed (TValue* v = values)
            return UpdateBatchCore((byte*)k, (byte*)v, keys.Length, flags);
    }

    // ------------------------------------------------------------------ for the maps whose elements can be removed

    private protected unsafe bool DeleteCore(in TKey key)
    {
        int r;
        fixed (TKey* k = &key)
            r = _map.DeleteRaw(k);
        if (r == 0) return true;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapDeleteElem, r);
        return false;
    }

    private protected unsafe bool TryAddCore(in TKey key, in TValue value)
    {
        int r;
        fixed (TKey* k = &key)
        fixed (TValue* v = &value)
            r = _map.UpdateRaw(k, v, (ulong)BpfMapUpdateFlags.NoExist);
        if (r == 0) return true;
        if (r != -Errno.EEXIST) ThrowError(BpfCommand.MapUpdateElem, r);
        return false;
    }

    private protected unsafe bool TryLookupAndDeleteCore(in TKey key, out TValue value)
    {
        Unsafe.SkipInit(out value);
        int r;
        fixed (TKey* k = &key)
        fixed (TValue* v = &value)
        {
            r = _map.LookupAndDeleteRaw(k, v);
            if (r == -Errno.ENOTSUPP || r == -Errno.EOPNOTSUPP)
            {
                // Before Linux 5.14 only queues and stacks had BPF_MAP_LOOKUP_AND_DELETE_ELEM: look up, then delete.
                r = _map.LookupRaw(k, v, 0);
                if (r == 0)
                    r = _map.DeleteRaw(k);
            }
        }
        if (r == 0) return true;
        value = default;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupAndDeleteElem, r);
        return false;
    }

    private protected unsafe int DeleteBatchCore(ReadOnlySpan<TKey> keys)
    {
        fixed (TKey* k = keys)
            return DeleteBatchCore((byte*)k, keys.Length);
    }

    private protected unsafe int LookupAndDeleteBatchCore(Span<TKey> keys, Span<TValue> values, ref BpfBatchCursor cursor)
    {
        if (values.Length < keys.Length)
            throw new ArgumentException($"map '{Name}': the value span ({values.Length}) must be at least as long as the key span ({keys.Length})", nameof(values));
        fixed (TKey* k = keys)
        fixed (TValue* v = values)
            return LookupBatchCore(BpfCommand.MapLookupAndDeleteBatch, (byte*)k, (byte*)v, keys.Length, ref cursor);
    }
}
