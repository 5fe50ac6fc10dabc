using BenchmarkDotNet.Attributes;

namespace Ebpf.Benchmarks.Micro;

/// <summary>What guarding a descriptor against a concurrent Dispose costs per map operation.</summary>
[MemoryDiagnoser]
public class HandleScopeBenchmarks
{
    private BpfObject _obj = null!;
    private BpfMap _map = null!;

    [GlobalSetup]
    public void Setup()
    {
        _obj = BpfObject.Open(Compare.Paths.BenchObject);
        _obj.GetMap("bench_rb").MaxEntries = 65536;
        _obj.Load();
        _map = _obj.GetMap("bench_hash");
    }

    [GlobalCleanup]
    public void Cleanup() => _obj.Dispose();

    [Benchmark(Baseline = true, Description = "Handle.Fd (no guard)")]
    public int Plain() => _map.Handle.Fd;

    private int _state;

    [Benchmark(Description = "Interlocked.Add pair (a custom guard)")]
    public int InterlockedPair()
    {
        int s = System.Threading.Interlocked.Add(ref _state, 2);
        if ((s & 1) != 0) return -1;
        s = System.Threading.Interlocked.Add(ref _state, -2);
        return s;
    }

    [Benchmark(Description = "SafeHandle.DangerousAddRef/Release (the guard before CallEpoch)")]
    public int AddRefRelease()
    {
        var h = _map.Handle;
        bool added = false;
        h.DangerousAddRef(ref added);
        int fd = (int)h.DangerousGetHandle();
        h.DangerousRelease();
        return fd;
    }

    [Benchmark(Description = "EnterFd (CallEpoch: a thread-local sequence number, no atomics)")]
    public int Scope()
    {
        using var s = _map.EnterFd();
        return s.Fd;
    }
}
