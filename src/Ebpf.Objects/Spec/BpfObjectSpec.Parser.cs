using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Threading;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Elf;

namespace Ebpf.Objects;

internal sealed partial class BpfObjectSpec
{
    private enum SectionRole { None, Code, Data, Rodata, Bss, StructOps }

    /// <summary>ELF → model, following libbpf's bpf_object__open rules and messages.</summary>
    private sealed partial class Parser
    {
        private readonly ElfFile _elf;
        private readonly string _name;
        private readonly CancellationToken _ct;
        private readonly List<string> _notes = new List<string>();
        private readonly SectionRole[] _roles;
        private readonly List<FunctionSpec> _functions = new List<FunctionSpec>();
        private readonly List<ProgramSpec> _programs = new List<ProgramSpec>();
        private readonly List<MapSpec> _maps = new List<MapSpec>();
        private readonly List<ExternSpec> _externs = new List<ExternSpec>();
        private BtfSpec? _btf;
        private BtfExt? _ext;
        private int _textIndex;
        private int _mapsIndex;
        private string? _license;
        private uint _version;

        public Parser(ElfFile elf, string name, CancellationToken ct)
        {
            _elf = elf;
            _name = name;
            _ct = ct;
            _roles = new SectionRole[elf.Sections.Count];
        }

        private static BpfObjectFormatException Error(string message, long offset = -1) => new BpfObjectFormatException(message, offset);

        public BpfObjectSpec Run()
        {
            if (_elf.Machine != ElfMachine.Bpf && _elf.Machine != ElfMachine.None)
                throw Error($"not a BPF object: ELF machine is {MachineName(_elf.Machine)}, expected BPF ({ElfMachine.Bpf}); compile with clang -target bpf", 18);
            if (_elf.FileType != 1)
                throw Error($"not a relocatable object (ELF type {_elf.FileType}); BPF objects come from clang -c", 16);
            if (_elf.SymbolTable == null)
                throw Error("the object has no symbol table (.symtab); was it stripped?");

            ClassifySections();
            ParseBtf();
            CollectFunctions();
            CollectExterns();
            CollectUserMaps();
            CollectDataMaps();
            CollectKconfigMap();
            CollectStructOpsMaps();
            CollectCodeRelocations();
            CollectMapRelocations();
            CollectStructOpsRelocations();
            DistributeBtfExt();
            foreach (var f in _functions)
            {
                if (f.SectionIndex != _textIndex)
                    continue;
            }
            return new BpfObjectSpec(_name, _elf, _btf, _ext, _license, _version, _functions, _programs, _maps, _externs, _notes);
        }

        private static string MachineName(ushort m) => m switch
        {
            ElfMachine.X86_64 => "x86-64 (62)",
            ElfMachine.AArch64 => "AArch64 (183)",
            _ => m.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        // ------------------------------------------------------------ sections

        private void ClassifySections()
        {
            foreach (var s in _elf.Sections)
            {
                if (s.Index == 0) continue;
                string n = s.Name;
                if (n == "license")
                {
                    var d = s.Data.Span;
                    int end = d.IndexOf((byte)0);
                    _license = Utf8.Decode(end >= 0 ? d.Slice(0, end) : d);
                }
                else if (n == "version")
                {
                    if (s.Data.Length != 4)
                        throw Error($"invalid \"version\" section size {s.Data.Length} (expected 4)", (long)s.Offset);
                    var d = s.Data.Span;
                    _version = _elf.IsLittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(d) : BinaryPrimitives.ReadUInt32BigEndian(d);
                }
                else if (n == "maps")
                {
                    throw Error("legacy map definitions in the \"maps\" section are not supported (as in libbpf 1.0+); declare maps in SEC(\".maps\") with __uint/__type", (long)s.Offset);
                }
                else if (n == ".maps")
                {
                    _mapsIndex = s.Index;
                }
                else if (IsStructOpsSection(n) && (s.Type == ElfSectionType.ProgBits || s.Type == ElfSectionType.NoBits) && !s.IsExecutable)
                {
                    _roles[s.Index] = SectionRole.StructOps;
                }
                else if (s.Type == ElfSectionType.ProgBits && s.IsExecutable)
                {
                    if (s.Size > 0)
                    {
                        _roles[s.Index] = SectionRole.Code;
                        if (n == ".text") _textIndex = s.Index;
                    }
                }
                else if (s.Type == ElfSectionType.ProgBits && IsNamed(n, ".data"))
                {
                    _roles[s.Index] = SectionRole.Data;
                }
                else if (s.Type == ElfSectionType.ProgBits && IsNamed(n, ".rodata"))
                {
                    _roles[s.Index] = SectionRole.Rodata;
                }
                else if (s.Type == ElfSectionType.NoBits && IsNamed(n, ".bss"))
                {
                    _roles[s.Index] = SectionRole.Bss;
                }
                else if (s.Type == ElfSectionType.ProgBits && s.IsAlloc && n != ".BTF" && n != ".BTF.ext")
                {
                    _notes.Add($"skipping unrecognized data section({s.Index}) {n}");
                }
            }
        }

        private static bool IsNamed(string name, string prefix) =>
            name == prefix || (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length && name[prefix.Length] == '.');

        private void ParseBtf()
        {
            var btfSec = _elf.FindSection(".BTF");
            if (btfSec != null)
                _btf = BtfSpec.Parse(btfSec.Data);
            var extSec = _elf.FindSection(".BTF.ext");
            if (extSec != null)
            {
                if (_btf == null)
                    throw Error("the object has .BTF.ext but no .BTF section", (long)extSec.Offset);
                _ext = BtfExt.Parse(extSec.Data.Span, _btf);
            }
        }

        // ------------------------------------------------------------ functions and programs

        private void CollectFunctions()
        {
            var symbols = _elf.Symbols;
            foreach (var sec in _elf.Sections)
            {
                if (_roles[sec.Index] != SectionRole.Code) continue;
                _ct.ThrowIfCancellationRequested();
                if (sec.Size % 8 != 0)
                    throw Error($"section '{sec.Name}': size {sec.Size} is not a multiple of the instruction size (8)", (long)sec.Offset);
                var all = BpfInstruction.ReadAll(sec.Data.Span, _elf.IsLittleEndian);
                var funcs = new List<ElfSymbol>();
                foreach (var sym in symbols)
                {
                    if (sym.SectionIndex == sec.Index && sym.Type == ElfSymbolType.Func)
                        funcs.Add(sym);
                }
                if (funcs.Count == 0)
                {
                    _notes.Add($"section '{sec.Name}' has code but no function symbols; it is ignored");
                    continue;
                }
                funcs.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : a.Index.CompareTo(b.Index));
                bool isText = sec.Index == _textIndex;
                string sectionName = sec.Name;
                bool autoload = true;
                if (sectionName.StartsWith("?", StringComparison.Ordinal))
                {
                    autoload = false;
                    sectionName = sectionName.Substring(1);
                }
                foreach (var sym in funcs)
                {
                    if (sym.Value % 8 != 0)
                        throw Error($"sec '{sec.Name}': function '{sym.Name}' starts at offset {sym.Value}, not a multiple of 8");
                    if (sym.Size == 0 || sym.Size % 8 != 0)
                        throw Error($"sec '{sec.Name}': function '{sym.Name}' has invalid size {sym.Size}");
                    if (sym.Value + sym.Size > sec.Size)
                        throw Error($"sec '{sec.Name}': function '{sym.Name}' at offset {sym.Value} crosses the section boundary");
                    if (!isText && sym.Binding == ElfSymbolBinding.Local)
                        throw Error($"sec '{sec.Name}': program '{sym.Name}' is static, which is not supported; remove 'static' or move it to .text");
                    int start = (int)(sym.Value / 8);
                    int count = (int)(sym.Size / 8);
                    var insns = new BpfInstruction[count];
                    Array.Copy(all, start, insns, 0, count);
                    bool hidden = sym.Visibility == ElfSymbolVisibility.Hidden || sym.Visibility == ElfSymbolVisibility.Internal;
                    var fn = new FunctionSpec(sym.Name, sec.Name, sec.Index, start, insns, sym.Binding, hidden);
                    foreach (var other in _functions)
                    {
                        if (other.SectionIndex == sec.Index && start < other.SectionInstruction + other.InstructionCount && other.SectionInstruction < start + count)
                            throw Error($"sec '{sec.Name}': functions '{other.Name}' and '{sym.Name}' overlap");
                    }
                    _functions.Add(fn);
                    if (!isText)
                    {
                        fn.IsProgram = true;
                        SectionMatch? match = SectionDefinitions.TryMatch(sectionName, out var m) ? m : (SectionMatch?)null;
                        _programs.Add(new ProgramSpec(fn, sectionName, autoload, match));
                    }
                }
            }
        }

