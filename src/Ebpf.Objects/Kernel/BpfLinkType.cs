namespace Ebpf;

/// <summary>
/// eBPF link types (<c>enum bpf_link_type</c> in the kernel's <c>include/uapi/linux/bpf.h</c>), as reported in
/// <c>struct bpf_link_info</c>, with their exact uapi values.
/// </summary>
public enum BpfLinkType : uint
{
    /// <summary><c>BPF_LINK_TYPE_UNSPEC</c>.</summary>
    Unspec = 0,
    /// <summary><c>BPF_LINK_TYPE_RAW_TRACEPOINT</c>.</summary>
    RawTracepoint = 1,
    /// <summary><c>BPF_LINK_TYPE_TRACING</c>.</summary>
    Tracing = 2,
    /// <summary><c>BPF_LINK_TYPE_CGROUP</c>.</summary>
    Cgroup = 3,
    /// <summary><c>BPF_LINK_TYPE_ITER</c>.</summary>
    Iter = 4,
    /// <summary><c>BPF_LINK_TYPE_NETNS</c>.</summary>
    Netns = 5,
    /// <summary><c>BPF_LINK_TYPE_XDP</c>.</summary>
    Xdp = 6,
    /// <summary><c>BPF_LINK_TYPE_PERF_EVENT</c>.</summary>
    PerfEvent = 7,
    /// <summary><c>BPF_LINK_TYPE_KPROBE_MULTI</c>.</summary>
    KprobeMulti = 8,
    /// <summary><c>BPF_LINK_TYPE_STRUCT_OPS</c>.</summary>
    StructOps = 9,
    /// <summary><c>BPF_LINK_TYPE_NETFILTER</c>.</summary>
    Netfilter = 10,
    /// <summary><c>BPF_LINK_TYPE_TCX</c>.</summary>
    Tcx = 11,
    /// <summary><c>BPF_LINK_TYPE_UPROBE_MULTI</c>.</summary>
    UprobeMulti = 12,
    /// <summary><c>BPF_LINK_TYPE_NETKIT</c>.</summary>
    Netkit = 13,
    /// <summary><c>BPF_LINK_TYPE_SOCKMAP</c> (Linux 6.10).</summary>
    Sockmap = 14,
}
