using System;
using System.Collections.Generic;
using System.Threading;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Generator.Model;
using Ebpf.Objects;

namespace Ebpf.Generator.Parser;

/// <summary>
/// Object bytes → <see cref="SkeletonModel"/> and diagnostics. Roslyn-free: the generator and
/// <c>dotnet ebpf gen skeleton</c> share it. Never throws for bad input (only <see cref="OperationCanceledException"/>).
/// </summary>
internal static class SkeletonModelBuilder
{
    /// <summary>Skeleton members that nested types and section classes must not take.</summary>
    private static readonly string[] SkeletonMembers =
    {
        "Maps", "Programs", "Links", "Object", "ObjectName", "ResourceName", "Open", "Load", "Attach", "Detach", "Dispose",
        "MapsCollection", "ProgramsCollection", "LinksCollection", "IsLoaded", "AssertLayout", "Equals", "GetHashCode",
        "ToString", "GetType", "MemberwiseClone", "Finalize", "StructOps", "StructOpsCollection",
    };

    /// <summary>Members of a generated struct_ops class that its value's members must not take.</summary>
    private static readonly string[] StructOpsClassMembers =
    {
        "StructOps", "Map", "Attach", "AutoAttach", "IsRegistered", "Link", "Equals", "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize",
    };

    public static SkeletonResult Build(SkeletonOptions options, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        try
        {
            var model = BuildCore(options, bytes, diagnostics, cancellationToken);
            return new SkeletonResult(model, diagnostics.ToImmutableEquatableArray());
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            // The generator must never throw into the compiler: anything unexpected becomes EBPF017.
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.InternalError, options.ItemPath, options.ItemPath, e.GetType().Name + ": " + e.Message));
            return new SkeletonResult(null, diagnostics.ToImmutableEquatableArray());
        }
    }

    /// <summary>Classifies bad input the way the diagnostics need it, before the object layer sees it.</summary>
    private static DiagnosticInfo? CheckHeader(string path, ReadOnlySpan<byte> data)
    {
        if (data.Length < 4 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
            return DiagnosticInfo.Create(DiagnosticKind.NotElf, path, path, data.Length < 4 ? $"the file is {data.Length} bytes long" : "it does not start with the ELF magic \\x7fELF");
        if (data.Length >= 20)
        {
            bool le = data[5] != 2;
            int machine = le ? data[18] | (data[19] << 8) : (data[18] << 8) | data[19];
            if (machine != 247)
                return DiagnosticInfo.Create(DiagnosticKind.NotBpf, path, path, $"its ELF machine is {MachineName(machine)} ({machine}), not BPF (247): compile it with clang -target bpf");
        }
        return null;
    }

    private static string MachineName(int machine) => machine switch
    {
        3 => "x86",
        40 => "ARM",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        22 => "s390",
        21 => "PowerPC64",
        _ => "machine " + machine.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static SkeletonModel? BuildCore(SkeletonOptions options, ReadOnlyMemory<byte> bytes, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        string path = options.ItemPath;
        var header = CheckHeader(path, bytes.Span);
        if (header is not null)
        {
            diagnostics.Add(header);
            return null;
        }

        BpfObjectSpec spec;
        try
        {
            spec = BpfObjectSpec.Parse(bytes, options.ObjectName, ct);
        }
        catch (BpfFormatException e)
        {
            var kind = e is BpfObjectFormatException && e.Reason.IndexOf("not a BPF object", StringComparison.Ordinal) >= 0 ? DiagnosticKind.NotBpf : DiagnosticKind.Corrupt;
            diagnostics.Add(DiagnosticInfo.Create(kind, path, path, e.Message));
            return null;
        }

        if (spec.License is null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NoLicense, path, path));
        CheckHardcodedOffsets(spec, path, diagnostics, ct);

        // Without BTF the skeleton is untyped, as bpftool makes it: maps as plain BpfMaps, programs by section, no
        // global variables or C types (EBPF004 says how to get them).
        var btf = spec.Btf;
        if (btf is null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NoBtf, path, path));
        bool bigEndian = !spec.Elf.IsLittleEndian;

        string? ns = options.Namespace;
        string fq = "global::" + (ns is null ? options.ClassName : ns + "." + options.ClassName);

        // Declaration space of the skeleton class: its members, section classes and nested types.
        var typeNames = new NameScope { ReserveInlineArrayNames = true };
        typeNames.Reserve(options.ClassName, "the skeleton class");
        foreach (var m in SkeletonMembers)
            typeNames.Reserve(m, "a member of the skeleton");

        // Sections with exposed (non-static) variables: property + class names come first.
        var sectionMaps = new List<(MapSpec Map, string Property, string Class)>();
        foreach (var m in spec.Maps)
        {
            if (!m.IsInternal) continue;
            bool any = false;
            foreach (var v in m.Variables)
                if (!v.IsStatic && v.BtfTypeId != 0) { any = true; break; }
            if (!any) continue;
            string proposed = CSharpNames.ToPascalCase(m.SectionName);
            string prop = typeNames.Allocate(proposed, "section " + m.SectionName, out var c1);
            if (c1 is not null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, path, "Section", m.SectionName, proposed, c1, prop));
            string cls = typeNames.Allocate(prop + "Section", "the class of section " + m.SectionName, out _);
            sectionMaps.Add((m, prop, cls));
        }

        var types = btf is null ? null : new TypeModelBuilder(btf, fq, typeNames, bigEndian, path, diagnostics, ct);

        // Maps.
        var mapNames = new NameScope();
        mapNames.Reserve("MapsCollection", "the collection class");
        var maps = new List<MapModel>();
        foreach (var m in spec.Maps)
        {
            ct.ThrowIfCancellationRequested();
            if (m.Origin == MapOrigin.InnerTemplate) continue;
            string proposed = CSharpNames.ToPascalCase(m.IsInternal ? m.SectionName : m.Name);
            string prop = mapNames.Allocate(proposed, "map " + m.Name, out var collision, CSharpNames.Alternatives(m.IsInternal ? m.SectionName : m.Name, proposed));
            if (collision is not null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, path, "Map", m.Name, proposed, collision, prop));
            maps.Add(BuildMap(m, prop, types, path, diagnostics));
        }

        // Programs.
        var progNames = new NameScope();
        progNames.Reserve("ProgramsCollection", "the collection class");
        progNames.Reserve("LinksCollection", "the collection class");
        foreach (var m in spec.Maps)
        {
            if (m.StructOps is not null)
            {
                progNames.Reserve(StructOpsModel.ProgramLookupMethod, "the struct_ops program lookup");
                break;
            }
        }
        progNames.Reserve("Find", "a method of the links collection");
        progNames.Reserve("FindStructOps", "a method of the links collection");
        var programs = new List<ProgramModel>();
        foreach (var p in spec.Programs)
        {
            ct.ThrowIfCancellationRequested();
            string proposed = CSharpNames.ToPascalCase(p.Name);
            string prop = progNames.Allocate(proposed, "program " + p.Name, out var collision, CSharpNames.Alternatives(p.Name, proposed));
            if (collision is not null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, path, "Program", p.Name, proposed, collision, prop));
            if (p.Section is null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.UnknownSection, path, p.Name, p.SectionName));
            var attach = p.Section?.AttachKind ?? AutoAttachKind.None;
            programs.Add(new ProgramModel(p.Name, prop, ProgramWrapper(p.Section?.ProgramKind ?? ProgramKind.None),
                ProgramLink(p.Section?.ProgramKind ?? ProgramKind.None), p.SectionName,
                p.ProgramType.ToString(), attach.ToString(), p.Autoload, p.Section?.IsAutoAttachable ?? false));
        }

        // struct_ops maps: a class each, their links next to the programs' in LinksCollection.
        var structOps = new List<StructOpsModel>();
        var structOpsProps = new NameScope();
        structOpsProps.Reserve("StructOpsCollection", "the collection class");
        foreach (var m in spec.Maps)
        {
            ct.ThrowIfCancellationRequested();
            if (m.StructOps is { } ops && types is not null)
                structOps.Add(BuildStructOps(m, ops, spec, types, typeNames, structOpsProps, progNames, path, diagnostics));
        }

        // Global data sections.
        var sections = new List<DataSectionModel>();
        foreach (var (m, prop, cls) in sectionMaps)
        {
            var names = new NameScope();
            names.Reserve(cls, "the section class");
            names.Reserve("Section", "the section property");
            var vars = new List<VariableModel>();
            foreach (var v in m.Variables)
            {
                ct.ThrowIfCancellationRequested();
                if (v.IsStatic || v.BtfTypeId == 0) continue;
                string proposed = CSharpNames.ToPascalCase(v.Name);
                string vprop = names.Allocate(proposed, "variable " + v.Name, out var collision, CSharpNames.Alternatives(v.Name, proposed));
                if (collision is not null)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, path, "Variable", v.Name, proposed, collision, vprop));
                if (types is null) continue;
                var type = types.Resolve(v.BtfTypeId, proposed);
                if (type.Size == 0) continue;
                vars.Add(new VariableModel(v.Name, vprop, (int)v.Offset, type));
            }
            var access = m.Origin switch
            {
                MapOrigin.Rodata => SectionAccess.ReadOnlyAfterLoad,
                MapOrigin.Kconfig => SectionAccess.ReadOnly,
                _ => SectionAccess.ReadWrite,
            };
            sections.Add(new DataSectionModel(m.SectionName, prop, cls, access, (int)m.ValueSize, vars.ToImmutableEquatableArray()));
        }

        // Extra types named in metadata (the ring-buffer event struct, ...).
        foreach (var name in options.ExtraTypes)
        {
            ct.ThrowIfCancellationRequested();
            int id = types?.FindNamedType(name) ?? 0;
            if (id == 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.UnknownType, path, name, "the Types metadata", path));
                continue;
            }
            types!.Resolve(id, CSharpNames.ToPascalCase(name));
        }

        types?.Complete();

        return new SkeletonModel(path, ns, options.ClassName, spec.Name, options.ResourceName, spec.License, bigEndian,
            maps.ToImmutableEquatableArray(), programs.ToImmutableEquatableArray(), sections.ToImmutableEquatableArray(),
            (types?.Types ?? System.Array.Empty<TypeModel>()).ToImmutableEquatableArray(),
            (types?.InlineArrayLengths ?? System.Array.Empty<int>()).ToImmutableEquatableArray(),
            structOps.ToImmutableEquatableArray());
    }

    private static StructOpsModel BuildStructOps(MapSpec m, StructOpsSpec ops, BpfObjectSpec spec, TypeModelBuilder types, NameScope typeNames,
        NameScope props, NameScope linkNames, string path, List<DiagnosticInfo> diagnostics)
    {
        string proposed = CSharpNames.ToPascalCase(m.Name);
        string prop = props.Allocate(proposed, "struct_ops map " + m.Name, out var collision, CSharpNames.Alternatives(m.Name, proposed));
        if (collision is not null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, path, "Map", m.Name, proposed, collision, prop));
        string cls = typeNames.Allocate(prop + "StructOps", "the class of struct_ops map " + m.Name, out _);
        string link = linkNames.Allocate(prop, "the link of struct_ops map " + m.Name, out var linkCollision, CSharpNames.Alternatives(m.Name, prop));
        if (linkCollision is not null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, path, "Map", m.Name, prop, linkCollision, link));

        var names = new NameScope();
        names.Reserve(cls, "the struct_ops class");
        foreach (var r in StructOpsClassMembers)
            names.Reserve(r, "a member of the struct_ops class");
        var members = new List<StructOpsMemberModel>();
        foreach (var member in ops.Members)
        {
            if (member.Kind is StructOpsMemberKind.Pointer or StructOpsMemberKind.Bitfield)
                continue;
            string mp = CSharpNames.ToPascalCase(member.Name);
            string mprop = names.Allocate(mp, "member " + member.Name, out var mc, CSharpNames.Alternatives(member.Name, mp));
            if (mc is not null)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NameCollision, path, "Variable", member.Name, mp, mc, mprop));
            if (member.Kind == StructOpsMemberKind.Function)
            {
                members.Add(new StructOpsMemberModel(member.Name, mprop, StructOpsMemberModelKind.Program, null,
                    "callback " + member.Name, member.Offset, member.ProgramName));
                continue;
            }
            var type = types.Resolve(member.BtfTypeId, mprop);
            if (type.Size == 0 || type.Size != member.Size) continue;
            var kind = type.IsCharArray ? StructOpsMemberModelKind.String : StructOpsMemberModelKind.Value;
            members.Add(new StructOpsMemberModel(member.Name, mprop, kind, type, CSharpNames.Declaration(type.CName, member.Name), member.Offset, null));
        }
        return new StructOpsModel(m.Name, prop, cls, link, ops.TypeName, m.SectionName, ops.IsLink, m.Autocreate, members.ToImmutableEquatableArray());
    }

    private static MapModel BuildMap(MapSpec m, string prop, TypeModelBuilder? types, string path, List<DiagnosticInfo> diagnostics)
    {
        bool perCpu = m.Type is BpfMapType.PercpuHash or BpfMapType.LruPercpuHash or BpfMapType.PercpuArray or BpfMapType.PercpuCgroupStorage;
        // struct_ops maps are exposed through StructOps, typed member by member.
        bool typed = !m.IsInternal && m.StructOps is null;
        TypeRef? key = types is not null && m.BtfKeyTypeId != 0 && typed ? types.Resolve(m.BtfKeyTypeId, prop + "Key") : null;
        TypeRef? value = types is not null && m.BtfValueTypeId != 0 && typed ? types.Resolve(m.BtfValueTypeId, prop + "Value") : null;
        if (key is { Size: 0 }) key = null;
        if (value is { Size: 0 }) value = null;

        var wrapper = MapWrapper.Raw;
        if (typed)
        {
            wrapper = m.Type switch
            {
                BpfMapType.Hash or BpfMapType.LruHash => MapWrapper.Hash,
                BpfMapType.PercpuHash or BpfMapType.LruPercpuHash => MapWrapper.PerCpuHash,
                BpfMapType.Array => MapWrapper.Array,
                BpfMapType.PercpuArray => MapWrapper.PerCpuArray,
                BpfMapType.LpmTrie => MapWrapper.LpmTrie,
                BpfMapType.Queue => MapWrapper.Queue,
                BpfMapType.Stack => MapWrapper.Stack,
                BpfMapType.BloomFilter => MapWrapper.BloomFilter,
                BpfMapType.StackTrace => MapWrapper.StackTrace,
                BpfMapType.ProgArray => MapWrapper.ProgramArray,
                BpfMapType.ArrayOfMaps => MapWrapper.ArrayOfMaps,
                BpfMapType.HashOfMaps => MapWrapper.HashOfMaps,
                BpfMapType.PerfEventArray => MapWrapper.PerfEventArray,
                BpfMapType.Ringbuf => MapWrapper.RingBuffer,
                _ => MapWrapper.Raw,
            };
            bool needsKey = wrapper is MapWrapper.Hash or MapWrapper.PerCpuHash or MapWrapper.LpmTrie or MapWrapper.HashOfMaps;
            bool needsValue = wrapper is MapWrapper.Hash or MapWrapper.PerCpuHash or MapWrapper.Array or MapWrapper.PerCpuArray
                or MapWrapper.LpmTrie or MapWrapper.Queue or MapWrapper.Stack or MapWrapper.BloomFilter;
            if ((needsKey && key is null) || (needsValue && value is null))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.MapWithoutBtfTypes, path, m.Name, m.Type.ToString(),
                    m.KeySize.ToString(System.Globalization.CultureInfo.InvariantCulture), m.ValueSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                wrapper = MapWrapper.Raw;
            }
        }
        return new MapModel(m.Name, prop, wrapper, m.Type.ToString(), perCpu, m.IsInternal, m.IsInternal ? m.SectionName : null,
            (int)m.KeySize, (int)m.ValueSize, (int)m.MaxEntries, key, value);
    }

    /// <summary>
    /// The runtime's program wrapper of a program kind: each kind but None is a wrapper class named after it
    /// (<c>KprobeProgram</c>, <c>TcProgram</c>, ...). Which kind a section makes is the section table's decision.
    /// </summary>
    internal static string ProgramWrapper(ProgramKind kind) => kind == ProgramKind.None ? "BpfProgram" : kind + "Program";

    /// <summary>
    /// The runtime's link type of a kind (what its wrapper's attach methods return, in its file under
    /// src/Ebpf.Runtime/Links); BpfLink where a kind's attach can give more than one type (tc: a tcx link or a clsact
    /// filter; uprobe: a uprobe or uprobe.multi link; perf events: one link per CPU) or none (syscall, struct_ops
    /// programs, whose struct_ops maps are registered instead).
    /// </summary>
    internal static string ProgramLink(ProgramKind kind) => kind switch
    {
        ProgramKind.Kprobe => "KprobeLink",
        ProgramKind.KprobeMulti => "KprobeMultiLink",
        ProgramKind.Usdt => "UsdtLink",
        ProgramKind.Tracepoint => "TracepointLink",
        ProgramKind.RawTracepoint => "RawTracepointLink",
        ProgramKind.Tracing or ProgramKind.Lsm => "TracingLink",
        ProgramKind.Iterator => "IteratorLink",
        ProgramKind.Xdp => "XdpLink",
        ProgramKind.Netkit => "NetkitLink",
        ProgramKind.Cgroup => "CgroupLink",
        ProgramKind.SocketFilter => "SocketFilterAttachment",
        ProgramKind.SkLookup or ProgramKind.FlowDissector => "NetNsLink",
        _ => "BpfLink",
    };

    /// <summary>
    /// EBPF009: helpers that read kernel memory (bpf_probe_read_kernel, bpf_probe_read, bpf_get_current_task, ...) in
    /// an object with no CO-RE relocation at all: whatever it reads, it reads at offsets fixed at compile time.
    /// </summary>
    private static void CheckHardcodedOffsets(BpfObjectSpec spec, string path, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        if (spec.BtfExt is { } ext)
        {
            foreach (var sec in ext.CoreRelos)
                if (sec.Records.Count > 0) return;
        }
        foreach (var f in spec.Functions)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var insn in f.Instructions)
            {
                if (!insn.IsHelperCall) continue;
                string? helper = (BpfHelper)insn.Immediate switch
                {
                    BpfHelper.ProbeReadKernel => "bpf_probe_read_kernel",
                    BpfHelper.ProbeReadKernelStr => "bpf_probe_read_kernel_str",
                    BpfHelper.ProbeRead => "bpf_probe_read",
                    _ => null,
                };
                if (helper is null) continue;
                string program = f.Name;
                foreach (var p in spec.Programs)
                    if (p.Function == f) { program = p.Name; break; }
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticKind.NoCoreRelocations, path, path, helper, program));
                return;
            }
        }
    }
}
