using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Ebpf.Elf;

/// <summary>One section header of an ELF file, with its contents.</summary>
internal sealed class ElfSection
{
    internal ElfSection(int index, string name, ElfSectionType type, ulong flags, ulong address, ulong offset, ulong size,
        uint link, uint info, ulong addressAlign, ulong entrySize, ReadOnlyMemory<byte> data)
    {
        Index = index;
        Name = name;
        Type = type;
        Flags = flags;
        Address = address;
        Offset = offset;
        Size = size;
        Link = link;
        Info = info;
        AddressAlign = addressAlign;
        EntrySize = entrySize;
        Data = data;
    }

    public int Index { get; }
    public string Name { get; }
    public ElfSectionType Type { get; }
    public ulong Flags { get; }
    public ulong Address { get; }
    /// <summary>File offset of the contents.</summary>
    public ulong Offset { get; }
    /// <summary>Size in memory (for NOBITS sections there are no bytes in the file).</summary>
    public ulong Size { get; }
    public uint Link { get; }
    public uint Info { get; }
    public ulong AddressAlign { get; }
    public ulong EntrySize { get; }
    /// <summary>Contents; empty for SHT_NOBITS.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    public bool IsExecutable => (Flags & ElfSectionFlags.ExecInstr) != 0;
    public bool IsAlloc => (Flags & ElfSectionFlags.Alloc) != 0;
    public bool IsWritable => (Flags & ElfSectionFlags.Write) != 0;

    public override string ToString() => $"[{Index}] {Name} {Type} size={Size}";
}

/// <summary>One entry of .symtab.</summary>
internal readonly struct ElfSymbol
{
    private readonly RawSymbol _entry;

    internal ElfSymbol(int index, string name, RawSymbol entry)
    {
        Index = index;
        Name = name;
        _entry = entry;
    }

    public int Index { get; }
    public string Name { get; }
    public ulong Value => _entry.Value;
    public ulong Size => _entry.Size;
    public byte Info => _entry.Info;
    public byte Other => _entry.Other;
    public ushort SectionIndex => _entry.SectionIndex;
    public ElfSymbolBinding Binding => _entry.Binding;
    public ElfSymbolType Type => _entry.Type;
    public ElfSymbolVisibility Visibility => (ElfSymbolVisibility)(Other & 3);
    public bool IsUndefined => SectionIndex == ElfSectionIndex.Undefined;

    public override string ToString() => $"{Name} {Type} {Binding} sec={SectionIndex} value=0x{Value:x} size={Size}";
}

/// <summary>One relocation entry (REL or RELA).</summary>
internal readonly struct ElfRelocation
{
    public ElfRelocation(ulong offset, uint symbolIndex, uint type, long addend)
    {
        Offset = offset;
        SymbolIndex = symbolIndex;
        Type = type;
        Addend = addend;
    }

    /// <summary>Byte offset within the target section.</summary>
    public ulong Offset { get; }
    public uint SymbolIndex { get; }
    public uint Type { get; }
    /// <summary>Explicit addend (RELA only; 0 for REL).</summary>
    public long Addend { get; }
    public BpfRelocationType BpfType => (BpfRelocationType)Type;
}

/// <summary>A relocation section and the section it applies to.</summary>
internal sealed class ElfRelocationSection
{
    internal ElfRelocationSection(ElfSection section, ElfSection target, IReadOnlyList<ElfRelocation> relocations)
    {
        Section = section;
        Target = target;
        Relocations = relocations;
    }

    public ElfSection Section { get; }
    public ElfSection Target { get; }
    public IReadOnlyList<ElfRelocation> Relocations { get; }
}

/// <summary>
/// A bounds-checked reader of 64-bit ELF relocatable objects, little- or big-endian.
/// Every offset and count is validated against the input before it is used or allocated for.
/// </summary>
internal sealed class ElfFile
{
    private const int HeaderSize = 64;
    private const int SectionHeaderSize = 64;
    /// <summary>The size of an ELF64 symbol (Elf64_Sym).</summary>
    internal const int SymbolSize = 24;
    /// <summary>The size of an ELF64 program header (Elf64_Phdr).</summary>
    internal const int ProgramHeaderSize = 56;

