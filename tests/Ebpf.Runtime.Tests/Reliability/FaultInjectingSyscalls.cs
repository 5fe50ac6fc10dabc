using System;
using System.Collections.Generic;
using Ebpf.Kernel;

namespace Ebpf.Runtime.Tests.Reliability;

/// <summary>
/// The real kernel (<see cref="Syscalls.Default"/>), except that the N-th call (counting every call but close and
/// munmap) fails with a chosen errno instead of being made; or, with <see cref="Tamper"/>, a call is made and its
/// result or output altered (a kernel reporting sizes it should not). Records each call, and counts the descriptors
/// opened and closed through the seam, so that a test can check none is left open.
/// </summary>
internal sealed unsafe class FaultInjectingSyscalls : Syscalls
{
    private readonly object _sync = new object();
    private readonly HashSet<int> _open = new HashSet<int>();
    private readonly Dictionary<int, string> _openedBy = new Dictionary<int, string>();
    private readonly List<string> _calls = new List<string>();
    private readonly Dictionary<string, HashSet<uint>> _created = new Dictionary<string, HashSet<uint>>(StringComparer.Ordinal)
    {
        ["prog"] = new HashSet<uint>(),
        ["map"] = new HashSet<uint>(),
        ["link"] = new HashSet<uint>(),
    };
    private readonly Syscalls _real = Default;
    private int _count;

    /// <summary>Position (0-based, among counted calls) of the call to fail; -1 for none.</summary>
    public int FailAt { get; set; } = -1;

    /// <summary>When set, every call with this name ("bpf(BPF_MAP_CREATE)") fails too, retries and fallbacks included.</summary>
    public string? FailEvery { get; set; }

    /// <summary>The errno the failing call returns.</summary>
    public int FailErrno { get; set; }

    /// <summary>What the failed call was ("bpf(BPF_MAP_CREATE)", "perf_event_open", ...), once it has happened.</summary>
    public string? FailedCall { get; private set; }

    /// <summary>Called after a real bpf(2) call with (command, attr, result); returns the result to report.</summary>
    public Func<BpfCommand, IntPtr, int, int>? Tamper { get; set; }

    /// <summary>Counted calls so far, in order.</summary>
    public IReadOnlyList<string> Calls
    {
        get { lock (_sync) return _calls.ToArray(); }
    }

    /// <summary>Descriptors opened through the seam and not closed yet, with the call that opened each.</summary>
    public IReadOnlyDictionary<int, string> OpenDescriptors
    {
        get { lock (_sync) return new Dictionary<int, string>(_openedBy); }
    }

    /// <summary>Kernel ids ("prog", "map", "link") of every BPF object a descriptor opened through the seam referred to.</summary>
    public IReadOnlyDictionary<string, HashSet<uint>> CreatedIds
    {
        get { lock (_sync) return new Dictionary<string, HashSet<uint>>(_created); }
    }

    /// <summary>Forgets the recorded calls and the position counter (not the open descriptors) and disarms.</summary>
    public void Reset(int failAt = -1, int errno = 0)
    {
        lock (_sync)
        {
            _calls.Clear();
            _count = 0;
            FailAt = failAt;
            FailErrno = errno;
            FailedCall = null;
            FailEvery = null;
        }
    }

    /// <summary>Forgets the recorded calls and makes every call named <paramref name="call"/> fail with <paramref name="errno"/>.</summary>
    public void ResetFailingEvery(string call, int errno)
    {
        Reset(-1, errno);
        lock (_sync) FailEvery = call;
    }

    /// <summary>True when this call is the one to fail (and records it).</summary>
    private bool Next(string what)
    {
        lock (_sync)
        {
            _calls.Add(what);
            if (_count++ == FailAt || what == FailEvery)
            {
                FailedCall = what;
                return true;
            }
            return false;
        }
    }

    private int Opened(int fd, string what)
    {
        if (fd >= 0)
        {
            lock (_sync)
            {
                _open.Add(fd);
                _openedBy[fd] = what;
            }
        }
        return fd;
    }

    private static bool ReturnsFd(BpfCommand cmd) => cmd is BpfCommand.MapCreate or BpfCommand.ProgLoad or BpfCommand.ObjGet
        or BpfCommand.ProgGetFdById or BpfCommand.MapGetFdById or BpfCommand.RawTracepointOpen or BpfCommand.BtfLoad
        or BpfCommand.BtfGetFdById or BpfCommand.LinkCreate or BpfCommand.LinkGetFdById or BpfCommand.EnableStats
        or BpfCommand.IterCreate or BpfCommand.TokenCreate;