        // ------------------------------------------------------------ externs

        private void CollectExterns()
        {
            var found = new List<ExternSpec>();
            foreach (var sym in _elf.Symbols)
            {
                if (sym.Index == 0 || !sym.IsUndefined || sym.Type != ElfSymbolType.NoType)
                    continue;
                if (sym.Binding != ElfSymbolBinding.Global && sym.Binding != ElfSymbolBinding.Weak)
                    continue;
                if (sym.Name.Length == 0)
                    continue;
                if (_btf == null)
                    throw Error($"extern '{sym.Name}' needs BTF to be resolved, but the object has no .BTF (compile with -g)");
                int btfId = FindExternBtfId(sym.Name);
                if (btfId < 0)
                    throw Error($"failed to find BTF for extern '{sym.Name}'");
                var datasec = FindExternSection(btfId)
                    ?? throw Error($"extern '{sym.Name}' is not in a .kconfig or .ksyms section (declare it with __kconfig or __ksym)");
                bool weak = sym.Binding == ElfSymbolBinding.Weak;
                var t = _btf[btfId];
                if (datasec == ".kconfig")
                {
                    if (t is BtfFunc)
                        throw Error($"extern function '{sym.Name}' is not supported in the .kconfig section");
                    var v = (BtfVar)t;
                    var ext = new ExternSpec(t.Name, ExternKind.Kconfig, sym.Index, btfId, weak);
                    ext.Size = _btf.TryResolveSize(v.TypeId, out long size) ? (int)size : 0;
                    ext.Alignment = _btf.AlignmentOf(v.TypeId);
                    ext.KconfigKind = KconfigKindOf(v.TypeId, out bool signed);
                    ext.IsSigned = signed;
                    if (size > MaxKconfigExternSize)
                        throw Error($"extern (kcfg) '{t.Name}' is {size} bytes; a kernel configuration value is at most {MaxKconfigExternSize}");
                    if (ext.KconfigKind == KconfigValueKind.Unknown || ext.Size <= 0 || ext.Alignment <= 0)
                        throw Error($"extern (kcfg) '{t.Name}': type {_btf.Describe(v.TypeId)} is not supported (use bool, char, an integer, a char array or enum libbpf_tristate)");
                    found.Add(ext);
                }
                else if (datasec == ".ksyms")
                {
                    var ext = new ExternSpec(t.Name, ExternKind.Ksym, sym.Index, btfId, weak);
                    if (t is BtfFunc)
                    {
                        ext.IsFunction = true;
                    }
                    else
                    {
                        var v = (BtfVar)t;
                        int resolved = _btf.SkipModifiersAndTypedefs(v.TypeId);
                        ext.KsymTypeId = _btf.GetKind(resolved) == BtfKind.Unknown ? 0 : resolved;
                    }
                    found.Add(ext);
                }
                else
                {
                    throw Error($"extern '{sym.Name}' is in the unrecognized section '{datasec}' (only .kconfig and .ksyms are supported)");
                }
            }
            // libbpf's order: kconfig before ksyms; kconfig by alignment (descending), then size (ascending); ties by name.
            found.Sort((a, b) =>
            {
                if (a.Kind != b.Kind) return a.Kind.CompareTo(b.Kind);
                if (a.Kind == ExternKind.Kconfig)
                {
                    if (a.Alignment != b.Alignment) return b.Alignment.CompareTo(a.Alignment);
                    if (a.Size != b.Size) return a.Size.CompareTo(b.Size);
                }
                return string.CompareOrdinal(a.Name, b.Name);
            });
            long off = 0;
            foreach (var e in found)
            {
                if (e.Kind != ExternKind.Kconfig) continue;
                off = (off + e.Alignment - 1) / e.Alignment * e.Alignment;
                if (off + e.Size > MaxDataSectionSize)
                    throw Error($"the .kconfig externs take more than {MaxDataSectionSize} bytes");
                e.KconfigOffset = (int)off;
                off += e.Size;
            }
            _kconfigSize = (int)off;
            _externs.AddRange(found);
        }

