using System.Collections.Generic;
using System.Text;
using Ebpf.Asm;

namespace Ebpf.Kernel;

// The first upstream Linux release of each feature the loader can meet, for errors that name the version a kernel
// lacks (the probes decide whether this kernel has a feature; these tables only say since when it exists).
public sealed partial class KernelFeatures
{
    /// <summary>The first Linux release with map type <paramref name="type"/>.</summary>
    public static string MinimumKernel(BpfMapType type) => type switch
    {
        BpfMapType.Hash or BpfMapType.Array => "3.19",
        BpfMapType.ProgArray => "4.2",
        BpfMapType.PerfEventArray => "4.3",
        BpfMapType.PercpuHash or BpfMapType.PercpuArray or BpfMapType.StackTrace => "4.6",
        BpfMapType.CgroupArray => "4.8",
        BpfMapType.LruHash or BpfMapType.LruPercpuHash => "4.10",
        BpfMapType.LpmTrie => "4.11",
        BpfMapType.ArrayOfMaps or BpfMapType.HashOfMaps => "4.12",
        BpfMapType.Devmap or BpfMapType.Sockmap => "4.14",
        BpfMapType.Cpumap => "4.15",
        BpfMapType.Xskmap or BpfMapType.Sockhash => "4.18",
        BpfMapType.CgroupStorage or BpfMapType.ReuseportSockarray => "4.19",
        BpfMapType.PercpuCgroupStorage or BpfMapType.Queue or BpfMapType.Stack => "4.20",
        BpfMapType.SkStorage => "5.2",
        BpfMapType.DevmapHash => "5.4",
        BpfMapType.StructOps => "5.6",
        BpfMapType.Ringbuf => "5.8",
        BpfMapType.InodeStorage => "5.10",
        BpfMapType.TaskStorage => "5.11",
        BpfMapType.BloomFilter => "5.16",
        BpfMapType.UserRingbuf => "6.1",
        BpfMapType.CgrpStorage => "6.2",
        BpfMapType.Arena => "6.9",
        BpfMapType.InsnArray => "6.19",
        _ => "a newer kernel",
    };

    /// <summary>The first Linux release with program type <paramref name="type"/>.</summary>
    public static string MinimumKernel(BpfProgramType type) => type switch
    {
        BpfProgramType.SocketFilter => "3.19",
        BpfProgramType.Kprobe or BpfProgramType.SchedCls or BpfProgramType.SchedAct => "4.1",
        BpfProgramType.Tracepoint => "4.7",
        BpfProgramType.Xdp => "4.8",
        BpfProgramType.PerfEvent => "4.9",
        BpfProgramType.CgroupSkb or BpfProgramType.CgroupSock or BpfProgramType.LwtIn or BpfProgramType.LwtOut or BpfProgramType.LwtXmit => "4.10",
        BpfProgramType.SockOps => "4.13",
        BpfProgramType.SkSkb => "4.14",
        BpfProgramType.CgroupDevice => "4.15",
        BpfProgramType.SkMsg or BpfProgramType.RawTracepoint or BpfProgramType.CgroupSockAddr => "4.17",
        BpfProgramType.LwtSeg6Local or BpfProgramType.LircMode2 => "4.18",
        BpfProgramType.SkReuseport => "4.19",
        BpfProgramType.FlowDissector => "4.20",
        BpfProgramType.CgroupSysctl or BpfProgramType.RawTracepointWritable => "5.2",
        BpfProgramType.CgroupSockopt => "5.3",
        BpfProgramType.Tracing => "5.5",
        BpfProgramType.StructOps or BpfProgramType.Ext => "5.6",
        BpfProgramType.Lsm => "5.7",
        BpfProgramType.SkLookup => "5.9",
        BpfProgramType.Syscall => "5.14",
        BpfProgramType.Netfilter => "6.4",
        _ => "a newer kernel",
    };

