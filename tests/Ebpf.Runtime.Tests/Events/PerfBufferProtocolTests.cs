using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using Ebpf.Kernel;
using Ebpf.Runtime.Tests.Attach;
using Xunit;

namespace Ebpf.Runtime.Tests.Events;

/// <summary>
/// The perf buffer protocol corner cases a live kernel rarely shows (a sample wrapping around the ring's end, a
/// header in the ring's last 8 bytes, lost-sample and unknown records, corrupt sizes, a handler that throws), on a
/// ring simulated in memory: the fake kernel's mmap hands out the metadata page (data_head at 1024, data_tail at
/// 1032) followed by one data page. The map has one slot, so the reader opens one ring (cpu 0).
/// </summary>
public sealed unsafe class PerfBufferProtocolTests : IDisposable
{
    private const uint Sample = 9, Lost = 2;
    private readonly int _page = Environment.SystemPageSize;
    private readonly byte* _mem;
    private readonly FakeSyscalls _k = new FakeSyscalls();
    private readonly BpfMap _map;
    private ulong _head;

    public PerfBufferProtocolTests()
    {
        _mem = (byte*)NativeMemory.AllocZeroed((nuint)(2 * _page));
        _k.MmapAnswer = (len, off) => len == (nuint)(2 * _page) ? (IntPtr)_mem : IntPtr.Zero;
        _map = new BpfMap(null, null, "fake_pb", BpfMapType.PerfEventArray, _k);
        _map.MaxEntries = 1;
        _map.SetHandle(new BpfHandle(_k.NewFd(), BpfHandleKind.Map, _k), 1);
    }

    public void Dispose() => NativeMemory.Free(_mem);

    private byte* Data => _mem + _page;
    private ulong Tail => Volatile.Read(ref *(ulong*)(_mem + 1032));
    private PerfBufferReader NewReader() => new PerfBufferReader(_map, pagesPerCpu: 1);

    private void WriteAt(ulong pos, ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
            Data[(pos + (ulong)i) & (ulong)(_page - 1)] = bytes[i];
    }

    /// <summary>Writes a record at the head and advances it, as the kernel's perf_output does.</summary>
    private ulong PutRecord(uint type, ReadOnlySpan<byte> body, int size = -1)
    {
        ulong at = _head;
        int recSize = size >= 0 ? size : 8 + body.Length;
        Span<byte> header = stackalloc byte[8];
        BitConverter.TryWriteBytes(header, type);
        BitConverter.TryWriteBytes(header.Slice(6), (ushort)recSize);
        WriteAt(at, header);
        WriteAt(at + 8, body);
        _head += (ulong)recSize;
        Volatile.Write(ref *(ulong*)(_mem + 1024), _head);
        return at;
    }

    /// <summary>A PERF_SAMPLE_RAW sample: u32 size, the bytes, padding to 8.</summary>
    private ulong PutSample(byte[] payload, uint? claimedRawSize = null)
    {
        int padded = (4 + payload.Length + 7) & ~7;
        var body = new byte[padded];
        BitConverter.TryWriteBytes(body, claimedRawSize ?? (uint)payload.Length);
        payload.CopyTo(body, 4);
        return PutRecord(Sample, body);
    }

    private static byte[] Bytes(int n, byte v)
    {
        var b = new byte[n];
        b.AsSpan().Fill(v);
        return b;
    }

    [Fact]
    public void SamplesArriveWithTheirCpuAndTheTailIsPublishedAtTheEnd()
    {
        using var reader = NewReader();
        Assert.Equal(new[] { 0 }, reader.Cpus);
        for (int i = 0; i < 5; i++) PutSample(Bytes(16, (byte)i));
        var seen = new List<(int, byte, int)>();
        int n = reader.Consume((int cpu, ReadOnlySpan<byte> d) =>
        {
            Assert.Equal(0ul, Tail); // one store of the tail per drain, as libbpf
            seen.Add((cpu, d[0], d.Length));
        });
        Assert.Equal(5, n);
        Assert.Equal(new[] { (0, (byte)0, 16), (0, (byte)1, 16), (0, (byte)2, 16), (0, (byte)3, 16), (0, (byte)4, 16) }, seen.ToArray());
        Assert.Equal(_head, Tail);
        Assert.Equal(0, reader.Consume((int _, ReadOnlySpan<byte> _) => { }));
    }

    [Fact]
    public void ASampleWrappingAroundTheEndArrivesWhole()
    {
        using var reader = NewReader();
        // Fill up to 24 bytes before the end, consume, then put a 40-byte payload that runs past the end.
        PutSample(Bytes(_page - 24 - 8 - 4 - 4, 1));
        Assert.Equal(1, reader.Consume((int _, ReadOnlySpan<byte> _) => { }));
        Assert.Equal((ulong)(_page - 24), Tail);
        var payload = new byte[40];
        for (int i = 0; i < payload.Length; i++) payload[i] = (byte)(i + 1);
        PutSample(payload);
        byte[]? got = null;
        Assert.Equal(1, reader.Consume((int _, ReadOnlySpan<byte> d) => got = d.ToArray()));
        Assert.Equal(payload, got);
    }

