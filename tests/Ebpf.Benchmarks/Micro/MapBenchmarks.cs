using BenchmarkDotNet.Attributes;

namespace Ebpf.Benchmarks.Micro;

/// <summary>One element operation through the typed wrappers: one bpf(2) call each, no allocation.</summary>
[MemoryDiagnoser]
public class MapBenchmarks
{
    private BpfObject _obj = null!;
    private BpfHashMap<uint, ulong> _hash = null!;
    private BpfArrayMap<ulong> _array = null!;
    private readonly uint[] _keys = new uint[4096];
    private readonly ulong[] _values = new ulong[4096];
    private uint _k;

    [GlobalSetup]
    public void Setup()
    {
        _obj = BpfObject.Open(Compare.Paths.BenchObject);
        _obj.GetMap("bench_hash").MaxEntries = 4096;
        _obj.GetMap("bench_array").MaxEntries = 4096;
        _obj.GetMap("bench_rb").MaxEntries = 65536;
        _obj.Load();
        _hash = new BpfHashMap<uint, ulong>(_obj.GetMap("bench_hash"));
        _array = new BpfArrayMap<ulong>(_obj.GetMap("bench_array"));
        for (uint k = 0; k < 4096; k++) { _hash.Update(k, k); _array.Update(k, k); }
    }

    [GlobalCleanup]
    public void Cleanup() => _obj.Dispose();

    private uint NextKey() => _k = (_k + 1) & 4095;

    [Benchmark(Description = "hash TryLookup")]
    public ulong HashLookup() => _hash.TryLookup(NextKey(), out ulong v) ? v : 0;

    [Benchmark(Description = "hash Update")]
    public void HashUpdate() { uint k = NextKey(); _hash.Update(k, k); }

    [Benchmark(Description = "array TryLookup")]
    public ulong ArrayLookup() => _array.TryLookup(NextKey(), out ulong v) ? v : 0;

    [Benchmark(Description = "array Update")]
    public void ArrayUpdate() { uint k = NextKey(); _array.Update(k, k); }

    [Benchmark(Description = "hash LookupBatch, 4096 per call (whole map)")]
    public int HashBatch()
    {
        var c = default(BpfBatchCursor);
        int total = 0, n;
        while ((n = _hash.LookupBatch(_keys, _values, ref c)) > 0) total += n;
        return total;
    }
}