    private readonly ReadOnlyMemory<byte> _data;
    private readonly ElfSection[] _sections;
    private readonly ElfSymbol[] _symbols;
    private readonly ElfRelocationSection[] _relocationSections;
    private Dictionary<string, ElfSection>? _byName;

    private ElfFile(ReadOnlyMemory<byte> data, bool littleEndian, ushort type, ushort machine, byte osAbi, ulong flags,
        ElfSection[] sections, ElfSymbol[] symbols, ElfRelocationSection[] relocationSections, ElfSection? symbolTable)
    {
        _data = data;
        IsLittleEndian = littleEndian;
        FileType = type;
        Machine = machine;
        OsAbi = osAbi;
        Flags = flags;
        _sections = sections;
        _symbols = symbols;
        _relocationSections = relocationSections;
        SymbolTable = symbolTable;
    }

    public ReadOnlyMemory<byte> Data => _data;
    public bool IsLittleEndian { get; }
    /// <summary>e_type: 1 = relocatable, 2 = executable, 3 = shared object.</summary>
    public ushort FileType { get; }
    public ushort Machine { get; }
    public byte OsAbi { get; }
    public ulong Flags { get; }
    public IReadOnlyList<ElfSection> Sections => _sections;
    /// <summary>Symbols of .symtab, index 0 (the null symbol) included, so that relocation symbol indices index this list.</summary>
    public IReadOnlyList<ElfSymbol> Symbols => _symbols;
    public ElfSection? SymbolTable { get; }
    public IReadOnlyList<ElfRelocationSection> RelocationSections => _relocationSections;