    [Fact]
    public void AHeaderInTheLastEightBytesHasItsSizeFieldAtTheStart()
    {
        using var reader = NewReader();
        PutSample(Bytes(_page - 8 - 8 - 4 - 4, 1)); // leaves exactly 8 bytes before the end
        Assert.Equal(1, reader.Consume((int _, ReadOnlySpan<byte> _) => { }));
        Assert.Equal((ulong)(_page - 8), Tail);
        var payload = new byte[] { 9, 8, 7, 6, 5 };
        PutSample(payload);
        byte[]? got = null;
        Assert.Equal(1, reader.Consume((int _, ReadOnlySpan<byte> d) => got = d.ToArray()));
        Assert.Equal(payload, got);
        Assert.Equal(_head, Tail);
    }

    [Fact]
    public void LostRecordsAreCountedAndOtherRecordsSkipped()
    {
        using var reader = NewReader();
        var reports = new List<(int, ulong)>();
        reader.LostCallback = (cpu, lost) => reports.Add((cpu, lost));
        PutSample(Bytes(8, 1));
        var lost = new byte[16];
        BitConverter.TryWriteBytes(lost.AsSpan(8), 42ul); // { u64 id; u64 lost; }
        PutRecord(Lost, lost);
        PutRecord(77, Bytes(8, 0)); // a record type the reader does not know
        PutSample(Bytes(8, 2));
        var seen = new List<byte>();
        Assert.Equal(2, reader.Consume((int _, ReadOnlySpan<byte> d) => seen.Add(d[0])));
        Assert.Equal(new byte[] { 1, 2 }, seen.ToArray());
        Assert.Equal(42, reader.LostSamples);
        Assert.Equal(new[] { (0, 42ul) }, reports.ToArray());
        Assert.Equal(_head, Tail);
    }

    [Fact]
    public void ASampleClaimingMoreThanItsRecordIsCorruptAndTheOnesBeforeItAreConsumed()
    {
        using var reader = NewReader();
        ulong good = PutSample(Bytes(8, 1));
        ulong bad = PutSample(Bytes(8, 2), claimedRawSize: 300);
        int n = 0;
        var e = Assert.Throws<BpfException>(() => reader.Consume((int _, ReadOnlySpan<byte> _) => n++));
        Assert.Contains("perf buffer 'fake_pb' of cpu 0 is corrupt", e.Message);
        Assert.Equal(1, n);
        Assert.Equal(bad, Tail);
        Assert.True(good < bad);
    }

    [Fact]
    public void ARecordLongerThanWhatWasProducedIsCorrupt()
    {
        using var reader = NewReader();
        PutSample(Bytes(8, 1));
        ulong bad = PutRecord(Sample, Bytes(16, 0), size: 24);
        // the header claims 512 bytes; only 24 were produced
        WriteAt(bad + 6, BitConverter.GetBytes((ushort)512));
        var e = Assert.Throws<BpfException>(() => reader.Consume((int _, ReadOnlySpan<byte> _) => { }));
        Assert.Contains($"a record of 512 bytes at position {bad}", e.Message);
        Assert.Equal(bad, Tail);
        // a zero-sized record of another type cannot make the reader spin
        WriteAt(bad, new byte[8]);
        Assert.Throws<BpfException>(() => reader.Consume((int _, ReadOnlySpan<byte> _) => { }));
    }

    [Fact]
    public void ASampleWhoseHandlerThrowsIsConsumedWithTheOnesBeforeIt()
    {
        using var reader = NewReader();
        PutSample(Bytes(8, 1));
        PutSample(Bytes(8, 2));
        ulong third = PutSample(Bytes(8, 3));
        var e = Assert.Throws<InvalidOperationException>(() => reader.Consume((int _, ReadOnlySpan<byte> d) =>
        {
            if (d[0] == 2) throw new InvalidOperationException("bad sample");
        }));
        Assert.Equal("bad sample", e.Message);
        Assert.Equal(third, Tail);
        var seen = new List<byte>();
        Assert.Equal(1, reader.Consume((int _, ReadOnlySpan<byte> d) => seen.Add(d[0])));
        Assert.Equal(new byte[] { 3 }, seen.ToArray());
    }

    [Fact]
    public void TypedSamplesAreCopiedOutAndShortOnesRefused()
    {
        using var reader = NewReader();
        PutSample(BitConverter.GetBytes(0x1122334455667788ul));
        PutSample(Bytes(4, 1));
        var seen = new List<ulong>();
        var e = Assert.Throws<BpfException>(() => reader.Consume((int _, ref readonly ulong v) => seen.Add(v)));
        Assert.Contains("shorter than UInt64", e.Message);
        Assert.Equal(new[] { 0x1122334455667788ul }, seen.ToArray());
        Assert.Equal(_head, Tail); // the short sample is consumed: it cannot block the reader
    }
}
