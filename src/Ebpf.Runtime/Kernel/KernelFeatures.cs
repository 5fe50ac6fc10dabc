using System;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using Ebpf.Asm;
using Ebpf.Btf;
using Microsoft.Extensions.Logging;

namespace Ebpf.Kernel;

/// <summary>
/// What the running kernel supports, probed on first use and cached for the process (per syscall seam), the way
/// libbpf's kernel_supports() and cilium/ebpf's features package work.
/// </summary>
public sealed partial class KernelFeatures
{
    private static readonly ConditionalWeakTable<Syscalls, KernelFeatures> s_cache = new ConditionalWeakTable<Syscalls, KernelFeatures>();

    private readonly Syscalls _sys;
    private readonly ConcurrentDictionary<string, bool> _results = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
    internal ILogger? Logger { get; set; }

    private KernelFeatures(Syscalls sys) => _sys = sys;

    /// <summary>The features of the running kernel.</summary>
    public static KernelFeatures Current => For(Syscalls.Current);

    internal static KernelFeatures For(Syscalls sys) => s_cache.GetValue(sys, s => new KernelFeatures(s));

    private bool Probe(string name, Func<bool> probe)
    {
        if (_results.TryGetValue(name, out bool v))
            return v;
        bool result;
        try
        {
            result = probe();
        }
        catch (BpfException)
        {
            result = false;
        }
        result = _results.GetOrAdd(name, result);
        Logger?.LogDebug("feature probe: {Feature} is {Result}", name, result ? "supported" : "NOT supported");
        return result;
    }

    private int _permitted; // 0 unknown, 1 yes

    /// <summary>
    /// Throws the permission error (a <see cref="BpfSyscallException"/> of BPF_MAP_CREATE with EPERM, EACCES or
    /// ENOSYS) when this process may not use bpf(2) at all, so that callers do not mistake a refused probe for a
    /// missing kernel feature; the message says what the process lacks (<see cref="BpfPrivileges"/>). The loader
    /// checks it before anything else; an application or tool may call it up front. Passes once per process (per seam).
    /// </summary>
    public unsafe void EnsureBpfPermitted()
    {
        if (_permitted == 1) return;
        var a = new MapCreateAttr { MapType = (uint)BpfMapType.Array, KeySize = 4, ValueSize = 4, MaxEntries = 1 };
        int fd = BpfSys.Call(_sys, BpfCommand.MapCreate, ref a);
        if (fd >= 0)
        {
            _sys.Close(fd);
            _permitted = 1;
            return;
        }
        if (-fd == Errno.EPERM || -fd == Errno.EACCES)
        {
            // Privileges tell when they are what is missing; otherwise the memlock limit or a filter is.
            var privileges = BpfPrivileges.Current;
            throw BpfSys.Error(BpfCommand.MapCreate, -fd, "(checking that this process may use bpf(2))",
                privileges.MayUseBpf ? PermissionAdvice(BpfCommand.MapCreate, -fd) + $" ({privileges.Describe()})" : privileges.Advice());
        }
        if (-fd == Errno.ENOSYS)
            throw BpfSys.Error(BpfCommand.MapCreate, -fd, "(checking that this process may use bpf(2))");
        _permitted = 1; // some other failure: let the real calls report it
    }

    // ------------------------------------------------------------------ BTF

    /// <summary>The kernel accepts BTF (BPF_BTF_LOAD), Linux 4.18.</summary>
    public bool Btf => Probe("BTF", () => LoadBtf(b => b.AddInt("int", 4, BtfIntEncoding.Signed)));
    /// <summary>BTF FUNC and FUNC_PROTO, Linux 5.0.</summary>
    public bool BtfFunc => Probe("BTF FUNC", () => LoadBtf(b =>
    {
        int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int p = b.AddFuncProto(i, ("x", i));
        b.AddFunc("f", p, BtfFuncLinkage.Static);
    }));
    /// <summary>BTF FUNC with global linkage, Linux 5.6.</summary>
    public bool BtfFuncGlobal => Probe("BTF global FUNC", () => LoadBtf(b =>
    {
        int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int p = b.AddFuncProto(i, ("x", i));
        b.AddFunc("f", p, BtfFuncLinkage.Global);
    }));
    /// <summary>BTF VAR and DATASEC, Linux 5.2.</summary>
    public bool BtfDatasec => Probe("BTF DATASEC", () => LoadBtf(b =>
    {
        int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int v = b.AddVar("x", i, BtfVarLinkage.Static);
        b.AddDatasec(".data", 4, (v, 0u, 4u));
    }));
    /// <summary>BTF FLOAT, Linux 5.13.</summary>
    public bool BtfFloat => Probe("BTF FLOAT", () => LoadBtf(b => b.AddFloat("float", 4)));
    /// <summary>BTF DECL_TAG, Linux 5.16.</summary>
    public bool BtfDeclTag => Probe("BTF DECL_TAG", () => LoadBtf(b =>
    {
        int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int v = b.AddVar("x", i, BtfVarLinkage.Static);
        b.AddDeclTag("tag", v, -1);
    }));
    /// <summary>BTF TYPE_TAG, Linux 5.17.</summary>
    public bool BtfTypeTag => Probe("BTF TYPE_TAG", () => LoadBtf(b =>
    {
        int i = b.AddInt("int", 4, BtfIntEncoding.Signed);
        int t = b.AddTypeTag("tag", i);
        b.AddPointer(t);
    }));
    /// <summary>BTF ENUM64 and signed enums, Linux 6.0.</summary>
    public bool BtfEnum64 => Probe("BTF ENUM64", () => LoadBtf(b => b.AddEnum64("e", 8, false, ("A", 1UL << 40))));

