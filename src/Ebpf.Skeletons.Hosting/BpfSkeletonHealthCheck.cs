using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ebpf.Hosting;

/// <summary>
/// Reports whether the host's <typeparamref name="TSkeleton"/> is loaded and every link it should have is attached:
/// each program the automatic attach covers (its section says where) has a link, and every link of the object is
/// still attached in the kernel (<see cref="BpfLink.IsAttached"/>: not disposed, and for network, cgroup and
/// namespace links, still on their interface, cgroup or namespace). The data lists each link as attached or
/// detached, and each program that should be attached and is not.
/// </summary>
/// <typeparam name="TSkeleton">The generated skeleton class.</typeparam>
public sealed class BpfSkeletonHealthCheck<TSkeleton> : IHealthCheck where TSkeleton : class, IBpfSkeleton<TSkeleton>
{
    private readonly BpfSkeletonHost<TSkeleton> _host;
    private readonly Microsoft.Extensions.Options.IOptions<BpfSkeletonOptions<TSkeleton>> _options;

    /// <summary>Created by the container (<c>AddBpfSkeletonCheck</c>).</summary>
    public BpfSkeletonHealthCheck(BpfSkeletonHost<TSkeleton> host, Microsoft.Extensions.Options.IOptions<BpfSkeletonOptions<TSkeleton>> options)
    {
        _host = host ?? throw new ArgumentNullException(nameof(host));
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!_host.IsRunning)
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"{typeof(TSkeleton).Name} is not loaded"));
        TSkeleton skeleton;
        try
        {
            skeleton = _host.Skeleton;
        }
        catch (Exception e) when (e is BpfException or ObjectDisposedException)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"{typeof(TSkeleton).Name} is not loaded", e));
        }
        var obj = skeleton.Object;
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var linked = new HashSet<BpfProgram>();
        int attached = 0, detached = 0;
        foreach (var link in obj.Links)
        {
            bool up;
            try
            {
                up = link.IsAttached;
            }
            catch (Exception e) when (e is BpfException or ObjectDisposedException)
            {
                up = false;
            }
            string key = "link " + link.Program.Name + " → " + link.Target;
            data[key] = up ? "attached" : "detached";
            if (up)
            {
                attached++;
                linked.Add(link.Program);
            }
            else
            {
                detached++;
            }
        }
        var missing = new List<string>();
        if (_options.Value.Attach)
        {
            foreach (var p in obj.Programs)
            {
                if (p.IsLoaded && p.IsAutoAttachable && !linked.Contains(p))
                {
                    missing.Add(p.Name);
                    data["program " + p.Name] = "not attached";
                }
            }
        }
        string summary = $"{obj.Name}: {attached} links attached, {detached} detached";
        if (detached == 0 && missing.Count == 0)
            return Task.FromResult(HealthCheckResult.Healthy(summary, data));
        if (missing.Count > 0)
            summary += "; not attached: " + string.Join(", ", missing);
        return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, summary, data: data));
    }
}
