using System;
using System.Collections.Generic;
using System.Linq;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>BpfArrayMap, BpfPerCpuArrayMap and BpfPerCpuHashMap.</summary>
public class ArrayAndPerCpuMapTests
{
    private static int Cpus => BpfMap.PossibleCpuCount;

    [Fact]
    public void ArrayReadWriteAndBounds()
    {
        using var m = LoadedMaps.Load();
        var array = new BpfArrayMap<ulong>(m["array_map"]);
        Assert.Equal(16, array.Length);
        Assert.Equal(16, array.Count);
        Assert.Equal(0ul, array[5]); // every slot exists, zeroed
        array[5] = 55;
        array.Update(6, 66);
        Assert.Equal(55ul, array.Lookup(5));
        Assert.Equal(66ul, array[6]);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => array[16]);
        Assert.Contains("array_map", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => array[16] = 1);
        // NoExist can never succeed on an array: the kernel's refusal comes with the reason.
        var ex = Assert.Throws<BpfSyscallException>(() => array.Update(1, 1, BpfMapUpdateFlags.NoExist));
        Assert.Equal(Errno.EEXIST, ex.Errno);

        m.Object.GetProgram("fill").RunOnce();
        Assert.Equal(200ul, array[1]);

        Assert.Equal(Enumerable.Range(0, 16).Select(i => (uint)i), array.Keys.ToArray());
        var all = array.ToArray();
        Assert.Equal(16, all.Length);
        Assert.Equal(200ul, all[1]);
        Assert.Equal(55ul, all[5]);
        Assert.Equal(66ul, all[6]);
        Assert.Equal(3, array.Entries.Count(kv => kv.Value != 0));
    }

    [Fact]
    public void ArrayBatchLookupAndUpdate()
    {
        using var m = LoadedMaps.Load();
        var array = new BpfArrayMap<ulong>(m["array_map"]);
        var keys = Enumerable.Range(0, 16).Select(i => (uint)i).ToArray();
        var values = keys.Select(k => (ulong)k * k).ToArray();
        Assert.Equal(16, array.UpdateBatch(keys, values));

        var kbuf = new uint[5];
        var vbuf = new ulong[5];
        var cursor = new BpfBatchCursor();
        var got = new List<(uint, ulong)>();
        int n;
        while ((n = array.LookupBatch(kbuf, vbuf, ref cursor)) > 0)
            for (int i = 0; i < n; i++) got.Add((kbuf[i], vbuf[i]));
        Assert.False(cursor.IsEmulated);
        Assert.Equal(keys.Zip(values), got);
    }

    [Fact]
    public void PerCpuArrayHoldsOneValuePerCpu()
    {
        using var m = LoadedMaps.Load();
        var pca = new BpfPerCpuArrayMap<ulong>(m["percpu_array_map"]);
        Assert.Equal(4, pca.Length);
        Assert.Equal(Cpus, BpfPerCpuArrayMap<ulong>.CpuCount);

        m.Object.GetProgram("fill").RunOnce();
        var values = pca.Lookup(2u);
        Assert.Equal(Cpus, values.Length);
        Assert.Equal(400ul, values.Aggregate(0ul, (a, b) => a + b)); // on whichever CPU it ran
        Assert.Single(values, v => v == 400);

        var mine = Enumerable.Range(0, Cpus).Select(c => (ulong)(c + 1) * 11).ToArray();
        pca.Update(3, mine);
        Span<ulong> back = stackalloc ulong[Cpus];
        pca.Lookup(3, back);
        Assert.Equal(mine, back.ToArray());

        pca.UpdateAllCpus(3, 7);
        Assert.All(pca.Lookup(3u), v => Assert.Equal(7ul, v));

        Assert.Throws<ArgumentException>(() => pca.Update(3, new ulong[Cpus + 1]));
        Assert.Throws<ArgumentException>(() => pca.TryLookup(3, new ulong[Cpus * 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => pca.Lookup(4u));
        Assert.Equal(4, pca.Count);
    }

    [Fact]
    public void PerCpuHashWithDistinctValuesPerCpu()
    {
        using var m = LoadedMaps.Load();
        var pch = new BpfPerCpuHashMap<uint, ulong>(m["percpu_hash_map"]);
        Assert.False(pch.IsLru);
        var values = Enumerable.Range(0, Cpus).Select(c => 1000ul + (ulong)c).ToArray();
        pch.Update(42, values);
        Assert.Equal(values, pch.Lookup(42));
        Assert.True(pch.ContainsKey(42));
        Assert.False(pch.TryAdd(42, values));
        Assert.True(pch.TryAdd(43, values));
        Assert.Equal(2, pch.Count);

        var entries = pch.Entries.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(values, entries[42]);
        Assert.Equal(values, entries[43]);

        Assert.Throws<KeyNotFoundException>(() => pch.Lookup(1));
        Assert.False(pch.TryLookup(1, new ulong[Cpus]));
        Assert.True(pch.Delete(42));
        Assert.False(pch.Delete(42));
        Assert.Equal(new uint[] { 43 }, pch.Keys.ToArray());
    }

    [Fact]
    public void LruPerCpuHash()
    {
        using var m = LoadedMaps.Load();
        var lru = new BpfPerCpuHashMap<uint, ulong>(m["lru_percpu_hash_map"]);
        Assert.True(lru.IsLru);
        var v = new ulong[Cpus];
        for (uint i = 0; i < 500; i++)
        {
            v[0] = i;
            lru.Update(i, v);
        }
        Assert.InRange(lru.Count, 1, 64);
        Assert.Equal(499ul, lru.Lookup(499)[0]);
    }

    [Fact]
    public void PerCpuBatchOperations()
    {
        const int N = 5000;
        using var m = LoadedMaps.Load(o => o.GetMap("percpu_hash_map").MaxEntries = 8192);
        var pch = new BpfPerCpuHashMap<uint, ulong>(m["percpu_hash_map"]);
        int cpus = Cpus;
        var keys = Enumerable.Range(0, N).Select(i => (uint)i).ToArray();
        var values = new ulong[N * cpus];
        for (int i = 0; i < N; i++)
            for (int c = 0; c < cpus; c++)
                values[i * cpus + c] = (ulong)i * 100 + (ulong)c;
        Assert.Equal(N, pch.UpdateBatch(keys, values));
        Assert.Equal(N, pch.Count);
        Assert.Equal(Enumerable.Range(0, cpus).Select(c => 4200ul + (ulong)c), pch.Lookup(42));

        var kbuf = new uint[1024];
        var vbuf = new ulong[1024 * cpus];
        var cursor = new BpfBatchCursor();
        int total = 0, n;
        while ((n = pch.LookupBatch(kbuf, vbuf, ref cursor)) > 0)
        {
            for (int i = 0; i < n; i++)
                for (int c = 0; c < cpus; c++)
                    Assert.Equal((ulong)kbuf[i] * 100 + (ulong)c, vbuf[i * cpus + c]);
            total += n;
        }
        Assert.Equal(N, total);

        Assert.Equal(1000, pch.DeleteBatch(keys.AsSpan(0, 1000)));
        cursor = default;
        total = 0;
        while ((n = pch.LookupAndDeleteBatch(kbuf, vbuf, ref cursor)) > 0)
        {
            for (int i = 0; i < n; i++) Assert.Equal((ulong)kbuf[i] * 100 + (ulong)(cpus - 1), vbuf[i * cpus + cpus - 1]);
            total += n;
        }
        Assert.Equal(N - 1000, total);
        Assert.Equal(0, pch.Count);
        Assert.Throws<ArgumentException>(() => pch.UpdateBatch(keys.AsSpan(0, 2), new ulong[2 * cpus + 1]));
    }

    [Fact]
    public void PerCpuValuesNotAMultipleOf8AreRepacked()
    {
        TestEnvironment.RequireRoot();
        int cpus = Cpus;
        // 12-byte values: the kernel lays each CPU's value out every 16 bytes.
        using var hmap = MapTestSupport.CreateMap("pc_triple", BpfMapType.PercpuHash, 4, 12, 64);
        var hash = new BpfPerCpuHashMap<uint, Triple>(hmap);
        var vals = Enumerable.Range(0, cpus).Select(c => new Triple((uint)c, (uint)c * 10, (uint)c * 100 + 1)).ToArray();
        hash.Update(1, vals);
        Assert.Equal(vals, hash.Lookup(1));

        // The raw bytes show the kernel's 16-byte stride.
        var raw = new byte[hmap.ValueBufferSize];
        Assert.Equal(16 * cpus, raw.Length);
        Assert.True(hmap.TryLookup(BitConverter.GetBytes(1u), raw));
        for (int c = 0; c < cpus; c++)
        {
            Assert.Equal(vals[c].A, BitConverter.ToUInt32(raw, c * 16));
            Assert.Equal(vals[c].C, BitConverter.ToUInt32(raw, c * 16 + 8));
        }

        hash.UpdateAllCpus(2, new Triple(7, 8, 9));
        Assert.All(hash.Lookup(2), t => Assert.Equal(new Triple(7, 8, 9), t));

        // Batch paths repack too.
        var keys = new uint[] { 10, 11, 12 };
        var bvals = new Triple[3 * cpus];
        for (int i = 0; i < bvals.Length; i++) bvals[i] = new Triple((uint)i, (uint)i + 1, (uint)i + 2);
        Assert.Equal(3, hash.UpdateBatch(keys, bvals));
        var kbuf = new uint[8];
        var vbuf = new Triple[8 * cpus];
        var cursor = new BpfBatchCursor();
        var got = new Dictionary<uint, Triple[]>();
        int n;
        while ((n = hash.LookupBatch(kbuf, vbuf, ref cursor)) > 0)
            for (int i = 0; i < n; i++) got[kbuf[i]] = vbuf.AsSpan(i * cpus, cpus).ToArray();
        Assert.Equal(5, got.Count);
        for (int i = 0; i < 3; i++) Assert.Equal(bvals.AsSpan(i * cpus, cpus).ToArray(), got[keys[i]]);
        Assert.Equal(vals, got[1]);

        // 4-byte values in a per-CPU array: 8-byte stride.
        using var amap = MapTestSupport.CreateMap("pc_u32", BpfMapType.PercpuArray, 4, 4, 2);
        var array = new BpfPerCpuArrayMap<uint>(amap);
        var u = Enumerable.Range(0, cpus).Select(c => 0xA0000000u + (uint)c).ToArray();
        array.Update(1, u);
        Assert.Equal(u, array.Lookup(1u));
        Assert.All(array.Lookup(0u), x => Assert.Equal(0u, x));
    }
}
