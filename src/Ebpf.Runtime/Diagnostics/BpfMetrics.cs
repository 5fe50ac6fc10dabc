using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace Ebpf;

/// <summary>
/// The runtime's metrics: one <see cref="Meter"/> named <see cref="MeterName"/> ("Ebpf") with instruments named in
/// the OpenTelemetry style. <c>dotnet-counters monitor --counters Ebpf</c> and an OpenTelemetry
/// <c>AddMeter("Ebpf")</c> see them without code. While no listener has enabled an instrument, the readers and the
/// loader skip it: no tag list is built and no position is read.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>ebpf.reader.events</c> ({event})</term><description>records a ring-buffer or perf-buffer reader handed to the application; tags <c>ebpf.object.name</c>, <c>ebpf.map.name</c>, <c>ebpf.reader.type</c> (<c>ring_buffer</c> or <c>perf_buffer</c>).</description></item>
/// <item><term><c>ebpf.reader.bytes</c> (By)</term><description>bytes the reader consumed from the buffer, record headers included (a ring buffer's consumer position, a perf buffer's tail); same tags.</description></item>
/// <item><term><c>ebpf.reader.lost</c> ({event})</term><description>events that never reached the reader: the kernel's lost-sample records of a perf buffer, and for a ring buffer the drops the program counts in a global variable (<see cref="RingBufferReader.DropCounter"/>); same tags.</description></item>
/// <item><term><c>ebpf.program.run.count</c> ({run})</term><description>times each loaded program ran (the kernel's run_cnt); only while run statistics are on (<see cref="BpfRunStatistics.Enable()"/>, or the sysctl kernel.bpf_stats_enabled); tags <c>ebpf.object.name</c>, <c>ebpf.program.name</c>.</description></item>
/// <item><term><c>ebpf.program.run.time</c> (s)</term><description>time each loaded program ran (run_time_ns), under the same condition and tags.</description></item>
/// <item><term><c>ebpf.object.loads</c> ({load})</term><description>object loads; a failed one carries <c>error.type</c> (the exception's type name); tag <c>ebpf.object.name</c>.</description></item>
/// <item><term><c>ebpf.object.load.duration</c> (s)</term><description>how long each load took (CO-RE, maps, programs), failed ones with <c>error.type</c>.</description></item>
/// <item><term><c>ebpf.program.attaches</c> ({attach})</term><description>links made; a failed attach carries <c>error.type</c>; tags <c>ebpf.object.name</c>, <c>ebpf.program.name</c>, <c>ebpf.program.kind</c>.</description></item>
/// </list>
/// </remarks>
public static class BpfMetrics
{
    /// <summary>Name of the runtime's <see cref="Meter"/>.</summary>
    public const string MeterName = "Ebpf";

    /// <summary>Records handed to the application by a reader.</summary>
    public const string ReaderEvents = "ebpf.reader.events";
    /// <summary>Bytes consumed by a reader, record headers included.</summary>
    public const string ReaderBytes = "ebpf.reader.bytes";
    /// <summary>Events lost before a reader saw them (perf-buffer lost samples, ring-buffer drops the program counts).</summary>
    public const string ReaderLost = "ebpf.reader.lost";
    /// <summary>Program runs (kernel run_cnt), while run statistics are on.</summary>
    public const string ProgramRunCount = "ebpf.program.run.count";
    /// <summary>Program run time in seconds (kernel run_time_ns), while run statistics are on.</summary>
    public const string ProgramRunTime = "ebpf.program.run.time";
    /// <summary>Object loads, failures tagged with <c>error.type</c>.</summary>
    public const string ObjectLoads = "ebpf.object.loads";
    /// <summary>Duration of object loads in seconds.</summary>
    public const string ObjectLoadDuration = "ebpf.object.load.duration";
    /// <summary>Attaches, failures tagged with <c>error.type</c>.</summary>
    public const string ProgramAttaches = "ebpf.program.attaches";

    internal const string ObjectTag = "ebpf.object.name";
    internal const string MapTag = "ebpf.map.name";
    internal const string ProgramTag = "ebpf.program.name";
    internal const string ProgramKindTag = "ebpf.program.kind";
    internal const string ReaderTypeTag = "ebpf.reader.type";
    internal const string ErrorTypeTag = "error.type";

