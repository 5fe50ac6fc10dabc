using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Threading;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Elf;

namespace Ebpf.Objects;

/// <summary>
/// A BPF object file as it is on disk: programs, subprograms, maps, data sections, externs and the relocations
/// between them. Deterministic: parsing the same bytes gives the same model, with nothing taken from the kernel.
/// </summary>
internal sealed partial class BpfObjectSpec
{
    /// <summary>The kernel's limit on object names (BPF_OBJ_NAME_LEN - 1).</summary>
    public const int MaxObjectNameLength = 15;

    /// <summary>
    /// Largest data section (.data, .rodata, .bss) accepted: 512 MiB, the largest array-map value any kernel
    /// configuration allows (KMALLOC_MAX_SIZE with 64 KiB pages; 4 MiB on x86-64). A .bss has no bytes in the file,
    /// so its size is otherwise unbounded by the input, and the loader allocates a buffer of that size.
    /// </summary>
    public const long MaxDataSectionSize = 512L << 20;

    /// <summary>Largest .kconfig extern accepted (a char array holding a configuration string): 64 KiB.</summary>
    public const int MaxKconfigExternSize = 64 << 10;

    private readonly Dictionary<string, int> _mapIndex;

    private BpfObjectSpec(string name, ElfFile elf, BtfSpec? btf, BtfExt? btfExt, string? license, uint kernelVersion,
        List<FunctionSpec> functions, List<ProgramSpec> programs, List<MapSpec> maps, List<ExternSpec> externs, List<string> notes)
    {
        Name = name;
        Elf = elf;
        Btf = btf;
        BtfExt = btfExt;
        License = license;
        KernelVersion = kernelVersion;
        Functions = functions;
        Programs = programs;
        Maps = maps;
        Externs = externs;
        Notes = notes;
        _mapIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < maps.Count; i++)
            _mapIndex[maps[i].Name] = i;
    }

    /// <summary>Object name (file name up to the first '.', as libbpf derives it).</summary>
    public string Name { get; }
    public ElfFile Elf { get; }
    /// <summary>The object's BTF (.BTF), or null when it was built without -g.</summary>
    public BtfSpec? Btf { get; }
    public BtfExt? BtfExt { get; }
    /// <summary>Contents of the "license" section, or null when there is none.</summary>
    public string? License { get; }
    /// <summary>Contents of the legacy "version" section, 0 when absent.</summary>
    public uint KernelVersion { get; }
    /// <summary>Every function of every executable section (programs and subprograms), in section and offset order.</summary>
    public IReadOnlyList<FunctionSpec> Functions { get; }
    /// <summary>Entry programs, in ELF order.</summary>
    public IReadOnlyList<ProgramSpec> Programs { get; }
    /// <summary>User maps in declaration order, then internal maps (data sections, .kconfig), as libbpf orders them.</summary>
    public IReadOnlyList<MapSpec> Maps { get; }
    /// <summary>Externs (.kconfig first, then .ksyms, sorted as libbpf sorts them).</summary>
    public IReadOnlyList<ExternSpec> Externs { get; }
    /// <summary>Things worth knowing that did not stop parsing (skipped sections, ...), libbpf's info-level messages.</summary>
    public IReadOnlyList<string> Notes { get; }

    public bool HasBtf => Btf != null;

    /// <summary>True when the license is GPL-compatible, as the kernel decides (license_is_gpl_compatible).</summary>
    public bool IsGplCompatible => License is "GPL" or "GPL v2" or "GPL and additional rights" or "Dual BSD/GPL" or "Dual MIT/GPL" or "Dual MPL/GPL";

    public int FindMapIndex(string name) => _mapIndex.TryGetValue(name, out int i) ? i : -1;
    public MapSpec? FindMap(string name) => _mapIndex.TryGetValue(name, out int i) ? Maps[i] : null;

    public ProgramSpec? FindProgram(string name)
    {
        foreach (var p in Programs)
            if (p.Name == name) return p;
        return null;
    }

    public FunctionSpec? FindFunction(int sectionIndex, int sectionInstruction)
    {
        foreach (var f in Functions)
        {
            if (f.SectionIndex == sectionIndex && f.ContainsSectionInstruction(sectionInstruction))
                return f;
        }
        return null;
    }

    /// <summary>The data-section map for an ELF section name (".rodata", ".bss", ".data.custom", ".kconfig"), or null.</summary>
    public MapSpec? FindDataMap(string sectionName)
    {
        foreach (var m in Maps)
            if (m.IsInternal && m.SectionName == sectionName) return m;
        return null;
    }

    /// <summary>
    /// The object name libbpf derives from a path: the file name up to its first '.'
    /// ("/x/exec_snoop.bpf.o" → "exec_snoop").
    /// </summary>
    public static string ObjectNameFromPath(string path)
    {
        if (string.IsNullOrEmpty(path))
            return string.Empty;
        int slash = path.LastIndexOf('/');
        string file = slash >= 0 ? path.Substring(slash + 1) : path;
        int dot = file.IndexOf('.');
        return dot >= 0 ? file.Substring(0, dot) : file;
    }

    /// <summary>
    /// Name of the internal map for a data section, as libbpf forms it: up to 8 characters of the object name
    /// followed by the section name (at least 7 characters reserved for it) for .data/.rodata/.bss/.kconfig;
    /// custom sections (".data.foo") keep their own name; truncated to 15 characters; characters other than
    /// letters, digits, '_' and '.' become '_'.
    /// </summary>
    public static string InternalMapName(string objectName, string sectionName)
    {
        int sfxLen = Math.Max(7, sectionName.Length);
        if (sfxLen > MaxObjectNameLength)
            sfxLen = MaxObjectNameLength;
        bool custom = sectionName.Length > 1 && sectionName.IndexOf('.', 1) >= 0;
        int pfxLen = custom ? 0 : Math.Min(MaxObjectNameLength - sfxLen, objectName.Length);
        string raw = objectName.Substring(0, pfxLen) + (sectionName.Length > sfxLen ? sectionName.Substring(0, sfxLen) : sectionName);
        var chars = raw.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            char c = chars[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
            if (!ok) chars[i] = '_';
        }
        return new string(chars);
    }

    /// <summary>Parses an object. <paramref name="name"/> is the object name (see <see cref="ObjectNameFromPath"/>); "obj" when null.</summary>
    public static BpfObjectSpec Parse(byte[] data, string? name = null, CancellationToken cancellationToken = default) =>
        Parse(new ReadOnlyMemory<byte>(data), name, cancellationToken);

    /// <summary>Parses an object. <paramref name="name"/> is the object name (see <see cref="ObjectNameFromPath"/>); "obj" when null.</summary>
    public static BpfObjectSpec Parse(ReadOnlyMemory<byte> data, string? name = null, CancellationToken cancellationToken = default)
    {
        string objectName = string.IsNullOrEmpty(name) ? "obj" : name!;
        try
        {
            var elf = ElfFile.Parse(data);
            return new Parser(elf, objectName, cancellationToken).Run();
        }
        catch (BpfException e)
        {
            e.About(objectName: objectName);
            throw;
        }
    }
}
