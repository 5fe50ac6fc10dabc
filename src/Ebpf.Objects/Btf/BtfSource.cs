using System;
using Ebpf.Elf;

namespace Ebpf.Btf;

/// <summary>
/// Opens BTF from whatever holds it: raw BTF (/sys/kernel/btf/vmlinux, a module's BTF, a .btf file) or an ELF
/// object with a .BTF section (a .bpf.o, a vmlinux image), as bpftool's <c>btf dump file</c> does; gzip-compressed
/// input is decompressed first (<see cref="Gzip"/>).
/// </summary>
internal static class BtfSource
{
    /// <summary>Name of the ELF section that holds BTF.</summary>
    public const string SectionName = ".BTF";

    /// <summary>True when the bytes start with the BTF magic in either byte order.</summary>
    public static bool HasBtfMagic(ReadOnlySpan<byte> data) =>
        data.Length >= 2 && ((data[0] == 0x9f && data[1] == 0xeb) || (data[0] == 0xeb && data[1] == 0x9f));

    /// <summary>
    /// Parses raw BTF, or the .BTF section of an ELF file, either of them possibly gzip-compressed (the kernel's
    /// BTF as BTFHub ships it). Errors in an ELF's .BTF section report offsets in the file (not the section), so
    /// that they point at the bytes a hex dump of the file shows.
    /// </summary>
    /// <exception cref="BpfFormatException">The input is neither BTF nor ELF, the ELF has no .BTF, the BTF is malformed, or the gzip data is corrupt.</exception>
    public static BtfSpec Parse(ReadOnlyMemory<byte> data, BtfSpec? baseSpec = null)
    {
        data = Gzip.DecompressIfGzip(data);
        var span = data.Span;
        if (ElfFile.HasElfMagic(span))
        {
            var elf = ElfFile.Parse(data);
            var sec = elf.FindSection(SectionName)
                ?? throw new BpfObjectFormatException("ELF file has no .BTF section");
            try
            {
                return BtfSpec.Parse(sec.Data, baseSpec);
            }
            catch (BtfFormatException e)
            {
                long at = e.Offset >= 0 ? (long)sec.Offset + e.Offset : -1;
                throw new BtfFormatException(at, e.Reason + (at >= 0 ? $" (offset 0x{e.Offset:x} in the .BTF section)" : " (in the .BTF section)"));
            }
        }
        if (!HasBtfMagic(span))
        {
            if (span.Length < 4)
                throw new BtfFormatException(0, $"input is {span.Length} bytes, too short for BTF or ELF");
            throw new BtfFormatException(0, $"neither BTF nor ELF (starts with bytes {span[0]:x2} {span[1]:x2} {span[2]:x2} {span[3]:x2})");
        }
        return BtfSpec.Parse(data, baseSpec);
    }
}
