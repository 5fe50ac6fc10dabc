using System;

namespace Ebpf;

/// <summary>
/// A typed view of a per-CPU array map (<see cref="BpfMapType.PercpuArray"/>): <see cref="BpfMapWrapper.MaxEntries"/>
/// slots, each holding one <typeparamref name="TValue"/> per possible CPU. Elements always exist and cannot be
/// deleted. See <see cref="BpfPerCpuMap{TKey, TValue}"/>.
/// </summary>
/// <typeparam name="TValue">An unmanaged type with exactly the map's (one CPU's) value size.</typeparam>
public sealed class BpfPerCpuArrayMap<TValue> : BpfPerCpuMap<uint, TValue>
    where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a per-CPU array with values the size of <typeparamref name="TValue"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its value size differs from <typeparamref name="TValue"/>'s.</exception>
    public BpfPerCpuArrayMap(BpfMap map)
        : base(map, $"BpfPerCpuArrayMap<{TypeName<TValue>()}>", BpfMapType.PercpuArray)
    {
    }

    /// <summary>Number of slots (max_entries).</summary>
    public int Length => (int)MaxEntries;

    /// <summary>Number of elements: a per-CPU array always holds <see cref="Length"/> (no system call).</summary>
    public override int Count => Length;

    /// <summary>Reads slot <paramref name="index"/>'s value on every CPU into <paramref name="perCpuValues"/> (exactly <see cref="BpfPerCpuMap{TKey, TValue}.CpuCount"/> long).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Length"/>.</exception>
    public void Lookup(uint index, Span<TValue> perCpuValues)
    {
        if (index >= MaxEntries) ThrowIndexOutOfRange(index, nameof(index));
        TryLookup(in index, perCpuValues);
    }

    /// <summary>Slot <paramref name="index"/>'s values, one per CPU (allocates the array).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Length"/>.</exception>
    public TValue[] Lookup(uint index)
    {
        if (index >= MaxEntries) ThrowIndexOutOfRange(index, nameof(index));
        return Lookup(in index);
    }

    /// <summary>Writes slot <paramref name="index"/> with one value per CPU.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not below <see cref="Length"/>.</exception>
    public void Update(uint index, ReadOnlySpan<TValue> perCpuValues, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        if (index >= MaxEntries) ThrowIndexOutOfRange(index, nameof(index));
        Update(in index, perCpuValues, flags);
    }
}
