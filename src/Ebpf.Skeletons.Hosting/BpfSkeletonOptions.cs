using System;
using System.Collections.Generic;

namespace Ebpf.Hosting;

/// <summary>
/// How the host opens, configures, loads and attaches the skeleton <typeparamref name="TSkeleton"/>
/// (<c>services.AddBpfSkeleton&lt;TSkeleton&gt;(o =&gt; ...)</c>). Steps at host start, in order: open with
/// <see cref="ObjectOptions"/> (the host's logger unless one is set), apply <see cref="Autoload"/>, run the
/// <see cref="Configure(Action{TSkeleton})"/> callbacks (read-only globals, map sizes), load, run the
/// <see cref="AfterLoad(Action{TSkeleton})"/> callbacks (attaches by hand), attach when <see cref="Attach"/> is set.
/// </summary>
/// <typeparam name="TSkeleton">The generated skeleton class.</typeparam>
public sealed class BpfSkeletonOptions<TSkeleton> where TSkeleton : class, IBpfSkeleton<TSkeleton>
{
    private readonly List<Action<TSkeleton, IServiceProvider>> _configure = new List<Action<TSkeleton, IServiceProvider>>();
    private readonly List<Action<TSkeleton, IServiceProvider>> _afterLoad = new List<Action<TSkeleton, IServiceProvider>>();

    /// <summary>
    /// Open and load options (kernel BTF, pin root, verifier log, ...). <see cref="BpfObjectOptions.Logger"/> left
    /// null gets a logger of the host's <c>ILoggerFactory</c> (category: the skeleton's class name).
    /// </summary>
    public BpfObjectOptions ObjectOptions { get; set; } = new BpfObjectOptions();

    /// <summary>Programs whose autoload is set before load: false leaves a program out of the load (libbpf's set_autoload).</summary>
    public IDictionary<string, bool> Autoload { get; } = new Dictionary<string, bool>(StringComparer.Ordinal);

    /// <summary>Whether every program whose section says where is attached after load (default true).</summary>
    public bool Attach { get; set; } = true;

    /// <summary>
    /// Turn the kernel's run statistics on while the skeleton lives (<see cref="BpfRunStatistics"/>), so that
    /// <c>ebpf.program.run.count</c> and <c>ebpf.program.run.time</c> are reported. Off by default: every BPF program
    /// on the machine then pays for two clock reads per run.
    /// </summary>
    public bool EnableRunStatistics { get; set; }

    /// <summary>Adds a callback run after open and before load: set read-only globals, resize maps, change programs.</summary>
    public BpfSkeletonOptions<TSkeleton> Configure(Action<TSkeleton> configure)
    {
        if (configure is null) throw new ArgumentNullException(nameof(configure));
        _configure.Add((s, _) => configure(s));
        return this;
    }

    /// <summary>Adds a callback run after open and before load, with the host's services (configuration, options).</summary>
    public BpfSkeletonOptions<TSkeleton> Configure(Action<TSkeleton, IServiceProvider> configure)
    {
        if (configure is null) throw new ArgumentNullException(nameof(configure));
        _configure.Add(configure);
        return this;
    }

    /// <summary>
    /// Adds a callback run after load and before the automatic attach: attach programs whose section does not say
    /// where (an interface, a cgroup) and hand the links to <see cref="BpfObject.AddLink"/> so that they are removed at stop.
    /// </summary>
    public BpfSkeletonOptions<TSkeleton> AfterLoad(Action<TSkeleton> afterLoad)
    {
        if (afterLoad is null) throw new ArgumentNullException(nameof(afterLoad));
        _afterLoad.Add((s, _) => afterLoad(s));
        return this;
    }

    /// <summary>Like <see cref="AfterLoad(Action{TSkeleton})"/>, with the host's services.</summary>
    public BpfSkeletonOptions<TSkeleton> AfterLoad(Action<TSkeleton, IServiceProvider> afterLoad)
    {
        if (afterLoad is null) throw new ArgumentNullException(nameof(afterLoad));
        _afterLoad.Add(afterLoad);
        return this;
    }

    internal IReadOnlyList<Action<TSkeleton, IServiceProvider>> ConfigureCallbacks => _configure;
    internal IReadOnlyList<Action<TSkeleton, IServiceProvider>> AfterLoadCallbacks => _afterLoad;
}