    /// <summary>True when the input starts with the ELF magic.</summary>
    public static bool HasElfMagic(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && data[0] == 0x7f && data[1] == (byte)'E' && data[2] == (byte)'L' && data[3] == (byte)'F';

    public ElfSection? FindSection(string name)
    {
        if (_byName is null)
        {
            var map = new Dictionary<string, ElfSection>(StringComparer.Ordinal);
            foreach (var s in _sections)
            {
                if (s.Index != 0 && !map.ContainsKey(s.Name))
                    map.Add(s.Name, s);
            }
            _byName = map;
        }
        return _byName.TryGetValue(name, out var sec) ? sec : null;
    }

    /// <summary>Relocations that apply to <paramref name="target"/>, or an empty list.</summary>
    public IReadOnlyList<ElfRelocation> GetRelocationsFor(ElfSection target)
    {
        foreach (var r in _relocationSections)
        {
            if (r.Target.Index == target.Index)
                return r.Relocations;
        }
        return Array.Empty<ElfRelocation>();
    }

    public static ElfFile Parse(byte[] data) => Parse(new ReadOnlyMemory<byte>(data));

    public static ElfFile Parse(ReadOnlyMemory<byte> memory)
    {
        var d = memory.Span;
        var h = ReadHeader(d);
        bool le = h.IsLittleEndian;
        var r = new Reader(d, le);
        ushort eType = h.FileType;
        ushort machine = h.Machine;
        ulong shoff = h.SectionHeaderOffset;
        ulong eflags = h.Flags;
        ushort shentsize = h.SectionHeaderEntrySize;
        uint shnum = h.SectionCount;
        uint shstrndx = h.SectionNameTableIndex;

        if (shoff == 0)
        {
            if (shnum != 0)
                throw new ElfFormatException(40, "e_shoff is 0 but e_shnum is not");
            return new ElfFile(memory, le, eType, machine, d[7], eflags, Array.Empty<ElfSection>(), Array.Empty<ElfSymbol>(), Array.Empty<ElfRelocationSection>(), null);
        }
        if (shentsize < SectionHeaderSize)
            throw new ElfFormatException(58, $"e_shentsize {shentsize} is smaller than an ELF64 section header ({SectionHeaderSize})");
        if (shoff >= (ulong)d.Length || (ulong)d.Length - shoff < SectionHeaderSize)
            throw new ElfFormatException(40, $"section header table offset 0x{shoff:x} is beyond the end of the input ({d.Length} bytes)");

        // Extended numbering: section 0 holds the real count and string table index.
        if (shnum == 0)
        {
            ulong realCount = r.U64((int)shoff + 32);
            if (realCount > int.MaxValue)
                throw new ElfFormatException((long)shoff + 32, $"extended section count {realCount} is too large");
            shnum = (uint)realCount;
        }
        if (shstrndx == ElfSectionIndex.XIndex)
            shstrndx = r.U32((int)shoff + 40);

        ulong tableBytes = (ulong)shnum * shentsize;
        if (tableBytes > (ulong)d.Length - shoff)
            throw new ElfFormatException(60, $"section header table ({shnum} entries of {shentsize} bytes at 0x{shoff:x}) runs past the end of the input ({d.Length} bytes)");
        if (shstrndx >= shnum)
            throw new ElfFormatException(62, $"section name string table index {shstrndx} is out of range (e_shnum {shnum})");

        int n = (int)shnum;
        var raw = new RawSection[n];
        for (int i = 0; i < n; i++)
        {
            int o = (int)(shoff + (ulong)i * shentsize);
            raw[i] = DecodeSectionHeader(d.Slice(o, SectionHeaderSize), le);
            raw[i].HeaderOffset = o;
            if (raw[i].Type != (uint)ElfSectionType.NoBits && raw[i].Type != (uint)ElfSectionType.Null)
            {
                if (raw[i].Offset > (ulong)d.Length || raw[i].Size > (ulong)d.Length - raw[i].Offset)
                    throw new ElfFormatException(o + 24, $"section {i} contents (offset 0x{raw[i].Offset:x}, size {raw[i].Size}) run past the end of the input ({d.Length} bytes)");
            }
        }

        var shstr = raw[shstrndx];
        if (shstr.Type != (uint)ElfSectionType.StrTab)
            throw new ElfFormatException(shstr.HeaderOffset + 4, $"section name table (section {shstrndx}) is not a string table");
        var shstrData = d.Slice((int)shstr.Offset, (int)shstr.Size);

        var sections = new ElfSection[n];
        for (int i = 0; i < n; i++)
        {
            var s = raw[i];
            string name;
            if (i == 0 && s.Name == 0)
                name = string.Empty;
            else
                name = Utf8.ReadCString(shstrData, (int)Math.Min(s.Name, int.MaxValue))
                    ?? throw new ElfFormatException(s.HeaderOffset, $"section {i} name offset {s.Name} is outside the section name table ({shstr.Size} bytes) or unterminated");
            ReadOnlyMemory<byte> contents = s.Type == (uint)ElfSectionType.NoBits || s.Type == (uint)ElfSectionType.Null
                ? ReadOnlyMemory<byte>.Empty
                : memory.Slice((int)s.Offset, (int)s.Size);
            sections[i] = s.ToSection(i, name, contents);
        }

        // Symbol table (relocatable objects have exactly one SHT_SYMTAB).
        ElfSection? symtab = null;
        foreach (var s in sections)
        {
            if (s.Type == ElfSectionType.SymTab)
            {
                if (symtab != null)
                    throw new ElfFormatException(raw[s.Index].HeaderOffset, "more than one symbol table");
                symtab = s;
            }
        }
        ElfSymbol[] symbols = Array.Empty<ElfSymbol>();
        if (symtab != null)
            symbols = ReadSymbols(le, raw, sections, symtab);

        // Relocation sections.
        var relocs = new List<ElfRelocationSection>();
        foreach (var s in sections)
        {
            if (s.Type != ElfSectionType.Rel && s.Type != ElfSectionType.Rela)
                continue;
            bool rela = s.Type == ElfSectionType.Rela;
            int entSize = rela ? 24 : 16;
            var hdr = raw[s.Index];
            if (s.EntrySize != 0 && s.EntrySize != (ulong)entSize)
                throw new ElfFormatException(hdr.HeaderOffset + 56, $"relocation section '{s.Name}' has entry size {s.EntrySize}, expected {entSize}");
            if (s.Size % (ulong)entSize != 0)
                throw new ElfFormatException(hdr.HeaderOffset + 32, $"relocation section '{s.Name}' size {s.Size} is not a multiple of {entSize}");
            if (s.Info == 0 || s.Info >= (uint)n)
                throw new ElfFormatException(hdr.HeaderOffset + 44, $"relocation section '{s.Name}' applies to section {s.Info}, which does not exist");
            if (symtab == null || s.Link != (uint)symtab.Index)
                throw new ElfFormatException(hdr.HeaderOffset + 40, $"relocation section '{s.Name}' links to section {s.Link}, which is not the symbol table");
            var target = sections[s.Info];
            int count = (int)(s.Size / (ulong)entSize);
            var list = new ElfRelocation[count];
            int baseOff = (int)s.Offset;
            for (int i = 0; i < count; i++)
            {
                int o = baseOff + i * entSize;
                ulong off = r.U64(o);
                ulong info = r.U64(o + 8);
                long addend = rela ? (long)r.U64(o + 16) : 0;
                uint sym = (uint)(info >> 32);
                uint type = (uint)info;
                if (sym >= (uint)symbols.Length)
                    throw new ElfFormatException(o + 8, $"relocation #{i} in '{s.Name}' refers to symbol {sym}, but the symbol table has {symbols.Length} entries");
                if (target.Type != ElfSectionType.NoBits && off >= target.Size)
                    throw new ElfFormatException(o, $"relocation #{i} in '{s.Name}' has offset 0x{off:x} beyond the end of '{target.Name}' ({target.Size} bytes)");
                list[i] = new ElfRelocation(off, sym, type, addend);
            }
            relocs.Add(new ElfRelocationSection(s, target, list));
        }

        return new ElfFile(memory, le, eType, machine, d[7], eflags, sections, symbols, relocs.ToArray(), symtab);
    }

    private static ElfSymbol[] ReadSymbols(bool littleEndian, RawSection[] raw, ElfSection[] sections, ElfSection symtab)
    {
        var hdr = raw[symtab.Index];
        if (symtab.EntrySize != 0 && symtab.EntrySize != SymbolSize)
            throw new ElfFormatException(hdr.HeaderOffset + 56, $"symbol table entry size {symtab.EntrySize}, expected {SymbolSize}");
        if (symtab.Size % SymbolSize != 0)
            throw new ElfFormatException(hdr.HeaderOffset + 32, $"symbol table size {symtab.Size} is not a multiple of {SymbolSize}");
        if (symtab.Link == 0 || symtab.Link >= (uint)sections.Length || sections[symtab.Link].Type != ElfSectionType.StrTab)
            throw new ElfFormatException(hdr.HeaderOffset + 40, $"symbol table links to section {symtab.Link}, which is not a string table");
        var strtab = sections[symtab.Link].Data.Span;
        var table = symtab.Data.Span;
        int count = (int)(symtab.Size / SymbolSize);
        var symbols = new ElfSymbol[count];
        int baseOff = (int)symtab.Offset;
        for (int i = 0; i < count; i++)
        {
            int o = baseOff + i * SymbolSize;
            var sym = DecodeSymbol(table.Slice(i * SymbolSize, SymbolSize), littleEndian);
            string name = sym.Name == 0
                ? string.Empty
                : Utf8.ReadCString(strtab, (int)Math.Min(sym.Name, int.MaxValue))
                  ?? throw new ElfFormatException(o, $"symbol {i} name offset {sym.Name} is outside the string table or unterminated");
            if (sym.SectionIndex != ElfSectionIndex.Undefined && sym.SectionIndex < ElfSectionIndex.LoReserve && sym.SectionIndex >= sections.Length)
                throw new ElfFormatException(o + 6, $"symbol {i} ('{name}') refers to section {sym.SectionIndex}, which does not exist");
            symbols[i] = new ElfSymbol(i, name, sym);
        }
        return symbols;
    }

    /// <summary>
    /// Checks the identification bytes and reads the ELF64 file header (the first 64 bytes): shared by this parser
    /// and the runtime's reader of probed executables, which reads only the tables it needs from a file.
    /// </summary>
    /// <exception cref="ElfFormatException">Not an ELF64 file, or a header that cannot be one.</exception>
    internal static ElfHeader ReadHeader(ReadOnlySpan<byte> d)
    {
        if (d.Length < 16 || !HasElfMagic(d))
            throw new ElfFormatException(0, d.Length < 4 ? $"input is {d.Length} bytes, too short for an ELF header" : "not an ELF file (bad magic)");
        byte cls = d[4];
        if (cls == 1)
            throw new ElfFormatException(4, "32-bit ELF (ELFCLASS32) is not supported; BPF objects are ELF64");
        if (cls != 2)
            throw new ElfFormatException(4, $"unknown ELF class {cls}");
        byte enc = d[5];
        bool le;
        if (enc == 1) le = true;
        else if (enc == 2) le = false;
        else throw new ElfFormatException(5, $"unknown ELF data encoding {enc}");
        if (d[6] != 1)
            throw new ElfFormatException(6, $"unsupported ELF version {d[6]}");
        if (d.Length < HeaderSize)
            throw new ElfFormatException(0, $"input is {d.Length} bytes, too short for an ELF64 header ({HeaderSize})");
        var r = new Reader(d, le);
        ushort ehsize = r.U16(52);
        if (ehsize != 0 && ehsize < HeaderSize)
            throw new ElfFormatException(52, $"e_ehsize {ehsize} is smaller than an ELF64 header");
        return new ElfHeader(le, r.U16(16), r.U16(18), d[7], r.U32(48), r.U64(32), r.U64(40), r.U16(54), r.U16(56), r.U16(58), r.U16(60), r.U16(62));
    }

    /// <summary>Decodes one ELF64 section header (64 bytes).</summary>
    internal static RawSection DecodeSectionHeader(ReadOnlySpan<byte> entry, bool littleEndian)
    {
        var r = new Reader(entry, littleEndian);
        return new RawSection
        {
            Name = r.U32(0),
            Type = r.U32(4),
            Flags = r.U64(8),
            Addr = r.U64(16),
            Offset = r.U64(24),
            Size = r.U64(32),
            Link = r.U32(40),
            Info = r.U32(44),
            AddrAlign = r.U64(48),
            EntSize = r.U64(56),
        };
    }

    /// <summary>Decodes one ELF64 program header (Elf64_Phdr, <see cref="ProgramHeaderSize"/> bytes): a segment.</summary>
    internal static ElfProgramHeader DecodeProgramHeader(ReadOnlySpan<byte> entry, bool littleEndian)
    {
        var r = new Reader(entry, littleEndian);
        return new ElfProgramHeader((ElfSegmentType)r.U32(0), r.U32(4), r.U64(8), r.U64(16), r.U64(24), r.U64(32), r.U64(40), r.U64(48));
    }

    /// <summary>
    /// Decodes one ELF64 symbol (Elf64_Sym, <see cref="SymbolSize"/> bytes) of .symtab or .dynsym, its name still an
    /// offset in the table's string table: for this parser and for the runtime's reader of probed executables, which
    /// scans the symbols of big libraries without making a string for each.
    /// </summary>
    internal static RawSymbol DecodeSymbol(ReadOnlySpan<byte> entry, bool littleEndian)
    {
        var r = new Reader(entry, littleEndian);
        return new RawSymbol(r.U32(0), r.U8(4), r.U8(5), r.U16(6), r.U64(8), r.U64(16));
    }

    /// <summary>
    /// Decodes a .gnu.version section (SHT_GNU_versym): one 16-bit version index per symbol of the .dynsym it
    /// belongs to, <see cref="VersionHidden"/> set on a non-default ("name@VERSION") version.
    /// </summary>
    internal static ushort[] DecodeVersionSymbols(ReadOnlySpan<byte> section, bool littleEndian)
    {
        var r = new Reader(section, littleEndian);
        var versions = new ushort[section.Length / 2];
        for (int i = 0; i < versions.Length; i++)
            versions[i] = r.U16(i * 2);
        return versions;
    }

    /// <summary>The bit of a .gnu.version entry that marks a hidden (non-default) version (VERSYM_HIDDEN).</summary>
    internal const ushort VersionHidden = 0x8000;

    /// <summary>
    /// Walks the notes of a SHT_NOTE section (Elf64_Nhdr: namesz, descsz, type, then the name and the descriptor,
    /// each padded to <paramref name="alignment"/>: 4, or 8 in a section aligned to 8, as .note.gnu.property is).
    /// </summary>
    /// <exception cref="ElfFormatException">A note whose name or descriptor runs past the end of the section.</exception>
    internal static List<ElfNote> DecodeNotes(ReadOnlySpan<byte> section, bool littleEndian, int alignment = 4)
    {
        var r = new Reader(section, littleEndian);
        var notes = new List<ElfNote>();
        int off = 0;
        while (section.Length - off >= 12)
        {
            uint namesz = r.U32(off), descsz = r.U32(off + 4), type = r.U32(off + 8);
            long nameAt = off + 12;
            long descAt = nameAt + Align(namesz, alignment);
            long next = descAt + Align(descsz, alignment);
            if (descAt + descsz > section.Length || next > section.Length + (long)alignment - 1)
                throw new ElfFormatException(off, $"note at offset {off} (name {namesz} bytes, descriptor {descsz} bytes) runs past the end of its section ({section.Length} bytes)");
            var name = section.Slice((int)nameAt, (int)namesz);
            if (name.Length > 0 && name[name.Length - 1] == 0)
                name = name.Slice(0, name.Length - 1);
            notes.Add(new ElfNote(Utf8.Decode(name), type, (int)descAt, (int)descsz));
            off = (int)Math.Min(next, section.Length);
        }
        return notes;

        static long Align(uint n, int a) => ((long)n + a - 1) & ~(long)(a - 1);
    }

    /// <summary>A section header as stored (its name still an offset in the section name table).</summary>
    internal struct RawSection
    {
        public int HeaderOffset;
        public uint Name, Type, Link, Info;
        public ulong Flags, Addr, Offset, Size, AddrAlign, EntSize;

        /// <summary>The section, named, with <paramref name="data"/> as its contents (empty when they are read on demand).</summary>
        public readonly ElfSection ToSection(int index, string name, ReadOnlyMemory<byte> data) =>
            new ElfSection(index, name, (ElfSectionType)Type, Flags, Addr, Offset, Size, Link, Info, AddrAlign, EntSize, data);
    }

    private readonly ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _d;
        private readonly bool _le;

        public Reader(ReadOnlySpan<byte> d, bool le)
        {
            _d = d;
            _le = le;
        }

        private ReadOnlySpan<byte> At(int offset, int size)
        {
            if (offset < 0 || offset > _d.Length - size)
                throw new ElfFormatException(offset, $"read of {size} bytes runs past the end of the input ({_d.Length} bytes)");
            return _d.Slice(offset, size);
        }

        public byte U8(int o) => At(o, 1)[0];
        public ushort U16(int o) => _le ? BinaryPrimitives.ReadUInt16LittleEndian(At(o, 2)) : BinaryPrimitives.ReadUInt16BigEndian(At(o, 2));
        public uint U32(int o) => _le ? BinaryPrimitives.ReadUInt32LittleEndian(At(o, 4)) : BinaryPrimitives.ReadUInt32BigEndian(At(o, 4));
        public ulong U64(int o) => _le ? BinaryPrimitives.ReadUInt64LittleEndian(At(o, 8)) : BinaryPrimitives.ReadUInt64BigEndian(At(o, 8));
    }
}

