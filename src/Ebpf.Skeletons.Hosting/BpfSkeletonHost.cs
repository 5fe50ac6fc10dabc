using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ebpf.Hosting;

/// <summary>
/// Owns the host's <typeparamref name="TSkeleton"/>: opens, configures, loads and attaches it once, the first time it
/// is asked for (at the latest when the host starts), and detaches and disposes it when the host has stopped. A
/// failure to load is the host's start failure, with the loader's exception.
/// </summary>
/// <typeparam name="TSkeleton">The generated skeleton class.</typeparam>
public sealed class BpfSkeletonHost<TSkeleton> : IHostedLifecycleService, IDisposable where TSkeleton : class, IBpfSkeleton<TSkeleton>
{
    private readonly BpfSkeletonOptions<TSkeleton> _options;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly object _sync = new object();
    private TSkeleton? _skeleton;
    private BpfRunStatistics? _runStatistics;
    private Exception? _failure;
    private bool _disposed;

    /// <summary>Created by the container (<c>AddBpfSkeleton</c>).</summary>
    public BpfSkeletonHost(IOptions<BpfSkeletonOptions<TSkeleton>> options, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        if (loggerFactory is null) throw new ArgumentNullException(nameof(loggerFactory));
        _options = options.Value;
        _services = services ?? throw new ArgumentNullException(nameof(services));
        _logger = loggerFactory.CreateLogger(typeof(TSkeleton).FullName ?? typeof(TSkeleton).Name);
    }

    /// <summary>The loaded (and, unless <see cref="BpfSkeletonOptions{TSkeleton}.Attach"/> is off, attached) skeleton; loads it on first use.</summary>
    /// <exception cref="BpfException">The load or attach failed (the same exception on every later use).</exception>
    /// <exception cref="ObjectDisposedException">The host has stopped.</exception>
    public TSkeleton Skeleton
    {
        get
        {
            lock (_sync)
            {
                if (_disposed) throw new ObjectDisposedException(typeof(TSkeleton).Name, "the host has stopped and disposed the skeleton");
                if (_failure != null) throw _failure;
                if (_skeleton == null)
                {
                    try
                    {
                        _skeleton = Start();
                    }
                    catch (Exception e)
                    {
                        _failure = e;
                        throw;
                    }
                }
                return _skeleton;
            }
        }
    }

    /// <summary>Whether the skeleton is loaded and not disposed.</summary>
    public bool IsRunning
    {
        get
        {
            lock (_sync) return _skeleton is { IsLoaded: true } && !_disposed;
        }
    }

    private TSkeleton Start()
    {
        var objectOptions = _options.ObjectOptions ?? new BpfObjectOptions();
        objectOptions.Logger ??= _logger;
        var skeleton = TSkeleton.Open(objectOptions);
        BpfRunStatistics? stats = null;
        try
        {
            foreach (var (program, autoload) in _options.Autoload)
                skeleton.Object.GetProgram(program).Autoload = autoload;
            foreach (var configure in _options.ConfigureCallbacks)
                configure(skeleton, _services);
            if (_options.EnableRunStatistics)
                stats = BpfRunStatistics.Enable();
            skeleton.Load();
            foreach (var afterLoad in _options.AfterLoadCallbacks)
                afterLoad(skeleton, _services);
            if (_options.Attach)
                skeleton.Attach();
        }
        catch (Exception e)
        {
            _logger.LogError(e, "{Object}: {Message}", skeleton.Object.Name, e.Message);
            stats?.Dispose();
            skeleton.Dispose();
            throw;
        }
        _runStatistics = stats;
        _logger.LogInformation("{Object}: loaded {Programs} programs and {Maps} maps, {Links} links attached",
            skeleton.Object.Name, CountLoaded(skeleton.Object), skeleton.Object.Maps.Count, skeleton.Object.Links.Count);
        return skeleton;
    }

    private static int CountLoaded(BpfObject obj)
    {
        int n = 0;
        foreach (var p in obj.Programs)
            if (p.IsLoaded) n++;
        return n;
    }

    /// <summary>Loads and attaches the skeleton before any hosted service starts.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _ = Skeleton;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Detaches and disposes the skeleton once every hosted service has stopped (its readers are done).</summary>
    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Detaches every link and unloads the object; nothing is left in the kernel.</summary>
    public void Dispose()
    {
        TSkeleton? skeleton;
        BpfRunStatistics? stats;
        lock (_sync)
        {
            if (_disposed) return;
            _disposed = true;
            skeleton = _skeleton;
            stats = _runStatistics;
            _skeleton = null;
            _runStatistics = null;
        }
        if (skeleton != null)
        {
            string name = skeleton.Object.Name;
            try
            {
                skeleton.Detach();
            }
            catch (AggregateException e)
            {
                _logger.LogWarning(e, "{Object}: detaching failed: {Message}", name, e.Message);
            }
            skeleton.Dispose();
            _logger.LogInformation("{Object}: detached and unloaded", name);
        }
        stats?.Dispose();
    }
}
