using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>cgroup_skb and cgroup/* programs on a cgroup the test creates, driven by a child shell that joins it.</summary>
[Collection(KernelEventsCollection.Name)]
public class CgroupAttachTests
{
    /// <summary>The BPF_PROG_QUERY part of union bpf_attr (Linux 4.15; prog_ids/prog_cnt as 4.15 has them).</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct ProgQueryAttr
    {
        public uint TargetFd;
        public uint AttachType;
        public uint QueryFlags;
        public uint AttachFlags;
        public ulong ProgIds;
        public uint ProgCount;
        public uint Padding;
    }

    private static int s_counter;

    /// <summary>A fresh cgroup v2 directory, removed on dispose.</summary>
    internal sealed class TestCgroup : IDisposable
    {
        public string Path { get; }

        public TestCgroup()
        {
            TestEnvironment.RequireRoot();
            string? root = null;
            foreach (var line in File.ReadAllLines("/proc/self/mountinfo"))
            {
                var dash = line.IndexOf(" - ", StringComparison.Ordinal);
                if (dash < 0 || !line.Substring(dash + 3).StartsWith("cgroup2 ", StringComparison.Ordinal)) continue;
                root = line.Split(' ')[4];
                break;
            }
            if (root == null) Assert.Skip("no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified; .ci/run does this)");
            Path = System.IO.Path.Combine(root!, $"ebpf-test-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}");
            Directory.CreateDirectory(Path);
        }

        /// <summary>
        /// Ids of the programs attached to this cgroup at <paramref name="type"/> (BPF_PROG_QUERY: what
        /// `bpftool cgroup show` lists, without bpftool, whose 7.1 gives up on kernels that lack a newer attach type).
        /// </summary>
        public unsafe uint[] AttachedProgramIds(BpfAttachType type)
        {
            var sys = Ebpf.Kernel.Syscalls.Current;
            int fd = sys.Open(Path, Ebpf.Interop.Libc.O_DIRECTORY);   // its number differs between x86-64 and arm64
            Assert.True(fd >= 0, $"cannot open {Path}: {Errno.Name(-fd)}");
            try
            {
                var ids = new uint[64];
                fixed (uint* p = ids)
                {
                    var a = new ProgQueryAttr { TargetFd = (uint)fd, AttachType = (uint)type, ProgIds = (ulong)p, ProgCount = (uint)ids.Length };
                    int r = sys.Bpf(BpfCommand.ProgQuery, &a, sizeof(ProgQueryAttr));
                    Assert.True(r == 0, $"BPF_PROG_QUERY on {Path} failed: {Errno.Name(-r)}");
                    return ids.Take((int)a.ProgCount).ToArray();
                }
            }
            finally
            {
                sys.Close(fd);
            }
        }

        /// <summary>Runs a bash script inside the cgroup (bash moves itself in first; its children inherit it).</summary>
        public void Run(string script)
        {
            string bash = TestEnvironment.RequireTool("bash", "bash");
            Sh(bash, "-c", $"echo $$ > {Path}/cgroup.procs && {script}");
        }

        public void Dispose()
        {
            for (int i = 0; i < 50; i++)
            {
                try
                {
                    Directory.Delete(Path);
                    return;
                }
                catch (IOException)
                {
                    Thread.Sleep(20); // the child is still being reaped
                }
            }
        }
    }

    [Fact]
    public void EveryCgroupHookCountsTheChildsSocketAndSysctl()
    {
        using var cg = new TestCgroup();
        using var listener = VethPair.Listen(IPAddress.Loopback, out int port);
        using var obj = Load("attach_cgroup", o => SetRodata(o, "watch_port", (ushort)port));
        var links = obj.Programs.Select(p => new CgroupProgram(p).Attach(cg.Path)).ToList();
        try
        {
            Assert.All(links, l => Assert.Equal(BpfLinkType.Cgroup, l.LinkType));
            Assert.Contains(links, l => l.Target == $"cgroup_skb/egress on cgroup {cg.Path}");
            cg.Run($"exec 3<>/dev/udp/127.0.0.1/{port}; printf x >&3; exec 3>&-; dd if=/proc/sys/kernel/ostype of=/dev/null bs=64 count=1 status=none");
            VethPair.Receive(listener, 1);
            Assert.Equal(1ul, Bss(obj, "sock_creates"));
            Assert.Equal(2u, Bss<uint>(obj, "last_family"));    // AF_INET
            Assert.Equal(2u, Bss<uint>(obj, "last_type"));      // SOCK_DGRAM
            Assert.Equal(17u, Bss<uint>(obj, "last_protocol")); // UDP
            Assert.Equal(1ul, Bss(obj, "connects"));
            Assert.Equal(1ul, Bss(obj, "connects_to_port"));
            Assert.Equal(1ul, Bss(obj, "egress_packets"));
            Assert.Equal(20ul + 8 + 1, Bss(obj, "egress_bytes")); // IPv4 + UDP headers + 1 byte
            Assert.Equal(0ul, Bss(obj, "ingress_packets"));     // the listener is not in the cgroup
            Assert.Equal(1ul, Bss(obj, "sysctl_reads"));
            Assert.Equal(0ul, Bss(obj, "sysctl_writes"));
            Assert.Equal(5, LinksOf(obj.Programs.ToArray()).Count);
        }
        finally
        {
            foreach (var l in links) l.Dispose();
        }
        AssertNoLinks(obj.Programs.ToArray());
        cg.Run($"exec 3<>/dev/udp/127.0.0.1/{port}; printf x >&3");
        VethPair.Receive(listener, 1);
        Assert.Equal(1ul, Bss(obj, "sock_creates"));
    }

    [Fact]
    public void CgroupLinksCanBeUpdatedAndLegacyAttachmentsDetached()
    {
        using var cg = new TestCgroup();
        using var listener = VethPair.Listen(IPAddress.Loopback, out int port);
        using var first = Load("attach_cgroup");
        using var second = Load("attach_cgroup");
        var egress = new CgroupProgram(first.GetProgram("skb_egress"));
        using (var link = egress.Attach(cg.Path))
        {
            cg.Run($"exec 3<>/dev/udp/127.0.0.1/{port}; printf x >&3");
            link.Update(second.GetProgram("skb_egress"));
            cg.Run($"exec 3<>/dev/udp/127.0.0.1/{port}; printf x >&3");
            VethPair.Receive(listener, 2);
            Assert.Equal(1ul, Bss(first, "egress_packets"));
            Assert.Equal(1ul, Bss(second, "egress_packets"));
        }

        var create = new CgroupProgram(first.GetProgram("sock_create"));
        using (var att = create.AttachLegacy(cg.Path))
        {
            Assert.Equal(CgroupAttachFlags.AllowMulti, att.Flags);
            Assert.Equal(new[] { create.Program.Id }, cg.AttachedProgramIds(BpfAttachType.CgroupInetSockCreate));
            cg.Run($"exec 3<>/dev/udp/127.0.0.1/{port}; printf x >&3");
            VethPair.Receive(listener, 1);
            Assert.Equal(1ul, Bss(first, "sock_creates"));
            att.Update(second.GetProgram("sock_create")); // BPF_F_REPLACE
            cg.Run($"exec 3<>/dev/udp/127.0.0.1/{port}; printf x >&3");
            VethPair.Receive(listener, 1);
            Assert.Equal(1ul, Bss(second, "sock_creates"));
            Assert.Equal(new[] { second.GetProgram("sock_create").Id }, cg.AttachedProgramIds(BpfAttachType.CgroupInetSockCreate));
        }
        Assert.Empty(cg.AttachedProgramIds(BpfAttachType.CgroupInetSockCreate));

        var e = Assert.Throws<BpfEnvironmentException>(() => egress.Attach("/sys/fs/cgroup/ebpf-no-such-cgroup"));
        Assert.Contains("the cgroup does not exist", e.Message);
    }
}
