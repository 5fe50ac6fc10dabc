using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using Ebpf.Runtime.Tests.Attach;
using Xunit;

namespace Ebpf.Runtime.Tests.Events;

/// <summary>
/// The ring buffer protocol corner cases a live kernel rarely shows (a record still being written, discarded
/// records, a record wrapping around the end, a corrupt length), on a ring simulated in memory: the fake kernel's
/// mmap hands out the consumer page and the producer page + data area, whose second copy is kept identical to the
/// first (the kernel maps the data pages twice).
/// </summary>
public sealed unsafe class RingBufferProtocolTests : IDisposable
{
    private const uint Busy = 1u << 31, Discard = 1u << 30;
    private readonly int _page = Environment.SystemPageSize;
    private readonly uint _size;
    private readonly byte* _consumer;
    private readonly byte* _producer;
    private readonly FakeSyscalls _k = new FakeSyscalls();
    private readonly BpfMap _map;
    private ulong _prod;

    public RingBufferProtocolTests()
    {
        _size = (uint)_page; // one page of data
        _consumer = (byte*)NativeMemory.AllocZeroed((nuint)_page);
        _producer = (byte*)NativeMemory.AllocZeroed((nuint)(_page + 2 * _size));
        _k.MmapAnswer = (len, off) => off == 0 ? (IntPtr)_consumer : (IntPtr)_producer;
        _map = new BpfMap(null, null, "fake_rb", BpfMapType.Ringbuf, _k);
        _map.MaxEntries = _size;
        _map.SetHandle(new BpfHandle(_k.NewFd(), BpfHandleKind.Map, _k), 1);
    }

    public void Dispose()
    {
        NativeMemory.Free(_consumer);
        NativeMemory.Free(_producer);
    }

    private byte* Data => _producer + _page;
    private ulong Consumer => Volatile.Read(ref *(ulong*)_consumer);

    /// <summary>Writes a record (header + bytes) at the producer position and advances it, like bpf_ringbuf_output.</summary>
    private ulong Put(byte[] payload, uint flags = 0)
    {
        ulong at = _prod;
        uint len = (uint)payload.Length | flags;
        WriteAt(at, BitConverter.GetBytes(len));
        WriteAt(at + 4, BitConverter.GetBytes((uint)0));
        WriteAt(at + 8, payload);
        _prod += (ulong)((payload.Length + 8 + 7) & ~7);
        Volatile.Write(ref *(ulong*)_producer, _prod);
        return at;
    }

