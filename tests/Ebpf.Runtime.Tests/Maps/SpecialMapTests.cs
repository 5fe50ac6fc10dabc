using System;
using System.Linq;
using System.Runtime.InteropServices;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>Stack traces, program arrays, maps of maps, perf event arrays, ring buffers.</summary>
public class SpecialMapTests
{
    // Where user space ends: x86-64's lower half (47-bit addresses with 4-level page tables); arm64's TTBR0 range,
    // up to 52-bit addresses (48 with Debian's 4 KiB pages), kernel addresses starting at 0xfff0... or above.
    private static readonly ulong UserSpaceEnd = RuntimeInformation.ProcessArchitecture == Architecture.Arm64
        ? 1UL << 52
        : 0x0000_8000_0000_0000UL;

    [Fact]
    public void StackTracesRecordedByTouchAll()
    {
        TestEnvironment.RequireTracefs();
        using var m = LoadedMaps.Load();
        var traces = new BpfStackTraceMap(m["stack_trace_map"]);
        Assert.False(traces.HasBuildIds);
        Assert.Equal(127, traces.MaxDepth);
        Assert.Equal(0, traces.Count);

        int pid = MapTestSupport.GetPid();
        using (m.Object.GetProgram("touch_all").AttachTracepoint("syscalls", "sys_enter_getpid"))
        {
            for (int i = 0; i < 5; i++) MapTestSupport.GetPid();
        }

        var stats = new BpfHashMap<uint, Stats>(m["stats_map"]);
        var mine = stats.Lookup((uint)pid);
        Assert.True(mine.Calls >= 5);
        Assert.Equal((uint)pid, mine.LastTgid);
        Assert.Equal(1u, mine.Flags); // bpf_get_stackid succeeded
        Assert.True(new BpfHashMap<uint, ulong>(m["hash_map"])[(uint)pid] >= 5);

        var ids = traces.StackIds.ToArray();
        Assert.NotEmpty(ids);
        Assert.Equal(ids.Length, traces.Count);
        Span<ulong> all = stackalloc ulong[127];
        Span<ulong> two = stackalloc ulong[2];
        foreach (int id in ids)
        {
            var frames = traces.GetStackTrace(id);
            Assert.NotEmpty(frames);
            Assert.All(frames, ip => Assert.True(ip != 0 && ip < UserSpaceEnd, $"0x{ip:x} is not a user-space address"));

            // Into a span: the whole stack, or as much as fits.
            Assert.True(traces.TryGetStackTrace(id, all, out int count));
            Assert.Equal(frames, all.Slice(0, count).ToArray());
            Assert.True(traces.TryGetStackTrace(id, two, out count));
            Assert.Equal(Math.Min(2, frames.Length), count);
            Assert.Equal(frames[0], two[0]);
        }
        Assert.False(traces.TryGetStackTrace(-14, new ulong[127], out _)); // an error bpf_get_stackid returned
        Assert.Throws<System.Collections.Generic.KeyNotFoundException>(() => traces.GetStackTrace(100_000));
        Assert.Throws<InvalidOperationException>(() => traces.TryGetBuildIdStackTrace(ids[0], new BpfStackBuildId[127], out _));
        Assert.True(traces.Delete(ids[0]));
        Assert.False(traces.TryGetStackTrace(ids[0], new ulong[127], out _));
    }

    [Fact]
    public void BuildIdStackTraceMapShape()
    {
        TestEnvironment.RequireRoot();
        Assert.Equal(32, Marshal.SizeOf<BpfStackBuildId>());
        using var map = MapTestSupport.CreateMap("bid_stacks", BpfMapType.StackTrace, 4, 32 * 20, 8, BpfMapFlags.StackBuildId);
        var traces = new BpfStackTraceMap(map);
        Assert.True(traces.HasBuildIds);
        Assert.Equal(20, traces.MaxDepth);
        Assert.False(traces.TryGetBuildIdStackTrace(0, new BpfStackBuildId[20], out _));
        Assert.Throws<InvalidOperationException>(() => traces.TryGetStackTrace(0, new ulong[20], out _));
        Assert.Empty(traces.StackIds);
    }

