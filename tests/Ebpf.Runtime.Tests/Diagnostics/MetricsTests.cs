using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Ebpf.Runtime.Tests.Attach;
using Ebpf.Tests;
using Xunit;
using static Ebpf.Runtime.Tests.Attach.AttachSupport;
using static Ebpf.Runtime.Tests.KernelSupport;

namespace Ebpf.Runtime.Tests.Diagnostics;

/// <summary>
/// The "Ebpf" meter against real events: bpf/metrics.bpf.o emits one 64-byte sample per getpid() of this test's
/// thread into a one-page ring buffer (counting what does not fit in small_rb_dropped) and a perf buffer; the
/// readers' counters must add up to what the program saw.
/// </summary>
[Collection(KernelEventsCollection.Name)]
public class MetricsTests
{
    private const int SampleSize = 64;
    private const int RingRecord = SampleSize + 8;            // record + ring-buffer header, 8-byte aligned
    private const int PerfRecord = (8 + 4 + SampleSize + 7) & ~7; // perf_event_header + raw size + data, 8-byte aligned
    private const int LostRecord = 24;                        // PERF_RECORD_LOST: header, id, lost

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    private static BpfObject LoadForThisThread()
    {
        TestEnvironment.RequireTracefs();
        int tid = GetTid();
        return Load("metrics", o => SetRodata(o, "target_tid", (uint)tid));
    }

    private static void Trigger(int n)
    {
        for (int i = 0; i < n; i++) GetPid();
    }

    [Fact]
    public void RingBufferReaderCountsEventsBytesAndTheDropsTheProgramCounted()
    {
        using var metrics = new EbpfMeasurements("metrics");
        using var obj = LoadForThisThread();
        using var reader = new RingBufferReader(obj.GetMap("small_rb"));
        Assert.Equal("small_rb_dropped", reader.DropCounter);
        obj.Attach();

        // 100 samples into a 4096-byte ring nobody drains: 56 fit, the program counts the rest as dropped.
        Trigger(100);
        Assert.Equal(100UL, Global<ulong>(obj, "calls"));
        ulong dropped = reader.DroppedRecords;
        Assert.Equal(dropped, Global<ulong>(obj, "small_rb_dropped"));
        int seen = reader.Consume(data => Assert.Equal(SampleSize, data.Length));
        Assert.Equal(4096 / RingRecord, seen);
        Assert.Equal(100UL, (ulong)seen + dropped);

        Assert.Equal(seen, metrics.Sum(BpfMetrics.ReaderEvents));
        Assert.Equal(seen * RingRecord, metrics.Sum(BpfMetrics.ReaderBytes));
        Assert.Equal((long)dropped, metrics.Sum(BpfMetrics.ReaderLost));
        var tagged = metrics.Of(BpfMetrics.ReaderEvents).Single();
        Assert.Equal("small_rb", tagged.Tag("ebpf.map.name"));
        Assert.Equal("ring_buffer", tagged.Tag("ebpf.reader.type"));

        // Poll and the typed async stream count too; the drop counter is reported by its growth only.
        metrics.Clear();
        Trigger(10);
        Assert.Equal(10, reader.Poll(data => { }, TimeSpan.FromSeconds(1)));
        Assert.Equal(10, metrics.Sum(BpfMetrics.ReaderEvents));
        Assert.Equal(10 * RingRecord, metrics.Sum(BpfMetrics.ReaderBytes));
        Assert.Equal(0, metrics.Sum(BpfMetrics.ReaderLost));
    }

    [Fact]
    public async Task AsyncStreamCountsOneDrainPerBurst()
    {
        using var metrics = new EbpfMeasurements("metrics");
        using var obj = LoadForThisThread();
        using var reader = new RingBufferReader(obj.GetMap("small_rb"));
        obj.Attach();
        Trigger(20);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n = 0;
        await foreach (var s in reader.ReadAllAsync<Sample>(cts.Token))
        {
            Assert.Equal((uint)Environment.ProcessId, s.Tgid);
            if (++n == 20) break;
        }
        Assert.Equal(20, n);
        // The burst is counted when the ring runs empty (the next read finds nothing) or the enumeration ends.
        Assert.Equal(20, metrics.Sum(BpfMetrics.ReaderEvents));
        Assert.Equal(20 * RingRecord, metrics.Sum(BpfMetrics.ReaderBytes));
    }

