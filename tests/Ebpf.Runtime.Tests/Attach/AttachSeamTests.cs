using System;
using System.Linq;
using System.Text;
using Ebpf.Kernel;
using Xunit;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// The attach paths this kernel cannot exercise (kprobe PMU, kprobe_events, kprobe.multi, kernels without perf
/// links) and the netlink tc path, checked call by call against a scripted kernel.
/// </summary>
public class AttachSeamTests
{
    private const string Pmu = "/sys/bus/event_source/devices";
    private const string Tracing = "/sys/kernel/tracing";

    private static FakeSyscalls WithKprobePmu()
    {
        var k = new FakeSyscalls();
        k.Files[$"{Pmu}/kprobe/type"] = "6\n";
        k.Files[$"{Pmu}/kprobe/format/retprobe"] = "config:0\n";
        k.Files[$"{Pmu}/uprobe/type"] = "7\n";
        k.Files[$"{Pmu}/uprobe/format/retprobe"] = "config:0\n";
        return k;
    }

    private static FakeSyscalls WithKprobeEventsOnly()
    {
        var k = new FakeSyscalls();
        k.Files[$"{Tracing}/available_events"] = "";
        k.Files[$"{Tracing}/kprobe_events"] = "";
        k.Files[$"{Tracing}/uprobe_events"] = "";
        // the kernel creates events/GROUP/NAME/id for each p:/r: line and removes it for each -: line
        k.OnWrite = (path, text) =>
        {
            var line = text.Trim();
            var def = line.Split(' ')[0];
            var ev = def.Substring(2);
            if (line.StartsWith("-:", StringComparison.Ordinal))
                k.Files.Remove($"{Tracing}/events/{ev}/id");
            else
                k.Files[$"{Tracing}/events/{ev}/id"] = "1234\n";
            return 0;
        };
        return k;
    }

    [Fact]
    public void KretprobeThroughThePmuSetsTypeRetprobeBitFunctionAndLinksWithTheCookie()
    {
        var k = WithKprobePmu();
        var prog = k.NewProgram(BpfProgramType.Kprobe, "unlink_exit", "kretprobe/do_unlinkat");
        var link = new KprobeProgram(prog).Attach("do_unlinkat", returnProbe: true, cookie: 0xabc);

        var pe = Assert.Single(k.PerfEvents);
        Assert.Equal(6u, pe.Attr.Type);
        Assert.Equal(1ul, pe.Attr.Config);          // retprobe bit 0
        Assert.Equal("do_unlinkat", pe.Config1String); // kprobe_func
        Assert.Equal(0ul, pe.Attr.Config2);          // probe_offset
        Assert.Equal(-1, pe.Pid);
        Assert.Equal(0, pe.Cpu);
        var lc = Assert.Single(k.LinkCreates);
        Assert.Equal((uint)BpfAttachType.PerfEvent, lc.Attr.AttachType);
        Assert.Equal((uint)pe.Fd, lc.Attr.TargetFdOrIfindex);
        Assert.Equal(0xabcul, lc.Attr.PerfEventBpfCookie);
        Assert.Equal("kretprobe do_unlinkat", link.Target);
        Assert.True(link.IsReturnProbe);
        Assert.False(link.IsLegacy);

        link.Dispose();
        Assert.Equal(new[] { prog.Fd }, k.OpenFds.ToArray());
        Assert.Empty(k.DoubleCloses);
        Assert.Empty(k.Writes);
    }

    [Fact]
    public void KprobeWithAnOffsetPutsItInConfig2AndNoRetprobeBit()
    {
        var k = WithKprobePmu();
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        using var link = new KprobeProgram(prog).Attach("tcp_connect", offset: 0x10);
        var pe = Assert.Single(k.PerfEvents);
        Assert.Equal(0ul, pe.Attr.Config);
        Assert.Equal("tcp_connect", pe.Config1String);
        Assert.Equal(0x10ul, pe.Attr.Config2);
        Assert.Equal("kprobe tcp_connect+0x10", link.Target);
        Assert.Throws<ArgumentException>(() => new KprobeProgram(prog).Attach("tcp_connect", offset: 4, returnProbe: true));
    }

