using System;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// An attachment of a program to a hook. Disposing the link detaches the program (unless the link is pinned).
/// </summary>
public abstract class BpfLink : IDisposable
{
    private int _disposed;

    protected BpfLink(BpfProgram program)
    {
        Program = program;
    }

    /// <summary>The attached program.</summary>
    public BpfProgram Program { get; private set; }

    public bool IsDisposed => _disposed != 0;

    /// <summary>
    /// Whether the program is still attached through this link: false once the link is disposed or detached, and
    /// for kernel links whose hook went away (a deleted interface, a removed cgroup, an ended network namespace, a
    /// BPF_LINK_DETACH by another process), which the kernel reports in the link's info.
    /// </summary>
    public virtual bool IsAttached => !IsDisposed;

    /// <summary>A description of the hook ("tracepoint syscalls/sys_enter_getpid", "xdp on veth0 (ifindex 5)", ...).</summary>
    public abstract string Target { get; }

    /// <summary>Where the link is pinned, or null.</summary>
    public string? PinPath { get; protected set; }

    /// <summary>Pins the link on a bpf filesystem so that it outlives this process (only for kernel bpf_link objects).</summary>
    public virtual void Pin(string path) =>
        throw new NotSupportedException($"{GetType().Name} ({Target}) is not a kernel link object and cannot be pinned");

    /// <summary>Removes the pin.</summary>
    public virtual void Unpin()
    {
        if (PinPath == null) return;
        System.IO.File.Delete(PinPath);
        PinPath = null;
    }

    /// <summary>Replaces the attached program atomically.</summary>
    public virtual void Update(BpfProgram program) =>
        throw new NotSupportedException($"{GetType().Name} ({Target}) cannot replace its program; detach and attach the new one");

    internal void SetProgram(BpfProgram program) => Program = program;

    /// <summary>Detaches the program now, even when the link is pinned.</summary>
    public abstract void Detach();

    /// <summary>Releases the link; the program is detached unless the link is pinned.</summary>
    public void Dispose()
    {
        if (System.Threading.Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            Release();
        }
        finally
        {
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Closes what the link holds (descriptors, perf events, kprobe_events entries, netlink attachments).</summary>
    protected abstract void Release();

    public override string ToString() => $"{GetType().Name}: {Program.Name} → {Target}";
}
