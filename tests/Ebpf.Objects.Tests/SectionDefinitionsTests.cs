using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace Ebpf.Objects.Tests;

public class SectionDefinitionsTests
{
    private const int NoAttachType = -1;

    [Fact]
    public void Table_HasLibbpfRowCount_AndUniquePatterns()
    {
        // libbpf 1.5 (Linux 6.12 tools/lib/bpf) has 101 rows; newer libbpf adds uprobe.session{,.s} and fsession{,.s}.
        Assert.Equal(105, SectionDefinitions.All.Count);
        var duplicates = SectionDefinitions.All.GroupBy(d => d.Pattern).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);
    }

    [Fact]
    public void EveryRow_ResolvesToItself()
    {
        foreach (var definition in SectionDefinitions.All)
        {
            foreach (string name in RepresentativeNames(definition))
            {
                Assert.True(SectionDefinitions.TryMatch(name, out var match), $"'{name}' did not match anything");
                Assert.True(
                    ReferenceEquals(definition, match.Definition),
                    $"'{name}' matched '{match.Definition.Pattern}' instead of '{definition.Pattern}'");
                Assert.Equal(name, match.SectionName);
            }
        }
    }

    [Fact]
    public void EveryRow_HasConsistentShape()
    {
        foreach (var d in SectionDefinitions.All)
        {
            Assert.Equal(d.Flags.HasFlag(SectionFlags.Sleepable), d.IsSleepable);
            if (d.IsSleepable && d.ProgramType != BpfProgramType.Syscall)
            {
                Assert.Contains(".s", d.Prefix, StringComparison.Ordinal);
            }

            Assert.Equal(d.MatchKind == SectionMatchKind.ExactOrSlashPrefix, d.Pattern.EndsWith("+", StringComparison.Ordinal));
            Assert.True(d.AttachKind != AutoAttachKind.None, d.Pattern);
            Assert.Equal(d.HasExpectedAttachType ? (uint)d.ExpectedAttachType!.Value : 0u, d.ExpectedAttachTypeValue);
        }
    }

    [Theory]
    [InlineData("kprobe/do_sys_open+0x10", "kprobe+", BpfProgramType.Kprobe, NoAttachType, "do_sys_open+0x10", false)]
    [InlineData("kprobe", "kprobe+", BpfProgramType.Kprobe, NoAttachType, "", false)]
    [InlineData("kretprobe/do_sys_open", "kretprobe+", BpfProgramType.Kprobe, NoAttachType, "do_sys_open", false)]
    [InlineData("uprobe//bin/bash:readline", "uprobe+", BpfProgramType.Kprobe, NoAttachType, "/bin/bash:readline", false)]
    [InlineData("uretprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc", "uretprobe+", BpfProgramType.Kprobe, NoAttachType, "/usr/lib/x86_64-linux-gnu/libc.so.6:malloc", false)]
    [InlineData("uprobe.s//bin/true:main", "uprobe.s+", BpfProgramType.Kprobe, NoAttachType, "/bin/true:main", true)]
    [InlineData("uretprobe.s//bin/true:main", "uretprobe.s+", BpfProgramType.Kprobe, NoAttachType, "/bin/true:main", true)]
    [InlineData("kprobe.multi/tcp_*", "kprobe.multi+", BpfProgramType.Kprobe, (int)BpfAttachType.TraceKprobeMulti, "tcp_*", false)]
    [InlineData("kretprobe.multi/tcp_*", "kretprobe.multi+", BpfProgramType.Kprobe, (int)BpfAttachType.TraceKprobeMulti, "tcp_*", false)]
    [InlineData("kprobe.session/do_*", "kprobe.session+", BpfProgramType.Kprobe, (int)BpfAttachType.TraceKprobeSession, "do_*", false)]
    [InlineData("uprobe.multi//bin/x:f*", "uprobe.multi+", BpfProgramType.Kprobe, (int)BpfAttachType.TraceUprobeMulti, "/bin/x:f*", false)]
    [InlineData("uprobe.multi.s//bin/x:f*", "uprobe.multi.s+", BpfProgramType.Kprobe, (int)BpfAttachType.TraceUprobeMulti, "/bin/x:f*", true)]
    [InlineData("uprobe.session//bin/x:f", "uprobe.session+", BpfProgramType.Kprobe, (int)BpfAttachType.TraceUprobeSession, "/bin/x:f", false)]
    [InlineData("ksyscall/openat", "ksyscall+", BpfProgramType.Kprobe, NoAttachType, "openat", false)]
    [InlineData("kretsyscall/openat", "kretsyscall+", BpfProgramType.Kprobe, NoAttachType, "openat", false)]
    [InlineData("usdt/./libfoo.so:provider:name", "usdt+", BpfProgramType.Kprobe, NoAttachType, "./libfoo.so:provider:name", false)]
    [InlineData("usdt.s/./libfoo.so:provider:name", "usdt.s+", BpfProgramType.Kprobe, NoAttachType, "./libfoo.so:provider:name", true)]
    [InlineData("tp/syscalls/sys_enter_getpid", "tp+", BpfProgramType.Tracepoint, NoAttachType, "syscalls/sys_enter_getpid", false)]
    [InlineData("tracepoint/sched/sched_process_exec", "tracepoint+", BpfProgramType.Tracepoint, NoAttachType, "sched/sched_process_exec", false)]
    [InlineData("raw_tp/sched_switch", "raw_tp+", BpfProgramType.RawTracepoint, NoAttachType, "sched_switch", false)]
    [InlineData("raw_tracepoint/sched_switch", "raw_tracepoint+", BpfProgramType.RawTracepoint, NoAttachType, "sched_switch", false)]
    [InlineData("raw_tp.w/bpf_testmod_test_writable_bare", "raw_tp.w+", BpfProgramType.RawTracepointWritable, NoAttachType, "bpf_testmod_test_writable_bare", false)]
    [InlineData("raw_tracepoint.w/x", "raw_tracepoint.w+", BpfProgramType.RawTracepointWritable, NoAttachType, "x", false)]
    [InlineData("tp_btf/sched_switch", "tp_btf+", BpfProgramType.Tracing, (int)BpfAttachType.TraceRawTp, "sched_switch", false)]
    [InlineData("fentry/bpf_fentry_test1", "fentry+", BpfProgramType.Tracing, (int)BpfAttachType.TraceFentry, "bpf_fentry_test1", false)]
    [InlineData("fentry.s/bpf_fentry_test1", "fentry.s+", BpfProgramType.Tracing, (int)BpfAttachType.TraceFentry, "bpf_fentry_test1", true)]
    [InlineData("fexit/do_unlinkat", "fexit+", BpfProgramType.Tracing, (int)BpfAttachType.TraceFexit, "do_unlinkat", false)]
    [InlineData("fmod_ret/security_x", "fmod_ret+", BpfProgramType.Tracing, (int)BpfAttachType.ModifyReturn, "security_x", false)]
    [InlineData("fsession/do_unlinkat", "fsession+", BpfProgramType.Tracing, (int)BpfAttachType.TraceFsession, "do_unlinkat", false)]
    [InlineData("freplace/handler", "freplace+", BpfProgramType.Ext, NoAttachType, "handler", false)]
    [InlineData("lsm/file_open", "lsm+", BpfProgramType.Lsm, (int)BpfAttachType.LsmMac, "file_open", false)]
    [InlineData("lsm.s/bprm_committed_creds", "lsm.s+", BpfProgramType.Lsm, (int)BpfAttachType.LsmMac, "bprm_committed_creds", true)]
    [InlineData("lsm_cgroup/socket_bind", "lsm_cgroup+", BpfProgramType.Lsm, (int)BpfAttachType.LsmCgroup, "socket_bind", false)]
    [InlineData("iter/task", "iter+", BpfProgramType.Tracing, (int)BpfAttachType.TraceIter, "task", false)]
    [InlineData("iter.s/task_file", "iter.s+", BpfProgramType.Tracing, (int)BpfAttachType.TraceIter, "task_file", true)]
    [InlineData("syscall", "syscall", BpfProgramType.Syscall, NoAttachType, "", true)]
    [InlineData("struct_ops/tcp_init", "struct_ops+", BpfProgramType.StructOps, NoAttachType, "tcp_init", false)]
    [InlineData("struct_ops.s/init", "struct_ops.s+", BpfProgramType.StructOps, NoAttachType, "init", true)]
    [InlineData("struct_ops", "struct_ops+", BpfProgramType.StructOps, NoAttachType, "", false)]
    [InlineData("xdp", "xdp", BpfProgramType.Xdp, (int)BpfAttachType.Xdp, "", false)]
    [InlineData("xdp.frags", "xdp.frags", BpfProgramType.Xdp, (int)BpfAttachType.Xdp, "", false)]
    [InlineData("xdp/devmap", "xdp/devmap", BpfProgramType.Xdp, (int)BpfAttachType.XdpDevmap, "", false)]
    [InlineData("xdp.frags/devmap", "xdp.frags/devmap", BpfProgramType.Xdp, (int)BpfAttachType.XdpDevmap, "", false)]
    [InlineData("xdp/cpumap", "xdp/cpumap", BpfProgramType.Xdp, (int)BpfAttachType.XdpCpumap, "", false)]
    [InlineData("xdp.frags/cpumap", "xdp.frags/cpumap", BpfProgramType.Xdp, (int)BpfAttachType.XdpCpumap, "", false)]
    [InlineData("tc", "tc", BpfProgramType.SchedCls, NoAttachType, "", false)]
    [InlineData("tc/ingress", "tc/ingress", BpfProgramType.SchedCls, (int)BpfAttachType.TcxIngress, "", false)]
    [InlineData("tc/egress", "tc/egress", BpfProgramType.SchedCls, (int)BpfAttachType.TcxEgress, "", false)]
    [InlineData("tcx/ingress", "tcx/ingress", BpfProgramType.SchedCls, (int)BpfAttachType.TcxIngress, "", false)]
    [InlineData("tcx/egress", "tcx/egress", BpfProgramType.SchedCls, (int)BpfAttachType.TcxEgress, "", false)]
    [InlineData("netkit/primary", "netkit/primary", BpfProgramType.SchedCls, (int)BpfAttachType.NetkitPrimary, "", false)]
    [InlineData("netkit/peer", "netkit/peer", BpfProgramType.SchedCls, (int)BpfAttachType.NetkitPeer, "", false)]
    [InlineData("classifier", "classifier", BpfProgramType.SchedCls, NoAttachType, "", false)]
    [InlineData("action", "action", BpfProgramType.SchedAct, NoAttachType, "", false)]
    [InlineData("socket", "socket", BpfProgramType.SocketFilter, NoAttachType, "", false)]
    [InlineData("sk_reuseport", "sk_reuseport", BpfProgramType.SkReuseport, (int)BpfAttachType.SkReuseportSelect, "", false)]
    [InlineData("sk_reuseport/migrate", "sk_reuseport/migrate", BpfProgramType.SkReuseport, (int)BpfAttachType.SkReuseportSelectOrMigrate, "", false)]
    [InlineData("sk_skb/stream_parser", "sk_skb/stream_parser", BpfProgramType.SkSkb, (int)BpfAttachType.SkSkbStreamParser, "", false)]
    [InlineData("sk_skb/stream_verdict", "sk_skb/stream_verdict", BpfProgramType.SkSkb, (int)BpfAttachType.SkSkbStreamVerdict, "", false)]
    [InlineData("sk_skb/verdict", "sk_skb/verdict", BpfProgramType.SkSkb, (int)BpfAttachType.SkSkbVerdict, "", false)]
    [InlineData("sk_skb", "sk_skb", BpfProgramType.SkSkb, NoAttachType, "", false)]
    [InlineData("sk_msg", "sk_msg", BpfProgramType.SkMsg, (int)BpfAttachType.SkMsgVerdict, "", false)]
    [InlineData("sockops", "sockops", BpfProgramType.SockOps, (int)BpfAttachType.CgroupSockOps, "", false)]
    [InlineData("sk_lookup", "sk_lookup", BpfProgramType.SkLookup, (int)BpfAttachType.SkLookup, "", false)]
    [InlineData("lirc_mode2", "lirc_mode2", BpfProgramType.LircMode2, (int)BpfAttachType.LircMode2, "", false)]
    [InlineData("flow_dissector", "flow_dissector", BpfProgramType.FlowDissector, (int)BpfAttachType.FlowDissector, "", false)]
    [InlineData("perf_event", "perf_event", BpfProgramType.PerfEvent, NoAttachType, "", false)]
    [InlineData("lwt_in", "lwt_in", BpfProgramType.LwtIn, NoAttachType, "", false)]
    [InlineData("lwt_out", "lwt_out", BpfProgramType.LwtOut, NoAttachType, "", false)]
    [InlineData("lwt_xmit", "lwt_xmit", BpfProgramType.LwtXmit, NoAttachType, "", false)]
    [InlineData("lwt_seg6local", "lwt_seg6local", BpfProgramType.LwtSeg6Local, NoAttachType, "", false)]
    [InlineData("netfilter", "netfilter", BpfProgramType.Netfilter, (int)BpfAttachType.Netfilter, "", false)]
    [InlineData("cgroup_skb/ingress", "cgroup_skb/ingress", BpfProgramType.CgroupSkb, (int)BpfAttachType.CgroupInetIngress, "", false)]
    [InlineData("cgroup_skb/egress", "cgroup_skb/egress", BpfProgramType.CgroupSkb, (int)BpfAttachType.CgroupInetEgress, "", false)]
    [InlineData("cgroup/skb", "cgroup/skb", BpfProgramType.CgroupSkb, NoAttachType, "", false)]
    [InlineData("cgroup/sock_create", "cgroup/sock_create", BpfProgramType.CgroupSock, (int)BpfAttachType.CgroupInetSockCreate, "", false)]
    [InlineData("cgroup/sock_release", "cgroup/sock_release", BpfProgramType.CgroupSock, (int)BpfAttachType.CgroupInetSockRelease, "", false)]
    [InlineData("cgroup/sock", "cgroup/sock", BpfProgramType.CgroupSock, (int)BpfAttachType.CgroupInetSockCreate, "", false)]
    [InlineData("cgroup/post_bind4", "cgroup/post_bind4", BpfProgramType.CgroupSock, (int)BpfAttachType.CgroupInet4PostBind, "", false)]
    [InlineData("cgroup/post_bind6", "cgroup/post_bind6", BpfProgramType.CgroupSock, (int)BpfAttachType.CgroupInet6PostBind, "", false)]
    [InlineData("cgroup/bind4", "cgroup/bind4", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupInet4Bind, "", false)]
    [InlineData("cgroup/bind6", "cgroup/bind6", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupInet6Bind, "", false)]
    [InlineData("cgroup/connect4", "cgroup/connect4", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupInet4Connect, "", false)]
    [InlineData("cgroup/connect6", "cgroup/connect6", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupInet6Connect, "", false)]
    [InlineData("cgroup/connect_unix", "cgroup/connect_unix", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUnixConnect, "", false)]
    [InlineData("cgroup/sendmsg4", "cgroup/sendmsg4", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUdp4Sendmsg, "", false)]
    [InlineData("cgroup/sendmsg6", "cgroup/sendmsg6", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUdp6Sendmsg, "", false)]
    [InlineData("cgroup/sendmsg_unix", "cgroup/sendmsg_unix", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUnixSendmsg, "", false)]
    [InlineData("cgroup/recvmsg4", "cgroup/recvmsg4", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUdp4Recvmsg, "", false)]
    [InlineData("cgroup/recvmsg6", "cgroup/recvmsg6", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUdp6Recvmsg, "", false)]
    [InlineData("cgroup/recvmsg_unix", "cgroup/recvmsg_unix", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUnixRecvmsg, "", false)]
    [InlineData("cgroup/getpeername4", "cgroup/getpeername4", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupInet4Getpeername, "", false)]
    [InlineData("cgroup/getpeername6", "cgroup/getpeername6", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupInet6Getpeername, "", false)]
    [InlineData("cgroup/getpeername_unix", "cgroup/getpeername_unix", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUnixGetpeername, "", false)]
    [InlineData("cgroup/getsockname4", "cgroup/getsockname4", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupInet4Getsockname, "", false)]
    [InlineData("cgroup/getsockname6", "cgroup/getsockname6", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupInet6Getsockname, "", false)]
    [InlineData("cgroup/getsockname_unix", "cgroup/getsockname_unix", BpfProgramType.CgroupSockAddr, (int)BpfAttachType.CgroupUnixGetsockname, "", false)]
    [InlineData("cgroup/sysctl", "cgroup/sysctl", BpfProgramType.CgroupSysctl, (int)BpfAttachType.CgroupSysctl, "", false)]
    [InlineData("cgroup/getsockopt", "cgroup/getsockopt", BpfProgramType.CgroupSockopt, (int)BpfAttachType.CgroupGetsockopt, "", false)]
    [InlineData("cgroup/setsockopt", "cgroup/setsockopt", BpfProgramType.CgroupSockopt, (int)BpfAttachType.CgroupSetsockopt, "", false)]
    [InlineData("cgroup/dev", "cgroup/dev", BpfProgramType.CgroupDevice, (int)BpfAttachType.CgroupDevice, "", false)]
    public void TryMatch_SelectsLibbpfDefinition(
        string sectionName, string pattern, BpfProgramType programType, int expectedAttachType, string target, bool sleepable)
    {
        Assert.True(SectionDefinitions.TryMatch(sectionName, out var match));
        Assert.Equal(pattern, match.Definition.Pattern);
        Assert.Equal(programType, match.ProgramType);
        if (expectedAttachType == NoAttachType)
        {
            Assert.Null(match.ExpectedAttachType);
            Assert.False(match.Definition.HasExpectedAttachType);
            Assert.Equal(0u, match.Definition.ExpectedAttachTypeValue);
        }
        else
        {
            Assert.Equal((BpfAttachType)expectedAttachType, match.ExpectedAttachType);
            Assert.Equal((uint)expectedAttachType, match.Definition.ExpectedAttachTypeValue);
        }

        Assert.Equal(target, match.Target);
        Assert.Equal(target.Length != 0, match.HasTarget);
        Assert.Equal(sleepable, match.Sleepable);
        Assert.Same(match.Definition, SectionDefinitions.Find(sectionName));
    }

    [Theory]
    [InlineData(".text")]
    [InlineData("license")]
    [InlineData("version")]
    [InlineData("maps")]
    [InlineData(".maps")]
    [InlineData(".data")]
    [InlineData(".rodata")]
    [InlineData(".bss")]
    [InlineData(".kconfig")]
    [InlineData(".ksyms")]
    [InlineData(".struct_ops")]
    [InlineData(".struct_ops.link")]
    [InlineData(".BTF")]
    [InlineData("foo")]
    [InlineData("")]
    [InlineData("kprobex")]
    [InlineData("kprobe_foo")]
    [InlineData("kprobe.multix/foo")]
    [InlineData("Kprobe/foo")]
    [InlineData("tpx/a/b")]
    [InlineData("xdp/foo")]
    [InlineData("xdp_devmap")]
    [InlineData("xdp.frags/foo")]
    [InlineData("socket/foo")]
    [InlineData("tc/foo")]
    [InlineData("tcx")]
    [InlineData("tcx/foo")]
    [InlineData("netkit")]
    [InlineData("sk_skb/foo")]
    [InlineData("sk_msg/foo")]
    [InlineData("cgroup/foo")]
    [InlineData("cgroup")]
    [InlineData("cgroup_skb")]
    [InlineData("cgroup_skb/foo")]
    [InlineData("perf_event/x")]
    [InlineData("syscall/x")]
    [InlineData("lwt_in/x")]
    public void TryMatch_RejectsNonProgramSections(string sectionName)
    {
        Assert.False(SectionDefinitions.TryMatch(sectionName, out var match));
        Assert.Null(match.Definition);
        Assert.Null(SectionDefinitions.Find(sectionName));
        Assert.False(SectionDefinitions.IsAutoAttachable(sectionName));
    }

    [Fact]
    public void TryMatch_RejectsNull()
    {
        Assert.Throws<ArgumentNullException>(() => SectionDefinitions.TryMatch(null!, out _));
    }

    [Fact]
    public void TableOrder_PutsSpecificRowsFirst()
    {
        var patterns = SectionDefinitions.All.Select(d => d.Pattern).ToList();
        Assert.True(patterns.IndexOf("sk_reuseport/migrate") < patterns.IndexOf("sk_reuseport"));
        Assert.True(patterns.IndexOf("xdp.frags/devmap") < patterns.IndexOf("xdp.frags"));
        Assert.True(patterns.IndexOf("xdp/devmap") < patterns.IndexOf("xdp"));
        Assert.True(patterns.IndexOf("sk_skb/verdict") < patterns.IndexOf("sk_skb"));
        Assert.True(patterns.IndexOf("tc/ingress") < patterns.IndexOf("tc"));
        Assert.Equal("socket", patterns[0]);
        Assert.Equal("netfilter", patterns[patterns.Count - 1]);
    }

    [Fact]
    public void Match_ExposesLoadFlagsAndBtfTarget()
    {
        Assert.True(SectionDefinitions.TryMatch("fentry.s/bpf_fentry_test1", out var fentry));
        Assert.Equal(BpfProgramFlags.Sleepable, fentry.ProgramLoadFlags); // BPF_F_SLEEPABLE, 1 << 4
        Assert.Equal(1u << 4, (uint)BpfProgramFlags.Sleepable);
        Assert.Equal("bpf_fentry_test1", fentry.AttachBtfName);
        Assert.True(fentry.Flags.HasFlag(SectionFlags.AttachBtf));

        Assert.True(SectionDefinitions.TryMatch("fentry", out var bareFentry));
        Assert.Null(bareFentry.AttachBtfName);
        Assert.False(bareFentry.IsAutoAttachable);

        Assert.True(SectionDefinitions.TryMatch("xdp.frags", out var frags));
        Assert.Equal(BpfProgramFlags.XdpHasFrags, frags.ProgramLoadFlags); // BPF_F_XDP_HAS_FRAGS, 1 << 5
        Assert.Equal(1u << 5, (uint)BpfProgramFlags.XdpHasFrags);
        Assert.Equal(SectionFlags.XdpFrags, frags.Flags);

        Assert.True(SectionDefinitions.TryMatch("xdp", out var xdp));
        Assert.Equal(BpfProgramFlags.None, xdp.ProgramLoadFlags);
        Assert.Equal(SectionFlags.AttachableOptional, xdp.Flags);
        Assert.Equal(SectionFlags.Attachable | SectionFlags.ExpectedAttachTypeOptional, xdp.Flags);

        Assert.True(SectionDefinitions.TryMatch("kprobe/do_sys_open", out var kprobe));
        Assert.Null(kprobe.AttachBtfName);
        Assert.Equal(BpfProgramFlags.None, kprobe.ProgramLoadFlags);

        Assert.True(SectionDefinitions.TryMatch("usdt.s/bin:p:n", out var usdt));
        Assert.Equal(SectionFlags.Usdt | SectionFlags.Sleepable, usdt.Flags);
    }

    [Fact]
    public void ExpectedAttachType_ZeroIsRealForCgroupSkbIngress()
    {
        var ingress = SectionDefinitions.Find("cgroup_skb/ingress")!;
        Assert.True(ingress.HasExpectedAttachType);
        Assert.Equal(BpfAttachType.CgroupInetIngress, ingress.ExpectedAttachType);
        Assert.Equal(0u, (uint)BpfAttachType.CgroupInetIngress);

        var socket = SectionDefinitions.Find("socket")!;
        Assert.False(socket.HasExpectedAttachType);
        Assert.Equal(0u, socket.ExpectedAttachTypeValue);
    }

    [Fact]
    public void EveryRow_HasAProgramKind_WhoseWrapperAcceptsIt_AndParsesItsTargetOnce()
    {
        foreach (var d in SectionDefinitions.All)
        {
            Assert.Equal(SectionDefinitions.ProgramKindOf(d.AttachKind), d.ProgramKind);
            Assert.True(SectionDefinitions.Accepts(d.ProgramKind, d.ProgramType, d.ExpectedAttachType), d.Pattern);
            Assert.Contains(d, SectionDefinitions.RowsOf(d.ProgramKind));
            foreach (string name in RepresentativeNames(d))
            {
                Assert.True(SectionDefinitions.TryMatch(name, out var match));
                Assert.Equal(match.IsAutoAttachable, match.ParsedTarget is not null);
                if (match.ParsedTarget is { } target)
                    Assert.Equal(d.AttachKind, target.Kind);
            }
        }

        // The rows decide what a wrapper takes: SEC("action") is a tc action, which neither tcx nor cls_bpf take.
        var action = SectionDefinitions.Find("action")!;
        Assert.Equal(AutoAttachKind.TcAction, action.AttachKind);
        Assert.Equal(ProgramKind.None, action.ProgramKind);
        Assert.False(SectionDefinitions.Accepts(ProgramKind.Tc, BpfProgramType.SchedAct, null));
        Assert.True(SectionDefinitions.Accepts(ProgramKind.Tc, BpfProgramType.SchedCls, null));
        Assert.False(SectionDefinitions.Accepts(ProgramKind.Xdp, BpfProgramType.Xdp, BpfAttachType.XdpDevmap));
        Assert.True(SectionDefinitions.Accepts(ProgramKind.Xdp, BpfProgramType.Xdp, null, attachTypeKnown: false));
        Assert.Equal(ProgramKind.Cgroup, SectionDefinitions.Find("lsm_cgroup/socket_bind")!.ProgramKind);
        Assert.False(SectionDefinitions.Accepts(ProgramKind.Lsm, BpfProgramType.Lsm, BpfAttachType.LsmCgroup));
    }

    [Theory]
    [InlineData("kprobe/do_sys_open+0x10", "do_sys_open", 0x10ul, null, null)]
    [InlineData("kretprobe/do_sys_open", "do_sys_open", 0ul, null, null)]
    [InlineData("uprobe//bin/bash:readline+8", "readline", 8ul, "/bin/bash", null)]
    [InlineData("uprobe.multi/libc.so.6:mem*", null, 0ul, "libc.so.6", "mem*")]
    [InlineData("kprobe.multi/tcp_*", null, 0ul, null, "tcp_*")]
    public void ParsedTarget_SaysWhereToAttach(string section, string? function, ulong offset, string? binary, string? pattern)
    {
        Assert.True(SectionDefinitions.TryMatch(section, out var match));
        var t = match.ParsedTarget!;
        Assert.Equal(function, t.Function);
        Assert.Equal(offset, t.Offset);
        Assert.Equal(binary, t.BinaryPath);
        Assert.Equal(pattern, t.Pattern);
        Assert.Equal(section.StartsWith("kret", StringComparison.Ordinal), match.Definition.IsReturnProbe);
    }

    [Fact]
    public void AttachKinds_DescribeTheMechanism()
    {
        Assert.Equal(AutoAttachKind.Tracepoint, SectionDefinitions.Find("tp/a/b")!.AttachKind);
        Assert.Equal(AutoAttachKind.Kretprobe, SectionDefinitions.Find("kretprobe/f")!.AttachKind);
        Assert.Equal(AutoAttachKind.Uretprobe, SectionDefinitions.Find("uretprobe.s/b:f")!.AttachKind);
        Assert.Equal(AutoAttachKind.TracingBtf, SectionDefinitions.Find("tp_btf/x")!.AttachKind);
        Assert.Equal(AutoAttachKind.Freplace, SectionDefinitions.Find("freplace/x")!.AttachKind);
        Assert.Equal(AutoAttachKind.Tcx, SectionDefinitions.Find("tc/ingress")!.AttachKind);
        Assert.Equal(AutoAttachKind.Tc, SectionDefinitions.Find("classifier")!.AttachKind);
        Assert.Equal(AutoAttachKind.Netkit, SectionDefinitions.Find("netkit/peer")!.AttachKind);
        Assert.Equal(AutoAttachKind.XdpMapEntry, SectionDefinitions.Find("xdp/devmap")!.AttachKind);
        Assert.Equal(AutoAttachKind.CgroupLink, SectionDefinitions.Find("cgroup/connect4")!.AttachKind);
        Assert.Equal(AutoAttachKind.CgroupLink, SectionDefinitions.Find("lsm_cgroup/x")!.AttachKind);
        Assert.Equal(AutoAttachKind.SockMap, SectionDefinitions.Find("sk_msg")!.AttachKind);
        Assert.Equal(AutoAttachKind.StructOps, SectionDefinitions.Find("struct_ops.s/x")!.AttachKind);
        Assert.Equal(AutoAttachKind.Syscall, SectionDefinitions.Find("syscall")!.AttachKind);
        Assert.True(SectionDefinitions.Find("tc")!.IsLegacy);
        Assert.True(SectionDefinitions.Find("action")!.IsLegacy);
        Assert.False(SectionDefinitions.Find("tcx/ingress")!.IsLegacy);
    }

    [Theory]
    [InlineData("kprobe/do_sys_open")]
    [InlineData("kprobe/do_sys_open+0x10")]
    [InlineData("kretprobe/do_sys_open")]
    [InlineData("kprobe.multi/tcp_*")]
    [InlineData("kretprobe.multi/tcp_v?_connect")]
    [InlineData("kprobe.session/bpf_fentry_test*")]
    [InlineData("ksyscall/openat")]
    [InlineData("kretsyscall/openat")]
    [InlineData("uprobe//bin/bash:readline")]
    [InlineData("uprobe/libc.so.6:malloc+8")]
    [InlineData("uretprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc")]
    [InlineData("uprobe.s//bin/true:main")]
    [InlineData("uprobe.multi//bin/x:f*")]
    [InlineData("uretprobe.multi.s//bin/x:f*")]
    [InlineData("uprobe.session//bin/x:f")]
    [InlineData("usdt/./libfoo.so:provider:name")]
    [InlineData("usdt.s//usr/bin/python3:python:function__entry")]
    [InlineData("tp/syscalls/sys_enter_getpid")]
    [InlineData("tracepoint/sched/sched_process_exec")]
    [InlineData("raw_tp/sched_switch")]
    [InlineData("raw_tracepoint.w/x")]
    [InlineData("tp_btf/sched_switch")]
    [InlineData("fentry/bpf_fentry_test1")]
    [InlineData("fexit.s/x")]
    [InlineData("fmod_ret/x")]
    [InlineData("fsession/x")]
    [InlineData("lsm/file_open")]
    [InlineData("lsm.s/x")]
    [InlineData("iter/task")]
    public void IsAutoAttachable_WhenTheNameSaysEnough(string sectionName)
    {
        Assert.True(SectionDefinitions.IsAutoAttachable(sectionName));
        Assert.True(SectionDefinitions.TryMatch(sectionName, out var match));
        Assert.True(match.IsAutoAttachable);
    }

    [Theory]
    [InlineData("kprobe")]
    [InlineData("kprobe/")]
    [InlineData("kprobe/+5")]
    [InlineData("kretprobe")]
    [InlineData("kretprobe/do_sys_open+0x10")]
    [InlineData("kprobe.multi")]
    [InlineData("kprobe.multi/")]
    [InlineData("kprobe.session")]
    [InlineData("ksyscall")]
    [InlineData("ksyscall/")]
    [InlineData("uprobe")]
    [InlineData("uprobe//bin/bash")]
    [InlineData("uprobe/:readline")]
    [InlineData("uprobe//bin/bash:")]
    [InlineData("uretprobe//bin/bash:readline+8")]
    [InlineData("uprobe.multi//bin/x")]
    [InlineData("usdt")]
    [InlineData("usdt/bin:provider")]
    [InlineData("usdt/bin::name")]
    [InlineData("tp")]
    [InlineData("tp/syscalls")]
    [InlineData("tracepoint/")]
    [InlineData("raw_tp")]
    [InlineData("raw_tp/")]
    [InlineData("fentry")]
    [InlineData("freplace/handler")]
    [InlineData("lsm_cgroup/socket_bind")]
    [InlineData("iter")]
    [InlineData("struct_ops/init")]
    [InlineData("syscall")]
    [InlineData("xdp")]
    [InlineData("xdp/devmap")]
    [InlineData("tc")]
    [InlineData("tcx/ingress")]
    [InlineData("netkit/primary")]
    [InlineData("cgroup/connect4")]
    [InlineData("cgroup_skb/ingress")]
    [InlineData("sockops")]
    [InlineData("socket")]
    [InlineData("sk_lookup")]
    [InlineData("sk_msg")]
    [InlineData("perf_event")]
    [InlineData("netfilter")]
    [InlineData("flow_dissector")]
    [InlineData("lwt_xmit")]
    public void IsAutoAttachable_FalseWhenTheNameIsNotEnough(string sectionName)
    {
        Assert.True(SectionDefinitions.TryMatch(sectionName, out var match), sectionName);
        Assert.False(SectionDefinitions.IsAutoAttachable(match));
        Assert.False(SectionDefinitions.IsAutoAttachable(sectionName));
    }

    [Fact]
    public void IsAutoAttachable_DefaultMatchIsFalse()
    {
        Assert.False(SectionDefinitions.IsAutoAttachable(default(SectionMatch)));
    }

    [Theory]
    [InlineData("syscalls/sys_enter_getpid", "syscalls", "sys_enter_getpid")]
    [InlineData("sched/sched_process_exec", "sched", "sched_process_exec")]
    [InlineData("a/b/c", "a", "b/c")]
    public void TryParseTracepoint_SplitsAtFirstSlash(string target, string category, string name)
    {
        Assert.True(SectionDefinitions.TryParseTracepoint(target, out string c, out string n));
        Assert.Equal(category, c);
        Assert.Equal(name, n);
    }

    [Theory]
    [InlineData("")]
    [InlineData("syscalls")]
    [InlineData("/sys_enter_getpid")]
    [InlineData("syscalls/")]
    public void TryParseTracepoint_RejectsIncomplete(string target)
    {
        Assert.False(SectionDefinitions.TryParseTracepoint(target, out _, out _));
    }

    [Fact]
    public void TracepointMatch_ParsesThroughTarget()
    {
        Assert.True(SectionDefinitions.TryMatch("tp/syscalls/sys_enter_getpid", out var match));
        Assert.True(SectionDefinitions.TryParseTracepoint(match.Target, out string category, out string name));
        Assert.Equal("syscalls", category);
        Assert.Equal("sys_enter_getpid", name);
    }

    [Theory]
    [InlineData("do_sys_open+0x10", "do_sys_open", 16UL)]
    [InlineData("do_sys_open", "do_sys_open", 0UL)]
    [InlineData("do_sys_open+16", "do_sys_open", 16UL)]
    [InlineData("do_sys_open+010", "do_sys_open", 8UL)]
    [InlineData("do_sys_open+0X1f", "do_sys_open", 31UL)]
    [InlineData("do_sys_open+0", "do_sys_open", 0UL)]
    [InlineData("tcp_v4_connect.isra.0+4", "tcp_v4_connect.isra.0", 4UL)]
    [InlineData("do_sys_open+bar", "do_sys_open", 0UL)] // libbpf: unreadable offset stays 0
    [InlineData("do_sys_open:x", "do_sys_open", 0UL)] // libbpf: trailing text after the name is ignored
    [InlineData("f+0x10junk", "f", 16UL)]
    [InlineData("f+9223372036854775807", "f", 9223372036854775807UL)]
    public void TryParseKprobe_ReadsFunctionAndOffset(string target, string function, ulong offset)
    {
        Assert.True(SectionDefinitions.TryParseKprobe(target, out string f, out ulong o));
        Assert.Equal(function, f);
        Assert.Equal(offset, o);
    }

    [Theory]
    [InlineData("")]
    [InlineData("+16")]
    [InlineData("/x")]
    [InlineData("f+-1")]
    [InlineData("f+9223372036854775808")]
    [InlineData("f+0xffffffffffffffffff")]
    public void TryParseKprobe_RejectsInvalid(string target)
    {
        Assert.False(SectionDefinitions.TryParseKprobe(target, out _, out _));
    }

    [Theory]
    [InlineData("tcp_*", "tcp_*")]
    [InlineData("bpf_fentry_test?", "bpf_fentry_test?")]
    [InlineData("*", "*")]
    [InlineData("foo bar", "foo")]
    public void TryParseKprobeMulti_ReadsPattern(string target, string pattern)
    {
        Assert.True(SectionDefinitions.TryParseKprobeMulti(target, out string p));
        Assert.Equal(pattern, p);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/x")]
    [InlineData("[abc]")]
    public void TryParseKprobeMulti_RejectsEmptyPattern(string target)
    {
        Assert.False(SectionDefinitions.TryParseKprobeMulti(target, out _));
    }

    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6:malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6", "malloc", 0UL)]
    [InlineData("/bin/true:main", "/bin/true", "main", 0UL)]
    [InlineData("/bin/true:main+0x20", "/bin/true", "main", 32UL)]
    [InlineData("/bin/true:main+32", "/bin/true", "main", 32UL)]
    [InlineData("libc.so.6:malloc", "libc.so.6", "malloc", 0UL)]
    [InlineData("./app:_ZN3foo3barEv", "./app", "_ZN3foo3barEv", 0UL)]
    [InlineData("/bin/x:foo+bar", "/bin/x", "foo+bar", 0UL)] // not a complete number: stays in the name
    [InlineData("/bin/x:foo+0x10junk", "/bin/x", "foo+0x10junk", 0UL)]
    [InlineData("/bin/x:a:b", "/bin/x", "a:b", 0UL)]
    [InlineData("/bin/x:operator+", "/bin/x", "operator+", 0UL)]
    [InlineData("/bin/x:a+b+0x8", "/bin/x", "a+b", 8UL)]
    public void TryParseUprobe_SplitsBinaryFunctionOffset(string target, string binary, string function, ulong offset)
    {
        Assert.True(SectionDefinitions.TryParseUprobe(target, out string b, out string f, out ulong o));
        Assert.Equal(binary, b);
        Assert.Equal(function, f);
        Assert.Equal(offset, o);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/bin/bash")]
    [InlineData(":readline")]
    [InlineData("/bin/bash:")]
    [InlineData("/bin/bash:+0x10")]
    [InlineData("/bin/bash:f+-8")]
    public void TryParseUprobe_RejectsIncomplete(string target)
    {
        Assert.False(SectionDefinitions.TryParseUprobe(target, out _, out _, out _));
    }

    [Fact]
    public void UprobeMatch_ParsesThroughTarget()
    {
        Assert.True(SectionDefinitions.TryMatch("uretprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc", out var ret));
        Assert.Equal(AutoAttachKind.Uretprobe, ret.AttachKind);
        Assert.True(SectionDefinitions.TryParseUprobe(ret.Target, out string binary, out string function, out ulong offset));
        Assert.Equal("/usr/lib/x86_64-linux-gnu/libc.so.6", binary);
        Assert.Equal("malloc", function);
        Assert.Equal(0UL, offset);

        Assert.True(SectionDefinitions.TryMatch("uprobe.s//bin/true:main", out var sleepable));
        Assert.True(sleepable.Sleepable);
        Assert.Equal(AutoAttachKind.Uprobe, sleepable.AttachKind);
        Assert.True(SectionDefinitions.TryParseUprobe(sleepable.Target, out binary, out function, out _));
        Assert.Equal("/bin/true", binary);
        Assert.Equal("main", function);
    }

    [Theory]
    [InlineData("/bin/x:f*", "/bin/x", "f*")]
    [InlineData("libc.so.6:mall?c", "libc.so.6", "mall?c")]
    [InlineData("/bin/x:a:b+1", "/bin/x", "a:b+1")]
    public void TryParseUprobeMulti_SplitsBinaryAndPattern(string target, string binary, string pattern)
    {
        Assert.True(SectionDefinitions.TryParseUprobeMulti(target, out string b, out string p));
        Assert.Equal(binary, b);
        Assert.Equal(pattern, p);
    }

    [Theory]
    [InlineData("./libfoo.so:provider:name", "./libfoo.so", "provider", "name")]
    [InlineData("/usr/bin/python3:python:function__entry", "/usr/bin/python3", "python", "function__entry")]
    [InlineData("libc.so.6:libc:setjmp", "libc.so.6", "libc", "setjmp")]
    [InlineData("bin:p:n:extra", "bin", "p", "n")] // libbpf ignores what follows a fourth ':'
    public void TryParseUsdt_SplitsThreeParts(string target, string binary, string provider, string name)
    {
        Assert.True(SectionDefinitions.TryParseUsdt(target, out string b, out string p, out string n));
        Assert.Equal(binary, b);
        Assert.Equal(provider, p);
        Assert.Equal(name, n);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bin")]
    [InlineData("bin:provider")]
    [InlineData(":provider:name")]
    [InlineData("bin::name")]
    [InlineData("bin:provider:")]
    public void TryParseUsdt_RejectsIncomplete(string target)
    {
        Assert.False(SectionDefinitions.TryParseUsdt(target, out _, out _, out _));
    }

    [Fact]
    public void UsdtMatch_ParsesThroughTarget()
    {
        Assert.True(SectionDefinitions.TryMatch("usdt/./libfoo.so:provider:name", out var match));
        Assert.Equal(AutoAttachKind.Usdt, match.AttachKind);
        Assert.True(SectionDefinitions.TryParseUsdt(match.Target, out string binary, out string provider, out string name));
        Assert.Equal("./libfoo.so", binary);
        Assert.Equal("provider", provider);
        Assert.Equal("name", name);
    }

    [Fact]
    public void Parsers_RejectNull()
    {
        Assert.Throws<ArgumentNullException>(() => SectionDefinitions.TryParseKprobe(null!, out _, out _));
        Assert.Throws<ArgumentNullException>(() => SectionDefinitions.TryParseUprobe(null!, out _, out _, out _));
        Assert.Throws<ArgumentNullException>(() => SectionDefinitions.TryParseUsdt(null!, out _, out _, out _));
        Assert.Throws<ArgumentNullException>(() => SectionDefinitions.TryParseTracepoint(null!, out _, out _));
    }

    [Fact]
    public void CustomDefinitions_AreTriedFirst()
    {
        var custom = new SectionDefinition("kprobe/special/", BpfProgramType.Kprobe, null, SectionFlags.None, AutoAttachKind.Kprobe);
        Assert.Equal(SectionMatchKind.SlashPrefix, custom.MatchKind);
        Assert.Equal("kprobe/special", custom.Prefix);
        Assert.False(custom.Matches("kprobe/special"));

        Assert.True(SectionDefinitions.TryMatch("kprobe/special/thing", new[] { custom }, out var match));
        Assert.Same(custom, match.Definition);
        Assert.Equal("thing", match.Target);

        Assert.True(SectionDefinitions.TryMatch("kprobe/other", new[] { custom }, out var builtin));
        Assert.Equal("kprobe+", builtin.Definition.Pattern);
    }

    [Fact]
    public void SectionDefinition_MatchesWithLibbpfRules()
    {
        var plus = new SectionDefinition("myprobe+", BpfProgramType.Kprobe, null, SectionFlags.None, AutoAttachKind.Kprobe);
        Assert.True(plus.IsPrefixMatch);
        Assert.Equal("myprobe", plus.Prefix);
        Assert.True(plus.Matches("myprobe"));
        Assert.True(plus.Matches("myprobe/"));
        Assert.True(plus.Matches("myprobe/x/y"));
        Assert.False(plus.Matches("myprobe.s/x"));
        Assert.False(plus.Matches("myprob"));
        Assert.Equal("myprobe+", plus.ToString());

        var exact = new SectionDefinition("my/exact", BpfProgramType.Xdp, BpfAttachType.Xdp, SectionFlags.None, AutoAttachKind.Xdp);
        Assert.False(exact.IsPrefixMatch);
        Assert.True(exact.Matches("my/exact"));
        Assert.False(exact.Matches("my/exact/x"));
        Assert.False(exact.Matches("my/exac"));

        Assert.Throws<ArgumentException>(() => new SectionDefinition("", BpfProgramType.Xdp, null, SectionFlags.None, AutoAttachKind.Xdp));
        Assert.Throws<ArgumentNullException>(() => new SectionDefinition(null!, BpfProgramType.Xdp, null, SectionFlags.None, AutoAttachKind.Xdp));
    }

    [Fact]
    public void SectionFlags_UseLibbpfValues()
    {
        Assert.Equal(0, (int)SectionFlags.None);
        Assert.Equal(1, (int)SectionFlags.ExpectedAttachTypeOptional);
        Assert.Equal(2, (int)SectionFlags.Attachable);
        Assert.Equal(3, (int)SectionFlags.AttachableOptional);
        Assert.Equal(4, (int)SectionFlags.AttachBtf);
        Assert.Equal(8, (int)SectionFlags.Sleepable);
        Assert.Equal(16, (int)SectionFlags.XdpFrags);
        Assert.Equal(32, (int)SectionFlags.Usdt);
    }

    [Fact]
    public void KernelEnums_HaveUapiValues()
    {
        Assert.Equal(1u, (uint)BpfProgramType.SocketFilter);
        Assert.Equal(26u, (uint)BpfProgramType.Tracing);
        Assert.Equal(28u, (uint)BpfProgramType.Ext);
        Assert.Equal(32u, (uint)BpfProgramType.Netfilter);
        Assert.Equal(33, Enum.GetValues(typeof(BpfProgramType)).Length);

        Assert.Equal(23u, (uint)BpfAttachType.TraceRawTp);
        Assert.Equal(37u, (uint)BpfAttachType.Xdp);
        Assert.Equal(42u, (uint)BpfAttachType.TraceKprobeMulti);
        Assert.Equal(46u, (uint)BpfAttachType.TcxIngress);
        Assert.Equal(47u, (uint)BpfAttachType.TcxEgress);
        Assert.Equal(48u, (uint)BpfAttachType.TraceUprobeMulti);
        Assert.Equal(49u, (uint)BpfAttachType.CgroupUnixConnect);
        Assert.Equal(54u, (uint)BpfAttachType.NetkitPrimary);
        Assert.Equal(55u, (uint)BpfAttachType.NetkitPeer);
        Assert.Equal(56u, (uint)BpfAttachType.TraceKprobeSession);
        Assert.Equal(57u, (uint)BpfAttachType.TraceUprobeSession);
        Assert.Equal(58u, (uint)BpfAttachType.TraceFsession);
        Assert.Equal(59, Enum.GetValues(typeof(BpfAttachType)).Length);

        Assert.Equal(19u, (uint)BpfMapType.CgroupStorage);
        Assert.Equal(27u, (uint)BpfMapType.Ringbuf);
        Assert.Equal(33u, (uint)BpfMapType.Arena);
        Assert.Equal(34u, (uint)BpfMapType.InsnArray);
        Assert.Equal(35, Enum.GetValues(typeof(BpfMapType)).Length);

        Assert.Equal(11u, (uint)BpfLinkType.Tcx);
        Assert.Equal(13u, (uint)BpfLinkType.Netkit);
        Assert.Equal(14u, (uint)BpfLinkType.Sockmap);
        Assert.Equal(15, Enum.GetValues(typeof(BpfLinkType)).Length);

        AssertDense<BpfProgramType>();
        AssertDense<BpfAttachType>();
        AssertDense<BpfMapType>();
        AssertDense<BpfLinkType>();
    }

    private static void AssertDense<T>()
        where T : struct, Enum
    {
        var values = Enum.GetValues(typeof(T)).Cast<T>().Select(v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)).OrderBy(v => v).ToList();
        for (int i = 0; i < values.Count; i++)
        {
            Assert.Equal(i, values[i]);
        }
    }

    private static IEnumerable<string> RepresentativeNames(SectionDefinition definition)
    {
        switch (definition.MatchKind)
        {
            case SectionMatchKind.ExactOrSlashPrefix:
                yield return definition.Prefix;
                yield return definition.Prefix + "/x_1";
                yield return definition.Prefix + "/a/b:c+0x10";
                break;
            case SectionMatchKind.SlashPrefix:
                yield return definition.Pattern + "x";
                break;
            default:
                yield return definition.Pattern;
                break;
        }
    }
}

public class BpfHelpersTests
{
    [Theory]
    [InlineData(1, "bpf_map_lookup_elem")]
    [InlineData(2, "bpf_map_update_elem")]
    [InlineData(4, "bpf_probe_read")]
    [InlineData(6, "bpf_trace_printk")]
    [InlineData(12, "bpf_tail_call")]
    [InlineData(14, "bpf_get_current_pid_tgid")]
    [InlineData(25, "bpf_perf_event_output")]
    [InlineData(35, "bpf_get_current_task")]
    [InlineData(112, "bpf_probe_read_user")]
    [InlineData(113, "bpf_probe_read_kernel")]
    [InlineData(130, "bpf_ringbuf_output")]
    [InlineData(131, "bpf_ringbuf_reserve")]
    [InlineData(158, "bpf_get_current_task_btf")]
    [InlineData(181, "bpf_loop")]
    [InlineData(209, "bpf_user_ringbuf_drain")]
    [InlineData(210, "bpf_cgrp_storage_get")]
    [InlineData(211, "bpf_cgrp_storage_delete")]
    public void GetName_ReturnsKernelName(int id, string name)
    {
        Assert.Equal(name, BpfHelpers.GetName(id));
        Assert.Equal(name, BpfHelpers.GetName((BpfHelper)id));
        Assert.True(BpfHelpers.TryGetId(name, out int byName));
        Assert.Equal(id, byName);
        Assert.True(BpfHelpers.TryGetId(name.Substring(4), out int byShortName));
        Assert.Equal(id, byShortName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(212)]
    [InlineData(int.MaxValue)]
    public void GetName_ReturnsNullForNonHelpers(int id)
    {
        Assert.Null(BpfHelpers.GetName(id));
        Assert.False(BpfHelpers.IsKnown(id));
        Assert.False(BpfHelpers.IsGplOnly(id));
        Assert.Equal(HelperLicenseRequirement.Unknown, BpfHelpers.GetLicenseRequirement(id));
    }

    [Fact]
    public void TryGetId_RejectsUnknownNames()
    {
        Assert.False(BpfHelpers.TryGetId("bpf_no_such_helper", out int id));
        Assert.Equal(0, id);
        Assert.False(BpfHelpers.TryGetId("unspec", out _));
        Assert.False(BpfHelpers.TryGetId("bpf_unspec", out _));
        Assert.False(BpfHelpers.TryGetId("", out _));
    }

    [Fact]
    public void HelperEnum_MatchesNames()
    {
        Assert.Equal(BpfHelpers.MaxId, 211);
        Assert.Equal(1, (int)BpfHelper.MapLookupElem);
        Assert.Equal(6, (int)BpfHelper.TracePrintk);
        Assert.Equal(113, (int)BpfHelper.ProbeReadKernel);
        Assert.Equal(211, (int)BpfHelper.CgrpStorageDelete);

        var values = Enum.GetValues(typeof(BpfHelper)).Cast<BpfHelper>().ToList();
        Assert.Equal(212, values.Count);
        foreach (var helper in values)
        {
            int id = (int)helper;
            if (id == 0)
            {
                continue;
            }

            string name = BpfHelpers.GetName(id)!;
            Assert.NotNull(name);

            // "bpf_get_prandom_u32" <-> GetPrandomU32
            string flattened = name.Substring(4).Replace("_", string.Empty, StringComparison.Ordinal);
            Assert.Equal(flattened, helper.ToString().ToLowerInvariant());
        }
    }

    [Theory]
    [InlineData("bpf_probe_read")]
    [InlineData("bpf_trace_printk")]
    [InlineData("bpf_perf_event_read")]
    [InlineData("bpf_perf_event_output")]
    [InlineData("bpf_get_current_task")]
    [InlineData("bpf_probe_write_user")]
    [InlineData("bpf_probe_read_str")]
    [InlineData("bpf_perf_event_read_value")]
    [InlineData("bpf_perf_prog_read_value")]
    [InlineData("bpf_override_return")]
    [InlineData("bpf_get_stack")]
    [InlineData("bpf_fib_lookup")]
    [InlineData("bpf_rc_repeat")]
    [InlineData("bpf_rc_keydown")]
    [InlineData("bpf_rc_pointer_rel")]
    [InlineData("bpf_tcp_check_syncookie")]
    [InlineData("bpf_tcp_gen_syncookie")]
    [InlineData("bpf_skb_output")]
    [InlineData("bpf_probe_read_user")]
    [InlineData("bpf_probe_read_kernel")]
    [InlineData("bpf_probe_read_user_str")]
    [InlineData("bpf_probe_read_kernel_str")]
    [InlineData("bpf_read_branch_records")]
    [InlineData("bpf_xdp_output")]
    [InlineData("bpf_seq_printf")]
    [InlineData("bpf_seq_write")]
    [InlineData("bpf_seq_printf_btf")]
    [InlineData("bpf_get_current_task_btf")]
    [InlineData("bpf_check_mtu")]
    [InlineData("bpf_snprintf")]
    [InlineData("bpf_timer_init")]
    [InlineData("bpf_timer_set_callback")]
    [InlineData("bpf_timer_start")]
    [InlineData("bpf_timer_cancel")]
    [InlineData("bpf_task_pt_regs")]
    [InlineData("bpf_get_branch_snapshot")]
    [InlineData("bpf_trace_vprintk")]
    [InlineData("bpf_copy_from_user_task")]
    [InlineData("bpf_tcp_raw_gen_syncookie_ipv4")]
    [InlineData("bpf_tcp_raw_gen_syncookie_ipv6")]
    [InlineData("bpf_tcp_raw_check_syncookie_ipv4")]
    [InlineData("bpf_tcp_raw_check_syncookie_ipv6")]
    public void IsGplOnly_TrueForGplHelpers(string name)
    {
        Assert.True(BpfHelpers.TryGetId(name, out int id));
        Assert.True(BpfHelpers.IsGplOnly(id), name);
        Assert.True(BpfHelpers.MayBeGplOnly(id), name);
        Assert.Equal(HelperLicenseRequirement.GplOnly, BpfHelpers.GetLicenseRequirement(id));
    }

    [Theory]
    [InlineData("bpf_map_lookup_elem")]
    [InlineData("bpf_map_update_elem")]
    [InlineData("bpf_ktime_get_ns")]
    [InlineData("bpf_get_current_pid_tgid")]
    [InlineData("bpf_get_current_comm")]
    [InlineData("bpf_tail_call")]
    [InlineData("bpf_get_prandom_u32")]
    [InlineData("bpf_skb_load_bytes")]
    [InlineData("bpf_redirect")]
    [InlineData("bpf_redirect_map")]
    [InlineData("bpf_ringbuf_output")]
    [InlineData("bpf_ringbuf_reserve")]
    [InlineData("bpf_ringbuf_submit")]
    [InlineData("bpf_send_signal")]
    [InlineData("bpf_d_path")]
    [InlineData("bpf_copy_from_user")]
    [InlineData("bpf_get_task_stack")]
    [InlineData("bpf_loop")]
    [InlineData("bpf_spin_lock")]
    [InlineData("bpf_get_attach_cookie")]
    [InlineData("bpf_get_func_arg")]
    [InlineData("bpf_kptr_xchg")]
    [InlineData("bpf_sys_bpf")]
    [InlineData("bpf_bind")]
    [InlineData("bpf_get_retval")]
    [InlineData("bpf_cgrp_storage_get")]
    public void IsGplOnly_FalseForUnrestrictedHelpers(string name)
    {
        Assert.True(BpfHelpers.TryGetId(name, out int id));
        Assert.False(BpfHelpers.IsGplOnly(id), name);
        Assert.False(BpfHelpers.MayBeGplOnly(id), name);
        Assert.Equal(HelperLicenseRequirement.Any, BpfHelpers.GetLicenseRequirement(id));
    }

    [Theory]
    [InlineData("bpf_get_stackid")]
    [InlineData("bpf_get_func_ip")]
    public void ProgramTypeDependentHelpers(string name)
    {
        Assert.True(BpfHelpers.TryGetId(name, out int id));
        Assert.False(BpfHelpers.IsGplOnly(id));
        Assert.True(BpfHelpers.MayBeGplOnly(id));
        Assert.Equal(HelperLicenseRequirement.GplOnlyForSomeProgramTypes, BpfHelpers.GetLicenseRequirement(id));
    }

    [Fact]
    public void GplOnlyCount_MatchesKernelScan()
    {
        int gpl = 0;
        int mixed = 0;
        for (int id = 1; id <= BpfHelpers.MaxId; id++)
        {
            switch (BpfHelpers.GetLicenseRequirement(id))
            {
                case HelperLicenseRequirement.GplOnly:
                    gpl++;
                    break;
                case HelperLicenseRequirement.GplOnlyForSomeProgramTypes:
                    mixed++;
                    break;
                case HelperLicenseRequirement.Any:
                    break;
                default:
                    Assert.Fail($"helper {id} has no license requirement");
                    break;
            }
        }

        Assert.Equal(42, gpl);
        Assert.Equal(2, mixed);
    }
}
