using System;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// An attachment of a program to a hook. Disposing the link detaches the program (unless the link is pinned).
/// Links of a program that belongs to a <see cref="BpfObject"/> are owned by that object: its
/// <see cref="BpfObject.Detach"/> and Dispose (and a skeleton's) dispose them too.
/// </summary>
public abstract class BpfLink : IDisposable
{
    private int _disposed;
    private readonly BpfObject? _owner;

    private protected BpfLink(BpfProgram program)
    {
        Program = program;
        // The program's object owns the link from now on: its Detach and Dispose (and a skeleton's) remove it.
        _owner = program.Object;
        _owner?.Own(this);
    }

    /// <summary>The attached program.</summary>
    public BpfProgram Program { get; private set; }

    /// <summary>Whether <see cref="Dispose"/> was called, directly or by the program's object; a pinned link stays attached after it.</summary>
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
    public string? PinPath { get; private set; }

    /// <summary>Pins the link on a bpf filesystem so that it outlives this process (only for kernel bpf_link objects).</summary>
    /// <exception cref="NotSupportedException">This kind of attachment is not a kernel link object.</exception>
    /// <exception cref="ObjectDisposedException">The link was disposed.</exception>
    public void Pin(string path)
    {
        if (path is null) throw new ArgumentNullException(nameof(path));
        ThrowIfDisposed();
        PinCore(path);
        PinPath = path;
    }

    /// <summary>Removes the pin (allowed after Dispose: the pin is a file that outlives the descriptor).</summary>
    public void Unpin()
    {
        if (PinPath == null) return;
        System.IO.File.Delete(PinPath);
        PinPath = null;
    }

    /// <summary>Replaces the attached program atomically.</summary>
    /// <exception cref="NotSupportedException">This kind of attachment cannot replace its program.</exception>
    /// <exception cref="ObjectDisposedException">The link was disposed.</exception>
    public void Update(BpfProgram program)
    {
        if (program is null) throw new ArgumentNullException(nameof(program));
        ThrowIfDisposed();
        UpdateCore(program);
        Program = program;
    }

    /// <summary>Detaches the program now, even when the link is pinned. Nothing to do once the link is disposed.</summary>
    public void Detach()
    {
        if (IsDisposed) return;
        DetachCore();
    }

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
            _owner?.Disown(this);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the link is disposed.</summary>
    private protected void ThrowIfDisposed()
    {
        if (IsDisposed)
            throw new ObjectDisposedException(GetType().Name, $"the link of program '{Program.Name}' ({Target}) is disposed");
    }

    private protected virtual void PinCore(string path) =>
        throw new NotSupportedException($"{GetType().Name} ({Target}) is not a kernel link object and cannot be pinned");

    private protected virtual void UpdateCore(BpfProgram program) =>
        throw new NotSupportedException($"{GetType().Name} ({Target}) cannot replace its program; detach and attach the new one");

    /// <summary>Detaches now; by default by releasing the link (attachments that a pin cannot hold).</summary>
    private protected virtual void DetachCore() => Dispose();

    /// <summary>Closes what the link holds (descriptors, perf events, kprobe_events entries, netlink attachments).</summary>
    private protected abstract void Release();

    internal void SetProgram(BpfProgram program) => Program = program;

    /// <summary>A link that became a member of a <see cref="LinkGroup"/>: the group is what its object keeps.</summary>
    internal void LeaveOwner() => _owner?.Disown(this);

    /// <summary>The link's kind, program and hook, as in "TracepointLink: handle_exec → tracepoint sched/sched_process_exec".</summary>
    public override string ToString() => $"{GetType().Name}: {Program.Name} → {Target}";
}
