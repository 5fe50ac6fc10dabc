using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>Receives ring buffer records without copying: <paramref name="data"/> points into the mapped ring and is valid only during the call.</summary>
public delegate void RingBufferCallback(ReadOnlySpan<byte> data);

/// <summary>Receives a ring buffer record viewed as a <typeparamref name="T"/> in place (valid only during the call).</summary>
public delegate void RingBufferEventHandler<T>(ref readonly T value) where T : unmanaged;

/// <summary>
/// A record handler the reader's loop is specialised for (a struct: its <see cref="Handle"/> is inlined into the
/// loop, no delegate call per record). Return false to stop the batch after this record.
/// </summary>
public interface IRingBufferHandler
{
    /// <summary>Handles one record.</summary>
    /// <param name="data">The record's bytes, in the mapped ring; valid only during the call (copy what you keep).</param>
    /// <returns>True to go on with the next record, false to stop the batch after this one (it is consumed either way).</returns>
    bool Handle(ReadOnlySpan<byte> data);
}

/// <summary>
/// One BPF_MAP_TYPE_RINGBUF mapped the way libbpf maps it: the consumer page read-write, the producer page and
/// twice the data area read-only (the kernel maps the data pages twice in a row, so a record that wraps around the
/// end is still contiguous in memory). Positions are read with acquire and written with release semantics; the
/// consumer position is published behind each record once its handler has returned (never before: the producer
/// may overwrite the space as soon as it is published).
/// </summary>
internal sealed unsafe class RingBuffer
{
    private const uint BusyBit = 1u << 31;
    private const uint DiscardBit = 1u << 30;
    private const int HeaderSize = 8;

    private readonly Syscalls _sys;
    private byte* _consumerPage;
    private byte* _producerPage;
    private byte* _data;
    private readonly ulong _mask;
    private readonly nuint _pageSize;
    private readonly nuint _producerLength;

    public RingBuffer(BpfMap map)
    {
        if (map is null) throw new ArgumentNullException(nameof(map));
        if (map.Type != BpfMapType.Ringbuf)
            throw new ArgumentException($"map '{map.Name}' is a {map.Type} map; a ring buffer reader needs a BPF_MAP_TYPE_RINGBUF map", nameof(map));
        Map = map;
        _sys = map.Syscalls;
        Size = map.MaxEntries;
        if (Size == 0 || (Size & (Size - 1)) != 0)
            throw new ArgumentException($"ring buffer '{map.Name}' has size {Size}, which is not a power of two", nameof(map));
        _mask = Size - 1;
        _pageSize = (nuint)Environment.SystemPageSize;
        _producerLength = _pageSize + 2 * (nuint)Size;
        var h = map.Handle;
        void* cons = _sys.Mmap(null, _pageSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, h.Fd, 0, out int e1);
        if (cons == null)
            throw new BpfSyscallException("mmap", null, e1, $"mapping the consumer page of ring buffer '{map.Name}' failed: {Errno.Name(e1)} ({Errno.Describe(e1)})");
        void* prod = _sys.Mmap(null, _producerLength, Libc.PROT_READ, Libc.MAP_SHARED, h.Fd, (long)_pageSize, out int e2);
        if (prod == null)
        {
            _sys.Munmap(cons, _pageSize);
            throw new BpfSyscallException("mmap", null, e2, $"mapping the data of ring buffer '{map.Name}' ({Size} bytes, mapped twice) failed: {Errno.Name(e2)} ({Errno.Describe(e2)})" +
                (e2 == Errno.ENOMEM ? "; the address space or RLIMIT_MEMLOCK is exhausted" : string.Empty));
        }
        _consumerPage = (byte*)cons;
        _producerPage = (byte*)prod;
        _data = (byte*)prod + _pageSize;
    }

    public BpfMap Map { get; }
    /// <summary>Size of the data area in bytes.</summary>
    public uint Size { get; }
    public int Fd => Map.Fd;

    /// <summary>
    /// The consumer position: bytes consumed since the map was created. The reader is its only writer, so the
    /// page itself is the one copy (no cached duplicate to keep in step); the difference between two readings is
    /// the bytes (records, headers, discarded ones) consumed in between.
    /// </summary>
    public ulong ConsumerPosition => Volatile.Read(ref *(ulong*)_consumerPage);

