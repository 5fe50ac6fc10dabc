using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Ebpf;

/// <summary>
/// The parts of an executable or shared library (ELF64, little-endian) a uprobe needs: program headers for the
/// virtual-address → file-offset mapping, .symtab and .dynsym (with .gnu.version to tell default versions from
/// hidden ones), and note sections (USDT). Reads only those parts of the file.
/// </summary>
internal sealed class ElfBinary
{
    private const uint SHT_SYMTAB = 2, SHT_NOTE = 7, SHT_DYNSYM = 11, SHT_GNU_VERSYM = 0x6fffffff;
    private const uint PT_LOAD = 1;
    internal const byte STT_FUNC = 2, STT_GNU_IFUNC = 10;
    internal const byte STB_GLOBAL = 1, STB_WEAK = 2;

    internal readonly struct Section
    {
        public Section(string name, uint type, ulong flags, ulong addr, ulong offset, ulong size, uint link, ulong entSize)
        {
            Name = name; Type = type; Flags = flags; Address = addr; Offset = offset; Size = size; Link = link; EntrySize = entSize;
        }
        public string Name { get; }
        public uint Type { get; }
        public ulong Flags { get; }
        public ulong Address { get; }
        public ulong Offset { get; }
        public ulong Size { get; }
        public uint Link { get; }
        public ulong EntrySize { get; }
    }

    internal readonly struct Segment
    {
        public Segment(uint type, uint flags, ulong offset, ulong vaddr, ulong fileSize, ulong memSize)
        {
            Type = type; Flags = flags; Offset = offset; VirtualAddress = vaddr; FileSize = fileSize; MemorySize = memSize;
        }
        public uint Type { get; }
        public uint Flags { get; }
        public ulong Offset { get; }
        public ulong VirtualAddress { get; }
        public ulong FileSize { get; }
        public ulong MemorySize { get; }
    }

    /// <summary>A function symbol found by name.</summary>
    internal readonly struct FunctionSymbol
    {
        public FunctionSymbol(string name, ulong value, ulong size, byte bind, bool hiddenVersion, ulong fileOffset, bool dynamic)
        {
            Name = name; Value = value; Size = size; Binding = bind; HiddenVersion = hiddenVersion; FileOffset = fileOffset; Dynamic = dynamic;
        }
        public string Name { get; }
        public ulong Value { get; }
        public ulong Size { get; }
        public byte Binding { get; }
        public bool HiddenVersion { get; }
        public ulong FileOffset { get; }
        public bool Dynamic { get; }
    }

    private readonly SafeFileHandle _file;
    private readonly long _length;

