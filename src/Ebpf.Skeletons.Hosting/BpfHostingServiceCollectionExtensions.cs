using System;
using System.Threading;
using System.Threading.Tasks;
using Ebpf;
using Ebpf.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers generated BPF skeletons with the Generic Host.</summary>
public static class BpfHostingServiceCollectionExtensions
{
    /// <summary>
    /// Adds the skeleton <typeparamref name="TSkeleton"/> to the host: opened, configured, loaded and attached when
    /// the host starts (before any hosted service starts, or earlier when a service asks for it), available to
    /// constructors as <typeparamref name="TSkeleton"/>, and detached and unloaded when the host has stopped. The
    /// loader logs through the host's <c>ILoggerFactory</c>. A load or attach failure makes the host's start fail with
    /// the loader's exception. Calling it again for the same skeleton adds to its options.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddBpfSkeleton&lt;TracerSkeleton&gt;(o =&gt; o.Configure(s =&gt; s.Rodata.TargetPid = pid));
    /// </code>
    /// </example>
    public static IServiceCollection AddBpfSkeleton<TSkeleton>(this IServiceCollection services, Action<BpfSkeletonOptions<TSkeleton>>? configure = null)
        where TSkeleton : class, IBpfSkeleton<TSkeleton>
    {
        if (services is null) throw new ArgumentNullException(nameof(services));
        services.AddOptions<BpfSkeletonOptions<TSkeleton>>();
        if (configure != null)
            services.Configure(configure);
        services.TryAddSingleton<BpfSkeletonHost<TSkeleton>>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BpfSkeletonHost<TSkeleton>>(sp => sp.GetRequiredService<BpfSkeletonHost<TSkeleton>>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<BpfSkeletonHost<TSkeleton>>().Skeleton);
        return services;
    }

    /// <summary>
    /// Adds a hosted service that reads the ring buffer <paramref name="ringBuffer"/> selects from the skeleton and
    /// hands each record, as a <typeparamref name="TEvent"/>, to <paramref name="handler"/> until the host stops.
    /// </summary>
    public static IServiceCollection AddBpfRingBufferConsumer<TSkeleton, TEvent>(this IServiceCollection services,
        Func<TSkeleton, BpfRingBufferMap> ringBuffer, Func<TEvent, CancellationToken, ValueTask> handler)
        where TSkeleton : class, IBpfSkeleton<TSkeleton>
        where TEvent : unmanaged
    {
        if (services is null) throw new ArgumentNullException(nameof(services));
        if (ringBuffer is null) throw new ArgumentNullException(nameof(ringBuffer));
        if (handler is null) throw new ArgumentNullException(nameof(handler));
        services.AddSingleton<IHostedService>(sp => new DelegateRingBufferService<TSkeleton, TEvent>(sp.GetRequiredService<TSkeleton>(), ringBuffer, handler));
        return services;
    }

    /// <summary>
    /// Adds a hosted service that reads the perf buffer <paramref name="perfBuffer"/> selects from the skeleton and
    /// hands each sample, with its CPU, to <paramref name="handler"/> until the host stops.
    /// </summary>
    public static IServiceCollection AddBpfPerfBufferConsumer<TSkeleton, TEvent>(this IServiceCollection services,
        Func<TSkeleton, BpfPerfEventArrayMap> perfBuffer, Func<int, TEvent, CancellationToken, ValueTask> handler)
        where TSkeleton : class, IBpfSkeleton<TSkeleton>
        where TEvent : unmanaged
    {
        if (services is null) throw new ArgumentNullException(nameof(services));
        if (perfBuffer is null) throw new ArgumentNullException(nameof(perfBuffer));
        if (handler is null) throw new ArgumentNullException(nameof(handler));
        services.AddSingleton<IHostedService>(sp => new DelegatePerfBufferService<TSkeleton, TEvent>(sp.GetRequiredService<TSkeleton>(), perfBuffer, handler));
        return services;
    }

    private sealed class DelegateRingBufferService<TSkeleton, TEvent> : BpfRingBufferService<TSkeleton, TEvent>
        where TSkeleton : class, IBpfSkeleton<TSkeleton>
        where TEvent : unmanaged
    {
        private readonly Func<TSkeleton, BpfRingBufferMap> _select;
        private readonly Func<TEvent, CancellationToken, ValueTask> _handler;

        public DelegateRingBufferService(TSkeleton skeleton, Func<TSkeleton, BpfRingBufferMap> select, Func<TEvent, CancellationToken, ValueTask> handler)
            : base(skeleton)
        {
            _select = select;
            _handler = handler;
        }

        protected override BpfRingBufferMap SelectRingBuffer(TSkeleton skeleton) => _select(skeleton);

        protected override ValueTask HandleAsync(TEvent value, CancellationToken stoppingToken) => _handler(value, stoppingToken);
    }

    private sealed class DelegatePerfBufferService<TSkeleton, TEvent> : BpfPerfBufferService<TSkeleton, TEvent>
        where TSkeleton : class, IBpfSkeleton<TSkeleton>
        where TEvent : unmanaged
    {
        private readonly Func<TSkeleton, BpfPerfEventArrayMap> _select;
        private readonly Func<int, TEvent, CancellationToken, ValueTask> _handler;

        public DelegatePerfBufferService(TSkeleton skeleton, Func<TSkeleton, BpfPerfEventArrayMap> select, Func<int, TEvent, CancellationToken, ValueTask> handler)
            : base(skeleton)
        {
            _select = select;
            _handler = handler;
        }

        protected override BpfPerfEventArrayMap SelectPerfBuffer(TSkeleton skeleton) => _select(skeleton);

        protected override ValueTask HandleAsync(int cpu, TEvent value, CancellationToken stoppingToken) => _handler(cpu, value, stoppingToken);
    }
}
