using System;

namespace Ebpf;

/// <summary>
/// Base of every error raised while reading an eBPF object, a BTF blob, a BTF.ext blob or compressed input.
/// Always carries where in the input the problem was found (and, for an object, <see cref="BpfException.ObjectName"/>).
/// </summary>
public class BpfFormatException : BpfException
{
    /// <summary>An error in <paramref name="what"/> ("ELF", "BTF", ...) at byte <paramref name="offset"/> (-1 for none).</summary>
    /// <param name="what">The structure being read: "ELF", "BTF", "BTF.ext", "BPF object".</param>
    /// <param name="offset">Byte offset in the input, or -1 when the problem is not tied to one offset.</param>
    /// <param name="message">What is wrong there (becomes <see cref="BpfException.Reason"/>).</param>
    public BpfFormatException(string what, long offset, string message)
        : base(Format(what, offset, message))
    {
        What = what;
        Offset = offset;
        WithReason(message);
    }

    /// <summary>An error in <paramref name="what"/> at byte <paramref name="offset"/>, caused by <paramref name="inner"/>.</summary>
    /// <param name="what">The structure being read: "ELF", "BTF", "BTF.ext", "BPF object".</param>
    /// <param name="offset">Byte offset in the input, or -1 when the problem is not tied to one offset.</param>
    /// <param name="message">What is wrong there (becomes <see cref="BpfException.Reason"/>).</param>
    /// <param name="inner">The error that revealed the problem (a failed decompression, for instance).</param>
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
    /// <summary>An ELF error at byte <paramref name="offset"/> of the file (-1 for none).</summary>
    /// <param name="offset">Byte offset in the file, or -1.</param>
    /// <param name="message">What is wrong there.</param>
    public ElfFormatException(long offset, string message) : base("ELF", offset, message) { }
}

/// <summary>A BTF blob (.BTF section or raw kernel BTF) is malformed.</summary>
public sealed class BtfFormatException : BpfFormatException
{
    /// <summary>A BTF error at byte <paramref name="offset"/> of the BTF blob (-1 for none).</summary>
    /// <param name="offset">Byte offset in the blob, or -1.</param>
    /// <param name="message">What is wrong there.</param>
    public BtfFormatException(long offset, string message) : base("BTF", offset, message) { }
}

/// <summary>A .BTF.ext section is malformed.</summary>
public sealed class BtfExtFormatException : BpfFormatException
{
    /// <summary>A .BTF.ext error at byte <paramref name="offset"/> of the section (-1 for none).</summary>
    /// <param name="offset">Byte offset in the section, or -1.</param>
    /// <param name="message">What is wrong there.</param>
    public BtfExtFormatException(long offset, string message) : base("BTF.ext", offset, message) { }
}

/// <summary>
/// The ELF file is well formed but is not a usable BPF object: wrong machine, a map definition
/// libbpf would refuse, a relocation against an unknown symbol, and so on.
/// </summary>
public sealed class BpfObjectFormatException : BpfFormatException
{
    /// <summary>An object the loader cannot use, with the offset in the file when one applies.</summary>
    /// <param name="message">What is wrong (the map, program, section or symbol and why).</param>
    /// <param name="offset">Byte offset in the file, or -1.</param>
    public BpfObjectFormatException(string message, long offset = -1) : base("BPF object", offset, message) { }
}
