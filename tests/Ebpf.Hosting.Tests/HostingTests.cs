using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Ebpf.Runtime.Tests.Diagnostics;
using Ebpf.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Ebpf.Hosting.Tests;

/// <summary>Tests in this class trigger the metrics object from their own thread; they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostingCollection
{
    public const string Name = "hosting";
}

/// <summary>
/// services.AddBpfSkeleton&lt;MetricsSkeleton&gt;() in a real Generic Host: bpf/metrics.bpf.o's emit program runs on
/// every getpid() of the thread named in its .rodata, puts a sample in a one-page ring buffer and a perf buffer, and
/// counts its runs in .bss.
/// </summary>
[Collection(HostingCollection.Name)]
public sealed class HostingTests : IDisposable
{
    /// <summary>
    /// The thread the object's program listens to: async test code resumes on whatever thread, so every getpid()
    /// that should count is made on this one.
    /// </summary>
    private readonly TriggerThread _trigger = new TriggerThread();

    private void Trigger(int n) => _trigger.GetPid(n);

    /// <summary>A host with the skeleton filtered on the trigger thread, plus whatever <paramref name="more"/> adds.</summary>
    private IHost BuildHost(Action<IServiceCollection>? more = null, Action<BpfSkeletonOptions<MetricsSkeleton>>? options = null, LogSink? logs = null)
    {
        TestEnvironment.RequireRoot();
        TestEnvironment.RequireTracefs();
        uint tid = (uint)_trigger.Tid;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        if (logs != null)
            builder.Logging.AddProvider(logs);
        builder.Services.AddBpfSkeleton<MetricsSkeleton>(o =>
        {
            o.Configure(s => s.Rodata.TargetTid = tid);
            options?.Invoke(o);
        });
        more?.Invoke(builder.Services);
        return builder.Build();
    }

    public void Dispose() => _trigger.Dispose();

