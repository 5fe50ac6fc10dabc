using System;
using System.Collections.Generic;
using Ebpf.Btf;
using Ebpf.Elf;

namespace Ebpf.Objects;

internal sealed partial class BpfObjectSpec
{
    /// <summary>The section of struct_ops maps created with BPF_F_LINK (attached through a bpf_link, Linux 6.4).</summary>
    public const string StructOpsLinkSection = ".struct_ops.link";

    /// <summary>The section of struct_ops maps registered by their map update.</summary>
    public const string StructOpsSection = ".struct_ops";

    /// <summary>
    /// Whether a section holds struct_ops variables: <c>.struct_ops</c>, <c>.struct_ops.link</c> and other
    /// <c>.struct_ops.*</c> names, each optionally prefixed with libbpf's <c>?</c> (not created by default).
    /// </summary>
    public static bool IsStructOpsSection(string sectionName)
    {
        string n = sectionName.StartsWith("?", StringComparison.Ordinal) ? sectionName.Substring(1) : sectionName;
        return n == StructOpsSection || n.StartsWith(StructOpsSection + ".", StringComparison.Ordinal);
    }

    private sealed partial class Parser
    {
        // ------------------------------------------------------------ struct_ops maps

        /// <summary>Each variable of a struct_ops section becomes a struct_ops map (libbpf's init_struct_ops_maps).</summary>
        private void CollectStructOpsMaps()
        {
            foreach (var sec in _elf.Sections)
            {
                if (_roles[sec.Index] != SectionRole.StructOps)
                    continue;
                _ct.ThrowIfCancellationRequested();
                string name = sec.Name;
                bool autocreate = true;
                if (name.StartsWith("?", StringComparison.Ordinal))
                {
                    autocreate = false;
                    name = name.Substring(1);
                }
                bool isLink = name == StructOpsLinkSection;
                if (_btf == null)
                    throw Error($"section '{sec.Name}' holds struct_ops variables, which need BTF (compile with clang -g)", (long)sec.Offset);
                int dsId = _btf.FindByName(sec.Name, BtfKind.Datasec);
                if (dsId < 0)
                    throw Error($"struct_ops section '{sec.Name}': DATASEC '{sec.Name}' is not in BTF", (long)sec.Offset);
                var ds = (BtfDatasec)_btf[dsId];
                bool noBits = sec.Type == ElfSectionType.NoBits;
                for (int i = 0; i < ds.Variables.Count; i++)
                {
                    var vi = ds.Variables[i];
                    if (_btf[vi.TypeId] is not BtfVar v)
                        throw Error($"struct_ops section '{sec.Name}': entry #{i} of its DATASEC is not a variable");
                    int typeId = _btf.SkipModifiersAndTypedefs(v.TypeId);
                    var t = _btf[typeId];
                    if (t.Name.Length == 0)
                        throw Error($"struct_ops variable '{v.Name}' in '{sec.Name}' has an anonymous type; struct_ops needs a named kernel struct (e.g. struct tcp_congestion_ops)");
                    if (t is not BtfStruct st)
                        throw Error($"struct_ops variable '{v.Name}' in '{sec.Name}': {t.Kind.ToLowerName()} '{t.Name}' is not a struct");
                    uint offset = vi.Offset;
                    if ((ds.Size == 0 || (offset == 0 && i > 0)) && TryFindSymbol(v.Name, sec.Index, out var sym))
                        offset = (uint)sym.Value;
                    if ((ulong)offset + (ulong)st.Size > sec.Size)
                        throw Error($"struct_ops variable '{v.Name}' ({st.Size} bytes at offset {offset}) lies beyond the end of section '{sec.Name}' ({sec.Size} bytes)");
                    var data = new byte[st.Size];
                    if (!noBits)
                        sec.Data.Span.Slice((int)offset, st.Size).CopyTo(data);
                    var spec = new StructOpsSpec(BtfSpec.EssentialName(t.Name), typeId, st.Size, isLink, data, StructOpsMembers(v.Name, st));
                    var map = new MapSpec(v.Name, MapOrigin.StructOps)
                    {
                        SectionName = name,
                        SectionIndex = sec.Index,
                        SectionOffset = offset,
                        SectionSize = (uint)st.Size,
                        Type = BpfMapType.StructOps,
                        KeySize = 4,
                        ValueSize = (uint)st.Size,
                        MaxEntries = 1,
                        Flags = isLink ? BpfMapFlags.Link : BpfMapFlags.None,
                        BtfValueTypeId = typeId,
                        BtfVarId = vi.TypeId,
                        StructOps = spec,
                        Autocreate = autocreate,
                    };
                    _maps.Add(map);
                }
            }
        }