    internal static readonly Meter Meter = new Meter(MeterName, typeof(BpfMetrics).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Events = Meter.CreateCounter<long>(ReaderEvents, "{event}", "Records a ring-buffer or perf-buffer reader handed to the application");
    internal static readonly Counter<long> Bytes = Meter.CreateCounter<long>(ReaderBytes, "By", "Bytes a reader consumed from its buffer, record headers included");
    internal static readonly Counter<long> Lost = Meter.CreateCounter<long>(ReaderLost, "{event}", "Events lost before the reader saw them: perf-buffer lost samples, ring-buffer drops counted by the program");
    internal static readonly Counter<long> Loads = Meter.CreateCounter<long>(ObjectLoads, "{load}", "BPF object loads (failed ones carry error.type)");
    internal static readonly Histogram<double> LoadDuration = Meter.CreateHistogram<double>(ObjectLoadDuration, "s", "Duration of BPF object loads");
    internal static readonly Counter<long> Attaches = Meter.CreateCounter<long>(ProgramAttaches, "{attach}", "BPF program attaches (failed ones carry error.type)");

    static BpfMetrics()
    {
        Meter.CreateObservableCounter(ProgramRunCount, ObserveRunCounts, "{run}", "Times each loaded BPF program ran (kernel run_cnt; needs run statistics on)");
        Meter.CreateObservableCounter(ProgramRunTime, ObserveRunTimes, "s", "Time each loaded BPF program ran (kernel run_time_ns; needs run statistics on)");
    }

    /// <summary>Whether any reader instrument is listened to: the readers' per-drain work is skipped otherwise.</summary>
    internal static bool ReadersObserved => Events.Enabled || Bytes.Enabled || Lost.Enabled;

    // ------------------------------------------------------------------ load and attach

    internal static void ObjectLoaded(BpfObject obj, long startTimestamp, Exception? error)
    {
        bool count = Loads.Enabled, time = LoadDuration.Enabled;
        if (!count && !time)
            return;
        var tags = new System.Diagnostics.TagList { { ObjectTag, obj.Name } };
        if (error != null)
            tags.Add(ErrorTypeTag, error.GetType().Name);
        if (count)
            Loads.Add(1, tags);
        if (time)
            LoadDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
    }

    internal static void Attached(BpfProgram program, Exception? error)
    {
        if (!Attaches.Enabled)
            return;
        var tags = new System.Diagnostics.TagList
        {
            { ObjectTag, program.Object?.Name ?? string.Empty },
            { ProgramTag, program.Name },
            { ProgramKindTag, KindName(program.Kind) },
        };
        if (error != null)
            tags.Add(ErrorTypeTag, error.GetType().Name);
        Attaches.Add(1, tags);
    }

    private static string KindName(ProgramKind kind) => kind == ProgramKind.None ? "none" : kind.ToString().ToLowerInvariant();

    // ------------------------------------------------------------------ program run statistics

    private static IEnumerable<Measurement<long>> ObserveRunCounts()
    {
        var result = new List<Measurement<long>>();
        foreach (var (program, stats) in RunStatistics())
            result.Add(new Measurement<long>((long)stats.RunCount, ProgramTags(program)));
        return result;
    }

    private static IEnumerable<Measurement<double>> ObserveRunTimes()
    {
        var result = new List<Measurement<double>>();
        foreach (var (program, stats) in RunStatistics())
            result.Add(new Measurement<double>(stats.RunTimeNs / 1e9, ProgramTags(program)));
        return result;
    }

    private static KeyValuePair<string, object?>[] ProgramTags(BpfProgram p) => new[]
    {
        new KeyValuePair<string, object?>(ObjectTag, p.Object?.Name),
        new KeyValuePair<string, object?>(ProgramTag, p.Name),
    };

    /// <summary>The run statistics of every loaded program of every loaded object, when the kernel collects them.</summary>
    private static List<(BpfProgram, BpfProgramRunStatistics)> RunStatistics()
    {
        var list = new List<(BpfProgram, BpfProgramRunStatistics)>();
        if (!BpfRunStatistics.IsCollecting)
            return list;
        foreach (var obj in LoadedObjects.Snapshot())
        {
            foreach (var p in obj.Programs)
            {
                if (!p.IsLoaded) continue;
                try
                {
                    list.Add((p, p.GetRunStatistics()));
                }
                catch (ObjectDisposedException)
                {
                    // closed while we looked
                }
                catch (InvalidOperationException)
                {
                }
                catch (BpfException)
                {
                }
            }
        }
        return list;
    }
}

/// <summary>The objects loaded and not disposed yet, for the observable instruments.</summary>
internal static class LoadedObjects
{
    private static readonly List<BpfObject> s_objects = new List<BpfObject>();

    public static void Add(BpfObject obj)
    {
        lock (s_objects) s_objects.Add(obj);
    }

    public static void Remove(BpfObject obj)
    {
        lock (s_objects) s_objects.Remove(obj);
    }

    public static BpfObject[] Snapshot()
    {
        lock (s_objects) return s_objects.ToArray();
    }
}