    private void WriteAt(ulong pos, byte[] bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            ulong off = (pos + (ulong)i) & (_size - 1);
            Data[off] = bytes[i];
            Data[off + _size] = bytes[i]; // the second mapping
        }
    }

    private void SetHeader(ulong at, uint len) => WriteAt(at, BitConverter.GetBytes(len));

    private static byte[] Bytes(int n, byte v)
    {
        var b = new byte[n];
        b.AsSpan().Fill(v);
        return b;
    }

    [Fact]
    public void ABusyRecordStopsTheBatchUntilItIsCommitted()
    {
        using var reader = new RingBufferReader(_map);
        Put(Bytes(8, 1));
        ulong busy = Put(Bytes(8, 2), Busy);
        Put(Bytes(8, 3));
        var seen = new List<byte>();
        Assert.Equal(1, reader.Consume((ReadOnlySpan<byte> d) => seen.Add(d[0])));
        Assert.Equal(16ul, Consumer); // published up to the busy record
        SetHeader(busy, 8);           // committed
        Assert.Equal(2, reader.Consume((ReadOnlySpan<byte> d) => seen.Add(d[0])));
        Assert.Equal(new byte[] { 1, 2, 3 }, seen.ToArray());
        Assert.Equal(_prod, Consumer);
    }

    [Fact]
    public void DiscardedRecordsAreSkippedButConsumed()
    {
        using var reader = new RingBufferReader(_map);
        Put(Bytes(5, 1), Discard);
        Put(Bytes(9, 2));
        Put(Bytes(3, 3), Discard);
        var seen = new List<int>();
        Assert.Equal(1, reader.Consume((ReadOnlySpan<byte> d) => seen.Add(d.Length * 100 + d[0])));
        Assert.Equal(new[] { 902 }, seen.ToArray());
        Assert.Equal(_prod, Consumer);
        Assert.False(reader.TryRead(out long _));
        Put(Bytes(8, 7), Discard);
        Put(Bytes(8, 8));
        Assert.True(reader.TryRead(out long v));
        Assert.Equal(0x0808080808080808L, v);
    }

    [Fact]
    public void ARecordWrappingAroundTheEndIsContiguous()
    {
        using var reader = new RingBufferReader(_map);
        int first = (int)_size - 8 - 16 - 8; // leaves 16 bytes before the end for the next record's header + 8 data bytes
        Put(Bytes(first, 1));
        Assert.Equal(1, reader.Consume((ReadOnlySpan<byte> _) => { }));
        var payload = new byte[40];
        for (int i = 0; i < payload.Length; i++) payload[i] = (byte)(i + 1);
        Put(payload); // header at size-16, data runs 32 bytes past the end
        byte[]? got = null;
        Assert.Equal(1, reader.Consume((ReadOnlySpan<byte> d) => got = d.ToArray()));
        Assert.Equal(payload, got);
    }

    [Fact]
    public void ALengthLongerThanWhatWasProducedIsReportedAsCorruption()
    {
        using var reader = new RingBufferReader(_map);
        Put(Bytes(8, 1));
        ulong bad = Put(Bytes(8, 2));
        SetHeader(bad, 4000);
        int n = 0;
        var e = Assert.Throws<BpfException>(() => reader.Consume((ReadOnlySpan<byte> _) => n++));
        Assert.Contains("ring buffer 'fake_rb' is corrupt", e.Message);
        Assert.Equal(1, n);
        Assert.Equal(16ul, Consumer); // the good record is consumed
    }

    [Fact]
    public void TheConsumerPositionAdvancesBehindEachRecordOnceItsHandlerReturns()
    {
        using var reader = new RingBufferReader(_map);
        for (int i = 0; i < 10; i++) Put(Bytes(8, (byte)i));
        int n = 0;
        reader.Consume((ReadOnlySpan<byte> d) =>
        {
            // the record being handled is not released to the producer yet; every record before it is
            Assert.Equal((ulong)(16 * d[0]), Consumer);
            n++;
        });
        Assert.Equal(10, n);
        Assert.Equal(160ul, Consumer);
    }

    [Fact]
    public void ARecordWhoseHandlerThrowsIsConsumedWithTheOnesBeforeIt()
    {
        using var reader = new RingBufferReader(_map);
        Put(Bytes(8, 1));
        Put(Bytes(5, 2), Discard);
        Put(Bytes(8, 3));
        Put(Bytes(8, 4));
        var e = Assert.Throws<InvalidOperationException>(() => reader.Consume((ReadOnlySpan<byte> d) =>
        {
            if (d[0] == 3) throw new InvalidOperationException("bad record");
        }));
        Assert.Equal("bad record", e.Message);
        Assert.Equal(48ul, Consumer); // 16 + 16 (the discarded one) + 16 (the one that threw)
        var seen = new List<byte>();
        Assert.Equal(1, reader.Consume((ReadOnlySpan<byte> d) => seen.Add(d[0])));
        Assert.Equal(new byte[] { 4 }, seen.ToArray());
    }

    [Fact]
    public void TheRecordLimitStopsAfterPublishingTheLastRecordHandled()
    {
        using var reader = new RingBufferReader(_map);
        for (int i = 0; i < 5; i++) Put(Bytes(8, (byte)i));
        Assert.Equal(2, reader.Consume((ReadOnlySpan<byte> _) => { }, maxRecords: 2));
        Assert.Equal(32ul, Consumer);
        Assert.Equal(3, reader.Consume((ReadOnlySpan<byte> _) => { }));
        Assert.Equal(80ul, Consumer);
    }
}
