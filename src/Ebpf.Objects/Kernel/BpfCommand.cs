namespace Ebpf;

/// <summary>Commands of the bpf(2) system call (enum bpf_cmd).</summary>
public enum BpfCommand
{
    /// <summary><c>BPF_MAP_CREATE</c>: creates a map and returns its descriptor.</summary>
    MapCreate = 0,
    /// <summary><c>BPF_MAP_LOOKUP_ELEM</c>: reads the value of a key.</summary>
    MapLookupElem = 1,
    /// <summary><c>BPF_MAP_UPDATE_ELEM</c>: creates or updates an element.</summary>
    MapUpdateElem = 2,
    /// <summary><c>BPF_MAP_DELETE_ELEM</c>: deletes an element.</summary>
    MapDeleteElem = 3,
    /// <summary><c>BPF_MAP_GET_NEXT_KEY</c>: the key after a given key (iteration).</summary>
    MapGetNextKey = 4,
    /// <summary><c>BPF_PROG_LOAD</c>: verifies and loads a program.</summary>
    ProgLoad = 5,
    /// <summary><c>BPF_OBJ_PIN</c>: pins a map, program or link in the bpf filesystem.</summary>
    ObjPin = 6,
    /// <summary><c>BPF_OBJ_GET</c>: opens a pinned object.</summary>
    ObjGet = 7,
    /// <summary><c>BPF_PROG_ATTACH</c>: attaches a program without a link (cgroup, sockmap, flow dissector, ...).</summary>
    ProgAttach = 8,
    /// <summary><c>BPF_PROG_DETACH</c>: detaches what <see cref="ProgAttach"/> attached.</summary>
    ProgDetach = 9,
    /// <summary><c>BPF_PROG_TEST_RUN</c>: runs a program on given input (Linux 4.12).</summary>
    ProgTestRun = 10,
    /// <summary><c>BPF_PROG_GET_NEXT_ID</c>: walks the ids of loaded programs.</summary>
    ProgGetNextId = 11,
    /// <summary><c>BPF_MAP_GET_NEXT_ID</c>: walks the ids of existing maps.</summary>
    MapGetNextId = 12,
    /// <summary><c>BPF_PROG_GET_FD_BY_ID</c>: opens a program by id.</summary>
    ProgGetFdById = 13,
    /// <summary><c>BPF_MAP_GET_FD_BY_ID</c>: opens a map by id.</summary>
    MapGetFdById = 14,
    /// <summary><c>BPF_OBJ_GET_INFO_BY_FD</c>: reads a program's, map's, BTF's or link's info.</summary>
    ObjGetInfoByFd = 15,
    /// <summary><c>BPF_PROG_QUERY</c>: lists the programs attached to a hook (cgroup, tcx, netkit, ...).</summary>
    ProgQuery = 16,
    /// <summary><c>BPF_RAW_TRACEPOINT_OPEN</c>: attaches a raw tracepoint or BTF-typed tracing program (Linux 4.17).</summary>
    RawTracepointOpen = 17,
    /// <summary><c>BPF_BTF_LOAD</c>: loads BTF into the kernel (Linux 4.18).</summary>
    BtfLoad = 18,
    /// <summary><c>BPF_BTF_GET_FD_BY_ID</c>: opens a kernel BTF object by id.</summary>
    BtfGetFdById = 19,
    /// <summary><c>BPF_TASK_FD_QUERY</c>: what a task's perf event descriptor has attached.</summary>
    TaskFdQuery = 20,
    /// <summary><c>BPF_MAP_LOOKUP_AND_DELETE_ELEM</c>: pops an element (queue, stack; hash maps from Linux 5.14).</summary>
    MapLookupAndDeleteElem = 21,
    /// <summary><c>BPF_MAP_FREEZE</c>: makes a map read-only for user space (Linux 5.2).</summary>
    MapFreeze = 22,
    /// <summary><c>BPF_BTF_GET_NEXT_ID</c>: walks the ids of kernel BTF objects.</summary>
    BtfGetNextId = 23,
    /// <summary><c>BPF_MAP_LOOKUP_BATCH</c>: reads many elements in one call (Linux 5.6).</summary>
    MapLookupBatch = 24,
    /// <summary><c>BPF_MAP_LOOKUP_AND_DELETE_BATCH</c>: reads and deletes many elements in one call.</summary>
    MapLookupAndDeleteBatch = 25,
    /// <summary><c>BPF_MAP_UPDATE_BATCH</c>: updates many elements in one call.</summary>
    MapUpdateBatch = 26,
    /// <summary><c>BPF_MAP_DELETE_BATCH</c>: deletes many elements in one call.</summary>
    MapDeleteBatch = 27,
    /// <summary><c>BPF_LINK_CREATE</c>: attaches a program through a link (Linux 5.7).</summary>
    LinkCreate = 28,
    /// <summary><c>BPF_LINK_UPDATE</c>: replaces a link's program.</summary>
    LinkUpdate = 29,
    /// <summary><c>BPF_LINK_GET_FD_BY_ID</c>: opens a link by id.</summary>
    LinkGetFdById = 30,
    /// <summary><c>BPF_LINK_GET_NEXT_ID</c>: walks the ids of links.</summary>
    LinkGetNextId = 31,
    /// <summary><c>BPF_ENABLE_STATS</c>: turns on run-time statistics of programs while the descriptor is open (Linux 5.8).</summary>
    EnableStats = 32,
    /// <summary><c>BPF_ITER_CREATE</c>: opens a reader of an iterator link.</summary>
    IterCreate = 33,
    /// <summary><c>BPF_LINK_DETACH</c>: detaches a link while its descriptors stay open (Linux 5.9).</summary>
    LinkDetach = 34,
    /// <summary><c>BPF_PROG_BIND_MAP</c>: keeps a map alive as long as a program (Linux 5.10).</summary>
    ProgBindMap = 35,
    /// <summary><c>BPF_TOKEN_CREATE</c>: creates a BPF token from a delegating bpffs (Linux 6.9).</summary>
    TokenCreate = 36,
}