    /// <summary>Everything the sanitiser needs, in one value.</summary>
    public BtfFeatures BtfFeatureSet =>
        (BtfFunc ? BtfFeatures.Func : 0) |
        (BtfDatasec ? BtfFeatures.Datasec : 0) |
        (BtfFuncGlobal ? BtfFeatures.FuncGlobalLinkage : 0) |
        (BtfFloat ? BtfFeatures.Float : 0) |
        (BtfDeclTag ? BtfFeatures.DeclTag : 0) |
        (BtfTypeTag ? BtfFeatures.TypeTag : 0) |
        (BtfEnum64 ? BtfFeatures.Enum64 : 0);

    private unsafe bool LoadBtf(Action<BtfBuilder> build)
    {
        var b = new BtfBuilder();
        build(b);
        var bytes = b.Build();
        using var h = BpfSys.BtfLoad(_sys, bytes, Span<byte>.Empty, 0, out int errno);
        return h != null;
    }

    // ------------------------------------------------------------------ maps and programs

    /// <summary>BPF_PROG_LOAD accepts a program name, Linux 4.15.</summary>
    public bool ProgramName => Probe("program names", () => LoadProgram(BpfProgramType.SocketFilter, ReturnZero, "probe", 0, out _));

    /// <summary>Global variables: array maps referenced through BPF_PSEUDO_MAP_VALUE, Linux 5.2.</summary>
    public bool GlobalData => Probe("global data", () =>
    {
        using var map = CreateMap(BpfMapType.Array, 4, 8, 1, 0);
        if (map == null) return false;
        var insns = new[]
        {
            new BpfInstruction(BpfOpCodes.LdImm64, 1, BpfOpCodes.PseudoMapValue, 0, map.Fd),
            new BpfInstruction(0, 0, 0, 0, 0),
            new BpfInstruction(BpfOpCodes.ClassSt | BpfOpCodes.ModeMem | BpfOpCodes.SizeDW, 1, 0, 0, 42),
            new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, 0, 0, 0, 0),
            new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0),
        };
        return LoadProgram(BpfProgramType.SocketFilter, insns, null, 0, out _);
    });

    /// <summary>BPF_PROG_BIND_MAP (a program holds a map it does not reference), Linux 5.10.</summary>
    public bool ProgBindMap => Probe("BPF_PROG_BIND_MAP", () =>
    {
        using var map = CreateMap(BpfMapType.Array, 4, 8, 1, 0);
        return map != null && LoadProgram(BpfProgramType.SocketFilter, ReturnZero, null, 0, out _,
            whileLoaded: progFd => BpfSys.ProgBindMap(_sys, progFd, map.Fd) == 0);
    });

    /// <summary>Array maps user space can mmap (BPF_F_MMAPABLE), Linux 5.5.</summary>
    public bool MmapableArrays => Probe("mmap-able array maps", () =>
    {
        using var map = CreateMap(BpfMapType.Array, 4, 8, 1, 1u << 10);
        return map != null;
    });

    /// <summary>BPF_MAP_FREEZE (read-only .rodata), Linux 5.2.</summary>
    public bool MapFreeze => Probe("map freezing", () =>
    {
        using var map = CreateMap(BpfMapType.Array, 4, 8, 1, 0);
        return map != null && BpfSys.MapFreeze(_sys, map.Fd) == 0;
    });

    /// <summary>Whether a map type exists on this kernel.</summary>
    public bool MapType(BpfMapType type) => Probe("map type " + type, () =>
    {
        uint key = 4, value = 8, max = 1, flags = 0;
        switch (type)
        {
            case BpfMapType.Ringbuf:
            case BpfMapType.UserRingbuf:
                key = 0; value = 0; max = (uint)Environment.SystemPageSize; break;
            case BpfMapType.Queue:
            case BpfMapType.Stack:
                key = 0; break;
            case BpfMapType.BloomFilter:
                key = 0; break;
            case BpfMapType.LpmTrie:
                key = 8; flags = 1; break;
            case BpfMapType.StackTrace:
                value = 8; break;
            case BpfMapType.PerfEventArray:
            case BpfMapType.ProgArray:
            case BpfMapType.CgroupArray:
                value = 4; break;
            case BpfMapType.ArrayOfMaps:
            case BpfMapType.HashOfMaps:
            {
                using var inner = CreateMap(BpfMapType.Array, 4, 4, 1, 0);
                if (inner == null) return false;
                using var outer = CreateMap(type, 4, 4, 1, 0, inner.Fd);
                return outer != null;
            }
        }
        using var m = CreateMap(type, key, value, max, flags);
        return m != null;
    });

    /// <summary>
    /// Whether a program type exists: a trivial program of that type loads, or reaches the verifier and is refused
    /// there (types that need an attach target, such as tracing and LSM programs, are refused by the verifier with
    /// a log; an unknown type fails with EINVAL before the verifier runs, so without one).
    /// </summary>
    public bool ProgramType(BpfProgramType type) => ProgramType(type, null);

    /// <summary><see cref="ProgramType(BpfProgramType)"/> for programs that need an expected attach type (cgroup sock, sock_addr, sockopt).</summary>
    public bool ProgramType(BpfProgramType type, BpfAttachType? expectedAttachType) =>
        Probe($"program type {type}{(expectedAttachType is { } e ? " (" + e + ")" : "")}", () =>
        {
            var log = new byte[4096];
            // Syscall programs are always sleepable (BPF_F_SLEEPABLE); without the flag the verifier refuses them.
            uint flags = type == BpfProgramType.Syscall ? 1u << 4 : 0;
            bool ok = LoadProgram(type, ReturnZero, null, expectedAttachType.HasValue ? (uint)expectedAttachType.Value : 0, out int errno, log, flags);
            if (ok) return true;
            if (errno != Errno.EINVAL && errno != Errno.E2BIG) return errno != 0;
            return log[0] != 0;
        });

    /// <summary>32-bit jumps (BPF_JMP32), Linux 5.1.</summary>
    public bool Jmp32 => Probe("BPF_JMP32 instructions", () => LoadProgram(BpfProgramType.SocketFilter, new[]
    {
        new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, 0, 0, 0, 0),
        new BpfInstruction(BpfOpCodes.ClassJmp32 | BpfOpCodes.OpJeq | BpfOpCodes.SourceK, 0, 0, 0, 1),
        new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0),
    }, null, 0, out _));

    /// <summary>Atomic fetch operations (BPF_ATOMIC with BPF_FETCH, xchg, cmpxchg, and/or/xor), Linux 5.12.</summary>
    public bool AtomicFetch => Probe("atomic fetch operations", () => LoadProgram(BpfProgramType.SocketFilter, new[]
    {
        new BpfInstruction(BpfOpCodes.ClassSt | BpfOpCodes.ModeMem | BpfOpCodes.SizeDW, 10, 0, -8, 0),
        new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, 1, 0, 0, 1),
        new BpfInstruction(BpfOpCodes.ClassStx | BpfOpCodes.ModeAtomic | BpfOpCodes.SizeDW, 10, 1, -8, BpfOpCodes.OpAdd | 1 /* BPF_FETCH */),
        new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, 0, 0, 0, 0),
        new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0),
    }, null, 0, out _));

    /// <summary>The v4 instruction set (sign-extending moves and loads, signed division, byte swaps, gotol), Linux 6.6.</summary>
    public bool CpuV4 => Probe("v4 instructions", () => LoadProgram(BpfProgramType.SocketFilter, new[]
    {
        new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, 0, 0, 0, 0),
        new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceX, 0, 0, 8, 0), // r0 = (s8)r0
        new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0),
    }, null, 0, out _));

    /// <summary>
    /// Calls of kernel functions (BPF_PSEUDO_KFUNC_CALL), Linux 5.13. A kfunc call to a BTF id that is no function
    /// is refused by a kernel that knows kfunc calls for that reason, and by older ones as a malformed call.
    /// </summary>
    public bool KfuncCalls => Probe("kfunc calls", () =>
    {
        var log = new byte[4096];
        var insns = new[]
        {
            new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpCall, 0, BpfOpCodes.PseudoKfuncCall, 0, 1),
            new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, 0, 0, 0, 0),
            new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0),
        };
        if (LoadProgram(BpfProgramType.SchedCls, insns, null, 0, out _, log)) return true;
        string text = Encoding.UTF8.GetString(log).TrimEnd('\0');
        return text.Length > 0 && !text.Contains("reserved fields") && !text.Contains("unknown opcode") && !text.Contains("invalid BPF_CALL");
    });

    /// <summary>Whether programs of <paramref name="type"/> may call <paramref name="helper"/>.</summary>
    public bool Helper(BpfProgramType type, BpfHelper helper) => Probe($"helper {BpfHelpers.GetName((int)helper)} in {type}", () =>
    {
        var insns = new[]
        {
            new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpCall, 0, 0, 0, (int)helper),
            new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, 0, 0, 0, 0),
            new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0),
        };
        var log = new byte[4096];
        bool ok = LoadProgram(type, insns, null, 0, out _, log);
        if (ok) return true;
        string text = Encoding.UTF8.GetString(log).TrimEnd('\0');
        return !(text.Contains("invalid func") || text.Contains("unknown func"));
    });

    /// <summary>
    /// The kernel charges BPF maps and programs to the memory cgroup, not to RLIMIT_MEMLOCK: Linux 5.11. Probed as
    /// libbpf does: bpf_ktime_get_coarse_ns() came in the same release, so a socket filter calling it loads only there.
    /// </summary>
    public bool MemcgAccounting => Probe("memory-cgroup accounting of BPF memory", () =>
    {
        var insns = new[]
        {
            new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpCall, 0, 0, 0, (int)BpfHelper.KtimeGetCoarseNs),
            new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0),
        };
        return LoadProgram(BpfProgramType.SocketFilter, insns, null, 0, out _);
    });

    /// <summary>
    /// Callback functions (ld_imm64 with BPF_PSEUDO_FUNC), Linux 5.13: they came with bpf_for_each_map_elem(), the
    /// first helper to take one, so the kernel knowing that helper is the probe.
    /// </summary>
    public bool CallbackFunctions => Helper(BpfProgramType.Xdp, BpfHelper.ForEachMapElem);

    /// <summary>bpf_get_attach_cookie() (LINUX_HAS_BPF_COOKIE), Linux 5.15.</summary>
    public bool BpfCookie => Helper(BpfProgramType.Kprobe, BpfHelper.GetAttachCookie);

    private static readonly BpfInstruction[] ReturnZero =
    {
        new BpfInstruction(BpfOpCodes.ClassAlu64 | BpfOpCodes.OpMov | BpfOpCodes.SourceK, 0, 0, 0, 0),
        new BpfInstruction(BpfOpCodes.ClassJmp | BpfOpCodes.OpExit, 0, 0, 0, 0),
    };

    private unsafe BpfHandle? CreateMap(BpfMapType type, uint key, uint value, uint max, uint flags, int innerFd = 0)
    {
        var a = new MapCreateAttr { MapType = (uint)type, KeySize = key, ValueSize = value, MaxEntries = max, MapFlags = flags, InnerMapFd = (uint)innerFd };
        int fd = BpfSys.Call(_sys, BpfCommand.MapCreate, ref a);
        return fd < 0 ? null : new BpfHandle(fd, BpfHandleKind.Map, _sys);
    }

    /// <summary>Loads a probe program; <paramref name="whileLoaded"/> (if any) checks something with its descriptor before it is closed.</summary>
    private unsafe bool LoadProgram(BpfProgramType type, BpfInstruction[] insns, string? name, uint expectedAttachType, out int errno, byte[]? log = null, uint flags = 0,
        Func<int, bool>? whileLoaded = null)
    {
        var license = Encoding.ASCII.GetBytes("GPL\0");
        fixed (BpfInstruction* pi = insns)
        fixed (byte* pl = license)
        fixed (byte* plog = log)
        {
            var a = new ProgLoadAttr
            {
                ProgType = (uint)type,
                InsnCnt = (uint)insns.Length,
                Insns = (ulong)pi,
                License = (ulong)pl,
                ExpectedAttachType = expectedAttachType,
                ProgFlags = flags,
            };
            if (log != null)
            {
                a.LogBuf = (ulong)plog;
                a.LogSize = (uint)log.Length;
                a.LogLevel = 1;
            }
            if (name != null)
                BpfSys.WriteName(a.ProgName, name);
            int fd = BpfSys.Call(_sys, BpfCommand.ProgLoad, ref a);
            if (fd >= 0)
            {
                bool ok;
                try
                {
                    ok = whileLoaded?.Invoke(fd) ?? true;
                }
                finally
                {
                    _sys.Close(fd);
                }
                errno = 0;
                return ok;
            }
            errno = -fd;
            return false;
        }
    }
}
