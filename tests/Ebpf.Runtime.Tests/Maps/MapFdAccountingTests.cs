using System;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>Wrappers hold no descriptors of their own: load, use every wrapper, dispose, 50 times, and nothing is left open.</summary>
[Collection(FdAccountingCollection.Name)]
public class MapFdAccountingTests
{
    [Fact]
    public void LoadUseDisposeFiftyTimesLeavesNoDescriptor()
    {
        TestEnvironment.RequireBpffs();
        Cycle(); // warm up process-wide caches (kernel BTF, feature probes)
        int before = TestEnvironment.BaselineFdCount();
        for (int i = 0; i < 50; i++)
            Cycle();
        Assert.Equal(before, TestEnvironment.OpenFdCount());
    }

    private static void Cycle()
    {
        using (var m = LoadedMaps.Load())
        {
            m.Object.GetProgram("fill").RunOnce();
            var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
            hash[5] = 5;
            Assert.Equal(2, hash.Count);
            var keys = new uint[8];
            var values = new ulong[8];
            var c = new BpfBatchCursor();
            Assert.Equal(2, hash.LookupBatch(keys, values, ref c));
            Assert.Equal(2, hash.DeleteBatch(new uint[] { 1, 5 }));
            var pca = new BpfPerCpuArrayMap<ulong>(m["percpu_array_map"]);
            pca.UpdateAllCpus(1, 1);
            Assert.Equal(1ul, pca.Lookup(1u)[0]);
            var lpm = new BpfLpmTrieMap<LpmV4Key, uint>(m["lpm_map"]);
            lpm.Update(LpmV4Key.Of("10.0.0.0/8"), 1);
            c = default;
            Assert.Equal(1, lpm.LookupBatch(new LpmV4Key[4], new uint[4], ref c));
            new BpfQueueMap<uint>(m["queue_map"]).Push(1);
            var perf = new BpfPerfEventArrayMap(m["perf_map"]);
            using (var ev = MapTestSupport.OpenBpfOutputEvent(0))
                perf.Set(0, ev);
            _ = new BpfRingBufferMap(m["ringbuf_map"]).Size;
        }
        using (var obj = BpfObject.Load(TestEnvironment.Bpf("map_in_map")))
        {
            var outer = new BpfArrayOfMaps(obj.GetMap("outer_array"));
            outer.Set(1, obj.GetMap("inner_c"));
            Assert.True(outer.TryOpenInnerMap(1, out var inner));
            inner!.Dispose();
            var hom = new BpfHashOfMaps<uint>(obj.GetMap("outer_hash"));
            hom.Set(3, obj.GetMap("inner_a"));
            Assert.Equal(2, hom.Count);
            Assert.Equal(4u, obj.GetProgram("bump").RunOnce().ReturnValue);
        }
        using (var obj = BpfObject.Load(TestEnvironment.Bpf("prog_array")))
        {
            var table = new BpfProgramArrayMap(obj.GetMap("jump_table"));
            table.Set(1, obj.GetProgram("tail_b"));
            Assert.True(table.Clear(0));
        }
    }
}