    [Fact]
    public void ProgramArraySetAndClearRedirectTailCalls()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Load(TestEnvironment.Bpf("prog_array"));
        var table = new BpfProgramArrayMap(obj.GetMap("jump_table"));
        var entry = obj.GetProgram("tail_entry");
        var tailA = obj.GetProgram("tail_a");
        var tailB = obj.GetProgram("tail_b");
        var bss = obj.GetDataSection(".bss");
        int slotOff = (int)bss.FindVariable("slot")!.Offset;
        var packet = new byte[64];

        uint Run(uint slot)
        {
            bss.Write(slotOff, slot);
            return entry.TestRun(packet).ReturnValue;
        }

        const uint Drop = 1, Pass = 2, Tx = 3;
        Assert.Equal(4, table.Length);
        Assert.True(table.TryGetProgramId(0, out uint id));
        Assert.Equal(tailA.Id, id);
        Assert.False(table.TryGetProgramId(1, out _));
        Assert.Equal(new[] { 0, 2 }, table.FilledSlots.ToArray());
        Assert.Equal(Drop, Run(0));
        Assert.Equal(Tx, Run(2));
        Assert.Equal(Pass, Run(1));

        table.Set(1, tailB);
        Assert.Equal(Tx, Run(1));
        Assert.True(table.TryGetProgramId(1, out id));
        Assert.Equal(tailB.Id, id);
        table.Set(1, tailA.Handle);
        Assert.Equal(Drop, Run(1));

        Assert.True(table.Clear(0));
        Assert.False(table.Clear(0));
        Assert.Equal(Pass, Run(0));
        Assert.Equal(new[] { 1, 2 }, table.FilledSlots.ToArray());