    /// <summary>Bytes produced but not consumed yet.</summary>
    public long Pending => (long)(Volatile.Read(ref *(ulong*)_producerPage) - ConsumerPosition);

    /// <summary>Whether records are waiting.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool HasData() => Volatile.Read(ref *(ulong*)_producerPage) != ConsumerPosition;

    /// <summary>
    /// Hands every committed record to <paramref name="handler"/> (up to <paramref name="max"/>), skipping
    /// discarded ones, stopping at the first record still being written. Returns the number handed over.
    /// The consumer position is published after each record, as libbpf does: the producer can reuse the space at
    /// once, which is what keeps a ring that is drained while it is being filled from dropping records. When the
    /// handler throws, the record it threw on counts as consumed (a record the handler cannot take must not stop
    /// the reader for ever) and the exception propagates.
    /// </summary>
    public int Consume<THandler>(ref THandler handler, int max) where THandler : struct, IRingBufferHandler
    {
        long n;
        try
        {
            if (max == int.MaxValue)
            {
                n = Drain(ref handler);
            }
            else
            {
                var limited = new LimitedHandler<THandler>(handler, max);
                try
                {
                    n = Drain(ref limited);
                }
                finally
                {
                    handler = limited.Inner; // a stateful handler keeps what it saw
                }
            }
        }
        catch
        {
            SkipRecordAtConsumer();
            throw;
        }
        if (n < 0)
            throw CorruptAtConsumer();
        return (int)Math.Min(n, int.MaxValue);
    }

    /// <summary>
    /// The loop, kept apart from the exception handler in <see cref="Consume"/>: no local of the loop is live into
    /// a handler, so the positions stay in registers (a position live into a handler lives on the stack, and the
    /// loop then carries it through a store and a reload per record). Across the handler call only five values
    /// are live (this, handler, cons, prod, count): they fit in the callee-saved registers, so nothing the loop
    /// carries from record to record goes through the stack. The data pointer, mask and consumer page are
    /// re-read from this object per record (L1 loads off the critical path, as libbpf re-reads them from its ring
    /// struct). Returns the count, or -1 at a corrupt record (which stays unconsumed; the caller describes it).
    /// Counters for the whole drain (records: the return value; bytes: the change of
    /// <see cref="ConsumerPosition"/>) belong to the caller, never to this loop.
    /// Not AggressiveOptimization: that opts the method out of tiered PGO, and PGO is what turns the per-record
    /// delegate call of <see cref="DelegateHandler"/> into a guarded, inlined call of the callback's method (no
    /// call, return or precode jump per record; the 16-byte drain spends most of its time in that hand-over).
    /// The loop reaches its optimized code through on-stack replacement within the first drain.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long Drain<THandler>(ref THandler handler) where THandler : struct, IRingBufferHandler
    {
        ulong cons = Volatile.Read(ref *(ulong*)_consumerPage);
        long count = 0;
        while (true)
        {
            ulong prod = Volatile.Read(ref *(ulong*)_producerPage);
            if (prod == cons)
                return count;
            do
            {
                byte* hdr = _data + (cons & _mask);
                uint len = Volatile.Read(ref *(uint*)hdr);
                if ((int)len < 0)
                    return count; // BusyBit: still being written
                cons += ((len & ~DiscardBit) + HeaderSize + 7) & ~7UL;
                if (cons > prod)
                    return -1; // the record claims more than was produced
                if ((len & DiscardBit) != 0)
                {
                    Volatile.Write(ref *(ulong*)_consumerPage, cons);
                    continue;
                }
                count++;
                // neither flag is set here, so len is the size
                bool more = handler.Handle(MemoryMarshal.CreateReadOnlySpan(ref *(hdr + HeaderSize), (int)len));
                Volatile.Write(ref *(ulong*)_consumerPage, cons);
                if (!more)
                    return count;
            }
            while (cons != prod);
            // Look again: records committed meanwhile were not signalled (the kernel only wakes a consumer for a
            // record at the consumer position it had published).
        }
    }