        private List<StructOpsMemberSpec> StructOpsMembers(string varName, BtfStruct st)
        {
            var btf = _btf!;
            var members = new List<StructOpsMemberSpec>(st.Members.Count);
            for (int i = 0; i < st.Members.Count; i++)
            {
                var m = st.Members[i];
                if (m.Name.Length == 0)
                    throw Error($"struct_ops variable '{varName}': member #{i} of struct {st.Name} is anonymous, which struct_ops values cannot carry");
                bool bitfield = m.BitfieldSize != 0 || m.BitOffset % 8 != 0;
                int size = !bitfield && btf.TryResolveSize(m.TypeId, out long sz) ? (int)sz : 0;
                var kind = StructOpsMemberKind.Scalar;
                int resolved = btf.SkipModifiersAndTypedefs(m.TypeId);
                if (bitfield)
                    kind = StructOpsMemberKind.Bitfield;
                else if (btf[resolved] is BtfPointer p)
                    kind = btf.GetKind(btf.SkipModifiersAndTypedefs(p.TargetId)) == BtfKind.FuncProto ? StructOpsMemberKind.Function : StructOpsMemberKind.Pointer;
                members.Add(new StructOpsMemberSpec(m.Name, i, (int)(m.BitOffset / 8), size, m.TypeId, kind));
            }
            return members;
        }

        /// <summary>
        /// The relocations of a struct_ops section point function-pointer members at programs (libbpf's
        /// bpf_object__collect_st_ops_relos); each program then records the member it implements.
        /// </summary>
        private void CollectStructOpsRelocations()
        {
            foreach (var rs in _elf.RelocationSections)
            {
                var target = rs.Target;
                if (_roles[target.Index] != SectionRole.StructOps)
                    continue;
                foreach (var rel in rs.Relocations)
                {
                    if (rel.SymbolIndex >= (uint)_elf.Symbols.Count)
                        throw Error($"struct_ops section '{target.Name}': relocation at offset {rel.Offset} refers to symbol #{rel.SymbolIndex}, which does not exist");
                    var sym = _elf.Symbols[(int)rel.SymbolIndex];
                    MapSpec? map = null;
                    foreach (var m in _maps)
                    {
                        if (m.StructOps != null && m.SectionIndex == target.Index && m.SectionOffset <= rel.Offset && rel.Offset - m.SectionOffset < m.SectionSize)
                        {
                            map = m;
                            break;
                        }
                    }
                    if (map == null)
                        throw Error($"struct_ops section '{target.Name}': relocation at offset {rel.Offset} (to '{sym.Name}') is outside every struct_ops variable");
                    var ops = map.StructOps!;
                    int moff = (int)(rel.Offset - map.SectionOffset);
                    StructOpsMemberSpec? member = null;
                    foreach (var mm in ops.Members)
                        if (mm.Kind != StructOpsMemberKind.Bitfield && mm.Offset == moff) { member = mm; break; }
                    if (member == null)
                        throw Error($"struct_ops map '{map.Name}': relocation at offset {moff} of struct {ops.TypeName} (to '{sym.Name}') does not start a member");
                    if (member.Kind != StructOpsMemberKind.Function)
                        throw Error($"struct_ops map '{map.Name}': member '{member.Name}' of struct {ops.TypeName} is not a function pointer, but the object points it to '{sym.Name}'");
                    if (sym.SectionIndex == 0 || sym.SectionIndex >= ElfSectionIndex.LoReserve)
                        throw Error($"struct_ops map '{map.Name}': member '{member.Name}' points to '{sym.Name}', which is not a function defined in this object");
                    if (sym.Value % 8 != 0)
                        throw Error($"struct_ops map '{map.Name}': member '{member.Name}' points to '{sym.Name}' at offset {sym.Value}, not an instruction boundary");
                    int insn = (int)(sym.Value / 8);
                    ProgramSpec? prog = null;
                    foreach (var p in _programs)
                    {
                        if (p.Function.SectionIndex == sym.SectionIndex && p.Function.ContainsSectionInstruction(insn))
                        {
                            prog = p;
                            break;
                        }
                    }
                    if (prog == null)
                        throw Error($"struct_ops map '{map.Name}': member '{member.Name}' points to '{sym.Name}', which is not a program (struct_ops callbacks must be SEC(\"struct_ops/...\") programs)");
                    if (prog.ProgramType != BpfProgramType.StructOps)
                        throw Error($"struct_ops map '{map.Name}': member '{member.Name}' points to program '{prog.Name}' in SEC(\"{prog.SectionName}\"), which is not a struct_ops program (use SEC(\"struct_ops/{prog.Name}\"))");
                    member.ProgramName = prog.Name;
                }
            }
            // Each program implements one member of one struct, whichever maps point to it.
            foreach (var map in _maps)
            {
                var ops = map.StructOps;
                if (ops == null) continue;
                foreach (var member in ops.Members)
                {
                    if (member.ProgramName == null) continue;
                    ProgramSpec? prog = null;
                    foreach (var p in _programs)
                        if (p.Name == member.ProgramName) { prog = p; break; }
                    if (prog == null) continue;
                    if (prog.StructOps == null)
                    {
                        prog.StructOps = new StructOpsBinding(ops.TypeName, member.Name, member.Index);
                    }
                    else if (prog.StructOps.TypeName != ops.TypeName || prog.StructOps.MemberName != member.Name)
                    {
                        throw Error($"struct_ops program '{prog.Name}' is used as {prog.StructOps} and, by map '{map.Name}', as {ops.TypeName}.{member.Name}; " +
                            "a struct_ops program implements one member of one struct (write one program per callback)");
                    }
                }
            }
        }
    }
}