    [Fact]
    public void WithoutThePmuKprobesGoThroughKprobeEventsAndAreRemovedOnDispose()
    {
        var k = WithKprobeEventsOnly();
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        var link = new KprobeProgram(prog).Attach("do_unlinkat", returnProbe: true);

        var w = Assert.Single(k.Writes);
        Assert.Equal($"{Tracing}/kprobe_events", w.Path);
        Assert.True(w.Append);
        Assert.Matches(@"^r:kretprobes/ebpf_\d+_do_unlinkat_0x0_\d+ do_unlinkat\+0x0\n$", w.Text);
        string ev = w.Text.Split(' ')[0].Substring(2);
        Assert.Equal(ev, link.LegacyEventName);
        var pe = Assert.Single(k.PerfEvents);
        Assert.Equal(PerfEventAttr.TypeTracepoint, pe.Attr.Type);
        Assert.Equal(1234ul, pe.Attr.Config);
        Assert.True(link.IsLegacy);

        link.Dispose();
        Assert.Equal(2, k.Writes.Count);
        Assert.Equal($"-:{ev}\n", k.Writes[1].Text);
        Assert.Equal(new[] { prog.Fd }, k.OpenFds.ToArray());
        Assert.False(k.Files.ContainsKey($"{Tracing}/events/{ev}/id"));
    }

    [Fact]
    public void LegacyModeCanBeForcedEvenWithAPmu()
    {
        var k = WithKprobeEventsOnly();
        k.Files[$"{Pmu}/kprobe/type"] = "6\n";
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        using var link = new KprobeProgram(prog).Attach("vfs_read", mode: ProbeAttachMode.Legacy);
        Assert.True(link.IsLegacy);
        Assert.StartsWith("p:kprobes/", k.Writes[0].Text);
        Assert.EndsWith(" vfs_read+0x0\n", k.Writes[0].Text);
    }

    [Fact]
    public void WithNeitherPmuNorKprobeEventsTheErrorSaysWhy()
    {
        var k = new FakeSyscalls();
        k.Files[$"{Tracing}/available_events"] = "";
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        var e = Assert.Throws<BpfNotSupportedException>(() => new KprobeProgram(prog).Attach("do_unlinkat"));
        Assert.Contains("this kernel has no kprobe PMU and no kprobe_events (CONFIG_KPROBE_EVENTS is not set", e.Message);
        Assert.True(e.IsConfiguration);

        var none = new FakeSyscalls();
        var p2 = none.NewProgram(BpfProgramType.Kprobe);
        var env = Assert.Throws<BpfEnvironmentException>(() => new KprobeProgram(p2).Attach("do_unlinkat"));
        Assert.Contains("tracefs is not mounted", env.Message);
        Assert.Empty(none.PerfEvents);
    }

    [Fact]
    public void AFunctionThatIsNotTraceableIsNamed()
    {
        var k = WithKprobePmu();
        k.PerfAnswer = _ => -Errno.ENOENT;
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        var e = Assert.Throws<BpfSyscallException>(() => new KprobeProgram(prog).Attach("not_a_function"));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("kernel function 'not_a_function' does not exist or is not traceable", e.Message);

        var legacy = WithKprobeEventsOnly();
        legacy.OnWrite = (_, _) => -Errno.ENOENT;
        var p2 = legacy.NewProgram(BpfProgramType.Kprobe);
        var e2 = Assert.Throws<BpfSyscallException>(() => new KprobeProgram(p2).Attach("not_a_function"));
        Assert.Contains("does not exist or is not traceable", e2.Message);
        Assert.Equal(new[] { p2.Fd }, legacy.OpenFds.ToArray());
    }

