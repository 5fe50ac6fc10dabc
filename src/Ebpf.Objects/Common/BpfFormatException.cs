using System;

namespace Ebpf;

/// <summary>
/// Base of every error raised while reading an eBPF object, a BTF blob, a BTF.ext blob or compressed input.
/// Always carries where in the input the problem was found (and, for an object, <see cref="BpfException.ObjectName"/>).
/// </summary>
public class BpfFormatException : BpfException
{
    public BpfFormatException(string what, long offset, string message)
        : base(Format(what, offset, message))
    {
        What = what;
        Offset = offset;
        WithReason(message);
    }

    public BpfFormatException(string what, long offset, string message, Exception inner)
        : base(Format(what, offset, message), inner)
    {
        What = what;
        Offset = offset;
        WithReason(message);
    }

    /// <summary>Which structure was being read ("ELF", "BTF", "BTF.ext", "object").</summary>
    public string What { get; }

    /// <summary>Byte offset in the input where the problem was found, or -1 when it is not tied to one offset.</summary>
    public long Offset { get; }

    private static string Format(string what, long offset, string message) =>
        offset >= 0 ? $"{what}: at offset 0x{offset:x} ({offset}): {message}" : $"{what}: {message}";
}

/// <summary>The ELF container is malformed (bad header, section or symbol table out of bounds, ...).</summary>
public sealed class ElfFormatException : BpfFormatException
{
    public ElfFormatException(long offset, string message) : base("ELF", offset, message) { }
}

/// <summary>A BTF blob (.BTF section or raw kernel BTF) is malformed.</summary>
public sealed class BtfFormatException : BpfFormatException
{
    public BtfFormatException(long offset, string message) : base("BTF", offset, message) { }
}

/// <summary>A .BTF.ext section is malformed.</summary>
public sealed class BtfExtFormatException : BpfFormatException
{
    public BtfExtFormatException(long offset, string message) : base("BTF.ext", offset, message) { }
}

/// <summary>
/// The ELF file is well formed but is not a usable BPF object: wrong machine, a map definition
/// libbpf would refuse, a relocation against an unknown symbol, and so on.
/// </summary>
public sealed class BpfObjectFormatException : BpfFormatException
{
    public BpfObjectFormatException(string message, long offset = -1) : base("BPF object", offset, message) { }
}
