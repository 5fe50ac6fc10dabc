using System;
using System.Runtime.InteropServices;
using System.Threading;
using Ebpf.Interop;

namespace Ebpf.Kernel;

/// <summary>One (events, data) pair returned by epoll_wait.</summary>
internal struct EpollResult
{
    public uint Events;
    public ulong Data;
}

/// <summary>
/// The one seam between the runtime and the kernel: every system call the loader makes goes through an instance of
/// this class. Results follow the kernel convention: a non-negative result, or -errno. Tests substitute a subclass
/// (see <see cref="Override"/>) to inject failures; objects capture the instance current when they are created.
/// </summary>
internal abstract unsafe class Syscalls
{
    public static Syscalls Default { get; } = new LinuxSyscalls();

    private static readonly AsyncLocal<Syscalls?> s_override = new AsyncLocal<Syscalls?>();

    /// <summary>The seam in effect for the current async flow.</summary>
    public static Syscalls Current => s_override.Value ?? Default;

    /// <summary>Makes <paramref name="syscalls"/> current for this async flow until the result is disposed.</summary>
    public static IDisposable Override(Syscalls syscalls)
    {
        var previous = s_override.Value;
        s_override.Value = syscalls;
        return new Restore(previous);
    }

    private sealed class Restore : IDisposable
    {
        private readonly Syscalls? _previous;
        public Restore(Syscalls? previous) => _previous = previous;
        public void Dispose() => s_override.Value = _previous;
    }

    public abstract int Bpf(BpfCommand cmd, void* attr, int size);
    public abstract int PerfEventOpen(void* attr, int pid, int cpu, int groupFd, ulong flags);
    public abstract int Ioctl(int fd, ulong request, ulong arg);
    public abstract int Close(int fd);
    /// <summary>Returns the mapping, or null with <paramref name="errno"/> set.</summary>
    public abstract void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset, out int errno);
    public abstract int Munmap(void* addr, nuint length);
    public abstract int EpollCreate();
    public abstract int EpollCtl(int epfd, int op, int fd, uint events, ulong data);
    public abstract int EpollWait(int epfd, Span<EpollResult> results, int timeoutMs);
    public abstract int EventFd(uint initial, int flags);
    public abstract int EventFdWrite(int fd, ulong value);
    public abstract int SetSockOpt(int fd, int level, int name, void* value, uint length);
    public abstract int Open(string path, int flags);
}

/// <summary>The real kernel, through libc.</summary>
internal sealed unsafe class LinuxSyscalls : Syscalls
{
    private static readonly long s_bpfNr;
    private static readonly long s_perfNr;

    static LinuxSyscalls()
    {
        switch (RuntimeInformation.ProcessArchitecture)
        {
            case Architecture.X64:
                s_bpfNr = 321; s_perfNr = 298; break;
            case Architecture.Arm64:
                s_bpfNr = 280; s_perfNr = 241; break;
            case Architecture.X86:
                s_bpfNr = 357; s_perfNr = 336; break;
            case Architecture.Arm:
                s_bpfNr = 386; s_perfNr = 364; break;
            default:
                s_bpfNr = -1; s_perfNr = -1; break;
        }
    }

    private static int Result(long r) => r >= 0 ? (int)r : -Marshal.GetLastPInvokeError();

    public override int Bpf(BpfCommand cmd, void* attr, int size)
    {
        if (s_bpfNr < 0) return -Errno.ENOSYS;
        return Result(Libc.SyscallBpf(s_bpfNr, (int)cmd, attr, (uint)size));
    }

    public override int PerfEventOpen(void* attr, int pid, int cpu, int groupFd, ulong flags)
    {
        if (s_perfNr < 0) return -Errno.ENOSYS;
        return Result(Libc.SyscallPerfEventOpen(s_perfNr, attr, pid, cpu, groupFd, flags));
    }

    public override int Ioctl(int fd, ulong request, ulong arg) => Result(Libc.Ioctl(fd, request, arg));

    public override int Close(int fd) => Result(Libc.Close(fd));

    public override void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset, out int errno)
    {
        void* p = Libc.Mmap(addr, length, prot, flags, fd, offset);
        if (p == (void*)-1)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        errno = 0;
        return p;
    }

    public override int Munmap(void* addr, nuint length) => Result(Libc.Munmap(addr, length));

    public override int EpollCreate() => Result(Libc.EpollCreate1(Libc.EPOLL_CLOEXEC));

    public override int EpollCtl(int epfd, int op, int fd, uint events, ulong data)
    {
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            var ev = new Libc.EpollEventPacked { Events = events, Data = data };
            return Result(Libc.EpollCtl(epfd, op, fd, &ev));
        }
        var ev2 = new Libc.EpollEventAligned { Events = events, Data = data };
        return Result(Libc.EpollCtl(epfd, op, fd, &ev2));
    }

    public override int EpollWait(int epfd, Span<EpollResult> results, int timeoutMs)
    {
        int max = Math.Min(results.Length, 64);
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            var evs = stackalloc Libc.EpollEventPacked[max];
            int n = Result(Libc.EpollWait(epfd, evs, max, timeoutMs));
            for (int i = 0; i < n; i++) results[i] = new EpollResult { Events = evs[i].Events, Data = evs[i].Data };
            return n;
        }
        else
        {
            var evs = stackalloc Libc.EpollEventAligned[max];
            int n = Result(Libc.EpollWait(epfd, evs, max, timeoutMs));
            for (int i = 0; i < n; i++) results[i] = new EpollResult { Events = evs[i].Events, Data = evs[i].Data };
            return n;
        }
    }

    public override int EventFd(uint initial, int flags) => Result(Libc.EventFd(initial, flags));

    public override int EventFdWrite(int fd, ulong value) => Result(Libc.Write(fd, &value, 8));

    public override int SetSockOpt(int fd, int level, int name, void* value, uint length) =>
        Result(Libc.SetSockOpt(fd, level, name, value, length));

    public override int Open(string path, int flags) => Result(Libc.Open(path, flags | Libc.O_CLOEXEC, 0));
}
