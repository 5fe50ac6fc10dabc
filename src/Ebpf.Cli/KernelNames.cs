using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Ebpf.Objects;

namespace Ebpf.Cli;

/// <summary>
/// The names libbpf and bpftool print for kernel enums: the uapi constant in lower case without its prefix
/// (BPF_MAP_TYPE_PERCPU_HASH → "percpu_hash", BPF_PROG_TYPE_TRACEPOINT → "tracepoint", BPF_TRACE_FENTRY →
/// "trace_fentry"). Values this build does not know are printed as numbers.
/// </summary>
internal static class KernelNames
{
    public static string Of(BpfMapType type) => Snake(type.ToString());

    public static string Of(BpfProgramType type) => type switch
    {
        BpfProgramType.LwtSeg6Local => "lwt_seg6local",
        BpfProgramType.LircMode2 => "lirc_mode2",
        _ => Snake(type.ToString()),
    };

    public static string Of(BpfAttachType type) => type switch
    {
        BpfAttachType.LircMode2 => "lirc_mode2",
        _ => Snake(type.ToString()),
    };

    public static string Of(MapPinning pinning) => pinning switch
    {
        MapPinning.None => "none",
        MapPinning.ByName => "by_name",
        _ => ((uint)pinning).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Map origin as a word: "user", "data", "rodata", "bss", "kconfig".</summary>
    public static string Of(MapOrigin origin) => origin switch
    {
        MapOrigin.InnerTemplate => "inner",
        MapOrigin.StructOps => "struct_ops",
        _ => origin.ToString().ToLowerInvariant(),
    };

    private static readonly (BpfMapFlags Flag, string Name)[] s_mapFlags =
    {
        (BpfMapFlags.NoPrealloc, "no_prealloc"),
        (BpfMapFlags.NoCommonLru, "no_common_lru"),
        (BpfMapFlags.NumaNode, "numa_node"),
        (BpfMapFlags.ReadOnly, "rdonly"),
        (BpfMapFlags.WriteOnly, "wronly"),
        (BpfMapFlags.StackBuildId, "stack_build_id"),
        (BpfMapFlags.ZeroSeed, "zero_seed"),
        (BpfMapFlags.ReadOnlyProg, "rdonly_prog"),
        (BpfMapFlags.WriteOnlyProg, "wronly_prog"),
        (BpfMapFlags.Clone, "clone"),
        (BpfMapFlags.Mmapable, "mmapable"),
        (BpfMapFlags.PreserveElems, "preserve_elems"),
        (BpfMapFlags.InnerMap, "inner_map"),
        (BpfMapFlags.Link, "link"),
        (BpfMapFlags.PathFd, "path_fd"),
        (BpfMapFlags.VtypeBtfObjFd, "vtype_btf_obj_fd"),
        (BpfMapFlags.TokenFd, "token_fd"),
        (BpfMapFlags.SegvOnFault, "segv_on_fault"),
        (BpfMapFlags.NoUserConv, "no_user_conv"),
    };

    /// <summary>Map flags as "0x480 (rdonly_prog|mmapable)", or "0".</summary>
    public static string MapFlags(BpfMapFlags mapFlags)
    {
        uint flags = (uint)mapFlags;
        if (flags == 0)
            return "0";
        var names = new List<string>();
        uint rest = flags;
        foreach (var (flag, name) in s_mapFlags)
        {
            if ((flags & (uint)flag) != 0)
            {
                names.Add(name);
                rest &= ~(uint)flag;
            }
        }
        if (rest != 0)
            names.Add("0x" + rest.ToString("x", CultureInfo.InvariantCulture));
        return "0x" + flags.ToString("x", CultureInfo.InvariantCulture) + " (" + string.Join("|", names) + ")";
    }

    /// <summary>A legacy "version" section value (KERNEL_VERSION(a, b, c)) as "a.b.c".</summary>
    public static string KernelVersion(uint code) =>
        code == 0 ? "none" : $"{code >> 16}.{(code >> 8) & 0xff}.{code & 0xff}";

    /// <summary>"PercpuHash" → "percpu_hash", "CgroupInet4Bind" → "cgroup_inet4_bind"; numbers stay numbers.</summary>
    private static string Snake(string pascal)
    {
        if (pascal.Length == 0 || char.IsDigit(pascal[0]))
            return pascal;
        var sb = new StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                    sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
