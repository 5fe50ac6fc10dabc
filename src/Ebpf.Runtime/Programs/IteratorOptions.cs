namespace Ebpf;

/// <summary>Order of a cgroup iterator's walk (enum bpf_cgroup_iter_order).</summary>
public enum CgroupIteratorOrder : uint
{
    /// <summary>Only the cgroup itself.</summary>
    Self = 1,
    /// <summary>Pre-order walk of the descendants.</summary>
    DescendantsPreOrder = 2,
    /// <summary>Post-order walk of the descendants.</summary>
    DescendantsPostOrder = 3,
    /// <summary>From the cgroup up to the root.</summary>
    Ancestors = 4,
}

/// <summary>What an iterator walks (union bpf_iter_link_info): a map's elements, a cgroup tree, or one process's tasks, files or VMAs.</summary>
public sealed class IteratorOptions
{
    /// <summary>For map element iterators (iter/bpf_map_elem, iter/sockmap...): the map to walk.</summary>
    public BpfMap? Map { get; set; }
    /// <summary>For task, task_file and task_vma iterators: only this thread (Linux 6.1).</summary>
    public int Tid { get; set; }
    /// <summary>For task, task_file and task_vma iterators: only this process's threads (Linux 6.1).</summary>
    public int Pid { get; set; }
    /// <summary>For task iterators: the process behind this pidfd (Linux 6.1).</summary>
    public int PidFd { get; set; }
    /// <summary>For cgroup iterators (iter/cgroup): where to start.</summary>
    public string? CgroupPath { get; set; }
    /// <summary>For cgroup iterators: the walk order.</summary>
    public CgroupIteratorOrder CgroupOrder { get; set; } = CgroupIteratorOrder.Self;

    public static IteratorOptions ForMap(BpfMap map) => new IteratorOptions { Map = map };
    public static IteratorOptions ForProcess(int pid) => new IteratorOptions { Pid = pid };
    public static IteratorOptions ForThread(int tid) => new IteratorOptions { Tid = tid };
    public static IteratorOptions ForCgroup(string path, CgroupIteratorOrder order = CgroupIteratorOrder.Self) => new IteratorOptions { CgroupPath = path, CgroupOrder = order };
}