/// <summary>The ELF64 file header's fields that locate the file's tables (<see cref="ElfFile.ReadHeader"/>).</summary>
internal readonly struct ElfHeader
{
    public ElfHeader(bool littleEndian, ushort fileType, ushort machine, byte osAbi, uint flags, ulong programHeaderOffset, ulong sectionHeaderOffset,
        ushort programHeaderEntrySize, ushort programHeaderCount, ushort sectionHeaderEntrySize, ushort sectionCount, ushort sectionNameTableIndex)
    {
        IsLittleEndian = littleEndian;
        FileType = fileType;
        Machine = machine;
        OsAbi = osAbi;
        Flags = flags;
        ProgramHeaderOffset = programHeaderOffset;
        SectionHeaderOffset = sectionHeaderOffset;
        ProgramHeaderEntrySize = programHeaderEntrySize;
        ProgramHeaderCount = programHeaderCount;
        SectionHeaderEntrySize = sectionHeaderEntrySize;
        SectionCount = sectionCount;
        SectionNameTableIndex = sectionNameTableIndex;
    }

    public bool IsLittleEndian { get; }
    /// <summary>e_type (<see cref="ElfFileType"/>).</summary>
    public ushort FileType { get; }
    public ushort Machine { get; }
    public byte OsAbi { get; }
    public uint Flags { get; }
    public ulong ProgramHeaderOffset { get; }
    public ulong SectionHeaderOffset { get; }
    public ushort ProgramHeaderEntrySize { get; }
    public ushort ProgramHeaderCount { get; }
    public ushort SectionHeaderEntrySize { get; }
    /// <summary>e_shnum: 0 with extended numbering (the count is in section 0's sh_size).</summary>
    public ushort SectionCount { get; }
    /// <summary>e_shstrndx: <see cref="ElfSectionIndex.XIndex"/> with extended numbering (the index is in section 0's sh_link).</summary>
    public ushort SectionNameTableIndex { get; }
}

