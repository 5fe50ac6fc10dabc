using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Reads a BPF ring buffer (BPF_MAP_TYPE_RINGBUF, Linux 5.8) from its memory-mapped pages: records are handed over
/// in place, as spans or typed references, in batches, with no system call while records are waiting (epoll is
/// only used when the ring is empty) and no allocation per record. One thread consumes at a time; Dispose may be
/// called from any thread and unblocks a waiting <see cref="Poll(RingBufferCallback, TimeSpan, CancellationToken)"/> or async reader.
/// </summary>
/// <example>
/// <code>
/// using var reader = new RingBufferReader(obj.GetMap("events"));
/// while (true) reader.Poll((ReadOnlySpan&lt;byte&gt; data) => Handle(data), cancellationToken); // OperationCanceledException ends it
/// await foreach (var e in reader.ReadAllAsync&lt;Event&gt;(ct)) ...
/// </code>
/// </example>
public sealed class RingBufferReader : IDisposable
{
    private readonly RingBuffer _ring;
    private readonly EventWaiter _waiter;
    private readonly ReaderMetrics _metrics;
    private int _asyncReaders;

    /// <summary>Maps <paramref name="map"/> (a loaded ring buffer map) for reading.</summary>
    public RingBufferReader(BpfMap map)
    {
        _ring = new RingBuffer(map);
        _metrics = new ReaderMetrics(map, "ring_buffer") { Drops = Ebpf.DropCounter.Find(map) };
        try
        {
            _waiter = new EventWaiter(map.Syscalls, $"ring buffer '{map.Name}'", _ring.Unmap);
        }
        catch
        {
            _ring.Unmap();
            throw;
        }
        try
        {
            _waiter.Add(_ring.Fd, 0, $"ring buffer '{map.Name}'");
        }
        catch
        {
            _waiter.Dispose();
            throw;
        }
    }

    /// <summary>The ring buffer map.</summary>
    public BpfMap Map => _ring.Map;
    /// <summary>Size of the ring's data area in bytes.</summary>
    public int Size => (int)_ring.Size;
    /// <summary>Whether <see cref="Dispose"/> was called; a poll in progress on another thread returns, and the ring is unmapped once it has.</summary>
    public bool IsDisposed => _waiter.IsDisposed;

    /// <summary>Bytes submitted and not consumed yet (records, headers and discarded ones).</summary>
    public long PendingBytes
    {
        get
        {
            Enter();
            try { return _ring.Pending; }
            finally { _waiter.Exit(); }
        }
    }

    /// <summary>
    /// The global variable in which the BPF program counts the records it could not reserve because the ring was
    /// full, or null. Found by name when the reader is made: <c>MAP_dropped</c> or <c>MAP_drops</c> (MAP is the ring
    /// buffer's name), or <c>dropped</c> or <c>drops</c> when the object has only this ring buffer; a 4- or 8-byte
    /// integer in .bss or .data. Another name: <see cref="UseDropCounter"/>. Its growth is reported as
    /// <c>ebpf.reader.lost</c> (<see cref="BpfMetrics"/>).
    /// </summary>
    public string? DropCounter => _metrics.Drops?.Name;

    /// <summary>The value of <see cref="DropCounter"/> now (0 when the object has none).</summary>
    public ulong DroppedRecords => _metrics.Drops?.Read() ?? 0;

    /// <summary>Counts drops from the global variable <paramref name="variable"/> of the map's object (see <see cref="DropCounter"/>).</summary>
    /// <exception cref="ArgumentException">The object has no such 4- or 8-byte variable in a writable data section.</exception>
    public void UseDropCounter(string variable)
    {
        if (variable is null) throw new ArgumentNullException(nameof(variable));
        _metrics.Drops = Ebpf.DropCounter.Named(_ring.Map, variable);
    }

    /// <summary>One drain of the ring, counted for the metrics when someone listens (per drain, never per record).</summary>
    private int Drain<THandler>(ref THandler handler, int maxRecords) where THandler : struct, IRingBufferHandler
    {
        if (!BpfMetrics.ReadersObserved)
            return _ring.Consume(ref handler, maxRecords);
        ulong before = _ring.ConsumerPosition;
        int n = _ring.Consume(ref handler, maxRecords);
        _metrics.Drained(n, _ring.ConsumerPosition - before);
        return n;
    }