        private int _kconfigSize;

        private int FindExternBtfId(string name)
        {
            foreach (int id in _btf!.FindByName(name))
            {
                var t = _btf[id];
                if (t is BtfVar v && v.Linkage == BtfVarLinkage.GlobalExtern) return id;
                if (t is BtfFunc f && f.Linkage == BtfFuncLinkage.Extern) return id;
            }
            return -1;
        }

        private string? FindExternSection(int btfId)
        {
            foreach (var t in _btf!.Types)
            {
                if (t is not BtfDatasec ds) continue;
                foreach (var v in ds.Variables)
                {
                    if (v.TypeId == btfId)
                        return ds.Name;
                }
            }
            return null;
        }

        private KconfigValueKind KconfigKindOf(int typeId, out bool signed)
        {
            signed = false;
            int id = _btf!.SkipModifiersAndTypedefs(typeId);
            var t = _btf[id];
            switch (t)
            {
                case BtfInt i:
                    if (i.IsBool) return i.Size == 1 ? KconfigValueKind.Bool : KconfigValueKind.Unknown;
                    signed = i.IsSigned;
                    if (i.Size == 1) return KconfigValueKind.Char;
                    if (i.Size < 1 || i.Size > 8 || (i.Size & (i.Size - 1)) != 0) return KconfigValueKind.Unknown;
                    return KconfigValueKind.Int;
                case BtfEnum e:
                    if (!e.Is64 && e.Size != 4) return KconfigValueKind.Unknown;
                    return e.Name == "libbpf_tristate" ? KconfigValueKind.Tristate : KconfigValueKind.Unknown;
                case BtfArray a:
                    if (a.Count == 0) return KconfigValueKind.Unknown;
                    return KconfigKindOf(a.ElementTypeId, out _) == KconfigValueKind.Char ? KconfigValueKind.CharArray : KconfigValueKind.Unknown;
                default:
                    return KconfigValueKind.Unknown;
            }
        }

        // ------------------------------------------------------------ user maps (.maps)

        private void CollectUserMaps()
        {
            if (_mapsIndex == 0)
                return;
            var sec = _elf.Sections[_mapsIndex];
            if (_btf == null)
                throw Error("the object has a .maps section but no BTF; BTF-defined maps need clang -g");
            int dsId = _btf.FindByName(".maps", BtfKind.Datasec);
            if (dsId < 0)
                throw Error("DATASEC '.maps' not found in BTF");
            var ds = (BtfDatasec)_btf[dsId];
            for (int i = 0; i < ds.Variables.Count; i++)
            {
                _ct.ThrowIfCancellationRequested();
                var vi = ds.Variables[i];
                var t = _btf[vi.TypeId];
                string mapName = t.Name;
                if (mapName.Length == 0)
                    throw Error($"map #{i}: empty name");
                if (t is not BtfVar v)
                    throw Error($"map '{mapName}': unexpected var kind {t.Kind.ToLowerName()}");
                if (v.Linkage != BtfVarLinkage.GlobalAllocated)
                    throw Error($"map '{mapName}': unsupported map linkage {(v.Linkage == BtfVarLinkage.Static ? "static" : "extern")}");
                uint offset = vi.Offset;
                uint size = vi.Size;
                // Older clang leaves DATASEC offsets at 0: take the symbol's value as libbpf's fixup does.
                if (ds.Size == 0 || (offset == 0 && i > 0))
                {
                    if (TryFindSymbol(mapName, _mapsIndex, out var sym))
                    {
                        offset = (uint)sym.Value;
                        if (size == 0) size = (uint)sym.Size;
                    }
                }
                if ((ulong)offset + size > sec.Size)
                    throw Error($"map '{mapName}': BTF data is corrupted (definition at {offset}+{size} is outside .maps of {sec.Size} bytes)");
                int defId = _btf.SkipModifiersAndTypedefs(v.TypeId);
                if (_btf[defId] is not BtfStruct def)
                    throw Error($"map '{mapName}': unexpected def kind {_btf.GetKind(defId).ToLowerName()}");
                if (def.Size > size)
                    throw Error($"map '{mapName}': invalid def size");
                var map = new MapSpec(mapName, MapOrigin.User)
                {
                    SectionName = ".maps",
                    SectionIndex = _mapsIndex,
                    SectionOffset = offset,
                    SectionSize = size,
                    BtfVarId = vi.TypeId,
                };
                ParseMapDefinition(map, def, isInner: false);
                if (map.Type == BpfMapType.Unspec)
                    throw Error($"map '{mapName}': map type isn't specified");
                _maps.Add(map);
            }
        }

