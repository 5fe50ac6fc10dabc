using System;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>Lookups and updates of unmanaged keys and values allocate nothing (a correctness property, not a timing).</summary>
public class MapHotPathAllocationTests
{
    private const int Iterations = 10_000;
    private static ulong s_sink;

    [Fact]
    public void LookupsAndUpdatesDoNotAllocate()
    {
        using var m = LoadedMaps.Load(o => o.GetMap("hash_map").MaxEntries = 1024);
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        var array = new BpfArrayMap<ulong>(m["array_map"]);
        var stats = new BpfHashMap<uint, Stats>(m["stats_map"]);
        var pch = new BpfPerCpuHashMap<uint, ulong>(m["percpu_hash_map"]);
        var pca = new BpfPerCpuArrayMap<ulong>(m["percpu_array_map"]);
        var queue = new BpfQueueMap<uint>(m["queue_map"]);
        var lpm = new BpfLpmTrieMap<LpmV4Key, uint>(m["lpm_map"]);
        Span<ulong> perCpu = stackalloc ulong[BpfMap.PossibleCpuCount];

        var key24 = LpmV4Key.Of("10.1.2.0/24"); // (parsing allocates: outside the measured loop)
        var addr = LpmV4Key.Of("10.1.2.3");

        void Work(int iterations, Span<ulong> perCpu)
        {
            ulong sum = 0;
            for (int i = 0; i < iterations; i++)
            {
                uint k = (uint)(i & 511);
                hash.Update(k, (ulong)i);
                sum += hash.Lookup(k);
                if (hash.TryLookup(k + 100_000, out ulong v)) sum += v;
                hash[k] = hash[k] + 1;
                sum += hash.TryAdd(k, 1) ? 1u : 0u;
                if (hash.Delete(k + 100_000)) sum++;
                array[(uint)(i & 15)] = (ulong)i;
                sum += array[(uint)(i & 15)];
                var st = new Stats { Calls = (ulong)i };
                stats.Update(k & 63, st);
                sum += stats.Lookup(k & 63).Calls;
                perCpu.Fill((ulong)i);
                pch.Update(k & 63, perCpu);
                if (pch.TryLookup(k & 63, perCpu)) sum += perCpu[0];
                pca.UpdateAllCpus((uint)(i & 3), (ulong)i);
                pca.Lookup((uint)(i & 3), perCpu);
                queue.Push((uint)i, BpfMapUpdateFlags.Exist);
                if (queue.TryPop(out uint q)) sum += q;
                lpm.Update(key24, (uint)i);
                if (lpm.TryMatch(addr, out uint lv)) sum += lv;
                if ((i & 1023) == 0)
                {
                    // Walks use struct enumerators: no allocation either.
                    foreach (var key in hash.Keys) sum += key;
                    foreach (var kv in stats.Entries) sum += kv.Value.Calls;
                    sum += (ulong)hash.Count;
                }
            }
            s_sink = sum;
        }

        Work(300, perCpu); // warm up: JIT, tiering, the CPU count
        long before = GC.GetAllocatedBytesForCurrentThread();
        Work(Iterations, perCpu);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void PerCpuRepackingDoesNotAllocate()
    {
        TestEnvironment.RequireRoot();
        using var map = MapTestSupport.CreateMap("pc_triple_a", BpfMapType.PercpuHash, 4, 12, 64);
        var hash = new BpfPerCpuHashMap<uint, Triple>(map);
        Span<Triple> values = stackalloc Triple[BpfMap.PossibleCpuCount];

        void Work(int n, Span<Triple> vals)
        {
            for (int i = 0; i < n; i++)
            {
                vals.Fill(new Triple((uint)i, 1, 2));
                hash.Update((uint)(i & 31), vals);
                hash.TryLookup((uint)(i & 31), vals);
                hash.UpdateAllCpus((uint)(i & 31), new Triple(3, 4, 5));
                if (hash.ContainsKey(1000)) throw new InvalidOperationException();
            }
        }

        Work(100, values);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Work(Iterations, values);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(new Triple(3, 4, 5), hash.Lookup(1)[0]);
    }
}
