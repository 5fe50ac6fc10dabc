using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Ebpf.Btf;
using Ebpf.Elf;
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
/// a uprobe is attached at the site with the spec's index as BPF cookie (bpf_usdt_arg() reads it back). On kernels
/// without BPF cookies (before 5.15) the program finds the spec by the probe's address instead, as libbpf arranges
/// it: each site's absolute address in the traced process goes into __bpf_usdt_ip_to_spec_id.
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
        foreach (var (section, data) in elf.NoteSections(".note.stapsdt"))
        {
            List<ElfNote> notes;
            try
            {
                notes = ElfFile.DecodeNotes(data, littleEndian: true, section.AddressAlign == 8 ? 8 : 4);
            }
            catch (ElfFormatException e)
            {
                throw new BpfException($"'{elf.Path}': malformed .note.stapsdt: {e.Reason}", e);
            }
            foreach (var note in notes)
            {
                if (note.Type != NT_STAPSDT || note.Name != "stapsdt" || note.DescriptorSize < 3 * 8 + 3)
                    continue;
                // The stapsdt descriptor: the probe's address, the link-time address of .stapsdt.base, the semaphore's
                // address (0: none), then provider, name and argument strings.
                var desc = data.AsSpan(note.DescriptorOffset, note.DescriptorSize);
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

    /// <summary>
    /// The address a site runs at, the key of __bpf_usdt_ip_to_spec_id (kernels without BPF cookies): in an
    /// executable (ET_EXEC) its link-time address; in a shared object or position-independent executable (ET_DYN)
    /// the address of the file offset in the mapping of <paramref name="path"/> in process <paramref name="pid"/>
    /// (libbpf reads /proc/PID/maps the same way), so one process is needed.
    /// </summary>
    public static ulong AbsoluteAddress(UsdtNote note, bool executable, string path, int pid, IReadOnlyList<MappedSegment>? maps, string probe)
    {
        if (executable)
            return note.Address;
        if (maps == null)
            throw new BpfNotSupportedException("BPF cookies", "5.15",
                $"USDT probe {probe} in '{path}' (a shared object or position-independent executable) can only be attached for one process " +
                "on this kernel: without BPF cookies the probe's spec is found by its run-time address, which depends on where a process maps the file; pass a pid");
        foreach (var seg in maps)
        {
            if (seg.Executable && note.FileOffset >= seg.Offset && note.FileOffset - seg.Offset < seg.End - seg.Start)
                return seg.Start - seg.Offset + note.FileOffset;
        }
        throw new BpfException($"USDT probe {probe}: '{path}' has no executable mapping covering file offset 0x{note.FileOffset:x} in process {pid} (/proc/{pid}/maps); is the library loaded there?");
    }

    /// <summary>One line of /proc/PID/maps.</summary>
    internal readonly struct MappedSegment
    {
        public MappedSegment(ulong start, ulong end, ulong offset, bool executable)
        {
            Start = start; End = end; Offset = offset; Executable = executable;
        }
        public ulong Start { get; }
        public ulong End { get; }
        public ulong Offset { get; }
        public bool Executable { get; }
    }

    /// <summary>The mappings of <paramref name="path"/> in process <paramref name="pid"/> ("/proc/PID/root/..." paths and symbolic links resolved).</summary>
    public static List<MappedSegment> ReadMappings(Syscalls sys, int pid, string path)
    {
        string file = $"/proc/{pid}/maps";
        string text = sys.ReadTextFile(file, out int errno)
            ?? throw new BpfEnvironmentException($"cannot read {file} ({Errno.Name(errno)}): {(errno == Errno.ENOENT ? $"process {pid} does not exist" : "it is needed to find where the USDT probe's library is mapped")}");
        string rootPrefix = $"/proc/{pid}/root";
        string wanted = path.StartsWith(rootPrefix + "/", StringComparison.Ordinal) ? path.Substring(rootPrefix.Length) : path;
        string real = RealPath(path);
        var result = new List<MappedSegment>();
        foreach (var raw in text.Split('\n'))
        {
            // start-end perms offset dev inode path
            var f = raw.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6) continue;
            string mapped = f[5].Trim();
            if (mapped != wanted && mapped != path && mapped != real && RealPath(rootPrefix + mapped) != real) continue;
            int dash = f[0].IndexOf('-');
            if (dash <= 0
                || !ulong.TryParse(f[0].AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(f[0].AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong end)
                || !ulong.TryParse(f[2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong offset)
                || end <= start || f[1].Length < 3)
                continue;
            result.Add(new MappedSegment(start, end, offset, f[1][2] == 'x'));
        }
        return result;
    }

    /// <summary>The path with every symbolic link resolved (as realpath(3)); the path itself when it cannot be.</summary>
    private static string RealPath(string path)
    {
        try
        {
            var parts = new List<string>(System.IO.Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries));
            string cur = "/";
            for (int i = 0, hops = 0; i < parts.Count; i++)
            {
                string next = System.IO.Path.Combine(cur, parts[i]);
                var target = new System.IO.FileInfo(next).LinkTarget;
                if (target == null)
                {
                    cur = next;
                    continue;
                }
                if (++hops > 40) return path; // a loop
                string resolved = System.IO.Path.GetFullPath(target, cur);
                parts.RemoveRange(0, i + 1);
                parts.InsertRange(0, resolved.Split('/', StringSplitOptions.RemoveEmptyEntries));
                cur = "/";
                i = -1;
            }
            return cur;
        }
        catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException or ArgumentException)
        {
            return path;
        }
    }

    /// <summary>Removes the sites' addresses from __bpf_usdt_ip_to_spec_id (a map already closed has nothing to remove).</summary>
    public static unsafe void ForgetAddresses(BpfMap? ipToSpecId, IReadOnlyList<ulong> addresses)
    {
        if (ipToSpecId == null || !ipToSpecId.IsLoaded) return;
        foreach (ulong a in addresses)
        {
            ulong key = a;
            ipToSpecId.Delete(new ReadOnlySpan<byte>(&key, 8));
        }
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
    private readonly BpfMap? _ipToSpecId;
    private readonly ulong[] _addresses;

    internal UsdtLink(BpfProgram program, IReadOnlyList<BpfLink> links, string target, BpfMap specs, int[] specIds, BpfMap? ipToSpecId, ulong[] addresses,
        string binaryPath, string provider, string name)
        : base(program, links, target)
    {
        _specs = specs;
        _specIds = specIds;
        _ipToSpecId = ipToSpecId;
        _addresses = addresses;
        BinaryPath = binaryPath;
        Provider = provider;
        Name = name;
    }

    /// <summary>The resolved path of the binary or library whose .note.stapsdt notes define the probe.</summary>
    public string BinaryPath { get; }
    /// <summary>The probe's provider, the first name of DTRACE_PROBE/STAP_PROBE ("libc", "python").</summary>
    public string Provider { get; }
    /// <summary>The probe's name within its provider ("setjmp", "function__entry").</summary>
    public string Name { get; }
    /// <summary>Number of call sites of the probe (one uprobe each).</summary>
    public int SiteCount => Links.Count;
    /// <summary>
    /// True when the sites find their argument specs by address (__bpf_usdt_ip_to_spec_id) because the kernel has no
    /// BPF cookies (before 5.15); false when each uprobe carries its spec id as cookie.
    /// </summary>
    public bool UsesAddressMap => _ipToSpecId != null;

    private protected override void ReleaseGroup()
    {
        Usdt.ForgetAddresses(_ipToSpecId, _addresses);
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
        // Without BPF cookies (before 5.15) usdt.bpf.h looks the spec id up by the probe's address (LINUX_HAS_BPF_COOKIE
        // is false in its .kconfig, so the verifier never sees bpf_get_attach_cookie()).
        BpfMap? ipToSpecId = null;
        if (!KernelFeatures.For(Syscalls).BpfCookie
            && (!obj.TryGetMap("__bpf_usdt_ip_to_spec_id", out ipToSpecId) || !ipToSpecId.IsLoaded))
            throw new BpfNotSupportedException("BPF cookies", "5.15",
                $"program '{Name}': without them a USDT program finds its argument specs by address in the __bpf_usdt_ip_to_spec_id map, which object '{obj.Name}' does not have (built with an old usdt.bpf.h?)");
        string path = BinaryResolver.Resolve(binary, pid);
        List<UsdtNote> notes;
        UsdtArguments argumentSyntax;
        bool executable;
        var elf = ElfBinary.Open(path);
        try
        {
            argumentSyntax = UsdtArguments.For(elf.Machine, path);
            executable = elf.FileType == Ebpf.Elf.ElfFileType.Executable; // sites run at their link-time addresses
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
        var addresses = new List<ulong>();
        var specIdByArgs = new Dictionary<string, int>(StringComparer.Ordinal);
        string probe = $"{provider}:{name}";
        var maps = ipToSpecId != null && !executable && pid >= 0 ? Usdt.ReadMappings(Syscalls, pid, path) : null;
        try
        {
            foreach (var note in notes)
            {
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
                ulong cookieValue = (ulong)id;
                if (ipToSpecId != null)
                {
                    ulong ip = Usdt.AbsoluteAddress(note, executable, path, pid, maps, probe);
                    uint value = (uint)id;
                    try
                    {
                        ipToSpecId.Update(new ReadOnlySpan<byte>(&ip, 8), new ReadOnlySpan<byte>(&value, 4), BpfMapUpdateFlags.NoExist);
                    }
                    catch (BpfSyscallException e) when (e.Errno == Errno.EEXIST)
                    {
                        throw new BpfException($"USDT probe {probe}: address 0x{ip:x} of '{path}' is already attached through map '{ipToSpecId.Name}' " +
                            "(without BPF cookies, before Linux 5.15, an address carries one USDT spec per object: detach the other attachment first)", e);
                    }
                    addresses.Add(ip);
                    cookieValue = 0;
                }
                links.Add(AttachUprobeAt(path, probe, note.FileOffset, pid, false, cookieValue, note.SemaphoreOffset, ProbeAttachMode.Default));
            }
        }
        catch
        {
            for (int i = links.Count - 1; i >= 0; i--) links[i].Dispose();
            Usdt.ForgetAddresses(ipToSpecId, addresses);
            foreach (int id in ids) Usdt.FreeSpecId(specs, id);
            throw;
        }
        return new UsdtLink(this, links, $"usdt {path}:{provider}:{name} ({links.Count} site{(links.Count == 1 ? "" : "s")}){(pid >= 0 ? $" for pid {pid}" : "")}",
            specs, ids.ToArray(), ipToSpecId, addresses.ToArray(), path, provider, name);
    }
}

/// <summary>A SEC("usdt/...") program written with libbpf's usdt.bpf.h (bpf_usdt_arg, bpf_usdt_cookie).</summary>
public sealed class UsdtProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a USDT program (SEC("usdt/binary:provider:name"), SEC("usdt")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
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
