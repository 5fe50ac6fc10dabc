using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;

namespace Ebpf.Runtime.Tests.Events;

[StructLayout(LayoutKind.Sequential)]
public struct MapSample
{
    public uint Tgid;
    public uint Seq;
}

/// <summary>
/// The perf buffer reader against perfbuf.bpf.o's samples map, fed one sample per getpid() of the test's own thread
/// (a perf event array and a tracepoint are all it needs).
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class PerfBufferReaderTests
{
    private static readonly uint Me = (uint)Environment.ProcessId;

    /// <summary>perfbuf.bpf.o loaded (not attached: readers install their rings first), sampling this thread's getpid().</summary>
    private static BpfObject LoadSampler()
    {
        TestEnvironment.RequireTracefs();
        var obj = KernelSupport.LoadOrSkip("perfbuf");
        var bss = obj.GetDataSection(".bss");
        bss.Write(Off(bss, "target_tid"), (uint)KernelSupport.GetTid());
        return obj;
    }

    [Fact]
    public void EverySampleOfEveryCpuArrives()
    {
        using var obj = LoadSampler();
        using var reader = new BpfPerfEventArrayMap(obj.GetMap("samples")).CreateReader(pagesPerCpu: 8);
        Assert.Equal(Environment.ProcessorCount, reader.Cpus.Count);
        obj.Attach(); // after the reader: sample_getpid outputs to the perf events it installed
        for (int i = 0; i < 50; i++) GetPid();
        obj.Detach();
        int ours = 0;
        uint lastSeq = 0;
        int n = reader.Consume((int cpu, ReadOnlySpan<byte> data) =>
        {
            Assert.InRange(cpu, 0, Environment.ProcessorCount - 1);
            Assert.True(data.Length >= 8);
            var s = MemoryMarshal.Read<MapSample>(data);
            if (s.Tgid != Me) return;
            ours++;
            Assert.True(s.Seq > lastSeq || s.Seq == 1); // per-tgid call counter
            lastSeq = s.Seq;
        });
        Assert.Equal(50, ours);
        Assert.True(n >= 50);
        Assert.Equal(0L, reader.LostSamples);
        Assert.Equal(0, reader.Consume((int _, ReadOnlySpan<byte> _) => { }));
    }

    // Synchronous on purpose: the sampler counts this thread's getpid() calls, and an await while it is attached would
    // hand the thread to other tests (whose getpid() calls would then count as ours: 21 of 20 in an arm64 guest).
    [Fact]
    public void TypedSamplesAndPolling()
    {
        using var obj = LoadSampler();
        using var reader = new PerfBufferReader(obj.GetMap("samples"), pagesPerCpu: 4);
        obj.Attach();
        try
        {
            int ours = 0;
            var poller = Task.Run(() =>
            {
                while (Volatile.Read(ref ours) < 20)
                    reader.Poll((int cpu, ref readonly MapSample s) => { if (s.Tgid == Me) ours++; }, TimeSpan.FromSeconds(5));
            });
            Thread.Sleep(50);
            for (int i = 0; i < 20; i++) GetPid();
            Assert.True(SpinWait.SpinUntil(() => poller.IsCompleted, 10_000), "the poller did not see 20 samples within 10 s");
            Assert.True(poller.IsCompletedSuccessfully, poller.Exception?.ToString());
            Assert.Equal(20, ours);
        }
        finally
        {
            obj.Detach();
        }
    }

    [Fact]
    public void LostSamplesAreCountedAndReported()
    {
        using var obj = LoadSampler();
        using var reader = new PerfBufferReader(obj.GetMap("samples"), pagesPerCpu: 1);
        long reported = 0;
        reader.LostCallback = (cpu, lost) => reported += (long)lost;
        const int calls = 3000; // 1 page holds ~170 samples of 24 bytes
        int ours = 0;
        PerfBufferCallback count = (int _, ReadOnlySpan<byte> d) => { if (MemoryMarshal.Read<MapSample>(d).Tgid == Me) ours++; };
        // On one CPU: its ring overflows, and the next sample (the last getpid) brings the lost-sample record into it.
        using (new OneCpu())
        {
            obj.Attach();
            for (int i = 0; i < calls; i++) GetPid();
            reader.Consume(count);
            // the kernel writes its PERF_RECORD_LOST once there is room again, before the next sample
            GetPid();
            obj.Detach();
        }
        reader.Consume(count);
        Assert.True(reader.LostSamples > 0, $"nothing was lost from a one-page ring ({ours} of ours received)");
        Assert.Equal(reader.LostSamples, reported);
        Assert.True(ours < calls + 1);
        Assert.True(ours + reader.LostSamples >= calls + 1, $"{ours} received + {reader.LostSamples} lost < {calls + 1}");
    }

    [Fact]
    public async Task AsyncStreamAndDispose()
    {
        using var obj = LoadSampler();
        var reader = new PerfBufferReader(obj.GetMap("samples"));
        obj.Attach();
        try
        {
            using var cts = new CancellationTokenSource(10_000);
            var consumer = Task.Run(async () =>
            {
                int n = 0;
                await foreach (var (cpu, s) in reader.ReadAllAsync<MapSample>(cts.Token))
                    if (s.Tgid == Me && ++n == 10) break;
                return n;
            });
            for (int i = 0; i < 10; i++) GetPid();
            Assert.Equal(10, await consumer);

            // Dispose ends a waiting stream, removes the rings from the map and unblocks Poll
            var waiting = Task.Run(async () =>
            {
                await foreach (var _ in reader.ReadAllAsync<MapSample>()) { }
            });
            var poll = Task.Run(() => reader.Poll((int _, ReadOnlySpan<byte> _) => { }));
            await Task.Delay(100);
            obj.Detach();
            reader.Dispose();
            Assert.True(await RingBufferReaderTests.Within(waiting, 5000));
            Assert.True(await RingBufferReaderTests.Within(poll, 5000));
            var fd = new byte[4];
            Assert.False(obj.GetMap("samples").Delete(new byte[4])); // slot emptied
        }
        finally
        {
            obj.Detach();
            reader.Dispose();
        }
    }
}