    private ElfBinary(string path, SafeFileHandle file, long length, ushort type, ushort machine, Section[] sections, Segment[] segments)
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
    /// <summary>ET_EXEC (2) or ET_DYN (3).</summary>
    public ushort FileType { get; }
    public ushort Machine { get; }
    public Section[] Sections { get; }
    public Segment[] Segments { get; }

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
            Span<byte> eh = stackalloc byte[64];
            if (RandomAccess.Read(fh, eh, 0) < 64 || eh[0] != 0x7f || eh[1] != (byte)'E' || eh[2] != (byte)'L' || eh[3] != (byte)'F')
                throw new BpfException($"'{path}' is not an ELF file, so it cannot be probed");
            if (eh[4] != 2 || eh[5] != 1)
                throw new BpfException($"'{path}' is not a 64-bit little-endian ELF file; only those can be probed by this runtime");
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(eh.Slice(16));
            ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(eh.Slice(18));
            ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.Slice(32));
            ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.Slice(40));
            ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh.Slice(54));
            ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(eh.Slice(56));
            ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh.Slice(58));
            ushort shnum = BinaryPrimitives.ReadUInt16LittleEndian(eh.Slice(60));
            ushort shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(eh.Slice(62));

            var segments = new List<Segment>();
            if (phoff != 0 && phentsize >= 56 && phnum > 0)
            {
                var ph = ReadBytes(fh, length, phoff, (ulong)phentsize * phnum, path);
                for (int i = 0; i < phnum; i++)
                {
                    var p = ph.AsSpan(i * phentsize);
                    segments.Add(new Segment(
                        BinaryPrimitives.ReadUInt32LittleEndian(p),
                        BinaryPrimitives.ReadUInt32LittleEndian(p.Slice(4)),
                        BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(8)),
                        BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(16)),
                        BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(32)),
                        BinaryPrimitives.ReadUInt64LittleEndian(p.Slice(40))));
                }
            }

            var sections = Array.Empty<Section>();
            if (shoff != 0 && shentsize >= 64)
            {
                uint count = shnum;
                if (count == 0)
                {
                    var first = ReadBytes(fh, length, shoff, 64, path);
                    count = (uint)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(first.AsSpan(32)), 65536);
                }
                var sh = ReadBytes(fh, length, shoff, (ulong)shentsize * count, path);
                uint strndx = shstrndx == 0xffff ? BinaryPrimitives.ReadUInt32LittleEndian(sh.AsSpan(40)) : shstrndx;
                byte[] names = Array.Empty<byte>();
                if (strndx < count)
                {
                    var s = sh.AsSpan((int)strndx * shentsize);
                    names = ReadBytes(fh, length, BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(24)), BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(32)), path);
                }
                sections = new Section[count];
                for (int i = 0; i < count; i++)
                {
                    var s = sh.AsSpan(i * shentsize);
                    sections[i] = new Section(
                        CString(names, BinaryPrimitives.ReadUInt32LittleEndian(s)),
                        BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(4)),
                        BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(8)),
                        BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(16)),
                        BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(24)),
                        BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(32)),
                        BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(40)),
                        BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(56)));
                }
            }
            return new ElfBinary(path, fh, length, type, machine, sections, segments.ToArray());
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

    public byte[] ReadSection(in Section s) => s.Type == 8 /* NOBITS */ ? Array.Empty<byte>() : ReadBytes(_file, _length, s.Offset, s.Size, Path);

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
            if (seg.Type == PT_LOAD && vaddr >= seg.VirtualAddress && vaddr < seg.VirtualAddress + Math.Max(seg.MemorySize, seg.FileSize))
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
        foreach (uint tableType in new[] { SHT_SYMTAB, SHT_DYNSYM })
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
        if (table.Type == SHT_DYNSYM)
        {
            foreach (var vs in Sections)
            {
                if (vs.Type == SHT_GNU_VERSYM && vs.Link == (uint)tableIndex)
                {
                    var raw = ReadSection(vs);
                    versyms = new ushort[raw.Length / 2];
                    for (int k = 0; k < versyms.Length; k++) versyms[k] = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(k * 2));
                }
            }
        }
        byte[]? exact = exactName != null ? Encoding.UTF8.GetBytes(exactName) : null;
        int entSize = table.EntrySize >= 24 ? (int)table.EntrySize : 24;
        int count = syms.Length / entSize;
        for (int i = 1; i < count; i++)
        {
            var e = syms.AsSpan(i * entSize, 24);
            byte info = e[4];
            byte stType = (byte)(info & 0xf);
            if (stType != STT_FUNC && stType != STT_GNU_IFUNC)
                continue;
            ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(e.Slice(6));
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(e.Slice(8));
            if (shndx == 0 || value == 0)
                continue;
            uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(e);
            if (nameOff >= (uint)strs.Length)
                continue;
            var nameSpan = strs.AsSpan((int)nameOff);
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
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(e.Slice(16));
            bool hidden = versyms != null && i < versyms.Length && (versyms[i] & 0x8000) != 0;
            ulong? off = null;
            if (shndx < Sections.Length && shndx < 0xff00)
            {
                var sec = Sections[shndx];
                if (value >= sec.Address && value - sec.Address <= sec.Size)
                    off = value - sec.Address + sec.Offset;
            }
            off ??= VirtualAddressToFileOffset(value);
            if (off is not ulong fileOffset)
                continue;
            result.Add(new FunctionSymbol(name, value, size, (byte)(info >> 4), hidden, fileOffset, table.Type == SHT_DYNSYM));
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
            int Rank(FunctionSymbol x) => (x.HiddenVersion ? 0 : 2) + (x.Binding == STB_WEAK ? 0 : 1);
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
                if (s.Type == SHT_SYMTAB || s.Type == SHT_DYNSYM) return true;
            return false;
        }
    }

    /// <summary>The contents of every SHT_NOTE section named <paramref name="name"/>.</summary>
    public IEnumerable<(Section Section, byte[] Data)> NoteSections(string name)
    {
        foreach (var s in Sections)
            if (s.Type == SHT_NOTE && s.Name == name)
                yield return (s, ReadSection(s));
    }

    public Section? FindSection(string name)
    {
        foreach (var s in Sections)
            if (s.Name == name) return s;
        return null;
    }
}
