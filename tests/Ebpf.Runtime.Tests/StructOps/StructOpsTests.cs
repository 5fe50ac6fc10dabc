using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Ebpf.Objects;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;
using static Ebpf.Runtime.Tests.StructOps.StructOpsSupport;

namespace Ebpf.Runtime.Tests.StructOps;

/// <summary>
/// struct_ops on the real kernel: our Reno-like TCP congestion control (bpf/struct_ops_tcp*.bpf.c) registered by
/// map update and through a bpf_link, carrying TCP over loopback in a test network namespace; bpf_dummy_ops under
/// BPF_PROG_TEST_RUN; values the kernel cannot take. Every registration is gone after Dispose.
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class StructOpsTests
{
    private const int Bytes = 4 << 20;

    private static BpfObject OpenReno(string file, params (string Map, string Name)[] names)
    {
        TestEnvironment.RequireRoot();
        var obj = BpfObject.Open(TestEnvironment.Bpf(file));
        foreach (var (map, name) in names)
            obj.GetStructOps(map).SetString("name", name);
        return obj;
    }

    private static void AssertCallbacksRan(BpfObject obj)
    {
        // Two sockets used the congestion control (client and accepted server), both closed; data flowed one way.
        Assert.True(Bss(obj, "init_calls") >= 2, $"init ran {Bss(obj, "init_calls")} times");
        Assert.True(Eventually(() => Bss(obj, "release_calls") >= 2, 5000), $"release ran {Bss(obj, "release_calls")} times");
        Assert.True(Bss(obj, "pkts_acked_calls") > 0, "pkts_acked never ran");
        Assert.True(Bss(obj, "cong_avoid_calls") > 0, "cong_avoid never ran");
        Assert.True(Bss(obj, "acked_segments") > 0, "cong_avoid saw no acked segment");
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(", ", new[]
        {
            "init_calls", "release_calls", "ssthresh_calls", "cong_avoid_calls", "set_state_calls", "cwnd_event_calls",
            "pkts_acked_calls", "undo_cwnd_calls", "acked_segments",
        }.Select(n => $"{n} {Bss(obj, n)}")));
    }

    [Fact]
    public void RenoRegisteredByMapUpdateCarriesTcpTrafficAndIsGoneAfterDispose()
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        string cc = UniqueName("ebr");
        using var ns = new VethPair();
        var obj = OpenReno("struct_ops_tcp", ("ebpf_reno", cc));
        try
        {
            var ops = obj.GetStructOps("ebpf_reno");
            Assert.False(ops.IsLink);
            Assert.Equal("tcp_congestion_ops", ops.TypeName);
            Assert.Equal(cc, ops.GetString("name"));
            Assert.Equal(1u, ops.Get<uint>("flags")); // TCP_CONG_NON_RESTRICTED from the object
            Assert.Equal("ebpf_reno_ssthresh", ops.GetProgram("ssthresh")!.Name);
            obj.Load();
            Assert.False(IsAvailable(cc));
            obj.Attach();
            var link = Assert.IsType<StructOpsLink>(Assert.Single(obj.Links));
            Assert.False(link.IsKernelLink);
            Assert.Same(ops, link.StructOps);
            Assert.True(ops.IsRegistered);
            Assert.True(IsAvailable(cc), $"{cc} is not in tcp_available_congestion_control: {string.Join(" ", Available())}");

            Assert.Equal($"{cc}/{cc}", MoveData(ns, cc, Bytes));
            AssertCallbacksRan(obj);
        }
        finally
        {
            obj.Dispose();
        }
        Assert.False(IsAvailable(cc), $"{cc} is still registered after Dispose");
    }

    [Fact]
    public void RenoThroughAStructOpsLinkMovesToAnotherMapAndDetaches()
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        // The kernel replaces a congestion control in place only under the same name: both values carry it.
        string cc = UniqueName("ebl");
        using var ns = new VethPair();
        using var obj = OpenReno("struct_ops_tcp_link", ("ebpf_reno_link", cc), ("ebpf_reno_next", cc));
        KernelSupport.OrSkip(() => { obj.Load(); return 0; });
        var a = obj.GetStructOps("ebpf_reno_link");
        var b = obj.GetStructOps("ebpf_reno_next");
        Assert.True(a.IsLink);
        Assert.Equal(BpfMapFlags.Link, a.Map.Flags & BpfMapFlags.Link);
        // Both maps point to the same programs: each program was loaded once.
        Assert.Same(a.GetProgram("init"), b.GetProgram("init"));

        using (var link = a.Attach())
        {
            Assert.True(link.IsKernelLink);
            Assert.NotEqual(0u, link.Id);
            Assert.Equal(a.Map.Id, link.MapId);
            Assert.True(IsAvailable(cc));
            Assert.Equal($"{cc}/{cc}", MoveData(ns, cc, Bytes));
            AssertCallbacksRan(obj);

            link.Update(b);
            Assert.Same(b, link.StructOps);
            Assert.Equal(b.Map.Id, link.MapId);
            Assert.True(IsAvailable(cc));
            ulong inits = Bss(obj, "init_calls");
            Assert.Equal($"{cc}/{cc}", MoveData(ns, cc, 64 << 10));
            Assert.True(Bss(obj, "init_calls") >= inits + 2);

            link.Detach();
            Assert.False(IsAvailable(cc), $"{cc} is still registered after Detach");
        }
        Assert.False(IsAvailable(cc));
    }

    [Fact]
    public void ObjectAttachRegistersEveryLinkMapAndDisposeRemovesThem()
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        string first = UniqueName("eba"), second = UniqueName("ebb");
        var obj = OpenReno("struct_ops_tcp_link", ("ebpf_reno_link", first), ("ebpf_reno_next", second));
        try
        {
            KernelSupport.OrSkip(() => { obj.Load(); return 0; });
            obj.Attach();
            Assert.Equal(2, obj.Links.Count);
            Assert.All(obj.Links, l => Assert.True(((StructOpsLink)l).IsKernelLink));
            Assert.True(IsAvailable(first) && IsAvailable(second));
            obj.Detach();
            Assert.False(IsAvailable(first) || IsAvailable(second));
            obj.GetStructOps("ebpf_reno_next").AutoAttach = false;
            obj.Attach(); // a link map can be attached again after its link went away
            Assert.Single(obj.Links);
            Assert.True(IsAvailable(first));
            Assert.False(IsAvailable(second));
        }
        finally
        {
            obj.Dispose();
        }
        Assert.False(IsAvailable(first) || IsAvailable(second));
    }

    [Fact]
    public void MembersCanBeChangedAndReboundBeforeLoadOnly()
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        string cc = UniqueName("ebr");
        using var obj = OpenReno("struct_ops_tcp", ("ebpf_reno", cc));
        var ops = obj.GetStructOps("ebpf_reno");
        // Rebinding: release points to nothing, so ebpf_reno_release is not loaded at all.
        ops.SetProgram("release", null);
        Assert.Throws<InvalidOperationException>(() => ops.Set<uint>("init", 1)); // a function member
        Assert.Throws<ArgumentException>(() => ops.Set<ulong>("flags", 1)); // 8 bytes into 4
        Assert.Throws<ArgumentException>(() => ops.SetString("name", "a_name_that_is_too_long"));
        Assert.Throws<KeyNotFoundException>(() => ops.Get<int>("no_such_member"));
        ops.Set<uint>("flags", 0);
        obj.Load();
        Assert.False(obj.GetProgram("ebpf_reno_release").IsLoaded);
        Assert.True(obj.GetProgram("ebpf_reno_init").IsLoaded);
        Assert.Throws<InvalidOperationException>(() => ops.SetString("name", "late"));
        Assert.Throws<InvalidOperationException>(() => ops.SetProgram("release", obj.GetProgram("ebpf_reno_init")));
        using var link = ops.Attach();
        Assert.True(IsAvailable(cc));
    }

    [Fact]
    public void AProgramOfAnotherKindCannotBeBound()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("struct_ops_tcp"));
        using var other = BpfObject.Open(TestEnvironment.Bpf("struct_ops_edge"));
        var ops = obj.GetStructOps("ebpf_reno");
        var e = Assert.Throws<ArgumentException>(() => ops.SetProgram("init", other.GetProgram("edge_ssthresh")));
        Assert.Contains("another object", e.Message);
        using var tp = BpfObject.Open(TestEnvironment.Bpf("attach_tracepoint"));
        Assert.Throws<ArgumentException>(() => ops.SetProgram("init", tp.Programs[0]));
    }

    [Fact]
    public void AMemberTheKernelLacksIsSkippedWhenZeroAndAnErrorWhenSet()
    {
        RequireStructOpsType("tcp_congestion_ops", "5.6");
        using (var obj = BpfObject.Open(TestEnvironment.Bpf("struct_ops_edge")))
        {
            var ops = obj.GetStructOps("future_reno");
            Assert.Equal("tcp_congestion_ops", ops.TypeName); // the ___future flavour is the kernel's struct
            obj.Load(); // future_knob and reserved_cb are zero: skipped
            Assert.True(ops.Map.IsLoaded);
            Assert.False(obj.GetProgram("no_such_run").IsLoaded); // its map is not created (SEC("?.struct_ops"))
        }
        using (var obj = BpfObject.Open(TestEnvironment.Bpf("struct_ops_edge")))
        {
            obj.GetStructOps("future_reno").Set<ulong>("future_knob", 7);
            var e = Assert.Throws<BpfStructOpsException>(() => obj.Load());
            Assert.Equal("future_knob", e.MemberName);
            Assert.Equal("tcp_congestion_ops", e.StructName);
            Assert.Contains("tcp_congestion_ops", e.Message);
            Assert.Contains("future_knob", e.Message);
            Assert.Contains("set from C#", e.Message);
            Assert.Contains(KernelRelease(), e.Message);
            Assert.All(obj.Programs, p => Assert.False(p.IsLoaded));
        }
        using (var obj = BpfObject.Open(TestEnvironment.Bpf("struct_ops_edge")))
        {
            obj.GetStructOps("future_reno").SetProgram("reserved_cb", obj.GetProgram("edge_cong_avoid"));
            var e = Assert.Throws<BpfStructOpsException>(() => obj.Load());
            Assert.Equal("reserved_cb", e.MemberName);
            Assert.Contains("edge_cong_avoid", e.Message);
        }
    }

    [Fact]
    public void AStructTheKernelLacksIsNamedInTheError()
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireKernelBtf();
        using var obj = BpfObject.Open(TestEnvironment.Bpf("struct_ops_edge"));
        var ops = obj.GetStructOps("no_such");
        Assert.False(ops.Map.AutoCreate);
        ops.Map.AutoCreate = true;
        var e = Assert.Throws<BpfStructOpsException>(() => obj.Load());
        Assert.Equal("ebpf_no_such_ops", e.StructName);
        Assert.Equal("no_such", e.MapName);
        Assert.Contains("bpf_struct_ops_ebpf_no_such_ops", e.Message);
        Assert.Contains(KernelRelease(), e.Message);
        Assert.All(obj.Maps, m => Assert.False(m.IsLoaded));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct DummyState
    {
        public int Val;
    }

    [Fact]
    public unsafe void DummyOpsRunUnderProgTestRun()
    {
        RequireStructOpsType("bpf_dummy_ops", "5.17");
        using var obj = BpfObject.Open(TestEnvironment.Bpf("selftests/dummy_st_ops"));
        obj.Load();
        var test1 = obj.GetProgram("test_1");
        var test2 = obj.GetProgram("test_2");
        var state = new DummyState { Val = 0xbeef };
        var args = new ulong[] { (ulong)(&state) };
        var r = test1.TestRun(context: MemoryMarshal.AsBytes(args.AsSpan()));
        Assert.Equal(0xbeefu, r.ReturnValue); // the old value
        Assert.Equal(0x5a, state.Val);        // written back by the kernel after the program set it
        args[0] = 0;
        Assert.Equal(0xf2f3f4f5u, test1.TestRun(context: MemoryMarshal.AsBytes(args.AsSpan())).ReturnValue);

        var args2 = new ulong[] { (ulong)(&state), unchecked((ulong)-2), 0xbeef, (ulong)'a', 0x1234_5678_9abc_def0 };
        Assert.Equal(0u, test2.TestRun(context: MemoryMarshal.AsBytes(args2.AsSpan())).ReturnValue);
        var bss = obj.GetDataSection(".bss");
        var seen = MemoryMarshal.Cast<byte, ulong>(bss.AsReadOnlySpan().Slice(Off(bss, "test_2_args"), 40)).ToArray();
        Assert.Equal(unchecked((ulong)(long)-2), seen[1]);
        Assert.Equal(0xbeeful, seen[2]);
        Assert.Equal((ulong)'a', seen[3]);
        Assert.Equal(0x1234_5678_9abc_def0ul, seen[4]);
    }
}
