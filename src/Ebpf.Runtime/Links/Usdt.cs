using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;
using Ebpf.Btf;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>One USDT probe site read from a binary's .note.stapsdt.</summary>
internal sealed class UsdtNote
{
    public UsdtNote(string provider, string name, string arguments, ulong address, ulong fileOffset, ulong semaphoreOffset)
    {
        Provider = provider; Name = name; Arguments = arguments; Address = address; FileOffset = fileOffset; SemaphoreOffset = semaphoreOffset;
    }
    public string Provider { get; }
    public string Name { get; }
    /// <summary>The argument spec string, e.g. "-4@%edi 8@-16(%rbp)" (x86-64) or "-4@x1 8@[sp, 16]" (arm64).</summary>
    public string Arguments { get; }
    public ulong Address { get; }
    public ulong FileOffset { get; }
    public ulong SemaphoreOffset { get; }
}

/// <summary>
/// USDT support compatible with libbpf's usdt.bpf.h: probe sites come from SystemTap SDT notes, each site's
/// argument locations are encoded into a struct __bpf_usdt_spec written to the object's __bpf_usdt_specs map, and
/// a uprobe is attached at the site with the spec's index as BPF cookie (bpf_usdt_arg() reads it back).
/// </summary>
internal static class Usdt
{
    private const uint NT_STAPSDT = 3;
    private static readonly ConditionalWeakTable<BpfMap, bool[]> s_specIds = new ConditionalWeakTable<BpfMap, bool[]>();

