using System;
using System.Buffers.Binary;
using System.Text;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

/// <summary>
/// Just enough rtnetlink for tc: create the clsact qdisc, add a direct-action cls_bpf filter (learning the handle
/// and priority the kernel chose from the echoed message) and delete it again. Everything goes through the seam.
/// </summary>
internal sealed unsafe class RouteNetlink : IDisposable
{
    public const ushort RTM_NEWQDISC = 36, RTM_DELQDISC = 37, RTM_NEWTFILTER = 44, RTM_DELTFILTER = 45, RTM_GETTFILTER = 46;
    public const ushort NLMSG_ERROR = 2, NLMSG_DONE = 3;
    public const ushort NLM_F_REQUEST = 1, NLM_F_MULTI = 2, NLM_F_ACK = 4, NLM_F_ECHO = 8, NLM_F_DUMP = 0x300,
        NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_ACK_TLVS = 0x200;
    public const ushort TCA_KIND = 1, TCA_OPTIONS = 2;
    public const ushort TCA_BPF_FD = 6, TCA_BPF_NAME = 7, TCA_BPF_FLAGS = 8, TCA_BPF_ID = 11;
    public const uint TCA_BPF_FLAG_ACT_DIRECT = 1;
    public const uint TC_H_CLSACT = 0xFFFFFFF1, TC_H_MIN_INGRESS = 0xFFF2, TC_H_MIN_EGRESS = 0xFFF3;
    public const ushort ETH_P_ALL = 0x0003;
    private const int SOL_NETLINK = 270, NETLINK_EXT_ACK = 11, NETLINK_CAP_ACK = 10;
    private const ushort NLMSGERR_ATTR_MSG = 1;

    private readonly Syscalls _sys;
    private readonly int _fd;
    private uint _seq;

    private RouteNetlink(Syscalls sys, int fd)
    {
        _sys = sys;
        _fd = fd;
        _seq = (uint)Environment.TickCount;
    }