        private void ParseMapDefinition(MapSpec map, BtfStruct def, bool isInner)
        {
            var btf = _btf!;
            string mapName = map.Name;
            bool keySizeSet = false, valueSizeSet = false;
            for (int i = 0; i < def.Members.Count; i++)
            {
                var m = def.Members[i];
                string name = m.Name;
                if (name.Length == 0)
                    throw Error($"map '{mapName}': invalid field #{i}");
                switch (name)
                {
                    case "type":
                        map.Type = (BpfMapType)MapFieldInt(mapName, m);
                        break;
                    case "max_entries":
                        map.MaxEntries = MapFieldInt(mapName, m);
                        break;
                    case "map_flags":
                        map.Flags = (BpfMapFlags)MapFieldInt(mapName, m);
                        break;
                    case "numa_node":
                        map.NumaNode = MapFieldInt(mapName, m);
                        break;
                    case "map_extra":
                        map.MapExtra = MapFieldLong(mapName, m);
                        break;
                    case "pinning":
                    {
                        uint p = MapFieldInt(mapName, m);
                        if (isInner)
                            throw Error($"map '{mapName}': inner def can't be pinned");
                        if (p != (uint)MapPinning.None && p != (uint)MapPinning.ByName)
                            throw Error($"map '{mapName}': invalid pinning value {p}");
                        map.Pinning = (MapPinning)p;
                        break;
                    }
                    case "key_size":
                    {
                        uint sz = MapFieldInt(mapName, m);
                        if (keySizeSet && map.KeySize != sz)
                            throw Error($"map '{mapName}': conflicting key size {map.KeySize} != {sz}");
                        map.KeySize = sz;
                        keySizeSet = true;
                        break;
                    }
                    case "key":
                    {
                        int typeId = PointeeType(mapName, name, m);
                        if (!btf.TryResolveSize(typeId, out long sz))
                            throw Error($"map '{mapName}': can't determine key size for type [{typeId}]");
                        if (keySizeSet && map.KeySize != sz)
                            throw Error($"map '{mapName}': conflicting key size {map.KeySize} != {sz}");
                        map.KeySize = (uint)sz;
                        map.BtfKeyTypeId = typeId;
                        keySizeSet = true;
                        break;
                    }
                    case "value_size":
                    {
                        uint sz = MapFieldInt(mapName, m);
                        if (valueSizeSet && map.ValueSize != sz)
                            throw Error($"map '{mapName}': conflicting value size {map.ValueSize} != {sz}");
                        map.ValueSize = sz;
                        valueSizeSet = true;
                        break;
                    }
                    case "value":
                    {
                        int typeId = PointeeType(mapName, name, m);
                        if (!btf.TryResolveSize(typeId, out long sz))
                            throw Error($"map '{mapName}': can't determine value size for type [{typeId}]");
                        if (valueSizeSet && map.ValueSize != sz)
                            throw Error($"map '{mapName}': conflicting value size {map.ValueSize} != {sz}");
                        map.ValueSize = (uint)sz;
                        map.BtfValueTypeId = typeId;
                        valueSizeSet = true;
                        break;
                    }
                    case "values":
                        ParseValuesMember(map, def, i, m, isInner, ref valueSizeSet);
                        break;
                    default:
                        throw Error($"map '{mapName}': unknown field '{name}'");
                }
            }
        }

        private void ParseValuesMember(MapSpec map, BtfStruct def, int index, BtfMember m, bool isInner, ref bool valueSizeSet)
        {
            var btf = _btf!;
            string mapName = map.Name;
            bool mapInMap = map.Type == BpfMapType.ArrayOfMaps || map.Type == BpfMapType.HashOfMaps;
            bool progArray = map.Type == BpfMapType.ProgArray;
            string desc = mapInMap ? "map-in-map inner" : "prog-array value";
            if (isInner)
                throw Error($"map '{mapName}': multi-level inner maps are not supported");
            if (index != def.Members.Count - 1)
                throw Error($"map '{mapName}': 'values' member should be last");
            if (!mapInMap && !progArray)
                throw Error($"map '{mapName}': 'values' is only for map-in-map or prog-array maps (the type must be set before it)");
            if (valueSizeSet && map.ValueSize != 4)
                throw Error($"map '{mapName}': conflicting value size {map.ValueSize} != 4");
            map.ValueSize = 4;
            valueSizeSet = true;
            if (btf[m.TypeId] is not BtfArray arr || arr.Count != 0)
                throw Error($"map '{mapName}': {desc} type should be an array with zero size");
            int ptr = btf.SkipModifiersAndTypedefs(arr.ElementTypeId);
            if (btf[ptr] is not BtfPointer p)
                throw Error($"map '{mapName}': {desc} def is of unexpected kind {btf.GetKind(ptr).ToLowerName()}");
            int target = btf.SkipModifiersAndTypedefs(p.TargetId);
            if (progArray)
            {
                if (btf.GetKind(target) != BtfKind.FuncProto)
                    throw Error($"map '{mapName}': prog-array value def is of unexpected kind {btf.GetKind(target).ToLowerName()}");
                return;
            }
            if (btf[target] is not BtfStruct innerDef)
                throw Error($"map '{mapName}': map-in-map inner def is of unexpected kind {btf.GetKind(target).ToLowerName()}");
            var inner = new MapSpec(mapName + ".inner", MapOrigin.InnerTemplate)
            {
                SectionName = ".maps",
                SectionIndex = _mapsIndex,
            };
            ParseMapDefinition(inner, innerDef, isInner: true);
            if (inner.Type == BpfMapType.Unspec)
                throw Error($"map '{inner.Name}': map type isn't specified");
            map.InnerMap = inner;
        }

