using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>Wrappers used from many threads, and an object disposed under running operations.</summary>
public class MapConcurrencyTests
{
    private const int Threads = 8;

    [Fact]
    public void ManyThreadsOnDisjointKeys()
    {
        const int PerThread = 2000;
        using var m = LoadedMaps.Load(o =>
        {
            o.GetMap("hash_map").MaxEntries = Threads * PerThread;
            o.GetMap("percpu_hash_map").MaxEntries = Threads * PerThread;
        });
        var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
        var pch = new BpfPerCpuHashMap<uint, ulong>(m["percpu_hash_map"]);
        var array = new BpfArrayMap<ulong>(m["array_map"]);
        var errors = new ConcurrentQueue<Exception>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                var perCpu = new ulong[BpfMap.PossibleCpuCount];
                for (int i = 0; i < PerThread; i++)
                {
                    uint k = (uint)(t * PerThread + i);
                    hash.Update(k, (ulong)k * 3);
                    if (hash.Lookup(k) != (ulong)k * 3) throw new Exception($"hash[{k}] wrong");
                    Array.Fill(perCpu, (ulong)k);
                    pch.Update(k, perCpu);
                    if (pch.Lookup(k).Any(v => v != k)) throw new Exception($"percpu[{k}] wrong");
                    array[(uint)t] = (ulong)i;
                    if (i % 2 == 1 && !hash.Delete(k)) throw new Exception($"delete {k} failed");
                }
                if (array[(uint)t] != PerThread - 1) throw new Exception($"array[{t}] wrong");
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        })).ToArray();
        foreach (var th in threads) th.Start();
        foreach (var th in threads) th.Join();
        Assert.Empty(errors);
        Assert.Equal(Threads * PerThread / 2, hash.Count);
        Assert.Equal(Threads * PerThread, pch.Count);
        Assert.All(hash.Entries, kv => Assert.Equal((ulong)kv.Key * 3, kv.Value));
    }

    [Fact]
    public void DisposingTheObjectUnderRunningOperationsNeverCrashes()
    {
        for (int round = 0; round < 5; round++)
        {
            var m = LoadedMaps.Load();
            var hash = new BpfHashMap<uint, ulong>(m["hash_map"]);
            var array = new BpfArrayMap<ulong>(m["array_map"]);
            var pca = new BpfPerCpuArrayMap<ulong>(m["percpu_array_map"]);
            var queue = new BpfQueueMap<uint>(m["queue_map"]);
            var unexpected = new ConcurrentQueue<Exception>();
            int stopped = 0;
            long ops = 0;
            using var started = new CountdownEvent(Threads);
            var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                var perCpu = new ulong[BpfMap.PossibleCpuCount];
                var kbuf = new uint[16];
                var vbuf = new ulong[16];
                started.Signal();
                try
                {
                    for (long i = 0; ; i++)
                    {
                        uint k = (uint)(t * 16 + (i & 15));
                        switch (i % 6)
                        {
                            case 0: hash.Update(k, (ulong)i); break;
                            case 1: hash.TryLookup(k, out _); break;
                            case 2: array[(uint)(i & 15)] = (ulong)i; break;
                            case 3: pca.Lookup((uint)(i & 3), perCpu); break;
                            case 4: queue.Push((uint)i, BpfMapUpdateFlags.Exist); queue.TryPop(out _); break;
                            case 5:
                                foreach (var key in hash.Keys) { }
                                var c = new BpfBatchCursor();
                                hash.LookupBatch(kbuf, vbuf, ref c);
                                break;
                        }
                        Interlocked.Increment(ref ops);
                    }
                }
                catch (InvalidOperationException)
                {
                    // ObjectDisposedException is one too: the map is closed, as expected.
                    Interlocked.Increment(ref stopped);
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(e);
                }
            })).ToArray();
            foreach (var th in threads) th.Start();
            started.Wait();
            Thread.Sleep(30);
            m.Dispose();
            foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromSeconds(30)), "a thread did not stop");
            Assert.Empty(unexpected);
            Assert.Equal(Threads, stopped);
            Assert.True(Interlocked.Read(ref ops) > 0);
            Assert.False(hash.Map.IsLoaded);
        }
    }

    /// <summary>
    /// The wrappers' calls hold no reference count on the descriptor (CallEpoch): a map disposed under running
    /// lookups must not have its descriptor number closed under a call and handed to another map. Map B (same
    /// shape, key 1 = 222) is opened again and again right after A (key 1 = 111) is disposed, so that it takes A's
    /// numbers; a lookup that ever reads 222 through A's wrapper used a reused descriptor.
    /// </summary>
    [Fact]
    public void ADisposedDescriptorIsNeverReusedUnderARunningCall()
    {
        using var other = LoadedMaps.Load();
        var b = new BpfHashMap<uint, ulong>(other["hash_map"]);
        b.Update(1, 222);
        uint bId = other["hash_map"].Id;
        long total = 0;
        for (int round = 0; round < 20; round++)
        {
            var m = LoadedMaps.Load();
            var a = new BpfHashMap<uint, ulong>(m["hash_map"]);
            a.Update(1, 111);
            var unexpected = new ConcurrentQueue<string>();
            long ops = 0;
            using var started = new CountdownEvent(Threads);
            var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                started.Signal();
                try
                {
                    while (true)
                    {
                        if (!a.TryLookup(1, out ulong v) || v != 111)
                            unexpected.Enqueue($"lookup through the disposed map's wrapper read {v}");
                        Interlocked.Increment(ref ops);
                    }
                }
                catch (InvalidOperationException)
                {
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(e.ToString());
                }
            })).ToArray();
            foreach (var th in threads) th.Start();
            started.Wait();
            Thread.Sleep(5);
            m.Dispose();
            var grabbed = new System.Collections.Generic.List<BpfMap>();
            try
            {
                for (int i = 0; i < 64; i++) grabbed.Add(BpfMap.FromId(bId));
                foreach (var th in threads) Assert.True(th.Join(TimeSpan.FromSeconds(30)), "a thread did not stop");
            }
            finally
            {
                foreach (var g in grabbed) g.Dispose();
            }
            Assert.Empty(unexpected);
            total += Interlocked.Read(ref ops);
        }
        Assert.True(total > 0);
    }
}
