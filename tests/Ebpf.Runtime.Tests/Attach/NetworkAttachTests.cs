using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>XDP, tcx, tc clsact, socket filters and sk_lookup, with packets sent over a veth pair into a namespace the test creates.</summary>
[Collection(KernelEventsCollection.Name)]
public class NetworkAttachTests
{
    private static BpfObject LoadNet(int port) => Load("attach_net", o => SetRodata(o, "udp_port", (ushort)port));

    [Theory]
    [InlineData(XdpAttachMode.Default)]
    [InlineData(XdpAttachMode.Generic)]
    [InlineData(XdpAttachMode.Driver)]
    public void XdpCountsEveryPacketArrivingOnTheInterface(XdpAttachMode mode)
    {
        using var veth = new VethPair();
        using var listener = VethPair.Listen(veth.HostAddress, out int port);
        using var obj = LoadNet(port);
        var xdp = new XdpProgram(obj.GetProgram("xdp_count"));
        using (var link = xdp.Attach(veth.HostInterface, mode))
        {
            Assert.Equal(BpfLinkType.Xdp, link.LinkType);
            Assert.Contains(veth.HostInterface, link.Target);
            veth.SendFromNamespace(veth.HostAddress, port, 10);
            VethPair.Receive(listener, 10);
            Assert.Equal(10ul, Bss(obj, "xdp_udp_packets"));
            Assert.Equal(10ul, Bss(obj, "xdp_packets"));
            // another port: seen by XDP, not counted as ours
            veth.SendFromNamespace(veth.HostAddress, port + 1, 3);
            Assert.True(Eventually(() => Bss(obj, "xdp_packets") == 13));
            Assert.Equal(10ul, Bss(obj, "xdp_udp_packets"));
            Assert.Single(LinksOf(xdp.Program));
        }
        AssertNoLinks(xdp.Program);
        veth.SendFromNamespace(veth.HostAddress, port, 2);
        VethPair.Receive(listener, 2);
        Assert.Equal(10ul, Bss(obj, "xdp_udp_packets"));
    }

    [Fact]
    public void XdpLinkReportsDetachedWhenDetachedOrWhenItsInterfaceIsGone()
    {
        using var obj = LoadNet(9);
        var xdp = new XdpProgram(obj.GetProgram("xdp_count"));
        using (var veth = new VethPair())
        using (var link = xdp.Attach(veth.HostInterface))
        {
            Assert.True(link.IsAttached);
            link.Detach(); // BPF_LINK_DETACH: the descriptor stays, the hook is gone
            Assert.False(link.IsDisposed);
            Assert.False(link.IsAttached);
        }
        var pair = new VethPair();
        using (var link = xdp.Attach(pair.HostInterface))
        {
            Assert.True(link.IsAttached);
            pair.Dispose(); // deleting the interface detaches the kernel's link
            Assert.True(Eventually(() => !link.IsAttached), "the link still reports an interface after it was deleted");
        }
        var again = new VethPair();
        try
        {
            var link = xdp.Attach(again.HostInterface);
            link.Dispose();
            Assert.False(link.IsAttached);
        }
        finally
        {
            again.Dispose();
        }
    }

    [Fact]
    public void XdpLinkSwapsItsProgramAndRefusesASecondAttachment()
    {
        using var veth = new VethPair();
        using var listener = VethPair.Listen(veth.HostAddress, out int port);
        using var first = LoadNet(port);
        using var second = LoadNet(port);
        var xdp = new XdpProgram(first.GetProgram("xdp_count"));
        using var link = xdp.Attach(veth.HostInterface);
        veth.SendFromNamespace(veth.HostAddress, port, 4);
        VethPair.Receive(listener, 4);
        link.Update(second.GetProgram("xdp_count"));
        Assert.Same(second.GetProgram("xdp_count"), link.Program);
        veth.SendFromNamespace(veth.HostAddress, port, 6);
        VethPair.Receive(listener, 6);
        Assert.Equal(4ul, Bss(first, "xdp_udp_packets"));
        Assert.Equal(6ul, Bss(second, "xdp_udp_packets"));

        var e = Assert.Throws<BpfSyscallException>(() => new XdpProgram(first.GetProgram("xdp_count")).Attach(veth.HostInterface));
        Assert.Contains("another XDP program is attached", e.Message);
        var missing = Assert.Throws<BpfEnvironmentException>(() => xdp.Attach("ebpf-no-such-if"));
        Assert.Contains("network interface 'ebpf-no-such-if' does not exist", missing.Message);
    }

