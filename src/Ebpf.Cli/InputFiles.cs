using System;
using System.IO;
using Ebpf.Btf;

namespace Ebpf.Cli;

/// <summary>Reads the files the commands take: whole-file reads, gzip decompressed transparently.</summary>
internal static class InputFiles
{
    /// <summary>Reads a file; gzip-compressed content (the gzip magic, whatever the name) is decompressed.</summary>
    public static byte[] ReadBytes(string path)
    {
        byte[] data;
        try
        {
            if (Directory.Exists(path))
                throw new CliException($"{path}: is a directory");
            if (!File.Exists(path))
                throw new CliException($"{path}: no such file");
            data = File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException($"{path}: permission denied");
        }
        catch (IOException e)
        {
            throw new CliException($"{path}: cannot read: {e.Message}");
        }
        try
        {
            return Gzip.IsGzip(data) ? Gzip.Decompress(data) : data;
        }
        catch (BpfFormatException e)
        {
            throw new CliException($"{path}: {e.Message}");
        }
    }

    /// <summary>Loads BTF from raw BTF or an ELF object's .BTF section, split on <paramref name="baseSpec"/> when given.</summary>
    public static BtfSpec ReadBtf(string path, BtfSpec? baseSpec = null)
    {
        var data = ReadBytes(path);
        try
        {
            return BtfSource.Parse(data, baseSpec);
        }
        catch (BpfFormatException e)
        {
            throw new CliException($"{path}: {e.Message}");
        }
    }
}
