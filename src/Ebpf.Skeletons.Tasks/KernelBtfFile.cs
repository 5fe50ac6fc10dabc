using System;
using System.IO;
using Ebpf.Btf;
using SharpCompress.Compressors.Xz;
using SharpCompress.Readers.Tar;

namespace Ebpf.Skeletons.Tasks;

/// <summary>
/// Reads a kernel BTF file as a BpfKernelBtf item may give it: raw BTF, gzip-compressed (<c>RELEASE.btf.gz</c>), or
/// a BTFHub archive (<c>&lt;distro&gt;/&lt;version&gt;/&lt;arch&gt;/RELEASE.btf.tar.xz</c>: a tar holding RELEASE.btf, xz-compressed).
/// </summary>
internal static class KernelBtfFile
{
    private static readonly byte[] XzMagic = { 0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00 };

    /// <summary>True when the file needs unpacking before the generator can read it (xz or tar).</summary>
    public static bool IsArchive(string path)
    {
        var head = new byte[6];
        using var fs = File.OpenRead(path);
        int n = fs.Read(head, 0, head.Length);
        return n == 6 && head.AsSpan().SequenceEqual(XzMagic) || path.EndsWith(".tar", StringComparison.Ordinal);
    }

    /// <summary>The raw BTF bytes of the file; throws <see cref="InvalidDataException"/> with the reason.</summary>
    public static byte[] ReadRaw(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        try
        {
            if (Gzip.IsGzip(data))
                data = Gzip.Decompress(data);
            else if (data.AsSpan().StartsWith(XzMagic))
            {
                using var xz = new XZStream(new MemoryStream(data, writable: false));
                using var ms = new MemoryStream(data.Length * 6);
                xz.CopyTo(ms);
                data = ms.ToArray();
            }
        }
        catch (Exception e) when (e is BpfFormatException || IsDecoderError(e))
        {
            throw new InvalidDataException($"cannot decompress: {e.Message}", e);
        }
        if (IsTar(data))
        {
            try
            {
                data = FromTar(data);
            }
            catch (Exception e) when (IsDecoderError(e))
            {
                throw new InvalidDataException($"not a readable tar archive: {e.Message}", e);
            }
        }
        if (!BtfSource.HasBtfMagic(data))
            throw new InvalidDataException($"not kernel BTF (no BTF magic 0xeB9F at the start{(data.Length >= 4 ? $"; it starts with {data[0]:x2} {data[1]:x2} {data[2]:x2} {data[3]:x2}" : string.Empty)}): give raw BTF (/sys/kernel/btf/vmlinux), RELEASE.btf.gz or BTFHub's RELEASE.btf.tar.xz");
        return data;
    }

    /// <summary>
    /// An error of a decoder reading corrupt or truncated input: the framework's (InvalidDataException, ...) or one of
    /// SharpCompress's own exception types (its LZMA decoder throws DataErrorException, its readers
    /// ArchiveException and friends), which derive from Exception directly. Not out-of-memory or cancellation.
    /// </summary>
    private static bool IsDecoderError(Exception e) =>
        e is InvalidDataException or IOException or NotSupportedException or FormatException or ArgumentException or IndexOutOfRangeException or InvalidOperationException
        || (e.GetType().Namespace?.StartsWith("SharpCompress", StringComparison.Ordinal) ?? false);

    private static bool IsTar(byte[] data) =>
        data.Length >= 512 && data[257] == (byte)'u' && data[258] == (byte)'s' && data[259] == (byte)'t' && data[260] == (byte)'a' && data[261] == (byte)'r';

    /// <summary>The one regular file of a BTFHub tar (the first *.btf, else the only file).</summary>
    private static byte[] FromTar(byte[] tar)
    {
        byte[]? found = null;
        string? foundName = null;
        int files = 0;
        using (var reader = TarReader.OpenReader(new MemoryStream(tar, writable: false)))
        {
            while (reader.MoveToNextEntry())
            {
                if (reader.Entry.IsDirectory)
                    continue;
                files++;
                string name = reader.Entry.Key ?? string.Empty;
                bool btf = name.EndsWith(".btf", StringComparison.Ordinal);
                if (found != null && !btf)
                    continue;
                if (found != null && foundName!.EndsWith(".btf", StringComparison.Ordinal))
                    continue;
                using var entry = reader.OpenEntryStream();
                using var ms = new MemoryStream();
                entry.CopyTo(ms);
                found = ms.ToArray();
                foundName = name;
            }
        }
        if (found == null)
            throw new InvalidDataException("the tar archive holds no file");
        if (files > 1 && !foundName!.EndsWith(".btf", StringComparison.Ordinal))
            throw new InvalidDataException($"the tar archive holds {files} files and none is named *.btf");
        return found;
    }
}
