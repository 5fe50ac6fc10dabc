using System;
using System.Collections.Generic;
using Ebpf;
using Ebpf.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Health checks of generated BPF skeletons.</summary>
public static class BpfHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check that the host's <typeparamref name="TSkeleton"/> (<c>AddBpfSkeleton</c>) is loaded and its links
    /// are attached (<see cref="BpfSkeletonHealthCheck{TSkeleton}"/>).
    /// </summary>
    /// <param name="builder">The host's health checks.</param>
    /// <param name="name">The check's name; default "ebpf:" and the object's class name.</param>
    /// <param name="failureStatus">The status reported when a link is detached (default Unhealthy).</param>
    /// <param name="tags">Tags to filter checks by.</param>
    public static IHealthChecksBuilder AddBpfSkeletonCheck<TSkeleton>(this IHealthChecksBuilder builder, string? name = null,
        HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
        where TSkeleton : class, IBpfSkeleton<TSkeleton>
    {
        if (builder is null) throw new ArgumentNullException(nameof(builder));
        builder.Services.AddOptions<BpfSkeletonOptions<TSkeleton>>();
        return builder.Add(new HealthCheckRegistration(name ?? "ebpf:" + typeof(TSkeleton).Name,
            sp => new BpfSkeletonHealthCheck<TSkeleton>(sp.GetRequiredService<BpfSkeletonHost<TSkeleton>>(),
                sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<BpfSkeletonOptions<TSkeleton>>>()),
            failureStatus, tags));
    }
}
