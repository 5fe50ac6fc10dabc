using System;
using System.IO;
using System.Text;
using Ebpf.Kernel;

namespace Ebpf;

// BPF iterators (SEC("iter/...")): an iterator link, read through BPF_ITER_CREATE.

/// <summary>A SEC("iter/...") program: a BPF iterator whose output is read as a stream.</summary>
public sealed class IteratorProgram : TypedProgram
{
    /// <summary>
    /// Wraps <paramref name="program"/>, which must be an iterator (SEC("iter/task"), SEC("iter/bpf_map_elem"), ...), usually one of a
    /// <see cref="BpfObject"/>'s <see cref="BpfObject.Programs"/>; a program opened from a pin or an id is judged by its type.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="program"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="program"/> is of another kind (its section, program type or expected attach type); the message says which and what this kind takes.</exception>
    public IteratorProgram(BpfProgram program)
        : base(program, ProgramKind.Iterator, "an iterator (SEC(\"iter/task\"), ...)",
            "set AttachTarget (\"task\", \"bpf_map_elem\", ...) before Load() and use IteratorProgram.Attach()") { }

    /// <summary>Creates the iterator link; read it with <see cref="IteratorLink.Open"/> or <see cref="IteratorLink.ReadAllText"/>.</summary>
    public IteratorLink Attach(IteratorOptions? options = null) => Program.AttachIterator(options);

    internal override BpfLink AttachBySection()
    {
        SectionTarget();
        return Attach();
    }

    /// <summary>Attaches, runs one pass, detaches, and returns what the program printed.</summary>
    public string ReadAllText(IteratorOptions? options = null)
    {
        using var link = Attach(options);
        return link.ReadAllText();
    }
}

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

    /// <summary>Options that make a map element iterator (iter/bpf_map_elem, iter/sockmap, ...) walk <paramref name="map"/>, which must be created (loaded) before the attach.</summary>
    public static IteratorOptions ForMap(BpfMap map) => new IteratorOptions { Map = map };
    /// <summary>Options that limit a task, task_file or task_vma iterator to the threads of process <paramref name="pid"/> (Linux 6.1; the attach throws <see cref="BpfNotSupportedException"/> before).</summary>
    public static IteratorOptions ForProcess(int pid) => new IteratorOptions { Pid = pid };
    /// <summary>Options that limit a task, task_file or task_vma iterator to thread <paramref name="tid"/> (Linux 6.1; the attach throws <see cref="BpfNotSupportedException"/> before).</summary>
    public static IteratorOptions ForThread(int tid) => new IteratorOptions { Tid = tid };
    /// <summary>Options that make a cgroup iterator (iter/cgroup) start at the cgroup v2 directory <paramref name="path"/> and walk in <paramref name="order"/> (Linux 6.1).</summary>
    public static IteratorOptions ForCgroup(string path, CgroupIteratorOrder order = CgroupIteratorOrder.Self) => new IteratorOptions { CgroupPath = path, CgroupOrder = order };
}

/// <summary>
/// A BPF iterator (SEC("iter/...")) attached with an iterator link. Each <see cref="Open"/> starts a new pass
/// (BPF_ITER_CREATE) whose output — what the program printed with bpf_seq_printf/bpf_seq_write — is read as a
/// stream; pinning the link makes `cat /sys/fs/bpf/path` run it too.
/// </summary>
public sealed class IteratorLink : FdLink
{
    internal IteratorLink(BpfProgram program, BpfHandle handle, string target) : base(program, handle, target) { }

    /// <summary>Starts a pass of the iterator; read the stream to the end to run it over every object.</summary>
    public unsafe Stream Open()
    {
        bool added = false;
        try
        {
            Handle.DangerousAddRef(ref added);
            var a = new IterCreateAttr { LinkFd = (uint)Handle.Fd };
            int fd = BpfSys.Call(Program.Syscalls, BpfCommand.IterCreate, ref a);
            if (fd < 0)
                throw BpfSys.Error(BpfCommand.IterCreate, -fd, $"for {Target}");
            return new IteratorStream(new BpfHandle(fd, BpfHandleKind.Other, Program.Syscalls), Target);
        }
        finally
        {
            if (added) Handle.DangerousRelease();
        }
    }

    /// <summary>Runs one pass and returns its output as text (UTF-8).</summary>
    public string ReadAllText()
    {
        using var s = Open();
        using var reader = new StreamReader(s, new UTF8Encoding(false), false, 4096);
        return reader.ReadToEnd();
    }

