using System;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>Wrappers refuse maps of the wrong kind or size, with messages that say what is wrong.</summary>
public class WrapperValidationTests
{
    private static BpfObject OpenMaps() => BpfObject.Open(TestEnvironment.Bpf("maps")); // no kernel needed
    private static BpfObject OpenBloom() => BpfObject.Open(TestEnvironment.Bpf("maps_bloom"));

    [Fact]
    public void WrongKindNamesTheMapBothKindsAndTheRightWrapper()
    {
        using var obj = OpenMaps();
        var e = Assert.Throws<ArgumentException>(() => new BpfHashMap<uint, ulong>(obj.GetMap("ringbuf_map")));
        Assert.Contains("'ringbuf_map'", e.Message);
        Assert.Contains("Ringbuf", e.Message);
        Assert.Contains("Hash or LruHash", e.Message);
        Assert.Contains("BpfHashMap<UInt32, UInt64>", e.Message);
        Assert.Contains("use BpfRingBufferMap", e.Message);
        Assert.Equal("map", e.ParamName);

        e = Assert.Throws<ArgumentException>(() => new BpfArrayMap<ulong>(obj.GetMap("percpu_array_map")));
        Assert.Contains("PercpuArray", e.Message);
        Assert.Contains("use BpfPerCpuArrayMap<TValue>", e.Message);

        Assert.Throws<ArgumentException>(() => new BpfPerCpuHashMap<uint, ulong>(obj.GetMap("hash_map")));
        Assert.Throws<ArgumentException>(() => new BpfPerCpuArrayMap<ulong>(obj.GetMap("array_map")));
        Assert.Throws<ArgumentException>(() => new BpfLpmTrieMap<LpmV4Key, uint>(obj.GetMap("hash_map")));
        Assert.Throws<ArgumentException>(() => new BpfQueueMap<uint>(obj.GetMap("stack_map")));
        Assert.Throws<ArgumentException>(() => new BpfStackMap<uint>(obj.GetMap("queue_map")));
        Assert.Throws<ArgumentException>(() => new BpfBloomFilterMap<uint>(obj.GetMap("queue_map")));
        Assert.Throws<ArgumentException>(() => new BpfStackTraceMap(obj.GetMap("stack_map")));
        Assert.Throws<ArgumentException>(() => new BpfProgramArrayMap(obj.GetMap("array_map")));
        Assert.Throws<ArgumentException>(() => new BpfArrayOfMaps(obj.GetMap("array_map")));
        Assert.Throws<ArgumentException>(() => new BpfHashOfMaps<uint>(obj.GetMap("hash_map")));
        Assert.Throws<ArgumentException>(() => new BpfPerfEventArrayMap(obj.GetMap("ringbuf_map")));
        Assert.Throws<ArgumentException>(() => new BpfRingBufferMap(obj.GetMap("perf_map")));
        Assert.Throws<ArgumentNullException>(() => new BpfHashMap<uint, ulong>(null!));
    }

    [Fact]
    public void SizeMismatchNamesTheMapTheTypeAndBothSizes()
    {
        using var obj = OpenMaps();
        var e = Assert.Throws<ArgumentException>(() => new BpfHashMap<ulong, ulong>(obj.GetMap("hash_map")));
        Assert.Contains("'hash_map'", e.Message);
        Assert.Contains("4-byte keys", e.Message);
        Assert.Contains("UInt64 of 8 bytes", e.Message);

        e = Assert.Throws<ArgumentException>(() => new BpfHashMap<uint, uint>(obj.GetMap("hash_map")));
        Assert.Contains("8-byte values", e.Message);
        Assert.Contains("UInt32 of 4 bytes", e.Message);

        e = Assert.Throws<ArgumentException>(() => new BpfHashMap<uint, ulong>(obj.GetMap("stats_map")));
        Assert.Contains("40-byte values", e.Message);
        _ = new BpfHashMap<uint, Stats>(obj.GetMap("stats_map"));

        Assert.Throws<ArgumentException>(() => new BpfArrayMap<uint>(obj.GetMap("array_map")));
        Assert.Throws<ArgumentException>(() => new BpfPerCpuArrayMap<Triple>(obj.GetMap("percpu_array_map")));
        Assert.Throws<ArgumentException>(() => new BpfLpmTrieMap<uint, uint>(obj.GetMap("lpm_map")));
        Assert.Throws<ArgumentException>(() => new BpfQueueMap<ulong>(obj.GetMap("queue_map")));
        using (var bloom = OpenBloom())
        {
            e = Assert.Throws<ArgumentException>(() => new BpfBloomFilterMap<byte>(bloom.GetMap("bloom_map")));
            Assert.Contains("Byte of 1 bytes", e.Message);
            _ = new BpfBloomFilterMap<uint>(bloom.GetMap("bloom_map"));
        }
        using var mim = BpfObject.Open(TestEnvironment.Bpf("map_in_map"));
        Assert.Throws<ArgumentException>(() => new BpfHashOfMaps<ulong>(mim.GetMap("outer_hash")));
        Assert.Throws<ArgumentException>(() => new BpfArrayOfMaps(mim.GetMap("outer_hash")));
        _ = new BpfHashOfMaps<uint>(mim.GetMap("outer_hash"));
        _ = new BpfArrayOfMaps(mim.GetMap("outer_array"));
    }

