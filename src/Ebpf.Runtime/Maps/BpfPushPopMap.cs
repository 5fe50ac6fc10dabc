using System;
using System.Runtime.CompilerServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Common base of <see cref="BpfQueueMap{TValue}"/> (first in, first out) and <see cref="BpfStackMap{TValue}"/>
/// (last in, first out): keyless maps of up to <see cref="BpfMapWrapper.MaxEntries"/> values. Operations do not allocate.
/// </summary>
/// <typeparam name="TValue">An unmanaged type with exactly the map's value size.</typeparam>
public abstract class BpfPushPopMap<TValue> : BpfMapWrapper where TValue : unmanaged
{
    private protected unsafe BpfPushPopMap(BpfMap map, string wrapperName, BpfMapType kind)
        : base(map, wrapperName, kind)
    {
        CheckKeySize(wrapperName, "(no key)", 0);
        CheckValueSize(wrapperName, TypeName<TValue>(), sizeof(TValue));
    }

    /// <summary>
    /// Adds <paramref name="value"/>. When the map is full: with <see cref="BpfMapUpdateFlags.Any"/> throws
    /// (E2BIG); with <see cref="BpfMapUpdateFlags.Exist"/> makes room by dropping the oldest value (queue: the next
    /// to pop; stack: the bottom).
    /// </summary>
    /// <exception cref="BpfSyscallException">The map is full (E2BIG) and <paramref name="flags"/> is Any.</exception>
    public unsafe void Push(in TValue value, BpfMapUpdateFlags flags = BpfMapUpdateFlags.Any)
    {
        int r;
        fixed (TValue* v = &value)
            r = _map.UpdateRaw(null, v, (ulong)flags);
        if (r < 0) ThrowError(BpfCommand.MapUpdateElem, r);
    }

    /// <summary>Adds <paramref name="value"/> if there is room; false when the map is full.</summary>
    public unsafe bool TryPush(in TValue value)
    {
        int r;
        fixed (TValue* v = &value)
            r = _map.UpdateRaw(null, v, 0);
        if (r == 0) return true;
        if (r != -Errno.E2BIG) ThrowError(BpfCommand.MapUpdateElem, r);
        return false;
    }

    /// <summary>Removes and returns the next value (a queue's oldest, a stack's newest); false when the map is empty.</summary>
    public unsafe bool TryPop(out TValue value)
    {
        Unsafe.SkipInit(out value);
        int r;
        fixed (TValue* v = &value)
            r = _map.LookupAndDeleteRaw(null, v);
        if (r == 0) return true;
        value = default;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupAndDeleteElem, r);
        return false;
    }

    /// <summary>Returns the next value without removing it; false when the map is empty.</summary>
    public unsafe bool TryPeek(out TValue value)
    {
        Unsafe.SkipInit(out value);
        int r;
        fixed (TValue* v = &value)
            r = _map.LookupRaw(null, v, 0);
        if (r == 0) return true;
        value = default;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupElem, r);
        return false;
    }

    /// <summary>Removes and returns the next value.</summary>
    /// <exception cref="InvalidOperationException">The map is empty.</exception>
    public TValue Pop() => TryPop(out var v) ? v : throw Empty();

    /// <summary>Returns the next value without removing it.</summary>
    /// <exception cref="InvalidOperationException">The map is empty.</exception>
    public TValue Peek() => TryPeek(out var v) ? v : throw Empty();

    /// <summary>Pops every value; returns how many there were.</summary>
    public int Clear()
    {
        int n = 0;
        while (TryPop(out _)) n++;
        return n;
    }

    private InvalidOperationException Empty() => new InvalidOperationException($"map '{Name}' ({Type}) is empty");
}

/// <summary>
/// A typed view of a queue map (<see cref="BpfMapType.Queue"/>): values come out in the order they went in.
/// </summary>
/// <typeparam name="TValue">An unmanaged type with exactly the map's value size.</typeparam>
public sealed class BpfQueueMap<TValue> : BpfPushPopMap<TValue> where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a queue with values the size of <typeparamref name="TValue"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its value size differs from <typeparamref name="TValue"/>'s.</exception>
    public BpfQueueMap(BpfMap map) : base(map, $"BpfQueueMap<{TypeName<TValue>()}>", BpfMapType.Queue)
    {
    }
}

/// <summary>
/// A typed view of a stack map (<see cref="BpfMapType.Stack"/>): the last value pushed is the first popped.
/// (For the stacks of <c>bpf_get_stackid</c>, see <see cref="BpfStackTraceMap"/>.)
/// </summary>
/// <typeparam name="TValue">An unmanaged type with exactly the map's value size.</typeparam>
public sealed class BpfStackMap<TValue> : BpfPushPopMap<TValue> where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a stack with values the size of <typeparamref name="TValue"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its value size differs from <typeparamref name="TValue"/>'s.</exception>
    public BpfStackMap(BpfMap map) : base(map, $"BpfStackMap<{TypeName<TValue>()}>", BpfMapType.Stack)
    {
    }
}

/// <summary>
/// A typed view of a bloom filter (<see cref="BpfMapType.BloomFilter"/>): a set that answers "maybe present" or
/// "certainly absent". Values cannot be removed. Operations do not allocate.
/// </summary>
/// <typeparam name="TValue">An unmanaged type with exactly the map's value size.</typeparam>
public sealed class BpfBloomFilterMap<TValue> : BpfMapWrapper where TValue : unmanaged
{
    /// <summary>Wraps <paramref name="map"/>, checking that it is a bloom filter with values the size of <typeparamref name="TValue"/>.</summary>
    /// <exception cref="ArgumentException">The map is of another kind, or its value size differs from <typeparamref name="TValue"/>'s.</exception>
    public unsafe BpfBloomFilterMap(BpfMap map) : base(map, $"BpfBloomFilterMap<{TypeName<TValue>()}>", BpfMapType.BloomFilter)
    {
        string w = $"BpfBloomFilterMap<{TypeName<TValue>()}>";
        CheckKeySize(w, "(no key)", 0);
        CheckValueSize(w, TypeName<TValue>(), sizeof(TValue));
    }

    /// <summary>Number of hash functions (map_extra's low 4 bits; 0 means the kernel's default of 5).</summary>
    public int HashFunctions => (int)(Map.MapExtra & 0xf);

    /// <summary>Adds <paramref name="value"/> to the set.</summary>
    public unsafe void Add(in TValue value)
    {
        int r;
        fixed (TValue* v = &value)
            r = _map.UpdateRaw(null, v, 0);
        if (r < 0) ThrowError(BpfCommand.MapUpdateElem, r);
    }

    /// <summary>False when <paramref name="value"/> was certainly never added; true when it probably was (false positives happen, false negatives do not).</summary>
    public unsafe bool Contains(in TValue value)
    {
        // The kernel reads the value to test from the value buffer (BPF_MAP_LOOKUP_ELEM with no key); it does not write it.
        TValue copy = value;
        int r = _map.LookupRaw(null, &copy, 0);
        if (r == 0) return true;
        if (r != -Errno.ENOENT) ThrowError(BpfCommand.MapLookupElem, r);
        return false;
    }
}
