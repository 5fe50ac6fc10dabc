using System;
using System.Runtime.InteropServices;
using Ebpf.Interop;
using Ebpf.Kernel;

namespace Ebpf;

public partial class BpfProgram
{
    /// <summary>The index of network interface <paramref name="name"/> in the calling thread's network namespace.</summary>
    internal static int InterfaceIndex(Syscalls sys, string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("the interface name is empty", nameof(name));
        int r = sys.IfNameToIndex(name);
        if (r > 0) return r;
        throw new BpfEnvironmentException($"network interface '{name}' does not exist (in this network namespace; `ip link` lists them)");
    }

    // ------------------------------------------------------------------ XDP

    internal unsafe XdpLink AttachXdp(string device, int ifindex, XdpAttachMode mode)
    {
        RequireType("an XDP link", BpfProgramType.Xdp);
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)ifindex, AttachType = (uint)BpfAttachType.Xdp, Flags = (uint)mode };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
        {
            int e = -fd;
            if (e == Errno.EINVAL && !KernelFeatures.For(Syscalls).XdpLinks)
                throw new BpfNotSupportedException("XDP links", "5.9", $"cannot attach program '{Name}' to {device}");
            throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of XDP program '{Name}' to {device} (ifindex {ifindex}, {mode} mode)", e switch
            {
                Errno.EBUSY or Errno.EEXIST => $"another XDP program is attached to {device} already (by a link, or by netlink: `ip link set dev {device} xdp off` removes that one)",
                Errno.EOPNOTSUPP or Errno.ENOTSUPP => $"the driver of {device} has no native XDP; attach in XdpAttachMode.Generic",
                Errno.ENODEV => $"interface {device} (ifindex {ifindex}) does not exist",
                Errno.EINVAL => "the kernel refused the program or mode (one mode at most; XDP frags programs need a frags-aware driver)",
                Errno.ERANGE => $"the MTU of {device} is too large for XDP in this mode",
                _ => null,
            });
        }
        return new XdpLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), device, ifindex, mode);
    }

    // ------------------------------------------------------------------ tc

    /// <summary>Which side a tc program runs on: the one asked for, else the one its section names.</summary>
    internal TcAttachPoint TcPoint(TcAttachPoint? asked)
    {
        if (asked.HasValue) return asked.Value;
        return ExpectedAttachType switch
        {
            BpfAttachType.TcxIngress => TcAttachPoint.Ingress,
            BpfAttachType.TcxEgress => TcAttachPoint.Egress,
            _ => throw new ArgumentException($"program '{Name}' (SEC(\"{SectionName}\")) does not say ingress or egress; pass the attach point"),
        };
    }

    internal unsafe TcxLink AttachTcx(string device, int ifindex, TcAttachPoint point)
    {
        RequireType("a tcx link", BpfProgramType.SchedCls, BpfProgramType.SchedAct);
        var at = point == TcAttachPoint.Ingress ? BpfAttachType.TcxIngress : BpfAttachType.TcxEgress;
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)ifindex, AttachType = (uint)at };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
        {
            int e = -fd;
            if (e == Errno.EINVAL && !KernelFeatures.For(Syscalls).TcxLinks)
                throw new BpfNotSupportedException("tcx links", "6.6", $"cannot attach program '{Name}' to {device}; TcProgram.AttachClsact() works on older kernels");
            throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of tc program '{Name}' to {device} (ifindex {ifindex}) {point.ToString().ToLowerInvariant()}",
                e == Errno.ENODEV ? $"interface {device} does not exist" : e == Errno.EINVAL ? "tcx links take SCHED_CLS programs" : null);
        }
        return new TcxLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), device, ifindex, point);
    }

    internal TcClsactLink AttachClsact(string device, int ifindex, TcAttachPoint point, ushort priority, uint handle, bool replace)
    {
        RequireType("a tc filter", BpfProgramType.SchedCls);
        bool added = false;
        var h = Handle;
        try
        {
            h.DangerousAddRef(ref added);
            var nl = RouteNetlink.Open(Syscalls);
            bool created = false;
            try
            {
                created = nl.EnsureClsact(ifindex, device);
                var (hnd, prio) = nl.AddBpfFilter(ifindex, device, point, h.Fd, Name, handle, priority, replace);
                return new TcClsactLink(this, nl, device, ifindex, point, hnd, prio, created);
            }
            catch
            {
                if (created) nl.DeleteClsact(ifindex);
                nl.Dispose();
                throw;
            }
        }
        finally
        {
            if (added) h.DangerousRelease();
        }
    }

    // ------------------------------------------------------------------ cgroups

    private BpfHandle OpenDirectory(string path, string what)
    {
        if (string.IsNullOrEmpty(path)) throw new ArgumentException($"the {what} path is empty", nameof(path));
        int fd = Syscalls.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY);
        if (fd < 0)
            throw new BpfEnvironmentException($"cannot open {what} '{path}': {Errno.Name(-fd)} ({Errno.Describe(-fd)})" +
                (-fd == Errno.ENOENT ? $"; the {what} does not exist" : -fd == Errno.ENOTDIR ? " (not a directory)" : string.Empty));
        return new BpfHandle(fd, BpfHandleKind.Other, Syscalls);
    }

    internal BpfAttachType CgroupAttachType(BpfAttachType? asked)
    {
        if (asked.HasValue) return asked.Value;
        return ExpectedAttachType ?? throw new ArgumentException($"program '{Name}' (SEC(\"{SectionName}\")) does not name a cgroup hook; pass the attach type");
    }

    internal unsafe CgroupLink AttachCgroup(string cgroupPath, BpfAttachType attachType)
    {
        using var cg = OpenDirectory(cgroupPath, "cgroup");
        return AttachCgroupFd(cg.Fd, cgroupPath, attachType);
    }

    internal unsafe CgroupLink AttachCgroupFd(int cgroupFd, string description, BpfAttachType attachType)
    {
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)cgroupFd, AttachType = (uint)attachType };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
        {
            int e = -fd;
            throw BpfSys.Error(BpfCommand.LinkCreate, e, $"of {Type} program '{Name}' to cgroup {description} ({CgroupLink.AttachTypeName(attachType)})", e switch
            {
                Errno.EBADF => $"'{description}' is not a cgroup v2 directory (BPF attaches to the unified hierarchy; mount it with `mount -t cgroup2 none /sys/fs/cgroup`)",
                Errno.EINVAL => $"the kernel refused: cgroup links need Linux 5.7, and a {Type} program loaded for {CgroupLink.AttachTypeName(attachType)}; CgroupProgram.AttachLegacy() works on older kernels",
                Errno.EPERM => "attaching to a cgroup needs CAP_NET_ADMIN (or CAP_SYS_ADMIN) and BPF rights",
                _ => null,
            });
        }
        return new CgroupLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), description, attachType);
    }

    internal unsafe CgroupAttachment AttachCgroupLegacy(string cgroupPath, BpfAttachType attachType, CgroupAttachFlags flags)
    {
        var cg = OpenDirectory(cgroupPath, "cgroup");
        try
        {
            var a = new ProgAttachAttr { TargetFd = (uint)cg.Fd, AttachBpfFd = (uint)Fd, AttachType = (uint)attachType, AttachFlags = (uint)flags };
            int r = BpfSys.Call(Syscalls, BpfCommand.ProgAttach, ref a);
            if (r < 0)
                throw BpfSys.Error(BpfCommand.ProgAttach, -r, $"of {Type} program '{Name}' to cgroup {cgroupPath} ({CgroupLink.AttachTypeName(attachType)})",
                    -r == Errno.EEXIST ? "another program is attached exclusively to this hook (attach with AllowMulti, or detach it first)" :
                    -r == Errno.EPERM ? "a program attached with different flags is in the way (exclusive or override attachments do not mix with multi)" : null);
            return new CgroupAttachment(this, cg, cgroupPath, attachType, flags);
        }
        catch
        {
            cg.Dispose();
            throw;
        }
    }

    // ------------------------------------------------------------------ sockets and namespaces

    internal unsafe SocketFilterAttachment AttachSocket(SafeHandle? socket, int fd)
    {
        RequireType("SO_ATTACH_BPF", BpfProgramType.SocketFilter);
        bool added = false;
        try
        {
            if (socket != null)
            {
                socket.DangerousAddRef(ref added);
                fd = (int)socket.DangerousGetHandle();
            }
            int prog = Fd;
            int r = Syscalls.SetSockOpt(fd, Libc.SOL_SOCKET, Libc.SO_ATTACH_BPF, &prog, 4);
            if (r < 0)
                throw new BpfSyscallException("setsockopt(SO_ATTACH_BPF)", null, -r, $"attaching socket filter '{Name}' to socket fd {fd} failed: {Errno.Name(-r)} ({Errno.Describe(-r)})" +
                    (-r == Errno.ENOTSOCK ? "; the descriptor is not a socket" : -r == Errno.EBADF ? "; the socket is closed" : -r == Errno.EPERM ? "; the socket's filter is locked (SO_LOCK_FILTER)" : string.Empty));
            return new SocketFilterAttachment(this, Syscalls, socket, fd);
        }
        finally
        {
            if (added) socket!.DangerousRelease();
        }
    }

    internal unsafe NetNsLink AttachNetNs(string netnsPath, BpfAttachType attachType)
    {
        if (string.IsNullOrEmpty(netnsPath)) throw new ArgumentException("the network namespace path is empty", nameof(netnsPath));
        int nsfd = Syscalls.Open(netnsPath, Libc.O_RDONLY);
        if (nsfd < 0)
            throw new BpfEnvironmentException($"cannot open network namespace '{netnsPath}': {Errno.Name(-nsfd)} ({Errno.Describe(-nsfd)})");
        using var ns = new BpfHandle(nsfd, BpfHandleKind.Other, Syscalls);
        var a = new LinkCreateAttr { ProgFd = (uint)Fd, TargetFdOrIfindex = (uint)nsfd, AttachType = (uint)attachType };
        int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
        if (fd < 0)
            throw BpfSys.Error(BpfCommand.LinkCreate, -fd, $"of {Type} program '{Name}' to network namespace {netnsPath}",
                -fd == Errno.EINVAL ? $"'{netnsPath}' is not a network namespace, or the kernel lacks netns links for {attachType} (sk_lookup: 5.9, flow_dissector: 5.8)" :
                -fd == Errno.EEXIST ? "a program is attached to this namespace's flow dissector already" : null);
        return new NetNsLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), netnsPath, attachType);
    }

    // ------------------------------------------------------------------ iterators and perf events

    internal unsafe IteratorLink AttachIterator(IteratorOptions? options)
    {
        RequireType("an iterator link", BpfProgramType.Tracing);
        if (ExpectedAttachType != BpfAttachType.TraceIter)
            throw new InvalidOperationException($"program '{Name}' is not an iterator (SEC(\"iter/...\"))");
        var info = stackalloc byte[16];
        new Span<byte>(info, 16).Clear();
        BpfHandle? cgroup = null;
        bool hasInfo = false;
        string target = "iter/" + (AttachTarget ?? "?");
        try
        {
            if (options != null)
            {
                if (options.Map != null)
                {
                    *(uint*)info = (uint)options.Map.Fd;
                    target += $" over map '{options.Map.Name}'";
                    hasInfo = true;
                }
                else if (options.CgroupPath != null)
                {
                    cgroup = OpenDirectory(options.CgroupPath, "cgroup");
                    *(uint*)info = (uint)options.CgroupOrder;
                    *(uint*)(info + 4) = (uint)cgroup.Fd;
                    target += $" over cgroup {options.CgroupPath} ({options.CgroupOrder})";
                    hasInfo = true;
                }
                else if (options.Tid > 0 || options.Pid > 0 || options.PidFd > 0)
                {
                    *(uint*)info = (uint)Math.Max(options.Tid, 0);
                    *(uint*)(info + 4) = (uint)Math.Max(options.Pid, 0);
                    *(uint*)(info + 8) = (uint)Math.Max(options.PidFd, 0);
                    target += options.Tid > 0 ? $" for thread {options.Tid}" : options.Pid > 0 ? $" for process {options.Pid}" : " for a pidfd";
                    hasInfo = true;
                }
            }
            var a = new LinkCreateAttr { ProgFd = (uint)Fd, AttachType = (uint)BpfAttachType.TraceIter, IterInfo = hasInfo ? (ulong)info : 0, IterInfoLen = hasInfo ? 16u : 0 };
            int fd = BpfSys.Call(Syscalls, BpfCommand.LinkCreate, ref a);
            if (fd < 0)
                throw BpfSys.Error(BpfCommand.LinkCreate, -fd, $"of iterator '{Name}' ({target})",
                    -fd == Errno.EINVAL && hasInfo ? "the kernel refused the iterator's parameters (task iterator parameters need Linux 6.1, cgroup iterators 6.1)" : null);
            return new IteratorLink(this, new BpfHandle(fd, BpfHandleKind.Link, Syscalls), target);
        }
        finally
        {
            cgroup?.Dispose();
        }
    }

    internal unsafe PerfEventLink AttachPerfEventSpec(PerfEventSpec spec, int pid, int cpu, ulong cookie)
    {
        RequireType("a perf event", BpfProgramType.PerfEvent);
        var attr = spec.ToAttr();
        int fd = Syscalls.PerfEventOpen(&attr, pid, cpu, -1, PerfEventAttr.PERF_FLAG_FD_CLOEXEC);
        string target = $"{spec} on {(cpu >= 0 ? $"cpu {cpu}" : "any cpu")}{(pid >= 0 ? $", pid {pid}" : string.Empty)}";
        if (fd < 0)
            throw new BpfSyscallException("perf_event_open", null, -fd, $"opening perf event {target} failed: {Errno.Name(-fd)} ({Errno.Describe(-fd)})" + (-fd switch
            {
                Errno.ENOENT or Errno.EOPNOTSUPP => "; this machine has no such event (hardware counters are often missing in virtual machines)",
                Errno.EACCES or Errno.EPERM => "; sampling needs root or CAP_PERFMON (see /proc/sys/kernel/perf_event_paranoid)",
                Errno.ESRCH => $"; process {pid} does not exist",
                Errno.EINVAL => "; the kernel refused the event's attributes (a frequency above kernel.perf_event_max_sample_rate?)",
                Errno.ENODEV => $"; cpu {cpu} is not online",
                _ => string.Empty,
            }));
        var pe = new BpfHandle(fd, BpfHandleKind.PerfEvent, Syscalls);
        try
        {
            var link = AttachToPerfEvent(pe, "perf event " + target, cookie);
            return new PerfEventLink(this, pe, link, "perf event " + target);
        }
        catch
        {
            pe.Dispose();
            throw;
        }
    }
}
