using System;
using System.Collections.Generic;
using System.IO;
using Ebpf.Asm;
using Ebpf.Btf;
using Ebpf.Core;
using Ebpf.Elf;

namespace Ebpf.Objects.Tests.Core;

/// <summary>Shared helpers: locating the repository, loading objects and kernel BTF, building synthetic BTF.</summary>
internal static class CoreTestUtil
{
    private static readonly Lazy<string?> RepoRootLazy = new Lazy<string?>(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")) && Directory.Exists(Path.Combine(dir.FullName, "src", "Ebpf.Objects")))
                return dir.FullName;
            dir = dir.Parent;
        }
        return null;
    });

    public static string RepoRoot => RepoRootLazy.Value ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);

    public static string BpfDir => Path.Combine(RepoRoot, "bpf");

    public static string KernelBtfDir => Path.Combine(RepoRoot, "tests", "data", "btf");

    /// <summary>An ELF object with its .BTF and .BTF.ext parsed.</summary>
    public sealed class LoadedObject
    {
        public LoadedObject(string path, ElfFile elf, BtfSpec btf, BtfExt? ext)
        {
            Path = path;
            Elf = elf;
            Btf = btf;
            Ext = ext;
        }

        public string Path { get; }
        public ElfFile Elf { get; }
        public BtfSpec Btf { get; }
        public BtfExt? Ext { get; }
        public int CoreRecordCount
        {
            get
            {
                int n = 0;
                if (Ext != null)
                    foreach (var s in Ext.CoreRelos) n += s.Records.Count;
                return n;
            }
        }
    }

    public static LoadedObject? LoadObject(string path)
    {
        if (!File.Exists(path))
            Xunit.Assert.Skip($"{path} is missing (bpf/Makefile or Core/Data/build.sh builds it)");
        var elf = ElfFile.Parse(File.ReadAllBytes(path));
        var btfSec = elf.FindSection(".BTF");
        if (btfSec == null)
            return null;
        var btf = BtfSpec.Parse(btfSec.Data.ToArray());
        var extSec = elf.FindSection(".BTF.ext");
        var ext = extSec == null ? null : BtfExt.Parse(extSec.Data.Span, btf);
        return new LoadedObject(path, elf, btf, ext);
    }

    private static readonly Dictionary<string, CoreTargets> TargetCache = new Dictionary<string, CoreTargets>(StringComparer.Ordinal);

    /// <summary>A stored kernel's BTF (tests/data/btf/NAME.btf.gz) as a CO-RE target, labelled "vmlinux NAME".</summary>
    public static CoreTargets StoredKernel(string gzPath)
    {
        if (!File.Exists(gzPath))
            Xunit.Assert.Skip($"stored kernel BTF {gzPath} is missing (see tests/data/btf/README.md)");
        lock (TargetCache)
        {
            if (TargetCache.TryGetValue(gzPath, out var t))
                return t;
            var spec = BtfSource.Parse(File.ReadAllBytes(gzPath));
            string name = Path.GetFileName(gzPath);
            name = name.Substring(0, name.Length - ".btf.gz".Length);
            t = new CoreTargets(spec, "vmlinux " + name);
            TargetCache.Add(gzPath, t);
            return t;
        }
    }

    public const string RunningKernelBtf = "/sys/kernel/btf/vmlinux";

    /// <summary>The running kernel (vmlinux plus every module BTF, read lazily), or null when it has no BTF.</summary>
    public static CoreTargets? RunningKernel()
    {
        lock (TargetCache)
        {
            if (TargetCache.TryGetValue(RunningKernelBtf, out var t))
                return t;
            if (!File.Exists(RunningKernelBtf))
                return null;
            byte[] data;
            try
            {
                data = File.ReadAllBytes(RunningKernelBtf);
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
            var vmlinux = BtfSpec.Parse(data);
            var modules = new List<CoreModuleBtf>();
            var files = Directory.GetFiles(Path.GetDirectoryName(RunningKernelBtf)!);
            Array.Sort(files, StringComparer.Ordinal);
            foreach (var f in files)
            {
                string name = Path.GetFileName(f);
                if (name == "vmlinux")
                    continue;
                string path = f;
                modules.Add(new CoreModuleBtf(name, () => BtfSpec.Parse(File.ReadAllBytes(path), vmlinux)));
            }
            t = new CoreTargets(vmlinux, "vmlinux " + Environment.OSVersion.Version + " (running kernel)", modules);
            TargetCache.Add(RunningKernelBtf, t);
            return t;
        }
    }

    // ------------------------------------------------------------------ synthetic objects

    public static BtfCoreRelo Relo(BtfSpec local, int insnIndex, int typeId, string access, CoreReloKind kind)
    {
        int off = FindString(local, access);
        return new BtfCoreRelo((uint)(insnIndex * 8), typeId, (uint)off, kind);
    }

    /// <summary>Offset of a string in a spec's string section (the builder adds every name it is given).</summary>
    public static int FindString(BtfSpec spec, string s)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(s);
        var strings = spec.OwnStrings;
        int pos = 0;
        while (pos < strings.Length)
        {
            int end = strings.Slice(pos).IndexOf((byte)0);
            if (end < 0) break;
            if (strings.Slice(pos, end).SequenceEqual(bytes))
                return spec.FirstStringOffset + pos;
            pos += end + 1;
        }
        throw new InvalidOperationException($"string '{s}' is not in the BTF (add it with BtfBuilder.AddString)");
    }

    public static BpfInstruction AluMovImm(int dst, int imm) => new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, dst, 0, 0, imm);

    public static BpfInstruction AluAddImm(int dst, int imm) => new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpAdd | BpfOpCodes.SourceK, dst, 0, 0, imm);

    public static BpfInstruction Ldx(byte size, int dst, int src, short off) => new BpfInstruction((byte)(BpfOpCodes.ClassLdx | BpfOpCodes.ModeMem | size), dst, src, off, 0);

    public static BpfInstruction[] LdImm64(int dst, ulong value) => new[]
    {
        new BpfInstruction(BpfOpCodes.LdImm64, dst, 0, 0, unchecked((int)(uint)value)),
        new BpfInstruction(0, 0, 0, 0, unchecked((int)(uint)(value >> 32))),
    };

    public static BpfInstruction Exit() => new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0);

    /// <summary>Resolves a relocation with a fresh cache.</summary>
    public static CoreResolution Resolve(BtfSpec local, int typeId, string access, CoreReloKind kind, BtfSpec target, string label = "vmlinux test") =>
        CoreResolver.Resolve(local, typeId, access, kind, new CoreCandidateCache(new CoreTargets(target, label)));
}
