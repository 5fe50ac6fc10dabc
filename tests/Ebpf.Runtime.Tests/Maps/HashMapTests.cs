using System;
using System.Collections.Generic;
using System.Linq;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>BpfHashMap over HASH and LRU_HASH maps of maps.bpf.o.</summary>
public class HashMapTests
{
    [Fact]
    public void UpdateLookupDeleteAndAdd()
    {
        using var m = LoadedMaps.Load();
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        Assert.False(hash.IsLru);
        Assert.Equal("hash_map", hash.Name);
        Assert.Same(m["hash_map"], hash.Map);

        Assert.False(hash.TryLookup(1, out ulong v));
        Assert.Equal(0ul, v);
        var e = Assert.Throws<KeyNotFoundException>(() => hash.Lookup(1));
        Assert.Contains("hash_map", e.Message);
        Assert.Contains("1", e.Message);

        hash.Update(1, 10);
        hash[2] = 20;
        Assert.Equal(10ul, hash.Lookup(1));
        Assert.Equal(20ul, hash[2]);
        Assert.True(hash.ContainsKey(2));

        Assert.False(hash.TryAdd(1, 11));
        Assert.Equal(10ul, hash[1]);
        Assert.True(hash.TryAdd(3, 30));
        var ex = Assert.Throws<BpfSyscallException>(() => hash.Update(1, 12, BpfMapUpdateFlags.NoExist));
        Assert.Equal(Errno.EEXIST, ex.Errno);
        ex = Assert.Throws<BpfSyscallException>(() => hash.Update(99, 12, BpfMapUpdateFlags.Exist));
        Assert.Equal(Errno.ENOENT, ex.Errno);
        hash.Update(1, 13, BpfMapUpdateFlags.Exist);
        Assert.Equal(13ul, hash[1]);

        Assert.True(hash.Delete(1));
        Assert.False(hash.Delete(1));
        Assert.False(hash.ContainsKey(1));

        Assert.True(hash.TryLookupAndDelete(2, out v));
        Assert.Equal(20ul, v);
        Assert.False(hash.TryLookupAndDelete(2, out _));
        Assert.Equal(1, hash.Count);
        Assert.Equal(1, hash.Clear());
        Assert.Equal(0, hash.Count);
    }

    [Fact]
    public void SeesWhatTheProgramWrote()
    {
        using var m = LoadedMaps.Load();
        m.Object.GetProgram("fill").RunOnce();
        Assert.Equal(100ul, new BpfHashMap<uint, ulong>(m["hash_map"])[1]);
        Assert.Equal(300ul, new BpfHashMap<uint, ulong>(m["lru_hash_map"])[1]);
        var stats = new BpfHashMap<uint, Stats>(m["stats_map"]);
        var s = stats.Lookup(1);
        Assert.Equal(1ul, s.Calls);
        Assert.Equal(4096ul, s.Bytes);
        Assert.Equal(1u, s.LastTgid);

        // and the program sees what we wrote: fill overwrites with BPF_ANY, so write a key it does not touch
        stats[7] = new Stats { Calls = 5, Bytes = 6, LastTgid = 7 };
        Assert.Equal(5ul, stats[7].Calls);
        Assert.Equal(2, stats.Count);
    }

    [Fact]
    public void FullMapRefusesWithE2BIG()
    {
        using var m = LoadedMaps.Load(o => o.GetMap("hash_map").MaxEntries = 4);
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        for (uint i = 0; i < 4; i++) hash[i] = i;
        var e = Assert.Throws<BpfSyscallException>(() => hash.Update(100, 1));
        Assert.Equal(Errno.E2BIG, e.Errno);
        Assert.Contains("full", e.Message);
        Assert.Contains("hash_map", e.Message);
    }

