using System;
using System.Collections.Generic;
using Ebpf.Asm;
using Ebpf.Btf;

namespace Ebpf.Objects;

/// <summary>What kind of map a <see cref="MapSpec"/> is: declared by the user in .maps, or made by the loader for a data section.</summary>
public enum MapOrigin
{
    /// <summary>A BTF-defined map in SEC(".maps").</summary>
    User,
    /// <summary>.data or .data.* (read-write initialised globals).</summary>
    Data,
    /// <summary>.rodata or .rodata.* (read-only globals, writable from user space until load, frozen after).</summary>
    Rodata,
    /// <summary>.bss or .bss.* (zero-initialised globals).</summary>
    Bss,
    /// <summary>.kconfig externs, filled by the loader from the kernel configuration.</summary>
    Kconfig,
    /// <summary>The inner map template of an array/hash of maps.</summary>
    InnerTemplate,
    /// <summary>A variable of .struct_ops or .struct_ops.link: a struct_ops map (see <see cref="MapSpec.StructOps"/>).</summary>
    StructOps,
}

/// <summary>LIBBPF_PIN_* values of the "pinning" attribute of a BTF map definition.</summary>
internal enum MapPinning : uint
{
    None = 0,
    /// <summary>Pinned at &lt;pin root&gt;/&lt;map name&gt;; reused when a compatible map is already pinned there.</summary>
    ByName = 1,
}

/// <summary>One initial element of a map-in-map or prog array, from <c>.values = { [i] = &amp;x }</c>.</summary>
internal readonly struct MapInitialSlot
{
    public MapInitialSlot(int index, string targetName, bool isProgram)
    {
        Index = index;
        TargetName = targetName;
        IsProgram = isProgram;
    }

    /// <summary>Key (array index) of the slot.</summary>
    public int Index { get; }
    /// <summary>Name of the inner map (map-in-map) or program (prog array).</summary>
    public string TargetName { get; }
    public bool IsProgram { get; }
}

/// <summary>A variable of a data section (.data, .rodata, .bss, custom sections, .kconfig).</summary>
public sealed class VariableSpec
{
    internal VariableSpec(string name, uint offset, uint size, int btfVarId, int btfTypeId, BtfVarLinkage linkage)
    {
        Name = name;
        Offset = offset;
        Size = size;
        BtfVarId = btfVarId;
        BtfTypeId = btfTypeId;
        Linkage = linkage;
    }

    /// <summary>The variable's name in C.</summary>
    public string Name { get; }
    /// <summary>Byte offset within the section (and the map value).</summary>
    public uint Offset { get; }
    /// <summary>Size in bytes.</summary>
    public uint Size { get; }
    /// <summary>The BTF VAR (0 when the object has no BTF for it).</summary>
    public int BtfVarId { get; }
    /// <summary>The variable's type in the object's BTF (0 when unknown).</summary>
    public int BtfTypeId { get; }
    /// <summary>Static, global or extern (kconfig and ksym externs are filled in by the loader).</summary>
    public BtfVarLinkage Linkage { get; }
    /// <summary>Static variables are private to the object: libbpf's skeleton does not expose them.</summary>
    public bool IsStatic => Linkage == BtfVarLinkage.Static;

    /// <summary>"name @offset (size bytes)".</summary>
    public override string ToString() => $"{Name} @{Offset} ({Size} bytes)";
}

/// <summary>
/// A map as the object defines it: a user map from .maps, or an internal map the loader creates for a data section.
/// Everything here comes from the ELF and its BTF; nothing depends on the kernel.
/// </summary>
internal sealed class MapSpec
{
    internal MapSpec(string name, MapOrigin origin)
    {
        Name = name;
        Origin = origin;
    }