    /// <summary>The first Linux release whose BPF_PROG_TEST_RUN runs programs of <paramref name="type"/>; null when none does.</summary>
    public static string? MinimumKernelForTestRun(BpfProgramType type) => type switch
    {
        BpfProgramType.SocketFilter or BpfProgramType.SchedCls or BpfProgramType.SchedAct or BpfProgramType.Xdp
            or BpfProgramType.CgroupSkb or BpfProgramType.LwtIn or BpfProgramType.LwtOut or BpfProgramType.LwtXmit
            or BpfProgramType.LwtSeg6Local => "4.12",
        BpfProgramType.FlowDissector => "5.0",
        BpfProgramType.Tracing => "5.5",
        BpfProgramType.RawTracepoint => "5.10",
        BpfProgramType.SkLookup or BpfProgramType.Syscall => "5.14",
        BpfProgramType.StructOps => "5.19",
        BpfProgramType.Netfilter => "6.6",
        _ => null,
    };

    /// <summary>
    /// The first Linux release of each run of helper ids (enum bpf_func_id only grows, one release's helpers after the
    /// previous release's): helper N came with the release of the last entry whose id is at most N.
    /// </summary>
    private static readonly (int FirstId, string Release)[] s_helperReleases =
    {
        (1, "3.19"), (4, "4.1"), (12, "4.2"), (17, "4.3"), (23, "4.4"), (26, "4.5"), (27, "4.6"), (31, "4.8"),
        (37, "4.9"), (42, "4.10"), (45, "4.11"), (46, "4.12"), (48, "4.13"), (51, "4.14"), (54, "4.15"), (58,
        "4.16"), (60, "4.17"), (65, "4.18"), (81, "4.19"), (84, "4.20"), (91, "5.0"), (93, "5.1"), (99, "5.2"),
        (109, "5.3"), (111, "5.5"), (119, "5.6"), (120, "5.7"), (125, "5.8"), (136, "5.9"), (142, "5.10"), (156,
        "5.11"), (163, "5.12"), (164, "5.13"), (166, "5.14"), (169, "5.15"), (176, "5.16"), (180, "5.17"), (186,
        "5.18"), (194, "5.19"), (204, "6.0"), (208, "6.1"), (210, "6.2")
    };

    /// <summary>The first Linux release with helper <paramref name="helperId"/>; null for an id no release has.</summary>
    public static string? MinimumKernel(int helperId)
    {
        if (helperId < 1 || helperId > BpfHelpers.MaxId) return null;
        string release = s_helperReleases[0].Release;
        foreach (var (first, r) in s_helperReleases)
        {
            if (first > helperId) break;
            release = r;
        }
        return release;
    }

