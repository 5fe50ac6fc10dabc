using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Events;

[StructLayout(LayoutKind.Sequential)]
public struct RingEvent16
{
    public ulong Seq;
    public uint Size;
    public uint Cpu;
}

/// <summary>
/// The ring buffer reader against ringbuf.bpf.o's 16 MiB ring, filled from its getpid tracepoint programs for this
/// test's thread only (exact counts, no noise; the ring buffer, Linux 5.8, is all they need).
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class RingBufferReaderTests
{
    /// <summary>16 MiB / (16 + 8) bytes: what the ring holds of 16-byte events without a consumer.</summary>
    internal const int Capacity16 = 699050;

    /// <summary>Records one getpid() call writes at most (MAX_BATCH in ringbuf.bpf.c).</summary>
    private const int MaxBatch = 512;

    /// <summary>ringbuf.bpf.o loaded and attached (its programs write nothing until <see cref="Emit"/> asks).</summary>
    internal static BpfObject LoadRing()
    {
        TestEnvironment.RequireTracefs();
        var obj = KernelSupport.LoadOrSkip("ringbuf");
        try
        {
            obj.Attach();
            return obj;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Has <paramref name="program"/> ("emit_16", "emit_256" or "emit" with <paramref name="size"/>) write
    /// <paramref name="count"/> records numbered from 0, from getpid() calls of this thread; returns how many fit
    /// (the rest are counted in .bss dropped).
    /// </summary>
    internal static int Emit(BpfObject ring, string program, int count, int size = 16)
    {
        var bss = ring.GetDataSection(".bss");
        uint mode = program switch
        {
            "emit_16" => 16,
            "emit_256" => 256,
            "emit" => 1,
            _ => throw new ArgumentException($"no emitter {program}", nameof(program)),
        };
        ulong before = Bss(ring, "emitted");
        bss.Write(Off(bss, "mode"), mode);
        bss.Write(Off(bss, "size"), (uint)size);
        bss.Write(Off(bss, "next_seq"), 0ul);
        bss.Write(Off(bss, "target_tid"), (uint)KernelSupport.GetTid());
        try
        {
            for (int left = count; left > 0; left -= MaxBatch)
            {
                bss.Write(Off(bss, "batch"), (uint)Math.Min(MaxBatch, left));
                GetPid();
            }
        }
        finally
        {
            bss.Write(Off(bss, "target_tid"), 0u);
        }
        return (int)(Bss(ring, "emitted") - before);
    }

    /// <summary>Checks sequence numbers in order, counting records.</summary>
    private struct SeqChecker : IRingBufferHandler
    {
        public ulong Next;
        public int Count;
        public int Bad;
        public int Size;

        public bool Handle(ReadOnlySpan<byte> data)
        {
            ref readonly var e = ref MemoryMarshal.AsRef<RingEvent16>(data);
            if (e.Seq != Next || data.Length != Size || e.Size != (uint)Size) Bad++;
            Next++;
            Count++;
            return true;
        }
    }

    [Fact]
    public void EveryRecordArrivesOnceInOrderAcrossWrapArounds()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        Assert.Equal(16 * 1024 * 1024, reader.Size);
        // 5 rounds of 300k records: the positions wrap around the 16 MiB ring several times
        for (int round = 0; round < 5; round++)
        {
            Assert.Equal(300_000, Emit(ring, "emit_16", 300_000));
            var check = new SeqChecker { Size = 16 };
            Assert.Equal(300_000, reader.Consume(ref check));
            Assert.Equal(0, check.Bad);
            Assert.Equal(0L, reader.PendingBytes);
        }
        Assert.Equal(0, reader.Consume((ReadOnlySpan<byte> _) => throw new InvalidOperationException("empty ring")));
        Assert.Equal(0ul, Bss(ring, "dropped"));
    }

    [Fact]
    public void AFullRingDrainsCompletelyAndTheOverflowIsDropped()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        Assert.Equal(Capacity16, Emit(ring, "emit_16", Capacity16 + 10));
        Assert.Equal(10ul, Bss(ring, "dropped"));
        var check = new SeqChecker { Size = 16 };
        Assert.Equal(Capacity16, reader.Consume(ref check));
        Assert.Equal(0, check.Bad);
        // the space is back
        Assert.Equal(1000, Emit(ring, "emit_16", 1000));
        Assert.Equal(1000, reader.Consume((ReadOnlySpan<byte> _) => { }));
    }

    [Fact]
    public void RecordsOfEverySizeAndTheTypedView()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        Assert.Equal(100, Emit(ring, "emit_256", 100));
        int n = 0;
        reader.Consume((ReadOnlySpan<byte> d) =>
        {
            Assert.Equal(256, d.Length);
            Assert.Equal((ulong)n, BitConverter.ToUInt64(d));
            Assert.Equal(256u, BitConverter.ToUInt32(d.Slice(8)));
            Assert.True(d.Slice(16).IndexOfAnyExcept((byte)0xab) < 0);
            n++;
        });
        Assert.Equal(100, n);

        // bpf_ringbuf_output copies; the typed view reads the header in place
        Assert.Equal(50, Emit(ring, "emit", 50, 16));
        Assert.Equal(50, Emit(ring, "emit", 50, 256));
        ulong seen = 0, bytes = 0;
        int got = reader.Consume((ref readonly RingEvent16 e) =>
        {
            seen++;
            bytes += e.Size;
        });
        Assert.Equal(100, got);
        Assert.Equal(50ul * 16 + 50ul * 256, bytes);
    }

    [Fact]
    public void BatchesCanBeLimitedAndStoppedByTheHandler()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        Emit(ring, "emit_16", 100);
        Assert.Equal(10, reader.Consume((ReadOnlySpan<byte> _) => { }, maxRecords: 10));
        var check = new SeqChecker { Size = 16, Next = 10 };
        Assert.Equal(90, reader.Consume(ref check));
        Assert.Equal(0, check.Bad);

        // TryRead copies one record at a time
        Emit(ring, "emit_16", 3);
        Assert.True(reader.TryRead(out RingEvent16 a));
        Assert.True(reader.TryRead(out RingEvent16 b));
        Assert.True(reader.TryRead(out RingEvent16 c));
        Assert.False(reader.TryRead(out RingEvent16 _));
        Assert.Equal((0ul, 1ul, 2ul), (a.Seq, b.Seq, c.Seq));
    }

    [Fact]
    public void AHandlerExceptionStillConsumesTheRecordsBeforeIt()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        Emit(ring, "emit_16", 10);
        int n = 0;
        Assert.Throws<InvalidOperationException>(() => reader.Consume((ReadOnlySpan<byte> _) =>
        {
            if (++n == 4) throw new InvalidOperationException("stop");
        }));
        var check = new SeqChecker { Size = 16, Next = 4 };
        Assert.Equal(6, reader.Consume(ref check));
        Assert.Equal(0, check.Bad);

        // a type larger than the records is refused in words
        Emit(ring, "emit_16", 1);
        var e = Assert.Throws<BpfException>(() => reader.Consume((ref readonly Large _) => { }));
        Assert.Contains("is shorter than Large", e.Message);
    }

    [StructLayout(LayoutKind.Sequential, Size = 64)]
    private struct Large
    {
        public long X;
    }

    internal static async Task<bool> Within(Task t, int ms) => await Task.WhenAny(t, Task.Delay(ms)) == t;

    [Fact]
    public async Task PollWaitsForRecordsAndTimesOut()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        var sw = Stopwatch.StartNew();
        Assert.Equal(0, reader.Poll((ReadOnlySpan<byte> _) => { }, TimeSpan.FromMilliseconds(100)));
        Assert.True(sw.ElapsedMilliseconds >= 90, $"returned after {sw.ElapsedMilliseconds} ms");

        int received = 0;
        var poller = Task.Run(() =>
        {
            while (received < 500)
                received += reader.Poll((ReadOnlySpan<byte> _) => { }, TimeSpan.FromSeconds(5));
        });
        Thread.Sleep(50);
        for (int i = 0; i < 5; i++)
        {
            Emit(ring, "emit_16", 100);
            Thread.Sleep(10);
        }
        Assert.True(await Within(poller, 10_000));
        Assert.Equal(500, received);
    }

    [Fact]
    public async Task DisposeUnblocksAWaitingPoll()
    {
        using var ring = LoadRing();
        var reader = new RingBufferReader(ring.GetMap("rb"));
        var poll = Task.Run(() => reader.Poll((ReadOnlySpan<byte> _) => { }));
        Thread.Sleep(100);
        Assert.False(poll.IsCompleted);
        reader.Dispose();
        Assert.True(await Within(poll, 5000), "Poll still blocked after Dispose");
        Assert.Equal(0, await poll);
        Assert.True(reader.IsDisposed);
        // After Dispose every operation says so.
        Assert.Throws<ObjectDisposedException>(() => reader.Poll((ReadOnlySpan<byte> _) => { }, TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => reader.Consume((ReadOnlySpan<byte> _) => { }));
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out long _));
        Assert.Throws<ObjectDisposedException>(() => reader.PendingBytes);
    }

    [Fact]
    public async Task CancellationEndsAWaitingPoll()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        using var cts = new CancellationTokenSource();
        var poll = Task.Run(() => reader.Poll((ReadOnlySpan<byte> _) => { }, cts.Token));
        Thread.Sleep(100);
        Assert.False(poll.IsCompleted);
        cts.Cancel();
        Assert.True(await Within(poll, 5000), "Poll still blocked after cancellation");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);
        // A cancelled token stops at once, even with records waiting; the reader stays usable.
        Emit(ring, "emit_16", 3);
        Assert.Throws<OperationCanceledException>(() => reader.Poll((ReadOnlySpan<byte> _) => { }, TimeSpan.FromSeconds(5), cts.Token));
        Assert.Equal(3, reader.Poll((ReadOnlySpan<byte> _) => { }, TimeSpan.FromSeconds(5), CancellationToken.None));
        // A timeout that ends before records come returns 0, cancellation or not.
        using var later = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        Assert.Equal(0, reader.Poll((ReadOnlySpan<byte> _) => { }, TimeSpan.FromMilliseconds(50), later.Token));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.Poll((ReadOnlySpan<byte> _) => { }, TimeSpan.FromMilliseconds(-2)));
    }

    [Fact]
    public void DisposeFromInsideTheCallbackIsSafe()
    {
        using var ring = LoadRing();
        var reader = new RingBufferReader(ring.GetMap("rb"));
        Emit(ring, "emit_16", 10);
        int n = 0;
        reader.Consume((ReadOnlySpan<byte> d) =>
        {
            n++;
            if (n == 3) reader.Dispose();
            Assert.Equal(16, d.Length); // the mapping stays until the batch ends
        });
        Assert.Equal(10, n);
        Assert.True(reader.IsDisposed);
    }

    [Fact]
    public async Task AsyncStreamDeliversRecordsAndHonoursCancellation()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        using var cts = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            for (int i = 0; i < 10; i++)
            {
                Emit(ring, "emit_16", 100);
                await Task.Delay(5);
            }
        });
        ulong expected = 0;
        int count = 0;
        await foreach (var e in reader.ReadAllAsync<RingEvent16>(cts.Token))
        {
            Assert.Equal(expected % 100, e.Seq);
            expected++;
            if (++count == 1000) break;
        }
        await producer;

        // a waiting enumeration ends with OperationCanceledException when cancelled
        cts.CancelAfter(100);
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in reader.ReadAllAsync<RingEvent16>(cts.Token)) { }
        });
        Assert.True(sw.ElapsedMilliseconds < 5000);
    }

    [Fact]
    public async Task DisposeEndsAWaitingAsyncStream()
    {
        using var ring = LoadRing();
        var reader = new RingBufferReader(ring.GetMap("rb"));
        var consumer = Task.Run(async () =>
        {
            int n = 0;
            await foreach (var _ in reader.ReadAllAsync<RingEvent16>()) n++;
            return n;
        });
        Emit(ring, "emit_16", 7);
        Assert.True(Eventually(() => reader.PendingBytes == 0));
        reader.Dispose();
        Assert.True(await Task.WhenAny(consumer, Task.Delay(5000)) == consumer, "the stream did not end on Dispose");
        Assert.Equal(7, await consumer);
    }

    [Fact]
    public async Task SeveralRingsInOnePoller()
    {
        using var a = LoadRing();
        using var b = LoadRing();
        using var poller = new RingBufferPoller();
        int fromA = 0, fromB = 0;
        poller.Add(a.GetMap("rb"), (ReadOnlySpan<byte> _) => fromA++)
              .Add<RingEvent16>(b.GetMap("rb"), (ref readonly RingEvent16 e) => fromB++);
        Assert.Equal(2, poller.Maps.Count);
        Assert.Equal(0, poller.Poll(TimeSpan.FromMilliseconds(50)));
        Emit(a, "emit_16", 30);
        Emit(b, "emit_16", 70);
        int total = 0;
        while (total < 100)
            total += poller.Poll(TimeSpan.FromSeconds(1));
        Assert.Equal((30, 70), (fromA, fromB));

        var waiting = Task.Run(() => poller.Poll());
        Thread.Sleep(50);
        Emit(b, "emit_16", 5);
        Assert.True(await Within(waiting, 5000));
        Assert.Equal(5, await waiting + poller.Consume());
    }

    [Fact]
    public void RealEventsFromATracepoint()
    {
        uint me = (uint)Environment.ProcessId; // (its first read is a getpid(): not while the probe counts)
        using var obj = Load("core_comm");
        obj.Attach();
        using var reader = new RingBufferReader(obj.GetMap("events"));
        for (int i = 0; i < 5; i++) GetPid();
        int ours = 0;
        string comm = System.IO.File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n');
        reader.Consume((ReadOnlySpan<byte> d) =>
        {
            Assert.Equal(24, d.Length);
            if (BitConverter.ToUInt32(d.Slice(4)) != me) return;
            ours++;
            var name = Encoding.ASCII.GetString(d.Slice(8, 16)).TrimEnd('\0');
            Assert.Equal(comm, name);
        });
        Assert.Equal(5, ours);
    }

    [Fact]
    public void ConsumingAllocatesNothingPerRecord()
    {
        using var ring = LoadRing();
        using var reader = new RingBufferReader(ring.GetMap("rb"));
        RingBufferCallback cb = static _ => { };
        RingBufferEventHandler<RingEvent16> typed = static (ref readonly RingEvent16 _) => { };
        // warm up (JIT, first mappings)
        Emit(ring, "emit_16", 1000);
        reader.Consume(cb);
        Emit(ring, "emit_16", 1000);
        reader.Consume(typed);
        var check = new SeqChecker { Size = 16 };
        Emit(ring, "emit_16", 10);
        reader.Consume(ref check);

        Emit(ring, "emit_16", 200_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int n = reader.Consume(cb);
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(200_000, n);
        Assert.Equal(0, after - before);

        Emit(ring, "emit_16", 200_000);
        before = GC.GetAllocatedBytesForCurrentThread();
        n = reader.Consume(typed);
        after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(200_000, n);
        Assert.Equal(0, after - before);

        Emit(ring, "emit_16", 200_000);
        check = new SeqChecker { Size = 16 };
        before = GC.GetAllocatedBytesForCurrentThread();
        n = reader.Poll(ref check, TimeSpan.Zero);
        after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(200_000, n);
        Assert.Equal(0, after - before);
    }
}