    /// <summary>The map's name as libbpf names it (also the kernel-visible name, truncated to 15 characters).</summary>
    public string Name { get; }
    public MapOrigin Origin { get; }
    /// <summary>For internal maps, the ELF section ("…rodata"); for user maps ".maps".</summary>
    public string SectionName { get; internal set; } = string.Empty;
    public int SectionIndex { get; internal set; }
    /// <summary>Offset of the map's definition within .maps (user maps).</summary>
    public uint SectionOffset { get; internal set; }
    /// <summary>Size of the map's definition within .maps (user maps).</summary>
    public uint SectionSize { get; internal set; }
    public BpfMapType Type { get; internal set; }
    public uint KeySize { get; internal set; }
    public uint ValueSize { get; internal set; }
    public uint MaxEntries { get; internal set; }
    public BpfMapFlags Flags { get; internal set; }
    public uint NumaNode { get; internal set; }
    public ulong MapExtra { get; internal set; }
    public MapPinning Pinning { get; internal set; }
    /// <summary>BTF type id of the key in the object's BTF, or 0.</summary>
    public int BtfKeyTypeId { get; internal set; }
    /// <summary>BTF type id of the value (for data sections, the DATASEC), or 0.</summary>
    public int BtfValueTypeId { get; internal set; }
    /// <summary>The BTF VAR in .maps defining a user map (0 otherwise).</summary>
    public int BtfVarId { get; internal set; }
    /// <summary>Template of the inner map of an array/hash of maps.</summary>
    public MapSpec? InnerMap { get; internal set; }
    /// <summary>Initial slots of a map-in-map or prog array.</summary>
    public IReadOnlyList<MapInitialSlot> InitialSlots { get; internal set; } = Array.Empty<MapInitialSlot>();
    /// <summary>Initial contents of a data section map (null for .bss and .kconfig: zero-filled).</summary>
    public ReadOnlyMemory<byte>? InitialData { get; internal set; }
    /// <summary>Variables of a data section map, by offset.</summary>
    public IReadOnlyList<VariableSpec> Variables { get; internal set; } = Array.Empty<VariableSpec>();
    /// <summary>Which map attributes were given in the BTF definition (for compatibility checks with pinned maps).</summary>
    public bool IsInternal => Origin != MapOrigin.User && Origin != MapOrigin.InnerTemplate && Origin != MapOrigin.StructOps;
    /// <summary>For struct_ops maps: the struct the map's value instantiates, its initial bytes and its callbacks.</summary>
    public StructOpsSpec? StructOps { get; internal set; }
    /// <summary>False for maps the loader does not create unless asked (<c>SEC("?.struct_ops")</c>).</summary>
    public bool Autocreate { get; internal set; } = true;
    /// <summary>True for data-section maps user space can memory-map (libbpf: has BTF and at least one non-static variable).</summary>
    public bool IsMmapable => (Flags & BpfMapFlags.Mmapable) != 0;
    /// <summary>.rodata/.kconfig: frozen after load, read-only for programs.</summary>
    public bool IsReadOnly => Origin == MapOrigin.Rodata || Origin == MapOrigin.Kconfig;

    public bool IsMapInMap => Type == BpfMapType.ArrayOfMaps || Type == BpfMapType.HashOfMaps;

    public override string ToString() => $"map '{Name}' {Type} key={KeySize} value={ValueSize} max_entries={MaxEntries}";
}

/// <summary>How an instruction refers to something outside itself, to be fixed up when the program is loaded.</summary>
internal enum InstructionReferenceKind
{
    /// <summary>ld_imm64 of a map (becomes BPF_PSEUDO_MAP_FD + map fd).</summary>
    Map,
    /// <summary>ld_imm64 of an address inside a data-section map (BPF_PSEUDO_MAP_VALUE + fd, offset in the second slot).</summary>
    MapValue,
    /// <summary>bpf-to-bpf call to a subprogram.</summary>
    Call,
    /// <summary>ld_imm64 of a subprogram's address (callback for bpf_loop, bpf_for_each_map_elem, ...), BPF_PSEUDO_FUNC.</summary>
    FunctionAddress,
    /// <summary>ld_imm64 of an extern variable (.kconfig value address or __ksym address/BTF id).</summary>
    Extern,
    /// <summary>Call of an extern function (kfunc) declared __ksym.</summary>
    KfuncCall,
}