    [Fact]
    public void FailuresAfterThePerfEventIsOpenCloseEverything()
    {
        // PMU: the link is refused
        var k = WithKprobePmu();
        k.BpfAnswer = cmd => cmd == BpfCommand.LinkCreate ? -Errno.EPERM : null;
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        Assert.Throws<BpfSyscallException>(() => new KprobeProgram(prog).Attach("do_unlinkat"));
        Assert.Single(k.PerfEvents);
        Assert.Equal(new[] { prog.Fd }, k.OpenFds.ToArray());
        Assert.Empty(k.DoubleCloses);

        // legacy: the link is refused: the perf event is closed and the kprobe_events entry removed
        var l = WithKprobeEventsOnly();
        l.BpfAnswer = cmd => cmd == BpfCommand.LinkCreate ? -Errno.EPERM : null;
        var p2 = l.NewProgram(BpfProgramType.Kprobe);
        Assert.Throws<BpfSyscallException>(() => new KprobeProgram(p2).Attach("do_unlinkat"));
        Assert.Equal(new[] { p2.Fd }, l.OpenFds.ToArray());
        Assert.Equal(2, l.Writes.Count);
        Assert.StartsWith("-:kprobes/ebpf_", l.Writes[1].Text);

        // legacy: the id cannot be read: the entry is removed, nothing was opened
        var m = WithKprobeEventsOnly();
        m.OnWrite = (_, _) => 0; // the kernel "forgets" to create the event directory
        var p3 = m.NewProgram(BpfProgramType.Kprobe);
        Assert.Throws<BpfSyscallException>(() => new KprobeProgram(p3).Attach("do_unlinkat"));
        Assert.Empty(m.PerfEvents);
        Assert.Equal(2, m.Writes.Count);
    }

    [Fact]
    public void KernelsWithoutPerfLinksAttachWithTheIoctlAndDisableOnDispose()
    {
        var k = WithKprobePmu();
        k.BpfAnswer = cmd => cmd == BpfCommand.LinkCreate ? -Errno.EINVAL : null;
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        var link = new KprobeProgram(prog).Attach("do_unlinkat");
        int pfd = k.PerfEvents[0].Fd;
        Assert.Equal((pfd, PerfEventAttr.IocSetBpf, (ulong)prog.Fd), k.Ioctls[0]);
        Assert.Equal((pfd, PerfEventAttr.IocEnable, 0ul), k.Ioctls[1]);
        Assert.False(link.IsKernelLink);
        Assert.Throws<BpfNotSupportedException>(() => link.Pin("/sys/fs/bpf/x")); // perf-event links: Linux 5.15
        link.Dispose();
        Assert.Equal((pfd, PerfEventAttr.IocDisable, 0ul), k.Ioctls[2]);
        Assert.Equal(new[] { prog.Fd }, k.OpenFds.ToArray());

        // a cookie needs the perf link
        var k2 = WithKprobePmu();
        k2.BpfAnswer = cmd => cmd == BpfCommand.LinkCreate ? -Errno.EINVAL : null;
        var p2 = k2.NewProgram(BpfProgramType.Kprobe);
        var e = Assert.Throws<BpfNotSupportedException>(() => new KprobeProgram(p2).Attach("do_unlinkat", cookie: 5));
        Assert.Equal("5.15", e.MinimumKernel);
        Assert.Equal(new[] { p2.Fd }, k2.OpenFds.ToArray());
    }

    [Fact]
    public void KsyscallUsesTheArchitecturesWrapperWhenTheKernelHasIt()
    {
        var k = WithKprobePmu();
        k.Files[$"{Tracing}/available_events"] = "";
        k.Files[$"{Tracing}/available_filter_functions"] = $"do_unlinkat\n{KernelSymbols.SyscallPrefix}getpgid\n{KernelSymbols.SyscallPrefix}bpf\nvfs_read [ext4]\n";
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        using var link = new KprobeProgram(prog).AttachSyscall("getpgid");
        Assert.Equal(KernelSymbols.SyscallPrefix + "getpgid", k.PerfEvents[0].Config1String);

        var old = WithKprobePmu();
        old.Files[$"{Tracing}/available_events"] = "";
        old.Files[$"{Tracing}/available_filter_functions"] = "sys_getpgid\nsys_bpf\n";
        var p2 = old.NewProgram(BpfProgramType.Kprobe);
        using var l2 = new KprobeProgram(p2).AttachSyscall("getpgid");
        Assert.Equal("sys_getpgid", old.PerfEvents[0].Config1String);
    }

