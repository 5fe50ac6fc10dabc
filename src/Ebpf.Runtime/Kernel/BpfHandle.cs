using System;
using System.Runtime.InteropServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>What a <see cref="BpfHandle"/> refers to.</summary>
public enum BpfHandleKind
{
    /// <summary>A BPF map (from BPF_MAP_CREATE or BPF_MAP_GET_FD_BY_ID).</summary>
    Map,
    /// <summary>A loaded BPF program (BPF_PROG_LOAD).</summary>
    Program,
    /// <summary>A BPF link (BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN), which holds a program attached while it is open or pinned.</summary>
    Link,
    /// <summary>BTF loaded into the kernel (BPF_BTF_LOAD) or a kernel module's BTF.</summary>
    Btf,
    /// <summary>A perf event (perf_event_open): a kprobe, uprobe, tracepoint or sampling event, or a perf buffer's per-CPU ring.</summary>
    PerfEvent,
    /// <summary>An epoll instance that readers wait on.</summary>
    Epoll,
    /// <summary>An eventfd, used to wake a waiting reader.</summary>
    EventFd,
    /// <summary>Any other descriptor (a socket, a netlink socket, an opened file).</summary>
    Other,
}

/// <summary>
/// A file descriptor of a kernel object (map, program, link, BTF, perf event, ...). Closing it releases the
/// process's reference; the kernel frees the object when nothing else (pin, link, attachment) holds it.
/// </summary>
public sealed class BpfHandle : SafeHandle
{
    internal BpfHandle(int fd, BpfHandleKind kind, Syscalls syscalls) : base((IntPtr)(-1), ownsHandle: true)
    {
        Kind = kind;
        Syscalls = syscalls;
        SetHandle((IntPtr)fd);
    }

    /// <summary>What the descriptor refers to; it decides what closing it waits for and how errors name it.</summary>
    public BpfHandleKind Kind { get; }
    internal Syscalls Syscalls { get; }

    /// <summary>True for a negative descriptor number (no descriptor was opened).</summary>
    public override bool IsInvalid => (long)handle < 0;

    /// <summary>The descriptor number. Valid while the handle is open; use <see cref="SafeHandle.DangerousAddRef"/> around calls that must not race with disposal (the map wrappers guard their own calls).</summary>
    public int Fd
    {
        get
        {
            if (IsClosed)
                throw new ObjectDisposedException(nameof(BpfHandle), $"the {Kind} handle is closed");
            return (int)handle;
        }
    }

    /// <summary>
    /// Closes the descriptor. For a map, first waits for element operations in flight on other threads, so that the
    /// number is not closed, and reused by another open, under them.
    /// </summary>
    /// <returns>Whether close(2) succeeded.</returns>
    protected override bool ReleaseHandle()
    {
        // Map element operations use the descriptor number without a reference count (see CallEpoch): wait for
        // those in flight on other threads so that the number is not closed, and reused, under them.
        if (Kind == BpfHandleKind.Map)
            CallEpoch.WaitForCallers();
        return Syscalls.Close((int)handle) == 0;
    }

    /// <summary>The kind and the descriptor number, as in "Map fd 7", or "closed".</summary>
    public override string ToString() => $"{Kind} fd {(IsClosed ? "closed" : ((int)handle).ToString(System.Globalization.CultureInfo.InvariantCulture))}";
}
