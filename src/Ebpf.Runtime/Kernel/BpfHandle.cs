using System;
using System.Runtime.InteropServices;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>What a <see cref="BpfHandle"/> refers to.</summary>
public enum BpfHandleKind
{
    Map,
    Program,
    Link,
    Btf,
    PerfEvent,
    Epoll,
    EventFd,
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

    public BpfHandleKind Kind { get; }
    internal Syscalls Syscalls { get; }

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

    protected override bool ReleaseHandle()
    {
        // Map element operations use the descriptor number without a reference count (see CallEpoch): wait for
        // those in flight on other threads so that the number is not closed, and reused, under them.
        if (Kind == BpfHandleKind.Map)
            CallEpoch.WaitForCallers();
        return Syscalls.Close((int)handle) == 0;
    }

    public override string ToString() => $"{Kind} fd {(IsClosed ? "closed" : ((int)handle).ToString(System.Globalization.CultureInfo.InvariantCulture))}";
}
