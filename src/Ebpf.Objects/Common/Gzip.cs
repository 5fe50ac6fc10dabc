using System;
using System.IO;
using System.IO.Compression;

namespace Ebpf;

/// <summary>
/// The one gzip reader of the project, and its one rule for every input (objects, kernel BTF files and the minimized
/// BTF embedded in assemblies, /proc/config.gz): content is gzip when it
/// starts with the gzip magic (1f 8b), whatever the file is called, and is then decompressed whole, up to
/// <see cref="MaxDecompressedSize"/> bytes. Corrupt, truncated or oversized data is a <see cref="BpfFormatException"/>.
/// One gzip member, as gzip(1), the kernel's /proc/config.gz and BTFHub write: its trailer's size must match what
/// was decompressed (the inflater itself stops quietly at a truncated end).
/// </summary>
internal static class Gzip
{
    /// <summary>
    /// Upper bound of a decompressed input: 1 GiB, far above any kernel BTF (tens of MiB) or object, and a bound on
    /// what a small crafted file can make us allocate.
    /// </summary>
    public const int MaxDecompressedSize = 1 << 30;

    /// <summary>True when <paramref name="data"/> starts with the gzip magic.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    /// <summary><paramref name="data"/> decompressed when it is gzip, else <paramref name="data"/> itself.</summary>
    /// <exception cref="BpfFormatException">The gzip data is corrupt, truncated or decompresses to more than <paramref name="maxSize"/> bytes.</exception>
    public static ReadOnlyMemory<byte> DecompressIfGzip(ReadOnlyMemory<byte> data, int maxSize = MaxDecompressedSize) =>
        IsGzip(data.Span) ? Decompress(data, maxSize) : data;

    /// <summary>Decompresses gzip data.</summary>
    /// <exception cref="BpfFormatException">The data is not gzip, is corrupt or truncated, or decompresses to more than <paramref name="maxSize"/> bytes.</exception>
    public static byte[] Decompress(ReadOnlyMemory<byte> data, int maxSize = MaxDecompressedSize)
    {
        if (!IsGzip(data.Span))
            throw new BpfFormatException("gzip", 0, "not gzip data (no 1f 8b magic)");
        // Header (10 bytes) and trailer (CRC32 and ISIZE, the size modulo 4 GiB) make at least 18 bytes.
        var span = data.Span;
        if (span.Length < 18)
            throw new BpfFormatException("gzip", -1, $"truncated gzip data ({span.Length} bytes)");
        uint recorded = (uint)(span[span.Length - 4] | span[span.Length - 3] << 8 | span[span.Length - 2] << 16 | span[span.Length - 1] << 24);
        using var input = new GZipStream(new ReadOnlyMemoryStream(data), CompressionMode.Decompress);
        // The recorded size is only a hint for the first buffer: it is not trusted for more than 64 MiB.
        var buffer = new byte[(int)Math.Min(Math.Max(recorded, 4096u), Math.Min(maxSize, 64L << 20)) + 1];
        int total = 0;
        try
        {
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length > maxSize)
                        throw new BpfFormatException("gzip", -1, $"decompresses to more than {maxSize} bytes");
                    Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, (long)maxSize + 1));
                }
                int n = input.Read(buffer, total, buffer.Length - total);
                if (n <= 0)
                    break;
                total += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new BpfFormatException("gzip", -1, $"corrupt gzip data: {e.Message}", e);
        }
        if (total > maxSize)
            throw new BpfFormatException("gzip", -1, $"decompresses to more than {maxSize} bytes");
        if ((uint)total != recorded)
            throw new BpfFormatException("gzip", -1, $"truncated gzip data: {total} bytes decompressed, the trailer records {recorded} " +
                "(or several gzip members, which are not read)");
        if (total == buffer.Length)
            return buffer;
        var result = new byte[total];
        Buffer.BlockCopy(buffer, 0, result, 0, total);
        return result;
    }

    /// <summary>Decompresses a whole gzip stream (read to its end first: the trailer is checked).</summary>
    /// <exception cref="BpfFormatException">As <see cref="Decompress(ReadOnlyMemory{byte}, int)"/>.</exception>
    public static byte[] Decompress(Stream compressed, int maxSize = MaxDecompressedSize)
    {
        if (compressed is null) throw new ArgumentNullException(nameof(compressed));
        using var ms = new MemoryStream();
        compressed.CopyTo(ms);
        return Decompress(new ReadOnlyMemory<byte>(ms.GetBuffer(), 0, (int)ms.Length), maxSize);
    }

    /// <summary>Compresses data (used to store minimized BTF). <paramref name="optimal"/> trades time for size.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> data, bool optimal = true)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, optimal ? CompressionLevel.Optimal : CompressionLevel.Fastest, leaveOpen: true))
        {
            var buffer = data.ToArray();
            gz.Write(buffer, 0, buffer.Length);
        }
        return output.ToArray();
    }

    /// <summary>A read-only stream over memory (netstandard2.0 has no UnmanagedMemoryStream over a ReadOnlyMemory).</summary>
    private sealed class ReadOnlyMemoryStream : Stream
    {
        private readonly ReadOnlyMemory<byte> _data;
        private int _position;

        public ReadOnlyMemoryStream(ReadOnlyMemory<byte> data) => _data = data;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, _data.Length - _position);
            if (n <= 0) return 0;
            _data.Span.Slice(_position, n).CopyTo(buffer.AsSpan(offset, n));
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