        /// <summary>__uint(name, val) is "int (*name)[val]": the value is the array's element count.</summary>
        private uint MapFieldInt(string mapName, BtfMember m)
        {
            var btf = _btf!;
            int id = btf.SkipModifiersAndTypedefs(m.TypeId);
            if (btf[id] is not BtfPointer p)
                throw Error($"map '{mapName}': attr '{m.Name}': expected PTR, got {btf.GetKind(id).ToLowerName()}");
            int arrId = btf.SkipModifiersAndTypedefs(p.TargetId);
            if (btf[arrId] is not BtfArray a)
                throw Error($"map '{mapName}': attr '{m.Name}': expected ARRAY, got {btf.GetKind(arrId).ToLowerName()}");
            return a.Count;
        }

        /// <summary>__ulong(name, val) is an anonymous enum with one enumerator; older headers use __uint.</summary>
        private ulong MapFieldLong(string mapName, BtfMember m)
        {
            var btf = _btf!;
            int id = btf.SkipModifiersAndTypedefs(m.TypeId);
            if (btf[id] is BtfEnum e)
            {
                if (e.Values.Count != 1)
                    throw Error($"map '{mapName}': attr '{m.Name}': invalid __ulong");
                return e.Values[0].RawValue;
            }
            return MapFieldInt(mapName, m);
        }

        private int PointeeType(string mapName, string what, BtfMember m)
        {
            var btf = _btf!;
            int id = btf.SkipModifiersAndTypedefs(m.TypeId);
            if (btf[id] is not BtfPointer p)
                throw Error($"map '{mapName}': {what} spec is not PTR: {btf.GetKind(id).ToLowerName()}");
            return p.TargetId;
        }

        private bool TryFindSymbol(string name, int sectionIndex, out ElfSymbol symbol)
        {
            foreach (var s in _elf.Symbols)
            {
                if (s.SectionIndex == sectionIndex && s.Name == name && s.Type != ElfSymbolType.Section)
                {
                    symbol = s;
                    return true;
                }
            }
            symbol = default;
            return false;
        }

        // ------------------------------------------------------------ data section maps

        private void CollectDataMaps()
        {
            foreach (var sec in _elf.Sections)
            {
                var role = _roles[sec.Index];
                if (role != SectionRole.Data && role != SectionRole.Rodata && role != SectionRole.Bss)
                    continue;
                if (sec.Size == 0)
                    continue;
                if (sec.Size > (ulong)MaxDataSectionSize)
                    throw Error($"section '{sec.Name}' is {sec.Size} bytes; a data section becomes an array map value, which no kernel allows above {MaxDataSectionSize} bytes");
                var origin = role == SectionRole.Data ? MapOrigin.Data : role == SectionRole.Rodata ? MapOrigin.Rodata : MapOrigin.Bss;
                var map = new MapSpec(InternalMapName(_name, sec.Name), origin)
                {
                    SectionName = sec.Name,
                    SectionIndex = sec.Index,
                    Type = BpfMapType.Array,
                    KeySize = 4,
                    ValueSize = (uint)sec.Size,
                    MaxEntries = 1,
                    Flags = origin == MapOrigin.Rodata ? BpfMapFlags.ReadOnlyProg : BpfMapFlags.None,
                    InitialData = origin == MapOrigin.Bss ? (ReadOnlyMemory<byte>?)null : sec.Data,
                };
                if (_btf != null)
                {
                    int ds = _btf.FindByName(sec.Name, BtfKind.Datasec);
                    if (ds > 0)
                        map.BtfValueTypeId = ds;
                }
                map.Variables = DataVariables(sec, map.BtfValueTypeId);
                if (IsMmapable(map))
                    map.Flags |= BpfMapFlags.Mmapable;
                _maps.Add(map);
            }
        }

        private bool IsMmapable(MapSpec map)
        {
            if (map.BtfValueTypeId == 0)
                return false;
            foreach (var v in map.Variables)
            {
                if (!v.IsStatic) return true;
            }
            return false;
        }

        private IReadOnlyList<VariableSpec> DataVariables(ElfSection sec, int datasecId)
        {
            var list = new List<VariableSpec>();
            if (datasecId > 0)
            {
                var ds = (BtfDatasec)_btf![datasecId];
                bool fixOffsets = ds.Size == 0;
                foreach (var vi in ds.Variables)
                {
                    if (_btf[vi.TypeId] is not BtfVar v)
                        throw Error($"sec '{sec.Name}': unexpected non-VAR type [{vi.TypeId}] in DATASEC");
                    uint offset = vi.Offset;
                    uint size = vi.Size;
                    var linkage = v.Linkage;
                    if (linkage != BtfVarLinkage.Static && linkage != BtfVarLinkage.GlobalExtern)
                    {
                        if (TryFindSymbol(v.Name, sec.Index, out var sym))
                        {
                            if (fixOffsets) offset = (uint)sym.Value;
                            if (sym.Visibility == ElfSymbolVisibility.Hidden || sym.Visibility == ElfSymbolVisibility.Internal)
                                linkage = BtfVarLinkage.Static;
                        }
                        else if (fixOffsets)
                        {
                            throw Error($"sec '{sec.Name}': failed to find ELF symbol for variable '{v.Name}'");
                        }
                    }
                    if (size == 0 && _btf.TryResolveSize(v.TypeId, out long sz))
                        size = (uint)sz;
                    if ((ulong)offset + size > sec.Size)
                        throw Error($"sec '{sec.Name}': variable '{v.Name}' at {offset}+{size} lies outside the section ({sec.Size} bytes)");
                    list.Add(new VariableSpec(v.Name, offset, size, v.Id, v.TypeId, linkage));
                }
            }
            else
            {
                foreach (var sym in _elf.Symbols)
                {
                    if (sym.SectionIndex != sec.Index || sym.Type != ElfSymbolType.Object || sym.Name.Length == 0)
                        continue;
                    var linkage = sym.Binding == ElfSymbolBinding.Local || sym.Visibility == ElfSymbolVisibility.Hidden ? BtfVarLinkage.Static : BtfVarLinkage.GlobalAllocated;
                    list.Add(new VariableSpec(sym.Name, (uint)sym.Value, (uint)sym.Size, 0, 0, linkage));
                }
            }
            list.Sort((a, b) => a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : string.CompareOrdinal(a.Name, b.Name));
            return list;
        }