    [Fact]
    public void KprobeMultiResolvesThePatternAndPassesTheSymbols()
    {
        var k = new FakeSyscalls();
        k.Files[$"{Tracing}/available_events"] = "";
        k.Files[$"{Tracing}/available_filter_functions"] = "tcp_v4_connect\ntcp_connect\nudp_sendmsg\ntcp_close [some_module]\ntcp_connect\n__ftrace_invalid_address___123\n";
        var prog = k.NewProgram(BpfProgramType.Kprobe, "multi", "kprobe.multi/tcp_*", BpfAttachType.TraceKprobeMulti);
        using var link = new KprobeMultiProgram(prog).Attach("tcp_*", returnProbe: true);
        var lc = Assert.Single(k.LinkCreates);
        Assert.Equal((uint)BpfAttachType.TraceKprobeMulti, lc.Attr.AttachType);
        Assert.Equal(1u, lc.Attr.KprobeMultiFlags); // BPF_F_KPROBE_MULTI_RETURN
        Assert.Equal(3u, lc.Attr.KprobeMultiCnt);
        Assert.Equal(new[] { "tcp_close", "tcp_connect", "tcp_v4_connect" }, lc.Symbols);
        Assert.Equal(0ul, lc.Attr.KprobeMultiAddrs);
        Assert.Equal(new[] { "tcp_close", "tcp_connect", "tcp_v4_connect" }, link.Functions);

        var e = Assert.Throws<BpfException>(() => new KprobeMultiProgram(prog).Attach("nothing_matches_*"));
        Assert.Contains("no traceable kernel function matches 'nothing_matches_*'", e.Message);
    }