    private void Enter()
    {
        if (!_waiter.Enter())
            throw Disposed();
    }

    private ObjectDisposedException Disposed() =>
        new ObjectDisposedException(nameof(RingBufferReader), $"the reader of ring buffer '{_ring.Map.Name}' is disposed");

    // ------------------------------------------------------------------ consuming what is there

    /// <summary>Hands every waiting record to <paramref name="callback"/>; returns how many (0 when the ring is empty). Never blocks.</summary>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Consume(RingBufferCallback callback, int maxRecords = int.MaxValue)
    {
        if (callback is null) throw new ArgumentNullException(nameof(callback));
        var h = new DelegateHandler(callback);
        return Consume(ref h, maxRecords);
    }

    /// <summary>Hands every waiting record to <paramref name="handler"/> as a <typeparamref name="T"/> viewed in place.</summary>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Consume<T>(RingBufferEventHandler<T> handler, int maxRecords = int.MaxValue) where T : unmanaged
    {
        if (handler is null) throw new ArgumentNullException(nameof(handler));
        var h = new TypedHandler<T>(handler, _ring);
        return Consume(ref h, maxRecords);
    }

    /// <summary>
    /// Hands every waiting record to a struct handler; the loop is compiled for <typeparamref name="THandler"/>, so
    /// its <see cref="IRingBufferHandler.Handle"/> is inlined. The fastest way to drain a ring.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Consume<THandler>(ref THandler handler, int maxRecords = int.MaxValue) where THandler : struct, IRingBufferHandler
    {
        if (maxRecords <= 0) throw new ArgumentOutOfRangeException(nameof(maxRecords));
        Enter();
        try
        {
            return Drain(ref handler, maxRecords);
        }
        finally
        {
            _waiter.Exit();
        }
    }

    /// <summary>Copies the next record out as a <typeparamref name="T"/>; false when none is waiting.</summary>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public bool TryRead<T>(out T value) where T : unmanaged
    {
        Enter();
        try
        {
            return _ring.TryRead(out value);
        }
        finally
        {
            _waiter.Exit();
        }
    }

    // ------------------------------------------------------------------ waiting

