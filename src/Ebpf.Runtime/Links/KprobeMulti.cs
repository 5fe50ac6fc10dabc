using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using Ebpf.Kernel;

namespace Ebpf;

// kprobe.multi, kretprobe.multi and kprobe.session links (BPF_TRACE_KPROBE_MULTI / BPF_TRACE_KPROBE_SESSION).

/// <summary>A SEC("kprobe.multi/...") / "kretprobe.multi/" / "kprobe.session/" program (Linux 5.18 with CONFIG_FPROBE).</summary>
public sealed class KprobeMultiProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be a kprobe.multi program (SEC("kprobe.multi/pattern"), SEC("kretprobe.multi/pattern")), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public KprobeMultiProgram(BpfProgram program)
        : base(program, ProgramKind.KprobeMulti, "a kprobe.multi program (SEC(\"kprobe.multi/pattern\"))", "use KprobeMultiProgram.Attach(pattern or symbols)") { }

    /// <summary>Attaches to the functions the section's pattern matches.</summary>
    public override KprobeMultiLink Attach() => Program.AttachKprobeMulti(SectionTarget().Pattern, null, null, null, SectionIsReturn);

    internal override BpfLink AttachBySection() => Attach();

    /// <summary>Attaches to every traceable function matching <paramref name="pattern"/> ("tcp_*", "vfs_rea?").</summary>
    public KprobeMultiLink Attach(string pattern, bool? returnProbe = null) =>
        Program.AttachKprobeMulti(pattern ?? throw new ArgumentNullException(nameof(pattern)), null, null, null, returnProbe ?? SectionIsReturn);

    /// <summary>Attaches to the named functions, each with an optional BPF cookie.</summary>
    public KprobeMultiLink Attach(IReadOnlyList<string> functions, IReadOnlyList<ulong>? cookies = null, bool? returnProbe = null) =>
        Program.AttachKprobeMulti(null, functions ?? throw new ArgumentNullException(nameof(functions)), null, cookies, returnProbe ?? SectionIsReturn);

    /// <summary>Attaches to functions by kernel address.</summary>
    public KprobeMultiLink AttachAddresses(IReadOnlyList<ulong> addresses, IReadOnlyList<ulong>? cookies = null, bool? returnProbe = null) =>
        Program.AttachKprobeMulti(null, null, addresses ?? throw new ArgumentNullException(nameof(addresses)), cookies, returnProbe ?? SectionIsReturn);
}

/// <summary>A kprobe.multi / kretprobe.multi / kprobe.session link: one program on many kernel functions (Linux 5.18).</summary>
public sealed class KprobeMultiLink : FdLink
{
    internal KprobeMultiLink(BpfProgram program, BpfHandle handle, string description, IReadOnlyList<string> functions, bool isReturn)
        : base(program, handle, description)
    {
        Functions = functions;
        IsReturnProbe = isReturn;
    }

    /// <summary>The functions attached to (empty when attached by address).</summary>
    public IReadOnlyList<string> Functions { get; }
    /// <summary>Whether the program runs when the functions return (kretprobe.multi) rather than at their entry (kprobe.multi, kprobe.session).</summary>
    public bool IsReturnProbe { get; }
}

