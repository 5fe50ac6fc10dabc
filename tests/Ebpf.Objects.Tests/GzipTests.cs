using System;
using System.IO;
using System.IO.Compression;
using Ebpf.Btf;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Objects.Tests;

/// <summary>The one gzip rule: content with the gzip magic is decompressed (whatever its name), bounded, with typed errors.</summary>
public class GzipTests
{
    private static byte[] Compress(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(data, 0, data.Length);
        return ms.ToArray();
    }

    [Fact]
    public void GzipContentIsDecompressedAndOtherContentLeftAlone()
    {
        var plain = new byte[100_000];
        new Random(7).NextBytes(plain);
        plain[0] = 0;
        var packed = Compress(plain);
        Assert.True(Gzip.IsGzip(packed));
        Assert.Equal(plain, Gzip.Decompress(packed));
        Assert.Equal(plain, Gzip.DecompressIfGzip(packed).ToArray());
        Assert.False(Gzip.IsGzip(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }));
        Assert.False(Gzip.IsGzip(new byte[] { 0x1f }));
        var untouched = Gzip.DecompressIfGzip(plain);
        Assert.True(untouched.Span.SequenceEqual(plain));
    }

    [Fact]
    public void CorruptOrTruncatedGzipIsAFormatError()
    {
        var packed = Compress(new byte[10_000]);
        packed[12] ^= 0xff;
        var e = Assert.ThrowsAny<BpfFormatException>(() => Gzip.Decompress(packed));
        Assert.Equal("gzip", e.What);
        Assert.Contains("corrupt gzip data", e.Message);
        Assert.ThrowsAny<BpfFormatException>(() => Gzip.Decompress(new byte[] { 0x1f, 0x8b, 8 }));
        Assert.ThrowsAny<BpfFormatException>(() => Gzip.Decompress(new byte[] { 1, 2, 3 }));

        // The inflater stops quietly at a truncated end: the trailer's size tells.
        var random = new byte[100_000];
        new Random(7).NextBytes(random);
        var whole = Compress(random);
        var cut = Assert.ThrowsAny<BpfFormatException>(() => Gzip.Decompress(whole.AsMemory(0, whole.Length / 2)));
        Assert.StartsWith("gzip: truncated gzip data: ", cut.Message);
    }

    [Fact]
    public void OutputIsBounded()
    {
        // 8 MiB of zeros compress to a few KiB: the bound refuses them before allocating past it.
        var bomb = Compress(new byte[8 << 20]);
        Assert.True(bomb.Length < 1 << 20);
        var e = Assert.ThrowsAny<BpfFormatException>(() => Gzip.Decompress(bomb, maxSize: 1 << 20));
        Assert.Contains("decompresses to more than 1048576 bytes", e.Message);
        Assert.Equal(8 << 20, Gzip.Decompress(bomb, maxSize: 8 << 20).Length);
    }

    [Fact]
    public void BtfSourceReadsGzipKernelBtfByContent()
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "btf", "6.1.0-56-amd64.btf.gz");
        var spec = BtfSource.Parse(File.ReadAllBytes(path));
        Assert.True(spec.FindByName("task_struct", BtfKind.Struct) > 0);
    }
}