/// <summary>A fix-up an instruction needs at load time.</summary>
internal readonly struct InstructionReference
{
    public InstructionReference(int instruction, InstructionReferenceKind kind, int mapIndex, long offset, int targetSectionIndex, int targetInstruction, int externIndex, string symbol)
    {
        Instruction = instruction;
        Kind = kind;
        MapIndex = mapIndex;
        Offset = offset;
        TargetSectionIndex = targetSectionIndex;
        TargetInstruction = targetInstruction;
        ExternIndex = externIndex;
        Symbol = symbol;
    }

    /// <summary>Index of the instruction within its function.</summary>
    public int Instruction { get; }
    public InstructionReferenceKind Kind { get; }
    /// <summary>Index into <see cref="BpfObjectSpec.Maps"/> (Map, MapValue), else -1.</summary>
    public int MapIndex { get; }
    /// <summary>For MapValue: byte offset within the map value.</summary>
    public long Offset { get; }
    /// <summary>For Call/FunctionAddress: ELF section of the callee.</summary>
    public int TargetSectionIndex { get; }
    /// <summary>For Call/FunctionAddress: instruction index of the callee within its section.</summary>
    public int TargetInstruction { get; }
    /// <summary>Index into <see cref="BpfObjectSpec.Externs"/> (Extern, KfuncCall), else -1.</summary>
    public int ExternIndex { get; }
    /// <summary>Name of the symbol the relocation refers to (for messages).</summary>
    public string Symbol { get; }

    public override string ToString() => $"insn #{Instruction}: {Kind} {Symbol}";
}

/// <summary>A CO-RE relocation record, placed on its function.</summary>
internal readonly struct FunctionCoreRelocation
{
    public FunctionCoreRelocation(int recordIndex, BtfCoreRelo record, int instruction)
    {
        RecordIndex = recordIndex;
        Record = record;
        Instruction = instruction;
    }

    /// <summary>Index of the record in its section's core_relo list (libbpf's "relo #N").</summary>
    public int RecordIndex { get; }
    public BtfCoreRelo Record { get; }
    /// <summary>Instruction index within the function.</summary>
    public int Instruction { get; }
}

/// <summary>
/// A function in an executable section: an entry program, or a subprogram (in .text, or a static helper).
/// Its instructions are a private copy in the object's byte order converted to the kernel's layout.
/// </summary>
internal sealed class FunctionSpec
{
    internal FunctionSpec(string name, string sectionName, int sectionIndex, int sectionInstruction, BpfInstruction[] instructions, Elf.ElfSymbolBinding binding, bool isHidden)
    {
        Name = name;
        SectionName = sectionName;
        SectionIndex = sectionIndex;
        SectionInstruction = sectionInstruction;
        Instructions = instructions;
        Binding = binding;
        IsHidden = isHidden;
    }

    public string Name { get; }
    public string SectionName { get; }
    public int SectionIndex { get; }
    /// <summary>Index of the first instruction within the section.</summary>
    public int SectionInstruction { get; }
    public int InstructionCount => Instructions.Length;
    /// <summary>The function's instructions as in the object (before CO-RE or any fix-up).</summary>
    public BpfInstruction[] Instructions { get; }
    public Elf.ElfSymbolBinding Binding { get; }
    public bool IsHidden { get; }
    /// <summary>Global, non-hidden functions are verified by the kernel on their own ("global functions").</summary>
    public bool IsGlobal => Binding != Elf.ElfSymbolBinding.Local && !IsHidden;
    public bool IsProgram { get; internal set; }
    public IReadOnlyList<InstructionReference> References { get; internal set; } = Array.Empty<InstructionReference>();
    public IReadOnlyList<FunctionCoreRelocation> CoreRelocations { get; internal set; } = Array.Empty<FunctionCoreRelocation>();
    /// <summary>func_info records of this function, instruction offsets relative to the function (in instructions).</summary>
    public IReadOnlyList<BtfFuncInfo> FuncInfos { get; internal set; } = Array.Empty<BtfFuncInfo>();
    /// <summary>line_info records, instruction offsets relative to the function (in instructions).</summary>
    public IReadOnlyList<BtfLineInfo> LineInfos { get; internal set; } = Array.Empty<BtfLineInfo>();
    /// <summary>The BTF FUNC describing this function (from func_info), or 0.</summary>
    public int BtfFuncId { get; internal set; }

