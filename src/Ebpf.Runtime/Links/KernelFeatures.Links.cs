using System.Text;
using Ebpf.Asm;

namespace Ebpf.Kernel;

// Link-type probes, next to the links that use them.
public sealed partial class KernelFeatures
{
    /// <summary>tcx links (BPF_TCX_INGRESS/EGRESS), Linux 6.6: a link on ifindex 0 fails with ENODEV, not EINVAL.</summary>
    public bool TcxLinks => Probe("tcx links", () => LinkProbe(BpfProgramType.SchedCls, BpfAttachType.TcxIngress, BpfAttachType.TcxIngress, 0, Errno.ENODEV));

    /// <summary>Perf event links (BPF_PERF_EVENT, with BPF cookies), Linux 5.15: a link on a bad fd fails with EBADF, not EINVAL.</summary>
    public bool PerfLinks => Probe("perf event links", () => LinkProbe(BpfProgramType.Tracepoint, null, BpfAttachType.PerfEvent, uint.MaxValue, Errno.EBADF));

    /// <summary>XDP links, Linux 5.9: a link on ifindex 0 fails with ENODEV (or EINVAL from the driver check), not with an unknown attach type.</summary>
    public bool XdpLinks => Probe("XDP links", () => LinkProbe(BpfProgramType.Xdp, BpfAttachType.Xdp, BpfAttachType.Xdp, 0, Errno.ENODEV));

    /// <summary>uprobe.multi links, Linux 6.6 (with CONFIG_UPROBES): a link on "/" fails with EBADF (not a regular file).</summary>
    public unsafe bool UprobeMultiLinks => Probe("uprobe.multi links", () =>
    {
        using var prog = LoadProbeProgram(BpfProgramType.Kprobe, BpfAttachType.TraceUprobeMulti);
        if (prog == null) return false;
        var path = Encoding.ASCII.GetBytes("/\0");
        ulong offset = 0;
        fixed (byte* pp = path)
        {
            var a = new LinkCreateAttr { ProgFd = (uint)prog.Fd, AttachType = (uint)BpfAttachType.TraceUprobeMulti, UprobeMultiPath = (ulong)pp, UprobeMultiOffsets = (ulong)&offset, UprobeMultiCnt = 1 };
            int fd = BpfSys.Call(_sys, BpfCommand.LinkCreate, ref a);
            if (fd >= 0) { _sys.Close(fd); return true; }
            return fd == -Errno.EBADF;
        }
    });

    /// <summary>kprobe.multi links, Linux 5.18 with CONFIG_FPROBE: attaching to one traceable function succeeds (the link is closed at once).</summary>
    public unsafe bool KprobeMultiLinks => Probe("kprobe.multi links", () =>
    {
        using var prog = LoadProbeProgram(BpfProgramType.Kprobe, BpfAttachType.TraceKprobeMulti);
        if (prog == null) return false;
        foreach (var name in new[] { "vprintk", "bpf_fentry_test1", "schedule" })
        {
            var sym = Encoding.ASCII.GetBytes(name + "\0");
            fixed (byte* ps = sym)
            {
                ulong p = (ulong)ps;
                var a = new LinkCreateAttr { ProgFd = (uint)prog.Fd, AttachType = (uint)BpfAttachType.TraceKprobeMulti, KprobeMultiCnt = 1, KprobeMultiSyms = (ulong)&p };
                int fd = BpfSys.Call(_sys, BpfCommand.LinkCreate, ref a);
                if (fd >= 0) { _sys.Close(fd); return true; }
                if (fd != -Errno.ESRCH && fd != -Errno.ENOENT) return false; // EOPNOTSUPP (no fprobe), EINVAL (unknown attach type)
            }
        }
        return false;
    });

    /// <summary>
    /// Task iterators limited to one thread, process or pidfd (bpf_iter_link_info.task), Linux 6.1. Older kernels
    /// ignore parameters they do not know and would iterate every task, so this is checked before attaching: the
    /// kernel's BTF describes union bpf_iter_link_info with a "task" member exactly when it has them.
    /// </summary>
    public bool TaskIteratorParameters => Probe("task iterator parameters", () => IterLinkInfoHas("task"));

    /// <summary>Cgroup iterators' order and cgroup (bpf_iter_link_info.cgroup), Linux 6.1.</summary>
    public bool CgroupIteratorParameters => Probe("cgroup iterator parameters", () => IterLinkInfoHas("cgroup"));

    private static bool IterLinkInfoHas(string member)
    {
        if (!KernelBtf.IsAvailable) return true; // cannot tell: let the kernel decide
        var btf = KernelBtf.Vmlinux;
        int id = btf.FindByName("bpf_iter_link_info", Ebpf.Btf.BtfKind.Union);
        if (id <= 0) return false;
        for (int i = 0; i < btf.GetVlen(id); i++)
        {
            btf.GetMemberRaw(id, i, out int nameOff, out _, out _);
            if (btf.GetString(nameOff) == member) return true;
        }
        return false;
    }

    private unsafe bool LinkProbe(BpfProgramType type, BpfAttachType? expected, BpfAttachType attachType, uint target, int supportedErrno)
    {
        using var prog = LoadProbeProgram(type, expected);
        if (prog == null) return false;
        var a = new LinkCreateAttr { ProgFd = (uint)prog.Fd, TargetFdOrIfindex = target, AttachType = (uint)attachType };
        int fd = BpfSys.Call(_sys, BpfCommand.LinkCreate, ref a);
        if (fd >= 0) { _sys.Close(fd); return true; }
        return fd == -supportedErrno;
    }

    private unsafe BpfHandle? LoadProbeProgram(BpfProgramType type, BpfAttachType? expected)
    {
        var insns = ReturnZero;
        var license = Encoding.ASCII.GetBytes("GPL\0");
        fixed (BpfInstruction* pi = insns)
        fixed (byte* pl = license)
        {
            var a = new ProgLoadAttr
            {
                ProgType = (uint)type,
                InsnCnt = (uint)insns.Length,
                Insns = (ulong)pi,
                License = (ulong)pl,
                ExpectedAttachType = expected.HasValue ? (uint)expected.Value : 0,
            };
            int fd = BpfSys.Call(_sys, BpfCommand.ProgLoad, ref a);
            return fd < 0 ? null : new BpfHandle(fd, BpfHandleKind.Program, _sys);
        }
    }
}