public partial class BpfProgram
{
    /// <summary>
    /// Attaches a kprobe.multi program to every traceable kernel function matching <paramref name="pattern"/>
    /// (globs with * and ?, resolved through available_filter_functions), or to the given symbols or addresses.
    /// </summary>
    internal unsafe KprobeMultiLink AttachKprobeMulti(string? pattern, IReadOnlyList<string>? symbols, IReadOnlyList<ulong>? addresses, IReadOnlyList<ulong>? cookies, bool retprobe)
    {
        RequireType("a kprobe.multi link", BpfProgramType.Kprobe);
        int given = (pattern != null ? 1 : 0) + (symbols != null ? 1 : 0) + (addresses != null ? 1 : 0);
        if (given != 1) throw new ArgumentException("give exactly one of a pattern, a symbol list or an address list");
        var attachType = ExpectedAttachType is BpfAttachType.TraceKprobeMulti or BpfAttachType.TraceKprobeSession ? ExpectedAttachType.Value : BpfAttachType.TraceKprobeMulti;
        if (ExpectedAttachType != attachType)
            throw new InvalidOperationException($"program '{Name}' was not loaded for kprobe.multi links: set ExpectedAttachType = BpfAttachType.TraceKprobeMulti before Load(), or use SEC(\"kprobe.multi/...\")");
        string kind = attachType == BpfAttachType.TraceKprobeSession ? "kprobe.session" : retprobe ? "kretprobe.multi" : "kprobe.multi";
        string description;
        IReadOnlyList<string> names;
        if (pattern != null)
        {
            names = KernelSymbols.MatchTraceable(Syscalls, pattern, $"{kind} {pattern}");
            description = $"{kind} {pattern} ({names.Count} function{(names.Count == 1 ? "" : "s")})";
        }
        else if (symbols != null)
        {
            if (symbols.Count == 0) throw new ArgumentException("the symbol list is empty", nameof(symbols));
            names = symbols;
            description = $"{kind} {(symbols.Count <= 3 ? string.Join(",", symbols) : symbols[0] + ",... (" + symbols.Count + " functions)")}";
        }
        else
        {
            if (addresses!.Count == 0) throw new ArgumentException("the address list is empty", nameof(addresses));
            names = Array.Empty<string>();
            description = $"{kind} at {addresses.Count} address{(addresses.Count == 1 ? "" : "es")}";
        }
        int count = addresses?.Count ?? names.Count;
        if (cookies != null && cookies.Count != count)
            throw new ArgumentException($"{cookies.Count} cookies for {count} functions", nameof(cookies));

        // One block of unmanaged memory: the pointer array, the addresses, the cookies, then the NUL-terminated names.
        int namesBytes = 0;
        foreach (var n in names) namesBytes += Encoding.UTF8.GetByteCount(n) + 1;
        nuint total = (nuint)(count * 8 * 3 + namesBytes);
        byte* block = (byte*)NativeMemory.AllocZeroed(total);
        try
        {
            ulong* syms = (ulong*)block;
            ulong* addrs = syms + count;
            ulong* cks = addrs + count;
            byte* str = (byte*)(cks + count);
            for (int i = 0; i < names.Count; i++)
            {
                var n = names[i];
                int len = Encoding.UTF8.GetBytes(n, new Span<byte>(str, namesBytes));
                str[len] = 0;
                syms[i] = (ulong)str;
                str += len + 1;
                namesBytes -= len + 1;
            }
            if (addresses != null)
                for (int i = 0; i < count; i++) addrs[i] = addresses[i];
            if (cookies != null)
                for (int i = 0; i < count; i++) cks[i] = cookies[i];
            var a = new LinkCreateAttr
            {
                ProgFd = (uint)Fd,
                AttachType = (uint)attachType,
                KprobeMultiFlags = retprobe ? 1u : 0u, // BPF_F_KPROBE_MULTI_RETURN
                KprobeMultiCnt = (uint)count,
                KprobeMultiSyms = addresses == null ? (ulong)syms : 0,
                KprobeMultiAddrs = addresses != null ? (ulong)addrs : 0,
                KprobeMultiCookies = cookies != null ? (ulong)cks : 0,
            };
            int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
            if (fd < 0)
            {
                int e = -fd;
                if (e == Errno.EOPNOTSUPP || e == Errno.ENOTSUPP)
                {
                    // The link needs fprobe (CONFIG_FPROBE), which each architecture gets with its own port.
                    string since = KernelFeatures.KprobeMultiMinimumKernel;
                    if (!KernelFeatures.KernelIsAtLeast(since))
                        throw new BpfNotSupportedException("kprobe.multi links", since,
                            $"cannot attach {description}: kprobe.multi links need fprobe (CONFIG_FPROBE), which {KernelFeatures.ArchitectureName} kernels can have from Linux {since}");
                    throw BpfNotSupportedException.Configuration("kprobe.multi links",
                        $"cannot attach {description}: this kernel has no kprobe.multi links (they need Linux {since} built with CONFIG_FPROBE)");
                }
                if (e == Errno.EINVAL && !KernelFeatures.For(Syscalls).KprobeMultiLinks)
                    throw new BpfNotSupportedException("kprobe.multi links", attachType == BpfAttachType.TraceKprobeSession ? "6.10" : "5.18", $"cannot attach {description}");
                throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of program '{Name}' as {description}",
                    e == Errno.ESRCH || e == Errno.ENOENT ? "one of the functions does not exist or is not traceable (see available_filter_functions in tracefs)" :
                    e == Errno.EINVAL ? "the kernel refused the function list (duplicates, or a function it cannot trace)" : null);
            }
            return new KprobeMultiLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), description, names, retprobe);
        }
        finally
        {
            NativeMemory.Free(block);
        }
    }
}