    [Fact]
    public async Task StartLoadsAndAttachesWithTheHostsLoggerAndStopUnloads()
    {
        var logs = new LogSink();
        using var host = BuildHost(logs: logs);
        var skeleton = host.Services.GetRequiredService<MetricsSkeleton>(); // asking early loads it (the host would at start)
        Assert.True(skeleton.IsLoaded);
        await host.StartAsync();
        Assert.Same(skeleton, host.Services.GetRequiredService<MetricsSkeleton>());
        var link = Assert.Single(skeleton.Object.Links);
        Assert.Equal("emit", link.Program.Name);
        Assert.True(link.IsAttached);
        Trigger(7);
        Assert.Equal(7UL, skeleton.Bss.Calls);
        // The loader logged through the host's ILoggerFactory, under the skeleton's class name.
        Assert.Contains(logs.Messages, m => m.Category == typeof(MetricsSkeleton).FullName && m.Text.Contains("prog 'emit'", StringComparison.Ordinal));
        Assert.Contains(logs.Messages, m => m.Text.Contains("metrics: loaded 1 programs", StringComparison.Ordinal));

        await host.StopAsync();
        Assert.True(skeleton.Object.IsDisposed);
        Assert.True(link.IsDisposed);
        Assert.False(link.IsAttached);
        Assert.Throws<ObjectDisposedException>(() => host.Services.GetRequiredService<BpfSkeletonHost<MetricsSkeleton>>().Skeleton);
        Assert.Contains(logs.Messages, m => m.Text.Contains("metrics: detached and unloaded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AutoloadAndAttachOptionsAreApplied()
    {
        using var host = BuildHost(options: o =>
        {
            o.Autoload["emit"] = false;
            o.Attach = true;
        });
        await host.StartAsync();
        var skeleton = host.Services.GetRequiredService<MetricsSkeleton>();
        Assert.True(skeleton.IsLoaded);
        Assert.False(skeleton.Object.GetProgram("emit").IsLoaded);
        Assert.Empty(skeleton.Object.Links);
        await host.StopAsync();

        using var loadOnly = BuildHost(options: o => o.Attach = false);
        await loadOnly.StartAsync();
        var s2 = loadOnly.Services.GetRequiredService<MetricsSkeleton>();
        Assert.True(s2.Object.GetProgram("emit").IsLoaded);
        Assert.Empty(s2.Object.Links);
        // attached by hand after load, kept by the object: removed at stop too
        using var hand = BuildHost(options: o =>
        {
            o.Attach = false;
            o.AfterLoad(s => s.Object.AddLink(s.Programs.Emit.Attach()));
        });
        await hand.StartAsync();
        var s3 = hand.Services.GetRequiredService<MetricsSkeleton>();
        var link = Assert.Single(s3.Object.Links);
        Trigger(2);
        Assert.Equal(2UL, s3.Bss.Calls);
        await hand.StopAsync();
        Assert.True(link.IsDisposed);
        await loadOnly.StopAsync();
    }

    [Fact]
    public async Task AFailedLoadFailsTheHostStartWithTheLoadersError()
    {
        var logs = new LogSink();
        // A ring buffer takes no BPF_F_NO_PREALLOC: the kernel refuses to create the map, and the load fails.
        using var host = BuildHost(options: o => o.Configure(s => s.Object.GetMap("small_rb").Flags = BpfMapFlags.NoPrealloc), logs: logs);
        var e = await Assert.ThrowsAnyAsync<BpfException>(() => host.StartAsync());
        Assert.Contains("small_rb", e.Message);
        // the same error again for anyone asking for the skeleton, and nothing is left loaded
        var again = Assert.ThrowsAny<BpfException>(() => host.Services.GetRequiredService<MetricsSkeleton>());
        Assert.Same(e, again);
        Assert.Contains(logs.Messages, m => m.Level == LogLevel.Error && m.Text.Contains("small_rb", StringComparison.Ordinal));
        Assert.False(host.Services.GetRequiredService<BpfSkeletonHost<MetricsSkeleton>>().IsRunning);
    }

    private sealed class SampleCollector : BpfRingBufferService<MetricsSkeleton, MetricsSkeleton.MetricsSample>
    {
        public SampleCollector(MetricsSkeleton skeleton, Channel<MetricsSkeleton.MetricsSample> channel) : base(skeleton) => Channel = channel;

        public Channel<MetricsSkeleton.MetricsSample> Channel { get; }

        protected override BpfRingBufferMap SelectRingBuffer(MetricsSkeleton skeleton) => skeleton.Maps.SmallRb;

        protected override ValueTask HandleAsync(MetricsSkeleton.MetricsSample value, CancellationToken stoppingToken) =>
            Channel.Writer.WriteAsync(value, stoppingToken);
    }

    [Fact]
    public async Task RingBufferServiceStreamsEventsUntilTheHostStopsAndTheMeterCountsThem()
    {
        using var metrics = new EbpfMeasurements("metrics");
        var channel = Channel.CreateUnbounded<MetricsSkeleton.MetricsSample>();
        using var host = BuildHost(services =>
        {
            services.AddSingleton(channel);
            services.AddHostedService<SampleCollector>();
        });
        await host.StartAsync();
        Trigger(10);
        var got = new List<MetricsSkeleton.MetricsSample>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (got.Count < 10)
            got.Add(await channel.Reader.ReadAsync(timeout.Token));
        Assert.All(got, s => Assert.Equal((uint)Environment.ProcessId, s.Tgid));
        await host.StopAsync();
        Assert.Equal(10, metrics.Sum(BpfMetrics.ReaderEvents, v => v.Tag("ebpf.map.name") == "small_rb"));
        Assert.Equal(10 * (64 + 8), metrics.Sum(BpfMetrics.ReaderBytes, v => v.Tag("ebpf.map.name") == "small_rb"));
        Assert.Equal(1, metrics.Sum(BpfMetrics.ObjectLoads));
        Assert.Equal(1, metrics.Sum(BpfMetrics.ProgramAttaches));
    }

    [Fact]
    public async Task PerfBufferConsumerGetsEverySampleWithItsCpu()
    {
        var samples = new ConcurrentQueue<(int Cpu, uint Tgid)>();
        using var host = BuildHost(services => services.AddBpfPerfBufferConsumer<MetricsSkeleton, MetricsSkeleton.MetricsSample>(
            s => s.Maps.Samples, (cpu, e, ct) =>
            {
                samples.Enqueue((cpu, e.Tgid));
                return ValueTask.CompletedTask;
            }));
        await host.StartAsync();
        // The consumer installs its rings when its ExecuteAsync starts; samples before that have nowhere to go.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (samples.IsEmpty && DateTime.UtcNow < deadline)
        {
            Trigger(1);
            SpinWait.SpinUntil(() => !samples.IsEmpty, 50);
        }
        Assert.False(samples.IsEmpty, "the perf buffer consumer never started");
        int before = samples.Count;
        Trigger(12);
        Assert.True(SpinWait.SpinUntil(() => samples.Count >= before + 12, 10_000), $"{samples.Count - before} samples of 12");
        await host.StopAsync();
        Assert.Equal(before + 12, samples.Count);
        Assert.All(samples, s => Assert.InRange(s.Cpu, 0, Environment.ProcessorCount - 1));
    }

    [Fact]
    public async Task HealthCheckReportsAttachedAndDetachedLinks()
    {
        using var host = BuildHost(services => services.AddHealthChecks().AddBpfSkeletonCheck<MetricsSkeleton>());
        var checks = host.Services.GetRequiredService<HealthCheckService>();
        var before = await checks.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("not loaded", before.Entries["ebpf:MetricsSkeleton"].Description);

        await host.StartAsync();
        var up = await checks.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, up.Status);
        var entry = up.Entries["ebpf:MetricsSkeleton"];
        Assert.Equal("metrics: 1 links attached, 0 detached", entry.Description);
        Assert.Equal("attached", entry.Data["link emit → tracepoint syscalls/sys_enter_getpid"]);

        // Someone disposes the link behind the host's back: it leaves the object's links, and the program is no
        // longer attached.
        var skeleton = host.Services.GetRequiredService<MetricsSkeleton>();
        skeleton.Object.Links.Single().Dispose();
        Assert.Empty(skeleton.Object.Links);
        var down = await checks.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        entry = down.Entries["ebpf:MetricsSkeleton"];
        Assert.False(entry.Data.ContainsKey("link emit → tracepoint syscalls/sys_enter_getpid"));
        Assert.Equal("not attached", entry.Data["program emit"]);
        Assert.Contains("not attached: emit", entry.Description);

        await host.StopAsync();
        Assert.Equal(HealthStatus.Unhealthy, (await checks.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task RunStatisticsAreOnWhileTheSkeletonLives()
    {
        using var metrics = new EbpfMeasurements("metrics");
        bool sysctl = BpfRunStatistics.IsCollecting;
        using var host = BuildHost(options: o => o.EnableRunStatistics = true);
        await host.StartAsync();
        Assert.True(BpfRunStatistics.IsCollecting);
        Trigger(5);
        var stats = host.Services.GetRequiredService<MetricsSkeleton>().Programs.Emit.Program.GetRunStatistics();
        Assert.True(stats.RunCount >= 5);
        metrics.Observe();
        Assert.Contains(metrics.Of(BpfMetrics.ProgramRunCount), v => v.Tag("ebpf.program.name") == "emit" && v.Value >= 5);
        await host.StopAsync();
        Assert.Equal(sysctl, BpfRunStatistics.IsCollecting);
    }
}

/// <summary>A thread that calls getpid() on request, so that a program filtering on its thread id sees only those calls.</summary>
public sealed class TriggerThread : IDisposable
{
    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [DllImport("libc", EntryPoint = "getpid")]
    private static extern int SysGetPid();

    private readonly System.Collections.Concurrent.BlockingCollection<(int Count, TaskCompletionSource Done)> _work = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource<int> _tid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

    public TriggerThread()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "getpid trigger" };
        _thread.Start();
    }

    /// <summary>The thread's id (what the kernel calls its pid).</summary>
    public int Tid => _tid.Task.GetAwaiter().GetResult();

    /// <summary>Calls getpid() <paramref name="n"/> times on the thread and returns when done.</summary>
    public void GetPid(int n)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add((n, done));
        done.Task.GetAwaiter().GetResult();
    }

    private void Run()
    {
        _tid.SetResult(GetTid());
        foreach (var (count, done) in _work.GetConsumingEnumerable())
        {
            for (int i = 0; i < count; i++) SysGetPid();
            done.SetResult();
        }
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join();
    }
}

/// <summary>Keeps every log message the host's loggers receive.</summary>
public sealed class LogSink : ILoggerProvider
{
    public sealed record Entry(string Category, LogLevel Level, string Text);

    private readonly ConcurrentQueue<Entry> _messages = new ConcurrentQueue<Entry>();

    public IReadOnlyCollection<Entry> Messages => _messages.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger : ILogger
    {
        private readonly LogSink _sink;
        private readonly string _category;

        public Logger(LogSink sink, string category)
        {
            _sink = sink;
            _category = category;
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _sink._messages.Enqueue(new Entry(_category, logLevel, formatter(state, exception)));
    }
}
