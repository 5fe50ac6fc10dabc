namespace Ebpf;

/// <summary>
/// eBPF program types (<c>enum bpf_prog_type</c> in the kernel's <c>include/uapi/linux/bpf.h</c>), with their exact
/// uapi values. The comment on each member names the kernel constant and, where there is one, the libbpf section
/// that selects it.
/// </summary>
public enum BpfProgramType : uint
{
    /// <summary><c>BPF_PROG_TYPE_UNSPEC</c>: invalid for loading.</summary>
    Unspec = 0,
    /// <summary><c>BPF_PROG_TYPE_SOCKET_FILTER</c> (<c>SEC("socket")</c>).</summary>
    SocketFilter = 1,
    /// <summary><c>BPF_PROG_TYPE_KPROBE</c>: kprobes, uprobes, USDT, ksyscall (<c>SEC("kprobe/...")</c> and friends).</summary>
    Kprobe = 2,
    /// <summary><c>BPF_PROG_TYPE_SCHED_CLS</c>: tc classifier, tcx, netkit (<c>SEC("tc")</c>, <c>SEC("tcx/ingress")</c>).</summary>
    SchedCls = 3,
    /// <summary><c>BPF_PROG_TYPE_SCHED_ACT</c>: tc action (<c>SEC("action")</c>).</summary>
    SchedAct = 4,
    /// <summary><c>BPF_PROG_TYPE_TRACEPOINT</c> (<c>SEC("tp/category/name")</c>).</summary>
    Tracepoint = 5,
    /// <summary><c>BPF_PROG_TYPE_XDP</c> (<c>SEC("xdp")</c>).</summary>
    Xdp = 6,
    /// <summary><c>BPF_PROG_TYPE_PERF_EVENT</c> (<c>SEC("perf_event")</c>).</summary>
    PerfEvent = 7,
    /// <summary><c>BPF_PROG_TYPE_CGROUP_SKB</c> (<c>SEC("cgroup_skb/ingress")</c>).</summary>
    CgroupSkb = 8,
    /// <summary><c>BPF_PROG_TYPE_CGROUP_SOCK</c> (<c>SEC("cgroup/sock_create")</c>).</summary>
    CgroupSock = 9,
    /// <summary><c>BPF_PROG_TYPE_LWT_IN</c>.</summary>
    LwtIn = 10,
    /// <summary><c>BPF_PROG_TYPE_LWT_OUT</c>.</summary>
    LwtOut = 11,
    /// <summary><c>BPF_PROG_TYPE_LWT_XMIT</c>.</summary>
    LwtXmit = 12,
    /// <summary><c>BPF_PROG_TYPE_SOCK_OPS</c> (<c>SEC("sockops")</c>).</summary>
    SockOps = 13,
    /// <summary><c>BPF_PROG_TYPE_SK_SKB</c> (<c>SEC("sk_skb/stream_verdict")</c>).</summary>
    SkSkb = 14,
    /// <summary><c>BPF_PROG_TYPE_CGROUP_DEVICE</c> (<c>SEC("cgroup/dev")</c>).</summary>
    CgroupDevice = 15,
    /// <summary><c>BPF_PROG_TYPE_SK_MSG</c> (<c>SEC("sk_msg")</c>).</summary>
    SkMsg = 16,
    /// <summary><c>BPF_PROG_TYPE_RAW_TRACEPOINT</c> (<c>SEC("raw_tp/name")</c>).</summary>
    RawTracepoint = 17,
    /// <summary><c>BPF_PROG_TYPE_CGROUP_SOCK_ADDR</c> (<c>SEC("cgroup/connect4")</c>).</summary>
    CgroupSockAddr = 18,
    /// <summary><c>BPF_PROG_TYPE_LWT_SEG6LOCAL</c>.</summary>
    LwtSeg6Local = 19,
    /// <summary><c>BPF_PROG_TYPE_LIRC_MODE2</c>.</summary>
    LircMode2 = 20,
    /// <summary><c>BPF_PROG_TYPE_SK_REUSEPORT</c>.</summary>
    SkReuseport = 21,
    /// <summary><c>BPF_PROG_TYPE_FLOW_DISSECTOR</c>.</summary>
    FlowDissector = 22,
    /// <summary><c>BPF_PROG_TYPE_CGROUP_SYSCTL</c>.</summary>
    CgroupSysctl = 23,
    /// <summary><c>BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE</c> (<c>SEC("raw_tp.w/name")</c>).</summary>
    RawTracepointWritable = 24,
    /// <summary><c>BPF_PROG_TYPE_CGROUP_SOCKOPT</c> (<c>SEC("cgroup/getsockopt")</c>).</summary>
    CgroupSockopt = 25,
    /// <summary><c>BPF_PROG_TYPE_TRACING</c>: fentry, fexit, fmod_ret, tp_btf, iter.</summary>
    Tracing = 26,
    /// <summary><c>BPF_PROG_TYPE_STRUCT_OPS</c>.</summary>
    StructOps = 27,
    /// <summary><c>BPF_PROG_TYPE_EXT</c>: freplace extension programs.</summary>
    Ext = 28,
    /// <summary><c>BPF_PROG_TYPE_LSM</c>.</summary>
    Lsm = 29,
    /// <summary><c>BPF_PROG_TYPE_SK_LOOKUP</c>.</summary>
    SkLookup = 30,
    /// <summary><c>BPF_PROG_TYPE_SYSCALL</c>: programs run through <c>BPF_PROG_RUN</c> that can issue bpf() syscalls.</summary>
    Syscall = 31,
    /// <summary><c>BPF_PROG_TYPE_NETFILTER</c> (Linux 6.4).</summary>
    Netfilter = 32,
}
