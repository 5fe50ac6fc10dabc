using System;
using System.Diagnostics;
using System.IO;
using Ebpf.Kernel;

namespace Ebpf.Benchmarks.Compare;

/// <summary>
/// Our runtime's side of every metric, one sample at a time, doing exactly what libbpf_twin.c does for the same
/// metric name (see the comment at the top of that file for the unit of work of each).
/// </summary>
internal sealed unsafe class OurSide : IDisposable
{
    public const int MapEntries = 4096;
    public const uint Rb16Events = 699000;   // 16 MiB / 24 B = 699050: nearly full
    public const uint Rb256Events = 63500;   // 16 MiB / 264 B = 63550
    /// <summary>Fill-then-drain cycles per sample (only the drains are timed): one drain of 256-byte events takes ~0.5 ms, too short to time alone on a shared machine.</summary>
    public const int RbDrainsPerSample = 8;
    public const int PbPagesPerCpu = 1024;  // 4 MiB per CPU
    public const uint Pb16EventsPerCpu = 131000;  // 4 MiB / 32 B = 131072
    public const uint Pb256EventsPerCpu = 15400;  // 4 MiB / 272 B = 15420

    private readonly byte[] _objectBytes;
    private BpfObject? _mapsObj, _rbObj, _tpObj;
    private RingDrain? _drain;
    private PerfDrain? _perf;
    private readonly uint[] _batchKeys = new uint[MapEntries];
    private readonly ulong[] _batchValues = new ulong[MapEntries];

    public OurSide(string objectPath)
    {
        _objectBytes = File.ReadAllBytes(objectPath);
    }

    /// <summary>Bytes allocated on this thread by the last ring-buffer drain, and how many events it delivered.</summary>
    public long LastDrainAllocatedBytes { get; private set; }
    public long LastDrainEvents { get; private set; }

    private static long Now() => Stopwatch.GetTimestamp();

    private static long Ns(long t0, long t1) => (long)((t1 - t0) * (1_000_000_000.0 / Stopwatch.Frequency));

    private BpfObject OpenSized(uint hash, uint array, uint rb)
    {
        var obj = BpfObject.Open(_objectBytes, "bench");
        if (hash != 0) obj.GetMap("bench_hash").MaxEntries = hash;
        if (array != 0) obj.GetMap("bench_array").MaxEntries = array;
        if (rb != 0) obj.GetMap("bench_rb").MaxEntries = rb;
        return obj;
    }

