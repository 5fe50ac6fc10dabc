using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Ebpf.Kernel;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// A scripted kernel for unit tests of the attach paths: records every call, hands out descriptors it tracks
/// (so tests can check that failures close everything), serves files from a dictionary and answers bpf(2) and
/// perf_event_open(2) as configured.
/// </summary>
internal sealed unsafe class FakeSyscalls : Syscalls
{
    private int _nextFd = 100;

    public readonly HashSet<int> OpenFds = new HashSet<int>();
    public readonly List<int> DoubleCloses = new List<int>();
    public readonly Dictionary<string, string> Files = new Dictionary<string, string>(StringComparer.Ordinal);
    public readonly List<(string Path, string Text, bool Append)> Writes = new List<(string, string, bool)>();
    public readonly List<string> Log = new List<string>();

    /// <summary>Answer for a bpf command (null: a new descriptor for *_CREATE/LOAD/OPEN commands, 0 otherwise).</summary>
    public Func<BpfCommand, int?>? BpfAnswer { get; set; }
    /// <summary>Answer for perf_event_open (null: a new descriptor).</summary>
    public Func<PerfEventAttr, int?>? PerfAnswer { get; set; }
    /// <summary>Called on every text-file write; returns 0 or -errno.</summary>
    public Func<string, string, int>? OnWrite { get; set; }

    public readonly List<(PerfEventAttr Attr, string? Config1String, int Pid, int Cpu, int Fd)> PerfEvents = new List<(PerfEventAttr, string?, int, int, int)>();
    public readonly List<(LinkCreateAttr Attr, string[] Symbols, int Result)> LinkCreates = new List<(LinkCreateAttr, string[], int)>();
    public readonly List<(int Fd, ulong Request, ulong Arg)> Ioctls = new List<(int, ulong, ulong)>();
    public readonly List<byte[]> NetlinkSent = new List<byte[]>();
    public readonly Queue<byte[]> NetlinkReplies = new Queue<byte[]>();
    /// <summary>Builds the replies to one netlink request (default: an ACK with error 0, plus an echo of NEWTFILTER requests).</summary>
    public Func<byte[], IEnumerable<byte[]>>? NetlinkResponder { get; set; }

    public int NewFd()
    {
        int fd = _nextFd++;
        OpenFds.Add(fd);
        return fd;
    }

    public BpfProgram NewProgram(BpfProgramType type, string name = "prog", string section = "", BpfAttachType? expected = null)
    {
        var p = new BpfProgram(null, null, name, section, type, this);
        if (expected.HasValue) p.ExpectedAttachType = expected;
        p.SetHandle(new BpfHandle(NewFd(), BpfHandleKind.Program, this), 42);
        return p;
    }

    public override int Bpf(BpfCommand cmd, void* attr, int size)
    {
        string[] syms = Array.Empty<string>();
        if (cmd == BpfCommand.LinkCreate)
        {
            var la = *(LinkCreateAttr*)attr;
            if (la.KprobeMultiSyms != 0 && la.AttachType == (uint)BpfAttachType.TraceKprobeMulti)
            {
                syms = new string[la.KprobeMultiCnt];
                for (int i = 0; i < syms.Length; i++)
                    syms[i] = Marshal.PtrToStringUTF8((IntPtr)((ulong*)la.KprobeMultiSyms)[i])!;
            }
        }
        int? answer = BpfAnswer?.Invoke(cmd);
        int r = answer ?? (cmd is BpfCommand.LinkCreate or BpfCommand.ProgLoad or BpfCommand.MapCreate or BpfCommand.RawTracepointOpen or BpfCommand.IterCreate ? NewFd() : 0);
        if (answer.HasValue && answer.Value >= 0 && cmd is BpfCommand.LinkCreate or BpfCommand.ProgLoad) OpenFds.Add(answer.Value);
        if (cmd == BpfCommand.LinkCreate)
            LinkCreates.Add((*(LinkCreateAttr*)attr, syms, r));
        Log.Add($"bpf({cmd}) = {r}");
        return r;
    }

    public override int PerfEventOpen(void* attr, int pid, int cpu, int groupFd, ulong flags)
    {
        var a = *(PerfEventAttr*)attr;
        string? s = a.Type is not (PerfEventAttr.TypeTracepoint or PerfEventAttr.TypeSoftware or PerfEventAttr.TypeHardware or PerfEventAttr.TypeBreakpoint) && a.Config1 != 0
            ? Marshal.PtrToStringUTF8((IntPtr)a.Config1) : null;
        int r = PerfAnswer?.Invoke(a) ?? NewFd();
        PerfEvents.Add((a, s, pid, cpu, r));
        Log.Add($"perf_event_open(type {a.Type}, config 0x{a.Config:x}, {s}, +0x{a.Config2:x}, pid {pid}, cpu {cpu}) = {r}");
        return r;
    }

    public override int Ioctl(int fd, ulong request, ulong arg)
    {
        Ioctls.Add((fd, request, arg));
        Log.Add($"ioctl({fd}, 0x{request:x}, {arg})");
        return 0;
    }

    public override int Close(int fd)
    {
        if (!OpenFds.Remove(fd)) DoubleCloses.Add(fd);
        Log.Add($"close({fd})");
        return 0;
    }

    /// <summary>Answer for mmap (length, offset) → memory, or null for ENOSYS.</summary>
    public Func<nuint, long, IntPtr>? MmapAnswer { get; set; }

    public override void* Mmap(void* addr, nuint length, int prot, int flags, int fd, long offset, out int errno)
    {
        var p = MmapAnswer?.Invoke(length, offset) ?? IntPtr.Zero;
        errno = p == IntPtr.Zero ? Errno.ENOSYS : 0;
        return (void*)p;
    }

