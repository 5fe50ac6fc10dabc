using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;

namespace Ebpf.Hosting;

/// <summary>
/// A <see cref="BackgroundService"/> that streams a ring buffer of the skeleton as <typeparamref name="TEvent"/>
/// records (<see cref="RingBufferReader.ReadAllAsync{T}"/>, no allocation per record) until the host's stopping
/// token fires. Override <see cref="SelectRingBuffer"/> and <see cref="HandleAsync"/>; register it with
/// <c>AddHostedService</c> after <c>AddBpfSkeleton&lt;TSkeleton&gt;()</c>. An exception from the handler ends the
/// service (and, by the host's default, the host).
/// </summary>
/// <typeparam name="TSkeleton">The generated skeleton class.</typeparam>
/// <typeparam name="TEvent">The record type (the generated struct of the program's event).</typeparam>
public abstract class BpfRingBufferService<TSkeleton, TEvent> : BackgroundService
    where TSkeleton : class, IBpfSkeleton<TSkeleton>
    where TEvent : unmanaged
{
    /// <summary>Takes the host's skeleton (loaded and attached by <c>AddBpfSkeleton</c>).</summary>
    protected BpfRingBufferService(TSkeleton skeleton) => Skeleton = skeleton ?? throw new ArgumentNullException(nameof(skeleton));

    /// <summary>The host's skeleton.</summary>
    protected TSkeleton Skeleton { get; }

    /// <summary>The ring buffer to read (for example <c>skeleton.Maps.Events</c>).</summary>
    protected abstract BpfRingBufferMap SelectRingBuffer(TSkeleton skeleton);

    /// <summary>Handles one record; <paramref name="stoppingToken"/> fires when the host stops.</summary>
    protected abstract ValueTask HandleAsync(TEvent value, CancellationToken stoppingToken);

    /// <summary>Reads until the host stops, then disposes the reader.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var reader = SelectRingBuffer(Skeleton).CreateReader();
        try
        {
            await foreach (var value in reader.ReadAllAsync<TEvent>(stoppingToken).ConfigureAwait(false))
                await HandleAsync(value, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // the host is stopping
        }
    }
}

/// <summary>
/// A <see cref="BackgroundService"/> that streams a perf buffer of the skeleton as (CPU, <typeparamref name="TEvent"/>)
/// samples (<see cref="PerfBufferReader.ReadAllAsync{T}"/>) until the host's stopping token fires. Lost samples are
/// counted in <c>ebpf.reader.lost</c> and passed to <see cref="OnLost"/>.
/// </summary>
/// <typeparam name="TSkeleton">The generated skeleton class.</typeparam>
/// <typeparam name="TEvent">The sample type.</typeparam>
public abstract class BpfPerfBufferService<TSkeleton, TEvent> : BackgroundService
    where TSkeleton : class, IBpfSkeleton<TSkeleton>
    where TEvent : unmanaged
{
    /// <summary>Takes the host's skeleton (loaded and attached by <c>AddBpfSkeleton</c>).</summary>
    protected BpfPerfBufferService(TSkeleton skeleton) => Skeleton = skeleton ?? throw new ArgumentNullException(nameof(skeleton));

    /// <summary>The host's skeleton.</summary>
    protected TSkeleton Skeleton { get; }

    /// <summary>Pages of each CPU's ring (a power of two; default 64).</summary>
    protected virtual int PagesPerCpu => 64;

    /// <summary>The perf event array to read (for example <c>skeleton.Maps.Events</c>).</summary>
    protected abstract BpfPerfEventArrayMap SelectPerfBuffer(TSkeleton skeleton);

    /// <summary>Handles one sample from CPU <paramref name="cpu"/>.</summary>
    protected abstract ValueTask HandleAsync(int cpu, TEvent value, CancellationToken stoppingToken);

    /// <summary>Called on the reading thread when the kernel reports samples a full ring dropped.</summary>
    protected virtual void OnLost(int cpu, ulong lost)
    {
    }

    /// <summary>Reads until the host stops, then disposes the reader.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var reader = SelectPerfBuffer(Skeleton).CreateReader(PagesPerCpu);
        reader.LostCallback = OnLost;
        try
        {
            await foreach (var (cpu, value) in reader.ReadAllAsync<TEvent>(stoppingToken).ConfigureAwait(false))
                await HandleAsync(cpu, value, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // the host is stopping
        }
    }
}