    [Fact]
    public void KprobeMultiOnAKernelWithoutFprobeSaysSo()
    {
        var k = new FakeSyscalls();
        k.BpfAnswer = cmd => cmd == BpfCommand.LinkCreate ? -Errno.EOPNOTSUPP : null;
        var prog = k.NewProgram(BpfProgramType.Kprobe, "multi", "kprobe.multi/x", BpfAttachType.TraceKprobeMulti);
        var e = Assert.Throws<BpfNotSupportedException>(() => new KprobeMultiProgram(prog).Attach(new[] { "do_unlinkat" }, new ulong[] { 9 }));
        // The version is the architecture's: fprobe came to x86-64 in 5.18 and to arm64 in 6.14.
        string since = KernelFeatures.KprobeMultiMinimumKernel;
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "6.14" : "5.18", since);
        if (KernelFeatures.KernelIsAtLeast(since))
        {
            Assert.True(e.IsConfiguration);
            Assert.Contains($"no kprobe.multi links (they need Linux {since} built with CONFIG_FPROBE)", e.Message);
        }
        else
        {
            Assert.Equal(since, e.MinimumKernel);
            Assert.Contains("CONFIG_FPROBE", e.Message);
        }
        Assert.Equal(new[] { "do_unlinkat" }, k.LinkCreates[0].Symbols);
        Assert.NotEqual(0ul, k.LinkCreates[0].Attr.KprobeMultiCookies);
        Assert.Equal(new[] { prog.Fd }, k.OpenFds.ToArray());
    }

    /// <summary>
    /// ENOTSUPP when a trampoline program is attached: the architecture cannot put a BPF trampoline on a kernel
    /// function (arm64 before 6.4 has no ftrace direct calls) or the kernel was built without them. Either way the
    /// error says which kernel has it; nothing is left open.
    /// </summary>
    [Fact]
    public void TrampolineRefusedByTheKernelNamesTheKernelThatHasIt()
    {
        var k = new FakeSyscalls();
        k.BpfAnswer = cmd => cmd == BpfCommand.RawTracepointOpen ? -Errno.ENOTSUPP : null;
        foreach (var (type, section, attach) in new[]
        {
            (BpfProgramType.Tracing, "fentry/do_unlinkat", BpfAttachType.TraceFentry),
            (BpfProgramType.Tracing, "fexit/do_unlinkat", BpfAttachType.TraceFexit),
            (BpfProgramType.Tracing, "fmod_ret/security_task_getpgid", BpfAttachType.ModifyReturn),
            (BpfProgramType.Lsm, "lsm/file_open", BpfAttachType.LsmMac),
        })
        {
            var prog = k.NewProgram(type, "probe", section, attach);
            var e = Assert.Throws<BpfNotSupportedException>(() => prog.AttachTracing());
            Assert.Contains($"program 'probe' to '{section}'", e.Message);   // (no AttachTarget set: the section names it)
            string min = KernelFeatures.TrampolineMinimumKernel;
            if (KernelFeatures.KernelIsAtLeast(min))
            {
                Assert.True(e.IsConfiguration);
                Assert.Contains("CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS", e.Message);
            }
            else
            {
                Assert.Equal(min, e.MinimumKernel);
            }
        }
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "6.4" : "5.5",
            KernelFeatures.TrampolineMinimumKernel);

        // tp_btf attaches without a trampoline: ENOTSUPP there is the kernel's own refusal.
        var tp = k.NewProgram(BpfProgramType.Tracing, "fork", "tp_btf/sched_process_fork", BpfAttachType.TraceRawTp);
        var refused = Assert.Throws<BpfSyscallException>(() => tp.AttachTracing());
        Assert.Equal(Errno.ENOTSUPP, refused.Errno);
        Assert.Equal(5, k.OpenFds.Count);   // the five programs, no link
    }

    [Fact]
    public void UprobesWithoutThePmuUseUprobeEventsWithTheSemaphoreOffset()
    {
        var k = WithKprobeEventsOnly();
        var prog = k.NewProgram(BpfProgramType.Kprobe);
        using (var link = prog.AttachUprobeAt("/usr/bin/true", null, 0x1040, 1234, retprobe: false, cookie: 0, refCtrOffset: 0x2008, ProbeAttachMode.Default))
        {
            Assert.Matches(@"^p:uprobes/ebpf_\d+_true_off_0x1040_\d+ /usr/bin/true:0x1040\(0x2008\)\n$", k.Writes[0].Text);
            Assert.Equal($"{Tracing}/uprobe_events", k.Writes[0].Path);
            Assert.Equal(1234, k.PerfEvents[0].Pid);
            Assert.Equal(-1, k.PerfEvents[0].Cpu);
            Assert.Equal(1234, link.Pid);
        }
        Assert.StartsWith("-:uprobes/ebpf_", k.Writes[1].Text);

        var pmu = WithKprobePmu();
        var p2 = pmu.NewProgram(BpfProgramType.Kprobe);
        using var l2 = p2.AttachUprobeAt("/usr/bin/true", "main", 0x1040, -1, retprobe: true, cookie: 0, refCtrOffset: 0x2008, ProbeAttachMode.Default);
        var pe = pmu.PerfEvents[0];
        Assert.Equal(7u, pe.Attr.Type);
        Assert.Equal(1ul | (0x2008ul << 32), pe.Attr.Config); // retprobe bit + ref_ctr_offset
        Assert.Equal("/usr/bin/true", pe.Config1String);
        Assert.Equal(0x1040ul, pe.Attr.Config2);
    }

    [Fact]
    public void ClsactAttachSendsTheQdiscAndFilterAndDeletesTheFilterOnDispose()
    {
        var k = new FakeSyscalls();
        var prog = k.NewProgram(BpfProgramType.SchedCls, "tc_count", "tc");
        var link = new TcProgram(prog).AttachClsact("eth-fake", TcAttachPoint.Egress);
        Assert.Equal(7, link.InterfaceIndex);
        Assert.Equal(1u, link.Handle);
        Assert.Equal((ushort)49152, link.Priority);
        Assert.True(link.CreatedQdisc);

        Assert.Equal(2, k.NetlinkSent.Count);
        var qdisc = k.NetlinkSent[0];
        Assert.Equal(36, BitConverter.ToUInt16(qdisc, 4));             // RTM_NEWQDISC
        Assert.Equal(1 | 4 | 0x200 | 0x400, BitConverter.ToUInt16(qdisc, 6)); // REQUEST|ACK|EXCL|CREATE
        Assert.Equal(7, BitConverter.ToInt32(qdisc, 20));              // ifindex
        Assert.Equal(0xFFFF0000u, BitConverter.ToUInt32(qdisc, 24));   // handle ffff:
        Assert.Equal(0xFFFFFFF1u, BitConverter.ToUInt32(qdisc, 28));   // parent clsact
        Assert.Equal("clsact", FakeSyscalls.CString(FakeSyscalls.TcAttributes(qdisc).Single(a => a.Type == 1).Value));

        var filter = k.NetlinkSent[1];
        Assert.Equal(44, BitConverter.ToUInt16(filter, 4));            // RTM_NEWTFILTER
        Assert.Equal(1 | 4 | 8 | 0x200 | 0x400, BitConverter.ToUInt16(filter, 6)); // +ECHO
        Assert.Equal(0xFFFFFFF3u, BitConverter.ToUInt32(filter, 28));  // clsact egress
        Assert.Equal(0x0300u, BitConverter.ToUInt32(filter, 32));      // priority 0 (kernel picks), protocol ETH_P_ALL (network order)
        var attrs = FakeSyscalls.TcAttributes(filter);
        Assert.Equal("bpf", FakeSyscalls.CString(attrs.Single(a => a.Type == 1).Value));
        var options = attrs.Single(a => a.Type == 2).Value;
        var nested = FakeSyscalls.TcAttributes(options, 0, options.Length);
        Assert.Equal((uint)prog.Fd, BitConverter.ToUInt32(nested.Single(a => a.Type == 6).Value));   // TCA_BPF_FD
        Assert.Equal("tc_count", FakeSyscalls.CString(nested.Single(a => a.Type == 7).Value));        // TCA_BPF_NAME
        Assert.Equal(1u, BitConverter.ToUInt32(nested.Single(a => a.Type == 8).Value));               // direct action

        link.Dispose();
        var del = k.NetlinkSent[2];
        Assert.Equal(45, BitConverter.ToUInt16(del, 4));               // RTM_DELTFILTER
        Assert.Equal(1u, BitConverter.ToUInt32(del, 24));              // the handle the kernel chose
        Assert.Equal((49152u << 16) | 0x0300u, BitConverter.ToUInt32(del, 32));
        Assert.Equal(new[] { prog.Fd }, k.OpenFds.ToArray());          // netlink sockets closed
    }

    [Fact]
    public void ClsactErrorsCarryTheKernelsExtendedAckMessage()
    {
        var k = new FakeSyscalls();
        k.NetlinkResponder = req =>
        {
            uint seq = BitConverter.ToUInt32(req, 8);
            if (BitConverter.ToUInt16(req, 4) == 36) return new[] { FakeSyscalls.Ack(seq, -Errno.EEXIST) }; // qdisc exists
            // error with NLM_F_ACK_TLVS and an NLMSGERR_ATTR_MSG
            var msg = Encoding.ASCII.GetBytes("Filter with specified priority/protocol not found\0");
            int attrLen = 4 + msg.Length;
            var b = new byte[16 + 4 + 16 + ((attrLen + 3) & ~3)];
            BitConverter.GetBytes((uint)b.Length).CopyTo(b, 0);
            BitConverter.GetBytes((ushort)2).CopyTo(b, 4);
            BitConverter.GetBytes((ushort)0x200).CopyTo(b, 6);
            BitConverter.GetBytes(seq).CopyTo(b, 8);
            BitConverter.GetBytes(-Errno.EINVAL).CopyTo(b, 16);
            BitConverter.GetBytes((ushort)attrLen).CopyTo(b, 36);
            BitConverter.GetBytes((ushort)1).CopyTo(b, 38);
            msg.CopyTo(b, 40);
            return new[] { b };
        };
        var prog = k.NewProgram(BpfProgramType.SchedCls, "tc_count", "tc");
        var e = Assert.Throws<BpfSyscallException>(() => new TcProgram(prog).AttachClsact("eth-fake", TcAttachPoint.Ingress));
        Assert.Contains("Filter with specified priority/protocol not found", e.Message);
        Assert.Equal(2, k.NetlinkSent.Count); // the qdisc existed: it is not deleted
        Assert.Equal(new[] { prog.Fd }, k.OpenFds.ToArray());

        var missing = Assert.Throws<BpfEnvironmentException>(() => new TcProgram(prog).AttachClsact("no-such-if", TcAttachPoint.Ingress));
        Assert.Contains("network interface 'no-such-if' does not exist", missing.Message);
    }

    [Fact]
    public void TcxOnKernelsWithoutItSaysWhatToUseInstead()
    {
        var k = new FakeSyscalls();
        k.BpfAnswer = cmd => cmd == BpfCommand.LinkCreate ? -Errno.EINVAL : null;
        var prog = k.NewProgram(BpfProgramType.SchedCls, "tcx_ingress", "tcx/ingress", BpfAttachType.TcxIngress);
        var e = Assert.Throws<BpfNotSupportedException>(() => new TcProgram(prog).AttachTcx("eth-fake"));
        Assert.Equal("6.6", e.MinimumKernel);
        Assert.Contains("AttachClsact", e.Message);
        // ... and Attach() falls back to clsact by itself
        using var link = new TcProgram(prog).Attach("eth-fake");
        Assert.IsType<TcClsactLink>(link);
        Assert.Equal(0xFFFFFFF2u, BitConverter.ToUInt32(k.NetlinkSent[1], 28)); // ingress, from the section
    }
}