    public override int Munmap(void* addr, nuint length) => 0;
    public override int EpollCreate() => NewFd();
    public override int EpollCtl(int epfd, int op, int fd, uint events, ulong data) => 0;
    public override int EpollWait(int epfd, Span<EpollResult> results, int timeoutMs) => 0;
    public override int EventFd(uint initial, int flags) => NewFd();
    public override int EventFdWrite(int fd, ulong value) => 8;
    public override int SetSockOpt(int fd, int level, int name, void* value, uint length) => 0;
    public override int Open(string path, int flags) => NewFd();

    public override string? ReadTextFile(string path, out int errno)
    {
        if (Files.TryGetValue(path, out var text))
        {
            errno = 0;
            return text;
        }
        errno = Errno.ENOENT;
        return null;
    }

    public override int WriteTextFile(string path, string text, bool append)
    {
        Writes.Add((path, text, append));
        Log.Add($"write({path}, \"{text.TrimEnd()}\")");
        return OnWrite?.Invoke(path, text) ?? 0;
    }

    public override bool PathExists(string path) =>
        Files.ContainsKey(path) || Files.Keys.Any(k => k.StartsWith(path + "/", StringComparison.Ordinal));

    public override int IfNameToIndex(string name) => name == "eth-fake" ? 7 : -Errno.ENODEV;

    /// <summary>This fake process's RLIMIT_MEMLOCK (soft, hard).</summary>
    public (ulong Current, ulong Maximum) Memlock { get; set; } = (64 * 1024, 64 * 1024);
    /// <summary>Answer for a prlimit that sets RLIMIT_MEMLOCK to (soft, hard): 0 (the default: allowed) or -errno.</summary>
    public Func<(ulong Current, ulong Maximum), int>? OnSetMemlock { get; set; }

    public override int Prlimit(int resource, Ebpf.Interop.Libc.RLimit64* newLimit, Ebpf.Interop.Libc.RLimit64* oldLimit)
    {
        if (resource != Ebpf.Interop.Libc.RLIMIT_MEMLOCK) return -Errno.EINVAL;
        if (oldLimit != null) *oldLimit = new Ebpf.Interop.Libc.RLimit64 { Current = Memlock.Current, Maximum = Memlock.Maximum };
        if (newLimit == null) return 0;
        var want = (newLimit->Current, newLimit->Maximum);
        int r = OnSetMemlock?.Invoke(want) ?? 0;
        Log.Add($"prlimit(RLIMIT_MEMLOCK, {want.Item1}, {want.Item2}) = {r}");
        if (r == 0) Memlock = want;
        return r;
    }

    // ------------------------------------------------------------------ netlink

    public override int Socket(int domain, int type, int protocol)
    {
        Log.Add($"socket({domain}, {type}, {protocol})");
        return NewFd();
    }

    public override int Bind(int fd, void* address, uint length) => 0;

    public override int SendTo(int fd, void* buffer, int length, int flags, void* address, uint addressLength)
    {
        var msg = new ReadOnlySpan<byte>(buffer, length).ToArray();
        NetlinkSent.Add(msg);
        foreach (var reply in (NetlinkResponder ?? DefaultNetlinkReplies)(msg))
            NetlinkReplies.Enqueue(reply);
        return length;
    }

    public override int Recv(int fd, void* buffer, int length, int flags)
    {
        if (NetlinkReplies.Count == 0) return -Errno.EAGAIN;
        var r = NetlinkReplies.Dequeue();
        r.AsSpan().CopyTo(new Span<byte>(buffer, length));
        return r.Length;
    }

    public static IEnumerable<byte[]> DefaultNetlinkReplies(byte[] request)
    {
        ushort type = BitConverter.ToUInt16(request, 4);
        uint seq = BitConverter.ToUInt32(request, 8);
        if (type == 44) // RTM_NEWTFILTER: echo with the kernel's choices (handle 1, priority 49152)
        {
            var echo = (byte[])request.Clone();
            BitConverter.GetBytes((uint)1).CopyTo(echo, 24);
            uint info = BitConverter.ToUInt32(request, 32);
            if (info >> 16 == 0) info |= 49152u << 16;
            BitConverter.GetBytes(info).CopyTo(echo, 32);
            yield return echo;
        }
        yield return Ack(seq, 0);
    }

    public static byte[] Ack(uint seq, int error)
    {
        var b = new byte[36];
        BitConverter.GetBytes(36u).CopyTo(b, 0);
        BitConverter.GetBytes((ushort)2).CopyTo(b, 4);
        BitConverter.GetBytes(seq).CopyTo(b, 8);
        BitConverter.GetBytes(error).CopyTo(b, 16);
        return b;
    }

    /// <summary>The netlink attributes of a tc message (after nlmsghdr + tcmsg), nested ones flattened with their parent's type.</summary>
    public static List<(ushort Type, byte[] Value)> TcAttributes(byte[] msg, int start = 36, int end = -1)
    {
        var list = new List<(ushort, byte[])>();
        if (end < 0) end = BitConverter.ToInt32(msg, 0);
        int off = start;
        while (off + 4 <= end)
        {
            ushort len = BitConverter.ToUInt16(msg, off);
            ushort type = BitConverter.ToUInt16(msg, off + 2);
            list.Add((type, msg.AsSpan(off + 4, len - 4).ToArray()));
            off += (len + 3) & ~3;
        }
        return list;
    }

    public static string CString(byte[] v) => Encoding.UTF8.GetString(v, 0, Array.IndexOf(v, (byte)0) is int z and >= 0 ? z : v.Length);
}