    /// <summary>Runs one pass and returns its output as bytes (for iterators that bpf_seq_write binary records).</summary>
    public byte[] ReadAllBytes()
    {
        using var s = Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}

/// <summary>A read-only, forward-only stream over an iterator's descriptor.</summary>
internal sealed class IteratorStream : Stream
{
    private readonly BpfHandle _fd;
    private readonly string _target;

    public IteratorStream(BpfHandle fd, string target)
    {
        _fd = fd;
        _target = target;
    }

    public override bool CanRead => !_fd.IsClosed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override unsafe int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            while (true)
            {
                int n;
                fixed (byte* p = buffer)
                    n = _fd.Syscalls.Read(_fd.Fd, p, buffer.Length);
                if (n == -Errno.EINTR) continue;
                if (n == -Errno.EAGAIN) continue; // the iterator asks to be called again (bpf_iter: restarted seq)
                if (n < 0)
                    throw new BpfSyscallException("read", null, -n, $"reading {_target} failed: {Errno.Name(-n)} ({Errno.Describe(-n)})" +
                        (-n == Errno.E2BIG ? "; one object's output is larger than a page: print less per object" : string.Empty));
                return n;
            }
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _fd.Dispose();
        base.Dispose(disposing);
    }
}

public partial class BpfProgram
{
    internal unsafe IteratorLink AttachIterator(IteratorOptions? options)
    {
        RequireType("an iterator link", BpfProgramType.Tracing);
        if (ExpectedAttachType != BpfAttachType.TraceIter)
            throw new InvalidOperationException($"program '{Name}' is not an iterator (SEC(\"iter/...\"))");
        var info = stackalloc byte[16];
        new Span<byte>(info, 16).Clear();
        BpfHandle? cgroup = null;
        bool hasInfo = false;
        string target = "iter/" + (AttachTarget ?? "?");
        try
        {
            if (options != null)
            {
                if (options.Map != null)
                {
                    *(uint*)info = (uint)options.Map.Fd;
                    target += $" over map '{options.Map.Name}'";
                    hasInfo = true;
                }
                else if (options.CgroupPath != null)
                {
                    if (!KernelFeatures.For(Syscalls).CgroupIteratorParameters)
                        throw KernelFeatures.Missing("cgroup iterator parameters (bpf_iter_link_info.cgroup)", "6.1", $"iterator '{Name}' ({target}) over cgroup {options.CgroupPath}");
                    cgroup = OpenDirectory(options.CgroupPath, "cgroup");
                    *(uint*)info = (uint)options.CgroupOrder;
                    *(uint*)(info + 4) = (uint)cgroup.Fd;
                    target += $" over cgroup {options.CgroupPath} ({options.CgroupOrder})";
                    hasInfo = true;
                }
                else if (options.Tid > 0 || options.Pid > 0 || options.PidFd > 0)
                {
                    // A kernel without them would ignore a tid (it shares the map_fd slot) and iterate every task.
                    if (!KernelFeatures.For(Syscalls).TaskIteratorParameters)
                        throw KernelFeatures.Missing("task iterator parameters (bpf_iter_link_info.task: tid, pid, pid_fd)", "6.1",
                            $"iterator '{Name}' ({target}) for {(options.Tid > 0 ? $"thread {options.Tid}" : options.Pid > 0 ? $"process {options.Pid}" : "a pidfd")}; without them, filter on the task's pid in the program");
                    *(uint*)info = (uint)Math.Max(options.Tid, 0);
                    *(uint*)(info + 4) = (uint)Math.Max(options.Pid, 0);
                    *(uint*)(info + 8) = (uint)Math.Max(options.PidFd, 0);
                    target += options.Tid > 0 ? $" for thread {options.Tid}" : options.Pid > 0 ? $" for process {options.Pid}" : " for a pidfd";
                    hasInfo = true;
                }
            }
            var a = new LinkCreateAttr { ProgFd = (uint)Fd, AttachType = (uint)BpfAttachType.TraceIter, IterInfo = hasInfo ? (ulong)info : 0, IterInfoLen = hasInfo ? 16u : 0 };
            int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
            if (fd < 0)
                throw BpfSys.Error(BpfCommand.LinkCreate, -fd, $"of iterator '{Name}' ({target})",
                    (-fd == Errno.EINVAL || -fd == Errno.E2BIG) && hasInfo ? "the kernel refused the iterator's parameters" : null);
            return new IteratorLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), target);
        }
        finally
        {
            cgroup?.Dispose();
        }
    }
}
