using System;
using System.Collections.Generic;
using System.Threading;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Several ring buffers behind one epoll set, each with its own callback (libbpf's ring_buffer__add): one thread
/// waits for all of them and consumes the rings that have records. Rings are added before polling starts.
/// </summary>
public sealed class RingBufferPoller : IDisposable
{
    private abstract class Entry
    {
        protected Entry(RingBuffer ring)
        {
            Ring = ring;
            Metrics = new ReaderMetrics(ring.Map, "ring_buffer") { Drops = DropCounter.Find(ring.Map) };
        }

        public RingBuffer Ring { get; }
        public ReaderMetrics Metrics { get; }

        /// <summary>One drain of the ring, counted for the metrics when someone listens.</summary>
        public int Consume()
        {
            if (!BpfMetrics.ReadersObserved)
                return Drain();
            ulong before = Ring.ConsumerPosition;
            int n = Drain();
            Metrics.Drained(n, Ring.ConsumerPosition - before);
            return n;
        }

        protected abstract int Drain();
    }

    private sealed class DelegateEntry : Entry
    {
        private DelegateHandler _handler;
        public DelegateEntry(RingBuffer ring, RingBufferCallback cb) : base(ring) => _handler = new DelegateHandler(cb);
        protected override int Drain() => Ring.Consume(ref _handler, int.MaxValue);
    }

    private sealed class TypedEntry<T> : Entry where T : unmanaged
    {
        private TypedHandler<T> _handler;
        public TypedEntry(RingBuffer ring, RingBufferEventHandler<T> cb) : base(ring) => _handler = new TypedHandler<T>(cb, ring);
        protected override int Drain() => Ring.Consume(ref _handler, int.MaxValue);
    }

    private Entry[] _entries = Array.Empty<Entry>();
    private readonly EventWaiter _waiter;
    private readonly object _addLock = new object();

    /// <summary>Creates a poller with no ring yet (its epoll set and wake-up eventfd); add rings with <c>Add</c>.</summary>
    public RingBufferPoller()
    {
        _waiter = new EventWaiter(Syscalls.Current, "a ring buffer poller", UnmapAll);
    }

    /// <summary>The maps added so far.</summary>
    public IReadOnlyList<BpfMap> Maps
    {
        get
        {
            var e = Volatile.Read(ref _entries);
            var list = new BpfMap[e.Length];
            for (int i = 0; i < e.Length; i++) list[i] = e[i].Ring.Map;
            return list;
        }
    }

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsDisposed => _waiter.IsDisposed;

    /// <summary>Adds a ring buffer whose records go to <paramref name="callback"/>.</summary>
    public RingBufferPoller Add(BpfMap map, RingBufferCallback callback)
    {
        if (callback is null) throw new ArgumentNullException(nameof(callback));
        var ring = new RingBuffer(map);
        return Add(new DelegateEntry(ring, callback));
    }

    /// <summary>Adds a ring buffer whose records go to <paramref name="handler"/> as <typeparamref name="T"/> values viewed in place.</summary>
    public RingBufferPoller Add<T>(BpfMap map, RingBufferEventHandler<T> handler) where T : unmanaged
    {
        if (handler is null) throw new ArgumentNullException(nameof(handler));
        var ring = new RingBuffer(map);
        return Add(new TypedEntry<T>(ring, handler));
    }

    private RingBufferPoller Add(Entry entry)
    {
        lock (_addLock)
        {
            if (!_waiter.Enter())
            {
                entry.Ring.Unmap();
                throw new ObjectDisposedException(nameof(RingBufferPoller));
            }
            try
            {
                var old = _entries;
                _waiter.Add(entry.Ring.Fd, (ulong)old.Length, $"ring buffer '{entry.Ring.Map.Name}'");
                var next = new Entry[old.Length + 1];
                Array.Copy(old, next, old.Length);
                next[old.Length] = entry;
                Volatile.Write(ref _entries, next);
            }
            catch
            {
                entry.Ring.Unmap();
                throw;
            }
            finally
            {
                _waiter.Exit();
            }
        }
        return this;
    }

    /// <summary>Consumes every ring's waiting records without waiting; returns the total handled.</summary>
    /// <exception cref="ObjectDisposedException">The poller is disposed.</exception>
    public int Consume()
    {
        Enter();
        try
        {
            return ConsumeAll();
        }
        finally
        {
            _waiter.Exit();
        }
    }

    private void Enter()
    {
        if (!_waiter.Enter())
            throw new ObjectDisposedException(nameof(RingBufferPoller), "the ring buffer poller is disposed");
    }

    private int ConsumeAll()
    {
        int total = 0;
        foreach (var e in Volatile.Read(ref _entries))
            total += e.Consume();
        return total;
    }

    /// <summary>
    /// Consumes what is waiting in any ring, or waits (as long as it takes) for a ring to get records and consumes the
    /// rings that did. Returns the records handled; 0 after <see cref="Wake"/> or <see cref="Dispose"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before records came.</exception>
    /// <exception cref="ObjectDisposedException">The poller is disposed.</exception>
    public int Poll(CancellationToken cancellationToken = default) => Poll(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Consumes what is waiting in any ring, or waits up to <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>:
    /// as long as it takes) for a ring to get records and consumes the rings that did. Returns the records handled;
    /// 0 on timeout, after <see cref="Wake"/> or <see cref="Dispose"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before records came.</exception>
    /// <exception cref="ObjectDisposedException">The poller is disposed.</exception>
    public int Poll(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        int timeoutMs = EventWaiter.TimeoutMilliseconds(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        Enter();
        try
        {
            int n = ConsumeAll();
            if (n > 0 || timeoutMs == 0) return n;
            long start = timeoutMs > 0 ? Environment.TickCount64 : 0;
            using var wake = _waiter.WakeOn(cancellationToken);
            var entries = Volatile.Read(ref _entries);
            Span<EpollResult> ready = stackalloc EpollResult[Math.Min(entries.Length + 1, 64)];
            while (true)
            {
                int got = _waiter.Wait(ready, timeoutMs, start, cancellationToken);
                if (got == 0)
                    return _waiter.IsDisposed ? 0 : ConsumeAll(); // time up or woken: one last look
                for (int i = 0; i < got; i++)
                {
                    ulong token = ready[i].Data;
                    if (token < (ulong)entries.Length) n += entries[(int)token].Consume();
                }
                if (n > 0) return n;
            }
        }
        finally
        {
            _waiter.Exit();
        }
    }

    /// <summary>Wakes a thread blocked in <see cref="Poll(TimeSpan, CancellationToken)"/>: it returns what the rings hold then, 0 when they are empty.</summary>
    public void Wake() => _waiter.Wake();

    private void UnmapAll()
    {
        foreach (var e in Volatile.Read(ref _entries))
            e.Ring.Unmap();
    }

    /// <summary>
    /// Wakes a thread waiting in a poll, and unmaps the rings and closes the epoll set once no thread is polling (the maps
    /// themselves stay open). Safe to call from any thread, more than once.
    /// </summary>
    public void Dispose() => _waiter.Dispose();
}
