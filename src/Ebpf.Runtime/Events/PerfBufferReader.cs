using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>Receives a perf buffer sample without copying (unless it wrapped around the ring's end); valid only during the call.</summary>
public delegate void PerfBufferCallback(int cpu, ReadOnlySpan<byte> data);

/// <summary>Receives a perf buffer sample viewed as a <typeparamref name="T"/>.</summary>
public delegate void PerfBufferEventHandler<T>(int cpu, ref readonly T value) where T : unmanaged;

/// <summary>Told how many samples a CPU's ring dropped because it was full.</summary>
public delegate void PerfBufferLostCallback(int cpu, ulong lost);

/// <summary>
/// Reads a BPF_MAP_TYPE_PERF_EVENT_ARRAY the way libbpf's perf_buffer does: one BPF-output perf event per CPU,
/// each with its own memory-mapped ring, registered in the map at the CPU's index and watched by one epoll set.
/// Samples are handed over in place (records that wrap around a ring's end are first copied to a buffer the
/// reader keeps), lost-sample records are counted and reported, and nothing is allocated per sample.
/// </summary>
public sealed unsafe class PerfBufferReader : IDisposable
{
    private const uint PERF_RECORD_LOST = 2, PERF_RECORD_SAMPLE = 9;
    private const ulong PERF_SAMPLE_RAW = 1UL << 10;
    private const int DataHeadOffset = 1024, DataTailOffset = 1032;

    private sealed class CpuRing
    {
        public int Cpu;
        public BpfHandle Event = null!;
        public byte* Base;      // the mmap: metadata page, then data pages
        public byte* Data;
        public byte* End;       // Data + the ring's size
        public ulong Mask;
        public nuint MapLength;
        public ulong Next;      // the position after the record being handed over (published if the handler throws)
        public PerfBufferReader Owner = null!;
    }

    private readonly Syscalls _sys;
    private readonly CpuRing[] _rings;
    private readonly EventWaiter _waiter;
    private readonly int _pageSize;
    // A record that wraps around a ring's end is copied here. Sized once for the largest record there can be (the
    // header's size field is 16 bits), so that reading never allocates.
    private readonly byte[] _scratch = GC.AllocateUninitializedArray<byte>(ushort.MaxValue + 1, pinned: true);
    private long _lost;
    private readonly ReaderMetrics _metrics;
    private int _asyncReaders;

    /// <summary>
    /// Opens one ring of <paramref name="pagesPerCpu"/> pages (a power of two) per online CPU and installs them
    /// in <paramref name="map"/>. <paramref name="wakeupEvents"/>: samples per wake-up (1: every sample).
    /// </summary>
    public PerfBufferReader(BpfMap map, int pagesPerCpu = 64, int wakeupEvents = 1)
    {
        if (map is null) throw new ArgumentNullException(nameof(map));
        if (map.Type != BpfMapType.PerfEventArray)
            throw new ArgumentException($"map '{map.Name}' is a {map.Type} map; a perf buffer reader needs a BPF_MAP_TYPE_PERF_EVENT_ARRAY map", nameof(map));
        if (pagesPerCpu <= 0 || (pagesPerCpu & (pagesPerCpu - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(pagesPerCpu), pagesPerCpu, "the page count per CPU must be a power of two");
        if (wakeupEvents <= 0) throw new ArgumentOutOfRangeException(nameof(wakeupEvents));
        Map = map;
        _sys = map.Syscalls;
        _metrics = new ReaderMetrics(map, "perf_buffer");
        _pageSize = Environment.SystemPageSize;
        PagesPerCpu = pagesPerCpu;
        var rings = new List<CpuRing>();
        _waiter = new EventWaiter(_sys, $"perf buffer '{map.Name}'", ReleaseRings);
        _rings = Array.Empty<CpuRing>();
        try
        {
            foreach (int cpu in KernelInfo.OnlineCpus())
            {
                if ((uint)cpu >= map.MaxEntries) continue;
                var ring = OpenCpu(cpu, pagesPerCpu, wakeupEvents);
                rings.Add(ring);
                _rings = rings.ToArray();
                _waiter.Add(ring.Event.Fd, (ulong)(rings.Count - 1), $"the perf buffer of cpu {cpu}");
                int key = cpu, value = ring.Event.Fd;
                int r = map.UpdateRaw(&key, &value, 0);
                if (r < 0)
                    throw new BpfSyscallException("BPF_MAP_UPDATE_ELEM", BpfCommand.MapUpdateElem, -r,
                        $"installing cpu {cpu}'s perf buffer in map '{map.Name}' failed: {Errno.Name(-r)} ({Errno.Describe(-r)})");
            }
            if (rings.Count == 0)
                throw new BpfException($"perf event array '{map.Name}' has {map.MaxEntries} entries, fewer than any online CPU's index");
        }
        catch
        {
            _waiter.Dispose();
            throw;
        }
    }

    private CpuRing OpenCpu(int cpu, int pages, int wakeupEvents)
    {
        var attr = new PerfEventAttr
        {
            Type = PerfEventAttr.TypeSoftware,
            Size = (uint)sizeof(PerfEventAttr),
            Config = PerfEventAttr.SoftwareBpfOutput,
            SampleType = PERF_SAMPLE_RAW,
            SamplePeriodOrFreq = 1,
            WakeupEventsOrWatermark = (uint)wakeupEvents,
        };
        int fd = _sys.PerfEventOpen(&attr, -1, cpu, -1, PerfEventAttr.PERF_FLAG_FD_CLOEXEC);
        if (fd < 0)
            throw new BpfSyscallException("perf_event_open", null, -fd, $"opening the BPF output event of cpu {cpu} for perf buffer '{Map.Name}' failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)})" +
                (-fd == Errno.EACCES || -fd == Errno.EPERM ? "; perf buffers need root or CAP_PERFMON (see /proc/sys/kernel/perf_event_paranoid)" : string.Empty));
        var handle = new BpfHandle(fd, BpfHandleKind.PerfEvent, _sys);
        nuint len = (nuint)((pages + 1) * _pageSize);
        void* p = _sys.Mmap(null, len, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0, out int errno);
        if (p == null)
        {
            handle.Dispose();
            throw new BpfSyscallException("mmap", null, errno, $"mapping cpu {cpu}'s perf buffer ({pages} pages) failed: {Errno.Name(errno)} ({Errno.Describe(errno)})" +
                (errno == Errno.EPERM || errno == Errno.ENOMEM ? "; the perf mlock limit (kernel.perf_event_mlock_kb) or RLIMIT_MEMLOCK is exhausted: use fewer pages per CPU" : string.Empty));
        }
        int r = _sys.Ioctl(fd, PerfEventAttr.IocEnable, 0);
        if (r < 0)
        {
            _sys.Munmap(p, len);
            handle.Dispose();
            throw new BpfSyscallException("ioctl(PERF_EVENT_IOC_ENABLE)", null, -r, $"enabling cpu {cpu}'s perf buffer failed: {Errno.Name(-r)}");
        }
        return new CpuRing { Owner = this, Cpu = cpu, Event = handle, Base = (byte*)p, Data = (byte*)p + _pageSize, End = (byte*)p + _pageSize + (nuint)pages * (nuint)_pageSize, Mask = (ulong)(pages * _pageSize) - 1, MapLength = len };
    }

    /// <summary>The BPF_MAP_TYPE_PERF_EVENT_ARRAY map the rings are installed in.</summary>
    public BpfMap Map { get; }
    /// <summary>The size of each CPU's ring, in pages (a power of two; a page is <see cref="Environment.SystemPageSize"/> bytes).</summary>
    public int PagesPerCpu { get; }
    /// <summary>The CPUs with a ring.</summary>
    public IReadOnlyList<int> Cpus
    {
        get
        {
            var l = new int[_rings.Length];
            for (int i = 0; i < l.Length; i++) l[i] = _rings[i].Cpu;
            return l;
        }
    }

    /// <summary>Samples the kernel dropped because a ring was full, over the reader's life.</summary>
    public long LostSamples => Interlocked.Read(ref _lost);

    /// <summary>Called with each lost-sample record (optional; the total is in <see cref="LostSamples"/>).</summary>
    public PerfBufferLostCallback? LostCallback { get; set; }

    /// <summary>Whether <see cref="Dispose"/> was called; a poll in progress on another thread returns, and the rings are released once it has.</summary>
    public bool IsDisposed => _waiter.IsDisposed;

    // ------------------------------------------------------------------ reading

    private interface ISampleHandler
    {
        void Handle(int cpu, ReadOnlySpan<byte> data);
    }

    private readonly struct DelegateSink : ISampleHandler
    {
        private readonly PerfBufferCallback _cb;
        public DelegateSink(PerfBufferCallback cb) => _cb = cb;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Handle(int cpu, ReadOnlySpan<byte> data) => _cb(cpu, data);
    }

    private readonly struct TypedSink<T> : ISampleHandler where T : unmanaged
    {
        private readonly PerfBufferEventHandler<T> _cb;
        private readonly string _map;
        public TypedSink(PerfBufferEventHandler<T> cb, string map)
        {
            _cb = cb;
            _map = map;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Handle(int cpu, ReadOnlySpan<byte> data)
        {
            if (data.Length < sizeof(T))
                throw new BpfException($"a sample of {data.Length} bytes in perf buffer '{_map}' is shorter than {typeof(T).Name} ({sizeof(T)} bytes): the type does not match what the BPF program outputs");
            T copy = Unsafe.ReadUnaligned<T>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data)); // samples are only 4-byte aligned
            _cb(cpu, in copy);
        }
    }

    /// <summary>
    /// Hands the samples waiting in one CPU's ring to <paramref name="sink"/> and publishes the tail once at the end,
    /// as libbpf does (the tail shares a cache line with the head the kernel writes per sample, so a store per record
    /// would bounce that line between the producing CPU and this one). When the sink throws, the sample it threw on
    /// counts as consumed with the ones before it and the exception propagates.
    /// </summary>
    private int ConsumeRing<TSink>(CpuRing ring, ref TSink sink) where TSink : struct, ISampleHandler
    {
        ulong* tailPtr = (ulong*)(ring.Base + DataTailOffset);
        long n;
        try
        {
            n = DrainRing(ring, ref sink);
        }
        catch
        {
            // ring.Next is the position after the record the sink threw on (set before each hand-over)
            Volatile.Write(ref *tailPtr, ring.Next);
            throw;
        }
        if (n < 0)
            throw CorruptRecord(ring);
        return (int)Math.Min(n, int.MaxValue);
    }

    /// <summary>
    /// The loop, apart from the exception handler so that nothing it carries from record to record lives on the
    /// stack: static, with only the ring, the sink, head, tail and the count live across the sink call (they fit in
    /// the callee-saved registers). Records that wrap around the ring's end and non-sample records go to methods of
    /// their own. Returns the samples handed over, or -1 at a corrupt record (the tail then stays at it). Per-drain
    /// counters (samples: the return value; bytes: the tail's progress) belong to the caller. Not
    /// AggressiveOptimization, so that tiered PGO can inline the callback behind a guard (see RingBuffer.Drain).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long DrainRing<TSink>(CpuRing ring, ref TSink sink) where TSink : struct, ISampleHandler
    {
        ulong head = Volatile.Read(ref *(ulong*)(ring.Base + DataHeadOffset));
        ulong tail = *(ulong*)(ring.Base + DataTailOffset);
        ring.Next = tail;
        long count = 0;
        while (tail != head)
        {
            // struct perf_event_header { u32 type; u16 misc; u16 size; }: never split by the ring's end (records
            // are 8-byte aligned)
            byte* rec = ring.Data + (tail & ring.Mask);
            uint type = *(uint*)rec;
            ulong recSize = *(ushort*)(rec + 6);
            ulong next = tail + recSize;
            if (next > head)
                break; // longer than what was produced
            if (type == PERF_RECORD_SAMPLE)
            {
                // PERF_SAMPLE_RAW only: { header; u32 size; u8 data[size]; } padded to 8 bytes. One check covers a
                // record shorter than 12 bytes too (rawSize + 12 cannot wrap in 64 bits).
                if (rec + recSize <= ring.End)
                {
                    ulong rawSize = *(uint*)(rec + 8);
                    if (rawSize + 12 > recSize)
                        break;
                    tail = next;
                    count++;
                    ring.Next = next;
                    sink.Handle(ring.Cpu, MemoryMarshal.CreateReadOnlySpan(ref *(rec + 12), (int)rawSize));
                }
                else
                {
                    ulong after = HandleWrapped(ring, ref sink, rec, (uint)recSize, next);
                    if (after == 0)
                        break;
                    tail = after;
                    count++;
                }
            }
            else
            {
                if (recSize < 8)
                    break; // a record cannot be shorter than its header (and the loop would not advance)
                tail = next;
                ring.Next = next;
                if (type == PERF_RECORD_LOST)
                    ring.Owner.OnLost(ring, rec, (uint)recSize);
            }
        }
        Volatile.Write(ref *(ulong*)(ring.Base + DataTailOffset), tail);
        return tail == head ? count : -1;
    }

    /// <summary>
    /// A sample that runs past the ring's end: copied whole into the reader's scratch buffer, checked, then handed
    /// over. Returns <paramref name="next"/>, or 0 (and nothing handed over) when the sample claims more raw bytes than
    /// the record holds. (Returning the position keeps it from being live across this call in the loop.)
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong HandleWrapped<TSink>(CpuRing ring, ref TSink sink, byte* rec, uint recSize, ulong next) where TSink : struct, ISampleHandler
    {
        byte* s = ring.Owner.Unwrap(ring, rec, recSize);
        uint rawSize = *(uint*)(s + 8);
        if ((ulong)rawSize + 12 > recSize)
            return 0;
        ring.Next = next;
        sink.Handle(ring.Cpu, MemoryMarshal.CreateReadOnlySpan(ref *(s + 12), (int)rawSize));
        return next;
    }

    private byte* Unwrap(CpuRing ring, byte* rec, uint recSize)
    {
        byte* s = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scratch));
        uint first = (uint)(ring.Mask + 1 - (ulong)(rec - ring.Data));
        if (first > recSize) first = recSize;
        Buffer.MemoryCopy(rec, s, first, first);
        Buffer.MemoryCopy(ring.Data, s + first, recSize - first, recSize - first);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void OnLost(CpuRing ring, byte* rec, uint recSize)
    {
        // PERF_RECORD_LOST: { header; u64 id; u64 lost; }
        if (recSize < 24)
            return;
        if ((ulong)(rec - ring.Data) + recSize > ring.Mask + 1)
            rec = Unwrap(ring, rec, recSize);
        ulong lost = *(ulong*)(rec + 16);
        Interlocked.Add(ref _lost, (long)lost);
        _metrics.Lost(lost);
        LostCallback?.Invoke(ring.Cpu, lost);
    }

    private BpfException CorruptRecord(CpuRing ring)
    {
        ulong head = Volatile.Read(ref *(ulong*)(ring.Base + DataHeadOffset));
        ulong tail = *(ulong*)(ring.Base + DataTailOffset);
        ulong off = tail & ring.Mask;
        ulong header = *(ulong*)(ring.Data + off);
        uint recSize = (uint)(header >> 48);
        string what = recSize < 8 || recSize > head - tail || (uint)header != PERF_RECORD_SAMPLE
            ? $"a record of {recSize} bytes at position {tail} (head {head})"
            : $"a sample at position {tail} claims more raw bytes than its {recSize}-byte record holds";
        return new BpfException($"perf buffer '{Map.Name}' of cpu {ring.Cpu} is corrupt: {what}");
    }

    /// <summary>One drain of one CPU's ring, counted for the metrics when someone listens (samples, and the tail's progress as bytes).</summary>
    private int Drain<TSink>(CpuRing ring, ref TSink sink) where TSink : struct, ISampleHandler
    {
        if (!BpfMetrics.ReadersObserved)
            return ConsumeRing(ring, ref sink);
        ulong before = Volatile.Read(ref *(ulong*)(ring.Base + DataTailOffset));
        int n = ConsumeRing(ring, ref sink);
        _metrics.Drained(n, Volatile.Read(ref *(ulong*)(ring.Base + DataTailOffset)) - before);
        return n;
    }

    private int ConsumeAll<TSink>(ref TSink sink) where TSink : struct, ISampleHandler
    {
        int n = 0;
        foreach (var r in _rings) n += Drain(r, ref sink);
        return n;
    }

    /// <summary>Hands every waiting sample of every CPU to <paramref name="callback"/>; never blocks. Returns the samples handled.</summary>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Consume(PerfBufferCallback callback)
    {
        if (callback is null) throw new ArgumentNullException(nameof(callback));
        var sink = new DelegateSink(callback);
        return Run(ref sink, 0, default);
    }

    /// <summary>Hands every waiting sample to <paramref name="handler"/> as a <typeparamref name="T"/>.</summary>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Consume<T>(PerfBufferEventHandler<T> handler) where T : unmanaged
    {
        if (handler is null) throw new ArgumentNullException(nameof(handler));
        var sink = new TypedSink<T>(handler, Map.Name);
        return Run(ref sink, 0, default);
    }

    /// <summary>
    /// Consumes the waiting samples, or, when there are none, waits for some (as long as it takes) and consumes them.
    /// Returns the samples handled; 0 when <see cref="Dispose"/> was called meanwhile.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before samples came.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Poll(PerfBufferCallback callback, CancellationToken cancellationToken = default) =>
        Poll(callback, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Consumes the waiting samples, or, when there are none, waits up to <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: as long as it takes) for some. Returns the samples handled; 0 on
    /// timeout or when <see cref="Dispose"/> was called meanwhile.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before samples came.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Poll(PerfBufferCallback callback, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (callback is null) throw new ArgumentNullException(nameof(callback));
        var sink = new DelegateSink(callback);
        return Run(ref sink, EventWaiter.TimeoutMilliseconds(timeout), cancellationToken);
    }

    /// <summary>Like <see cref="Poll(PerfBufferCallback, CancellationToken)"/>, with each sample as a <typeparamref name="T"/>.</summary>
    public int Poll<T>(PerfBufferEventHandler<T> handler, CancellationToken cancellationToken = default) where T : unmanaged =>
        Poll(handler, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Like <see cref="Poll(PerfBufferCallback, TimeSpan, CancellationToken)"/>, with each sample as a <typeparamref name="T"/>.</summary>
    public int Poll<T>(PerfBufferEventHandler<T> handler, TimeSpan timeout, CancellationToken cancellationToken = default) where T : unmanaged
    {
        if (handler is null) throw new ArgumentNullException(nameof(handler));
        var sink = new TypedSink<T>(handler, Map.Name);
        return Run(ref sink, EventWaiter.TimeoutMilliseconds(timeout), cancellationToken);
    }

    private int Run<TSink>(ref TSink sink, int timeoutMs, CancellationToken cancellationToken) where TSink : struct, ISampleHandler
    {
        cancellationToken.ThrowIfCancellationRequested();
        int n = TryRun(ref sink, timeoutMs, cancellationToken);
        if (n < 0)
            throw new ObjectDisposedException(nameof(PerfBufferReader), $"the reader of perf buffer '{Map.Name}' is disposed");
        return n;
    }

    /// <summary>Consumes, waiting as <see cref="Poll(PerfBufferCallback, TimeSpan, CancellationToken)"/> does; -1 when the reader is disposed.</summary>
    private int TryRun<TSink>(ref TSink sink, int timeoutMs, CancellationToken cancellationToken) where TSink : struct, ISampleHandler
    {
        if (!_waiter.Enter()) return -1;
        try
        {
            int n = ConsumeAll(ref sink);
            if (n > 0 || timeoutMs == 0) return n;
            long start = timeoutMs > 0 ? Environment.TickCount64 : 0;
            using var wake = _waiter.WakeOn(cancellationToken);
            Span<EpollResult> ready = stackalloc EpollResult[Math.Min(_rings.Length + 1, 64)];
            while (true)
            {
                int got = _waiter.Wait(ready, timeoutMs, start, cancellationToken);
                if (got == 0)
                    return _waiter.IsDisposed ? 0 : ConsumeAll(ref sink); // time up or woken: one last look
                for (int i = 0; i < got; i++)
                {
                    ulong token = ready[i].Data;
                    if (token < (ulong)_rings.Length) n += Drain(_rings[(int)token], ref sink);
                }
                if (n > 0) return n;
            }
        }
        finally
        {
            _waiter.Exit();
        }
    }

    private struct Collector<T> : ISampleHandler where T : unmanaged
    {
        public Queue<(int, T)> Queue;
        public string Map;
        public void Handle(int cpu, ReadOnlySpan<byte> data)
        {
            if (data.Length < sizeof(T))
                throw new BpfException($"a sample of {data.Length} bytes in perf buffer '{Map}' is shorter than {typeof(T).Name} ({sizeof(T)} bytes)");
            Queue.Enqueue((cpu, Unsafe.ReadUnaligned<T>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data))));
        }
    }

    /// <summary>
    /// Streams samples as (cpu, value) pairs until cancellation (OperationCanceledException) or disposal (the
    /// sequence ends). Samples are staged in a queue the enumeration reuses, so steady-state reading allocates nothing.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The reader was disposed before the enumeration started.</exception>
    public async IAsyncEnumerable<(int Cpu, T Value)> ReadAllAsync<T>([EnumeratorCancellation] CancellationToken cancellationToken = default) where T : unmanaged
    {
        if (_waiter.IsDisposed)
            throw new ObjectDisposedException(nameof(PerfBufferReader), $"the reader of perf buffer '{Map.Name}' is disposed");
        if (Interlocked.Exchange(ref _asyncReaders, 1) != 0)
            throw new InvalidOperationException($"perf buffer '{Map.Name}' is already being read asynchronously");
        try
        {
            using var registration = _waiter.WakeOn(cancellationToken);
            var collector = new Collector<T> { Queue = new Queue<(int, T)>(), Map = Map.Name };
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                while (collector.Queue.Count > 0)
                {
                    yield return collector.Queue.Dequeue();
                    cancellationToken.ThrowIfCancellationRequested();
                }
                int n = TryRun(ref collector, 0, default);
                if (n > 0)
                    continue;
                if (n < 0 || _waiter.IsDisposed)
                    yield break;
                if (!await _waiter.WaitAsync().ConfigureAwait(false))
                    yield break;
                if (cancellationToken.IsCancellationRequested)
                    _waiter.DrainWake();
            }
        }
        finally
        {
            Volatile.Write(ref _asyncReaders, 0);
        }
    }

    private void ReleaseRings()
    {
        foreach (var r in _rings)
        {
            int key = r.Cpu;
            if (Map.IsLoaded)
                Map.DeleteRaw(&key);
            if (r.Base != null)
            {
                _sys.Ioctl(r.Event.Fd, PerfEventAttr.IocDisable, 0);
                _sys.Munmap(r.Base, r.MapLength);
                r.Base = null;
            }
            r.Event.Dispose();
        }
    }

    /// <summary>Removes the rings from the map, unmaps and closes them (once no thread is reading) and wakes any waiter.</summary>
    public void Dispose() => _waiter.Dispose();

    /// <summary>The map's name, the number of CPU rings and their size in pages.</summary>
    public override string ToString() => $"perf buffer reader of '{Map.Name}' ({_rings.Length} CPUs x {PagesPerCpu} pages)";
}