        private void CollectKconfigMap()
        {
            bool any = false;
            foreach (var e in _externs)
                if (e.Kind == ExternKind.Kconfig) { any = true; break; }
            if (!any)
                return;
            int ds = _btf!.FindByName(".kconfig", BtfKind.Datasec);
            var vars = new List<VariableSpec>();
            foreach (var e in _externs)
            {
                if (e.Kind != ExternKind.Kconfig) continue;
                var v = (BtfVar)_btf[e.BtfId];
                vars.Add(new VariableSpec(e.Name, (uint)e.KconfigOffset, (uint)e.Size, v.Id, v.TypeId, BtfVarLinkage.GlobalAllocated));
            }
            vars.Sort((a, b) => a.Offset.CompareTo(b.Offset));
            var map = new MapSpec(InternalMapName(_name, ".kconfig"), MapOrigin.Kconfig)
            {
                SectionName = ".kconfig",
                SectionIndex = 0,
                Type = BpfMapType.Array,
                KeySize = 4,
                ValueSize = (uint)Math.Max(_kconfigSize, 1),
                MaxEntries = 1,
                Flags = BpfMapFlags.ReadOnlyProg | BpfMapFlags.Mmapable,
                BtfValueTypeId = ds > 0 ? ds : 0,
                Variables = vars,
            };
            _maps.Add(map);
        }

        // ------------------------------------------------------------ relocations in code

        private void CollectCodeRelocations()
        {
            var refsByFunction = new Dictionary<FunctionSpec, List<InstructionReference>>();
            foreach (var rs in _elf.RelocationSections)
            {
                var target = rs.Target;
                if (_roles[target.Index] != SectionRole.Code)
                    continue;
                _ct.ThrowIfCancellationRequested();
                foreach (var rel in rs.Relocations)
                {
                    if (rel.Offset % 8 != 0)
                        throw Error($"sec '{target.Name}': relocation at offset {rel.Offset} is not aligned to an instruction");
                    int insnIdx = (int)(rel.Offset / 8);
                    var fn = FindFunctionAt(target.Index, insnIdx);
                    if (fn == null)
                    {
                        _notes.Add($"sec '{target.Name}': skipping relocation for insn #{insnIdx} that belongs to no function (eliminated weak subprogram)");
                        continue;
                    }
                    var r = RecordRelocation(fn, target, insnIdx, rel);
                    if (!refsByFunction.TryGetValue(fn, out var list))
                        refsByFunction[fn] = list = new List<InstructionReference>();
                    list.Add(r);
                }
            }
            // Calls to static functions in the same section carry no relocation: the offset is already relative.
            foreach (var fn in _functions)
            {
                refsByFunction.TryGetValue(fn, out var list);
                for (int i = 0; i < fn.Instructions.Length; i++)
                {
                    var insn = fn.Instructions[i];
                    bool hasRelo = false;
                    if (list != null)
                        foreach (var r in list)
                            if (r.Instruction == i) { hasRelo = true; break; }
                    if (hasRelo) continue;
                    if (insn.IsSubprogramCall)
                    {
                        int targetInsn = fn.SectionInstruction + i + insn.Immediate + 1;
                        if (FindFunctionAt(fn.SectionIndex, targetInsn) == null)
                            throw Error($"prog '{fn.Name}': insn #{i} calls instruction #{targetInsn} of '{fn.SectionName}', which is not inside a function");
                        (list ??= refsByFunction[fn] = new List<InstructionReference>())
                            .Add(new InstructionReference(i, InstructionReferenceKind.Call, -1, 0, fn.SectionIndex, targetInsn, -1, string.Empty));
                    }
                    else if (insn.IsFunctionAddressLoad)
                    {
                        throw Error($"prog '{fn.Name}': missing subprog addr relo for insn #{i}");
                    }
                    if (insn.IsLoadImm64) i++;
                }
            }
            foreach (var kv in refsByFunction)
            {
                kv.Value.Sort((a, b) => a.Instruction.CompareTo(b.Instruction));
                kv.Key.References = kv.Value;
            }
        }

        private FunctionSpec? FindFunctionAt(int sectionIndex, int sectionInstruction)
        {
            foreach (var f in _functions)
            {
                if (f.SectionIndex == sectionIndex && f.ContainsSectionInstruction(sectionInstruction))
                    return f;
            }
            return null;
        }