    [Fact]
    public void TcxIngressAndEgressCountExactly()
    {
        using var veth = new VethPair();
        using var listener = VethPair.Listen(veth.HostAddress, out int port);
        using var obj = LoadNet(port);
        var ingress = new TcProgram(obj.GetProgram("tcx_ingress"));
        var egress = new TcProgram(obj.GetProgram("tcx_egress"));
        bool tcx = Ebpf.Kernel.KernelFeatures.Current.TcxLinks;
        // Attach(): a tcx link where the kernel has them (6.6), a clsact filter before
        using (var li = ingress.Attach(veth.HostInterface))
        using (var le = egress.Attach(veth.HostInterface))
        {
            if (tcx)
            {
                Assert.Equal(TcAttachPoint.Ingress, Assert.IsType<TcxLink>(li).AttachPoint);
                Assert.Equal(TcAttachPoint.Egress, Assert.IsType<TcxLink>(le).AttachPoint);
                Assert.Equal(BpfLinkType.Tcx, ((TcxLink)li).LinkType);
            }
            else
            {
                Assert.Equal(TcAttachPoint.Ingress, Assert.IsType<TcClsactLink>(li).AttachPoint);
                Assert.Equal(TcAttachPoint.Egress, Assert.IsType<TcClsactLink>(le).AttachPoint);
                var e = Assert.Throws<BpfNotSupportedException>(() => ingress.AttachTcx(veth.HostInterface));
                Assert.Equal("6.6", e.MinimumKernel);
            }

            veth.SendFromNamespace(veth.HostAddress, port, 7);
            VethPair.Receive(listener, 7);
            Assert.Equal(7ul, Bss(obj, "tcx_ingress_packets"));
            Assert.Equal(0ul, Bss(obj, "tcx_egress_packets"));

            using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
                for (int i = 0; i < 5; i++) s.SendTo(new byte[8], new IPEndPoint(veth.Unowned, 9));
            Assert.True(Eventually(() => Bss(obj, "tcx_egress_packets") == 5));
            Assert.Equal(7ul, Bss(obj, "tcx_ingress_packets"));
            Assert.Equal(tcx ? 2 : 0, LinksOf(ingress.Program, egress.Program).Count);
        }
        AssertNoLinks(ingress.Program, egress.Program);
    }

    [Fact]
    public void ClsactFilterCountsAndIsRemovedOnDispose()
    {
        using var veth = new VethPair();
        using var listener = VethPair.Listen(veth.HostAddress, out int port);
        using var obj = LoadNet(port);
        var tc = new TcProgram(obj.GetProgram("tc_count"));
        string tcTool = TestEnvironment.RequireTool("tc", "iproute2");
        using (var link = tc.AttachClsact(veth.HostInterface, TcAttachPoint.Ingress))
        {
            Assert.True(link.CreatedQdisc);
            Assert.NotEqual(0, link.Priority);
            string shown = Sh(tcTool, "filter", "show", "dev", veth.HostInterface, "ingress");
            Assert.Contains("tc_count", shown);
            Assert.Contains("direct-action", shown);
            veth.SendFromNamespace(veth.HostAddress, port, 9);
            VethPair.Receive(listener, 9);
            Assert.Equal(9ul, Bss(obj, "tc_packets"));

            // a second filter on the same hook: the kernel picks another priority; a direct-action filter that
            // returns TC_ACT_OK ends classification, so each packet is still counted once
            using var second = tc.AttachClsact(veth.HostInterface, TcAttachPoint.Ingress);
            Assert.NotEqual(link.Priority, second.Priority);
            Assert.False(second.CreatedQdisc);
            veth.SendFromNamespace(veth.HostAddress, port, 1);
            VethPair.Receive(listener, 1);
            Assert.Equal(10ul, Bss(obj, "tc_packets"));
        }
        Assert.DoesNotContain("tc_count", Sh(tcTool, "filter", "show", "dev", veth.HostInterface, "ingress"));
        veth.SendFromNamespace(veth.HostAddress, port, 3);
        VethPair.Receive(listener, 3);
        Assert.Equal(10ul, Bss(obj, "tc_packets"));
    }

    [Fact]
    public void SocketFilterSeesEveryDatagramOfItsSocket()
    {
        TestEnvironment.RequireRoot();
        using var receiver = VethPair.Listen(IPAddress.Loopback, out int port);
        using var obj = LoadNet(port);
        var filter = new SocketFilterProgram(obj.GetProgram("socket_udp"));
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using (var attachment = filter.Attach(receiver))
        {
            Assert.Equal((int)receiver.SafeHandle.DangerousGetHandle(), attachment.SocketDescriptor);
            for (int i = 0; i < 12; i++) sender.SendTo(new byte[100], new IPEndPoint(IPAddress.Loopback, port));
            VethPair.Receive(receiver, 12);
            Assert.Equal(12ul, Bss(obj, "socket_packets"));
            Assert.Equal(12ul, Bss(obj, "socket_udp_packets"));
            Assert.Equal(12ul * (8 + 100), Bss(obj, "socket_bytes")); // UDP header + payload
        }
        sender.SendTo(new byte[100], new IPEndPoint(IPAddress.Loopback, port));
        VethPair.Receive(receiver, 1);
        Assert.Equal(12ul, Bss(obj, "socket_packets"));
        var e = Assert.Throws<BpfSyscallException>(() => filter.Attach(0)); // stdin is no socket
        Assert.Equal(Errno.ENOTSOCK, e.Errno);
    }

    [Fact]
    public void SkLookupRunsForEveryLookupInItsNamespace()
    {
        using var veth = new VethPair();
        const int port = 4242;
        using var obj = LoadNet(port);
        var lookup = new SkLookupProgram(obj.GetProgram("sk_lookup_count"));
        using (var link = lookup.Attach(veth.NamespacePath))
        {
            Assert.Equal(BpfLinkType.Netns, link.LinkType);
            veth.RunInNamespace(() =>
            {
                using var rx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                rx.Bind(new IPEndPoint(IPAddress.Loopback, port));
                using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                for (int i = 0; i < 8; i++) tx.SendTo(new byte[4], new IPEndPoint(IPAddress.Loopback, port));
                VethPair.Receive(rx, 8);
                return 0;
            });
            Assert.Equal(8ul, Bss(obj, "sk_lookups_port"));
        }
        AssertNoLinks(lookup.Program);
    }
}
