using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using Ebpf.Tests;
using Xunit;

namespace Ebpf.Runtime.Tests.Maps;

/// <summary>BpfLpmTrieMap, BpfQueueMap, BpfStackMap, BpfBloomFilterMap.</summary>
public class KeylessAndTrieMapTests
{
    [Fact]
    public void LpmTrieFindsTheLongestPrefix()
    {
        using var m = LoadedMaps.Load();
        var lpm = new BpfLpmTrieMap<LpmV4Key, uint>(m["lpm_map"]);
        lpm.Update(LpmV4Key.Of("10.0.0.0/8"), 8);
        lpm.Update(LpmV4Key.Of("10.1.0.0/16"), 16);
        lpm.Update(LpmV4Key.Of("10.1.2.0/24"), 24);
        Assert.True(lpm.TryAdd(LpmV4Key.Of("192.168.0.0/16"), 100));
        Assert.False(lpm.TryAdd(LpmV4Key.Of("192.168.0.0/16"), 101));

        Assert.True(lpm.TryMatch(LpmV4Key.Of("10.1.2.3"), out uint v));
        Assert.Equal(24u, v);
        Assert.Equal(16u, lpm.Lookup(LpmV4Key.Of("10.1.9.9")));
        Assert.Equal(8u, lpm[LpmV4Key.Of("10.9.9.9")]);
        Assert.Equal(100u, lpm[LpmV4Key.Of("192.168.255.1")]);
        Assert.False(lpm.TryMatch(LpmV4Key.Of("11.0.0.1"), out _));

        // Delete is exact: deleting 10.1.0.0/16 makes 10.1.9.9 fall back to /8.
        Assert.False(lpm.Delete(LpmV4Key.Of("10.1.0.0/17")));
        Assert.True(lpm.Delete(LpmV4Key.Of("10.1.0.0/16")));
        Assert.Equal(8u, lpm[LpmV4Key.Of("10.1.9.9")]);
        Assert.Equal(24u, lpm[LpmV4Key.Of("10.1.2.200")]);

        var prefixes = lpm.Keys.ToArray().Select(k => k.PrefixLen).OrderBy(p => p).ToArray();
        Assert.Equal(new uint[] { 8, 16, 24 }, prefixes);
        Assert.Equal(3, lpm.Count);

        // Batch lookup of a trie is the kernel's generic one (Linux 5.16+), with key-sized cursor tokens.
        var kbuf = new LpmV4Key[2];
        var vbuf = new uint[2];
        var cursor = new BpfBatchCursor();
        int total = 0, n;
        while ((n = lpm.LookupBatch(kbuf, vbuf, ref cursor)) > 0)
        {
            for (int i = 0; i < n; i++) Assert.Equal(kbuf[i].PrefixLen == 16 ? 100u : kbuf[i].PrefixLen, vbuf[i]);
            total += n;
        }
        Assert.Equal(3, total);

        Assert.Equal(2, lpm.UpdateBatch(new[] { LpmV4Key.Of("172.16.0.0/12"), LpmV4Key.Of("172.16.5.0/24") }, new uint[] { 12, 24 }));
        Assert.Equal(12u, lpm[LpmV4Key.Of("172.20.0.1")]);
        Assert.Equal(2, lpm.DeleteBatch(new[] { LpmV4Key.Of("172.16.0.0/12"), LpmV4Key.Of("1.0.0.0/8"), LpmV4Key.Of("172.16.5.0/24") }));

        cursor = default;
        total = 0;
        while ((n = lpm.LookupAndDeleteBatch(kbuf, vbuf, ref cursor)) > 0) total += n;
        // No kernel has BPF_MAP_LOOKUP_AND_DELETE_BATCH for tries: the wrapper drains it element by element.
        Assert.True(cursor.IsEmulated);
        Assert.Equal(3, total);
        Assert.Equal(0, lpm.Count);
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct LpmV6Key
    {
        public uint PrefixLen;
        public fixed byte Addr[16];

        public static LpmV6Key Of(string cidr)
        {
            var parts = cidr.Split('/');
            var k = new LpmV6Key { PrefixLen = uint.Parse(parts[1]) };
            var ip = System.Net.IPAddress.Parse(parts[0]).GetAddressBytes();
            for (int i = 0; i < 16; i++) k.Addr[i] = ip[i];
            return k;
        }
    }

    [Fact]
    public void LpmTrieWithKeysLongerThanACursorWord()
    {
        TestEnvironment.RequireRoot();
        // 20-byte keys: the generic batch code's cursor token is key-sized.
        using var map = MapTestSupport.CreateMap("lpm_v6", BpfMapType.LpmTrie, 20, 8, 512, flags: BpfMapFlags.NoPrealloc);
        var lpm = new BpfLpmTrieMap<LpmV6Key, ulong>(map);
        var keys = Enumerable.Range(0, 300).Select(i => LpmV6Key.Of($"2001:db8:{i:x}::/48")).ToArray();
        var values = Enumerable.Range(0, 300).Select(i => (ulong)i).ToArray();
        Assert.Equal(300, lpm.UpdateBatch(keys, values));
        Assert.Equal(42ul, lpm[LpmV6Key.Of("2001:db8:2a:1::1/128")]);

        var kbuf = new LpmV6Key[7];
        var vbuf = new ulong[7];
        var cursor = new BpfBatchCursor();
        var seen = new HashSet<ulong>();
        int n;
        while ((n = lpm.LookupBatch(kbuf, vbuf, ref cursor)) > 0)
            for (int i = 0; i < n; i++) Assert.True(seen.Add(vbuf[i]));
        Assert.Equal(300, seen.Count);
        Assert.Equal(150, lpm.DeleteBatch(keys.AsSpan(0, 150)));
        Assert.Equal(150, lpm.Count);
    }

    [Fact]
    public void QueueIsFirstInFirstOut()
    {
        using var m = LoadedMaps.Load();
        var q = new BpfQueueMap<uint>(m["queue_map"]);
        Assert.False(q.TryPop(out _));
        Assert.False(q.TryPeek(out _));
        var e = Assert.Throws<InvalidOperationException>(() => q.Pop());
        Assert.Contains("queue_map", e.Message);
        Assert.Contains("empty", e.Message);

        for (uint i = 1; i <= 16; i++) q.Push(i);
        Assert.False(q.TryPush(17));
        var full = Assert.Throws<BpfSyscallException>(() => q.Push(17));
        Assert.Equal(Errno.E2BIG, full.Errno);
        q.Push(17, BpfMapUpdateFlags.Exist); // drops the oldest (1)

        Assert.Equal(2u, q.Peek());
        Assert.True(q.TryPeek(out uint p));
        Assert.Equal(2u, p);
        for (uint i = 2; i <= 17; i++) Assert.Equal(i, q.Pop());
        Assert.False(q.TryPop(out _));

        q.Push(5);
        q.Push(6);
        Assert.Equal(2, q.Clear());
        Assert.False(q.TryPeek(out _));
    }

    [Fact]
    public void StackIsLastInFirstOut()
    {
        using var m = LoadedMaps.Load();
        var s = new BpfStackMap<uint>(m["stack_map"]);
        Assert.False(s.TryPop(out _));
        for (uint i = 1; i <= 3; i++) s.Push(i);
        Assert.Equal(3u, s.Peek());
        Assert.True(s.TryPop(out uint v));
        Assert.Equal(3u, v);
        Assert.Equal(2u, s.Pop());
        Assert.Equal(1u, s.Pop());
        Assert.False(s.TryPeek(out _));
        Assert.Throws<InvalidOperationException>(() => s.Peek());

        for (uint i = 0; i < 16; i++) Assert.True(s.TryPush(i));
        Assert.False(s.TryPush(99));
        s.Push(99, BpfMapUpdateFlags.Exist); // drops the bottom (0)
        Assert.Equal(99u, s.Pop());
        Assert.Equal(15, s.Clear());
    }

    /// <summary>maps_bloom.bpf.o: the bloom filter (Linux 5.16) has an object of its own.</summary>
    [Fact]
    public void BloomFilterHasNoFalseNegatives()
    {
        TestEnvironment.RequireRoot();
        using var obj = KernelSupport.LoadOrSkip("maps_bloom");
        var bloom = new BpfBloomFilterMap<uint>(obj.GetMap("bloom_map"));
        Assert.Equal(3, bloom.HashFunctions);
        Assert.False(bloom.Contains(1));
        for (uint i = 1; i <= 20; i++) bloom.Add(i);
        for (uint i = 1; i <= 20; i++) Assert.True(bloom.Contains(i));
        int absent = Enumerable.Range(1000, 100).Count(i => !bloom.Contains((uint)i));
        Assert.InRange(absent, 90, 100); // false positives are possible, but rare at this load
    }

    [Fact]
    public void AProgramPushesToTheBloomFilterAndPeeksAtIt()
    {
        TestEnvironment.RequireTracefs();
        using var obj = KernelSupport.LoadOrSkip("maps_bloom");
        var bloom = new BpfBloomFilterMap<uint>(obj.GetMap("bloom_map"));
        uint pid = (uint)Environment.ProcessId;
        Assert.False(bloom.Contains(pid));
        using (obj.GetProgram("remember_caller").Attach())
        {
            for (int i = 0; i < 3; i++) MapTestSupport.GetPid();
        }
        Assert.True(bloom.Contains(pid));
        var bss = obj.GetDataSection(".bss");
        Assert.True(bss.Read<ulong>((int)bss.FindVariable("calls")!.Offset) >= 3);
        Assert.True(bss.Read<ulong>((int)bss.FindVariable("added")!.Offset) >= 1);
    }
}
