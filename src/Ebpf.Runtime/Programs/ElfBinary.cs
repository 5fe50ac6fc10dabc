using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Ebpf.Elf;
using Microsoft.Win32.SafeHandles;

namespace Ebpf;

/// <summary>
/// The parts of an executable or shared library (ELF64, little-endian) a uprobe needs: program headers for the
/// virtual-address → file-offset mapping, .symtab and .dynsym (with .gnu.version to tell default versions from
/// hidden ones), and note sections (USDT). Reads only those parts of the file (libc's symbol tables, not libc);
/// this class does the file I/O only: every ELF structure is decoded by the object layer's ELF reader
/// (<see cref="ElfFile.ReadHeader"/>, <see cref="ElfFile.DecodeSectionHeader"/>, <see cref="ElfFile.DecodeProgramHeader"/>,
/// <see cref="ElfFile.DecodeSymbol"/>, <see cref="ElfFile.DecodeVersionSymbols"/>) and the sections are its
/// <see cref="ElfSection"/>s, their contents read on demand (<see cref="ReadSection"/>).
/// </summary>
internal sealed class ElfBinary
{
    /// <summary>A function symbol found by name.</summary>
    internal readonly struct FunctionSymbol
    {
        public FunctionSymbol(string name, ulong value, ulong size, ElfSymbolBinding bind, bool hiddenVersion, ulong fileOffset, bool dynamic)
        {
            Name = name; Value = value; Size = size; Binding = bind; HiddenVersion = hiddenVersion; FileOffset = fileOffset; Dynamic = dynamic;
        }
        public string Name { get; }
        public ulong Value { get; }
        public ulong Size { get; }
        public ElfSymbolBinding Binding { get; }
        public bool HiddenVersion { get; }
        public ulong FileOffset { get; }
        public bool Dynamic { get; }
    }

    private readonly SafeFileHandle _file;
    private readonly long _length;

    private ElfBinary(string path, SafeFileHandle file, long length, ushort type, ushort machine, ElfSection[] sections, ElfProgramHeader[] segments)
    {
        Path = path;
        _file = file;
        _length = length;
        FileType = type;
        Machine = machine;
        Sections = sections;
        Segments = segments;
    }

    public string Path { get; }
    /// <summary><see cref="ElfFileType.Executable"/> or <see cref="ElfFileType.SharedObject"/>.</summary>
    public ushort FileType { get; }
    public ushort Machine { get; }
    public ElfSection[] Sections { get; }
    /// <summary>The program headers: the segments the file maps.</summary>
    public ElfProgramHeader[] Segments { get; }

    /// <summary>Opens and parses the headers; the caller uses the result inside a using-free scope (the file handle is closed by <see cref="Close"/>).</summary>
    public static ElfBinary Open(string path)
    {
        SafeFileHandle fh;
        try
        {
            fh = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException e) { throw new BpfEnvironmentException($"binary '{path}' does not exist", e); }
        catch (DirectoryNotFoundException e) { throw new BpfEnvironmentException($"binary '{path}' does not exist", e); }
        catch (UnauthorizedAccessException e) { throw new BpfEnvironmentException($"cannot read binary '{path}': permission denied", e); }
        catch (IOException e) { throw new BpfEnvironmentException($"cannot read binary '{path}': {e.Message}", e); }
        try
        {
            long length = RandomAccess.GetLength(fh);
            var eh = new byte[Math.Min(64, length)];
            RandomAccess.Read(fh, eh, 0);
            ElfHeader h;
            try
            {
                h = ElfFile.ReadHeader(eh);
            }
            catch (ElfFormatException e)
            {
                throw new BpfException($"'{path}' cannot be probed: it is not an ELF64 executable or library ({e.Reason})", e);
            }
            if (!h.IsLittleEndian)
                throw new BpfException($"'{path}' is a big-endian ELF file; this runtime probes little-endian binaries only");

            var segments = Array.Empty<ElfProgramHeader>();
            if (h.ProgramHeaderOffset != 0 && h.ProgramHeaderEntrySize >= ElfFile.ProgramHeaderSize && h.ProgramHeaderCount > 0)
            {
                var ph = ReadBytes(fh, length, h.ProgramHeaderOffset, (ulong)h.ProgramHeaderEntrySize * h.ProgramHeaderCount, path);
                segments = new ElfProgramHeader[h.ProgramHeaderCount];
                for (int i = 0; i < segments.Length; i++)
                    segments[i] = ElfFile.DecodeProgramHeader(ph.AsSpan(i * h.ProgramHeaderEntrySize, ElfFile.ProgramHeaderSize), littleEndian: true);
            }

            var sections = Array.Empty<ElfSection>();
            ulong shoff = h.SectionHeaderOffset;
            int shentsize = h.SectionHeaderEntrySize;
            if (shoff != 0 && shentsize >= 64)
            {
                uint count = h.SectionCount;
                var first = ElfFile.DecodeSectionHeader(ReadBytes(fh, length, shoff, 64, path), littleEndian: true);
                if (count == 0)
                    count = (uint)Math.Min(first.Size, 65536); // extended numbering
                var sh = ReadBytes(fh, length, shoff, (ulong)shentsize * count, path);
                var raw = new ElfFile.RawSection[count];
                for (int i = 0; i < count; i++)
                    raw[i] = ElfFile.DecodeSectionHeader(sh.AsSpan(i * shentsize, 64), littleEndian: true);
                uint strndx = h.SectionNameTableIndex == ElfSectionIndex.XIndex ? first.Link : h.SectionNameTableIndex;
                byte[] names = strndx < count ? ReadBytes(fh, length, raw[strndx].Offset, raw[strndx].Size, path) : Array.Empty<byte>();
                sections = new ElfSection[count];
                for (int i = 0; i < count; i++)
                    sections[i] = raw[i].ToSection(i, CString(names, raw[i].Name), ReadOnlyMemory<byte>.Empty);
            }
            return new ElfBinary(path, fh, length, h.FileType, h.Machine, sections, segments);
        }
        catch
        {
            fh.Dispose();
            throw;
        }
    }

