using System;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace Ebpf.Benchmarks.Micro;

/// <summary>
/// Draining a full 16 MiB ring buffer (filled by emit_16/emit_256 through BPF_PROG_TEST_RUN before each
/// iteration, untimed) with each consumer shape the reader offers. One operation = one whole drain.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class RingBufferBenchmarks
{
    private BpfObject _obj = null!;
    private RingBufferReader _reader = null!;
    private RingBufferCallback _callback = null!;
    private RingBufferEventHandler<EventHeader> _typed = null!;
    private ulong _sum;

    [Params(16, 256)]
    public int EventSize { get; set; }

    [StructLayout(LayoutKind.Sequential)]
    public struct EventHeader
    {
        public ulong Seq;
        public uint Size;
        public uint Cpu;
    }

    private struct SumHandler : IRingBufferHandler
    {
        public ulong Sum;

        public bool Handle(ReadOnlySpan<byte> data)
        {
            Sum += MemoryMarshal.Read<ulong>(data);
            return true;
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _obj = BpfObject.Open(Compare.Paths.BenchObject);
        _obj.GetMap("bench_hash").MaxEntries = 1024;
        _obj.Load();
        _reader = new BpfRingBufferMap(_obj.GetMap("bench_rb")).CreateReader();
        _callback = data => _sum += MemoryMarshal.Read<ulong>(data);
        _typed = (ref readonly EventHeader e) => _sum += e.Seq;
    }

    [IterationSetup]
    public void Fill()
    {
        uint count = EventSize == 16 ? 699000u : 63500u;
        Span<byte> ctx = stackalloc byte[8];
        BitConverter.TryWriteBytes(ctx, count);
        var r = _obj.GetProgram(EventSize == 16 ? "emit_16" : "emit_256").TestRun(context: ctx);
        if (r.ReturnValue != count) throw new InvalidOperationException($"emitted {r.ReturnValue} of {count}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.Dispose();
        _obj.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Consume(RingBufferCallback) (span delegate)")]
    public int Delegate() => _reader.Consume(_callback);

    [Benchmark(Description = "Consume<T>(ref readonly T handler)")]
    public int Typed() => _reader.Consume(_typed);

    [Benchmark(Description = "Consume(ref struct handler) (inlined)")]
    public int Struct()
    {
        var h = new SumHandler();
        int n = _reader.Consume(ref h);
        _sum += h.Sum;
        return n;
    }
}