    [Fact]
    public void KeysEntriesAndCount()
    {
        using var m = LoadedMaps.Load();
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        Assert.Empty(hash.Keys);
        Assert.Equal(0, hash.Count);
        for (uint i = 0; i < 100; i++) hash[i * 7] = i * 1000;

        var keys = hash.Keys.ToArray();
        Assert.Equal(100, keys.Length);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (uint)i * 7).OrderBy(k => k), keys.OrderBy(k => k));
        Assert.Equal(100, hash.Count);

        var entries = hash.Entries.ToDictionary();
        Assert.Equal(100, entries.Count);
        foreach (var kv in entries) Assert.Equal(kv.Key / 7 * 1000, kv.Value);

        // The struct enumerator also works through IEnumerable (LINQ).
        Assert.Equal(100, hash.Entries.Count());
        Assert.Equal(Enumerable.Range(0, 100).Sum(i => (long)i * 1000), hash.Entries.Sum(kv => (long)kv.Value));

        // The map itself is enumerable: foreach deconstructs each element, and LINQ sees the same walk.
        int walked = 0;
        foreach (var (key, value) in hash)
        {
            Assert.Equal(key / 7 * 1000, value);
            walked++;
        }
        Assert.Equal(100, walked);
        Assert.Equal(100, hash.Count(kv => kv.Value % 1000 == 0));
        Assert.Equal(entries.Keys.OrderBy(k => k), hash.Select(kv => kv.Key).OrderBy(k => k));
    }

    [Fact]
    public void DeletingTheCurrentKeyWhileIteratingVisitsEveryKeyOnce()
    {
        using var m = LoadedMaps.Load();
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        for (uint i = 0; i < 128; i++) hash[i] = i;

        var seen = new List<uint>();
        foreach (var k in hash.Keys)
        {
            seen.Add(k);
            if (k % 2 == 0) Assert.True(hash.Delete(k));
        }
        Assert.Equal(128, seen.Count);
        Assert.Equal(128, seen.Distinct().Count());
        Assert.Equal(64, hash.Count);
        Assert.All(hash.Keys, k => Assert.Equal(1u, k % 2));

        // Deleting every key, entries walk included.
        int n = 0;
        foreach (var kv in hash.Entries)
        {
            Assert.Equal(kv.Key, (uint)kv.Value);
            Assert.True(hash.Delete(kv.Key));
            n++;
        }
        Assert.Equal(64, n);
        Assert.Equal(0, hash.Count);
    }

    [Fact]
    public void DeletingAKeyAheadOfTheWalkRestartsLikeTheKernelDoes()
    {
        using var m = LoadedMaps.Load();
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        for (uint i = 0; i < 50; i++) hash[i] = i;
        // Delete everything but the current key from inside the walk: the read-ahead key disappears, the kernel
        // restarts from the first remaining key, and the walk still ends.
        var seen = new List<uint>();
        foreach (var k in hash.Keys)
        {
            seen.Add(k);
            if (seen.Count == 1)
                foreach (var other in hash.Keys.ToArray())
                    if (other != k) hash.Delete(other);
            Assert.True(seen.Count < 1000, "the walk did not end");
        }
        Assert.Equal(1, hash.Count);
        Assert.Contains(seen[0], hash.Keys);
    }

    [Fact]
    public void BatchOperationsOverABigMap()
    {
        const int N = 50_000;
        using var m = LoadedMaps.Load(o => o.GetMap("hash_map").MaxEntries = 100_000);
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        Assert.Equal(100_000u, hash.MaxEntries);

        var keys = new uint[N];
        var values = new ulong[N];
        for (int i = 0; i < N; i++)
        {
            keys[i] = (uint)i * 3 + 1;
            values[i] = (ulong)i * 1_000_003;
        }
        Assert.Equal(N, hash.UpdateBatch(keys, values));
        Assert.Equal(N, hash.Count);

        // Read it back 4096 at a time.
        var kbuf = new uint[4096];
        var vbuf = new ulong[4096];
        var cursor = new BpfBatchCursor();
        var got = new Dictionary<uint, ulong>();
        int calls = 0, n;
        while ((n = hash.LookupBatch(kbuf, vbuf, ref cursor)) > 0)
        {
            calls++;
            for (int i = 0; i < n; i++) got.Add(kbuf[i], vbuf[i]);
        }
        Assert.True(cursor.IsDone);
        Assert.False(cursor.IsEmulated);
        Assert.Equal(0, hash.LookupBatch(kbuf, vbuf, ref cursor));
        Assert.Equal(N, got.Count);
        for (int i = 0; i < N; i++) Assert.Equal(values[i], got[keys[i]]);
        Assert.InRange(calls, N / 4096, N / 4096 + 2);

        // Delete the first half plus keys that are not there (skipped).
        var toDelete = keys.Take(N / 2).Concat(new uint[] { 0, 2, 5_000_000 }).ToArray();
        Assert.Equal(N / 2, hash.DeleteBatch(toDelete));
        Assert.Equal(N - N / 2, hash.Count);
        Assert.False(hash.ContainsKey(keys[0]));
        Assert.True(hash.ContainsKey(keys[N - 1]));

        // Drain the rest.
        cursor = default;
        int drained = 0;
        while ((n = hash.LookupAndDeleteBatch(kbuf, vbuf, ref cursor)) > 0)
        {
            for (int i = 0; i < n; i++) Assert.Equal(got[kbuf[i]], vbuf[i]);
            drained += n;
        }
        Assert.Equal(N - N / 2, drained);
        Assert.Equal(0, hash.Count);
    }

    [Fact]
    public void BatchWithSmallBuffersAndFlags()
    {
        using var m = LoadedMaps.Load();
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        for (uint i = 0; i < 100; i++) hash[i] = i;
        var kbuf = new uint[7];
        var vbuf = new ulong[7];
        var cursor = new BpfBatchCursor();
        var seen = new HashSet<uint>();
        int n;
        while ((n = hash.LookupBatch(kbuf, vbuf, ref cursor)) > 0)
            for (int i = 0; i < n; i++)
            {
                Assert.True(seen.Add(kbuf[i]));
                Assert.Equal(kbuf[i], (uint)vbuf[i]);
            }
        Assert.Equal(100, seen.Count);

        Assert.Throws<ArgumentException>(() => hash.UpdateBatch(new uint[] { 1 }, new ulong[] { 1 }, BpfMapUpdateFlags.NoExist));
        Assert.Throws<ArgumentException>(() => hash.UpdateBatch(new uint[] { 1, 2 }, new ulong[] { 1 }));
        Assert.Throws<ArgumentException>(() =>
        {
            var c = new BpfBatchCursor();
            hash.LookupBatch(new uint[4], new ulong[3], ref c);
        });
        Assert.Equal(0, hash.UpdateBatch(ReadOnlySpan<uint>.Empty, ReadOnlySpan<ulong>.Empty));
    }

    [Fact]
    public void UpdateBatchThatOverflowsSaysHowFarItGot()
    {
        using var m = LoadedMaps.Load(o => o.GetMap("hash_map").MaxEntries = 10);
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        var keys = Enumerable.Range(0, 20).Select(i => (uint)i).ToArray();
        var e = Assert.Throws<BpfSyscallException>(() => hash.UpdateBatch(keys, new ulong[20]));
        Assert.Equal(Errno.E2BIG, e.Errno);
        Assert.Contains("element 10 of 20", e.Message);
        Assert.Equal(10, hash.Count);
    }

    [Fact]
    public void LruEvictsInsteadOfRefusing()
    {
        using var m = LoadedMaps.Load();
        var lru = new BpfHashMap<uint, ulong>(m["lru_hash_map"]);
        Assert.True(lru.IsLru);
        for (uint i = 0; i < 1000; i++) lru[i] = i;
        int count = lru.Count;
        Assert.InRange(count, 1, 64);
        Assert.Equal(999ul, lru[999]); // the newest survives
        Assert.False(lru.ContainsKey(0)); // the oldest was evicted
        Assert.All(lru.Entries, kv => Assert.Equal(kv.Key, (uint)kv.Value));
    }

    [Fact]
    public void LockFlagReachesTheKernel()
    {
        using var m = LoadedMaps.Load();
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        // hash_map's value has no bpf_spin_lock, so the kernel refuses BPF_F_LOCK: proof the flag got there.
        var e = Assert.Throws<BpfSyscallException>(() => hash.Update(1, 1, BpfMapUpdateFlags.Lock));
        Assert.Equal(Errno.EINVAL, e.Errno);
        hash[1] = 1;
        e = Assert.Throws<BpfSyscallException>(() => hash.TryLookup(1, out _, BpfMapLookupFlags.Lock));
        Assert.Equal(Errno.EINVAL, e.Errno);
    }

    [Fact]
    public void LockFlagOnASpinLockValue()
    {
        TestEnvironment.RequireRoot();
        using var map = MapTestSupport.CreateSpinLockHash("locked");
        var hash = new BpfHashMap<uint, LockedValue>(map);
        hash.Update(1, new LockedValue { Count = 5 }, BpfMapUpdateFlags.Lock);
        Assert.True(hash.TryLookup(1, out var v, BpfMapLookupFlags.Lock));
        Assert.Equal(5u, v.Count);
        Assert.Equal(0u, v.Lock); // the kernel never copies the lock word out
        hash.Update(1, new LockedValue { Count = 6 }, BpfMapUpdateFlags.Lock | BpfMapUpdateFlags.Exist);
        Assert.Equal(6u, hash[1].Count);
        Assert.Equal(2, hash.UpdateBatch(new uint[] { 2, 3 }, new[] { new LockedValue { Count = 2 }, new LockedValue { Count = 3 } }, BpfMapUpdateFlags.Lock));
        Assert.True(hash.TryLookup(3, out v, BpfMapLookupFlags.Lock));
        Assert.Equal(3u, v.Count);
    }
}