    public bool ContainsSectionInstruction(int sectionInstruction) =>
        sectionInstruction >= SectionInstruction && sectionInstruction < SectionInstruction + Instructions.Length;

    public override string ToString() => $"{Name} ({SectionName}+{SectionInstruction}, {Instructions.Length} insns)";
}

/// <summary>An entry program: a function in a non-.text executable section.</summary>
internal sealed class ProgramSpec
{
    internal ProgramSpec(FunctionSpec function, string sectionName, bool autoload, SectionMatch? section)
    {
        Function = function;
        SectionName = sectionName;
        Autoload = autoload;
        Section = section;
    }

    public FunctionSpec Function { get; }
    public string Name => Function.Name;
    /// <summary>Section name as written, without libbpf's "?" (no autoload) prefix.</summary>
    public string SectionName { get; }
    /// <summary>False for SEC("?...") programs.</summary>
    public bool Autoload { get; }
    /// <summary>The section table match; null when libbpf does not know the section name.</summary>
    public SectionMatch? Section { get; }
    public BpfProgramType ProgramType => Section?.ProgramType ?? BpfProgramType.Unspec;
    public BpfAttachType? ExpectedAttachType => Section?.ExpectedAttachType;
    /// <summary>
    /// For struct_ops programs: the struct and member the object's struct_ops maps point it to (libbpf ignores the
    /// text after <c>struct_ops/</c>); null when no map refers to the program.
    /// </summary>
    public StructOpsBinding? StructOps { get; internal set; }

    public override string ToString() => $"prog '{Name}' SEC(\"{SectionName}\") {ProgramType}";
}

/// <summary>The kind of value a .kconfig extern holds (libbpf's kcfg_type).</summary>
internal enum KconfigValueKind
{
    Unknown,
    Bool,
    Char,
    Tristate,
    Int,
    CharArray,
}

internal enum ExternKind
{
    /// <summary>.kconfig: a value from the kernel configuration (or LINUX_* pseudo values).</summary>
    Kconfig,
    /// <summary>.ksyms: a kernel symbol (variable address or BTF id) or kfunc.</summary>
    Ksym,
}

/// <summary>An extern declared in the object (__kconfig or __ksym).</summary>
internal sealed class ExternSpec
{
    internal ExternSpec(string name, ExternKind kind, int symbolIndex, int btfId, bool isWeak)
    {
        Name = name;
        Kind = kind;
        SymbolIndex = symbolIndex;
        BtfId = btfId;
        IsWeak = isWeak;
    }

    public string Name { get; }
    public ExternKind Kind { get; }
    public int SymbolIndex { get; }
    /// <summary>The BTF VAR or FUNC of the extern.</summary>
    public int BtfId { get; }
    public bool IsWeak { get; }
    /// <summary>Kconfig: value kind.</summary>
    public KconfigValueKind KconfigKind { get; internal set; }
    public bool IsSigned { get; internal set; }
    /// <summary>Kconfig: size and alignment of the value, and its offset in the .kconfig map.</summary>
    public int Size { get; internal set; }
    public int Alignment { get; internal set; }
    public int KconfigOffset { get; internal set; }
    /// <summary>Ksym: a function (kfunc) rather than a variable.</summary>
    public bool IsFunction { get; internal set; }
    /// <summary>Ksym: the variable's type after skipping modifiers and typedefs (0 = untyped "void" ksym, address from kallsyms).</summary>
    public int KsymTypeId { get; internal set; }
    public bool IsTypedKsym => Kind == ExternKind.Ksym && !IsFunction && KsymTypeId != 0;

    public override string ToString() => $"extern {Kind} {Name}{(IsWeak ? " (weak)" : "")}";
}
