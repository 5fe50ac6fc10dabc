using System;

namespace Ebpf;

/// <summary>Map flags: the kernel's <c>BPF_F_*</c> values of <c>map_flags</c> at <c>BPF_MAP_CREATE</c>.</summary>
[Flags]
public enum BpfMapFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary><c>BPF_F_NO_PREALLOC</c>: allocate hash elements on demand (required for some map types).</summary>
    NoPrealloc = 1u << 0,
    /// <summary><c>BPF_F_NO_COMMON_LRU</c>: an LRU list per CPU instead of one shared list.</summary>
    NoCommonLru = 1u << 1,
    /// <summary><c>BPF_F_NUMA_NODE</c>: allocate on the map's NUMA node.</summary>
    NumaNode = 1u << 2,
    /// <summary><c>BPF_F_RDONLY</c>: read-only for user space through this descriptor.</summary>
    ReadOnly = 1u << 3,
    /// <summary><c>BPF_F_WRONLY</c>: write-only for user space through this descriptor.</summary>
    WriteOnly = 1u << 4,
    /// <summary><c>BPF_F_STACK_BUILD_ID</c>: a stack trace map stores build ids and offsets instead of addresses.</summary>
    StackBuildId = 1u << 5,
    /// <summary><c>BPF_F_ZERO_SEED</c>: hash with a zero seed (for tests).</summary>
    ZeroSeed = 1u << 6,
    /// <summary><c>BPF_F_RDONLY_PROG</c>: programs can only read the map (.rodata).</summary>
    ReadOnlyProg = 1u << 7,
    /// <summary><c>BPF_F_WRONLY_PROG</c>: programs can only write the map.</summary>
    WriteOnlyProg = 1u << 8,
    /// <summary><c>BPF_F_CLONE</c>: clone socket local storage to child sockets.</summary>
    Clone = 1u << 9,
    /// <summary><c>BPF_F_MMAPABLE</c>: the array can be memory-mapped (global data sections).</summary>
    Mmapable = 1u << 10,
    /// <summary><c>BPF_F_PRESERVE_ELEMS</c>: a perf event array keeps its events when the map's descriptor is closed.</summary>
    PreserveElems = 1u << 11,
    /// <summary><c>BPF_F_INNER_MAP</c>: an inner map whose max_entries may differ between instances.</summary>
    InnerMap = 1u << 12,
    /// <summary><c>BPF_F_LINK</c>: a struct_ops map registered through a bpf_link (<c>.struct_ops.link</c>).</summary>
    Link = 1u << 13,
    /// <summary><c>BPF_F_PATH_FD</c>: the pin path is relative to a directory descriptor.</summary>
    PathFd = 1u << 14,
    /// <summary><c>BPF_F_VTYPE_BTF_OBJ_FD</c>: the value type is a BTF id in the module BTF given by descriptor.</summary>
    VtypeBtfObjFd = 1u << 15,
    /// <summary><c>BPF_F_TOKEN_FD</c>: created with a BPF token.</summary>
    TokenFd = 1u << 16,
    /// <summary><c>BPF_F_SEGV_ON_FAULT</c>: an arena fault raises SIGSEGV in user space.</summary>
    SegvOnFault = 1u << 17,
    /// <summary><c>BPF_F_NO_USER_CONV</c>: arena pointers are not converted to user-space addresses.</summary>
    NoUserConv = 1u << 18,
}

/// <summary>Program load flags: the kernel's <c>BPF_F_*</c> values of <c>prog_flags</c> at <c>BPF_PROG_LOAD</c>.</summary>
[Flags]
public enum BpfProgramFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary><c>BPF_F_STRICT_ALIGNMENT</c>: the verifier checks alignment as on architectures without efficient unaligned access.</summary>
    StrictAlignment = 1u << 0,
    /// <summary><c>BPF_F_ANY_ALIGNMENT</c>: the verifier skips alignment checks (testing only).</summary>
    AnyAlignment = 1u << 1,
    /// <summary><c>BPF_F_TEST_RND_HI32</c>: the verifier randomizes the upper 32 bits of 32-bit results (testing only).</summary>
    TestRandomHigh32 = 1u << 2,
    /// <summary><c>BPF_F_TEST_STATE_FREQ</c>: the verifier checkpoints state more often (testing only).</summary>
    TestStateFrequency = 1u << 3,
    /// <summary><c>BPF_F_SLEEPABLE</c>: the program may sleep (the <c>.s</c> sections: fentry.s, lsm.s, uprobe.s, ...).</summary>
    Sleepable = 1u << 4,
    /// <summary><c>BPF_F_XDP_HAS_FRAGS</c>: the XDP program handles multi-buffer packets (<c>xdp.frags</c>).</summary>
    XdpHasFrags = 1u << 5,
    /// <summary><c>BPF_F_XDP_DEV_BOUND_ONLY</c>: the XDP program is bound to one device.</summary>
    XdpDeviceBoundOnly = 1u << 6,
    /// <summary><c>BPF_F_TEST_REG_INVARIANTS</c>: the verifier checks its register bounds invariants (testing only).</summary>
    TestRegisterInvariants = 1u << 7,
    /// <summary><c>BPF_F_TOKEN_FD</c>: loaded with a BPF token.</summary>
    TokenFd = 1u << 16,
}