    public void Close() => _file.Dispose();

    private static byte[] ReadBytes(SafeFileHandle fh, long length, ulong offset, ulong size, string path)
    {
        if (offset > (ulong)length || size > (ulong)length - offset || size > int.MaxValue)
            throw new BpfException($"'{path}' is a truncated or corrupt ELF file (a table at 0x{offset:x}, {size} bytes, runs past the end of the file)");
        var b = new byte[size];
        int done = 0;
        while (done < b.Length)
        {
            int n = RandomAccess.Read(fh, b.AsSpan(done), (long)offset + done);
            if (n <= 0) throw new BpfException($"'{path}': unexpected end of file at 0x{offset + (ulong)done:x}");
            done += n;
        }
        return b;
    }

    /// <summary>The contents of section <paramref name="s"/>, read from the file.</summary>
    public byte[] ReadSection(ElfSection s) => s.Type == ElfSectionType.NoBits ? Array.Empty<byte>() : ReadBytes(_file, _length, s.Offset, s.Size, Path);

    private static string CString(byte[] table, uint offset)
    {
        if (offset >= (uint)table.Length) return string.Empty;
        int end = Array.IndexOf(table, (byte)0, (int)offset);
        if (end < 0) end = table.Length;
        return Encoding.UTF8.GetString(table, (int)offset, end - (int)offset);
    }

    /// <summary>The file offset of virtual address <paramref name="vaddr"/>, through the PT_LOAD segment that maps it; null if none does.</summary>
    public ulong? VirtualAddressToFileOffset(ulong vaddr)
    {
        foreach (var seg in Segments)
        {
            if (seg.Maps(vaddr))
                return vaddr - seg.VirtualAddress + seg.Offset;
        }
        return null;
    }

    /// <summary>
    /// Every defined function (FUNC or IFUNC) symbol whose name satisfies <paramref name="match"/> in .symtab, or,
    /// when .symtab has none (a stripped binary), in .dynsym. Names in the tables are compared as bytes first, so
    /// strings are only made for matches. <paramref name="exactName"/>, when given, is a fast pre-filter.
    /// </summary>
    public List<FunctionSymbol> FindFunctions(Func<string, bool> match, string? exactName = null)
    {
        var result = new List<FunctionSymbol>();
        foreach (var tableType in new[] { ElfSectionType.SymTab, ElfSectionType.DynSym })
        {
            for (int i = 0; i < Sections.Length; i++)
            {
                var s = Sections[i];
                if (s.Type != tableType || s.Link >= Sections.Length || s.Size == 0)
                    continue;
                ScanTable(i, match, exactName, result);
            }
            if (result.Count > 0)
                break;
        }
        return result;
    }