    public static RouteNetlink Open(Syscalls sys)
    {
        int fd = sys.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW, Libc.NETLINK_ROUTE);
        if (fd < 0)
            throw new BpfSyscallException("socket(AF_NETLINK)", null, -fd, $"opening a NETLINK_ROUTE socket failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)})");
        var addr = stackalloc byte[12];
        new Span<byte>(addr, 12).Clear();
        *(ushort*)addr = Libc.AF_NETLINK;
        int r = sys.Bind(fd, addr, 12);
        if (r < 0)
        {
            sys.Close(fd);
            throw new BpfSyscallException("bind(AF_NETLINK)", null, -r, $"binding the NETLINK_ROUTE socket failed: {Errno.Name(-r)} ({Errno.Describe(-r)})");
        }
        int one = 1;
        sys.SetSockOpt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, 4); // error strings from the kernel, when it has them
        sys.SetSockOpt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, 4);
        return new RouteNetlink(sys, fd);
    }

    public void Dispose() => _sys.Close(_fd);

    /// <summary>A tc message being built: nlmsghdr + tcmsg + attributes.</summary>
    public ref struct TcMessage
    {
        private readonly Span<byte> _buf;
        private int _len;

        public TcMessage(Span<byte> buffer, ushort type, ushort flags, int ifindex, uint handle, uint parent, uint info)
        {
            _buf = buffer;
            _buf.Clear();
            _len = 16 + 20;
            BinaryPrimitives.WriteUInt16LittleEndian(_buf.Slice(4), type);
            BinaryPrimitives.WriteUInt16LittleEndian(_buf.Slice(6), flags);
            // tcmsg: family (0), pad, ifindex, handle, parent, info
            BinaryPrimitives.WriteInt32LittleEndian(_buf.Slice(20), ifindex);
            BinaryPrimitives.WriteUInt32LittleEndian(_buf.Slice(24), handle);
            BinaryPrimitives.WriteUInt32LittleEndian(_buf.Slice(28), parent);
            BinaryPrimitives.WriteUInt32LittleEndian(_buf.Slice(32), info);
        }

        public int Length => _len;

        public void AddString(ushort type, string value)
        {
            int n = Encoding.UTF8.GetByteCount(value);
            var dst = Begin(type, n + 1);
            Encoding.UTF8.GetBytes(value, dst);
            dst[n] = 0;
        }

        public void AddU32(ushort type, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Begin(type, 4), value);

        /// <summary>Opens a nested attribute; returns its offset for <see cref="EndNested"/>.</summary>
        public int BeginNested(ushort type)
        {
            int at = _len;
            Begin(type, 0);
            return at;
        }

        public void EndNested(int at) => BinaryPrimitives.WriteUInt16LittleEndian(_buf.Slice(at), (ushort)(_len - at));

        private Span<byte> Begin(ushort type, int payload)
        {
            int at = _len;
            BinaryPrimitives.WriteUInt16LittleEndian(_buf.Slice(at), (ushort)(4 + payload));
            BinaryPrimitives.WriteUInt16LittleEndian(_buf.Slice(at + 2), type);
            _len = at + Align4(4 + payload);
            return _buf.Slice(at + 4, payload);
        }

        public Span<byte> Finish(uint seq)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buf, (uint)_len);
            BinaryPrimitives.WriteUInt32LittleEndian(_buf.Slice(8), seq);
            return _buf.Slice(0, _len);
        }
    }

    private static int Align4(int n) => (n + 3) & ~3;

    /// <summary>The echoed tcmsg of a created filter.</summary>
    public struct TcReply
    {
        public bool Seen;
        public uint Handle;
        public uint Info;
    }

    /// <summary>Sends a request and waits for its acknowledgement; returns 0 or -errno, with the kernel's message.</summary>
    public int Transact(ref TcMessage msg, out TcReply reply, out string? kernelMessage)
    {
        uint seq = ++_seq;
        var bytes = msg.Finish(seq);
        var addr = stackalloc byte[12];
        new Span<byte>(addr, 12).Clear();
        *(ushort*)addr = Libc.AF_NETLINK;
        int sent;
        fixed (byte* p = bytes)
            sent = _sys.SendTo(_fd, p, bytes.Length, 0, addr, 12);
        reply = default;
        kernelMessage = null;
        if (sent < 0)
            return sent;
        var buf = new byte[32 * 1024];
        while (true)
        {
            int n;
            fixed (byte* p = buf)
                n = _sys.Recv(_fd, p, buf.Length, 0);
            if (n == -Errno.EINTR) continue;
            if (n < 0) return n;
            if (n == 0) return -Errno.EIO;
            int off = 0;
            while (off + 16 <= n)
            {
                var h = buf.AsSpan(off, n - off);
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(h);
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(h.Slice(4));
                ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h.Slice(6));
                uint mseq = BinaryPrimitives.ReadUInt32LittleEndian(h.Slice(8));
                if (len < 16 || len > (uint)(n - off))
                    return -Errno.EBADMSG;
                if (mseq == seq)
                {
                    if (type == NLMSG_ERROR)
                    {
                        if (len < 20) return -Errno.EBADMSG;
                        int error = BinaryPrimitives.ReadInt32LittleEndian(h.Slice(16));
                        if (error != 0 && (flags & NLM_F_ACK_TLVS) != 0)
                            kernelMessage = ExtAckMessage(h.Slice(0, (int)len));
                        return error;
                    }
                    if (type == NLMSG_DONE)
                        return 0;
                    if ((type == RTM_NEWTFILTER || type == RTM_NEWQDISC) && len >= 36)
                    {
                        reply.Seen = true;
                        reply.Handle = BinaryPrimitives.ReadUInt32LittleEndian(h.Slice(24));
                        reply.Info = BinaryPrimitives.ReadUInt32LittleEndian(h.Slice(32));
                    }
                }
                off += Align4((int)len);
            }
        }
    }

    private static string? ExtAckMessage(ReadOnlySpan<byte> msg)
    {
        // nlmsghdr, int error, then the original request's header (capped: NETLINK_CAP_ACK), then TLVs.
        int off = 16 + 4 + 16;
        while (off + 4 <= msg.Length)
        {
            ushort alen = BinaryPrimitives.ReadUInt16LittleEndian(msg.Slice(off));
            ushort atype = BinaryPrimitives.ReadUInt16LittleEndian(msg.Slice(off + 2));
            if (alen < 4 || off + alen > msg.Length) break;
            if ((atype & 0x3fff) == NLMSGERR_ATTR_MSG)
            {
                var s = msg.Slice(off + 4, alen - 4);
                int z = s.IndexOf((byte)0);
                return Encoding.UTF8.GetString(z >= 0 ? s.Slice(0, z) : s);
            }
            off += Align4(alen);
        }
        return null;
    }

    public static uint FilterParent(TcAttachPoint point) =>
        (TC_H_CLSACT & 0xFFFF0000u) | (point == TcAttachPoint.Ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);

    public static uint FilterInfo(ushort priority) => ((uint)priority << 16) | BinaryPrimitives.ReverseEndianness(ETH_P_ALL);

    /// <summary>Adds the clsact qdisc; returns true when this call created it, false when it was there.</summary>
    public bool EnsureClsact(int ifindex, string device)
    {
        Span<byte> buf = stackalloc byte[128];
        var m = new TcMessage(buf, RTM_NEWQDISC, (ushort)(NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE), ifindex, TC_H_CLSACT & 0xFFFF0000u, TC_H_CLSACT, 0);
        m.AddString(TCA_KIND, "clsact");
        int r = Transact(ref m, out _, out var why);
        if (r == 0) return true;
        if (r == -Errno.EEXIST) return false;
        throw new BpfSyscallException("netlink RTM_NEWQDISC", null, -r,
            $"adding the clsact qdisc to {device} failed: {Errno.Name(-r)} ({why ?? Errno.Describe(-r)})" +
            (r == -Errno.ENOENT || r == -Errno.EOPNOTSUPP ? "; the kernel lacks the clsact qdisc (CONFIG_NET_SCH_INGRESS)" : r == -Errno.EPERM ? "; tc needs CAP_NET_ADMIN" : string.Empty));
    }

    public void DeleteClsact(int ifindex)
    {
        Span<byte> buf = stackalloc byte[128];
        var m = new TcMessage(buf, RTM_DELQDISC, (ushort)(NLM_F_REQUEST | NLM_F_ACK), ifindex, TC_H_CLSACT & 0xFFFF0000u, TC_H_CLSACT, 0);
        m.AddString(TCA_KIND, "clsact");
        Transact(ref m, out _, out _);
    }

    /// <summary>Adds a direct-action cls_bpf filter; returns the handle and priority the kernel used.</summary>
    public (uint Handle, ushort Priority) AddBpfFilter(int ifindex, string device, TcAttachPoint point, int progFd, string progName, uint handle, ushort priority, bool replace)
    {
        Span<byte> buf = stackalloc byte[256];
        ushort flags = (ushort)(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_CREATE | (replace ? 0 : NLM_F_EXCL));
        var m = new TcMessage(buf, RTM_NEWTFILTER, flags, ifindex, handle, FilterParent(point), FilterInfo(priority));
        m.AddString(TCA_KIND, "bpf");
        int opts = m.BeginNested(TCA_OPTIONS);
        m.AddU32(TCA_BPF_FD, (uint)progFd);
        m.AddString(TCA_BPF_NAME, progName);
        m.AddU32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
        m.EndNested(opts);
        int r = Transact(ref m, out var reply, out var why);
        if (r < 0)
            throw new BpfSyscallException("netlink RTM_NEWTFILTER", null, -r,
                $"adding a bpf filter for program '{progName}' on {device} {point.ToString().ToLowerInvariant()} failed: {Errno.Name(-r)} ({why ?? Errno.Describe(-r)})" +
                (r == -Errno.EEXIST ? $"; a filter with handle {handle} and priority {priority} exists already" :
                 r == -Errno.ENOENT ? "; the kernel lacks the bpf classifier (CONFIG_NET_CLS_BPF)" :
                 r == -Errno.EINVAL ? "; the program must be a SCHED_CLS (tc) program" : string.Empty));
        if (!reply.Seen)
            return (handle, priority);
        return (reply.Handle, (ushort)(reply.Info >> 16));
    }

    /// <summary>Deletes a filter; 0 or -errno (-ENOENT when it is gone already).</summary>
    public int DeleteFilter(int ifindex, TcAttachPoint point, uint handle, ushort priority, out string? kernelMessage)
    {
        Span<byte> buf = stackalloc byte[128];
        var m = new TcMessage(buf, RTM_DELTFILTER, (ushort)(NLM_F_REQUEST | NLM_F_ACK), ifindex, handle, FilterParent(point), FilterInfo(priority));
        m.AddString(TCA_KIND, "bpf");
        return Transact(ref m, out _, out kernelMessage);
    }
}