    [Fact]
    public void WrappersCanBeMadeBeforeLoadAndWorkAfter()
    {
        TestEnvironment.RequireBpffs();
        string root = "/sys/fs/bpf/ebpf-maps-test-" + Guid.NewGuid().ToString("N").Substring(0, 12);
        System.IO.Directory.CreateDirectory(root);
        try
        {
            using var obj = BpfObject.Open(TestEnvironment.Bpf("maps"), new BpfObjectOptions { PinRoot = root });
            var hash = new BpfHashMap<uint, ulong>(obj.GetMap("hash_map"));
            var e = Assert.Throws<InvalidOperationException>(() => hash[1] = 1);
            Assert.Contains("Load()", e.Message);
            // Sizes can be set on the wrapper before load: the kernel creates the map with them.
            hash.MaxEntries = 77;
            obj.Load();
            hash[1] = 1;
            Assert.Equal(1ul, hash[1]);
            Assert.Equal(77u, hash.MaxEntries);
            using (var fromKernel = BpfMap.FromId(hash.Map.Id))
                Assert.Equal(77u, fromKernel.MaxEntries);
            Assert.Throws<InvalidOperationException>(() => hash.MaxEntries = 78);
            obj.Dispose();
            var disposed = Assert.Throws<ObjectDisposedException>(() => hash[1]);
            Assert.Contains("closed", disposed.Message);
            Assert.Throws<ObjectDisposedException>(() => obj.GetMap("hash_map").MaxEntries = 2);
            Assert.Throws<ObjectDisposedException>(() => obj.GetProgram(obj.Programs[0].Name).Handle);
            Assert.Throws<ObjectDisposedException>(() => hash.MaxEntries = 2);
        }
        finally
        {
            System.IO.Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void EveryMapOfTheObjectHasAWrapper()
    {
        using var obj = OpenMaps();
        BpfMapWrapper[] all =
        {
            new BpfHashMap<uint, ulong>(obj.GetMap("hash_map")),
            new BpfArrayMap<ulong>(obj.GetMap("array_map")),
            new BpfPerCpuHashMap<uint, ulong>(obj.GetMap("percpu_hash_map")),
            new BpfPerCpuArrayMap<ulong>(obj.GetMap("percpu_array_map")),
            new BpfHashMap<uint, ulong>(obj.GetMap("lru_hash_map")),
            new BpfPerCpuHashMap<uint, ulong>(obj.GetMap("lru_percpu_hash_map")),
            new BpfLpmTrieMap<LpmV4Key, uint>(obj.GetMap("lpm_map")),
            new BpfQueueMap<uint>(obj.GetMap("queue_map")),
            new BpfStackMap<uint>(obj.GetMap("stack_map")),
            new BpfStackTraceMap(obj.GetMap("stack_trace_map")),
            new BpfRingBufferMap(obj.GetMap("ringbuf_map")),
            new BpfPerfEventArrayMap(obj.GetMap("perf_map")),
            new BpfHashMap<uint, ulong>(obj.GetMap("pinned_map")),
            new BpfHashMap<uint, Stats>(obj.GetMap("stats_map")),
        };
        foreach (var w in all)
        {
            Assert.Same(obj.GetMap(w.Name), w.Map);
            Assert.Contains(w.Name, w.ToString());
        }
    }
}