    /// <summary>
    /// Consumes the waiting records, or, when there are none, waits for some (as long as it takes) and consumes them.
    /// Returns the number of records handled; 0 when <see cref="Dispose"/> was called meanwhile.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before records came.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Poll(RingBufferCallback callback, CancellationToken cancellationToken = default) =>
        Poll(callback, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Consumes the waiting records, or, when there are none, waits up to <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: as long as it takes) for some and consumes them. Returns the number of
    /// records handled; 0 on timeout or when <see cref="Dispose"/> was called meanwhile.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before records came.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public int Poll(RingBufferCallback callback, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (callback is null) throw new ArgumentNullException(nameof(callback));
        var h = new DelegateHandler(callback);
        return Poll(ref h, timeout, cancellationToken);
    }

    /// <summary>Like <see cref="Poll(RingBufferCallback, CancellationToken)"/>, with each record viewed as a <typeparamref name="T"/>.</summary>
    public int Poll<T>(RingBufferEventHandler<T> handler, CancellationToken cancellationToken = default) where T : unmanaged =>
        Poll(handler, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Like <see cref="Poll(RingBufferCallback, TimeSpan, CancellationToken)"/>, with each record viewed as a <typeparamref name="T"/>.</summary>
    public int Poll<T>(RingBufferEventHandler<T> handler, TimeSpan timeout, CancellationToken cancellationToken = default) where T : unmanaged
    {
        if (handler is null) throw new ArgumentNullException(nameof(handler));
        var h = new TypedHandler<T>(handler, _ring);
        return Poll(ref h, timeout, cancellationToken);
    }

    /// <summary>Like <see cref="Poll(RingBufferCallback, CancellationToken)"/>, with a struct handler.</summary>
    public int Poll<THandler>(ref THandler handler, CancellationToken cancellationToken = default) where THandler : struct, IRingBufferHandler =>
        Poll(ref handler, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Like <see cref="Poll(RingBufferCallback, TimeSpan, CancellationToken)"/>, with a struct handler.</summary>
    public int Poll<THandler>(ref THandler handler, TimeSpan timeout, CancellationToken cancellationToken = default) where THandler : struct, IRingBufferHandler
    {
        int timeoutMs = EventWaiter.TimeoutMilliseconds(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        Enter();
        try
        {
            int n = Drain(ref handler, int.MaxValue);
            if (n > 0 || timeoutMs == 0)
                return n;
            long start = timeoutMs > 0 ? Environment.TickCount64 : 0;
            using var wake = _waiter.WakeOn(cancellationToken);
            Span<EpollResult> ready = stackalloc EpollResult[2];
            while (true)
            {
                if (_ring.HasData())
                {
                    n = Drain(ref handler, int.MaxValue);
                    if (n > 0) return n; // otherwise only discarded or still-busy records: wait again
                }
                if (_waiter.Wait(ready, timeoutMs, start, cancellationToken) == 0)
                    return _waiter.IsDisposed ? 0 : Drain(ref handler, int.MaxValue); // time up or woken: one last look
            }
        }
        finally
        {
            _waiter.Exit();
        }
    }

    /// <summary>
    /// Streams the records as <typeparamref name="T"/> values (copied out; nothing is allocated per record) until
    /// <paramref name="cancellationToken"/> is cancelled (OperationCanceledException) or the reader is disposed (the
    /// sequence ends). Waiting uses a dedicated thread, not the thread pool. One enumeration at a time.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The reader was disposed before the enumeration started.</exception>
    public async IAsyncEnumerable<T> ReadAllAsync<T>([EnumeratorCancellation] CancellationToken cancellationToken = default) where T : unmanaged
    {
        if (_waiter.IsDisposed)
            throw Disposed();
        if (Interlocked.Exchange(ref _asyncReaders, 1) != 0)
            throw new InvalidOperationException($"ring buffer '{_ring.Map.Name}' is already being read asynchronously; a ring has one consumer");
        // For the metrics, the records read since the ring was last empty count as one drain (and at most
        // BurstLimit records, so that a ring that never runs empty is still reported).
        long burst = 0;
        ulong burstStart = 0;
        bool counting = false;
        try
        {
            using var registration = _waiter.WakeOn(cancellationToken);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (burst == 0 && (counting = BpfMetrics.ReadersObserved))
                    burstStart = PositionForMetrics();
                if (!_waiter.Enter())
                    yield break;
                bool got;
                T value;
                try
                {
                    got = _ring.TryRead(out value);
                }
                finally
                {
                    _waiter.Exit();
                }
                if (got)
                {
                    if (++burst == BurstLimit)
                    {
                        if (counting) CountBurst(burst, burstStart);
                        burst = 0;
                    }
                    yield return value;
                    continue;
                }
                if (burst > 0)
                {
                    if (counting) CountBurst(burst, burstStart);
                    burst = 0;
                }
                if (!await _waiter.WaitAsync().ConfigureAwait(false))
                    yield break;
                if (cancellationToken.IsCancellationRequested)
                    _waiter.DrainWake();
            }
        }
        finally
        {
            if (burst > 0 && counting)
                CountBurst(burst, burstStart);
            Volatile.Write(ref _asyncReaders, 0);
        }
    }

    private const int BurstLimit = 4096;

    private ulong PositionForMetrics()
    {
        if (!_waiter.Enter()) return 0;
        try { return _ring.ConsumerPosition; }
        finally { _waiter.Exit(); }
    }

    private void CountBurst(long events, ulong start)
    {
        if (!_waiter.Enter()) return;
        try { _metrics.Drained(events, _ring.ConsumerPosition - start); }
        finally { _waiter.Exit(); }
    }

    /// <summary>Unmaps the ring (once no thread is reading) and wakes any waiter.</summary>
    public void Dispose()
    {
        if (!_waiter.IsDisposed && _metrics.Drops is { } drops && BpfMetrics.Lost.Enabled)
            _metrics.ReportDrops(drops);
        _waiter.Dispose();
    }

    /// <summary>The map's name and the ring's data size in bytes.</summary>
    public override string ToString() => $"ring buffer reader of '{_ring.Map.Name}' ({_ring.Size} bytes)";
}