    /// <summary>"BPF_PROG_TYPE_SYSCALL" for <see cref="BpfProgramType.Syscall"/>, "BPF_MAP_TYPE_BLOOM_FILTER" for a map type.</summary>
    internal static string KernelName(string prefix, string pascal)
    {
        var sb = new StringBuilder(prefix);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (i > 0 && char.IsUpper(c) && !char.IsDigit(pascal[i - 1])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>
    /// The error for a feature this kernel lacks: by version when the running kernel is older than the first release
    /// with it; when it is not, by configuration (<paramref name="configuration"/> says which option or boot
    /// parameter usually provides it).
    /// </summary>
    internal static BpfNotSupportedException Missing(string feature, string minimumKernel, string detail, string? configuration = null,
        int errno = 0, BpfCommand? command = null)
    {
        uint need = KernelInfo.ParseVersionCode(minimumKernel);
        if (need != 0 && KernelInfo.VersionCode >= need)
            return BpfNotSupportedException.Configuration(feature,
                $"this kernel ({KernelInfo.Release}) does not support {feature}, although it is newer than Linux {minimumKernel}, which introduced it: " +
                $"{configuration ?? "its build or boot configuration leaves it out"}: {detail}", errno, command);
        return new BpfNotSupportedException(feature, minimumKernel, detail, errno, command);
    }

    /// <summary>How a program type is named in errors: "Syscall programs (BPF_PROG_TYPE_SYSCALL)".</summary>
    internal static string ProgramTypeFeature(BpfProgramType type) => $"{type} programs ({KernelName("BPF_PROG_TYPE_", type.ToString())})";

    // ------------------------------------------------------------------ instruction set

    /// <summary>An instruction-set extension a program uses, with the first Linux release that accepts it.</summary>
    internal enum InstructionSetFeature
    {
        /// <summary>32-bit conditional jumps (BPF_JMP32; clang -mcpu=v3): Linux 5.1.</summary>
        Jmp32,
        /// <summary>Atomic and/or/xor, fetch variants, xchg and cmpxchg (BPF_ATOMIC beyond plain add): Linux 5.12.</summary>
        AtomicFetch,
        /// <summary>Sign-extending loads and moves, signed division, byte swaps, 32-bit-offset jumps (clang -mcpu=v4): Linux 6.6.</summary>
        CpuV4,
        /// <summary>Callback functions passed to helpers (ld_imm64 with BPF_PSEUDO_FUNC), Linux 5.13.</summary>
        CallbackFunctions,
    }

    internal static string Describe(InstructionSetFeature f) => f switch
    {
        InstructionSetFeature.Jmp32 => "32-bit jumps (BPF_JMP32, clang -mcpu=v3)",
        InstructionSetFeature.AtomicFetch => "atomic fetch operations (BPF_ATOMIC with BPF_FETCH, xchg, cmpxchg, and/or/xor)",
        InstructionSetFeature.CallbackFunctions => "callback functions (ld_imm64 BPF_PSEUDO_FUNC, as bpf_for_each_map_elem, bpf_loop and bpf_timer_set_callback take them)",
        _ => "the v4 instruction set (sign-extending loads and moves, signed division, byte swaps, gotol; clang -mcpu=v4)",
    };

    internal static string MinimumKernel(InstructionSetFeature f) => f switch
    {
        InstructionSetFeature.Jmp32 => "5.1",
        InstructionSetFeature.AtomicFetch => "5.12",
        InstructionSetFeature.CallbackFunctions => "5.13",
        _ => "6.6",
    };

    /// <summary>The first instruction of <paramref name="insns"/> that needs each extension.</summary>
    internal static Dictionary<InstructionSetFeature, int> InstructionSetNeeds(BpfInstruction[] insns)
    {
        var needs = new Dictionary<InstructionSetFeature, int>();
        void Need(InstructionSetFeature f, int at)
        {
            if (!needs.ContainsKey(f)) needs[f] = at;
        }
        for (int i = 0; i < insns.Length; i++)
        {
            var insn = insns[i];
            byte op = insn.OpCode;
            int cls = op & 0x07;
            if (op == BpfOpCodes.LdImm64)
            {
                if (insn.Src == BpfOpCodes.PseudoFunc)
                    Need(InstructionSetFeature.CallbackFunctions, i);
                i++; // the second half of ld_imm64 is not an instruction
                continue;
            }
            switch (cls)
            {
                case BpfOpCodes.ClassJmp32:
                    Need((op & 0xf0) == BpfOpCodes.OpJa ? InstructionSetFeature.CpuV4 : InstructionSetFeature.Jmp32, i);
                    break;
                case BpfOpCodes.ClassStx when (op & 0xe0) == BpfOpCodes.ModeAtomic:
                    // Plain atomic add (the old BPF_XADD) is accepted by every kernel; anything else came with 5.12.
                    if (insn.Immediate != BpfOpCodes.OpAdd)
                        Need(InstructionSetFeature.AtomicFetch, i);
                    break;
                case BpfOpCodes.ClassLdx when (op & 0xe0) == BpfOpCodes.ModeMemSx:
                    Need(InstructionSetFeature.CpuV4, i);
                    break;
                case BpfOpCodes.ClassAlu:
                case BpfOpCodes.ClassAlu64:
                {
                    int aluOp = op & 0xf0;
                    if ((aluOp == BpfOpCodes.OpMov && insn.Offset != 0)
                        || ((aluOp == BpfOpCodes.OpDiv || aluOp == BpfOpCodes.OpMod) && insn.Offset != 0)
                        || (aluOp == BpfOpCodes.OpEnd && cls == BpfOpCodes.ClassAlu64))
                        Need(InstructionSetFeature.CpuV4, i);
                    break;
                }
            }
        }
        return needs;
    }

    /// <summary>Whether this kernel accepts instruction-set extension <paramref name="f"/>.</summary>
    internal bool Supports(InstructionSetFeature f) => f switch
    {
        InstructionSetFeature.Jmp32 => Jmp32,
        InstructionSetFeature.AtomicFetch => AtomicFetch,
        InstructionSetFeature.CallbackFunctions => CallbackFunctions,
        _ => CpuV4,
    };
}
