using System;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// The waiting half of the event readers: an epoll set over the rings' descriptors plus an eventfd that
/// Dispose (and cancellation) write to wake any waiter; a reference count that defers unmapping until no
/// thread is reading; and, for the async readers, a dedicated thread that does the blocking epoll_wait and
/// completes a reusable <see cref="IValueTaskSource{Boolean}"/> — so waiting allocates nothing.
/// </summary>
internal sealed class EventWaiter : IValueTaskSource<bool>
{
    internal const ulong WakeToken = ulong.MaxValue;

    private readonly Syscalls _sys;
    private readonly Action _release;
    private readonly int _epfd;
    private readonly int _wakefd;
    private int _users;
    private int _disposed;
    private int _released;

    // async waiting
    private ManualResetValueTaskSourceCore<bool> _core = new ManualResetValueTaskSourceCore<bool> { RunContinuationsAsynchronously = true };
    private Thread? _thread;
    private readonly SemaphoreSlim _request = new SemaphoreSlim(0);

    public EventWaiter(Syscalls sys, string owner, Action release)
    {
        _sys = sys;
        _release = release;
        int ep = sys.EpollCreate();
        if (ep < 0)
            throw new BpfSyscallException("epoll_create1", null, -ep, $"creating the epoll set of {owner} failed: {Errno.Name(-ep)} ({Errno.Describe(-ep)})");
        int ev = sys.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (ev < 0)
        {
            sys.Close(ep);
            throw new BpfSyscallException("eventfd", null, -ev, $"creating the wake-up eventfd of {owner} failed: {Errno.Name(-ev)} ({Errno.Describe(-ev)})");
        }
        int r = sys.EpollCtl(ep, Libc.EPOLL_CTL_ADD, ev, Libc.EPOLLIN, WakeToken);
        if (r < 0)
        {
            sys.Close(ev);
            sys.Close(ep);
            throw new BpfSyscallException("epoll_ctl", null, -r, $"adding the wake-up eventfd of {owner} failed: {Errno.Name(-r)}");
        }
        _epfd = ep;
        _wakefd = ev;
    }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Adds a ring's descriptor to the set (readable = has data).</summary>
    public void Add(int fd, ulong token, string what)
    {
        int r = _sys.EpollCtl(_epfd, Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN, token);
        if (r < 0)
            throw new BpfSyscallException("epoll_ctl", null, -r, $"adding {what} to the epoll set failed: {Errno.Name(-r)} ({Errno.Describe(-r)})");
    }

    /// <summary>Marks a reading thread in; false when disposed.</summary>
    public bool Enter()
    {
        Interlocked.Increment(ref _users);
        if (Volatile.Read(ref _disposed) == 0)
            return true;
        Exit();
        return false;
    }

    public void Exit()
    {
        if (Interlocked.Decrement(ref _users) == 0 && Volatile.Read(ref _disposed) != 0)
            ReleaseOnce();
    }

    /// <summary>
    /// The epoll timeout for a Poll's <paramref name="timeout"/>: whole milliseconds, rounded up so that a short
    /// timeout still waits; -1 (for ever) for <see cref="Timeout.InfiniteTimeSpan"/> or more than epoll can take.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public static int TimeoutMilliseconds(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return -1;
        if (timeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the timeout must be zero or positive, or Timeout.InfiniteTimeSpan to wait for ever");
        long ms = (timeout.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        return ms > int.MaxValue ? -1 : (int)ms;
    }

    /// <summary>
    /// Makes cancellation of <paramref name="cancellationToken"/> wake a waiting Poll (nothing to register, and
    /// nothing allocated, for a token that cannot be cancelled).
    /// </summary>
    public CancellationTokenRegistration WakeOn(CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(static s => ((EventWaiter)s!).Wake(), this) : default;

    /// <summary>
    /// One wait of a Poll: blocks until a ring is readable, the time left of <paramref name="timeoutMs"/> (counted
    /// from <paramref name="startTicks"/>, <see cref="Environment.TickCount64"/>) runs out, the waiter is woken
    /// (<see cref="Wake"/>, Dispose) or <paramref name="cancellationToken"/> is cancelled. Returns how many ring
    /// entries are ready at the front of <paramref name="ready"/>; 0 when the time is up, or the waiter was woken or
    /// disposed.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public int Wait(Span<EpollResult> ready, int timeoutMs, long startTicks, CancellationToken cancellationToken)
    {
        while (true)
        {
            int ms = timeoutMs;
            if (ms > 0)
            {
                long left = timeoutMs - (Environment.TickCount64 - startTicks);
                if (left <= 0) return 0;
                ms = (int)left;
            }
            int n = _sys.EpollWait(_epfd, ready, ms);
            if (n == -Errno.EINTR) continue;
            if (n < 0)
                throw new BpfSyscallException("epoll_wait", null, -n, $"waiting for events failed: {Errno.Name(-n)} ({Errno.Describe(-n)})");
            if (n == 0 || IsDisposed) return 0;
            int rings = 0;
            bool woken = false;
            for (int i = 0; i < n; i++)
            {
                if (ready[i].Data == WakeToken) woken = true;
                else ready[rings++] = ready[i];
            }
            if (woken)
            {
                DrainWake();
                cancellationToken.ThrowIfCancellationRequested();
            }
            return rings;
        }
    }

    /// <summary>Wakes every waiter (the eventfd stays readable while disposed; otherwise the next wait drains it).</summary>
    public void Wake() => _sys.EventFdWrite(_wakefd, 1);

    /// <summary>Drains the eventfd after a wake-up that was not a disposal (cancellation).</summary>
    public unsafe void DrainWake()
    {
        if (IsDisposed) return;
        ulong v;
        _sys.Read(_wakefd, &v, 8);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Wake();
        _request.Release(); // let the async wait thread see the disposal
        if (Volatile.Read(ref _users) == 0)
            ReleaseOnce();
    }

    private void ReleaseOnce()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        try
        {
            _release();
        }
        finally
        {
            _sys.Close(_wakefd);
            _sys.Close(_epfd);
        }
    }

    // ------------------------------------------------------------------ async

    /// <summary>Completes when a ring is readable or the waiter is woken (true), or at once when disposed (false).</summary>
    public ValueTask<bool> WaitAsync()
    {
        if (IsDisposed) return new ValueTask<bool>(false);
        _core.Reset();
        if (_thread == null)
        {
            _thread = new Thread(WaitLoop) { IsBackground = true, Name = "ebpf event wait" };
            _thread.UnsafeStart();
        }
        _request.Release();
        return new ValueTask<bool>(this, _core.Version);
    }

    private void WaitLoop()
    {
        Span<EpollResult> ready = stackalloc EpollResult[1];
        while (true)
        {
            _request.Wait();
            if (IsDisposed)
            {
                TryComplete(false);
                return;
            }
            bool ok = Enter();
            if (ok)
            {
                try
                {
                    int n;
                    do
                    {
                        n = _sys.EpollWait(_epfd, ready, -1);
                    }
                    while (n == -Errno.EINTR);
                }
                finally
                {
                    Exit();
                }
            }
            TryComplete(ok && !IsDisposed);
            if (!ok) return;
        }
    }

    private void TryComplete(bool value)
    {
        try { _core.SetResult(value); }
        catch (InvalidOperationException) { } // already completed
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);
    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