/// <summary>One ELF64 program header (<see cref="ElfFile.DecodeProgramHeader"/>): a segment of an executable or library.</summary>
internal readonly struct ElfProgramHeader
{
    public ElfProgramHeader(ElfSegmentType type, uint flags, ulong offset, ulong virtualAddress, ulong physicalAddress, ulong fileSize, ulong memorySize, ulong align)
    {
        Type = type;
        Flags = flags;
        Offset = offset;
        VirtualAddress = virtualAddress;
        PhysicalAddress = physicalAddress;
        FileSize = fileSize;
        MemorySize = memorySize;
        Align = align;
    }

    public ElfSegmentType Type { get; }
    /// <summary>p_flags: PF_X 1, PF_W 2, PF_R 4.</summary>
    public uint Flags { get; }
    public ulong Offset { get; }
    public ulong VirtualAddress { get; }
    public ulong PhysicalAddress { get; }
    public ulong FileSize { get; }
    public ulong MemorySize { get; }
    public ulong Align { get; }

    /// <summary>Whether this is a PT_LOAD segment that maps virtual address <paramref name="address"/>.</summary>
    public bool Maps(ulong address) =>
        Type == ElfSegmentType.Load && address >= VirtualAddress && address - VirtualAddress < Math.Max(MemorySize, FileSize);
}