    public override int Bpf(BpfCommand cmd, void* attr, int size)
    {
        string what = $"bpf({cmd.ToKernelName()})";
        if (Next(what))
            return -FailErrno;
        int r = _real.Bpf(cmd, attr, size);
        if (Tamper != null)
        {
            int t = Tamper(cmd, (IntPtr)attr, r);
            if (t != r && r >= 0 && ReturnsFd(cmd))
                _real.Close(r); // the tamperer turned a success into a failure: the real descriptor is not handed out
            r = t;
        }
        if (!ReturnsFd(cmd))
            return r;
        if (r >= 0)
        {
            uint id = KernelObjectAudit.IdOfDescriptor(r, out string kind);
            if (id != 0)
                lock (_sync) _created[kind].Add(id);
        }
        return Opened(r, what);
    }

    public override int PerfEventOpen(void* attr, int pid, int cpu, int groupFd, ulong flags) =>
        Next("perf_event_open") ? -FailErrno : Opened(_real.PerfEventOpen(attr, pid, cpu, groupFd, flags), "perf_event_open");

    public override int Ioctl(int fd, ulong request, ulong arg) => Next($"ioctl(0x{request:x})") ? -FailErrno : _real.Ioctl(fd, request, arg);

    public override int Close(int fd)
    {
        lock (_sync)
        {
            _open.Remove(fd);
            _openedBy.Remove(fd);
        }
        return _real.Close(fd);
    }

    public override void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset, out int errno)
    {
        if (Next("mmap"))
        {
            errno = FailErrno;
            return null;
        }
        return _real.Mmap(addr, length, prot, flags, fd, offset, out errno);
    }

    public override int Munmap(void* addr, nuint length) => _real.Munmap(addr, length);

    public override int EpollCreate() => Next("epoll_create") ? -FailErrno : Opened(_real.EpollCreate(), "epoll_create");

    public override int EpollCtl(int epfd, int op, int fd, uint events, ulong data) =>
        Next("epoll_ctl") ? -FailErrno : _real.EpollCtl(epfd, op, fd, events, data);

    public override int EpollWait(int epfd, Span<EpollResult> results, int timeoutMs) =>
        Next("epoll_wait") ? -FailErrno : _real.EpollWait(epfd, results, timeoutMs);

    public override int EventFd(uint initial, int flags) => Next("eventfd") ? -FailErrno : Opened(_real.EventFd(initial, flags), "eventfd");

    public override int EventFdWrite(int fd, ulong value) => Next("eventfd_write") ? -FailErrno : _real.EventFdWrite(fd, value);

    public override int SetSockOpt(int fd, int level, int name, void* value, uint length) =>
        Next("setsockopt") ? -FailErrno : _real.SetSockOpt(fd, level, name, value, length);

    public override int Open(string path, int flags) => Next($"open({path})") ? -FailErrno : Opened(_real.Open(path, flags), $"open({path})");

    public override int Read(int fd, void* buffer, int count) => Next("read") ? -FailErrno : _real.Read(fd, buffer, count);

    public override int Socket(int domain, int type, int protocol) => Next("socket") ? -FailErrno : Opened(_real.Socket(domain, type, protocol), "socket");

    public override int Bind(int fd, void* address, uint length) => Next("bind") ? -FailErrno : _real.Bind(fd, address, length);

    public override int SendTo(int fd, void* buffer, int length, int flags, void* address, uint addressLength) =>
        Next("sendto") ? -FailErrno : _real.SendTo(fd, buffer, length, flags, address, addressLength);

    public override int Recv(int fd, void* buffer, int length, int flags) => Next("recv") ? -FailErrno : _real.Recv(fd, buffer, length, flags);

    public override int IfNameToIndex(string name) => Next("if_nametoindex") ? -FailErrno : _real.IfNameToIndex(name);

    public override string? ReadTextFile(string path, out int errno)
    {
        if (Next($"read_file({path})"))
        {
            errno = FailErrno;
            return null;
        }
        return _real.ReadTextFile(path, out errno);
    }

    public override int WriteTextFile(string path, string text, bool append) =>
        Next($"write_file({path})") ? -FailErrno : _real.WriteTextFile(path, text, append);

    public override bool PathExists(string path) => _real.PathExists(path);

    public override int Prlimit(int resource, Ebpf.Interop.Libc.RLimit64* newLimit, Ebpf.Interop.Libc.RLimit64* oldLimit) =>
        Next(newLimit != null ? "prlimit(set)" : "prlimit(get)") ? -FailErrno : _real.Prlimit(resource, newLimit, oldLimit);
}
