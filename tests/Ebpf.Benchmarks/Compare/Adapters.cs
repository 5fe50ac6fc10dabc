using System;
using System.Collections.Generic;

namespace Ebpf.Benchmarks.Compare;

/// <summary>
/// The map operations the comparison times, one bpf(2) call per element operation, through the typed map
/// wrappers an application uses (<see cref="BpfHashMap{TKey, TValue}"/>, <see cref="BpfArrayMap{TValue}"/>).
/// </summary>
internal readonly struct MapOps
{
    private readonly BpfKeyValueMap<uint, ulong> _kv;
    private readonly BpfHashMap<uint, ulong>? _hash;

    public MapOps(BpfMap map)
    {
        if (map.Type == BpfMapType.Hash)
            _kv = _hash = new BpfHashMap<uint, ulong>(map);
        else
            _kv = new BpfArrayMap<ulong>(map);
    }

    public void UpdateAll(int n)
    {
        var kv = _kv;
        for (uint k = 0; k < (uint)n; k++)
            kv.Update(k, k);
    }

    public ulong LookupAll(int n)
    {
        var kv = _kv;
        ulong sum = 0;
        for (uint k = 0; k < (uint)n; k++)
        {
            if (!kv.TryLookup(k, out ulong v)) throw new InvalidOperationException($"key {k} missing");
            sum += v;
        }
        return sum;
    }

    public void DeleteAll(int n)
    {
        var h = _hash ?? throw new InvalidOperationException("array elements cannot be deleted");
        for (uint k = 0; k < (uint)n; k++)
            if (!h.Delete(k)) throw new InvalidOperationException($"key {k} missing");
    }

    /// <summary>A full BPF_MAP_LOOKUP_BATCH sweep, <paramref name="perCall"/> elements per call; returns the element count.</summary>
    public int BatchLookupAll(uint[] keys, ulong[] values, int perCall, bool isHash)
    {
        _ = isHash;
        var kv = _kv;
        var cursor = default(BpfBatchCursor);
        int total = 0, n;
        var ks = keys.AsSpan(0, perCall);
        var vs = values.AsSpan(0, perCall);
        while ((n = kv.LookupBatch(ks, vs, ref cursor)) > 0)
            total += n;
        return total;
    }
}

/// <summary>
/// One drain of everything waiting through the runtime's reader with a per-record delegate callback (the shape of
/// libbpf's sample callbacks), summing each event's sequence number exactly like the C twin's callback.
/// </summary>
internal abstract class EventDrain : IDisposable
{
    private long _count;

    public ulong Sum { get; private set; }

    /// <summary>Records the kernel reported lost (perf buffers) since the drain was created.</summary>
    public virtual long Lost => 0;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    protected void Add(ReadOnlySpan<byte> data)
    {
        Sum += System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(data);
        _count++;
    }

    /// <summary>The perf buffer callback's shape (the CPU is not used, as in the C twin).</summary>
    protected void Add(int cpu, ReadOnlySpan<byte> data) => Add(data);

    /// <summary>Consumes everything waiting; returns the number of events.</summary>
    public long Drain()
    {
        _count = 0;
        ConsumeAll();
        return _count;
    }

    protected abstract void ConsumeAll();

    public abstract void Dispose();
}

/// <summary>The ring buffer, through <see cref="RingBufferReader.Consume(RingBufferCallback, int)"/>.</summary>
internal sealed class RingDrain : EventDrain
{
    private readonly RingBufferReader _reader;
    private readonly RingBufferCallback _callback;

    public RingDrain(BpfMap map)
    {
        _reader = new BpfRingBufferMap(map).CreateReader();
        _callback = Add;
    }

    protected override void ConsumeAll() => _reader.Consume(_callback);

    public override void Dispose() => _reader.Dispose();
}

/// <summary>Every CPU's ring of the perf buffer, through <see cref="PerfBufferReader.Consume(PerfBufferCallback)"/>.</summary>
internal sealed class PerfDrain : EventDrain
{
    private readonly PerfBufferReader _reader;
    private readonly PerfBufferCallback _callback;

    public PerfDrain(BpfMap map, int pagesPerCpu)
    {
        _reader = new BpfPerfEventArrayMap(map).CreateReader(pagesPerCpu);
        _callback = Add;
    }

    public IReadOnlyList<int> Cpus => _reader.Cpus;
    public override long Lost => _reader.LostSamples;

    protected override void ConsumeAll() => _reader.Consume(_callback);

    public override void Dispose() => _reader.Dispose();
}