/// <summary>One ELF64 symbol as stored (<see cref="ElfFile.DecodeSymbol"/>): its name still an offset in the string table.</summary>
internal readonly struct RawSymbol
{
    public RawSymbol(uint name, byte info, byte other, ushort sectionIndex, ulong value, ulong size)
    {
        Name = name;
        Info = info;
        Other = other;
        SectionIndex = sectionIndex;
        Value = value;
        Size = size;
    }

    /// <summary>st_name: the offset of the name in the symbol table's string table.</summary>
    public uint Name { get; }
    public byte Info { get; }
    public byte Other { get; }
    public ushort SectionIndex { get; }
    public ulong Value { get; }
    public ulong Size { get; }
    public ElfSymbolBinding Binding => (ElfSymbolBinding)(Info >> 4);
    public ElfSymbolType Type => (ElfSymbolType)(Info & 0xf);
}

/// <summary>One note of a SHT_NOTE section (<see cref="ElfFile.DecodeNotes"/>): its descriptor is a range of the section.</summary>
internal readonly struct ElfNote
{
    public ElfNote(string name, uint type, int descriptorOffset, int descriptorSize)
    {
        Name = name;
        Type = type;
        DescriptorOffset = descriptorOffset;
        DescriptorSize = descriptorSize;
    }

    /// <summary>The owner ("GNU", "stapsdt"), without its terminating NUL.</summary>
    public string Name { get; }
    public uint Type { get; }
    /// <summary>Where the descriptor starts in the section.</summary>
    public int DescriptorOffset { get; }
    public int DescriptorSize { get; }
}
