using System;

namespace Ebpf;

/// <summary>
/// A typed view of an array map (<see cref="BpfMapType.Array"/>): <see cref="BpfMapWrapper.MaxEntries"/> values
/// indexed 0..MaxEntries-1, all of which always exist (zero until written). Elements cannot be deleted.
/// Lookups and updates do not allocate.
/// </summary>
/// <typeparam name="TValue">An unmanaged type with exactly the map's value size and the BPF program's layout.</typeparam>
public sealed class BpfArrayMap<TValue> : BpfKeyValueMap<uint, TValue>
    where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is an array map (4-byte keys) with values the size of <typeparamref name="TValue"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its value size differs from <typeparamref name="TValue"/>'s.</exception>
    public BpfArrayMap(BpfMap map)
        : base(map, $"BpfArrayMap<{TypeName<TValue>()}>", BpfMapType.Array)
    {
    }

    /// <summary>Number of slots (max_entries).</summary>
    public int Length => (int)MaxEntries;

    /// <summary>Number of elements: an array always holds <see cref="Length"/> (no system call).</summary>
    public override int Count => Length;

    /// <summary>The value at <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Length"/>.</exception>
    public TValue Lookup(uint index)
    {
        if (index >= MaxEntries) ThrowIndexOutOfRange(index, nameof(index));
        TryLookup(in index, out TValue v);
        return v;
    }

    /// <summary>Writes <paramref name="value"/> at <paramref name="index"/> (<see cref="BpfMapUpdateFlags.Lock"/> writes under the value's bpf_spin_lock; NoExist always fails on arrays).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Length"/>.</exception>
    public void Update(uint index, in TValue value, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        if (index >= MaxEntries) ThrowIndexOutOfRange(index, nameof(index));
        Update(in index, in value, flags);
    }

    /// <summary>Gets or sets the value at <paramref name="index"/>.</summary>
    public TValue this[uint index]
    {
        get => Lookup(index);
        set => Update(index, in value);
    }

    /// <summary>Reads every value, in index order (a batch lookup: a few system calls).</summary>
    public TValue[] ToArray()
    {
        var values = new TValue[Length];
        var keys = new uint[Math.Min(Length, 4096)];
        var cursor = new BpfBatchCursor();
        int got = 0, n;
        var chunk = new TValue[keys.Length];
        while ((n = LookupBatch(keys, chunk, ref cursor)) > 0)
        {
            for (int i = 0; i < n; i++)
                values[keys[i]] = chunk[i];
            got += n;
        }
        return values;
    }
}
