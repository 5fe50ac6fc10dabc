using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Elf;
using Ebpf.Objects;

namespace Ebpf.Fuzz;

/// <summary>
/// The fuzz targets of the object layer: each takes untrusted bytes and drives one reader (and everything built on
/// it) the way the generator and the loader do. The only exceptions a target may let escape are the typed format
/// exceptions (<see cref="BpfFormatException"/> and its subclasses) and <see cref="BpfCoreRelocationException"/>;
/// anything else is a bug. Shared by the AFL++ harness (tests/Ebpf.Fuzz) and the regression and mutation tests
/// (tests/Ebpf.Objects.Tests), which compile this file in.
/// </summary>
public static class ObjectFuzzTargets
{
    /// <summary>ELF reader and object model: sections, symbols, relocations, maps, programs, externs, the linker, BTF fix-ups.</summary>
    public const string Object = "object";

    /// <summary>Raw BTF (a .BTF section or a kernel BTF file): every type, the raw and C dumps, layouts, sanitizer, rewriter, and CO-RE against it as the target.</summary>
    public const string Btf = "btf";

    /// <summary>A .BTF.ext section, spliced into a fixed object: func/line info, CO-RE records, the linker and the relocator.</summary>
    public const string BtfExt = "btfext";

    /// <summary>A whole object, CO-RE-relocated against a fixed kernel BTF (Debian 6.1) the way the loader does, then linked.</summary>
    public const string Core = "core";

    public static readonly IReadOnlyList<string> All = new[] { Object, Btf, BtfExt, Core };

    /// <summary>True for the exceptions a target is allowed to throw on bad input.</summary>
    public static bool IsExpected(Exception e) => e is BpfFormatException || e is BpfCoreRelocationException;

    /// <summary>Runs one target on one input.</summary>
    public static void Run(string target, byte[] data)
    {
        switch (target)
        {
            case Object: RunObject(data); break;
            case Btf: RunBtf(data); break;
            case BtfExt: RunBtfExt(data); break;
            case Core: RunCore(data); break;
            default: throw new ArgumentException($"unknown fuzz target '{target}' (known: {string.Join(", ", All)})", nameof(target));
        }
    }

    // ------------------------------------------------------------------ fixtures

    /// <summary>Repository root (a directory with bpf/Makefile and Skeletons.sln), from EBPF_REPO_ROOT or above the binary.</summary>
    public static string RepoRoot => s_root.Value;

