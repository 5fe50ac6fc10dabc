using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Ebpf;
using Ebpf.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ExecSnoop;

/// <summary>
/// execsnoop-hosted: execsnoop as a Generic Host application. <c>AddBpfSkeleton</c> opens the skeleton, sets its
/// read-only globals, loads and attaches it before the hosted services start, and detaches and unloads it when the
/// host stops (Ctrl-C, SIGTERM or --duration); <see cref="EventPrinter"/> streams the ring buffer. The runtime's
/// meter "Ebpf" reports events, bytes, drops, loads and attaches, and with --run-stats the programs' run count and
/// run time: <c>dotnet-counters monitor -n execsnoop-hosted --counters Ebpf</c>.
/// </summary>
internal static class HostedProgram
{
    private static async Task<int> Main(string[] args)
    {
        // --run-stats: BPF_ENABLE_STATS while the host runs (the kernel then times every run of every program).
        bool runStatistics = args.Contains("--run-stats");
        var options = Options.Parse(args.Where(a => a != "--run-stats").ToArray(), Console.Error, out int usageExit);
        if (options == null)
            return usageExit;

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = false, Args = Array.Empty<string>() });
        // Logs go to stderr, so that stdout is the events alone (a table, or JSON lines with --json).
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddSingleton(options);
        builder.Services.AddBpfSkeleton<ExecSnoopSkeleton>(o =>
        {
            o.ObjectOptions.TargetBtfPath = options.TargetBtf;
            o.EnableRunStatistics = runStatistics;
            // .rodata is set between open and load: the verifier sees constants.
            o.Configure(s =>
            {
                s.Rodata.TargetPid = options.Pid;
                s.Rodata.MinDurationNs = options.MinDurationMs * 1_000_000UL;
            });
        });
        builder.Services.AddHostedService<EventPrinter>();
        builder.Services.AddHealthChecks().AddBpfSkeletonCheck<ExecSnoopSkeleton>();

        using var host = builder.Build();
        using var duration = new CancellationTokenSource();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
        {
            Started(host.Services, options);
            // --duration counts tracing time, from the moment the programs are attached.
            if (options.DurationSeconds > 0)
                duration.CancelAfter(TimeSpan.FromSeconds(options.DurationSeconds));
        });
        try
        {
            // The host stops on Ctrl-C/SIGTERM (its console lifetime) or when --duration is over.
            await host.RunAsync(duration.Token).ConfigureAwait(false);
            return 0;
        }
        catch (BpfException e)
        {
            // A failed load or attach fails the host's start with the loader's exception.
            Console.Error.WriteLine("execsnoop-hosted: " + e.Message);
            return 1;
        }
    }

    /// <summary>Once every hosted service has started: what is attached, and the health check's view of it.</summary>
    private static void Started(IServiceProvider services, Options options)
    {
        var skeleton = services.GetRequiredService<ExecSnoopSkeleton>();
        var health = services.GetRequiredService<HealthCheckService>().CheckHealthAsync().GetAwaiter().GetResult();
        string programs = string.Join(", ", skeleton.Object.Programs.Select(p => $"{p.Name} id {p.Id}"));
        Console.Error.WriteLine($"execsnoop-hosted: attached ({programs}); health {health.Status}; pid {Environment.ProcessId}");
    }
}

/// <summary>Prints each ring-buffer event; on stop, the histogram of process lifetimes (table output).</summary>
internal sealed class EventPrinter : BpfRingBufferService<ExecSnoopSkeleton, ExecSnoopSkeleton.Event>
{
    private readonly Output _output;
    private readonly Options _options;
    private readonly Log2Histogram _lifetimes = new Log2Histogram();

    public EventPrinter(ExecSnoopSkeleton skeleton, Options options) : base(skeleton)
    {
        _options = options;
        // write(2) on descriptor 1, as the console sample does; the stream lives as long as the process.
        _output = new Output(Console.OpenStandardOutput(), interactive: !Console.IsOutputRedirected, options.Json);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Json)
            _output.Header();
        return base.ExecuteAsync(stoppingToken);
    }

    protected override BpfRingBufferMap SelectRingBuffer(ExecSnoopSkeleton skeleton) => skeleton.Maps.Rb;

    protected override ValueTask HandleAsync(ExecSnoopSkeleton.Event value, CancellationToken stoppingToken)
    {
        if (value.ExitEvent && value.DurationNs > 0)
            _lifetimes.Add(value.DurationNs / 1000);
        _output.Write(in value);
        // One record at a time from IAsyncEnumerable: each is written as it comes (the console sample batches per poll).
        _output.Flush();
        return ValueTask.CompletedTask;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        _output.Flush();
        if (!_options.Json)
        {
            Console.Out.WriteLine();
            _lifetimes.Write(Console.Out, "usecs");
        }
    }
}
