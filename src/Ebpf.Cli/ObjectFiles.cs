using Ebpf.Objects;

namespace Ebpf.Cli;

/// <summary>Reads BPF object files for the <c>object</c> and <c>core</c> commands, with errors that name the file.</summary>
internal static class ObjectFiles
{
    /// <summary>Parses an object file (gzip-compressed ones too); format errors name the file and the offset.</summary>
    public static BpfObjectSpec Read(string path)
    {
        var bytes = InputFiles.ReadBytes(path);
        try
        {
            return BpfObjectSpec.Parse(bytes, BpfObjectSpec.ObjectNameFromPath(path));
        }
        catch (BpfFormatException e)
        {
            throw new CliException($"{path}: {e.Message}");
        }
    }

    /// <summary>libbpf refuses objects whose byte order differs from the host's ("elf: endianness mismatch").</summary>
    public static void RequireHostByteOrder(string path, BpfObjectSpec spec)
    {
        if (spec.Elf.IsLittleEndian != System.BitConverter.IsLittleEndian)
            throw new CliException($"{path}: the object is {(spec.Elf.IsLittleEndian ? "little" : "big")}-endian (clang -target {(spec.Elf.IsLittleEndian ? "bpfel" : "bpfeb")}) " +
                $"but this machine is {(System.BitConverter.IsLittleEndian ? "little" : "big")}-endian: libbpf refuses it (endianness mismatch); build it with -target bpf");
    }

    /// <summary>Number of CO-RE relocation records in the object's .BTF.ext.</summary>
    public static int CoreRelocationCount(BpfObjectSpec spec)
    {
        int n = 0;
        if (spec.BtfExt != null)
            foreach (var s in spec.BtfExt.CoreRelos)
                n += s.Records.Count;
        return n;
    }
}