internal static class BpfCommandNames
{
    /// <summary>The kernel's name, e.g. "BPF_PROG_LOAD".</summary>
    public static string ToKernelName(this BpfCommand cmd) => cmd switch
    {
        BpfCommand.MapCreate => "BPF_MAP_CREATE",
        BpfCommand.MapLookupElem => "BPF_MAP_LOOKUP_ELEM",
        BpfCommand.MapUpdateElem => "BPF_MAP_UPDATE_ELEM",
        BpfCommand.MapDeleteElem => "BPF_MAP_DELETE_ELEM",
        BpfCommand.MapGetNextKey => "BPF_MAP_GET_NEXT_KEY",
        BpfCommand.ProgLoad => "BPF_PROG_LOAD",
        BpfCommand.ObjPin => "BPF_OBJ_PIN",
        BpfCommand.ObjGet => "BPF_OBJ_GET",
        BpfCommand.ProgAttach => "BPF_PROG_ATTACH",
        BpfCommand.ProgDetach => "BPF_PROG_DETACH",
        BpfCommand.ProgTestRun => "BPF_PROG_TEST_RUN",
        BpfCommand.ProgGetNextId => "BPF_PROG_GET_NEXT_ID",
        BpfCommand.MapGetNextId => "BPF_MAP_GET_NEXT_ID",
        BpfCommand.ProgGetFdById => "BPF_PROG_GET_FD_BY_ID",
        BpfCommand.MapGetFdById => "BPF_MAP_GET_FD_BY_ID",
        BpfCommand.ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
        BpfCommand.ProgQuery => "BPF_PROG_QUERY",
        BpfCommand.RawTracepointOpen => "BPF_RAW_TRACEPOINT_OPEN",
        BpfCommand.BtfLoad => "BPF_BTF_LOAD",
        BpfCommand.BtfGetFdById => "BPF_BTF_GET_FD_BY_ID",
        BpfCommand.TaskFdQuery => "BPF_TASK_FD_QUERY",
        BpfCommand.MapLookupAndDeleteElem => "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
        BpfCommand.MapFreeze => "BPF_MAP_FREEZE",
        BpfCommand.BtfGetNextId => "BPF_BTF_GET_NEXT_ID",
        BpfCommand.MapLookupBatch => "BPF_MAP_LOOKUP_BATCH",
        BpfCommand.MapLookupAndDeleteBatch => "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
        BpfCommand.MapUpdateBatch => "BPF_MAP_UPDATE_BATCH",
        BpfCommand.MapDeleteBatch => "BPF_MAP_DELETE_BATCH",
        BpfCommand.LinkCreate => "BPF_LINK_CREATE",
        BpfCommand.LinkUpdate => "BPF_LINK_UPDATE",
        BpfCommand.LinkGetFdById => "BPF_LINK_GET_FD_BY_ID",
        BpfCommand.LinkGetNextId => "BPF_LINK_GET_NEXT_ID",
        BpfCommand.EnableStats => "BPF_ENABLE_STATS",
        BpfCommand.IterCreate => "BPF_ITER_CREATE",
        BpfCommand.LinkDetach => "BPF_LINK_DETACH",
        BpfCommand.ProgBindMap => "BPF_PROG_BIND_MAP",
        BpfCommand.TokenCreate => "BPF_TOKEN_CREATE",
        _ => "BPF_CMD_" + ((int)cmd).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
