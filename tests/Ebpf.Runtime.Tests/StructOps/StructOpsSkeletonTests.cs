using System;
using System.IO;
using System.Linq;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Runtime.Tests.Skeletons;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;
using static Ebpf.Runtime.Tests.StructOps.StructOpsSupport;

namespace Ebpf.Runtime.Tests.StructOps;

/// <summary>
/// The skeletons the source generator makes for the struct_ops objects (this project's <c>BpfObject</c> items:
/// compiled into the test assembly, objects embedded), used as an application uses them, on the real kernel: data
/// members set through <c>skel.StructOps.X</c>, a callback rebound to another struct_ops program of the object,
/// Load, Attach (the registration lands in <c>Links</c>), TCP over loopback in a test network namespace, and the
/// kernel seeing what was set; Dispose unregisters.
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class StructOpsSkeletonTests
{
    private const int Bytes = 1 << 20;
    private const uint TcpCongNonRestricted = 0x1;
    private const uint AfInet = 2;
    private const string AllowedPath = "/proc/sys/net/ipv4/tcp_allowed_congestion_control";

    /// <summary>The congestion controls any process may pick (TCP_CONG_NON_RESTRICTED).</summary>
    private static string[] Allowed() => File.ReadAllText(AllowedPath).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);


    private static void Report(string what, StructOpsTcpSkeleton.BssSection bss) =>
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{what}: init {bss.InitCalls}, init_alt {bss.InitAltCalls} (family {bss.InitAltFamily}, cwnd {bss.InitAltCwnd}), release {bss.ReleaseCalls}, cong_avoid {bss.CongAvoidCalls}, " +
            $"pkts_acked {bss.PktsAckedCalls}, acked_segments {bss.AckedSegments}");

    [Fact]
    public void StructOpsMap_NameFlagsAndReboundInit_AsTheKernelSeesThem_UnregisteredByDispose()
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        string cc = UniqueName("ebk");
        using var ns = new VethPair();
        var skel = StructOpsTcpSkeleton.Open();
        try
        {
            var reno = skel.StructOps.EbpfReno;
            // As the object initializes it.
            Assert.Equal("ebpf_reno", reno.Name);
            Assert.Equal(TcpCongNonRestricted, reno.Flags);
            Assert.Same(skel.Programs.EbpfRenoInit, reno.Init);
            Assert.Same(skel.Programs.EbpfRenoCongAvoid, reno.CongAvoid);
            Assert.Null(reno.InAckEvent);
            Assert.False(skel.Programs.EbpfRenoInitAlt.Program.Autoload); // SEC("?struct_ops/..."): nothing points to it

            reno.Name = cc;
            reno.Flags = 0; // restricted: the kernel lists it as available, not as allowed for everyone
            reno.Init = skel.Programs.EbpfRenoInitAlt;
            Assert.Same(skel.Programs.EbpfRenoInitAlt, reno.Init);
            Assert.Equal(cc, reno.StructOps.GetString("name"));

            skel.Load();
            Assert.True(skel.Programs.EbpfRenoInitAlt.Program.IsLoaded, "the program init was rebound to is not loaded");
            Assert.False(skel.Programs.EbpfRenoInit.Program.IsLoaded, "the program no map points to any more was loaded");
            Assert.Throws<InvalidOperationException>(() => reno.Name = "too_late");
            Assert.Throws<InvalidOperationException>(() => reno.Init = skel.Programs.EbpfRenoInit);
            Assert.False(IsAvailable(cc));

            Assert.Null(skel.Links.EbpfReno);
            skel.Attach();
            var link = skel.Links.EbpfReno;
            Assert.NotNull(link);
            Assert.False(link.IsKernelLink); // .struct_ops: registered by the map update
            Assert.True(reno.IsRegistered);
            Assert.Same(link, reno.Link);
            Assert.True(IsAvailable(cc), $"{cc} is not in tcp_available_congestion_control: {string.Join(" ", Available())}");
            Assert.DoesNotContain(cc, Allowed());

            Assert.Equal($"{cc}/{cc}", MoveData(ns, cc, Bytes));
            var bss = skel.Bss;
            Report(cc, bss);
            // Both sockets (client and accepted) ran the rebound init, never the object's own.
            Assert.True(bss.InitAltCalls >= 2, $"the rebound init ran {bss.InitAltCalls} times");
            Assert.Equal(0ul, bss.InitCalls);
            Assert.Equal(AfInet, bss.InitAltFamily); // the rebound init read the socket it was called for
            Assert.True(bss.CongAvoidCalls > 0 && bss.AckedSegments > 0, "cong_avoid never ran");
            Assert.True(Eventually(() => skel.Bss.ReleaseCalls >= 2, 5000), $"release ran {skel.Bss.ReleaseCalls} times");
        }
        finally
        {
            skel.Dispose();
        }
        Assert.False(IsAvailable(cc), $"{cc} is still registered after Dispose");
    }

    [Fact]
    public void StructOpsLinkMap_RegistrationLandsInLinks_AllowedFlagAndReboundInit_UnregisteredByDispose()
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        string cc = UniqueName("ebm"), unused = UniqueName("ebn");
        using var ns = new VethPair();
        var skel = StructOpsTcpLinkSkeleton.Open();
        try
        {
            var first = skel.StructOps.EbpfRenoLink;
            var next = skel.StructOps.EbpfRenoNext;
            first.Name = cc;
            first.Flags = TcpCongNonRestricted;
            first.Init = skel.Programs.EbpfRenoInitAlt;
            next.Name = unused;
            next.AutoAttach = false; // its init stays the object's: both init programs are loaded, only one registered
            Assert.Same(skel.Programs.EbpfRenoInit, next.Init);

            KernelSupport.OrSkip(() => { skel.Load(); return 0; }); // .struct_ops.link needs 6.4: the loader names it
            Assert.True(skel.Programs.EbpfRenoInit.Program.IsLoaded && skel.Programs.EbpfRenoInitAlt.Program.IsLoaded);

            skel.Attach();
            var link = skel.Links.EbpfRenoLink;
            Assert.NotNull(link);
            Assert.True(link.IsKernelLink);
            Assert.NotEqual(0u, link.Id);
            Assert.Equal(first.Map.Id, link.MapId);
            Assert.Same(link, first.Link);
            Assert.Null(skel.Links.EbpfRenoNext);
            Assert.False(next.IsRegistered);
            Assert.True(IsAvailable(cc));
            Assert.False(IsAvailable(unused));
            Assert.Contains(cc, Allowed()); // TCP_CONG_NON_RESTRICTED, as set from C#

            Assert.Equal($"{cc}/{cc}", MoveData(ns, cc, Bytes));
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{cc}: init {skel.Bss.InitCalls}, init_alt {skel.Bss.InitAltCalls} (family {skel.Bss.InitAltFamily}, cwnd {skel.Bss.InitAltCwnd}), cong_avoid {skel.Bss.CongAvoidCalls}");
            Assert.True(skel.Bss.InitAltCalls >= 2, $"the rebound init ran {skel.Bss.InitAltCalls} times");
            Assert.Equal(0ul, skel.Bss.InitCalls);
            Assert.Equal(AfInet, skel.Bss.InitAltFamily);
            Assert.True(skel.Bss.CongAvoidCalls > 0);

            skel.Detach();
            Assert.Null(skel.Links.EbpfRenoLink);
            Assert.False(IsAvailable(cc), $"{cc} is still registered after Detach");
            skel.Attach(); // a link map registers again
            Assert.NotNull(skel.Links.EbpfRenoLink);
            Assert.True(IsAvailable(cc));
        }
        finally
        {
            skel.Dispose();
        }
        Assert.False(IsAvailable(cc), $"{cc} is still registered after Dispose");
        Assert.False(IsAvailable(unused));
    }

    [Fact]
    public void AMemberOnlyTheObjectHas_SetFromCSharp_IsALoadErrorNamingStructMemberAndKernel()
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        using (var skel = StructOpsEdgeSkeleton.Open())
        {
            // future_knob exists only in the object's tcp_congestion_ops___future: zero, it is skipped.
            Assert.Equal(0ul, skel.StructOps.FutureReno.FutureKnob);
            Assert.Equal("tcp_congestion_ops", skel.StructOps.FutureReno.StructOps.TypeName);
            skel.Load();
            Assert.True(skel.StructOps.FutureReno.Map.IsLoaded);
        }
        using (var skel = StructOpsEdgeSkeleton.Open())
        {
            skel.StructOps.FutureReno.FutureKnob = 42;
            var e = Assert.Throws<BpfStructOpsException>(() => skel.Load());
            Assert.Equal("tcp_congestion_ops", e.StructName);
            Assert.Equal("future_knob", e.MemberName);
            Assert.Equal("future_reno", e.MapName);
            Assert.Contains("struct tcp_congestion_ops", e.Message);
            Assert.Contains("future_knob", e.Message);
            Assert.Contains("Linux " + KernelRelease(), e.Message);
            Assert.Contains("set from C#", e.Message);
            Assert.False(skel.IsLoaded);
            Assert.False(skel.StructOps.FutureReno.Map.IsLoaded);
            Assert.False(skel.Programs.EdgeSsthresh.Program.IsLoaded);
        }
        using (var skel = StructOpsEdgeSkeleton.Open())
        {
            // A callback the kernel's struct lacks, bound from C#.
            skel.StructOps.FutureReno.ReservedCb = skel.Programs.EdgeCongAvoid;
            var e = Assert.Throws<BpfStructOpsException>(() => skel.Load());
            Assert.Equal("reserved_cb", e.MemberName);
            Assert.Contains("edge_cong_avoid", e.Message);
            Assert.Contains("set from C#", e.Message);
        }
    }
}