    /// <summary>Consumes the record at the consumer position (the one a handler threw on).</summary>
    private void SkipRecordAtConsumer()
    {
        ulong cons = ConsumerPosition;
        ulong prod = Volatile.Read(ref *(ulong*)_producerPage);
        if (cons >= prod)
            return;
        uint len = Volatile.Read(ref *(uint*)(_data + (cons & _mask)));
        if ((len & BusyBit) != 0)
            return;
        ulong total = ((len & ~DiscardBit) + HeaderSize + 7) & ~7UL;
        if (total <= prod - cons)
            Commit(cons + total);
    }

    private Exception CorruptAtConsumer()
    {
        ulong cons = ConsumerPosition;
        uint len = Volatile.Read(ref *(uint*)(_data + (cons & _mask)));
        return Corrupt(len & ~DiscardBit, cons, Volatile.Read(ref *(ulong*)_producerPage));
    }

    /// <summary>Copies the next committed record as a <typeparamref name="T"/> and consumes it; false when none is ready.</summary>
    public bool TryRead<T>(out T value) where T : unmanaged
    {
        while (true)
        {
            ulong prod = Volatile.Read(ref *(ulong*)_producerPage);
            ulong cons = ConsumerPosition;
            if (cons >= prod)
            {
                value = default;
                return false;
            }
            byte* hdr = _data + (cons & _mask);
            uint len = Volatile.Read(ref *(uint*)hdr);
            if ((len & BusyBit) != 0)
            {
                value = default;
                return false;
            }
            uint size = len & ~DiscardBit;
            ulong total = (size + HeaderSize + 7) & ~7UL;
            if (total > prod - cons)
                throw Corrupt(size, cons, prod);
            bool discarded = (len & DiscardBit) != 0;
            if (!discarded && size < (uint)sizeof(T))
            {
                Commit(cons + total);
                throw ShortRecord<T>(size);
            }
            value = discarded ? default : Unsafe.ReadUnaligned<T>(hdr + HeaderSize);
            Commit(cons + total);
            if (!discarded)
                return true;
        }
    }

    private void Commit(ulong cons) => Volatile.Write(ref *(ulong*)_consumerPage, cons);

    private Exception Corrupt(uint size, ulong cons, ulong prod) =>
        new BpfException($"ring buffer '{Map.Name}' is corrupt: the record at position {cons} claims {size} bytes, but only {prod - cons} bytes were produced (ring size {Size})");

    internal Exception ShortRecord<T>(uint size) where T : unmanaged =>
        new BpfException($"a record of {size} bytes in ring buffer '{Map.Name}' is shorter than {typeof(T).Name} ({sizeof(T)} bytes): the type does not match what the BPF program submits");

    public void Unmap()
    {
        if (_producerPage != null)
        {
            _sys.Munmap(_producerPage, _producerLength);
            _producerPage = null;
            _data = null;
        }
        if (_consumerPage != null)
        {
            _sys.Munmap(_consumerPage, _pageSize);
            _consumerPage = null;
        }
    }
}

/// <summary>Adapters from the public callback shapes to the struct handlers the loop is specialised for.</summary>
internal readonly struct DelegateHandler : IRingBufferHandler
{
    private readonly RingBufferCallback _callback;
    public DelegateHandler(RingBufferCallback callback) => _callback = callback;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Handle(ReadOnlySpan<byte> data)
    {
        _callback(data);
        return true;
    }
}

internal readonly unsafe struct TypedHandler<T> : IRingBufferHandler where T : unmanaged
{
    private readonly RingBufferEventHandler<T> _callback;
    private readonly RingBuffer _ring;
    public TypedHandler(RingBufferEventHandler<T> callback, RingBuffer ring)
    {
        _callback = callback;
        _ring = ring;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Handle(ReadOnlySpan<byte> data)
    {
        if (data.Length < sizeof(T))
            throw _ring.ShortRecord<T>((uint)data.Length);
        _callback(in Unsafe.As<byte, T>(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(data)));
        return true;
    }
}

/// <summary>Stops a drain after a number of records (the limit is counted here, not in the loop of every drain).</summary>
internal struct LimitedHandler<THandler> : IRingBufferHandler where THandler : struct, IRingBufferHandler
{
    public THandler Inner;
    private int _left;

    public LimitedHandler(THandler inner, int max)
    {
        Inner = inner;
        _left = max;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Handle(ReadOnlySpan<byte> data) => Inner.Handle(data) & --_left > 0;
}
