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

    // Added for attaching programs and reading events. Virtual, not abstract: a test double that does not override
    // one of these gets -ENOSYS (or null) instead of reaching the real kernel.

    /// <summary>read(2): bytes read, or -errno.</summary>
    public virtual int Read(int fd, void* buffer, int count) => -Errno.ENOSYS;
    /// <summary>socket(2) (CLOEXEC is added): the descriptor, or -errno.</summary>
    public virtual int Socket(int domain, int type, int protocol) => -Errno.ENOSYS;
    /// <summary>bind(2): 0 or -errno.</summary>
    public virtual int Bind(int fd, void* address, uint length) => -Errno.ENOSYS;
    /// <summary>sendto(2): bytes sent, or -errno.</summary>
    public virtual int SendTo(int fd, void* buffer, int length, int flags, void* address, uint addressLength) => -Errno.ENOSYS;
    /// <summary>recv(2): bytes received, or -errno.</summary>
    public virtual int Recv(int fd, void* buffer, int length, int flags) => -Errno.ENOSYS;
    /// <summary>if_nametoindex(3): the index, or -errno (-ENODEV when there is no such interface).</summary>
    public virtual int IfNameToIndex(string name) => -Errno.ENOSYS;
    /// <summary>Reads a kernel text file (sysfs, tracefs, procfs); null with <paramref name="errno"/> when it cannot.</summary>
    public virtual string? ReadTextFile(string path, out int errno)
    {
        errno = Errno.ENOSYS;
        return null;
    }
    /// <summary>Writes (or appends) to a kernel control file such as tracefs kprobe_events: 0 or -errno.</summary>
    public virtual int WriteTextFile(string path, string text, bool append) => -Errno.ENOSYS;
    /// <summary>Whether a file or directory exists.</summary>
    public virtual bool PathExists(string path) => false;

    /// <summary>
    /// prlimit(2) on this process: sets <paramref name="newLimit"/> (when not null) and returns the previous limit in
    /// <paramref name="oldLimit"/> (when not null). 0 or -errno.
    /// </summary>
    public virtual int Prlimit(int resource, Libc.RLimit64* newLimit, Libc.RLimit64* oldLimit) => -Errno.ENOSYS;
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
        // syscall(2) returns -1 and sets errno on failure: read errno only then (see Libc.SyscallBpfNoErrno).
        long r = Libc.SyscallBpfNoErrno(s_bpfNr, (int)cmd, attr, (uint)size);
        return r >= 0 ? (int)r : -Marshal.GetLastSystemError();
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

    public override int Read(int fd, void* buffer, int count) => (int)Result(Libc.Read(fd, buffer, (nuint)count));

    public override int Socket(int domain, int type, int protocol) => Result(Libc.Socket(domain, type | Libc.SOCK_CLOEXEC, protocol));

    public override int Bind(int fd, void* address, uint length) => Result(Libc.Bind(fd, address, length));

    public override int SendTo(int fd, void* buffer, int length, int flags, void* address, uint addressLength) =>
        (int)Result(Libc.SendTo(fd, buffer, (nuint)length, flags, address, addressLength));

    public override int Recv(int fd, void* buffer, int length, int flags) => (int)Result(Libc.Recv(fd, buffer, (nuint)length, flags));

    public override int IfNameToIndex(string name)
    {
        uint index = Libc.IfNameToIndex(name);
        if (index != 0) return (int)index;
        int errno = Marshal.GetLastPInvokeError();
        return -(errno == 0 ? Errno.ENODEV : errno);
    }

    public override string? ReadTextFile(string path, out int errno) => KernelFiles.Read(path, out errno);

    public override int WriteTextFile(string path, string text, bool append) => KernelFiles.Write(path, text, append);

    public override bool PathExists(string path) => System.IO.File.Exists(path) || System.IO.Directory.Exists(path);

    public override int Prlimit(int resource, Libc.RLimit64* newLimit, Libc.RLimit64* oldLimit) =>
        Result(Libc.Prlimit64(0, resource, newLimit, oldLimit));
}