        private InstructionReference RecordRelocation(FunctionSpec fn, ElfSection section, int sectionInsn, ElfRelocation rel)
        {
            int i = sectionInsn - fn.SectionInstruction;
            var insn = fn.Instructions[i];
            var sym = _elf.Symbols[(int)rel.SymbolIndex];
            string symName = sym.Type == ElfSymbolType.Section && sym.SectionIndex < _elf.Sections.Count ? _elf.Sections[sym.SectionIndex].Name : sym.Name;
            var relType = (BpfRelocationType)rel.Type;
            if (relType != BpfRelocationType.R_BPF_64_64 && relType != BpfRelocationType.R_BPF_64_32)
                throw Error($"prog '{fn.Name}': unsupported relocation type {rel.Type} against '{symName}' for insn #{i}");

            // Externs: kconfig/ksym variables (ld_imm64) and kfuncs (call).
            if (sym.IsUndefined && sym.Type == ElfSymbolType.NoType && (sym.Binding == ElfSymbolBinding.Global || sym.Binding == ElfSymbolBinding.Weak) && sym.Name.Length != 0)
            {
                int ext = -1;
                for (int e = 0; e < _externs.Count; e++)
                    if (_externs[e].SymbolIndex == sym.Index) { ext = e; break; }
                if (ext < 0)
                    throw Error($"prog '{fn.Name}': extern relo failed to find extern for '{symName}' ({sym.Index})");
                if (insn.IsCall)
                    return new InstructionReference(i, InstructionReferenceKind.KfuncCall, -1, 0, 0, 0, ext, symName);
                if (!insn.IsLoadImm64)
                    throw Error($"prog '{fn.Name}': invalid relo against extern '{symName}' for insn #{i} (code 0x{insn.OpCode:x2})");
                return new InstructionReference(i, InstructionReferenceKind.Extern, -1, 0, 0, 0, ext, symName);
            }

            if (insn.IsCall)
            {
                if (insn.Src != BpfOpCodes.PseudoCall)
                    throw Error($"prog '{fn.Name}': incorrect bpf_call opcode at insn #{i}");
                if (sym.SectionIndex == 0 || sym.SectionIndex != _textIndex)
                {
                    string secName = sym.SectionIndex < _elf.Sections.Count ? _elf.Sections[sym.SectionIndex].Name : "?";
                    throw Error($"prog '{fn.Name}': bad call relo against '{symName}' in section '{secName}' (calls must target functions in .text)");
                }
                if (sym.Value % 8 != 0)
                    throw Error($"prog '{fn.Name}': bad call relo against '{symName}' at offset {sym.Value}");
                int target = (int)(sym.Value / 8) + insn.Immediate + 1;
                if (FindFunctionAt(_textIndex, target) == null)
                    throw Error($"prog '{fn.Name}': call at insn #{i} targets .text instruction #{target}, which is not inside a function");
                return new InstructionReference(i, InstructionReferenceKind.Call, -1, 0, _textIndex, target, -1, symName);
            }

            if (!insn.IsLoadImm64)
                throw Error($"prog '{fn.Name}': invalid relo against '{symName}' for insns[{i}].code 0x{insn.OpCode:x2}");
            if (i + 1 >= fn.Instructions.Length)
                throw Error($"prog '{fn.Name}': ld_imm64 at insn #{i} is truncated");
            if (sym.SectionIndex == 0 || sym.SectionIndex >= ElfSectionIndex.LoReserve)
                throw Error($"prog '{fn.Name}': invalid relo against '{symName}' in special section 0x{sym.SectionIndex:x}; forgot to initialize global var?");

            // Address of a subprogram (callback).
            if (sym.SectionIndex == _textIndex && (sym.Type == ElfSymbolType.Func || sym.Type == ElfSymbolType.Section))
            {
                if (sym.Value % 8 != 0 || insn.Immediate % 8 != 0)
                    throw Error($"prog '{fn.Name}': bad subprog addr relo against '{symName}' at offset {sym.Value}+{insn.Immediate}");
                int target = (int)((long)(sym.Value + (ulong)(long)insn.Immediate) / 8);
                if (FindFunctionAt(_textIndex, target) == null)
                    throw Error($"prog '{fn.Name}': subprog address at insn #{i} points to .text instruction #{target}, which is not inside a function");
                return new InstructionReference(i, InstructionReferenceKind.FunctionAddress, -1, 0, _textIndex, target, -1, symName);
            }

            var role = _roles[sym.SectionIndex];
            string symSecName = _elf.Sections[sym.SectionIndex].Name;
            if (role != SectionRole.Data && role != SectionRole.Rodata && role != SectionRole.Bss)
            {
                if (sym.SectionIndex != _mapsIndex)
                    throw Error($"prog '{fn.Name}': bad map relo against '{symName}' in section '{symSecName}'");
                for (int m = 0; m < _maps.Count; m++)
                {
                    var map = _maps[m];
                    if (map.Origin == MapOrigin.User && map.SectionIndex == sym.SectionIndex && map.SectionOffset == sym.Value)
                        return new InstructionReference(i, InstructionReferenceKind.Map, m, 0, 0, 0, -1, symName);
                }
                throw Error($"prog '{fn.Name}': map relo failed to find map for section '{symSecName}', off {sym.Value}");
            }
            for (int m = 0; m < _maps.Count; m++)
            {
                var map = _maps[m];
                if (map.IsInternal && map.SectionIndex == sym.SectionIndex)
                {
                    long off = (long)sym.Value + fn.Instructions[i].Immediate;
                    return new InstructionReference(i, InstructionReferenceKind.MapValue, m, off, 0, 0, -1, symName);
                }
            }
            throw Error($"prog '{fn.Name}': data relo failed to find map for section '{symSecName}'");
        }

        // ------------------------------------------------------------ initial values of map-in-map and prog arrays