        Assert.Throws<ArgumentOutOfRangeException>(() => table.Set(4, tailA));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.Clear(-1));

        // A program of another type cannot join an XDP jump table.
        using var m = LoadedMaps.Load();
        var e = Assert.Throws<BpfSyscallException>(() => table.Set(3, m.Object.GetProgram("touch_all")));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains("jump_table", e.Message);
    }

    [Fact]
    public void ArrayOfMapsAndHashOfMapsAsSeenByAProgram()
    {
        TestEnvironment.RequireRoot();
        using var obj = BpfObject.Load(TestEnvironment.Bpf("map_in_map"));
        var outerArray = new BpfArrayOfMaps(obj.GetMap("outer_array"));
        var outerHash = new BpfHashOfMaps<uint>(obj.GetMap("outer_hash"));
        var innerA = new BpfArrayMap<ulong>(obj.GetMap("inner_a"));
        var innerB = new BpfArrayMap<ulong>(obj.GetMap("inner_b"));
        var innerC = new BpfArrayMap<ulong>(obj.GetMap("inner_c"));
        var bump = obj.GetProgram("bump");

        Assert.True(outerArray.TryGetInnerMapId(0, out uint id));
        Assert.Equal(innerA.Map.Id, id);
        Assert.False(outerArray.TryGetInnerMapId(1, out _));
        Assert.True(outerHash.TryGetInnerMapId(1, out id));
        Assert.Equal(innerB.Map.Id, id);
        Assert.Equal(1, outerHash.Count);

        Assert.Equal(3u, bump.RunOnce().ReturnValue);
        Assert.Equal(1ul, innerA[0]);
        Assert.Equal(5ul, innerB[0]);
        Assert.Equal(0ul, innerC[0]);

        // Put inner_c into the empty array slot 1: the program adds 2 to it.
        outerArray.Set(1, innerC.Map);
        Assert.True(outerArray.TryGetInnerMapId(1, out id));
        Assert.Equal(innerC.Map.Id, id);
        Assert.Equal(4u, bump.RunOnce().ReturnValue);
        Assert.Equal(2ul, innerC[0]);

        // And under hash key 2: 3 more.
        outerHash.Set(2, innerC.Map);
        Assert.Equal(new uint[] { 1, 2 }, outerHash.Keys.ToArray().OrderBy(k => k));
        Assert.Equal(5u, bump.RunOnce().ReturnValue);
        Assert.Equal(2ul + 2 + 3, innerC[0]);

        // Clearing them stops the program from finding them.
        Assert.True(outerArray.Clear(1));
        Assert.False(outerArray.Clear(1));
        Assert.True(outerHash.Remove(1));
        Assert.False(outerHash.Remove(1));
        Assert.False(outerHash.TryGetInnerMapId(1, out _));
        ulong b = innerB[0];
        Assert.Equal(3u, bump.RunOnce().ReturnValue); // a (slot 0), b (slot 2), c (hash key 2)
        Assert.Equal(b + 3, innerB[0]);
        Assert.Equal(7ul + 3, innerC[0]);

        // The inner map behind a slot can be opened by id.
        Assert.True(outerArray.TryOpenInnerMap(2, out var opened));
        using (opened)
        {
            Assert.Equal(innerB.Map.Id, opened!.Id);
            Assert.Equal(innerB[0], new BpfArrayMap<ulong>(opened)[0]);
        }
        Assert.False(outerArray.TryOpenInnerMap(1, out var none));
        Assert.Null(none);
        Assert.True(outerHash.TryOpenInnerMap(2, out var openedC));
        using (openedC) Assert.Equal(innerC.Map.Id, openedC!.Id);

        // An inner map that does not match the template is refused.
        using var wrong = MapTestSupport.CreateMap("wrong_inner", BpfMapType.Array, 4, 4, 1);
        var e = Assert.Throws<BpfSyscallException>(() => outerArray.Set(3, wrong));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Throws<BpfSyscallException>(() => outerHash.Set(5, wrong));
        Assert.Throws<ArgumentOutOfRangeException>(() => outerArray.Set(4, innerC.Map));
        var ex = Assert.Throws<BpfSyscallException>(() => outerHash.Set(2, innerA.Map, BpfMapUpdateFlags.NoExist));
        Assert.Equal(Errno.EEXIST, ex.Errno);
    }

    [Fact]
    public void PerfEventArraySlotsTakePerfEvents()
    {
        using var m = LoadedMaps.Load();
        var perf = new BpfPerfEventArrayMap(m["perf_map"]);
        Assert.Equal(BpfMap.PossibleCpuCount, perf.Length); // max_entries 0 in the object: sized to the CPUs
        foreach (int cpu in OnlineCpus().Where(c => c < perf.Length))
        {
            using var ev = MapTestSupport.OpenBpfOutputEvent(cpu);
            Assert.False(perf.Clear(cpu));
            perf.Set(cpu, ev);
            Assert.True(perf.Clear(cpu));
            Assert.False(perf.Clear(cpu));
            perf.Set(cpu, ev); // left set: the map drops the slot when the event is closed or the map freed
        }
        using var ev0 = MapTestSupport.OpenBpfOutputEvent(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => perf.Set(perf.Length, ev0));
        // A descriptor that is not a perf event is refused by the kernel.
        var e = Assert.Throws<BpfSyscallException>(() => perf.Set(0, m["hash_map"].Handle));
        Assert.Contains("perf_map", e.Message);
        ev0.Dispose();
        Assert.Throws<InvalidOperationException>(() => perf.Set(0, ev0));
    }

    [Fact]
    public void RingBufferWrapper()
    {
        using var m = LoadedMaps.Load();
        var rb = new BpfRingBufferMap(m["ringbuf_map"]);
        Assert.Equal(64u * 1024, rb.Size);
        Assert.Equal(BpfMapType.Ringbuf, rb.Type);
        Assert.Same(m["ringbuf_map"], rb.Map);
        var e = Assert.Throws<ArgumentException>(() => new BpfRingBufferMap(m["hash_map"]));
        Assert.Contains("hash_map", e.Message);
        Assert.Contains("Ringbuf", e.Message);
    }

    private static int[] OnlineCpus()
    {
        var text = System.IO.File.ReadAllText("/sys/devices/system/cpu/online").Trim();
        return text.Split(',').SelectMany(r =>
        {
            var p = r.Split('-');
            int a = int.Parse(p[0]), b = p.Length > 1 ? int.Parse(p[1]) : a;
            return Enumerable.Range(a, b - a + 1);
        }).ToArray();
    }
}