    private void ScanTable(int tableIndex, Func<string, bool> match, string? exactName, List<FunctionSymbol> result)
    {
        var table = Sections[tableIndex];
        var syms = ReadSection(table);
        var strs = ReadSection(Sections[table.Link]);
        ushort[]? versyms = null;
        if (table.Type == ElfSectionType.DynSym)
        {
            foreach (var vs in Sections)
            {
                if (vs.Type == ElfSectionType.GnuVerSym && vs.Link == (uint)tableIndex)
                    versyms = ElfFile.DecodeVersionSymbols(ReadSection(vs), littleEndian: true);
            }
        }
        byte[]? exact = exactName != null ? Encoding.UTF8.GetBytes(exactName) : null;
        int entSize = table.EntrySize >= ElfFile.SymbolSize ? (int)table.EntrySize : ElfFile.SymbolSize;
        int count = syms.Length / entSize;
        for (int i = 1; i < count; i++)
        {
            var sym = ElfFile.DecodeSymbol(syms.AsSpan(i * entSize, ElfFile.SymbolSize), littleEndian: true);
            if (sym.Type != ElfSymbolType.Func && sym.Type != ElfSymbolType.GnuIFunc)
                continue;
            ushort shndx = sym.SectionIndex;
            ulong value = sym.Value;
            if (shndx == ElfSectionIndex.Undefined || value == 0)
                continue;
            if (sym.Name >= (uint)strs.Length)
                continue;
            var nameSpan = strs.AsSpan((int)sym.Name);
            int z = nameSpan.IndexOf((byte)0);
            if (z >= 0) nameSpan = nameSpan.Slice(0, z);
            if (exact != null)
            {
                // "name" matches "name" and a versioned "name@VER" / "name@@VER" (symtab spelling).
                if (!nameSpan.StartsWith(exact) || (nameSpan.Length != exact.Length && nameSpan[exact.Length] != (byte)'@'))
                    continue;
            }
            string name = Encoding.UTF8.GetString(nameSpan);
            if (!match(name))
                continue;
            bool hidden = versyms != null && i < versyms.Length && (versyms[i] & ElfFile.VersionHidden) != 0;
            ulong? off = null;
            if (shndx < Sections.Length && shndx < ElfSectionIndex.LoReserve)
            {
                var sec = Sections[shndx];
                if (value >= sec.Address && value - sec.Address <= sec.Size)
                    off = value - sec.Address + sec.Offset;
            }
            off ??= VirtualAddressToFileOffset(value);
            if (off is not ulong fileOffset)
                continue;
            result.Add(new FunctionSymbol(name, value, sym.Size, sym.Binding, hidden, fileOffset, table.Type == ElfSectionType.DynSym));
        }
    }

    /// <summary>
    /// The file offset of function <paramref name="function"/> (a trailing "@VERSION" or "@@VERSION" is ignored
    /// except to prefer the default version). Global beats weak; a default version beats hidden ones; two different
    /// global definitions are ambiguous.
    /// </summary>
    public ulong FindFunctionOffset(string function)
    {
        string name = function;
        int at = name.IndexOf('@');
        if (at > 0) name = name.Substring(0, at);
        var found = FindFunctions(n => n == name || (n.Length > name.Length && n[name.Length] == '@' && n.StartsWith(name, StringComparison.Ordinal)), name);
        if (found.Count == 0)
            throw new BpfException($"function '{function}' is not in the symbol tables of '{Path}'" +
                (HasSymbolTables ? string.Empty : " (the binary has neither .symtab nor .dynsym: it is stripped)") +
                "; list its functions with `nm -D --defined-only` or `readelf -Ws`");
        FunctionSymbol? best = null;
        foreach (var s in found)
        {
            if (best is not FunctionSymbol b)
            {
                best = s;
                continue;
            }
            if (b.FileOffset == s.FileOffset)
                continue;
            int Rank(FunctionSymbol x) => (x.HiddenVersion ? 0 : 2) + (x.Binding == ElfSymbolBinding.Weak ? 0 : 1);
            int rb = Rank(b), rs = Rank(s);
            if (rs > rb) best = s;
            else if (rs == rb)
                throw new BpfException($"function '{function}' is ambiguous in '{Path}': it is defined at file offsets 0x{b.FileOffset:x} and 0x{s.FileOffset:x}; probe by offset instead");
        }
        return best!.Value.FileOffset;
    }

    public bool HasSymbolTables
    {
        get
        {
            foreach (var s in Sections)
                if (s.Type is ElfSectionType.SymTab or ElfSectionType.DynSym) return true;
            return false;
        }
    }

    /// <summary>The contents of every SHT_NOTE section named <paramref name="name"/>.</summary>
    public IEnumerable<(ElfSection Section, byte[] Data)> NoteSections(string name)
    {
        foreach (var s in Sections)
            if (s.Type == ElfSectionType.Note && s.Name == name)
                yield return (s, ReadSection(s));
    }

    public ElfSection? FindSection(string name)
    {
        foreach (var s in Sections)
            if (s.Name == name) return s;
        return null;
    }
}
