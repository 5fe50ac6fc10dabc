using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Text.Json;
using Ebpf.Btf;
using Ebpf.Objects;

namespace Ebpf.Cli.Commands.Object;

/// <summary>
/// <c>object info OBJ [--json]</c>: what an object holds, read offline: license, kernel version, maps, programs,
/// data sections with their variables, externs.
/// </summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("OBJ") { Description = "A BPF object file (clang -target bpf); .gz is decompressed." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of tables." };
        var cmd = new Command("info", "Show what a BPF object holds: license, kernel version, maps, programs, data sections and their variables.")
        {
            file, json,
        };
        cmd.SetAction(parse => CliAction.Run(parse, stdout =>
        {
            string path = parse.GetValue(file)!;
            var spec = ObjectFiles.Read(path);
            if (parse.GetValue(json))
                WriteJson(stdout, path, spec);
            else
                WriteText(stdout, path, spec);
            return 0;
        }));
        return cmd;
    }

    // ------------------------------------------------------------------ text

    internal static void WriteText(TextWriter o, string path, BpfObjectSpec spec)
    {
        o.Write($"{path}: BPF object '{spec.Name}' ({(spec.Elf.IsLittleEndian ? "little" : "big")}-endian)\n");
        var head = new TextTable("", "");
        head.Add("license", spec.License is null ? "none (no license section)" : spec.License + (spec.IsGplCompatible ? " (GPL-compatible)" : " (not GPL-compatible)"));
        head.Add("kernel version", spec.KernelVersion == 0 ? "none" : $"{KernelNames.KernelVersion(spec.KernelVersion)} (0x{spec.KernelVersion:x})");
        head.Add("BTF", spec.Btf is null ? "none (built without -g)" : $"{spec.Btf.TypeCount - spec.Btf.FirstTypeId} types");
        head.Add("CO-RE relocations", ObjectFiles.CoreRelocationCount(spec).ToString(CultureInfo.InvariantCulture));
        WriteKeyValues(o, head);

        o.Write($"\nmaps ({spec.Maps.Count}):\n");
        if (spec.Maps.Count > 0)
        {
            var maps = new TextTable("NAME", "TYPE", "KEY", "VALUE", "MAX_ENTRIES", "FLAGS", "PINNING", "SECTION")
                .AlignRight(2).AlignRight(3).AlignRight(4);
            foreach (var m in spec.Maps)
            {
                maps.Add(m.Name, KernelNames.Of(m.Type), Num(m.KeySize), Num(m.ValueSize), Num(m.MaxEntries), KernelNames.MapFlags(m.Flags),
                    KernelNames.Of(m.Pinning), m.SectionName);
                if (m.InnerMap is { } inner)
                    maps.Detail($"inner map: {KernelNames.Of(inner.Type)}, key {inner.KeySize}, value {inner.ValueSize}, max_entries {inner.MaxEntries}" +
                        (inner.Flags != 0 ? $", flags {KernelNames.MapFlags(inner.Flags)}" : string.Empty));
                if (m.InitialSlots.Count > 0)
                {
                    var slots = new List<string>();
                    foreach (var s in m.InitialSlots)
                        slots.Add($"[{s.Index}] = {(s.IsProgram ? "program" : "map")} {s.TargetName}");
                    maps.Detail("initial slots: " + string.Join(", ", slots));
                }
            }
            maps.Write(o, "  ");
        }

        o.Write($"\nprograms ({spec.Programs.Count}):\n");
        if (spec.Programs.Count > 0)
        {
            var progs = new TextTable("NAME", "SECTION", "TYPE", "ATTACH_TYPE", "INSNS").AlignRight(4);
            foreach (var p in spec.Programs)
            {
                progs.Add(p.Name, p.Function.SectionName, ProgramType(p), p.ExpectedAttachType is { } eat ? KernelNames.Of(eat) : "-",
                    Num((uint)p.Function.InstructionCount));
                if (!p.Autoload)
                    progs.Detail("autoload off (SEC(\"?...\")): not loaded unless enabled");
                if (p.StructOps is { } binding)
                    progs.Detail($"implements {binding.TypeName}.{binding.MemberName}");
                else if (p.ProgramType == BpfProgramType.StructOps)
                    progs.Detail("no struct_ops map points to it: it cannot be loaded");
            }
            progs.Write(o, "  ");
        }

        var structOps = StructOpsMaps(spec);
        if (structOps.Count > 0)
        {
            o.Write($"\nstruct_ops ({structOps.Count}):\n");
            foreach (var m in structOps)
            {
                var ops = m.StructOps!;
                o.Write($"  {m.Name}: struct {ops.TypeName}, {ops.Size} bytes, {m.SectionName} ({(ops.IsLink ? "registered through a bpf_link, BPF_F_LINK" : "registered by map update")})" +
                    (m.Autocreate ? string.Empty : ", not created by default (SEC(\"?...\"))") + "\n");
                var members = new TextTable("MEMBER", "OFFSET", "SIZE", "KIND", "VALUE").AlignRight(1).AlignRight(2);
                foreach (var mem in ops.Members)
                    members.Add(mem.Name, Num((uint)mem.Offset), mem.Kind == StructOpsMemberKind.Bitfield ? "-" : Num((uint)mem.Size), StructOpsKind(mem.Kind), StructOpsValue(spec, ops, mem));
                members.Write(o, "    ");
            }
        }

        var sections = DataSections(spec);
        o.Write($"\ndata sections ({sections.Count}):\n");
        foreach (var m in sections)
        {
            o.Write($"  {m.SectionName}: map {m.Name}, {m.ValueSize} bytes, {DataSectionKind(m)}\n");
            if (m.Variables.Count == 0)
            {
                o.Write("    (no variables)\n");
                continue;
            }
            var vars = new TextTable("OFFSET", "SIZE", "NAME", "TYPE").AlignRight(0).AlignRight(1);
            foreach (var v in m.Variables)
                vars.Add(Num(v.Offset), Num(v.Size), v.IsStatic ? v.Name + " (static)" : v.Name, VariableType(spec, v) ?? "?");
            vars.Write(o, "    ");
        }

        if (spec.Externs.Count > 0)
        {
            o.Write($"\nexterns ({spec.Externs.Count}):\n");
            var ext = new TextTable("NAME", "KIND", "DETAILS");
            foreach (var e in spec.Externs)
                ext.Add(e.Name, e.Kind == ExternKind.Kconfig ? "kconfig" : "ksym", ExternDetails(e));
            ext.Write(o, "  ");
        }
    }

    /// <summary>Two-column "key  value" lines (a table without a header).</summary>
    private static void WriteKeyValues(TextWriter o, TextTable table)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        table.Write(sw, "  ");
        // Drop the (empty) header line.
        string text = sw.ToString();
        int nl = text.IndexOf('\n');
        o.Write(text.Substring(nl + 1));
    }

    private static string Num(uint v) => v.ToString(CultureInfo.InvariantCulture);

    private static string ProgramType(ProgramSpec p) =>
        p.ProgramType == BpfProgramType.Unspec ? "unknown (section not known to libbpf)" : KernelNames.Of(p.ProgramType);

    private static string DataSectionKind(MapSpec m) => m.Origin switch
    {
        MapOrigin.Rodata => "read-only",
        MapOrigin.Bss => "zero-initialised",
        MapOrigin.Kconfig => "kernel config values",
        _ => "read-write",
    };

    private static string ExternDetails(ExternSpec e)
    {
        var parts = new List<string>();
        if (e.Kind == ExternKind.Kconfig)
        {
            parts.Add(e.KconfigKind.ToString().ToLowerInvariant());
            parts.Add($"{e.Size} byte{(e.Size == 1 ? "" : "s")} at offset {e.KconfigOffset}");
        }
        else if (e.IsFunction)
        {
            parts.Add("kfunc");
        }
        else
        {
            parts.Add(e.KsymTypeId != 0 ? "typed variable" : "address");
        }
        if (e.IsWeak)
            parts.Add("weak");
        return string.Join(", ", parts);
    }

    internal static List<MapSpec> StructOpsMaps(BpfObjectSpec spec)
    {
        var list = new List<MapSpec>();
        foreach (var m in spec.Maps)
            if (m.StructOps != null) list.Add(m);
        return list;
    }

    private static string StructOpsKind(StructOpsMemberKind kind) => kind switch
    {
        StructOpsMemberKind.Function => "callback",
        StructOpsMemberKind.Pointer => "pointer",
        StructOpsMemberKind.Bitfield => "bitfield",
        _ => "data",
    };

    /// <summary>A member's initial value: the program a callback points to, a string for char arrays, else hex bytes.</summary>
    internal static string StructOpsValue(BpfObjectSpec spec, StructOpsSpec ops, StructOpsMemberSpec m)
    {
        if (m.Kind == StructOpsMemberKind.Function)
            return m.ProgramName ?? "NULL";
        if (m.Kind == StructOpsMemberKind.Bitfield || m.Size <= 0)
            return "-";
        var bytes = ops.Data.Span.Slice(m.Offset, m.Size);
        bool zero = true;
        foreach (byte b in bytes)
            if (b != 0) { zero = false; break; }
        if (m.Kind == StructOpsMemberKind.Pointer)
            return zero ? "NULL" : "0x" + Convert.ToHexString(bytes.ToArray()).ToLowerInvariant();
        if (spec.Btf is { } btf && btf[btf.SkipModifiersAndTypedefs(m.BtfTypeId)] is BtfArray arr
            && btf[btf.SkipModifiersAndTypedefs(arr.ElementTypeId)] is BtfInt { Size: 1 })
        {
            int n = bytes.IndexOf((byte)0);
            return "\"" + System.Text.Encoding.UTF8.GetString(n < 0 ? bytes.ToArray() : bytes.Slice(0, n).ToArray()) + "\"";
        }
        if (zero)
            return "0";
        if (m.Size is 1 or 2 or 4 or 8)
        {
            ulong v = 0;
            for (int i = m.Size - 1; i >= 0; i--)
                v = (v << 8) | bytes[spec.Elf.IsLittleEndian ? i : m.Size - 1 - i];
            return v.ToString(CultureInfo.InvariantCulture) + " (0x" + v.ToString("x", CultureInfo.InvariantCulture) + ")";
        }
        return "0x" + Convert.ToHexString(bytes.ToArray()).ToLowerInvariant();
    }

    internal static List<MapSpec> DataSections(BpfObjectSpec spec)
    {
        var list = new List<MapSpec>();
        foreach (var m in spec.Maps)
            if (m.IsInternal) list.Add(m);
        return list;
    }

    /// <summary>The variable's C type ("const volatile __u32", "char[8]", "struct stats"), or null without BTF.</summary>
    internal static string? VariableType(BpfObjectSpec spec, VariableSpec v)
    {
        if (spec.Btf is null || v.BtfTypeId <= 0)
            return null;
        try
        {
            return BtfCDump.FormatDeclaration(spec.Btf, v.BtfTypeId);
        }
        catch (BpfFormatException)
        {
            return spec.Btf.Describe(v.BtfTypeId);
        }
    }

    // ------------------------------------------------------------------ JSON

    internal static void WriteJson(TextWriter o, string path, BpfObjectSpec spec) => JsonOutput.WriteLine(o, w =>
    {
        w.WriteStartObject();
        w.WriteString("file", path);
        w.WriteString("object", spec.Name);
        w.StringOrNull("license", spec.License);
        w.WriteNumber("kernel_version", spec.KernelVersion);
        w.WriteString("byte_order", spec.Elf.IsLittleEndian ? "little" : "big");
        w.WriteBoolean("btf", spec.Btf != null);
        w.WriteNumber("core_relocations", ObjectFiles.CoreRelocationCount(spec));

        w.WriteStartArray("maps");
        foreach (var m in spec.Maps)
        {
            w.WriteStartObject();
            WriteMapFields(w, m);
            w.WriteString("pinning", KernelNames.Of(m.Pinning));
            if (m.InnerMap is { } inner)
            {
                w.WriteStartObject("inner_map");
                WriteMapFields(w, inner);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("inner_map");
            }
            w.WriteString("section", m.SectionName);
            w.WriteString("origin", KernelNames.Of(m.Origin));
            if (m.StructOps is { } ops)
            {
                w.WriteStartObject("struct_ops");
                w.WriteString("type", ops.TypeName);
                w.WriteBoolean("link", ops.IsLink);
                w.WriteBoolean("autocreate", m.Autocreate);
                w.WriteStartArray("members");
                foreach (var mem in ops.Members)
                {
                    w.WriteStartObject();
                    w.WriteString("name", mem.Name);
                    w.WriteString("kind", StructOpsKind(mem.Kind));
                    w.WriteNumber("offset", mem.Offset);
                    w.WriteNumber("size", mem.Size);
                    if (mem.Kind == StructOpsMemberKind.Function)
                        w.StringOrNull("program", mem.ProgramName);
                    else if (mem.Size > 0)
                        w.WriteString("bytes", Convert.ToHexString(ops.Data.Span.Slice(mem.Offset, mem.Size).ToArray()).ToLowerInvariant());
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteStartArray("initial_slots");
            foreach (var s in m.InitialSlots)
            {
                w.WriteStartObject();
                w.WriteNumber("index", s.Index);
                w.WriteString(s.IsProgram ? "program" : "map", s.TargetName);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("programs");
        foreach (var p in spec.Programs)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteString("section", p.Function.SectionName);
            w.StringOrNull("type", p.ProgramType == BpfProgramType.Unspec ? null : KernelNames.Of(p.ProgramType));
            w.StringOrNull("expected_attach_type", p.ExpectedAttachType is { } eat ? KernelNames.Of(eat) : null);
            w.WriteNumber("instructions", p.Function.InstructionCount);
            w.WriteBoolean("autoload", p.Autoload);
            w.StringOrNull("attach_target", p.Section is { HasTarget: true } sm ? sm.Target : null);
            if (p.ProgramType == BpfProgramType.StructOps)
                w.StringOrNull("struct_ops_member", p.StructOps?.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("data_sections");
        foreach (var m in DataSections(spec))
        {
            w.WriteStartObject();
            w.WriteString("name", m.SectionName);
            w.WriteString("map", m.Name);
            w.WriteNumber("size", m.ValueSize);
            w.WriteBoolean("read_only", m.IsReadOnly);
            w.WriteStartArray("variables");
            foreach (var v in m.Variables)
            {
                w.WriteStartObject();
                w.WriteString("name", v.Name);
                w.WriteNumber("offset", v.Offset);
                w.WriteNumber("size", v.Size);
                w.StringOrNull("type", VariableType(spec, v));
                w.WriteString("linkage", v.IsStatic ? "static" : v.Linkage == BtfVarLinkage.GlobalExtern ? "extern" : "global");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("externs");
        foreach (var e in spec.Externs)
        {
            w.WriteStartObject();
            w.WriteString("name", e.Name);
            w.WriteString("kind", e.Kind == ExternKind.Kconfig ? "kconfig" : "ksym");
            w.WriteBoolean("weak", e.IsWeak);
            w.WriteBoolean("function", e.IsFunction);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }, indented: true);

    private static void WriteMapFields(Utf8JsonWriter w, MapSpec m)
    {
        w.WriteString("name", m.Name);
        w.WriteString("type", KernelNames.Of(m.Type));
        w.WriteNumber("key_size", m.KeySize);
        w.WriteNumber("value_size", m.ValueSize);
        w.WriteNumber("max_entries", m.MaxEntries);
        w.WriteNumber("flags", (uint)m.Flags);
    }
}
