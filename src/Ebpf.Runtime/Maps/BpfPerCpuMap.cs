using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Common base of the per-CPU maps (<see cref="BpfPerCpuHashMap{TKey, TValue}"/>, <see cref="BpfPerCpuArrayMap{TValue}"/>):
/// every element holds one <typeparamref name="TValue"/> per possible CPU, and user space reads and writes all of
/// them at once, as a span of <see cref="CpuCount"/> values indexed by CPU number.
/// </summary>
/// <remarks>
/// The kernel lays the per-CPU values out with a stride of the value size rounded up to 8 bytes. When
/// <typeparamref name="TValue"/>'s size is a multiple of 8 the caller's span is passed to the kernel as is;
/// otherwise values are packed and unpacked through a stack buffer. Neither way allocates (except for values of
/// more than a few kilobytes across all CPUs, which use a pooled buffer).
/// </remarks>
public abstract class BpfPerCpuMap<TKey, TValue> : BpfMapWrapper, IEnumerable<KeyValuePair<TKey, TValue[]>>
    where TKey : unmanaged
    where TValue : unmanaged
{
    private const int StackLimit = 2048;

    private protected unsafe BpfPerCpuMap(BpfMap map, string wrapperName, BpfMapType kind, BpfMapType? otherKind = null)
        : base(map, wrapperName, kind, otherKind)
    {
        CheckKeySize(wrapperName, TypeName<TKey>(), sizeof(TKey));
        CheckValueSize(wrapperName, TypeName<TValue>(), sizeof(TValue));
    }

    /// <summary>Number of values per element: the number of possible CPUs (<see cref="BpfMap.PossibleCpuCount"/>).</summary>
    public static int CpuCount => BpfMap.PossibleCpuCount;

    /// <summary>Bytes between two CPUs' values in the kernel's layout: the value size rounded up to 8.</summary>
    private static unsafe int Stride => (sizeof(TValue) + 7) & ~7;

    private static unsafe bool Packed => sizeof(TValue) == Stride;

    /// <summary>Looks up <paramref name="key"/> and writes each CPU's value to <c>perCpuValues[cpu]</c>; false when absent.</summary>
    /// <param name="key">The element's key.</param>
    /// <param name="perCpuValues">Exactly <see cref="CpuCount"/> values.</param>
    public unsafe bool TryLookup(in TKey key, Span<TValue> perCpuValues)
    {
        int cpus = CpuCount;
        if (perCpuValues.Length != cpus) ThrowPerCpuLength(perCpuValues.Length, nameof(perCpuValues));
        int r;
        if (Packed)
        {
            fixed (TKey* k = &key)
            fixed (TValue* v = perCpuValues)
                r = _map.LookupRaw(k, v, 0);
        }
        else
        {
            int bytes = Stride * cpus;
            byte[]? rented = null;
            Span<byte> buf = bytes <= StackLimit ? stackalloc byte[bytes] : (rented = ArrayPool<byte>.Shared.Rent(bytes));
            try
            {
                fixed (TKey* k = &key)
                fixed (byte* b = buf)
                {
                    r = _map.LookupRaw(k, b, 0);
                    if (r == 0) Unpack(b, perCpuValues);
                }
            }
            finally
            {
                if (rented != null) ArrayPool<byte>.Shared.Return(rented);
            }
        }
        if (r == 0) return true;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupElem, r);
        return false;
    }

    /// <summary>The values of <paramref name="key"/>, one per possible CPU (allocates the array).</summary>
    /// <exception cref="KeyNotFoundException">The map has no element with that key.</exception>
    public TValue[] Lookup(in TKey key)
    {
        var values = new TValue[CpuCount];
        if (!TryLookup(in key, values))
            ThrowKeyNotFound(in key);
        return values;
    }

    /// <summary>Whether the map has an element at <paramref name="key"/>.</summary>
    public bool ContainsKey(in TKey key)
    {
        int cpus = CpuCount;
        TValue[]? rented = null;
        Span<TValue> tmp = Stride * cpus <= StackLimit ? stackalloc TValue[cpus] : (rented = ArrayPool<TValue>.Shared.Rent(cpus)).AsSpan(0, cpus);
        try
        {
            return TryLookup(in key, tmp);
        }
        finally
        {
            if (rented != null) ArrayPool<TValue>.Shared.Return(rented);
        }
    }

    /// <summary>Sets the element at <paramref name="key"/> to one value per CPU (<c>perCpuValues[cpu]</c> for CPU cpu).</summary>
    /// <param name="key">The element's key (an index for per-CPU arrays).</param>
    /// <param name="perCpuValues">Exactly <see cref="CpuCount"/> values.</param>
    /// <param name="flags">Create only (<see cref="BpfMapUpdateFlags.NoExist"/>), update only (<see cref="BpfMapUpdateFlags.Exist"/>) or either.</param>
    /// <exception cref="BpfSyscallException">The kernel refused (map full: E2BIG; flags not met: EEXIST/ENOENT).</exception>
    public unsafe void Update(in TKey key, ReadOnlySpan<TValue> perCpuValues, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        int r = UpdateCore(in key, perCpuValues, default, broadcast: false, flags);
        if (r < 0) ThrowError(BpfCommand.MapUpdateElem, r);
    }

    /// <summary>Sets every CPU's value of the element at <paramref name="key"/> to <paramref name="value"/> (for instance to reset a counter).</summary>
    public unsafe void UpdateAllCpus(in TKey key, in TValue value, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        int r = UpdateCore(in key, default, value, broadcast: true, flags);
        if (r < 0) ThrowError(BpfCommand.MapUpdateElem, r);
    }

    private protected unsafe int UpdateCore(in TKey key, ReadOnlySpan<TValue> perCpuValues, TValue single, bool broadcast, BpfMapUpdateFlags flags)
    {
        int cpus = CpuCount;
        if (!broadcast && perCpuValues.Length != cpus) ThrowPerCpuLength(perCpuValues.Length, nameof(perCpuValues));
        if (Packed && !broadcast)
        {
            fixed (TKey* k = &key)
            fixed (TValue* v = perCpuValues)
                return _map.UpdateRaw(k, v, (ulong)flags);
        }
        int stride = Stride, bytes = stride * cpus;
        byte[]? rented = null;
        Span<byte> buf = bytes <= StackLimit ? stackalloc byte[bytes] : (rented = ArrayPool<byte>.Shared.Rent(bytes));
        try
        {
            buf.Slice(0, bytes).Clear();
            fixed (TKey* k = &key)
            fixed (byte* b = buf)
            {
                for (int c = 0; c < cpus; c++)
                    Unsafe.WriteUnaligned(b + (long)c * stride, broadcast ? single : perCpuValues[c]);
                return _map.UpdateRaw(k, b, (ulong)flags);
            }
        }
        finally
        {
            if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static unsafe void Unpack(byte* src, Span<TValue> dst)
    {
        int stride = Stride;
        for (int i = 0; i < dst.Length; i++)
            dst[i] = Unsafe.ReadUnaligned<TValue>(src + (long)i * stride);
    }

    /// <summary>The keys, walked with BPF_MAP_GET_NEXT_KEY (see <see cref="BpfMapKeys{TKey}"/>).</summary>
    public BpfMapKeys<TKey> Keys => new BpfMapKeys<TKey>(_map);

    /// <summary>The elements, each key with its per-CPU values (allocates one array per element).</summary>
    public IEnumerable<KeyValuePair<TKey, TValue[]>> Entries
    {
        get
        {
            foreach (var key in Keys)
            {
                var values = new TValue[CpuCount];
                if (TryLookup(in key, values)) // skip keys deleted meanwhile
                    yield return new KeyValuePair<TKey, TValue[]>(key, values);
            }
        }
    }

    /// <summary>Walks the elements as <see cref="Entries"/> does (<c>foreach (var (key, perCpu) in map)</c>).</summary>
    public IEnumerator<KeyValuePair<TKey, TValue[]>> GetEnumerator() => Entries.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Number of elements, counted by walking the keys.</summary>
    public virtual int Count => CountKeys();

    /// <summary>
    /// Reads up to <c>keys.Length</c> elements (BPF_MAP_LOOKUP_BATCH), continuing <paramref name="cursor"/>; element
    /// i's value on CPU c lands in <c>values[i * CpuCount + c]</c>. Returns how many elements, 0 once the walk is over
    /// (see <see cref="BpfKeyValueMap{TKey, TValue}.LookupBatch"/>).
    /// </summary>
    /// <param name="keys">Receives the keys of the elements read.</param>
    /// <param name="values">At least <c>keys.Length * CpuCount</c> values.</param>
    /// <param name="cursor">Where the walk stands; start with a default cursor, pass the same one to each call.</param>
    public unsafe int LookupBatch(Span<TKey> keys, Span<TValue> values, ref BpfBatchCursor cursor) =>
        LookupBatchPerCpu(BpfCommand.MapLookupBatch, keys, values, ref cursor);

    /// <summary>
    /// Writes every <c>keys[i]</c> with the per-CPU values <c>values[i * CpuCount .. (i + 1) * CpuCount]</c> (BPF_MAP_UPDATE_BATCH).
    /// Returns the number of elements written. Only <see cref="BpfMapUpdateFlags.Lock"/> may be given.
    /// </summary>
    public unsafe int UpdateBatch(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        int cpus = CpuCount;
        if (values.Length != keys.Length * cpus)
            throw new ArgumentException($"map '{Name}' is per-CPU: {keys.Length} keys need {keys.Length} × {cpus} values, not {values.Length}", nameof(values));
        if (Packed)
        {
            fixed (TKey* k = keys)
            fixed (TValue* v = values)
                return UpdateBatchCore((byte*)k, (byte*)v, keys.Length, flags);
        }
        int stride = Stride;
        long bytes = (long)stride * values.Length;
        byte[] rented = ArrayPool<byte>.Shared.Rent(checked((int)bytes));
        try
        {
            Array.Clear(rented, 0, (int)bytes);
            fixed (TKey* k = keys)
            fixed (byte* b = rented)
            {
                for (int i = 0; i < values.Length; i++)
                    Unsafe.WriteUnaligned(b + (long)i * stride, values[i]);
                return UpdateBatchCore((byte*)k, b, keys.Length, flags);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private protected unsafe int LookupBatchPerCpu(BpfCommand cmd, Span<TKey> keys, Span<TValue> values, ref BpfBatchCursor cursor)
    {
        int cpus = CpuCount;
        if (values.Length < keys.Length * cpus)
            throw new ArgumentException($"map '{Name}' is per-CPU: {keys.Length} keys need room for {keys.Length} × {cpus} values, not {values.Length}", nameof(values));
        if (Packed)
        {
            fixed (TKey* k = keys)
            fixed (TValue* v = values)
                return LookupBatchCore(cmd, (byte*)k, (byte*)v, keys.Length, ref cursor);
        }
        int count = keys.Length * cpus;
        byte[] rented = ArrayPool<byte>.Shared.Rent(checked(Stride * count));
        try
        {
            fixed (TKey* k = keys)
            fixed (byte* b = rented)
            {
                int n = LookupBatchCore(cmd, (byte*)k, b, keys.Length, ref cursor);
                Unpack(b, values.Slice(0, n * cpus));
                return n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // ------------------------------------------------------------------ for the hash flavour

    private protected unsafe bool DeleteCore(in TKey key)
    {
        int r;
        fixed (TKey* k = &key)
            r = _map.DeleteRaw(k);
        if (r == 0) return true;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapDeleteElem, r);
        return false;
    }

    private protected unsafe int DeleteBatchCore(ReadOnlySpan<TKey> keys)
    {
        fixed (TKey* k = keys)
            return DeleteBatchCore((byte*)k, keys.Length);
    }
}
