using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Ebpf.Elf;
using Xunit;

namespace Ebpf.Objects.Tests.Elf;

/// <summary>
/// The object layer's decoders of single ELF64 entries (program headers, symbols, .gnu.version), which the runtime's
/// reader of probed executables uses on the parts of a file it reads: both byte orders, short input, and a real
/// library (this process's libc) checked against the dynamic linker's own answer.
/// </summary>
public class ElfEntryDecoderTests
{
    private static byte[] ProgramHeader(bool le, uint type, uint flags, ulong offset, ulong vaddr, ulong paddr, ulong filesz, ulong memsz, ulong align)
    {
        var b = new byte[ElfFile.ProgramHeaderSize];
        void U32(int o, uint v) { if (le) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(o), v); else BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(o), v); }
        void U64(int o, ulong v) { if (le) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(o), v); else BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(o), v); }
        U32(0, type); U32(4, flags); U64(8, offset); U64(16, vaddr); U64(24, paddr); U64(32, filesz); U64(40, memsz); U64(48, align);
        return b;
    }

    private static byte[] Symbol(bool le, uint name, byte info, byte other, ushort shndx, ulong value, ulong size)
    {
        var b = new byte[ElfFile.SymbolSize];
        if (le)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, name);
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), shndx);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), value);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), size);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, name);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), shndx);
            BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(8), value);
            BinaryPrimitives.WriteUInt64BigEndian(b.AsSpan(16), size);
        }
        b[4] = info;
        b[5] = other;
        return b;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ProgramHeaderFieldsDecodeInEitherByteOrder(bool le)
    {
        var ph = ElfFile.DecodeProgramHeader(ProgramHeader(le, 1, 5, 0x1000, 0x401000, 0x401001, 0x2345, 0x3456, 0x1000), le);
        Assert.Equal(ElfSegmentType.Load, ph.Type);
        Assert.Equal(5u, ph.Flags);
        Assert.Equal(0x1000ul, ph.Offset);
        Assert.Equal(0x401000ul, ph.VirtualAddress);
        Assert.Equal(0x401001ul, ph.PhysicalAddress);
        Assert.Equal(0x2345ul, ph.FileSize);
        Assert.Equal(0x3456ul, ph.MemorySize);
        Assert.Equal(0x1000ul, ph.Align);
        // A PT_LOAD maps [vaddr, vaddr + max(memsz, filesz)); nothing else maps anything.
        Assert.True(ph.Maps(0x401000));
        Assert.True(ph.Maps(0x401000 + 0x3455));
        Assert.False(ph.Maps(0x401000 + 0x3456));
        Assert.False(ph.Maps(0x400fff));
        Assert.False(ElfFile.DecodeProgramHeader(ProgramHeader(le, 4, 4, 0, 0x401000, 0, 0x10, 0x10, 4), le).Maps(0x401000)); // PT_NOTE
        // No wrap-around at the top of the address space.
        Assert.False(ElfFile.DecodeProgramHeader(ProgramHeader(le, 1, 5, 0, ulong.MaxValue - 0xf, 0, 0x10, 0x10, 1), le).Maps(3));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SymbolFieldsDecodeInEitherByteOrder(bool le)
    {
        // STB_WEAK (2) << 4 | STT_FUNC (2), STV_HIDDEN (2)
        var s = ElfFile.DecodeSymbol(Symbol(le, 0x1234, 0x22, 2, 0xfff1, 0x7f00_0000_1000, 42), le);
        Assert.Equal(0x1234u, s.Name);
        Assert.Equal(ElfSymbolBinding.Weak, s.Binding);
        Assert.Equal(ElfSymbolType.Func, s.Type);
        Assert.Equal((byte)2, s.Other);
        Assert.Equal((ushort)0xfff1, s.SectionIndex); // SHN_ABS
        Assert.Equal(0x7f00_0000_1000ul, s.Value);
        Assert.Equal(42ul, s.Size);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void VersionSymbolsDecodeWithTheHiddenBit(bool le)
    {
        var b = new byte[7]; // three entries and a stray byte, which is not an entry
        ushort[] want = { 0, 2, (ushort)(ElfFile.VersionHidden | 3) };
        for (int i = 0; i < want.Length; i++)
        {
            if (le) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), want[i]);
            else BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i * 2), want[i]);
        }
        var got = ElfFile.DecodeVersionSymbols(b, le);
        Assert.Equal(want, got);
        Assert.Equal(0, got[1] & ElfFile.VersionHidden);
        Assert.NotEqual(0, got[2] & ElfFile.VersionHidden);
    }

    private static byte[] Note(bool le, string name, uint type, byte[] desc, int alignment)
    {
        int Pad(int n) => (n + alignment - 1) & -alignment;
        var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        var b = new byte[12 + Pad(nameBytes.Length) + Pad(desc.Length)];
        (le ? (Action<Span<byte>, uint>)BinaryPrimitives.WriteUInt32LittleEndian : BinaryPrimitives.WriteUInt32BigEndian)(b.AsSpan(0), (uint)nameBytes.Length);
        (le ? (Action<Span<byte>, uint>)BinaryPrimitives.WriteUInt32LittleEndian : BinaryPrimitives.WriteUInt32BigEndian)(b.AsSpan(4), (uint)desc.Length);
        (le ? (Action<Span<byte>, uint>)BinaryPrimitives.WriteUInt32LittleEndian : BinaryPrimitives.WriteUInt32BigEndian)(b.AsSpan(8), type);
        nameBytes.CopyTo(b, 12);
        desc.CopyTo(b, 12 + Pad(nameBytes.Length));
        return b;
    }

    [Theory]
    [InlineData(true, 4)]
    [InlineData(false, 4)]
    [InlineData(true, 8)]
    public void NotesDecodeWithTheirDescriptors(bool le, int alignment)
    {
        var buildId = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
        var usdt = Encoding.ASCII.GetBytes("0123456789abcdef01234567prov\0name\0-4@%edi\0"); // 47 bytes: padded
        var section = Note(le, "GNU", 3, buildId, alignment).Concat(Note(le, "stapsdt", 3, usdt, alignment)).ToArray();
        var notes = ElfFile.DecodeNotes(section, le, alignment);
        Assert.Equal(2, notes.Count);
        Assert.Equal(("GNU", 3u), (notes[0].Name, notes[0].Type));
        Assert.Equal(buildId, section.AsSpan(notes[0].DescriptorOffset, notes[0].DescriptorSize).ToArray());
        Assert.Equal("stapsdt", notes[1].Name);
        Assert.Equal(usdt, section.AsSpan(notes[1].DescriptorOffset, notes[1].DescriptorSize).ToArray());
        // A section whose last note's padding is cut off still reads; trailing bytes too few for a header are ignored.
        Assert.Equal(2, ElfFile.DecodeNotes(section.AsSpan(0, section.Length - 1), le, alignment).Count);
        Assert.Equal(2, ElfFile.DecodeNotes(section.Concat(new byte[11]).ToArray(), le, alignment).Count);
    }

    [Fact]
    public void ANoteRunningPastItsSectionIsAFormatError()
    {
        var note = Note(true, "stapsdt", 3, new byte[40], 4);
        var e = Assert.Throws<ElfFormatException>(() => ElfFile.DecodeNotes(note.AsSpan(0, note.Length - 8), true));
        Assert.Contains("runs past the end of its section", e.Message);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(0), uint.MaxValue); // namesz 4 GiB
        Assert.Throws<ElfFormatException>(() => ElfFile.DecodeNotes(note, true));
    }

    [Fact]
    public void ShortEntriesAreFormatErrors()
    {
        var ph = Assert.Throws<ElfFormatException>(() => ElfFile.DecodeProgramHeader(new byte[ElfFile.ProgramHeaderSize - 1], true));
        Assert.Contains("past the end", ph.Message);
        Assert.Throws<ElfFormatException>(() => ElfFile.DecodeSymbol(new byte[ElfFile.SymbolSize - 1], true));
    }

    [Fact]
    public void TheSymbolTableOfAnObjectIsDecodedByTheSameDecoder()
    {
        // ElfFile.Parse reads .symtab through DecodeSymbol: every entry it returns matches a direct decode of its bytes.
        var path = Ebpf.Tests.TestEnvironment.Bpf("globals");
        var elf = ElfFile.Parse(File.ReadAllBytes(path));
        var table = elf.SymbolTable!.Data.Span;
        Assert.True(elf.Symbols.Count > 1);
        foreach (var sym in elf.Symbols)
        {
            var raw = ElfFile.DecodeSymbol(table.Slice(sym.Index * ElfFile.SymbolSize, ElfFile.SymbolSize), elf.IsLittleEndian);
            Assert.Equal((sym.Value, sym.Size, sym.Info, sym.Other, sym.SectionIndex), (raw.Value, raw.Size, raw.Info, raw.Other, raw.SectionIndex));
        }
    }

    /// <summary>
    /// This process's libc, decoded piece by piece as the runtime's uprobe reader does: the program headers and the
    /// .dynsym entry of getpid (its default version) give the address the dynamic linker resolved getpid to.
    /// </summary>
    [Fact]
    public void LibcDecodesToTheAddressesTheDynamicLinkerUses()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Skip("needs a Linux process with glibc");
        var (path, loadBase) = MappedLibc();
        var file = File.ReadAllBytes(path);
        var h = ElfFile.ReadHeader(file);
        Assert.True(h.IsLittleEndian == BitConverter.IsLittleEndian);

        var segments = Enumerable.Range(0, h.ProgramHeaderCount)
            .Select(i => ElfFile.DecodeProgramHeader(file.AsSpan((int)h.ProgramHeaderOffset + i * h.ProgramHeaderEntrySize, ElfFile.ProgramHeaderSize), h.IsLittleEndian))
            .ToArray();
        Assert.Contains(segments, s => s.Type == ElfSegmentType.Load && (s.Flags & 1) != 0); // an executable PT_LOAD
        Assert.Contains(segments, s => s.Type == ElfSegmentType.Dynamic);

        var sections = Enumerable.Range(0, h.SectionCount)
            .Select(i => ElfFile.DecodeSectionHeader(file.AsSpan((int)h.SectionHeaderOffset + i * h.SectionHeaderEntrySize, 64), h.IsLittleEndian))
            .ToArray();
        int dynsym = Array.FindIndex(sections, s => s.Type == (uint)ElfSectionType.DynSym);
        Assert.True(dynsym > 0, "libc has no .dynsym");
        var strs = file.AsSpan((int)sections[sections[dynsym].Link].Offset, (int)sections[sections[dynsym].Link].Size);
        int versym = Array.FindIndex(sections, s => s.Type == (uint)ElfSectionType.GnuVerSym && s.Link == (uint)dynsym);
        ushort[]? versions = versym > 0
            ? ElfFile.DecodeVersionSymbols(file.AsSpan((int)sections[versym].Offset, (int)sections[versym].Size), h.IsLittleEndian)
            : null;

        var name = Encoding.ASCII.GetBytes("getpid\0");
        RawSymbol? found = null;
        int count = (int)(sections[dynsym].Size / ElfFile.SymbolSize);
        for (int i = 1; i < count; i++)
        {
            var s = ElfFile.DecodeSymbol(file.AsSpan((int)sections[dynsym].Offset + i * ElfFile.SymbolSize, ElfFile.SymbolSize), h.IsLittleEndian);
            if (s.SectionIndex == ElfSectionIndex.Undefined || !strs.Slice((int)s.Name).StartsWith(name))
                continue;
            if (versions != null && (versions[i] & ElfFile.VersionHidden) != 0)
                continue;
            found = s;
        }
        Assert.True(found.HasValue, "getpid is not a defined default-version symbol of " + path);
        var getpid = found.Value;
        Assert.Equal(ElfSymbolType.Func, getpid.Type);
        Assert.True(getpid.Binding is ElfSymbolBinding.Global or ElfSymbolBinding.Weak, getpid.Binding.ToString());
        Assert.Contains(segments, s => s.Maps(getpid.Value) && (s.Flags & 1) != 0); // in executable code

        ulong first = segments.First(s => s.Type == ElfSegmentType.Load).VirtualAddress & ~0xfffUL;
        IntPtr resolved = NativeLibrary.GetExport(NativeLibrary.Load(path), "getpid");
        Assert.Equal((ulong)resolved, loadBase - first + getpid.Value);
    }

    /// <summary>libc's path and the address its file offset 0 is mapped at, from /proc/self/maps.</summary>
    private static (string Path, ulong Base) MappedLibc()
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6 || !Path.GetFileName(f[5]).StartsWith("libc.so", StringComparison.Ordinal) || f[2] != "00000000")
                continue;
            return (f[5], Convert.ToUInt64(f[0].Split('-')[0], 16));
        }
        Assert.Skip("this process has no libc.so mapped (not glibc)");
        throw new InvalidOperationException();
    }
}