    /// <summary>Every probe site in <paramref name="elf"/> (provider and name null: all).</summary>
    public static List<UsdtNote> ReadNotes(ElfBinary elf, string? provider, string? name)
    {
        var result = new List<UsdtNote>();
        ulong? baseAddr = elf.FindSection(".stapsdt.base")?.Address;
        foreach (var (_, data) in elf.NoteSections(".note.stapsdt"))
        {
            int off = 0;
            while (off + 12 <= data.Length)
            {
                uint namesz = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(off));
                uint descsz = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(off + 4));
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(off + 8));
                int nameAt = off + 12;
                int descAt = nameAt + Align4((int)namesz);
                int next = descAt + Align4((int)descsz);
                if (namesz > (uint)data.Length || descsz > (uint)data.Length || next > data.Length || next <= off)
                    throw new BpfException($"'{elf.Path}': malformed .note.stapsdt at offset {off}");
                off = next;
                if (type != NT_STAPSDT || namesz != 8 || Encoding.ASCII.GetString(data, nameAt, 7) != "stapsdt" || descsz < 3 * 8 + 3)
                    continue;
                var desc = data.AsSpan(descAt, (int)descsz);
                ulong pc = BinaryPrimitives.ReadUInt64LittleEndian(desc);
                ulong noteBase = BinaryPrimitives.ReadUInt64LittleEndian(desc.Slice(8));
                ulong sema = BinaryPrimitives.ReadUInt64LittleEndian(desc.Slice(16));
                int p = 24;
                string prov = ReadString(desc, ref p);
                string pname = ReadString(desc, ref p);
                string args = ReadString(desc, ref p);
                if ((provider != null && prov != provider) || (name != null && pname != name))
                    continue;
                ulong abs = pc;
                if (baseAddr.HasValue && noteBase != 0)
                    abs = pc + baseAddr.Value - noteBase;
                ulong fileOff = elf.VirtualAddressToFileOffset(abs)
                    ?? throw new BpfException($"'{elf.Path}': USDT probe {prov}:{pname} at 0x{abs:x} is outside every loadable segment");
                ulong semaOff = 0;
                if (sema != 0)
                {
                    if (baseAddr.HasValue && noteBase != 0) sema = sema + baseAddr.Value - noteBase;
                    semaOff = elf.VirtualAddressToFileOffset(sema)
                        ?? throw new BpfException($"'{elf.Path}': the semaphore of USDT probe {prov}:{pname} (0x{sema:x}) is outside every loadable segment");
                }
                result.Add(new UsdtNote(prov, pname, args, abs, fileOff, semaOff));
            }
        }
        return result;
    }

    private static int Align4(int n) => (n + 3) & ~3;

    private static string ReadString(ReadOnlySpan<byte> d, ref int p)
    {
        int start = p;
        while (p < d.Length && d[p] != 0) p++;
        string s = Encoding.UTF8.GetString(d.Slice(start, p - start));
        p++;
        return s;
    }

    /// <summary>Where the fields of struct __bpf_usdt_spec live in the object (from its BTF; libbpf 1.x layout without).</summary>
    internal sealed class SpecLayout
    {
        public int Size = 208, ArgsOffset = 0, ArgSize = 16, CookieOffset = 192, ArgCountOffset = 200;
        public (int Bit, int Bits) ValOff = (0, 64), ArgType = (64, 32), RegOff = (96, 16), ArgSigned = (112, 8), ArgBitshift = (120, 8);

        public static SpecLayout For(BpfObject obj, uint valueSize)
        {
            var layout = new SpecLayout { Size = (int)valueSize };
            var btf = obj.Spec.Btf;
            if (btf == null) return layout;
            int spec = btf.FindByName("__bpf_usdt_spec", BtfKind.Struct);
            int arg = btf.FindByName("__bpf_usdt_arg_spec", BtfKind.Struct);
            if (spec <= 0 || arg <= 0) return layout;
            layout.ArgSize = (int)btf.GetSizeOrType(arg);
            foreach (var (name, bit, _) in Members(btf, spec))
            {
                if (name == "args") layout.ArgsOffset = (int)(bit / 8);
                else if (name == "usdt_cookie") layout.CookieOffset = (int)(bit / 8);
                else if (name == "arg_cnt") layout.ArgCountOffset = (int)(bit / 8);
            }
            foreach (var (name, bit, bits) in Members(btf, arg))
            {
                switch (name)
                {
                    case "val_off": layout.ValOff = ((int)bit, bits == 0 ? 64 : (int)bits); break;
                    case "arg_type": layout.ArgType = ((int)bit, bits == 0 ? 32 : (int)bits); break;
                    case "reg_off": layout.RegOff = ((int)bit, bits == 0 ? 16 : (int)bits); break;
                    case "arg_signed": layout.ArgSigned = ((int)bit, bits == 0 ? 8 : (int)bits); break;
                    case "arg_bitshift": layout.ArgBitshift = ((int)bit, bits == 0 ? 8 : (int)bits); break;
                }
            }
            return layout;
        }

        private static IEnumerable<(string, uint, uint)> Members(BtfSpec btf, int id)
        {
            int n = btf.GetVlen(id);
            for (int i = 0; i < n; i++)
            {
                btf.GetMemberRaw(id, i, out int nameOff, out _, out _);
                yield return (btf.GetString(nameOff), btf.GetMemberBitOffset(id, i), btf.GetMemberBitfieldSize(id, i));
            }
        }

        public byte[] Encode(UsdtArgSpec[] args, ulong cookie)
        {
            var b = new byte[Size];
            for (int i = 0; i < args.Length; i++)
            {
                int baseBit = (ArgsOffset + i * ArgSize) * 8;
                Put(b, baseBit + ValOff.Bit, ValOff.Bits, args[i].ValueOrOffset);
                Put(b, baseBit + ArgType.Bit, ArgType.Bits, (ulong)args[i].Type);
                Put(b, baseBit + RegOff.Bit, RegOff.Bits, (ulong)(ushort)args[i].RegisterOffset);
                Put(b, baseBit + ArgSigned.Bit, ArgSigned.Bits, args[i].Signed ? 1UL : 0UL);
                Put(b, baseBit + ArgBitshift.Bit, ArgBitshift.Bits, args[i].BitShift);
            }
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(CookieOffset), cookie);
            BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(ArgCountOffset), (short)args.Length);
            return b;
        }

        private static void Put(byte[] b, int bit, int bits, ulong value)
        {
            for (int i = 0; i < bits; i++)
            {
                int at = bit + i;
                if ((value >> i & 1) != 0) b[at / 8] |= (byte)(1 << (at % 8));
                else b[at / 8] &= (byte)~(1 << (at % 8));
            }
        }
    }

    /// <summary>Takes a free slot of the spec map (slots are shared by every USDT link on that map).</summary>
    public static int AllocateSpecId(BpfMap specs)
    {
        var used = s_specIds.GetValue(specs, m => new bool[m.MaxEntries]);
        lock (used)
        {
            for (int i = 0; i < used.Length; i++)
            {
                if (!used[i])
                {
                    used[i] = true;
                    return i;
                }
            }
        }
        throw new BpfException($"all {used.Length} USDT spec slots of map '{specs.Name}' are in use (BPF_USDT_MAX_SPEC_CNT)");
    }

    public static void FreeSpecId(BpfMap specs, int id)
    {
        if (!s_specIds.TryGetValue(specs, out var used)) return;
        lock (used)
        {
            if ((uint)id < (uint)used.Length) used[id] = false;
        }
    }
}

/// <summary>A USDT probe attached at each of its call sites (one uprobe each), with the argument specs it installed.</summary>
public sealed class UsdtLink : LinkGroup
{
    private readonly BpfMap _specs;
    private readonly int[] _specIds;

    internal UsdtLink(BpfProgram program, IReadOnlyList<BpfLink> links, string target, BpfMap specs, int[] specIds, string binaryPath, string provider, string name)
        : base(program, links, target)
    {
        _specs = specs;
        _specIds = specIds;
        BinaryPath = binaryPath;
        Provider = provider;
        Name = name;
    }

    public string BinaryPath { get; }
    public string Provider { get; }
    public string Name { get; }
    /// <summary>Number of call sites of the probe (one uprobe each).</summary>
    public int SiteCount => Links.Count;