    private static readonly Lazy<string> s_root = new Lazy<string>(() =>
    {
        var env = Environment.GetEnvironmentVariable("EBPF_REPO_ROOT");
        if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "Skeletons.sln")))
            return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "bpf", "Makefile")) && File.Exists(Path.Combine(dir.FullName, "Skeletons.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("cannot find the repository root; set EBPF_REPO_ROOT");
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The committed Debian 6.1 kernel BTF: the CO-RE target of the core and btfext targets.</summary>
    public static BtfSpec KernelBtf => s_kernel.Value;

    private static readonly Lazy<BtfSpec> s_kernel = new Lazy<BtfSpec>(() =>
    {
        return BtfSource.Parse(File.ReadAllBytes(Path.Combine(RepoRoot, "tests", "data", "btf", "6.1.0-56-amd64.btf.gz")));
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<CoreTargets> s_kernelTargets = new Lazy<CoreTargets>(() => new CoreTargets(KernelBtf, "vmlinux 6.1.0-56-amd64"));

    /// <summary>The object whose .BTF.ext the btfext target replaces, and which the btf target relocates against the fuzzed BTF.</summary>
    public const string HostObject = "bpf/core_types.bpf.o";

    private static readonly Lazy<byte[]> s_host = new Lazy<byte[]>(() => File.ReadAllBytes(Path.Combine(RepoRoot, HostObject)));
    private static readonly Lazy<BpfObjectSpec> s_hostSpec = new Lazy<BpfObjectSpec>(() => BpfObjectSpec.Parse(s_host.Value, "host"));

    /// <summary>Loads every fixture now, so that a fuzzer's first execution does not pay for it.</summary>
    public static void Warm()
    {
        _ = KernelBtf;
        _ = s_kernelTargets.Value;
        _ = s_hostSpec.Value;
    }

    // ------------------------------------------------------------------ object

    private static void RunObject(byte[] data)
    {
        var spec = BpfObjectSpec.Parse(data, "fuzz");
        TouchSpec(spec);
        foreach (var p in spec.Programs)
            TouchLinked(ProgramLinker.Link(spec, p));
        if (spec.Btf != null)
            RunKernelBtfPreparation(spec);
    }

    private static void TouchSpec(BpfObjectSpec spec)
    {
        long sink = 0;
        foreach (var m in spec.Maps)
        {
            sink += m.Name.Length + m.KeySize + m.ValueSize + m.MaxEntries + m.InitialSlots.Count + m.Variables.Count;
            if (m.InitialData is { } d)
            {
                sink += d.Length;
                // The loader copies the initial data into a buffer of the value size.
                if (d.Length > m.ValueSize)
                    throw new InvalidOperationException($"map '{m.Name}': {d.Length} bytes of initial data for a {m.ValueSize}-byte value");
            }
            if (m.IsInternal && m.ValueSize > BpfObjectSpec.MaxDataSectionSize)
                throw new InvalidOperationException($"map '{m.Name}': a {m.ValueSize}-byte data section was accepted");
            if (m.InnerMap != null) sink += m.InnerMap.ValueSize;
            _ = m.ToString();
        }
        foreach (var f in spec.Functions)
        {
            sink += f.InstructionCount + f.References.Count + f.CoreRelocations.Count + f.FuncInfos.Count + f.LineInfos.Count;
            _ = f.ToString();
        }
        foreach (var p in spec.Programs)
            _ = p.ToString();
        var kconfig = spec.FindDataMap(".kconfig");
        foreach (var e in spec.Externs)
        {
            sink += e.Size + e.KconfigOffset + e.Name.Length;
            // The loader writes each .kconfig extern at its offset in the .kconfig map's value.
            if (e.Kind == ExternKind.Kconfig && (kconfig == null || e.KconfigOffset < 0 || e.Size <= 0 || (long)e.KconfigOffset + e.Size > kconfig.ValueSize))
                throw new InvalidOperationException($"extern '{e.Name}' ({e.Size} bytes at {e.KconfigOffset}) lies outside the .kconfig map");
        }
        GC.KeepAlive(sink);
    }

    private static void TouchLinked(LinkedProgram lp)
    {
        long sink = lp.Instructions.Length + lp.FuncInfos.Count + lp.LineInfos.Count + lp.References.Count + lp.Layout.Count;
        GC.KeepAlive(sink);
    }

    /// <summary>What the loader does to an object's BTF before BPF_BTF_LOAD: DATASEC fix-ups, then sanitizing for old kernels.</summary>
    private static void RunKernelBtfPreparation(BpfObjectSpec spec)
    {
        var btf = spec.Btf!;
        var elf = spec.Elf;
        byte[] fixedBytes = BtfSanitizer.FixupDatasecs(btf,
            name => elf.FindSection(name) is { } s ? (uint?)s.Size : null,
            name =>
            {
                foreach (var s in elf.Symbols)
                    if (s.Name == name && s.Type == ElfSymbolType.Object && !s.IsUndefined) return (uint)s.Value;
                return null;
            });
        var fixedSpec = Reparse(fixedBytes, "FixupDatasecs");
        foreach (var features in new[] { BtfFeatures.None, BtfFeatures.Func, BtfFeatures.Func | BtfFeatures.Datasec, BtfFeatures.All & ~BtfFeatures.Enum64 })
        {
            if (BtfSanitizer.NeedsSanitizing(fixedSpec, features))
                Reparse(BtfSanitizer.Sanitize(fixedSpec, features), $"Sanitize({features})");
        }
    }

    /// <summary>BTF we produced ourselves from a spec that parsed must parse again: a failure there is a bug, not bad input.</summary>
    private static BtfSpec Reparse(byte[] bytes, string producer)
    {
        try
        {
            return BtfSpec.Parse(bytes);
        }
        catch (BtfFormatException e)
        {
            throw new InvalidOperationException($"{producer} produced BTF that does not parse: {e.Message}", e);
        }
    }

    // ------------------------------------------------------------------ btf

    private static void RunBtf(byte[] data)
    {
        var spec = BtfSpec.Parse(data);
        TouchBtf(spec);
        BtfRawDump.WriteRaw(spec, TextWriter.Null);
        BtfCDump.WriteC(spec, TextWriter.Null);
        for (int id = 1; id < spec.TypeCount; id++)
        {
            if (spec.IsComposite(spec.SkipModifiersAndTypedefs(id)))
                GC.KeepAlive(BtfLayout.Of(spec, id));
        }
        GC.KeepAlive(BtfLayout.Find(spec, "task_struct"));
        GC.KeepAlive(BtfLayout.Diff(spec, s_hostSpec.Value.Btf!, null));

        // What the loader and generator produce from it must read back.
        var rw = new BtfRewriter(spec);
        Reparse(rw.Build(), "BtfRewriter");
        foreach (var features in new[] { BtfFeatures.None, BtfFeatures.Func | BtfFeatures.Datasec })
        {
            if (BtfSanitizer.NeedsSanitizing(spec, features))
                Reparse(BtfSanitizer.Sanitize(spec, features), $"Sanitize({features})");
        }
        Reparse(BtfSanitizer.FixupDatasecs(spec, _ => 64, _ => 0), "FixupDatasecs");

        // The fuzzed BTF as the CO-RE target (BpfObjectOptions.TargetBtfPath is user input too).
        var host = s_hostSpec.Value;
        var report = CoreRelocator.RelocateObject(host.Elf, host.Btf!, host.BtfExt!, new CoreTargets(spec, "fuzzed"));
        GC.KeepAlive(report);
    }

    private static void TouchBtf(BtfSpec spec)
    {
        long sink = 0;
        for (int id = 0; id < spec.TypeCount; id++)
        {
            var t = spec[id];
            sink += t.ToString()!.Length;
            sink += spec.GetName(id).Length;
            if (spec.TryResolveSize(id, out long size)) sink += size;
            sink += spec.AlignmentOf(id);
            sink += spec.SkipModifiersAndTypedefs(id);
            sink += spec.Describe(id).Length;
        }
        foreach (var t in spec.Types)
            sink += t.Id;
        sink += spec.FindByName("int").Count;
        sink += spec.FindByName("task_struct", BtfKind.Struct);
        GC.KeepAlive(sink);
    }

    // ------------------------------------------------------------------ btfext

    private static void RunBtfExt(byte[] data)
    {
        var host = s_hostSpec.Value;
        // The reader alone, against the host's BTF...
        var ext = Ebpf.Btf.BtfExt.Parse(data, host.Btf!);
        GC.KeepAlive(CoreRelocator.RelocateObject(host.Elf, host.Btf!, ext, s_kernelTargets.Value));
        // ...and spliced into the host object, through the object model, the loader's CO-RE pass and the linker.
        var spliced = SpliceSection(s_host.Value, ".BTF.ext", data);
        RunCoreOn(BpfObjectSpec.Parse(spliced, "fuzz"));
    }

    /// <summary>
    /// A copy of an ELF object whose section <paramref name="name"/> holds <paramref name="contents"/>: the bytes are
    /// appended at the end (8-aligned) and the section header is pointed at them. Little-endian ELF64 only.
    /// </summary>
    public static byte[] SpliceSection(byte[] elf, string name, byte[] contents)
    {
        var parsed = ElfFile.Parse(elf);
        var sec = parsed.FindSection(name) ?? throw new ArgumentException($"no section '{name}'", nameof(name));
        int at = (elf.Length + 7) & ~7;
        var result = new byte[at + contents.Length];
        Buffer.BlockCopy(elf, 0, result, 0, elf.Length);
        Buffer.BlockCopy(contents, 0, result, at, contents.Length);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(result.AsSpan(40));
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(result.AsSpan(58));
        int hdr = checked((int)shoff + sec.Index * shentsize);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(hdr + 24), (ulong)at);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(hdr + 32), (ulong)contents.Length);
        return result;
    }

    // ------------------------------------------------------------------ core

    private static void RunCore(byte[] data)
    {
        var spec = BpfObjectSpec.Parse(data, "fuzz");
        RunCoreOn(spec);
        if (spec.Btf != null && spec.BtfExt != null)
            GC.KeepAlive(CoreRelocator.RelocateObject(spec.Elf, spec.Btf, spec.BtfExt, s_kernelTargets.Value));
    }

    /// <summary>The loader's CO-RE pass (record by record, per function, one candidate cache) and then the linker on the result.</summary>
    private static void RunCoreOn(BpfObjectSpec spec)
    {
        var relocated = new Dictionary<FunctionSpec, BpfInstruction[]>();
        if (spec.Btf != null && spec.BtfExt != null && spec.BtfExt.CoreRelos.Count > 0)
        {
            var cache = new CoreCandidateCache(s_kernelTargets.Value);
            var one = new CoreRelocationRecord[1];
            foreach (var sec in spec.BtfExt.CoreRelos)
            {
                var elfSec = spec.Elf.FindSection(sec.SectionName);
                if (elfSec == null) continue;
                for (int n = 0; n < sec.Records.Count; n++)
                {
                    var rec = sec.Records[n];
                    var f = spec.FindFunction(elfSec.Index, rec.InstructionIndex);
                    if (f == null) continue;
                    if (!relocated.TryGetValue(f, out var insns))
                        relocated[f] = insns = (BpfInstruction[])f.Instructions.Clone();
                    one[0] = new CoreRelocationRecord(n, rec);
                    foreach (var r in CoreRelocator.Apply(insns, f.SectionInstruction, f.SectionName, f.Name, one, spec.Btf, cache))
                        GC.KeepAlive(r.ToString());
                }
            }
        }
        foreach (var p in spec.Programs)
            TouchLinked(ProgramLinker.Link(spec, p, f => relocated.TryGetValue(f, out var i) ? i : f.Instructions));
    }
}