    /// <summary>struct metrics_sample: tgid, seq and 56 bytes of payload.</summary>
    [StructLayout(LayoutKind.Sequential, Size = SampleSize)]
    public struct Sample
    {
        public uint Tgid;
        public uint Seq;
    }

    [Fact]
    public void PerfBufferReaderCountsSamplesBytesAndLostSamples()
    {
        using var metrics = new EbpfMeasurements("metrics");
        using var obj = LoadForThisThread();
        // One page per CPU (51 samples of 80 bytes); the thread stays on one CPU so that its ring overflows and
        // the kernel's lost-sample record lands in that same ring.
        using var reader = new PerfBufferReader(obj.GetMap("samples"), pagesPerCpu: 1);
        int lostRecords = 0;
        reader.LostCallback = (cpu, lost) => lostRecords++;
        obj.Attach();
        int seen;
        using (new OneCpu())
        {
            Trigger(120);
            seen = reader.Consume((cpu, data) => Assert.Equal(PerfRecord - 12, data.Length)); // the kernel pads raw data to 8 bytes with its size
            Trigger(1); // the kernel writes the lost record before the next sample that fits
            seen += reader.Consume((cpu, data) => { });
        }
        Assert.Equal(121UL, Global<ulong>(obj, "calls"));
        Assert.True(reader.LostSamples > 0, "one page per CPU must overflow with 120 samples");
        Assert.Equal(121, seen + reader.LostSamples);

        Assert.Equal(seen, metrics.Sum(BpfMetrics.ReaderEvents));
        Assert.Equal(reader.LostSamples, metrics.Sum(BpfMetrics.ReaderLost));
        Assert.Equal((long)seen * PerfRecord + lostRecords * LostRecord, metrics.Sum(BpfMetrics.ReaderBytes));
        Assert.All(metrics.Of(BpfMetrics.ReaderEvents), v => Assert.Equal("perf_buffer", v.Tag("ebpf.reader.type")));
    }


    [Fact]
    public void ProgramRunStatisticsAreObservedOnlyWhileOn()
    {
        using var metrics = new EbpfMeasurements("metrics");
        using var obj = LoadForThisThread();
        obj.Attach();
        if (!BpfRunStatistics.IsCollecting)
        {
            Trigger(5);
            metrics.Observe();
            Assert.Empty(metrics.Of(BpfMetrics.ProgramRunCount));
            Assert.Equal(0UL, obj.GetProgram("emit").GetRunStatistics().RunCount);
        }
        using (var stats = OrSkip(BpfRunStatistics.Enable))
        {
            Assert.True(BpfRunStatistics.IsCollecting);
            Trigger(10);
            var direct = obj.GetProgram("emit").GetRunStatistics();
            Assert.True(direct.RunCount >= 10, $"run count {direct.RunCount} after 10 calls");
            Assert.True(direct.RunTimeNs > 0);
            metrics.Observe();
            var count = metrics.Of(BpfMetrics.ProgramRunCount).Single(v => v.Tag("ebpf.program.name") == "emit");
            Assert.True(count.Value >= 10);
            var time = metrics.Of(BpfMetrics.ProgramRunTime).Single(v => v.Tag("ebpf.program.name") == "emit");
            Assert.True(time.Value > 0 && time.Value < 1, $"run time {time.Value} s");
        }
    }

    [Fact]
    public void LoadsAndAttachesAreCountedWithTheirFailures()
    {
        using var metrics = new EbpfMeasurements("metrics");
        using (var obj = LoadForThisThread())
        {
            obj.Attach();
        }
        var load = metrics.Of(BpfMetrics.ObjectLoads).Single();
        Assert.Equal(1, load.Value);
        Assert.Null(load.Tag("error.type"));
        Assert.Single(metrics.Of(BpfMetrics.ObjectLoadDuration));
        var attach = metrics.Of(BpfMetrics.ProgramAttaches).Single();
        Assert.Equal("emit", attach.Tag("ebpf.program.name"));
        Assert.Equal("tracepoint", attach.Tag("ebpf.program.kind"));
        Assert.Null(attach.Tag("error.type"));

        // A load the verifier refuses is counted with its error type.
        using var failures = new EbpfMeasurements("verifier_reject");
        using var bad = BpfObject.Open(TestEnvironment.Bpf("verifier_reject"));
        var e = Assert.ThrowsAny<BpfException>(bad.Load);
        var failed = failures.Of(BpfMetrics.ObjectLoads).Single();
        Assert.Equal(e.GetType().Name, failed.Tag("error.type"));
    }
}
