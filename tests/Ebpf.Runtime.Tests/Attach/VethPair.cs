using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Attach;

/// <summary>
/// A network namespace made for one test and a veth pair between it and ours, quiet on purpose so that packet
/// counts are exact: IPv6 off on both ends (no neighbour discovery, no router solicitations), permanent ARP
/// entries (no ARP), addresses 10.X.Y.1 (here) and 10.X.Y.2 (there); 10.X.Y.3 is routed to the peer's MAC but
/// owned by nobody, so packets sent to it leave our end and are dropped silently over there (forwarding is off).
/// Removed on dispose, whatever happened.
/// </summary>
internal sealed class VethPair : IDisposable
{
    private const int CLONE_NEWNET = 0x40000000;
    private static int s_counter;

    public string Namespace { get; }
    public string HostInterface { get; }
    public string PeerInterface { get; }
    public IPAddress HostAddress { get; }
    public IPAddress PeerAddress { get; }
    public IPAddress Unowned { get; }
    public string NamespacePath => $"/run/netns/{Namespace}";

    public VethPair()
    {
        TestEnvironment.RequireRoot();
        string ip = TestEnvironment.RequireTool("ip", "iproute2");
        int n = Interlocked.Increment(ref s_counter);
        string tag = $"{Environment.ProcessId % 10000:x}{n:x}";
        Namespace = $"ebpft-{tag}";
        HostInterface = $"ebh{tag}";
        PeerInterface = $"ebp{tag}";
        int b = Environment.ProcessId % 200 + 20, c = n % 250 + 1;
        HostAddress = IPAddress.Parse($"10.{b}.{c}.1");
        PeerAddress = IPAddress.Parse($"10.{b}.{c}.2");
        Unowned = IPAddress.Parse($"10.{b}.{c}.3");
        var (code, _, err) = TestEnvironment.Run(ip, new[] { "netns", "add", Namespace });
        if (code != 0)
            Assert.Skip($"`ip netns add` failed, so no test network namespace: {err.Trim()}");
        try
        {
            Ip("link", "add", HostInterface, "type", "veth", "peer", "name", PeerInterface, "netns", Namespace);
            File.WriteAllText($"/proc/sys/net/ipv6/conf/{HostInterface}/disable_ipv6", "1");
            InNamespace("/bin/sh", "-c", $"echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/{PeerInterface}/disable_ipv6");
            Ip("addr", "add", HostAddress + "/24", "dev", HostInterface);
            Ip("-n", Namespace, "addr", "add", PeerAddress + "/24", "dev", PeerInterface);
            string hostMac = File.ReadAllText($"/sys/class/net/{HostInterface}/address").Trim();
            string peerMac = InNamespace("/bin/cat", $"/sys/class/net/{PeerInterface}/address").Trim();
            Ip("neigh", "replace", PeerAddress.ToString(), "lladdr", peerMac, "dev", HostInterface, "nud", "permanent");
            Ip("neigh", "replace", Unowned.ToString(), "lladdr", peerMac, "dev", HostInterface, "nud", "permanent");
            Ip("-n", Namespace, "neigh", "replace", HostAddress.ToString(), "lladdr", hostMac, "dev", PeerInterface, "nud", "permanent");
            Ip("-n", Namespace, "link", "set", "lo", "up");
            Ip("-n", Namespace, "link", "set", PeerInterface, "up");
            Ip("link", "set", HostInterface, "up");
            // The kernel activates a device's queueing discipline only when its link watcher sees the carrier (up to a
            // second later): until then, whatever either end sends is dropped, and the counts would be off.
            if (!AttachSupport.Eventually(() => File.ReadAllText($"/sys/class/net/{HostInterface}/operstate").Trim() == "up"
                    && Ip("-n", Namespace, "-o", "link", "show", "dev", PeerInterface).Contains("state UP", StringComparison.Ordinal), ms: 10_000))
                throw new InvalidOperationException($"veth pair {HostInterface}/{PeerInterface} is not operational 10 s after it was set up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private static string Ip(params string[] args) => AttachSupport.Sh(TestEnvironment.Which("ip")!, args);

    private string InNamespace(string exe, params string[] args)
    {
        var all = new string[args.Length + 4];
        all[0] = "netns"; all[1] = "exec"; all[2] = Namespace; all[3] = exe;
        Array.Copy(args, 0, all, 4, args.Length);
        return Ip(all);
    }

    /// <summary>Runs <paramref name="action"/> on a thread that has entered the namespace (sockets it creates live there).</summary>
    public T RunInNamespace<T>(Func<T> action)
    {
        T result = default!;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle(NamespacePath);
                if (AttachSupport.SetNs((int)ns.DangerousGetHandle(), CLONE_NEWNET) != 0)
                    throw new InvalidOperationException($"setns({NamespacePath}) failed: errno {Marshal.GetLastPInvokeError()}");
                result = action();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        t.Start();
        t.Join();
        if (error != null) throw new InvalidOperationException("in the test namespace: " + error.Message, error);
        return result;
    }

    /// <summary>A UDP socket created inside the namespace.</summary>
    public Socket UdpSocketInNamespace() => RunInNamespace(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));

    /// <summary>Sends <paramref name="count"/> datagrams of <paramref name="size"/> bytes from the namespace to <paramref name="to"/>:<paramref name="port"/>.</summary>
    public void SendFromNamespace(IPAddress to, int port, int count, int size = 16)
    {
        using var s = UdpSocketInNamespace();
        var payload = new byte[size];
        for (int i = 0; i < count; i++) s.SendTo(payload, new IPEndPoint(to, port));
    }

    /// <summary>Receives <paramref name="count"/> datagrams (or fails after a few seconds).</summary>
    public static void Receive(Socket s, int count)
    {
        s.ReceiveTimeout = 5000;
        var buf = new byte[2048];
        for (int i = 0; i < count; i++) s.Receive(buf);
    }

    public static Socket Listen(IPAddress address, out int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(address, 0));
        port = ((IPEndPoint)s.LocalEndPoint!).Port;
        return s;
    }

    public void Dispose()
    {
        var ip = TestEnvironment.Which("ip");
        if (ip == null) return;
        TestEnvironment.Run(ip, new[] { "netns", "del", Namespace });
        TestEnvironment.Run(ip, new[] { "link", "del", HostInterface });
    }
}
