using System;
using System.IO;
using Ebpf.Btf;

namespace Ebpf.Cli;

/// <summary>Reads the files the commands take: whole-file reads, gzip decompressed transparently.</summary>
internal static class InputFiles
{
    /// <summary>The kernel's own BTF.</summary>
    public const string KernelBtf = "/sys/kernel/btf/vmlinux";

    /// <summary>Reads a file; <c>.gz</c> files (or any file with the gzip magic) are decompressed.</summary>
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
        if (Gzip.IsGzip(data))
        {
            try
            {
                data = Gzip.Decompress(data);
            }
            catch (InvalidDataException e)
            {
                throw new CliException($"{path}: corrupt gzip data: {e.Message}");
            }
        }
        else if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"{path}: not gzip-compressed (no gzip magic) despite the .gz name");
        }
        return data;
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