    private BpfObject OpenLoad(uint hash, uint array, uint rb)
    {
        var obj = OpenSized(hash, array, rb);
        try
        {
            obj.Load();
            return obj;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    /// <summary>Runs one sample; returns nanoseconds.</summary>
    public long RunSample(string metric)
    {
        long t0, t1;
        switch (metric)
        {
            case "btf_parse":
            {
                t0 = Now();
                var spec = KernelBtf.LoadRaw(KernelBtf.VmlinuxPath, missingHint: true, baseSpec: null, out var mapping);
                t1 = Now();
                GC.KeepAlive(spec);
                mapping?.Dispose();
                return Ns(t0, t1);
            }
            case "btf_parse_read":
            {
                // The path kernels before 6.16 take (no mmap of /sys/kernel/btf): read the file, then scan.
                t0 = Now();
                var spec = KernelBtf.LoadRaw(KernelBtf.VmlinuxPath, missingHint: true, baseSpec: null, out var owner, allowMap: false);
                t1 = Now();
                GC.KeepAlive(spec);
                owner?.Dispose();
                return Ns(t0, t1);
            }
            case "open_load":
            case "open_load_cold":
            {
                if (metric == "open_load_cold")
                    KernelBtf.ResetCacheUnsafe();
                t0 = Now();
                var obj = OpenLoad(1024, 1024, 65536);
                t1 = Now();
                obj.Dispose();
                return Ns(t0, t1);
            }
            case "attach_detach":
            {
                _tpObj ??= OpenLoad(1024, 1024, 65536);
                var p = _tpObj.GetProgram("count_getpid");
                t0 = Now();
                var link = p.AttachTracepoint("syscalls", "sys_enter_getpid");
                link.Dispose();
                t1 = Now();
                return Ns(t0, t1);
            }
            case "hash_update":
            case "hash_lookup":
            case "hash_delete":
            case "array_update":
            case "array_lookup":
            case "hash_batch":
            case "array_batch":
                return MapSample(metric);
            case "rb_drain_16":
            case "rb_drain_256":
                return DrainSample(metric == "rb_drain_256");
            case "pb_drain_16":
            case "pb_drain_256":
                return PerfDrainSample(metric == "pb_drain_256");
            default:
                throw new ArgumentException($"unknown metric '{metric}'");
        }
    }

    private long MapSample(string metric)
    {
        _mapsObj ??= OpenLoad(MapEntries, MapEntries, 65536);
        bool isHash = metric[0] == 'h';
        var map = _mapsObj.GetMap(isHash ? "bench_hash" : "bench_array");
        string op = metric.Substring(metric.IndexOf('_', StringComparison.Ordinal) + 1);
        var ops = new MapOps(map);
        long t0, t1;
        if (op == "update")
        {
            t0 = Now();
            ops.UpdateAll(MapEntries);
            t1 = Now();
            return Ns(t0, t1);
        }
        ops.UpdateAll(MapEntries);
        switch (op)
        {
            case "lookup":
            {
                t0 = Now();
                ulong sum = ops.LookupAll(MapEntries);
                t1 = Now();
                if (sum != (ulong)MapEntries * (MapEntries - 1) / 2) throw new InvalidOperationException("lookup sum mismatch");
                return Ns(t0, t1);
            }
            case "delete":
                t0 = Now();
                ops.DeleteAll(MapEntries);
                t1 = Now();
                return Ns(t0, t1);
            case "batch":
            {
                t0 = Now();
                int total = ops.BatchLookupAll(_batchKeys, _batchValues, MapEntries, isHash);
                t1 = Now();
                if (total != MapEntries) throw new InvalidOperationException($"batch returned {total} elements");
                return Ns(t0, t1);
            }
            default:
                throw new ArgumentException(metric);
        }
    }

    private long DrainSample(bool big)
    {
        _rbObj ??= OpenLoad(1024, 1024, 0);
        _drain ??= new RingDrain(_rbObj.GetMap("bench_rb"));
        uint want = big ? Rb256Events : Rb16Events;
        var ctx = new byte[8];
        BitConverter.TryWriteBytes(ctx, want);
        var emit = _rbObj.GetProgram(big ? "emit_256" : "emit_16");
        return TimeDrains(() =>
        {
            var r = emit.TestRun(context: ctx);
            if (r.ReturnValue != want) throw new InvalidOperationException($"emit returned {r.ReturnValue}, wanted {want}");
        }, _drain, want);
    }

    /// <summary>Online CPUs (the perf buffer has one ring per online CPU, as libbpf's).</summary>
    public static int PerfCpus => KernelInfo.OnlineCpus().Length;

    private long PerfDrainSample(bool big)
    {
        _rbObj ??= OpenLoad(1024, 1024, 0);
        _perf ??= new PerfDrain(_rbObj.GetMap("bench_pb"), PbPagesPerCpu);
        var perf = _perf;
        uint perCpu = big ? Pb256EventsPerCpu : Pb16EventsPerCpu;
        var emit = _rbObj.GetProgram(big ? "pb_emit_256" : "pb_emit_16");
        var ctx = new byte[8];
        BitConverter.TryWriteBytes(ctx, (ulong)perCpu);
        return TimeDrains(() =>
        {
            foreach (int cpu in perf.Cpus)
            {
                var r = emit.TestRun(context: ctx, flags: BpfTestRunFlags.RunOnCpu, cpu: (uint)cpu);
                if (r.ReturnValue != perCpu) throw new InvalidOperationException($"pb emit on cpu {cpu} returned {r.ReturnValue}, wanted {perCpu}");
            }
        }, perf, (long)perCpu * perf.Cpus.Count);
    }

    /// <summary>
    /// <see cref="RbDrainsPerSample"/> cycles of an untimed fill and a timed drain that must deliver
    /// <paramref name="want"/> events; returns the drains' total nanoseconds and records what they allocated.
    /// </summary>
    private long TimeDrains(Action fill, EventDrain drain, long want)
    {
        long elapsed = 0, allocated = 0, events = 0;
        for (int i = 0; i < RbDrainsPerSample; i++)
        {
            fill();
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            long t0 = Now();
            long n = drain.Drain();
            long t1 = Now();
            allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
            elapsed += Ns(t0, t1);
            events += n;
            if (n != want) throw new InvalidOperationException($"drained {n} events, wanted {want}");
            if (drain.Lost != 0) throw new InvalidOperationException($"{drain.Lost} events lost");
        }
        LastDrainAllocatedBytes = allocated;
        LastDrainEvents = events;
        return elapsed;
    }

    public void Dispose()
    {
        _perf?.Dispose();
        _drain?.Dispose();
        _mapsObj?.Dispose();
        _rbObj?.Dispose();
        _tpObj?.Dispose();
    }
}