    private protected override void ReleaseGroup()
    {
        foreach (int id in _specIds)
            Usdt.FreeSpecId(_specs, id);
    }
}

public partial class BpfProgram
{
    /// <summary>Attaches a USDT program (usdt.bpf.h) to every site of probe <paramref name="provider"/>:<paramref name="name"/> in <paramref name="binary"/>.</summary>
    internal unsafe UsdtLink AttachUsdt(string binary, string provider, string name, int pid, ulong cookie)
    {
        RequireType("a USDT probe", BpfProgramType.Kprobe);
        if (string.IsNullOrEmpty(provider)) throw new ArgumentException("the USDT provider is empty", nameof(provider));
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("the USDT probe name is empty", nameof(name));
        var obj = Object ?? throw new InvalidOperationException($"program '{Name}' has no object: USDT programs need the object's __bpf_usdt_specs map");
        if (!obj.TryGetMap("__bpf_usdt_specs", out var specs) || !specs.IsLoaded)
            throw new InvalidOperationException($"program '{Name}': object '{obj.Name}' has no __bpf_usdt_specs map; USDT programs must be built with <bpf/usdt.bpf.h>");
        if (!KernelFeatures.For(Syscalls).BpfCookie)
            throw new BpfNotSupportedException("USDT probes without BPF cookies", "5.15", $"program '{Name}': this runtime passes the USDT spec as a BPF cookie");
        string path = BinaryResolver.Resolve(binary, pid);
        List<UsdtNote> notes;
        UsdtArguments argumentSyntax;
        var elf = ElfBinary.Open(path);
        try
        {
            argumentSyntax = UsdtArguments.For(elf.Machine, path);
            notes = Usdt.ReadNotes(elf, provider, name);
            if (notes.Count == 0)
            {
                var all = Usdt.ReadNotes(elf, null, null);
                var names = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var n in all) names.Add(n.Provider + ":" + n.Name);
                throw new BpfException($"'{path}' has no USDT probe {provider}:{name}" +
                    (names.Count == 0 ? " (it has no .note.stapsdt section at all)" : $" (it has {string.Join(", ", names)})"));
            }
        }
        finally
        {
            elf.Close();
        }
        var layout = Usdt.SpecLayout.For(obj, specs.ValueSize);
        var links = new List<BpfLink>();
        var ids = new List<int>();
        var specIdByArgs = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            foreach (var note in notes)
            {
                string probe = $"{provider}:{name}";
                if (!specIdByArgs.TryGetValue(note.Arguments, out int id))
                {
                    var args = argumentSyntax.Parse(note.Arguments, probe);
                    id = Usdt.AllocateSpecId(specs);
                    ids.Add(id);
                    var bytes = layout.Encode(args, cookie);
                    int key = id;
                    specs.Update(new ReadOnlySpan<byte>(&key, 4), bytes);
                    specIdByArgs[note.Arguments] = id;
                }
                links.Add(AttachUprobeAt(path, $"{provider}:{name}", note.FileOffset, pid, false, (ulong)id, note.SemaphoreOffset, ProbeAttachMode.Default));
            }
        }
        catch
        {
            for (int i = links.Count - 1; i >= 0; i--) links[i].Dispose();
            foreach (int id in ids) Usdt.FreeSpecId(specs, id);
            throw;
        }
        return new UsdtLink(this, links, $"usdt {path}:{provider}:{name} ({links.Count} site{(links.Count == 1 ? "" : "s")}){(pid >= 0 ? $" for pid {pid}" : "")}",
            specs, ids.ToArray(), path, provider, name);
    }
}

/// <summary>A SEC("usdt/...") program written with libbpf's usdt.bpf.h (bpf_usdt_arg, bpf_usdt_cookie).</summary>
public sealed class UsdtProgram : TypedProgram
{
    public UsdtProgram(BpfProgram program)
        : base(program, ProgramKind.Usdt, "a USDT program (SEC(\"usdt/binary:provider:name\"))", "use UsdtProgram.Attach(binary, provider, name)") { }

    /// <summary>Attaches to the probe the section names ("usdt//usr/bin/python3:python:function__entry").</summary>
    public UsdtLink Attach(int pid = -1, ulong cookie = 0)
    {
        var target = SectionTarget();
        return Program.AttachUsdt(target.BinaryPath!, target.Provider!, target.Name!, pid, cookie);
    }

    internal override BpfLink AttachBySection() => Attach();

    /// <summary>Attaches to every site of USDT probe <paramref name="provider"/>:<paramref name="name"/> in <paramref name="binary"/>; <paramref name="cookie"/> is what bpf_usdt_cookie() returns.</summary>
    public UsdtLink Attach(string binary, string provider, string name, int pid = -1, ulong cookie = 0) =>
        Program.AttachUsdt(binary, provider, name, pid, cookie);
}
