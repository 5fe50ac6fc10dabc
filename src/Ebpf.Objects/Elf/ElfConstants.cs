namespace Ebpf.Elf;

/// <summary>ELF section types (sh_type) that matter for BPF objects.</summary>
internal enum ElfSectionType : uint
{
    Null = 0,
    ProgBits = 1,
    SymTab = 2,
    StrTab = 3,
    Rela = 4,
    Hash = 5,
    Dynamic = 6,
    Note = 7,
    NoBits = 8,
    Rel = 9,
    DynSym = 11,
    InitArray = 14,
    FiniArray = 15,
    SymTabShndx = 18,
    LlvmAddrsig = 0x6fff4c03,
    GnuVerDef = 0x6ffffffd,
    GnuVerNeed = 0x6ffffffe,
    GnuVerSym = 0x6fffffff,
}

/// <summary>ELF section flags (sh_flags).</summary>
internal static class ElfSectionFlags
{
    public const ulong Write = 0x1;
    public const ulong Alloc = 0x2;
    public const ulong ExecInstr = 0x4;
    public const ulong Merge = 0x10;
    public const ulong Strings = 0x20;
}

/// <summary>Symbol binding (upper nibble of st_info).</summary>
internal enum ElfSymbolBinding : byte
{
    Local = 0,
    Global = 1,
    Weak = 2,
}

/// <summary>Symbol type (lower nibble of st_info).</summary>
internal enum ElfSymbolType : byte
{
    NoType = 0,
    Object = 1,
    Func = 2,
    Section = 3,
    File = 4,
    Common = 5,
    Tls = 6,
    GnuIFunc = 10,
}

/// <summary>Symbol visibility (st_other &amp; 3).</summary>
internal enum ElfSymbolVisibility : byte
{
    Default = 0,
    Internal = 1,
    Hidden = 2,
    Protected = 3,
}

/// <summary>Special section indices.</summary>
internal static class ElfSectionIndex
{
    public const ushort Undefined = 0;
    public const ushort LoReserve = 0xff00;
    public const ushort Abs = 0xfff1;
    public const ushort Common = 0xfff2;
    public const ushort XIndex = 0xffff;
}

/// <summary>ELF file types (e_type).</summary>
internal static class ElfFileType
{
    public const ushort Relocatable = 1;
    public const ushort Executable = 2;
    public const ushort SharedObject = 3;
}

/// <summary>Program header (segment) types (p_type) that matter for probing executables.</summary>
internal enum ElfSegmentType : uint
{
    Null = 0,
    Load = 1,
    Dynamic = 2,
    Note = 4,
}

/// <summary>ELF e_machine values this project cares about.</summary>
internal static class ElfMachine
{
    public const ushort None = 0;
    public const ushort X86_64 = 62;
    public const ushort AArch64 = 183;
    public const ushort Bpf = 247;
}

/// <summary>Relocation types of the BPF backend (llvm/BinaryFormat/ELFRelocs/BPF.def).</summary>
internal enum BpfRelocationType : uint
{
    None = 0,
    /// <summary>64-bit immediate of an ld_imm64 instruction (map, global data, extern, subprogram address).</summary>
    R_BPF_64_64 = 1,
    /// <summary>64-bit absolute data (e.g. pointers in .maps initial values).</summary>
    R_BPF_64_ABS64 = 2,
    /// <summary>32-bit absolute data (e.g. DWARF, .BTF.ext references).</summary>
    R_BPF_64_ABS32 = 3,
    /// <summary>32-bit data that the dynamic loader does not touch (DWARF).</summary>
    R_BPF_64_NODYLD32 = 4,
    /// <summary>32-bit pc-relative call target (bpf-to-bpf call, callback).</summary>
    R_BPF_64_32 = 10,
}
