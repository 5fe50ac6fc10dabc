using System;
using System.IO;
using System.IO.Compression;

namespace Ebpf;

/// <summary>
/// The one gzip reader of the project: kernel BTF files (<c>RELEASE.btf.gz</c>), embedded minimized BTF and any
/// input given compressed. Pure: bytes or a stream in, bytes out.
/// </summary>
public static class Gzip
{
    /// <summary>True when the data starts with the gzip magic (1f 8b).</summary>
    public static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1f && data[1] == 0x8b;

    /// <summary>Decompresses a whole gzip stream.</summary>
    /// <exception cref="InvalidDataException">The data is not valid gzip.</exception>
    public static byte[] Decompress(Stream compressed, int sizeHint = 0)
    {
        if (compressed is null) throw new ArgumentNullException(nameof(compressed));
        using var gz = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        using var output = new MemoryStream(Math.Max(sizeHint, 4096));
        gz.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Decompresses gzip data held in memory.</summary>
    /// <exception cref="InvalidDataException">The data is not valid gzip.</exception>
    public static byte[] Decompress(byte[] compressed) =>
        Decompress(new MemoryStream(compressed ?? throw new ArgumentNullException(nameof(compressed)), writable: false), compressed.Length * 4);

    /// <summary>The data itself, or its decompressed content when it starts with the gzip magic.</summary>
    public static byte[] DecompressIfGzip(byte[] data) => IsGzip(data) ? Decompress(data) : data;

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
}