        private void CollectMapRelocations()
        {
            if (_mapsIndex == 0)
                return;
            var relocs = _elf.GetRelocationsFor(_elf.Sections[_mapsIndex]);
            if (relocs.Count == 0)
                return;
            var slots = new Dictionary<MapSpec, SortedDictionary<int, MapInitialSlot>>();
            foreach (var rel in relocs)
            {
                var sym = _elf.Symbols[(int)rel.SymbolIndex];
                MapSpec? outer = null;
                foreach (var m in _maps)
                {
                    if (m.Origin == MapOrigin.User && m.SectionOffset <= rel.Offset && rel.Offset + 8 <= (ulong)m.SectionOffset + m.SectionSize)
                    {
                        outer = m;
                        break;
                    }
                }
                if (outer == null)
                    throw Error($".maps relo #{rel.Offset}: cannot find map definition containing offset {rel.Offset}");
                bool mapInMap = outer.IsMapInMap;
                bool progArray = outer.Type == BpfMapType.ProgArray;
                if (!mapInMap && !progArray)
                    throw Error($"map '{outer.Name}': can't use a relocation (to '{sym.Name}') for a map that is neither map-in-map nor prog-array");
                var def = (BtfStruct)_btf![_btf.SkipModifiersAndTypedefs(((BtfVar)_btf[outer.BtfVarId]).TypeId)];
                var last = def.Members[def.Members.Count - 1];
                if (last.Name != "values")
                    throw Error($"map '{outer.Name}': initial values need a 'values' member");
                ulong valuesOffset = last.BitOffset / 8;
                ulong rel0 = rel.Offset - outer.SectionOffset;
                if (rel0 < valuesOffset || (rel0 - valuesOffset) % 8 != 0)
                    throw Error($"map '{outer.Name}': misaligned initial value relocation at offset {rel.Offset}");
                int slot = (int)((rel0 - valuesOffset) / 8);
                string targetName;
                if (mapInMap)
                {
                    if (sym.SectionIndex != _mapsIndex)
                        throw Error($"map '{outer.Name}': inner map '{sym.Name}' is not in .maps");
                    MapSpec? inner = null;
                    foreach (var m in _maps)
                        if (m.Origin == MapOrigin.User && m.SectionOffset == sym.Value) { inner = m; break; }
                    if (inner == null)
                        throw Error($"map '{outer.Name}': cannot find inner map '{sym.Name}' at .maps offset {sym.Value}");
                    targetName = inner.Name;
                }
                else
                {
                    if (sym.Type != ElfSymbolType.Func)
                        throw Error($"map '{outer.Name}': prog-array slot {slot} refers to '{sym.Name}', which is not a program");
                    ProgramSpec? prog = null;
                    foreach (var p in _programs)
                        if (p.Function.SectionIndex == sym.SectionIndex && (ulong)p.Function.SectionInstruction * 8 == sym.Value) { prog = p; break; }
                    if (prog == null)
                        throw Error($"map '{outer.Name}': prog-array slot {slot} refers to '{sym.Name}', which is not an entry program");
                    targetName = prog.Name;
                }
                if (!slots.TryGetValue(outer, out var dict))
                    slots[outer] = dict = new SortedDictionary<int, MapInitialSlot>();
                dict[slot] = new MapInitialSlot(slot, targetName, progArray);
            }
            foreach (var kv in slots)
                kv.Key.InitialSlots = new List<MapInitialSlot>(kv.Value.Values);
        }

        // ------------------------------------------------------------ BTF.ext onto functions

        private void DistributeBtfExt()
        {
            if (_ext == null)
                return;
            var funcInfos = new Dictionary<FunctionSpec, List<BtfFuncInfo>>();
            foreach (var sec in _ext.FuncInfos)
            {
                int secIdx = SectionIndexByName(sec.SectionName);
                if (secIdx < 0) continue;
                foreach (var r in sec.Records)
                {
                    var fn = FindFunctionAt(secIdx, r.InstructionIndex);
                    if (fn == null) continue;
                    if (!funcInfos.TryGetValue(fn, out var l)) funcInfos[fn] = l = new List<BtfFuncInfo>();
                    l.Add(new BtfFuncInfo((uint)(r.InstructionIndex - fn.SectionInstruction), r.TypeId));
                }
            }
            foreach (var kv in funcInfos)
            {
                kv.Key.FuncInfos = kv.Value;
                foreach (var fi in kv.Value)
                    if (fi.InstructionOffset == 0) kv.Key.BtfFuncId = fi.TypeId;
            }
            var lineInfos = new Dictionary<FunctionSpec, List<BtfLineInfo>>();
            foreach (var sec in _ext.LineInfos)
            {
                int secIdx = SectionIndexByName(sec.SectionName);
                if (secIdx < 0) continue;
                foreach (var r in sec.Records)
                {
                    var fn = FindFunctionAt(secIdx, r.InstructionIndex);
                    if (fn == null) continue;
                    if (!lineInfos.TryGetValue(fn, out var l)) lineInfos[fn] = l = new List<BtfLineInfo>();
                    l.Add(new BtfLineInfo((uint)(r.InstructionIndex - fn.SectionInstruction), r.FileNameOffset, r.LineOffset, r.LineCol));
                }
            }
            foreach (var kv in lineInfos)
                kv.Key.LineInfos = kv.Value;
            var relos = new Dictionary<FunctionSpec, List<FunctionCoreRelocation>>();
            foreach (var sec in _ext.CoreRelos)
            {
                int secIdx = SectionIndexByName(sec.SectionName);
                if (secIdx < 0)
                    throw Error($"CO-RE relocations refer to section '{sec.SectionName}', which does not exist");
                for (int n = 0; n < sec.Records.Count; n++)
                {
                    var r = sec.Records[n];
                    var fn = FindFunctionAt(secIdx, r.InstructionIndex);
                    if (fn == null) continue; // eliminated weak subprogram, as libbpf skips it
                    if (!relos.TryGetValue(fn, out var l)) relos[fn] = l = new List<FunctionCoreRelocation>();
                    l.Add(new FunctionCoreRelocation(n, r, r.InstructionIndex - fn.SectionInstruction));
                }
            }
            foreach (var kv in relos)
                kv.Key.CoreRelocations = kv.Value;
        }

        private int SectionIndexByName(string name)
        {
            var s = _elf.FindSection(name);
            return s == null ? -1 : s.Index;
        }
    }
}
