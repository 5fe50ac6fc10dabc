using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.StructOps;

/// <summary>Helpers for the struct_ops tests: unique congestion-control names, the kernel's list, TCP over loopback.</summary>
internal static class StructOpsSupport
{
    private const int IPPROTO_TCP = 6;
    private const int TCP_CONGESTION = 13;
    private const string AvailablePath = "/proc/sys/net/ipv4/tcp_available_congestion_control";
    private static int s_counter;

    /// <summary>A congestion-control name no other process or test uses (at most 15 characters).</summary>
    public static string UniqueName(string prefix)
    {
        int n = Interlocked.Increment(ref s_counter);
        string name = $"{prefix}{Environment.ProcessId % 100000:x}{n:x}";
        return name.Length <= 15 ? name : name.Substring(name.Length - 15);
    }

    /// <summary>The congestion controls the kernel offers now.</summary>
    public static string[] Available() =>
        File.ReadAllText(AvailablePath).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The running kernel's release, as the loader's errors name it.</summary>
    public static string KernelRelease() => File.ReadAllText("/proc/sys/kernel/osrelease").Trim();

    public static bool IsAvailable(string name) => Array.IndexOf(Available(), name) >= 0;

    /// <summary>Skips unless the kernel has struct_ops for <paramref name="type"/> (named with the Linux version that added it).</summary>
    public static void RequireStructOpsType(string type, string firstLinux)
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireKernelBtf();
        if (Ebpf.Kernel.KernelBtf.Vmlinux.FindByName("bpf_struct_ops_" + type, Ebpf.Btf.BtfKind.Struct) < 0)
            Assert.Skip($"this kernel ({Environment.OSVersion.Version}) has no struct_ops type {type} (bpf_struct_ops_{type} is not in its BTF; Linux {firstLinux})");
    }

    public static void SetCongestion(Socket s, string name)
    {
        var bytes = Encoding.ASCII.GetBytes(name);
        s.SetRawSocketOption(IPPROTO_TCP, TCP_CONGESTION, bytes);
    }

    public static string GetCongestion(Socket s)
    {
        var buf = new byte[16];
        int n = s.GetRawSocketOption(IPPROTO_TCP, TCP_CONGESTION, buf);
        int end = Array.IndexOf(buf, (byte)0, 0, n);
        return Encoding.ASCII.GetString(buf, 0, end < 0 ? n : end);
    }

    /// <summary>
    /// In the test namespace, over its loopback: a listener and a client both using congestion control
    /// <paramref name="cc"/>, <paramref name="bytes"/> sent and received, both sockets closed. Returns the
    /// congestion control the client's socket reported while connected.
    /// </summary>
    public static string MoveData(VethPair ns, string cc, int bytes)
    {
        return ns.RunInNamespace(() =>
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            SetCongestion(listener, cc);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var endpoint = (IPEndPoint)listener.LocalEndPoint!;
            string seen;
            using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                SetCongestion(client, cc);
                client.Connect(endpoint);
                using var server = listener.Accept();
                seen = GetCongestion(client) + "/" + GetCongestion(server);
                var reader = new Thread(() =>
                {
                    var buf = new byte[64 * 1024];
                    int total = 0;
                    server.ReceiveTimeout = 10_000;
                    while (total < bytes)
                    {
                        int n = server.Receive(buf);
                        if (n <= 0) break;
                        total += n;
                    }
                    var ack = new byte[] { 1 };
                    server.Send(ack);
                });
                reader.Start();
                var chunk = new byte[32 * 1024];
                for (int sent = 0; sent < bytes; sent += chunk.Length)
                    client.Send(chunk, 0, Math.Min(chunk.Length, bytes - sent), SocketFlags.None);
                var one = new byte[1];
                client.ReceiveTimeout = 10_000;
                Assert.Equal(1, client.Receive(one));
                reader.Join();
                client.Shutdown(SocketShutdown.Both);
                server.Shutdown(SocketShutdown.Both);
            }
            return seen;
        });
    }
}
